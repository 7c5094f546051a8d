import { expect } from "chai";
import { answerFor, TARGET_PER_REPLICA } from "../../controller/keda/answer.js";
import { hpaExternalReplicas } from "../../controller/keda/hpa.js";
import type { CapacityType } from "../../controller/scaling/types.js";
import { type DecisionSpec, poolDecision } from "../support/decisions.js";

interface AnswerRow {
  readonly name: string;
  readonly decision: DecisionSpec;
  /** The pool has only the on-demand ScaledObject (Spot disabled). */
  readonly solo?: boolean;
  readonly want: Partial<Record<CapacityType, { active: boolean; replicas: number }>>;
  /** A fragment of the on-demand answer's reason. */
  readonly reason?: string;
}

const ROWS: readonly AnswerRow[] = [
  {
    name: "scale up: each ScaledObject answers its Deployment's share",
    decision: { desired: { spot: 5, onDemand: 1 }, ready: { spot: 2, onDemand: 1 } },
    want: { spot: { active: true, replicas: 5 }, onDemand: { active: true, replicas: 1 } },
  },
  {
    name: "scale down (fresh metrics): the lower count is answered",
    decision: { desired: { spot: 1, onDemand: 1 }, ready: { spot: 4, onDemand: 1 } },
    want: { spot: { active: true, replicas: 1 }, onDemand: { active: true, replicas: 1 } },
  },
  {
    name: "idle pool decided to zero: inactive, 0 everywhere",
    decision: { desired: { spot: 0, onDemand: 0 }, active: false, pendingRequests: 0 },
    want: { spot: { active: false, replicas: 0 }, onDemand: { active: false, replicas: 0 } },
  },
  {
    name: "Spot at 0 while on-demand runs: the Spot ScaledObject alone is inactive",
    decision: { desired: { spot: 0, onDemand: 2 }, ready: { spot: 0, onDemand: 2 } },
    want: { spot: { active: false, replicas: 0 }, onDemand: { active: true, replicas: 2 } },
  },
  {
    name: "Spot disabled: the only ScaledObject carries the pool's total",
    decision: { desired: { spot: 0, onDemand: 3 } },
    solo: true,
    want: { onDemand: { active: true, replicas: 3 } },
  },
  {
    name: "held with the same counts: the held decision is answered as it is",
    decision: {
      desired: { spot: 2, onDemand: 1 },
      held: true,
      ready: { spot: 2, onDemand: 1 },
    },
    want: { spot: { active: true, replicas: 2 }, onDemand: { active: true, replicas: 1 } },
  },
  {
    name: "held below what runs: never answers fewer than the replicas running (no data never scales down)",
    decision: {
      desired: { spot: 0, onDemand: 2 },
      held: true,
      ready: { spot: 3, onDemand: 1 },
      starting: { spot: 0, onDemand: 1 },
    },
    want: { spot: { active: true, replicas: 3 }, onDemand: { active: true, replicas: 2 } },
  },
  {
    name: "held at zero with nothing running or pending: stays at zero (holding is not scaling down)",
    decision: { desired: { spot: 0, onDemand: 0 }, held: true, active: false },
    want: { spot: { active: false, replicas: 0 }, onDemand: { active: false, replicas: 0 } },
  },
  {
    name: "requests pending but the decision says 0: on-demand answers 1, active",
    decision: { desired: { spot: 0, onDemand: 0 }, active: false, pendingRequests: 4 },
    want: { spot: { active: false, replicas: 0 }, onDemand: { active: true, replicas: 1 } },
    reason: "4 request(s) pending",
  },
  {
    name: "a replica still loading its model (starting) holds the pool active",
    decision: {
      desired: { spot: 0, onDemand: 0 },
      active: false,
      starting: { spot: 0, onDemand: 1 },
    },
    want: { onDemand: { active: true, replicas: 1 } },
    reason: "1 replica(s) starting",
  },
  {
    name: "a replica waiting for a GPU node holds the pool active (Spot disabled)",
    decision: {
      desired: { spot: 0, onDemand: 0 },
      active: false,
      pendingReplicas: { spot: 0, onDemand: 1 },
    },
    solo: true,
    want: { onDemand: { active: true, replicas: 1 } },
    reason: "waiting for a node",
  },
  {
    name: "active with no desired replicas: never 0 everywhere while active",
    decision: { desired: { spot: 0, onDemand: 0 }, active: true },
    want: { spot: { active: false, replicas: 0 }, onDemand: { active: true, replicas: 1 } },
  },
  {
    name: "pending requests while Spot carries replicas: no floor needed on on-demand",
    decision: { desired: { spot: 2, onDemand: 0 }, pendingRequests: 9 },
    want: { spot: { active: true, replicas: 2 }, onDemand: { active: false, replicas: 0 } },
  },
];

describe("keda answerFor: the answer per ScaledObject for each kind of decision", () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const d = poolDecision(row.decision);
      for (const [type, want] of Object.entries(row.want) as [
        CapacityType,
        { active: boolean; replicas: number },
      ][]) {
        const a = answerFor(type, d, row.solo ?? false);
        expect({ active: a.active, replicas: a.replicas }, type).to.deep.equal(want);
        expect(a.held).to.equal(row.decision.held ?? false);
        expect(Number.isInteger(a.replicas)).to.equal(true);
      }
      if (row.reason !== undefined) {
        expect(answerFor("onDemand", d, row.solo ?? false).reason).to.contain(row.reason);
      }
    });
  }
});

interface HpaRow {
  readonly name: string;
  /** The Deployment's replicas now. */
  readonly current: number;
  /** The controller's decision for it (answered as the metric value, target 1). */
  readonly decided: number;
  /** The HPA's tolerance both ways; absent: the cluster default 0.1. */
  readonly tolerance?: number;
  /** Where the HPA goes, worked by hand. */
  readonly hpa: number;
}

// ratio = usage / (target × current) = decided / current (milli-units cancel);
// within 1 − t ≤ ratio ≤ 1 + t the HPA keeps current, else it goes to ceil(decided / 1).
const HPA_ROWS: readonly HpaRow[] = [
  { name: "5 → 8: ratio 1.6, outside 10%, lands on 8", current: 5, decided: 8, hpa: 8 },
  { name: "6 → 2: ratio 0.33, lands on 2", current: 6, decided: 2, hpa: 2 },
  {
    name: "9 → 10: ratio 1.11 > 1.1, lands (below 10 every step of one does)",
    current: 9,
    decided: 10,
    hpa: 10,
  },
  { name: "9 → 8: ratio 0.89 < 0.9, lands", current: 9, decided: 8, hpa: 8 },
  {
    name: "10 → 11: ratio 1.1 is on the band's closed edge: stays 10",
    current: 10,
    decided: 11,
    hpa: 10,
  },
  { name: "10 → 9: ratio 0.9 is on the edge: stays 10", current: 10, decided: 9, hpa: 10 },
  { name: "10 → 12: ratio 1.2, lands on 12", current: 10, decided: 12, hpa: 12 },
  { name: "20 → 22: ratio 1.1, stays 20 (2 short)", current: 20, decided: 22, hpa: 20 },
  { name: "20 → 18: ratio 0.9, stays 20 (2 over)", current: 20, decided: 18, hpa: 20 },
  { name: "20 → 23: ratio 1.15, lands on 23", current: 20, decided: 23, hpa: 23 },
  { name: "20 → 17: ratio 0.85, lands on 17", current: 20, decided: 17, hpa: 17 },
  { name: "100 → 109: ratio 1.09, stays 100 (9 short)", current: 100, decided: 109, hpa: 100 },
  {
    name: "100 → 110: ratio 1.1, stays 100 (10 short, the widest gap)",
    current: 100,
    decided: 110,
    hpa: 100,
  },
  { name: "100 → 111: ratio 1.11, lands on 111", current: 100, decided: 111, hpa: 111 },
  { name: "100 → 90: ratio 0.9, stays 100 (10 over)", current: 100, decided: 90, hpa: 100 },
  {
    name: "tolerance 0: 10 → 11 (ratio 1.1 ≠ 1) lands on 11",
    current: 10,
    decided: 11,
    tolerance: 0,
    hpa: 11,
  },
  { name: "tolerance 0: 20 → 19 lands on 19", current: 20, decided: 19, tolerance: 0, hpa: 19 },
  {
    name: "tolerance 0: 100 → 101 (ratio 1.01) lands on 101",
    current: 100,
    decided: 101,
    tolerance: 0,
    hpa: 101,
  },
  {
    name: "tolerance 0: 12 → 12 (ratio exactly 1) stays 12, no flapping",
    current: 12,
    decided: 12,
    tolerance: 0,
    hpa: 12,
  },
  {
    name: "tolerance 0.05: 100 → 105 (ratio 1.05, on the edge) stays 100",
    current: 100,
    decided: 105,
    tolerance: 0.05,
    hpa: 100,
  },
  {
    name: "tolerance 0.05: 100 → 106 lands on 106",
    current: 100,
    decided: 106,
    tolerance: 0.05,
    hpa: 106,
  },
];

describe("keda: where the HPA lands on the external scaler's answer (AverageValue, target 1)", () => {
  for (const row of HPA_ROWS) {
    it(row.name, () => {
      const answer = answerFor(
        "onDemand",
        poolDecision({ desired: { spot: 0, onDemand: row.decided } }),
        true,
      );
      const tolerance =
        row.tolerance === undefined ? undefined : { up: row.tolerance, down: row.tolerance };
      expect(
        hpaExternalReplicas({
          current: row.current,
          metricValue: answer.replicas,
          targetSize: TARGET_PER_REPLICA,
          ...(tolerance === undefined ? {} : { tolerance }),
        }),
      ).to.equal(row.hpa);
    });
  }

  it("tolerance 0 lands on every decision, 1 … 150 replicas either way", () => {
    for (let current = 1; current <= 150; current++) {
      for (let decided = 1; decided <= 150; decided++) {
        const got = hpaExternalReplicas({
          current,
          metricValue: decided,
          targetSize: TARGET_PER_REPLICA,
          tolerance: { up: 0, down: 0 },
        });
        if (got !== decided) expect.fail(`current ${current}, decided ${decided}: HPA ${got}`);
      }
    }
  });

  it("the default 10%: below 10 replicas every decision lands; from 10 up the HPA stays at most ⌊current / 10⌋ away", () => {
    for (let current = 1; current <= 150; current++) {
      for (let decided = 1; decided <= 150; decided++) {
        const got = hpaExternalReplicas({
          current,
          metricValue: decided,
          targetSize: TARGET_PER_REPLICA,
        });
        const ok =
          got === decided ||
          (current >= 10 && got === current && Math.abs(decided - current) <= current / 10);
        if (!ok) expect.fail(`current ${current}, decided ${decided}: HPA ${got}`);
      }
    }
  });

  it("refuses a current count of 0 (the HPA does not act there; KEDA does)", () => {
    expect(() => hpaExternalReplicas({ current: 0, metricValue: 1, targetSize: 1 })).to.throw(
      /current replicas must be an integer >= 1. Received: 0/,
    );
  });
});
