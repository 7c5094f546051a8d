import { expect } from "chai";
import { ControlLoop, type LoopOptions } from "../../controller/loop/loop.js";
import type { MetricsSource, PoolRef } from "../../controller/loop/ports.js";
import { loadModelPool, type Policy } from "../../controller/policy/index.js";
import type { PoolScrape } from "../../controller/scaling/samples.js";
import { DEFAULT_START_EPOCH } from "../../controller/simulate/engine.js";
import {
  modelCapacity,
  modelCapacityCurve,
  type PoolCapacity,
  type ProfileOf,
  poolProfileOf,
} from "../../controller/simulate/pool-capacity.js";
import {
  equalShares,
  type ModelShares,
  mixedCapacity,
  trafficShares,
} from "../../controller/simulate/pool-mix.js";
import { FakeCluster, ManualClock, PHASE_ZERO, RecordingSink } from "./support.js";

/**
 * Pools of several models (simulate/pool-mix.ts): a replica serves all of them, so its capacity is
 * the harmonic mix 1 / Σ (w_i / C_i) over the models' shares of the requests, and each
 * model's profile is corrected on its own series.
 */

describe("model mix: a replica's capacity for the mix, 1 / Σ (w_i / C_i)", () => {
  const rows: readonly {
    name: string;
    perModel: Record<string, number>;
    shares: Record<string, number>;
    expected: number;
  }[] = [
    {
      name: "the worked example: 75% on 120 req/s, 25% on 40 req/s → 1 / (0.00625 + 0.00625) = 80",
      perModel: { yolov8s: 120, yolov8m: 40 },
      shares: { yolov8s: 0.75, yolov8m: 0.25 },
      expected: 80,
    },
    {
      name: "equal shares of 120 and 40 → 1 / (0.5/120 + 0.5/40) = 60 (the first model alone: 120, the old sizing)",
      perModel: { yolov8s: 120, yolov8m: 40 },
      shares: { yolov8s: 0.5, yolov8m: 0.5 },
      expected: 60,
    },
    {
      name: "three models, 100/50/25 req/s at 50/25/25% → 1 / (0.005 + 0.005 + 0.01) = 50",
      perModel: { a: 100, b: 50, c: 25 },
      shares: { a: 0.5, b: 0.25, c: 0.25 },
      expected: 50,
    },
    {
      name: "one model: its own capacity",
      perModel: { yolov8s: 96 },
      shares: { yolov8s: 1 },
      expected: 96,
    },
    {
      name: "a model with no share is left out, even one that cannot meet the SLO",
      perModel: { yolov8s: 120, yolov8x: 0 },
      shares: { yolov8s: 1, yolov8x: 0 },
      expected: 120,
    },
    {
      name: "a model with a share that cannot meet the SLO (0 req/s) → 0",
      perModel: { yolov8s: 120, yolov8x: 0 },
      shares: { yolov8s: 0.9, yolov8x: 0.1 },
      expected: 0,
    },
    {
      name: "a model with a share and no capacity known → 0",
      perModel: { yolov8s: 120 },
      shares: { yolov8s: 0.5, yolov8m: 0.5 },
      expected: 0,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(mixedCapacity(row.perModel, row.shares)).to.be.closeTo(row.expected, 1e-9);
    });
  }
});

describe("model mix: shares from the models' arrival rates", () => {
  const models = ["yolov8s", "yolov8m"];
  const rows: readonly {
    name: string;
    rates: Record<string, number | undefined>;
    expected: ModelShares;
  }[] = [
    {
      name: "30 and 10 req/s → 0.75 and 0.25",
      rates: { yolov8s: 30, yolov8m: 10 },
      expected: { shares: { yolov8s: 0.75, yolov8m: 0.25 }, from: "traffic" },
    },
    {
      name: "no traffic (both 0) → equal shares",
      rates: { yolov8s: 0, yolov8m: 0 },
      expected: { shares: { yolov8s: 0.5, yolov8m: 0.5 }, from: "equal" },
    },
    {
      name: "no rate known (missing) → equal shares",
      rates: {},
      expected: { shares: { yolov8s: 0.5, yolov8m: 0.5 }, from: "equal" },
    },
    {
      name: "one model with traffic, the other's rate missing → all on the first",
      rates: { yolov8s: 5 },
      expected: { shares: { yolov8s: 1, yolov8m: 0 }, from: "traffic" },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(trafficShares(models, row.rates)).to.deep.equal(row.expected);
    });
  }
  it("equal shares of three: a third each", () => {
    expect(equalShares(["a", "b", "c"]).shares).to.deep.equal({ a: 1 / 3, b: 1 / 3, c: 1 / 3 });
  });
});

const T0 = DEFAULT_START_EPOCH;
const REF: PoolRef = { namespace: "vision", name: "yolo-detect" };

/** A two-model pool (yolov8s, then yolov8m), each with the profile given. */
function twoModels(small: string, medium: string, scaling = "maxReplicas: 20"): Policy {
  const model = (name: string, profile: string) =>
    `{ name: ${name}, template: yolov8-onnx, imageSize: 640, classes: 80, profile: ${profile} }`;
  return loadModelPool(
    [
      "apiVersion: tritonscale.dev/v1alpha1",
      "kind: ModelPool",
      "metadata: { name: yolo-detect, namespace: vision }",
      "spec:",
      `  models: [${model("yolov8s", small)}, ${model("yolov8m", medium)}]`,
      "  slo: { latencyP99Ms: 85 }",
      `  scaling: { minReplicas: 1, syncPeriod: 15s, ${scaling} }`,
    ].join("\n"),
    "pool.yaml",
  );
}

/**
 * One ready replica serving both models: each model answers `rate[m]` req/s from T0 − 60 in
 * batches of 4 that take `batchMs[m]` (request-weighted, as Triton counts).
 */
class TwoModelMetrics implements MetricsSource {
  rate: Record<string, number> = { yolov8s: 30, yolov8m: 10 };
  batchMs: Record<string, number> = { yolov8s: 12.8, yolov8m: 12.8 };
  private readonly since = T0 - 60;

  async collect(_policy: Policy, now: number): Promise<PoolScrape> {
    return {
      t: now,
      replicas: [
        {
          replica: "pod-a",
          t: now,
          phase: "ready",
          models: Object.keys(this.rate).map((model) => {
            const n = this.rate[model]! * (now - this.since);
            return {
              model,
              version: "1",
              counters: {
                requestSuccess: n,
                inferenceCount: n,
                execCount: n / 4,
                computeInferDurationUs: n * this.batchMs[model]! * 1000,
              },
              pendingRequests: 0,
            };
          }),
        },
      ],
    };
  }
}

function loopWith(metrics: MetricsSource, options: LoopOptions) {
  const clock = new ManualClock(T0);
  const sink = new RecordingSink();
  const cluster = new FakeCluster();
  cluster.ready = 1;
  const loop = new ControlLoop(
    { metrics, cluster, sinks: [sink], clock },
    { phaseOf: PHASE_ZERO, ...options },
  );
  return { clock, sink, loop };
}

/** Fixed capacities per model (scaled by nothing), mixed as the loop asks. */
const FIXED =
  (base: Record<string, number>) =>
  (policy: Policy, _profileOf: ProfileOf, shares: ModelShares): PoolCapacity => {
    const perModel: Record<string, number> = {};
    for (const m of policy.spec.models) perModel[m.name] = base[m.name]!;
    return { perModel, perReplica: mixedCapacity(perModel, shares.shares), profiles: {}, shares };
  };

/** 1000 / each model's time for a batch of 4, from the profiles as corrected (no bisection). */
const INVERSE = (policy: Policy, profileOf: ProfileOf, shares: ModelShares): PoolCapacity => {
  const perModel: Record<string, number> = {};
  const profiles: Record<string, string> = {};
  for (const m of policy.spec.models) {
    const p = profileOf(policy, m);
    perModel[m.name] = 1000 / p.computeMs(4);
    profiles[m.name] = p.name;
  }
  return { perModel, perReplica: mixedCapacity(perModel, shares.shares), profiles, shares };
};

const LINEAR = "{ linear: { a: 4, b: 2.2 } }";

describe("model mix: in the loop", () => {
  it("sizes a two-model pool by the mix of its traffic (regression: by its first model only)", async () => {
    const metrics = new TwoModelMetrics();
    const h = loopWith(metrics, {
      capacityOf: FIXED({ yolov8s: 120, yolov8m: 40 }),
      correction: false,
    });
    h.loop.setPool(REF, twoModels(LINEAR, LINEAR));
    await h.clock.advance(15);
    // 30 and 10 req/s: 0.75 and 0.25 → 80 req/s (60 before any rate: equal shares).
    metrics.rate = { yolov8s: 20, yolov8m: 20 };
    await h.clock.advance(90);
    metrics.rate = { yolov8s: 0, yolov8m: 0 };
    await h.clock.advance(90);
    await h.loop.stop();
    const d = h.sink.decisions;
    expect(d[0]!.mix).to.deep.equal({
      perReplica: 60,
      shares: { yolov8s: 0.5, yolov8m: 0.5 },
      from: "equal",
    });
    expect(d[1]!.mix).to.deep.equal({
      perReplica: 80,
      shares: { yolov8s: 0.75, yolov8m: 0.25 },
      from: "traffic",
    });
    // The scaler divided by the mixed capacity.
    expect(d[1]!.decision.reason).to.contain("(80 req/s ×");
    expect(d[1]!.capacityPerReplica).to.deep.equal({ yolov8s: 120, yolov8m: 40 });
    // A window (60 s) later, 20 and 20: equal traffic, the same 60 as no traffic.
    const later = d[8]!.mix!;
    expect(later.from).to.equal("traffic");
    expect(later.perReplica).to.be.closeTo(60, 1e-9);
    // No arrivals at all: equal shares again.
    expect(d.at(-1)!.mix).to.deep.equal({
      perReplica: 60,
      shares: { yolov8s: 0.5, yolov8m: 0.5 },
      from: "equal",
    });
  });

  it("corrects each model on its own series: the slow one's capacity falls, the other's holds (regression: no correction for several models)", async () => {
    const metrics = new TwoModelMetrics();
    metrics.rate = { yolov8s: 40, yolov8m: 40 };
    // yolov8s: 16 ms where its profile predicts 4 + 2.2 × 4 = 12.8 ms (r = 1.25); yolov8m as predicted.
    metrics.batchMs = { yolov8s: 16, yolov8m: 12.8 };
    const h = loopWith(metrics, { capacityOf: INVERSE, correction: { probeRequests: 0 } });
    h.loop.setPool(REF, twoModels(LINEAR, LINEAR));
    await h.clock.advance(150);
    await h.loop.stop();
    const d = h.sink.decisions;
    const small = d.map((x) => x.capacityPerReplica.yolov8s!);
    // As the single-model worked example (correction.ts): a step of 2^(1/16) at a time.
    const steps = small.map((c) => Math.round(Math.log2(1000 / 12.8 / c) * 16));
    expect(steps).to.deep.equal([0, 1, 1, 3, 3, 3, 3, 4, 4, 4, 4]);
    expect(new Set(d.map((x) => x.capacityPerReplica.yolov8m))).to.deep.equal(
      new Set([1000 / 12.8]),
    );
    // The mix follows: equal traffic, 1 / (0.5 / C_s + 0.5 / C_m).
    const last = d.at(-1)!;
    const cs = last.capacityPerReplica.yolov8s!;
    const cm = last.capacityPerReplica.yolov8m!;
    expect(last.mix!.perReplica).to.be.closeTo(1 / (0.5 / cs + 0.5 / cm), 1e-9);
  });

  it("with the pool's own profiles and the real capacity search: the mix of the models' capacities at the SLO", async () => {
    const metrics = new TwoModelMetrics();
    const policy = twoModels(LINEAR, "{ linear: { a: 8, b: 4.4 } }");
    const h = loopWith(metrics, { correction: false });
    h.loop.setPool(REF, policy);
    await h.clock.advance(15);
    await h.loop.stop();
    const [first, second] = h.sink.decisions;
    const cs = modelCapacity(
      policy,
      policy.spec.models[0]!,
      poolProfileOf(policy, policy.spec.models[0]!),
    );
    const cm = modelCapacity(
      policy,
      policy.spec.models[1]!,
      poolProfileOf(policy, policy.spec.models[1]!),
    );
    expect(cm).to.be.below(cs);
    expect(second!.capacityPerReplica).to.deep.equal({ yolov8s: cs, yolov8m: cm });
    expect(first!.mix!.perReplica).to.be.closeTo(1 / (0.5 / cs + 0.5 / cm), 1e-9);
    expect(second!.mix!.perReplica).to.be.closeTo(1 / (0.75 / cs + 0.25 / cm), 1e-9);
    expect(second!.mix!.perReplica).to.be.below(cs);
  });
  it("a round-robin pool publishes the mix's capacity curve over replicas; a randomly routed one none", async () => {
    for (const lb of ["roundRobin", "random"] as const) {
      const metrics = new TwoModelMetrics();
      const policy = twoModels(LINEAR, LINEAR, `maxReplicas: 3, loadBalancing: ${lb}`);
      const h = loopWith(metrics, { correction: false });
      h.loop.setPool(REF, policy);
      await h.clock.advance(1);
      await h.loop.stop();
      const mix = h.sink.decisions[0]!.mix!;
      if (lb === "random") {
        expect(mix.byReplicas, lb).to.equal(undefined);
        continue;
      }
      // Both models have the same profile: the mix of equal curves is that curve.
      const model = policy.spec.models[0]!;
      const curve = modelCapacityCurve(policy, model, poolProfileOf(policy, model));
      expect(curve).to.have.length(3);
      expect(mix.byReplicas!.length).to.equal(3);
      for (const [i, c] of mix.byReplicas!.entries()) {
        expect(c, `n = ${i + 1}`).to.be.closeTo(curve[i]!, 1e-9);
      }
      expect(mix.byReplicas![0]).to.be.closeTo(mix.perReplica, 1e-9);
      expect(mix.byReplicas![2]).to.be.above(mix.byReplicas![0]!);
    }
  });
});
