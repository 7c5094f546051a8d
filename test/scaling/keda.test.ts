import { expect } from "chai";
import {
  type ByCapacity,
  createKedaScaler,
  KEDA_QUEUE,
  type KedaOptions,
} from "../../controller/scaling/index.js";
import { every, pool, runScenario, type Step } from "./support.js";

const od = (n: number): ByCapacity => ({ spot: 0, onDemand: n });

describe("scaling/keda: the KEDA baseline (keda-queue: pending requests, 4 per replica)", () => {
  const policy = pool({ minReplicas: 0, maxReplicas: 10 });
  const scenarios: {
    name: string;
    options?: Partial<KedaOptions>;
    minReplicas?: number;
    start: number;
    steps: Step[];
  }[] = [
    {
      name: "activation: pending 6 > activationThreshold 0 at a poll → 0 → 1, then the HPA",
      start: 0,
      steps: [
        {
          t: 0,
          pending: 6,
          total: 1,
          active: true,
          reason: /pending requests 6 > activationThreshold 0: KEDA activates 0 → 1/,
        },
        {
          t: 15,
          pending: 6,
          total: 2,
          reason: /HPA: pending requests 6 \/ 4 per replica → 2; 1 → 2/,
        },
      ],
    },
    {
      name: "nothing pending at 0: stays at 0, inactive",
      start: 0,
      steps: [{ t: 0, pending: 0, total: 0, active: false, reason: /stays at 0/ }],
    },
    {
      name: "activation waits for the next 30 s poll",
      start: 0,
      steps: [
        { t: 0, pending: 0, total: 0 },
        { t: 15, pending: 5, total: 0, reason: /waiting for KEDA's next poll \(every 30 s\)/ },
        { t: 30, pending: 5, total: 1 },
      ],
    },
    {
      name: "deactivation: straight from 10 to 0 once the cooldown (60 s here) has passed since the last active poll",
      options: { cooldownPeriodSeconds: 60 },
      start: 0,
      steps: [
        { t: 0, pending: 40, total: 1 },
        { t: 15, pending: 40, total: 5 },
        { t: 30, pending: 40, total: 10 },
        { t: 45, pending: 0, total: 10, reason: /scale-down stabilized at 10/ },
        { t: 60, pending: 0, total: 10, reason: /cooling down, 30 s of the 60 s cooldown left/ },
        { t: 75, pending: 0, total: 10 },
        { t: 90, pending: 0, total: 10, reason: /cooling down, 0 s of the 60 s cooldown left/ },
        { t: 105, pending: 0, total: 10 },
        {
          t: 120,
          pending: 0,
          total: 0,
          active: false,
          reason: /for 90 s > cooldownPeriod 60 s: KEDA deactivates 10 → 0/,
        },
        { t: 135, pending: 0, total: 0 },
      ],
    },
    {
      name: "with the defaults the HPA's 300 s window ends first (10 → 1), the cooldown then takes the last replica",
      start: 0,
      steps: [
        { t: 0, pending: 40, total: 1 },
        { t: 15, pending: 40, total: 5 },
        { t: 30, pending: 40, total: 10 },
        ...every(15, 45, 330, { pending: 0, total: 10 }),
        { t: 330, pending: 0, total: 1, reason: /cooling down, 0 s of the 300 s cooldown left/ },
        { t: 345, pending: 0, total: 1 },
        {
          t: 360,
          pending: 0,
          total: 0,
          reason: /for 330 s > cooldownPeriod 300 s: KEDA deactivates 1 → 0/,
        },
      ],
    },
    {
      name: "never active since creation: deactivates at the first poll after initialCooldownPeriod 0",
      start: 3,
      steps: [
        { t: 0, pending: 0, total: 3, reason: /cooling down, 0 s of the 0 s cooldown left/ },
        { t: 15, pending: 0, total: 3 },
        {
          t: 30,
          pending: 0,
          total: 0,
          reason: /never active since creation: KEDA deactivates 3 → 0/,
        },
      ],
    },
    {
      name: "a missing metric is a trigger error without fallback: keeps the count, never to zero",
      start: 3,
      steps: every(15, 0, 1800, {
        pending: null,
        total: 3,
        held: true,
        reason: /pending requests missing/,
      }),
    },
    {
      name: "a missing metric after activity: no deactivation even past the cooldown",
      start: 0,
      steps: [
        { t: 0, pending: 8, total: 1 },
        { t: 15, pending: 8, total: 2 },
        ...every(15, 30, 900, { pending: null, total: 2, held: true }),
      ],
    },
    {
      name: "a stale metric (60 s old) holds like a missing one",
      start: 4,
      steps: [
        {
          t: 0,
          pending: 0,
          age: 60,
          total: 4,
          held: true,
          reason:
            /pending requests stale \(60 s old > staleAfter 45 s\): KEDA trigger error without fallback, keeping 4/,
        },
      ],
    },
    {
      name: "minReplicaCount 2: never deactivated, the HPA keeps 2",
      minReplicas: 2,
      start: 2,
      steps: every(15, 0, 900, { pending: 0, total: 2 }),
    },
    {
      name: "maxReplicas is never exceeded",
      start: 1,
      steps: [
        ...every(15, 0, 60, { pending: 400 }),
        { t: 60, pending: 400, total: 10, reason: /capped at maxReplicas 10/ },
      ],
    },
  ];
  for (const s of scenarios) {
    it(s.name, () => {
      const p =
        s.minReplicas === undefined
          ? policy
          : pool({ minReplicas: s.minReplicas, maxReplicas: 10 });
      const keda = createKedaScaler(p, { ...KEDA_QUEUE, ...s.options });
      runScenario(keda, p, od(s.start), s.steps);
    });
  }

  it("the HPA syncs every 15 s (KEDA polls every 30 s inside it)", () => {
    const keda = createKedaScaler(policy, KEDA_QUEUE);
    expect([keda.name, keda.periodSeconds]).to.deep.equal(["keda-queue", 15]);
  });

  it("rejects a threshold that is not positive", () => {
    expect(() => createKedaScaler(policy, { ...KEDA_QUEUE, threshold: -1 })).to.throw(
      "KEDA keda-queue: threshold must be > 0 (got -1)",
    );
  });
});
