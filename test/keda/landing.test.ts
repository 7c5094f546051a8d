import { expect } from "chai";
import { DEFAULT_DEMO_TRACE } from "../../controller/cli/demo.js";
import {
  ClusterLanding,
  type Landed,
  type LandingSettings,
  type LandingState,
  landingSettings,
  landOnce,
} from "../../controller/keda/landing.js";
import { ControlLoop } from "../../controller/loop/loop.js";
import { createSimulatedPorts } from "../../controller/loop/simulated.js";
import type { Policy } from "../../controller/policy/index.js";
import { INITIAL_BEHAVIOR_STATE } from "../../controller/scaling/behavior.js";
import { totalOf } from "../../controller/scaling/types.js";
import { DEFAULT_START_EPOCH } from "../../controller/simulate/engine.js";
import { poolCapacity } from "../../controller/simulate/pool-capacity.js";
import { createPoolRun } from "../../controller/simulate/pool-run.js";
import { parseTraceSpec } from "../../controller/simulate/trace.js";
import { ManualClock, RecordingSink } from "../loop/support.js";
import { poolDecision } from "../support/decisions.js";
import { minimalPool } from "../support/pools.js";

/**
 * What the cluster lands on (keda/landing.ts): KEDA's activation and cooldown and the HPA's
 * tolerance and behavior applied to the external scaler's answers, as `demo` moves its
 * simulated cluster.
 */

/**
 * A pool scaled by KEDA, 0..20, idle window 10 min, syncPeriod 15 s (KEDA's polling interval
 * and cooldownPeriod), the HPA's default behavior (scale-down window 300 s), which the
 * decision carries: the HPA on the answer keeps 60 s of it to damp the queue-time trigger.
 */
const KEDA_POOL = minimalPool({ scaling: { minReplicas: 0, maxReplicas: 20, idleWindow: "10m" } });
const [SOLO] = landingSettings(KEDA_POOL) as [LandingSettings];

function at(replicas: number): LandingState {
  return { replicas, hpa: INITIAL_BEHAVIOR_STATE };
}

/** Polls every 15 s from t = 0 with the answers given; the replicas after each. */
function polls(
  settings: LandingSettings,
  start: number,
  answers: readonly { active: boolean; replicas: number }[],
): number[] {
  let state = at(start);
  return answers.map((a, i) => {
    const step = landOnce(state, settings, a, i * 15);
    state = step.state;
    return step.replicas;
  });
}

const on = (replicas: number) => ({ active: true, replicas });
const off = { active: false, replicas: 0 };

describe("keda/landing: one Deployment under KEDA and its HPA", () => {
  it("reads the ScaledObject as render writes it", () => {
    expect(SOLO).to.include({
      deployment: "yolo-triton",
      capacityType: "onDemand",
      solo: true,
      keda: true,
      min: 0,
      max: 20,
      cooldownSeconds: 15,
    });
    expect(SOLO.behavior.scaleDown.stabilizationWindowSeconds).to.equal(60);
    expect(SOLO.behavior.scaleUp.stabilizationWindowSeconds).to.equal(0);
    expect(SOLO.tolerance).to.deep.equal({ up: 0.1, down: 0.1 });
  });

  const rows: readonly {
    name: string;
    settings?: LandingSettings;
    start: number;
    answers: readonly { active: boolean; replicas: number }[];
    expected: number[];
  }[] = [
    {
      name: "from 0, an answer of 3: KEDA activates to 1, the HPA takes it to 3 at the next poll",
      start: 0,
      answers: [on(3), on(3), on(3)],
      expected: [1, 3, 3],
    },
    {
      name: "the HPA's rate limit: from 1 to 12 in steps of max(+100%, +4) per 15 s",
      start: 1,
      answers: [on(12), on(12), on(12)],
      expected: [5, 10, 12],
    },
    {
      name: "the 10% tolerance: at 12, answers of 13 and 11 leave 12; 14 (ratio 1.17) lands",
      start: 12,
      answers: [on(13), on(11), on(14)],
      expected: [12, 12, 14],
    },
    {
      name: "hpaTolerance 0: at 12, an answer of 13 lands",
      settings: { ...SOLO, tolerance: { up: 0, down: 0 } },
      start: 12,
      answers: [on(13)],
      expected: [13],
    },
    {
      name: "a decision down from 6 to 3 lands after the HPA's 60 s damping window, not the pool's 300 s again (regression: double stabilization)",
      start: 6,
      answers: [on(6), ...Array.from({ length: 6 }, () => on(3))],
      // The t = 0 answer of 6 leaves the window (strictly newer than now − 60) at t = 60.
      expected: [6, 6, 6, 6, 3, 3, 3],
    },
    {
      name: "queue-time fallback off: the decision from 6 to 3 lands at the next poll",
      settings: landingSettings(
        minimalPool({
          scaling: { minReplicas: 0, maxReplicas: 20, keda: { prometheusFallback: false } },
        }),
      )[0] as LandingSettings,
      start: 6,
      answers: [on(6), on(3)],
      expected: [6, 3],
    },
    {
      name: "inactive: the HPA keeps its minimum of 1 until KEDA's cooldown (one 15 s poll after the last active answer) drops it to 0, not the idle window again (regression)",
      start: 1,
      answers: [on(1), off, off, off],
      // Last active at t = 0; 0 once 0 + 15 < t, i.e. at t = 30 (the third poll).
      expected: [1, 1, 0, 0],
    },
    {
      name: "never active since it was created: 0 at the next poll (initialCooldownPeriod 0)",
      start: 2,
      answers: [off, off],
      expected: [2, 0],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(polls(row.settings ?? SOLO, row.start, row.answers)).to.deep.equal(row.expected);
    });
  }

  it("engine hpa: the HPA alone on the desired metric, never below 1", () => {
    const policy = minimalPool({ scaling: { engine: "hpa", minReplicas: 1, maxReplicas: 8 } });
    const [s] = landingSettings(policy) as [LandingSettings];
    expect(s.keda).to.equal(false);
    expect(polls(s, 3, [on(0), on(0)]).every((r) => r >= 1)).to.equal(true);
  });
});

describe("keda/landing: a pool's Deployments with the answers' safety floors", () => {
  function landing(policy: Policy, initial = { spot: 0, onDemand: 0 }) {
    const landed: Landed[] = [];
    return { sink: new ClusterLanding(policy, initial, (l) => landed.push(l)), landed };
  }

  it("a held decision below what runs answers what runs: the cluster keeps it (regression: the demo applied the decision)", () => {
    const { sink, landed } = landing(KEDA_POOL, { spot: 0, onDemand: 4 });
    sink.publish(
      poolDecision({
        desired: { spot: 0, onDemand: 1 },
        held: true,
        ready: { spot: 0, onDemand: 4 },
        pendingRequests: 0,
      }),
    );
    expect(landed[0]!.replicas).to.deep.equal({ spot: 0, onDemand: 4 });
    expect(sink.current()).to.deep.equal({ spot: 0, onDemand: 4 });
  });

  it("a Spot pool: each Deployment lands on its own answer", () => {
    const policy = minimalPool({
      scaling: { minReplicas: 0, maxReplicas: 20 },
      capacity: { provider: "eks", spot: { enabled: true, onDemandBase: 1 } },
    });
    const { sink, landed } = landing(policy, { spot: 4, onDemand: 1 });
    sink.publish(
      poolDecision({
        desired: { spot: 6, onDemand: 1 },
        ready: { spot: 4, onDemand: 1 },
        pendingRequests: 3,
      }),
    );
    expect(landed[0]!.replicas).to.deep.equal({ spot: 6, onDemand: 1 });
    expect(landed[0]!.reasons).to.have.length(2);
  });
});

describe("keda/landing: the demo's cluster moves where KEDA and the HPA land", () => {
  it("over the demo's 2 h day, the simulated cluster runs what the HPA set, and that differs from the decision while the HPA's scale-down window holds", async function () {
    this.timeout(120_000);
    const policy = minimalPool({ scaling: { minReplicas: 1, maxReplicas: 8, syncPeriod: "15s" } });
    const ref = { namespace: policy.metadata.namespace, name: policy.metadata.name };
    const capacity = poolCapacity(policy);
    const run = createPoolRun(policy, parseTraceSpec(DEFAULT_DEMO_TRACE, 5), {
      seed: 5,
      repeat: true,
      capacityPerReplica: capacity.perReplica,
    });
    const T0 = DEFAULT_START_EPOCH;
    const clock = new ManualClock(T0);
    const ports = createSimulatedPorts(run, ref, T0);
    const start = run.replicaCounts();
    const landed: Landed[] = [];
    const sink = new ClusterLanding(
      policy,
      { spot: start.ready.spot, onDemand: start.ready.onDemand },
      (l) => {
        landed.push(l);
        ports.actuate(l.decision.at, l.replicas, l.reasons.join("; "));
      },
    );
    const decisions = new RecordingSink();
    const loop = new ControlLoop(
      { metrics: ports.metrics, cluster: ports.cluster, sinks: [sink, decisions], clock },
      { capacityOf: () => capacity },
    );
    loop.setPool(ref, policy);
    const gaps: number[] = [];
    for (let t = 0; t < 7200; t += 15) {
      await clock.advance(15);
      const l = landed.at(-1)!;
      const counts = run.replicaCounts();
      // The cluster reconciles to what the HPA set, not to the decision.
      expect(totalOf(counts.ready) + totalOf(counts.starting) + totalOf(counts.pending)).to.equal(
        totalOf(l.replicas),
      );
      gaps.push(totalOf(l.replicas) - totalOf(l.decision.decision.desired));
    }
    await loop.stop();
    expect(decisions.decisions.length).to.be.above(400);
    // Up: the HPA follows each decision within its rate limit and the tolerance (never
    // more than a replica short below 10); down: it holds the higher answers for 300 s.
    expect(Math.max(...gaps), "the HPA holding a scale-down").to.be.at.least(1);
    expect(Math.min(...gaps)).to.be.at.least(-1);
  });
});
