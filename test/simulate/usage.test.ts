import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { loadModelPool, type Policy } from "../../controller/policy/index.js";
import { compare } from "../../controller/simulate/compare.js";
import { DEFAULT_PROFILE } from "../../controller/simulate/profile.js";
import { Replica } from "../../controller/simulate/replica.js";
import { parseTraceSpec } from "../../controller/simulate/trace.js";
import { projectRoot } from "../support/reference.js";

/**
 * What a run records for a cost report (`usageBucketSeconds`): buckets of GPU-hours, busy
 * hours and requests that add up to the run's own totals, and the desired-count changes.
 * Hours are written by hand: a static pool of 2 ready replicas of 1 GPU bills 2 GPU-hours
 * per hour.
 */

const EXAMPLE = join(projectRoot, "examples", "yolov8-pool.yaml");

describe("simulate: usage per bucket for cost reports", () => {
  let policy: Policy;
  before(() => {
    policy = loadModelPool(readFileSync(EXAMPLE, "utf8"), EXAMPLE);
  });

  const rows: {
    name: string;
    warmup: number;
    /** [start s, seconds, on-demand GPU-hours] per bucket, by hand. */
    buckets: [number, number, number][];
  }[] = [
    {
      name: "static:2 over 2 h in 1 h buckets: 2 GPU-hours each",
      warmup: 0,
      buckets: [
        [0, 3600, 2 * 1],
        [3600, 3600, 2 * 1],
      ],
    },
    {
      name: "with a 30 min warmup the first bucket starts at the warmup's end: 2 × 0.5 h",
      warmup: 1800,
      buckets: [
        [1800, 1800, 2 * 0.5],
        [3600, 3600, 2 * 1],
      ],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const c = compare({
        policy,
        trace: parseTraceSpec("synthetic:poisson:rate=200:duration=2h", 1),
        profile: DEFAULT_PROFILE,
        controls: ["static:2"],
        seed: 1,
        usageBucketSeconds: 3600,
        ...(row.warmup > 0 ? { warmupSeconds: row.warmup } : {}),
      });
      const r = c.rows[0]!;
      const u = r.usage!;
      expect(
        u.buckets.map((b) => [b.start, b.seconds, b.gpuSeconds.onDemand / 3600]),
      ).to.deep.equal(row.buckets);
      expect(u.buckets.every((b) => b.gpuSeconds.spot === 0)).to.equal(true);
      expect([u.from, u.to]).to.deep.equal([row.warmup, 7200]);
      // The buckets add up to the row's totals.
      expect(u.buckets.reduce((n, b) => n + b.requests, 0)).to.equal(r.requests);
      expect(u.buckets.reduce((n, b) => n + b.withinSlo, 0) / r.requests).to.be.closeTo(
        r.sloAttainment,
        1e-12,
      );
      // 200 req/s for an hour is about 720,000 requests a bucket.
      for (const b of u.buckets) {
        expect(b.requests / (b.seconds * 200)).to.be.within(0.97, 1.03);
        expect(b.busyGpuSeconds.onDemand).to.be.above(0);
        expect(b.busyGpuSeconds.onDemand).to.be.below(b.gpuSeconds.onDemand);
      }
      expect(u.changes).to.deep.equal([]);
      expect(u.initial).to.deep.equal({ spot: 0, onDemand: 2 });
    });
  }

  it("a scaler's changes of the desired count, each from the count before it", () => {
    const c = compare({
      policy,
      trace: parseTraceSpec("synthetic:diurnal:mean=300:peakToMean=4:period=1h:duration=1h", 1),
      profile: DEFAULT_PROFILE,
      controls: ["tritonscale"],
      seed: 1,
      usageBucketSeconds: 86_400,
    });
    const r = c.rows[0]!;
    const u = r.usage!;
    expect(u.changes.length).to.equal(r.scaleEvents);
    expect(u.changes.length).to.be.above(1);
    let level = u.initial;
    for (const ch of u.changes) {
      expect(ch.from).to.deep.equal(level);
      level = ch.to;
    }
    expect(u.buckets).to.have.length(1);
    expect(u.buckets[0]!.gpuSeconds.onDemand / 3600).to.be.closeTo(r.gpuHours, 1e-9);
  });

  it("records nothing unless asked", () => {
    const c = compare({
      policy,
      trace: parseTraceSpec("synthetic:poisson:rate=50:duration=10m", 1),
      profile: DEFAULT_PROFILE,
      controls: ["static:1"],
      seed: 1,
    });
    expect(c.rows[0]!.usage).to.equal(undefined);
  });

  it("GPU busy time counts instances that share the GPU once (by hand: 10 ms + 20 ms / 2)", () => {
    // Two instances, batches of 1, a batch takes 10 ms × the instances computing at once.
    const replica = new Replica(
      {
        maxBatchSize: 1,
        preferredBatchSizes: [],
        maxQueueDelaySeconds: 0,
        instances: 2,
        maxQueueSize: 0,
        queueTimeoutSeconds: 0,
      },
      (_n, concurrent) => 0.01 * concurrent,
      { complete: () => undefined },
      0,
    );
    replica.enqueue(0, 0);
    replica.enqueue(0, 0);
    replica.advance(1);
    // The first starts alone (10 ms); the second beside it (20 ms): 30 ms of instance time,
    // but the GPU was busy from 0 to 20 ms.
    expect(replica.counters.computeSeconds).to.be.closeTo(0.01 + 0.02, 1e-12);
    expect(replica.gpuBusySeconds).to.be.closeTo(0.01 / 1 + 0.02 / 2, 1e-12);
    // Up to 5 ms: 5 ms of the first batch (alone) and 5 ms of the second (shared): 5 + 2.5.
    expect(replica.gpuBusySecondsUpTo(0.005)).to.be.closeTo(0.005 + 0.005 / 2, 1e-12);
  });
});
