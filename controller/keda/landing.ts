import { replicaBounds } from "../kube/render/replica-split.js";
import { renderedBehavior } from "../kube/render/scaling.js";
import { deploymentsOf } from "../kube/render/triton.js";
import type { DecisionSink, PoolDecision } from "../loop/ports.js";
import type { Policy } from "../policy/index.js";
import {
  type Behavior,
  type BehaviorState,
  INITIAL_BEHAVIOR_STATE,
  recordScaleEvent,
} from "../scaling/behavior.js";
import { kedaCooldownSeconds } from "../scaling/fallback.js";
import { reconcileHpa } from "../scaling/hpa.js";
import { type ByCapacity, type CapacityType, formatNumber } from "../scaling/types.js";
import { answerFor, TARGET_PER_REPLICA } from "./answer.js";
import { DEFAULT_HPA_TOLERANCE, type HpaTolerance, hpaExternalReplicas } from "./hpa.js";

/**
 * What the cluster lands on: the replicas KEDA and the HPA it creates set on each of a
 * pool's Deployments from the external scaler's answers, so that `demo` (and tests) move
 * the simulated cluster as a cluster would, not straight to the decision.
 *
 * Engine keda, per ScaledObject (render's bounds, cooldownPeriod one polling interval, the
 * rendered HPA behavior that passes the decision through, `keda.hpaTolerance`), at each
 * poll:
 * 1. the answer is the one GetMetrics / IsActive give (keda/answer.ts: the decision for
 *    that Deployment with the held and busy floors);
 * 2. KEDA (scale_scaledobjects.go): active at 0 replicas → max(minReplicaCount, 1), and
 *    lastActiveTime stamped while active; inactive with minReplicaCount 0 → 0 once
 *    cooldownPeriod has passed since lastActiveTime (straight, past the HPA's behavior);
 *    below minReplicaCount → minReplicaCount;
 * 3. otherwise, at 1 replica or more, one HPA sync (scaling/hpa.ts `reconcileHpa`): the
 *    External AverageValue metric, KEDA's milli-units and the tolerance band
 *    (keda/hpa.ts `hpaExternalReplicas`), then the HPA's behavior (stabilization windows,
 *    rate limits) and [max(minReplicaCount, 1), maxReplicaCount].
 *
 * Engine hpa: the HPA per Deployment on the `desired` External metric (what
 * prometheus-adapter serves from the controller's gauge), step 3 alone, minReplicas ≥ 1.
 *
 * Worked example (keda, minReplicaCount 0, idleWindow 10 m, syncPeriod 15 s, HPA-default
 * behavior, queue-time fallback on): the scaler decides 0 once the pool was idle 10 min and
 * answers inactive; KEDA stamped lastActiveTime at the last active answer, so the
 * Deployment reaches 0 one cooldownPeriod (15 s) later, not 10 min later. The HPA keeps a
 * 60 s scale-down window of its own (render damps the queue-time trigger with it), not the
 * pool's 300 s over the decision's own: a decision down from 6 to 3 at t lands at t + 60 s.
 * At 12 replicas a decision of 13 (ratio 1.083, inside the 10% band) leaves 12.
 *
 * Not modelled: the ScaledObject's other triggers (the Prometheus queue-time fallback and
 * the schedules' cron triggers, of which the HPA would take the highest proposal), the
 * lag of prometheus-adapter's scrape for engine hpa, and the HPA's readiness handling
 * (External metrics have none).
 */

/** How one Deployment's scaler is configured (as render writes it). */
export interface LandingSettings {
  readonly deployment: string;
  readonly capacityType: CapacityType;
  /** The pool's only Deployment (Spot disabled): it carries the whole decision. */
  readonly solo: boolean;
  /** KEDA fronts the HPA (engine keda); else a plain HPA (engine hpa). */
  readonly keda: boolean;
  /** minReplicaCount (KEDA) or minReplicas (HPA). */
  readonly min: number;
  readonly max: number;
  /** KEDA's cooldownPeriod, seconds. */
  readonly cooldownSeconds: number;
  readonly behavior: Behavior;
  readonly tolerance: HpaTolerance;
}

/** Each Deployment's settings, from the pool as render writes its ScaledObjects or HPAs. */
export function landingSettings(policy: Policy): LandingSettings[] {
  const s = policy.spec.scaling;
  const keda = s.engine === "keda";
  const deployments = deploymentsOf(policy);
  const t = keda ? s.keda.hpaTolerance : undefined;
  // What render writes; with engine hpa and another scaler the HPA itself is the scaler and
  // the decision already models it (its windows included), so it lands as decided.
  const rendered = renderedBehavior(policy);
  const behavior: Behavior =
    keda || s.scaler === "tritonscale"
      ? rendered
      : {
          scaleUp: { ...rendered.scaleUp, stabilizationWindowSeconds: 0 },
          scaleDown: { ...rendered.scaleDown, stabilizationWindowSeconds: 0 },
        };
  return deployments.map((d) => {
    const { min, max } = replicaBounds(policy, d.type);
    return {
      deployment: d.name,
      capacityType: d.type,
      solo: deployments.length === 1,
      keda,
      min,
      max,
      cooldownSeconds: kedaCooldownSeconds(policy),
      behavior,
      tolerance: t === undefined ? DEFAULT_HPA_TOLERANCE : { up: t, down: t },
    };
  });
}

/** What KEDA and the HPA remember of one Deployment. */
export interface LandingState {
  /** The Deployment's spec.replicas. */
  readonly replicas: number;
  readonly hpa: BehaviorState;
  /** ScaledObject status.lastActiveTime (seconds). */
  readonly lastActiveTime?: number;
  /** When the ScaledObject was created (the first poll). */
  readonly createdAt?: number;
}

/** One poll's result. */
export interface LandingStep {
  readonly replicas: number;
  readonly state: LandingState;
  /** What moved it (or kept it), for logs. */
  readonly reason: string;
}

/** One poll of one Deployment's scaler with the external scaler's answer (see the module comment). */
export function landOnce(
  state: LandingState,
  settings: LandingSettings,
  answer: { readonly active: boolean; readonly replicas: number },
  now: number,
): LandingStep {
  const current = state.replicas;
  const createdAt = state.createdAt ?? now;
  let lastActiveTime = state.lastActiveTime;
  const kedaStep = (replicas: number, reason: string): LandingStep => ({
    replicas,
    reason,
    state: {
      replicas,
      hpa: recordScaleEvent(state.hpa, settings.behavior, now, current, replicas),
      createdAt,
      ...(lastActiveTime === undefined ? {} : { lastActiveTime }),
    },
  });
  if (settings.keda) {
    if (answer.active) {
      lastActiveTime = now;
      if (current === 0) {
        const to = Math.min(settings.max, Math.max(settings.min, 1));
        return kedaStep(to, `KEDA: active at 0 → ${to}`);
      }
    } else if (current > 0 && settings.min === 0) {
      // Never active since creation: KEDA's initialCooldownPeriod, 0 as render leaves it.
      const since = lastActiveTime ?? createdAt;
      const wait = lastActiveTime === undefined ? 0 : settings.cooldownSeconds;
      if (since + wait < now) return kedaStep(0, `KEDA: inactive past the cooldown → 0`);
    } else if (current < settings.min) {
      return kedaStep(settings.min, `KEDA: minReplicaCount ${settings.min}`);
    }
  }
  const step = reconcileHpa({
    now,
    current,
    min: Math.max(1, settings.min),
    max: settings.max,
    behavior: settings.behavior,
    state: state.hpa,
    proposal: () => {
      const replicas = hpaExternalReplicas({
        current,
        metricValue: answer.replicas,
        targetSize: TARGET_PER_REPLICA,
        tolerance: settings.tolerance,
      });
      return {
        ok: true,
        replicas,
        text: `metric ${formatNumber(answer.replicas)} per ${TARGET_PER_REPLICA} on ${current} → ${replicas}`,
      };
    },
  });
  const cooling =
    settings.keda && !answer.active && current > 0 && settings.min === 0
      ? `; KEDA: inactive, cooling down (${formatNumber(settings.cooldownSeconds)} s)`
      : "";
  return {
    replicas: step.total,
    reason: `HPA: ${step.reason}${cooling}`,
    state: {
      replicas: step.total,
      hpa: step.behavior,
      createdAt,
      ...(lastActiveTime === undefined ? {} : { lastActiveTime }),
    },
  };
}

/** Where a pool's Deployments stand, told to whoever moves the cluster. */
export interface Landed {
  /** The Deployments' replicas by capacity type. */
  readonly replicas: ByCapacity;
  /** Per Deployment, what moved it. */
  readonly reasons: readonly string[];
  /** The decision it followed. */
  readonly decision: PoolDecision;
}

/**
 * A DecisionSink that runs KEDA and the HPA over one pool's Deployments with each
 * decision's answers and tells `apply` where they land (see the module comment).
 */
export class ClusterLanding implements DecisionSink {
  private readonly settings: readonly LandingSettings[];
  private states: LandingState[];
  private last: ByCapacity;

  /** `initial`: the Deployments' replicas now, by capacity type. */
  constructor(
    policy: Policy,
    initial: ByCapacity,
    private readonly apply: (landed: Landed) => void,
  ) {
    this.settings = landingSettings(policy);
    const total = initial.spot + initial.onDemand;
    this.states = this.settings.map((s) => ({
      replicas: s.solo ? total : initial[s.capacityType],
      hpa: INITIAL_BEHAVIOR_STATE,
    }));
    this.last = { ...initial };
  }

  /** The Deployments' replicas now, by capacity type. */
  current(): ByCapacity {
    return { ...this.last };
  }

  publish(d: PoolDecision): void {
    const replicas = { spot: 0, onDemand: 0 };
    const reasons: string[] = [];
    this.states = this.settings.map((s, i) => {
      const answer = s.keda
        ? answerFor(s.capacityType, d, s.solo)
        : {
            active: true,
            replicas: s.solo
              ? d.decision.desired.spot + d.decision.desired.onDemand
              : d.decision.desired[s.capacityType],
          };
      const step = landOnce(this.states[i]!, s, answer, d.at);
      replicas[s.capacityType] += step.replicas;
      reasons.push(`${s.deployment}: ${step.reason}`);
      return step.state;
    });
    this.last = replicas;
    this.apply({ replicas, reasons, decision: d });
  }
}
