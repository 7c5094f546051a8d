import { expect } from "chai";
import { SCALERS } from "../../controller/policy/index.js";
import {
  createScaler,
  isScalerName,
  SCALER_NAMES,
  scalers,
  totalOf,
} from "../../controller/scaling/index.js";
import { every, pool, runScenario, snapshotOf } from "./support.js";

describe("scaling/registry: one map of scalers", () => {
  const policy = pool({ minReplicas: 0, maxReplicas: 10 });

  it("registers the two baselines and tritonscale", () => {
    expect(SCALER_NAMES).to.deep.equal(["hpa-gpu", "keda-queue", "tritonscale"]);
    expect(Object.keys(scalers)).to.deep.equal(SCALER_NAMES);
    expect(isScalerName("keda-queue")).to.equal(true);
    expect(isScalerName("toString")).to.equal(false);
  });

  const cases: { name: string; scaler: string; period: number }[] = [
    { name: "hpa-gpu syncs every 15 s", scaler: "hpa-gpu", period: 15 },
    { name: "keda-queue runs its HPA every 15 s", scaler: "keda-queue", period: 15 },
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
      'unknown scaler "hpa": must be one of "hpa-gpu", "keda-queue", "tritonscale"',
    );
  });

  it("passes the options through: tritonscale without a capacity fails clearly", () => {
    expect(() => createScaler("tritonscale", policy)).to.throw(/needs options.capacityPerReplica/);
  });

  // The DESIGN.md safety rule for every registered scaler: no data → hold, never down, never 0.
  for (const name of SCALER_NAMES) {
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
  for (const name of SCALER_NAMES) {
    it(`${name}: a changed pool gets a new scaler that carries the state over`, () => {
      const busy = { gpu: 0.95, arrival: 2000, pending: 200, ready: 8 };
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

  it("knows exactly the scalers a ModelPool may name in spec.scaling.scaler", () => {
    expect([...SCALER_NAMES].sort()).to.deep.equal([...SCALERS].sort());
  });
});
