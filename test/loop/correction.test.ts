import { expect } from "chai";
import {
  batchTimeSpread,
  type CorrectionModel,
  type CorrectionObservation,
  type CorrectionSettings,
  type CorrectionState,
  DEFAULT_CORRECTION,
  INITIAL_CORRECTION,
  observeCorrection,
  stepOf,
} from "../../controller/loop/correction.js";
import { ControlLoop } from "../../controller/loop/loop.js";
import type { PoolRef } from "../../controller/loop/ports.js";
import { loadModelPool, type Policy } from "../../controller/policy/index.js";
import type { PoolScrape } from "../../controller/scaling/samples.js";
import { DEFAULT_START_EPOCH } from "../../controller/simulate/engine.js";
import type { PoolCapacity, ProfileOf } from "../../controller/simulate/pool-capacity.js";
import {
  createLinearProfile,
  createPiecewiseProfile,
  createScaledProfile,
  type LatencyProfile,
} from "../../controller/simulate/profile.js";
import { type BatcherSettings, Replica } from "../../controller/simulate/replica.js";
import { createRng } from "../../controller/simulate/rng.js";
import { createServiceTime } from "../../controller/simulate/setup.js";
import { FakeCluster, FakeMetrics, ManualClock, PHASE_ZERO, RecordingSink } from "./support.js";

/** The live correction of a pool's latency profile from observed compute times. */

/** The dynamic batcher of the examples: max batch 16, preferred 4 and 8, 2 ms delay. */
function batcher(instances: number): BatcherSettings {
  return {
    maxBatchSize: 16,
    preferredBatchSizes: [4, 8],
    maxQueueDelaySeconds: 0.002,
    instances,
    maxQueueSize: 0,
    queueTimeoutSeconds: 0,
  };
}
const LINEAR: CorrectionModel = { profile: createLinearProfile(4, 2.2), batcher: batcher(1) };
const STALE_AFTER = 45;
/** The maths alone: κ = 1 (no batcher simulation), as the worked example's even batches. */
const PLAIN: CorrectionSettings = { ...DEFAULT_CORRECTION, probeRequests: 0 };

/** An observation of `ms` per batch of `n`, fresh, over `batches` batches. */
function seen(ms: number, n: number, extra: Partial<CorrectionObservation> = {}) {
  return {
    computeMsPerBatch: { value: ms, ageSeconds: 5 },
    batchSize: { value: n, ageSeconds: 5 },
    executedBatches: 500,
    ratePerReplica: 50,
    ...extra,
  } satisfies CorrectionObservation;
}

describe("profile correction: one observation", () => {
  const rows: {
    name: string;
    state?: CorrectionState;
    observation: CorrectionObservation;
    model?: CorrectionModel;
    used: boolean;
    factor: number;
    applied: number;
    why?: RegExp;
  }[] = [
    {
      name: "the worked example: 21.5 ms per batch of 6 against 17.2 predicted (r = 1.25)",
      observation: seen(21.5, 6),
      used: true,
      factor: Math.exp(0.2 * Math.log(1.25)), // 1.0456
      applied: 2 ** (1 / 16), // 1.0443: log2 1.0456 = 0.064 ≥ 1/16
      why: /observed 21\.5 ms per batch of 6 \/ predicted 17\.2 ms \(κ 1\) = 1\.25; factor 1\.05, applied 1\.04/,
    },
    {
      name: "exactly as predicted: the factor stays 1",
      observation: seen(17.2, 6),
      used: true,
      factor: 1,
      applied: 1,
    },
    {
      name: "a small drift moves the factor but not the applied step (hysteresis)",
      observation: seen(17.2 * 1.2, 6),
      used: true,
      factor: 1.2 ** 0.2, // 1.037: log2 = 0.053 < 1/16
      applied: 1,
    },
    {
      name: "three times slower counts as twice (the upper bound)",
      observation: seen(17.2 * 3, 6),
      used: true,
      factor: 2 ** 0.2,
      applied: stepOf(2 ** 0.2, 16),
    },
    {
      name: "ten times faster counts as half (the lower bound)",
      observation: seen(1.72, 6),
      used: true,
      factor: 0.5 ** 0.2,
      applied: stepOf(0.5 ** 0.2, 16),
    },
    {
      name: "never beyond 2× however long it is slow",
      state: { factor: 2, applied: 2, observations: 50 },
      observation: seen(17.2 * 10, 6),
      used: true,
      factor: 2,
      applied: 2,
    },
    {
      name: "a fractional batch size reads the table between its rows",
      observation: seen(10, 2.5),
      model: {
        profile: createPiecewiseProfile([
          { batch: 1, ms: 4 },
          { batch: 4, ms: 10 },
        ]),
        batcher: batcher(1),
      },
      used: true,
      // predicted 4 + (10 − 4) × 1.5 / 3 = 7 ms
      factor: (10 / 7) ** 0.2,
      applied: stepOf((10 / 7) ** 0.2, 16),
    },
    {
      name: "stale compute time: not used",
      observation: seen(40, 6, { computeMsPerBatch: { value: 40, ageSeconds: 60 } }),
      used: false,
      factor: 1,
      applied: 1,
      why: /^compute per batch stale \(60 s old > staleAfter 45 s\)$/,
    },
    {
      name: "missing batch size: not used",
      observation: { computeMsPerBatch: { value: 40, ageSeconds: 5 }, executedBatches: 500 },
      used: false,
      factor: 1,
      applied: 1,
      why: /^batch size missing$/,
    },
    {
      name: "too few batches in the window: not used",
      observation: seen(40, 6, { executedBatches: 99 }),
      used: false,
      factor: 1,
      applied: 1,
      why: /^99 batches in the window < 100$/,
    },
    {
      name: "no arrival rate per ready replica (nothing ready): not used",
      observation: seen(40, 6, { ratePerReplica: undefined }),
      used: false,
      factor: 1,
      applied: 1,
      why: /^arrival rate per ready replica unknown$/,
    },
    {
      name: "a batch size below 1 (counters out of step): not used",
      observation: seen(40, 0.5),
      used: false,
      factor: 1,
      applied: 1,
      why: /^no batch to compare/,
    },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const state = r.state ?? INITIAL_CORRECTION;
      const step = observeCorrection(state, r.observation, r.model ?? LINEAR, STALE_AFTER, PLAIN);
      expect(step.used, step.why).to.equal(r.used);
      expect(step.state.factor).to.be.closeTo(r.factor, 1e-9);
      expect(step.state.applied).to.be.closeTo(r.applied, 1e-9);
      expect(step.state.observations).to.equal(state.observations + (r.used ? 1 : 0));
      if (r.why) expect(step.why).to.match(r.why);
    });
  }

  it("the worked example repeated: F → 1.25, the applied step follows within one step", () => {
    let state = INITIAL_CORRECTION;
    const applied: number[] = [];
    const factors: number[] = [];
    for (let k = 0; k < 10; k++) {
      state = observeCorrection(state, seen(21.5, 6), LINEAR, STALE_AFTER, PLAIN).state;
      applied.push(Math.round(Math.log2(state.applied) * 16));
      factors.push(state.factor);
    }
    // Steps of 2^(1/16): 1.044, 1.044, 1.139, ..., 1.189.
    expect(applied).to.deep.equal([1, 1, 3, 3, 3, 3, 4, 4, 4, 4]);
    expect(factors[1]).to.be.closeTo(1.25 ** (1 - 0.8 ** 2), 1e-9);
    expect(factors[9]).to.be.closeTo(1.25 ** (1 - 0.8 ** 10), 1e-9);
    expect(factors[9]).to.be.closeTo(1.2204, 1e-4);
  });

  it("stays within [0.5, 2] and within a step of F, whatever it observes", () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let state = INITIAL_CORRECTION;
    for (let i = 0; i < 2000; i++) {
      const ms = 10 ** (random() * 4 - 1); // 0.1 ms to 1000 ms
      const n = 1 + random() * 15;
      state = observeCorrection(state, seen(ms, n), LINEAR, STALE_AFTER, PLAIN).state;
      expect(state.factor).to.be.within(0.5 - 1e-12, 2 + 1e-12);
      expect(state.applied).to.be.within(0.5 - 1e-12, 2 + 1e-12);
      expect(Math.abs(Math.log2(state.applied / state.factor))).to.be.below(1 / 16 + 1e-9);
    }
  });

  it("has the documented defaults", () => {
    expect(DEFAULT_CORRECTION).to.deep.equal({
      weight: 0.2,
      minFactor: 0.5,
      maxFactor: 2,
      minBatches: 100,
      stepsPerDoubling: 16,
      probeRequests: 20_000,
    });
  });
});

/** Triton's counters over a minute of Poisson load at `rate` on one simulated replica. */
function observeReplica(truth: LatencyProfile, b: BatcherSettings, rate: number) {
  const replica = new Replica(b, createServiceTime(truth), { complete: () => {} }, 0);
  const rng = createRng(7).fork("truth");
  let t = 0;
  for (let i = 0; i < 60 * rate; i++) {
    t += rng.exponential(rate);
    replica.enqueue(t, t);
    if ((i & 1023) === 1023) replica.advance(t);
  }
  replica.advance(Number.POSITIVE_INFINITY);
  const c = replica.counters;
  return seen((c.computeRequestSeconds / c.completed) * 1000, c.completed / c.batches, {
    executedBatches: c.batches,
    ratePerReplica: rate,
  });
}

describe("profile correction: κ, what the counters show of a profile", () => {
  const rows = [
    { name: "one instance, 100 req/s, as fast as the profile", instances: 1, rate: 100, truth: 1 },
    { name: "one instance, 300 req/s, as fast as the profile", instances: 1, rate: 300, truth: 1 },
    { name: "two instances, 100 req/s, as fast as the profile", instances: 2, rate: 100, truth: 1 },
    { name: "two instances, 200 req/s, as fast as the profile", instances: 2, rate: 200, truth: 1 },
    { name: "one instance, 200 req/s, 1.3 times slower", instances: 1, rate: 200, truth: 1.3 },
    { name: "two instances, 100 req/s, 1.3 times slower", instances: 2, rate: 100, truth: 1.3 },
    { name: "one instance, 100 req/s, 0.8 times the time", instances: 1, rate: 100, truth: 0.8 },
  ];
  for (const r of rows) {
    it(`reads the truth within 3%: ${r.name}`, () => {
      const model: CorrectionModel = { profile: LINEAR.profile, batcher: batcher(r.instances) };
      const truth = createScaledProfile(LINEAR.profile, r.truth);
      const observation = observeReplica(truth, model.batcher, r.rate);
      let state = INITIAL_CORRECTION;
      for (let k = 0; k < 30; k++) {
        state = observeCorrection(state, observation, model, STALE_AFTER).state;
      }
      expect(state.factor).to.be.closeTo(r.truth, 0.03 * r.truth);
    });
  }

  it("without κ, two busy instances would read 1.6 times slow (why κ is there)", () => {
    const model: CorrectionModel = { profile: LINEAR.profile, batcher: batcher(2) };
    const observation = observeReplica(LINEAR.profile, model.batcher, 100);
    const plain = observeCorrection(INITIAL_CORRECTION, observation, model, STALE_AFTER, {
      ...PLAIN,
      weight: 1,
    });
    expect(plain.state.factor).to.be.above(1.5);
    const withKappa = observeCorrection(INITIAL_CORRECTION, observation, model, STALE_AFTER, {
      ...DEFAULT_CORRECTION,
      weight: 1,
    });
    expect(withKappa.state.factor).to.be.closeTo(1, 0.03);
  });

  describe("κ is simulated again only when the load or the factor moved", () => {
    const first = observeCorrection(
      INITIAL_CORRECTION,
      seen(10, 2, { ratePerReplica: 200, readyReplicas: 3 }),
      LINEAR,
      STALE_AFTER,
    ).state;
    const rows = [
      { name: "rate 2% higher: reused", extra: { ratePerReplica: 204 }, reused: true },
      { name: "rate 10% higher: simulated", extra: { ratePerReplica: 220 }, reused: false },
      { name: "another replica ready: simulated", extra: { readyReplicas: 4 }, reused: false },
    ];
    for (const r of rows) {
      it(r.name, () => {
        // A factor held where κ was simulated, so only the load differs.
        const state = { ...first, factor: first.kappa!.factor };
        const next = observeCorrection(
          state,
          seen(10, 2, { ratePerReplica: 200, readyReplicas: 3, ...r.extra }),
          LINEAR,
          STALE_AFTER,
        ).state;
        expect(next.kappa === first.kappa).to.equal(r.reused);
      });
    }
  });

  it("κ of batches that are all the same size is 1; of varied ones, above 1", () => {
    // At light load every batch is one request: nothing to weigh.
    expect(batchTimeSpread(batcher(1), LINEAR.profile, 1, 5000)).to.be.closeTo(1, 0.01);
    expect(batchTimeSpread(batcher(1), LINEAR.profile, 300, 20_000)).to.be.above(1.1);
    expect(batchTimeSpread(batcher(1), LINEAR.profile, 300, 0)).to.equal(1);
  });
});

// ---------------------------------------------------------------------------------------
// In the loop

const T0 = DEFAULT_START_EPOCH;
const REF: PoolRef = { namespace: "vision", name: "yolo-detect" };

/** FakeMetrics whose batches of 4 take `batchMs` (request-weighted, as Triton counts). */
class TimedMetrics extends FakeMetrics {
  batchMs = 12.8;
  override async collect(policy: Policy, now: number): Promise<PoolScrape> {
    const s = await super.collect(policy, now);
    return {
      ...s,
      replicas: s.replicas.map((r) => ({
        ...r,
        models: r.models.map((m) => ({
          ...m,
          counters: {
            ...m.counters,
            computeInferDurationUs: (m.counters.requestSuccess ?? 0) * this.batchMs * 1000,
          },
        })),
      })),
    };
  }
}

function policyWith(profile: string, models = 1): Policy {
  const model = (name: string) =>
    `{ name: ${name}, template: yolov8-onnx, imageSize: 640, classes: 80, profile: ${profile} }`;
  const list = ["yolov8s", "yolov8m"].slice(0, models).map(model).join(", ");
  return loadModelPool(
    [
      "apiVersion: tritonscale.dev/v1alpha1",
      "kind: ModelPool",
      "metadata: { name: yolo-detect, namespace: vision }",
      "spec:",
      `  models: [${list}]`,
      "  slo: { latencyP99Ms: 85 }",
      "  scaling: { minReplicas: 1, maxReplicas: 10, syncPeriod: 15s }",
    ].join("\n"),
    "pool.yaml",
  );
}

const SLOW = policyWith("{ linear: { a: 4, b: 2.2 } }");

/** A capacity that is simply 1000 / the first model's time for a batch of 4 (no bisection). */
const INVERSE = (policy: Policy, profileOf: ProfileOf): PoolCapacity => {
  const perModel: Record<string, number> = {};
  const profiles: Record<string, string> = {};
  for (const m of policy.spec.models) {
    const p = profileOf(policy, m);
    perModel[m.name] = 1000 / p.computeMs(4);
    profiles[m.name] = p.name;
  }
  const first = policy.spec.models[0]!.name;
  return { perModel, perReplica: perModel[first]!, profiles };
};

function loopWith(options: ConstructorParameters<typeof ControlLoop>[1]) {
  const clock = new ManualClock(T0);
  const metrics = new TimedMetrics(T0 - 60);
  const sink = new RecordingSink();
  const loop = new ControlLoop(
    { metrics, cluster: new FakeCluster(), sinks: [sink], clock },
    { phaseOf: PHASE_ZERO, ...options },
  );
  return { clock, metrics, sink, loop };
}

describe("profile correction: in the loop", () => {
  it("scales the profile by the observed ratio and publishes the capacity the scaler used", async () => {
    const h = loopWith({ capacityOf: INVERSE, correction: { probeRequests: 0 } });
    h.metrics.batchMs = 16; // predicted 4 + 2.2 × 4 = 12.8 ms: r = 1.25
    h.loop.setPool(REF, SLOW);
    await h.clock.advance(150);
    await h.loop.stop();
    const caps = h.sink.decisions.map((d) => d.capacityPerReplica.yolov8s!);
    // The first decision has no pair of samples yet: the profile as it is.
    expect(caps[0]).to.be.closeTo(1000 / 12.8, 1e-9);
    // Then the capacity falls a step at a time (2^(1/16)), as the worked example.
    const steps = caps.map((c) => Math.round(Math.log2(1000 / 12.8 / c) * 16));
    expect(steps).to.deep.equal([0, 1, 1, 3, 3, 3, 3, 4, 4, 4, 4]);
  });

  it("a pool without the correction keeps its profile's capacity", async () => {
    const h = loopWith({ capacityOf: INVERSE, correction: false });
    h.metrics.batchMs = 16;
    h.loop.setPool(REF, SLOW);
    await h.clock.advance(150);
    await h.loop.stop();
    const caps = new Set(h.sink.decisions.map((d) => d.capacityPerReplica.yolov8s));
    expect([...caps]).to.deep.equal([1000 / 12.8]);
  });

  it("a new profile in the pool starts the correction over", async () => {
    const h = loopWith({ capacityOf: INVERSE });
    h.metrics.batchMs = 16;
    h.loop.setPool(REF, SLOW);
    await h.clock.advance(60);
    expect(h.sink.decisions.at(-1)!.capacityPerReplica.yolov8s).to.be.below(1000 / 12.8);
    // The measured profile now says 16 ms: what is observed.
    h.loop.setPool(REF, policyWith("{ linear: { a: 4, b: 3 } }"));
    await h.clock.advance(60);
    await h.loop.stop();
    const last = h.sink.decisions.at(-1)!;
    expect(last.capacityPerReplica.yolov8s).to.be.closeTo(1000 / 16, 1e-9);
  });

  it("a change that keeps the profile and batcher keeps the correction", async () => {
    const h = loopWith({ capacityOf: INVERSE, correction: { probeRequests: 0 } });
    h.metrics.batchMs = 16;
    h.loop.setPool(REF, SLOW);
    await h.clock.advance(60);
    const before = h.sink.decisions.at(-1)!.capacityPerReplica.yolov8s!;
    expect(before).to.be.below(1000 / 12.8);
    h.metrics.batchMs = 12.8; // now as predicted: the factor only drifts back slowly
    const wider = loadModelPool(
      [
        "apiVersion: tritonscale.dev/v1alpha1",
        "kind: ModelPool",
        "metadata: { name: yolo-detect, namespace: vision }",
        "spec:",
        "  models: [{ name: yolov8s, template: yolov8-onnx, imageSize: 640, classes: 80, profile: { linear: { a: 4, b: 2.2 } } }]",
        "  slo: { latencyP99Ms: 85 }",
        "  scaling: { minReplicas: 1, maxReplicas: 20, syncPeriod: 15s }",
      ].join("\n"),
      "pool.yaml",
    );
    h.loop.setPool(REF, wider);
    await h.clock.advance(0);
    await h.loop.stop();
    expect(h.sink.decisions.at(-1)!.capacityPerReplica.yolov8s).to.be.below(1000 / 12.8);
  });

  it("with the pool's own profile and the real capacity search, names the corrected profile", async () => {
    const h = loopWith({});
    h.metrics.batchMs = 16;
    h.loop.setPool(REF, SLOW);
    await h.clock.advance(15);
    await h.loop.stop();
    const [first, second] = h.sink.decisions;
    expect(first!.profiles).to.deep.equal({ yolov8s: "linear:a=4,b=2.2" });
    // κ at 20 req/s per replica is about 1: a step of 2^(1/16) slower (×1.044).
    expect(second!.profiles).to.deep.equal({
      yolov8s: `linear:a=4,b=2.2 ×${Number((2 ** (1 / 16)).toFixed(3))}`,
    });
    expect(second!.capacityPerReplica.yolov8s).to.be.below(first!.capacityPerReplica.yolov8s!);
    expect(second!.capacityPerReplica.yolov8s).to.be.above(0);
  });
});
