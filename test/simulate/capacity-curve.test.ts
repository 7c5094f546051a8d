import { expect } from "chai";
import {
  CURVE_POINTS,
  capacityAtSlo,
  capacityCurve,
  probeReplica,
  spreadsRoundRobin,
} from "../../controller/simulate/capacity.js";
import { mixedCurve, poolCapacity } from "../../controller/simulate/pool-capacity.js";
import { parseLinearProfile } from "../../controller/simulate/profile.js";
import type { BatcherSettings } from "../../controller/simulate/replica.js";
import { createServiceTime } from "../../controller/simulate/setup.js";
import { minimalPool } from "../support/pools.js";

/**
 * The capacity curve (simulate/capacity.ts `capacityCurve`): each of n replicas sharing a
 * Poisson stream round-robin receives every n-th request, a steadier stream than Poisson at
 * the same rate, and sustains more within the SLO. The figures are the search's own
 * (deterministic, seed 1) and were read off once; the structure is checked exactly.
 */

/** The example pool's batcher: max batch 16, preferred 4 and 8, 2 ms delay, one instance. */
const BATCHER: BatcherSettings = {
  maxBatchSize: 16,
  preferredBatchSizes: [4, 8],
  maxQueueDelaySeconds: 0.002,
  instances: 1,
  maxQueueSize: 0,
  queueTimeoutSeconds: 0,
};
/** The bench's heavier model: a batch of one takes 32 ms of the 85 ms SLO. */
const HEAVY = createServiceTime(parseLinearProfile("linear:a=20,b=12"));

describe("simulate/capacity: the capacity curve over replicas sharing round-robin arrivals", function () {
  this.timeout(60_000);
  const single = capacityAtSlo(BATCHER, HEAVY, 0.085, { seed: 1 });
  const curve = capacityCurve(single, BATCHER, HEAVY, 0.085, 8, { seed: 1 }).byReplicas!;

  it("element 0 is the one-replica capacity itself, the curve as long as maxReplicas (8)", () => {
    expect(curve).to.have.length(8);
    expect(curve[0]).to.equal(single.requestsPerSecond);
  });

  it("linear:a=20,b=12 at 85 ms: 14.2 req/s alone, 23.9 each of 2, 30.5 each of 4, 35.7 each of 8", () => {
    const at = (n: number) => curve[n - 1]!;
    expect(at(1)).to.be.closeTo(14.2, 0.05);
    expect(at(2)).to.be.closeTo(23.9, 0.05);
    expect(at(4)).to.be.closeTo(30.5, 0.05);
    expect(at(8)).to.be.closeTo(35.7, 0.05);
  });

  it("never decreases, and the counts between searched points are linear between them (5 = mid 4..6)", () => {
    for (let i = 1; i < curve.length; i++) expect(curve[i]).to.be.at.least(curve[i - 1]!);
    expect(CURVE_POINTS).to.include(4).and.include(6).and.not.include(5);
    expect(curve[4]).to.be.closeTo((curve[3]! + curve[5]!) / 2, 1e-9);
    expect(curve[6]).to.be.closeTo((curve[5]! + curve[7]!) / 2, 1e-9);
  });

  it("at the rate where one replica meets the SLO, a replica of 4 sharing the stream queues less", () => {
    const rate = single.requestsPerSecond;
    const alone = probeReplica(BATCHER, HEAVY, rate, 40_000, 0.99, 1);
    const shared = probeReplica(BATCHER, HEAVY, rate, 40_000, 0.99, 1, 4);
    expect(shared.quantileMs).to.be.below(alone.quantileMs);
  });

  const edges: { name: string; upTo: number; rps: number; expected: number[] }[] = [
    { name: "maxReplicas 1: the one capacity", upTo: 1, rps: 14.2, expected: [14.2] },
    { name: "no capacity at all stays no capacity", upTo: 8, rps: 0, expected: [0] },
  ];
  for (const e of edges) {
    it(e.name, () => {
      const c = capacityCurve(
        { ...single, requestsPerSecond: e.rps },
        BATCHER,
        HEAVY,
        0.085,
        e.upTo,
      );
      expect(c.byReplicas).to.deep.equal(e.expected);
    });
  }
});

describe("simulate/pool-capacity: a pool's curve mixes its models' curves at each count", () => {
  const rows: {
    name: string;
    curves: Record<string, number[]>;
    shares: Record<string, number>;
    expected: number[] | undefined;
  }[] = [
    {
      name: "equal shares of [10, 20] and [30, 60]: 1 / (0.5/10 + 0.5/30) = 15, then 30",
      curves: { a: [10, 20], b: [30, 60] },
      shares: { a: 0.5, b: 0.5 },
      expected: [15, 30],
    },
    {
      name: "as long as the shortest curve",
      curves: { a: [10, 20, 25], b: [30] },
      shares: { a: 0.5, b: 0.5 },
      expected: [15],
    },
    { name: "no models: no curve", curves: {}, shares: {}, expected: undefined },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const got = mixedCurve(r.curves, r.shares);
      if (r.expected === undefined) expect(got).to.equal(undefined);
      else {
        expect(got).to.have.length(r.expected.length);
        for (const [i, x] of r.expected.entries()) expect(got![i]).to.be.closeTo(x, 1e-9);
      }
    });
  }
});

describe("spec.scaling.loadBalancing: the curve only where requests are spread round-robin", function () {
  this.timeout(120_000);
  // The heavy model, where the curve differs most (2.5× at 8 replicas round-robin).
  const pool = (loadBalancing?: string) =>
    minimalPool(
      { scaling: { maxReplicas: 8, ...(loadBalancing ? { loadBalancing } : {}) } },
      { profile: { linear: { a: 20, b: 12 } } },
    );

  it("defaults to random (a plain Service): the pool is planned with one replica's capacity at any n (regression: the curve was applied to every pool)", () => {
    const policy = pool();
    expect(policy.spec.scaling.loadBalancing).to.equal("random");
    expect(spreadsRoundRobin(policy)).to.equal(false);
    const c = poolCapacity(policy);
    expect(c.byReplicas).to.have.length(1);
    expect(c.byReplicas![0]).to.equal(c.perReplica);
  });

  it("roundRobin: the curve over 1..maxReplicas, rising past one replica's capacity", () => {
    const policy = pool("roundRobin");
    expect(spreadsRoundRobin(policy)).to.equal(true);
    const c = poolCapacity(policy);
    expect(c.byReplicas).to.have.length(8);
    expect(c.byReplicas![7]!).to.be.greaterThan(2 * c.perReplica);
  });

  it("refuses another value, naming the two", () => {
    expect(() => pool("leastRequest")).to.throw(/loadBalancing[\s\S]*random[\s\S]*roundRobin/);
  });
});
