import { expect } from "chai";
import { SCALERS } from "../../controller/policy/index.js";
import {
  createScaler,
  isScalerName,
  SCALER_NAMES,
  scalers,
  totalOf,
} from "../../controller/scaling/index.js";
import { every, pool, runScenario } from "./support.js";

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

  it("knows exactly the scalers a ModelPool may name in spec.scaling.scaler", () => {
    expect([...SCALER_NAMES].sort()).to.deep.equal([...SCALERS].sort());
  });
});
