import { expect } from "chai";
import { createLinearProfile } from "../../controller/simulate/profile.js";
import { NEAR_BEST, type TuneCandidate, tuneBatching } from "../../controller/simulate/tune.js";

describe("tuneBatching", () => {
  let ranked: TuneCandidate[] = [];
  let top = 0;
  before(() => {
    ranked = tuneBatching({
      profile: createLinearProfile(4, 2.2),
      sloMs: 85,
      maxBatchLimit: 8,
      instances: [1, 2],
    });
    top = Math.max(...ranked.map((c) => c.capacity.requestsPerSecond));
  });

  it("tries every combination of batch size, preferred sizes, queue delay and instances", () => {
    // sizes 1, 2, 4, 8; preferred [] (and [n/2, n] from 4 up); delays below half the SLO; 1 or 2 instances
    expect(ranked).to.have.lengthOf((1 + 9 + 2 * 9 + 2 * 9) * 2);
  });

  it("recommends the simplest configuration within 1% of the most throughput", () => {
    const first = ranked[0]!;
    expect(first.capacity.requestsPerSecond).to.be.at.least(top * (1 - NEAR_BEST));
    const near = ranked.filter((c) => c.capacity.requestsPerSecond >= top * (1 - NEAR_BEST));
    for (const c of near) {
      expect(first.instances).to.be.at.most(c.instances);
      if (c.instances === first.instances) expect(first.maxBatchSize).to.be.at.most(c.maxBatchSize);
    }
  });

  it("batching pays: the recommendation sustains far more than batch size 1", () => {
    const single = ranked.find((c) => c.maxBatchSize === 1 && c.instances === 1)!;
    expect(ranked[0]!.capacity.requestsPerSecond).to.be.above(
      2 * single.capacity.requestsPerSecond,
    );
    // a + b·1 = 6.2 ms per request: one instance executes at most 161 req/s
    expect(single.capacity.saturationRequestsPerSecond).to.be.closeTo(1000 / 6.2, 0.01);
  });

  it("keeps every recommendation's p99 inside the SLO", () => {
    for (const c of ranked.filter((x) => x.capacity.requestsPerSecond > 0)) {
      expect(c.capacity.p99Ms).to.be.at.most(85);
    }
  });
});
