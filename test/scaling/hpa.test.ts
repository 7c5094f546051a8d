import { expect } from "chai";
import {
  type ByCapacity,
  createHpaScaler,
  HPA_GPU,
  METRICS,
} from "../../controller/scaling/index.js";
import { every, pool, runScenario, type Step } from "./support.js";

const od = (n: number): ByCapacity => ({ spot: 0, onDemand: n });

describe("scaling/hpa: the HPA baseline (hpa-gpu: GPU utilization, target 0.70)", () => {
  const policy = pool({ minReplicas: 0, maxReplicas: 10 });
  const scenarios: { name: string; start: number; steps: Step[] }[] = [
    {
      name: "within tolerance: 0.76 is within 0.1 of 0.70 (ratio 1.086), no change",
      start: 4,
      steps: [{ t: 0, gpu: 0.76, total: 4, reason: /within tolerance 0.1 of target 0.7: keep 4/ }],
    },
    {
      name: "beyond tolerance: 0.8 on 4 ready → ceil(1.143 × 4) = 5",
      start: 4,
      steps: [
        {
          t: 0,
          gpu: 0.8,
          total: 5,
          reason: /GPU utilization 0.8 \/ target 0.7 × 4 ready = 4.57 → 5; 4 → 5/,
        },
      ],
    },
    {
      name: "starting pods count as 0% on a scale-up: 0.95 × 3 / (0.7 × 5) = 0.81 < 1 → keep 5",
      start: 5,
      steps: [
        {
          t: 0,
          gpu: 0.95,
          ready: 3,
          starting: 2,
          total: 5,
          reason: /counting 2 not-Ready pods as 0 gives 0.81 of target 0.7: keep 5/,
        },
      ],
    },
    {
      name: "the same load without starting pods: ceil(1.357 × 3) = 5",
      start: 3,
      steps: [{ t: 0, gpu: 0.95, total: 5 }],
    },
    {
      name: "scale-down waits the 300 s window (highest recommendation), then drops at once",
      start: 6,
      steps: [
        {
          t: 0,
          gpu: 0.2,
          total: 6,
          reason: /scale-down stabilized at 6: the highest recommendation of the last 300 s/,
        },
        ...every(15, 15, 300, { gpu: 0.2, total: 6 }),
        { t: 300, gpu: 0.2, total: 2, reason: /6 → 2/ },
      ],
    },
    {
      name: "never below 1 even when the policy allows 0 (an HPA cannot hold 0)",
      start: 2,
      steps: [...every(15, 0, 600, { gpu: 0 }), { t: 600, gpu: 0, total: 1 }],
    },
    {
      name: "maxReplicas caps the proposal",
      start: 9,
      steps: [{ t: 0, gpu: 1, total: 10, reason: /capped at maxReplicas 10/ }],
    },
    {
      name: "a missing metric holds the count instead of the pending scale-down",
      start: 6,
      steps: [
        ...every(15, 0, 300, { gpu: 0.1, total: 6 }),
        {
          t: 300,
          gpu: null,
          total: 6,
          held: true,
          reason: /^GPU utilization missing: the HPA cannot compute a replica count and keeps 6/,
        },
        { t: 315, gpu: 0.1, total: 1, held: false },
      ],
    },
    {
      name: "missing for 30 minutes: never down, never to zero",
      start: 3,
      steps: every(15, 0, 1800, { gpu: null, total: 3, held: true }),
    },
    {
      name: "a stale metric (60 s old > staleAfter 45 s) holds",
      start: 6,
      steps: [
        ...every(15, 0, 300, { gpu: 0.1, total: 6 }),
        {
          t: 300,
          gpu: 0.1,
          age: 60,
          total: 6,
          held: true,
          reason: /GPU utilization stale \(60 s old > staleAfter 45 s\)/,
        },
      ],
    },
    {
      name: "no Ready pod to average over holds",
      start: 2,
      steps: [
        { t: 0, gpu: 0.5, ready: 0, starting: 2, total: 2, held: true, reason: /no Ready pod/ },
      ],
    },
    {
      name: "a target at 0 replicas is left alone",
      start: 0,
      steps: [{ t: 0, gpu: 0.9, total: 0, reason: /does not scale a target at 0/ }],
    },
  ];
  for (const s of scenarios) {
    it(s.name, () => {
      runScenario(createHpaScaler(policy, HPA_GPU), policy, od(s.start), s.steps);
    });
  }

  it("default behavior from 1 replica: at most max(2×1, 1+4) = 5 per 15 s period", () => {
    // An External AverageValue metric can ask for many replicas at once: 400 req/s at
    // 10 req/s per replica = 40.
    const p = pool({ minReplicas: 1, maxReplicas: 50 });
    const hpa = createHpaScaler(p, { name: "hpa-rate", metric: METRICS.arrivalRate, target: 10 });
    runScenario(hpa, p, od(1), [
      {
        t: 0,
        arrival: 400,
        total: 5,
        reason: /arrival rate 400 \/ 10 per replica → 40; scale-up limited to 5/,
      },
      { t: 15, arrival: 400, total: 10 },
      { t: 30, arrival: 400, total: 20 },
      { t: 45, arrival: 400, total: 40 },
      { t: 60, arrival: 400, total: 40, reason: /within 0.1 of 10 per replica: 40/ },
    ]);
  });

  it("syncs every 15 s and names itself", () => {
    const hpa = createHpaScaler(policy, HPA_GPU);
    expect([hpa.name, hpa.periodSeconds]).to.deep.equal(["hpa-gpu", 15]);
  });

  it("rejects a target that is not positive", () => {
    expect(() => createHpaScaler(policy, { ...HPA_GPU, target: 0 })).to.throw(
      "HPA hpa-gpu: target must be > 0 (got 0)",
    );
  });
});
