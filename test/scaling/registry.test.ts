import { expect } from "chai";
import { SCALERS, type ScalerName } from "../../controller/policy/index.js";
import {
  createScaler,
  isScalerName,
  type ScalerFactory,
  scalers,
  totalOf,
} from "../../controller/scaling/index.js";
import { every, pool, runScenario, snapshotOf } from "./support.js";

describe("scaling/registry: one map of scalers", () => {
  const policy = pool({ minReplicas: 0, maxReplicas: 10 });

  it("registers the two baselines, the rendered fallback trigger and tritonscale", () => {
    expect(Object.keys(scalers)).to.deep.equal([
      "hpa-gpu",
      "keda-queue",
      "fallback",
      "tritonscale",
    ]);
    expect(isScalerName("keda-queue")).to.equal(true);
    expect(isScalerName("toString")).to.equal(false);
  });

  const cases: { name: string; scaler: string; period: number }[] = [
    { name: "hpa-gpu syncs every 15 s", scaler: "hpa-gpu", period: 15 },
    { name: "keda-queue runs its HPA every 15 s", scaler: "keda-queue", period: 15 },
    { name: "fallback runs its HPA every 15 s", scaler: "fallback", period: 15 },
    { name: "tritonscale decides every syncPeriod", scaler: "tritonscale", period: 15 },
  ];
  for (const c of cases) {
    it(`creates by name: ${c.name}`, () => {
      const s = createScaler(c.scaler, policy, { capacityPerReplica: 96 });
      expect([s.name, s.periodSeconds]).to.deep.equal([c.scaler, c.period]);
    });
  }

  it("rejects an unknown name, listing the valid ones", () => {
    expect(() => createScaler("hpa", policy)).to.throw(
      'unknown scaler "hpa": must be one of "hpa-gpu", "keda-queue", "fallback", "tritonscale"',
    );
  });

  it("passes the options through: tritonscale without a capacity fails clearly", () => {
    expect(() => createScaler("tritonscale", policy)).to.throw(/needs options.capacityPerReplica/);
  });

  // The DESIGN.md safety rule for every registered scaler: no data → hold, never down, never 0.
  for (const name of SCALERS) {
    it(`${name}: 30 minutes without any metric never scales down and never to zero`, () => {
      const scaler = createScaler(name, policy, { capacityPerReplica: 96 });
      const decisions = runScenario(
        scaler,
        policy,
        { spot: 0, onDemand: 3 },
        every(15, 0, 1800, { total: 3, held: true }),
      );
      expect(decisions.every((d) => totalOf(d.desired) === 3 && d.held)).to.equal(true);
    });
  }

  // DESIGN.md: the policy is bound once, when the scaler is created; a changed pool gets a new
  // scaler that carries the old one's state over. Before, `decide` took the policy again and
  // the baselines ignored the factory's, while tritonscale read some settings from each.
  for (const name of SCALERS) {
    it(`${name}: a changed pool gets a new scaler that carries the state over`, () => {
      const busy = { gpu: 0.95, arrival: 2000, pending: 200, queueDelayMs: 200, ready: 8 };
      const before = createScaler(name, policy, { capacityPerReplica: 96 });
      const [d1] = runScenario(before, policy, { spot: 0, onDemand: 8 }, [
        { t: 0, ...busy, total: 10 },
      ]);
      const shrunk = pool({ minReplicas: 0, maxReplicas: 4 });
      const after = createScaler(name, shrunk, { capacityPerReplica: 96 });
      expect(after.decide.length, "decide(snapshot, state): no policy argument").to.equal(2);
      const d2 = after.decide(snapshotOf({ t: 15, ...busy, ready: 10 }, d1!.desired), d1!.state);
      expect(totalOf(d2.desired), d2.reason).to.equal(4);
      expect(d2.reason).to.match(/maxReplicas 4/);
    });
  }

  // The names a ModelPool may give are the policy's SCALERS, and the registry is typed by
  // them: a factory missing for a name, or one for a name the policy does not know, does not
  // compile (the two lists used to be kept equal by a test only).
  it("is typed by the policy's scaler names: a missing or extra entry does not compile", () => {
    const f: ScalerFactory = scalers.tritonscale;
    // @ts-expect-error "keda-queue" is missing
    const missing = { "hpa-gpu": f, tritonscale: f } satisfies Record<ScalerName, ScalerFactory>;
    const extra = {
      "hpa-gpu": f,
      "keda-queue": f,
      fallback: f,
      tritonscale: f,
      // @ts-expect-error "hpa" is not a name the policy knows
      hpa: f,
    } satisfies Record<ScalerName, ScalerFactory>;
    expect([missing, extra].map((r) => Object.keys(r).length)).to.deep.equal([2, 5]);
    expect(SCALERS.every(isScalerName)).to.equal(true);
  });
});
