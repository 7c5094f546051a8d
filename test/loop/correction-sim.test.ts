import { expect } from "chai";
import {
  type CorrectionState,
  INITIAL_CORRECTION,
  observeCorrection,
  spreadReplicas,
} from "../../controller/loop/correction.js";
import type { Policy } from "../../controller/policy/index.js";
import { createScaler } from "../../controller/scaling/registry.js";
import { type Scaler, totalOf } from "../../controller/scaling/types.js";
import { simulate } from "../../controller/simulate/engine.js";
import { LatencyHistogram } from "../../controller/simulate/histogram.js";
import { createLinearProfile, createScaledProfile } from "../../controller/simulate/profile.js";
import { createRng } from "../../controller/simulate/rng.js";
import {
  batcherSettings,
  clusterSettings,
  createServiceTime,
  pipelineSettings,
} from "../../controller/simulate/setup.js";
import { parseTraceSpec } from "../../controller/simulate/trace.js";
import { pool } from "../scaling/support.js";

/**
 * The correction against the simulator: replicas that run the profile times `truth`, seen
 * only through the simulated metrics pipeline (scrapes, delay, scaling/window.ts, as the
 * live loop sees Triton), read back `truth`. What is deployed is what is simulated: the
 * demo's simulated replicas, running their own profile, are not "corrected" away from it.
 */

const PROFILE = createLinearProfile(4, 2.2);

/**
 * Runs `minutes` of Poisson load at `rate` on `replicas` fixed replicas, routed as the pool
 * says; the factor read, with κ for arrivals spread as the loop takes them to be
 * (`spread`: {@link spreadReplicas} as the loop calls it, or `ready`, every pool taken as
 * round robin, as before).
 */
function correctionOver(
  policy: Policy,
  truth: number,
  rate: number,
  replicas: number,
  spread: "pool" | "ready" = "pool",
) {
  const model = policy.spec.models[0]!;
  const batcher = batcherSettings(model);
  const inner = createScaler("tritonscale", policy, { capacityPerReplica: 1e6 });
  let state: CorrectionState = INITIAL_CORRECTION;
  let used = 0;
  const recording: Scaler = {
    name: "recording",
    periodSeconds: 15,
    initialState: (c) => inner.initialState(c),
    decide(snapshot, s) {
      const ready = totalOf(snapshot.replicas.ready);
      const arrival = snapshot.arrivalRate?.value;
      const size = snapshot.batchSize?.value;
      const step = observeCorrection(
        state,
        {
          ...(snapshot.computeMsPerBatch ? { computeMsPerBatch: snapshot.computeMsPerBatch } : {}),
          ...(snapshot.batchSize ? { batchSize: snapshot.batchSize } : {}),
          // The simulator's snapshot has no batch count: the window's, from its rates.
          executedBatches: arrival !== undefined && size ? (arrival * 60) / size : 0,
          ...(arrival !== undefined && ready > 0
            ? {
                ratePerReplica: arrival / ready,
                readyReplicas: spread === "pool" ? spreadReplicas(policy, ready) : ready,
              }
            : {}),
        },
        { profile: PROFILE, batcher },
        policy.spec.scaling.staleAfterSeconds,
      );
      state = step.state;
      if (step.used) used++;
      // Hold the pool where it is: the test is about reading, not scaling.
      return { ...inner.decide(snapshot, s), desired: { spot: 0, onDemand: replicas } };
    },
  };
  simulate({
    arrivals: parseTraceSpec(`synthetic:poisson:rate=${rate}:duration=10m`, 3),
    batcher,
    service: createServiceTime(createScaledProfile(PROFILE, truth)),
    cluster: clusterSettings(policy),
    pipeline: pipelineSettings(),
    sloSeconds: policy.spec.slo.latencyP99Ms / 1000,
    control: { kind: "scaler", scaler: recording, initial: { spot: 0, onDemand: replicas } },
    random: createRng(3),
    loadBalancing: policy.spec.scaling.loadBalancing,
    histogram: () => new LatencyHistogram(),
  });
  return { factor: state.factor, used };
}

describe("profile correction: through the simulator's metrics pipeline", () => {
  const rows = [
    { name: "as fast as the profile, one replica", truth: 1, instances: 1, rate: 200, replicas: 1 },
    { name: "as fast as the profile, 3 replicas", truth: 1, instances: 1, rate: 600, replicas: 3 },
    {
      name: "as fast as the profile, 10 replicas",
      truth: 1,
      instances: 1,
      rate: 2000,
      replicas: 10,
    },
    { name: "two instances, 3 replicas", truth: 1, instances: 2, rate: 400, replicas: 3 },
    { name: "1.3 times slower, 3 replicas", truth: 1.3, instances: 1, rate: 500, replicas: 3 },
    { name: "0.8 times the time, 3 replicas", truth: 0.8, instances: 1, rate: 600, replicas: 3 },
  ];
  for (const r of rows) {
    it(`reads the truth within 5%: ${r.name}`, () => {
      const policy = pool({
        minReplicas: 1,
        maxReplicas: 10,
        syncPeriod: "15s",
        loadBalancing: "roundRobin",
      });
      const withInstances: Policy = {
        ...policy,
        spec: {
          ...policy.spec,
          models: [{ ...policy.spec.models[0]!, instances: r.instances }],
        },
      } as Policy;
      const got = correctionOver(withInstances, r.truth, r.rate, r.replicas);
      expect(got.used).to.be.above(20);
      expect(got.factor).to.be.closeTo(r.truth, 0.05 * r.truth);
    });
  }

  // A pool routed at random (the default, a plain Service), routed so by the simulator:
  // each replica gets a Poisson share, so κ is one replica's alone.
  const randomRows = [
    { name: "as fast as the profile, 3 replicas", truth: 1, rate: 600, replicas: 3 },
    { name: "1.3 times slower, 3 replicas", truth: 1.3, rate: 500, replicas: 3 },
    { name: "as fast as the profile, 10 replicas", truth: 1, rate: 2000, replicas: 10 },
  ];
  for (const r of randomRows) {
    it(`random routing: reads the truth within 5% (regression: κ took every pool as round robin): ${r.name}`, () => {
      const policy = pool({ minReplicas: 1, maxReplicas: 10, syncPeriod: "15s" });
      expect(policy.spec.scaling.loadBalancing).to.equal("random");
      const got = correctionOver(policy, r.truth, r.rate, r.replicas);
      expect(got.used).to.be.above(20);
      expect(got.factor).to.be.closeTo(r.truth, 0.05 * r.truth);
    });
  }

  it("random routing read as round robin (as the loop did) reads slow: why κ follows the pool", () => {
    const policy = pool({ minReplicas: 1, maxReplicas: 10, syncPeriod: "15s" });
    const got = correctionOver(policy, 1, 2000, 10, "ready");
    expect(got.factor).to.be.above(1.05);
  });
});
