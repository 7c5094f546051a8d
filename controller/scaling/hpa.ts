import type { Policy } from "../policy/index.js";
import {
  type Behavior,
  type BehaviorState,
  HPA_DEFAULT_BEHAVIOR,
  INITIAL_BEHAVIOR_STATE,
  normalize,
  recordScaleEvent,
  seedRecommendation,
} from "./behavior.js";
import { INITIAL_SPOT_STATE, type SpotState, splitCapacity } from "./spot.js";
import {
  type ByCapacity,
  formatNumber,
  type LoadSnapshot,
  readSignal,
  type Scaler,
  type ScalingDecision,
  type Signal,
  totalOf,
} from "./types.js";

/**
 * The Kubernetes HorizontalPodAutoscaler (autoscaling/v2) on one metric, as a baseline.
 *
 * Every sync period (15 s) the HPA controller:
 * 1. does nothing when the target sits at 0 replicas (HPA minReplicas is at least 1 here,
 *    so scaling is disabled there); goes straight to maxReplicas / minReplicas when the
 *    current count is outside them;
 * 2. computes a proposal from the metric (replica calculator, below); an error (metric
 *    missing: no sample, or older than the pool's staleAfter, as a metrics pipeline with a
 *    staleness cut-off returns nothing) means no change (condition ScalingActive=False);
 * 3. normalizes it with the behavior (behavior.ts: stabilization windows, then rate limits
 *    against the period-start count, then [min, max]).
 *
 * Replica calculator, for a per-pod metric averaged over Ready pods (Resource Utilization
 * or Pods AverageValue): ratio = value / target; within the tolerance (|1 − ratio| ≤ 0.1)
 * nothing changes; else desired = ceil(ratio × ready). Pods not Ready (starting, or pending
 * a node) count as 0% of the target on a scale-up: the ratio is recomputed over ready +
 * unready pods, and if it then lands within the tolerance or below 1 nothing changes;
 * on a scale-down they are left out.
 *   Example: 3 ready at 0.95 GPU, target 0.7, 2 starting → ratio 1.357 > 1 with unready
 *   pods → new ratio 0.95×3 / (0.7×5) = 0.814 < 1 → no change (the starting pods absorb it).
 *   Without the 2 starting pods: ceil(1.357 × 3) = ceil(4.07) = 5.
 *
 * For an External metric with an AverageValue target (what KEDA hands the HPA), the total is
 * divided per pod: ratio = total / (target × pods), where pods is the Deployment's
 * status.replicas (every pod, Ready or not); within the tolerance → pods; else
 * desired = ceil(total / target).
 *   Example: 26 pending requests, target 4 per replica, 4 pods → ratio 1.625 → ceil(6.5) = 7.
 */

/** Where an HPA metric comes from and how it is averaged. */
export interface HpaMetric {
  /** Human name for reasons, e.g. `GPU utilization`. */
  readonly label: string;
  /**
   * `pods`: a per-pod value averaged over Ready pods (a Resource Utilization or Pods
   * metric); `external`: one total for the pool, averaged per pod by the HPA (an External
   * metric with an AverageValue target, as KEDA serves it).
   */
  readonly source: "pods" | "external";
  /** Reads the metric from a snapshot; undefined when the pipeline has no value. */
  readonly read: (snapshot: LoadSnapshot) => Signal | undefined;
}

/** Metrics the baselines scale on. */
/** The HPA's default tolerance (`--horizontal-pod-autoscaler-tolerance`): 10% either way. */
export const HPA_DEFAULT_TOLERANCE = 0.1;

export const METRICS = {
  /** Mean GPU utilization of Ready replicas, 0..1 (DCGM_FI_DEV_GPU_UTIL / 100). */
  gpuUtilization: {
    label: "GPU utilization",
    source: "pods",
    read: (s: LoadSnapshot) => s.gpuUtilization,
  },
  /** Requests waiting in the batchers' queues, summed over the pool (nv_inference_pending_request_count). */
  pendingRequests: {
    label: "pending requests",
    source: "external",
    read: (s: LoadSnapshot) => s.pending,
  },
  /** Requests per second arriving at the pool (rate of nv_inference_request_success + failure). */
  arrivalRate: {
    label: "arrival rate",
    source: "external",
    read: (s: LoadSnapshot) => s.arrivalRate,
  },
} as const satisfies Record<string, HpaMetric>;

/** An HPA baseline: one metric, one target. */
export interface HpaOptions {
  /** The scaler's name in reports, e.g. `hpa-gpu`. */
  readonly name: string;
  readonly metric: HpaMetric;
  /** Target value: per-pod average for `pods` metrics, per-replica AverageValue for `external`. */
  readonly target: number;
  /** Relative change below which nothing changes (`--horizontal-pod-autoscaler-tolerance`). @default 0.1 */
  readonly tolerance?: number;
  /** The HPA's behavior. @default HPA_DEFAULT_BEHAVIOR (the autoscaling/v2 defaults) */
  readonly behavior?: Behavior;
  /** Seconds between syncs (`--horizontal-pod-autoscaler-sync-period`). @default 15 */
  readonly syncPeriodSeconds?: number;
}

/** The HPA's memory between syncs. */
export interface HpaState {
  /** The target's spec.replicas: the last decided total (before the Spot split). */
  readonly total: number;
  readonly behavior: BehaviorState;
  readonly spot: SpotState;
}

/** The `hpa-gpu` baseline: GPU utilization, target 0.70 per Ready replica, HPA defaults. */
export const HPA_GPU: HpaOptions = {
  name: "hpa-gpu",
  metric: METRICS.gpuUtilization,
  target: 0.7,
};

/**
 * Creates the HPA baseline for a pool: its minReplicas is max(1, policy minReplicas) (an
 * HPA cannot hold 0), its maxReplicas the policy's. It is a stock HPA: its behavior and
 * tolerance come from `options` (the HPA defaults), not from the policy's
 * `scaleUp` / `scaleDown` / `tolerance` (tritonscale's; equal to them unless changed), and it
 * knows no schedules. Pass `behavior: behaviorFromPolicy(policy)` for the HPA the policy
 * would render.
 */
export function createHpaScaler(policy: Policy, options: HpaOptions): Scaler<HpaState> {
  if (!(options.target > 0)) {
    throw new Error(`HPA ${options.name}: target must be > 0 (got ${options.target})`);
  }
  const tolerance = options.tolerance ?? HPA_DEFAULT_TOLERANCE;
  const behavior = options.behavior ?? HPA_DEFAULT_BEHAVIOR;
  const sc = policy.spec.scaling;
  const min = Math.max(1, sc.minReplicas);
  return {
    name: options.name,
    periodSeconds: options.syncPeriodSeconds ?? 15,
    initialState: (current: ByCapacity): HpaState => ({
      total: totalOf(current),
      behavior: INITIAL_BEHAVIOR_STATE,
      spot: INITIAL_SPOT_STATE,
    }),
    decide(snapshot, state): ScalingDecision<HpaState> {
      const step = reconcileHpa({
        now: snapshot.now,
        current: state.total,
        min,
        max: sc.maxReplicas,
        behavior,
        state: state.behavior,
        proposal: () =>
          calculateReplicas(
            options.metric,
            options.target,
            tolerance,
            snapshot,
            state.total,
            sc.staleAfterSeconds,
          ),
      });
      const split = splitCapacity(step.total, policy, snapshot.replicas, state.spot);
      const reason = [step.reason, split.note].filter((s) => s !== "").join("; ");
      return {
        desired: split.desired,
        active: totalOf(split.desired) > 0,
        held: step.held,
        reason,
        state: { total: step.total, behavior: step.behavior, spot: split.state },
      };
    },
  };
}

/** A replica calculator's answer: a proposal with its explanation, or why there is none. */
export type Proposal =
  | { readonly ok: true; readonly replicas: number; readonly text: string }
  | { readonly ok: false; readonly why: string };

/**
 * The HPA replica calculator for one metric (see the module comment). `current` is the
 * target's spec.replicas; Ready and not-Ready pods come from the snapshot.
 */
export function calculateReplicas(
  metric: HpaMetric,
  target: number,
  tolerance: number,
  snapshot: LoadSnapshot,
  current: number,
  staleAfterSeconds: number,
): Proposal {
  const reading = readSignal(metric.label, metric.read(snapshot), staleAfterSeconds);
  if (!reading.ok) return { ok: false, why: reading.why };
  const value = reading.value;
  const ready = totalOf(snapshot.replicas.ready);
  const unready = totalOf(snapshot.replicas.starting) + totalOf(snapshot.replicas.pending);
  const v = formatNumber(value);
  const tgt = formatNumber(target);

  if (metric.source === "external") {
    const pods = ready + unready;
    const ratio = pods > 0 ? value / (target * pods) : Number.POSITIVE_INFINITY;
    if (Math.abs(1 - ratio) <= tolerance) {
      return {
        ok: true,
        replicas: pods,
        text: `${metric.label} ${v} over ${pods} pods is within ${tolerance} of ${tgt} per replica: ${pods}`,
      };
    }
    const replicas = Math.ceil(value / target);
    return {
      ok: true,
      replicas,
      text: `${metric.label} ${v} / ${tgt} per replica → ${replicas}`,
    };
  }

  if (ready === 0) {
    return { ok: false, why: `${metric.label} has no Ready pod to average over` };
  }
  const ratio = value / target;
  if (!(unready > 0 && ratio > 1)) {
    if (Math.abs(1 - ratio) <= tolerance) {
      return {
        ok: true,
        replicas: current,
        text: `${metric.label} ${v} is within tolerance ${tolerance} of target ${tgt}: keep ${current}`,
      };
    }
    const replicas = Math.ceil(ratio * ready);
    return {
      ok: true,
      replicas,
      text: `${metric.label} ${v} / target ${tgt} × ${ready} ready = ${formatNumber(ratio * ready)} → ${replicas}`,
    };
  }
  // Scale-up with pods not Ready: they count as 0% of the target.
  const all = ready + unready;
  const newRatio = (value * ready) / (target * all);
  if (Math.abs(1 - newRatio) <= tolerance || newRatio < 1) {
    return {
      ok: true,
      replicas: current,
      text: `${metric.label} ${v} over ${ready} ready; counting ${unready} not-Ready pods as 0 gives ${formatNumber(newRatio)} of target ${tgt}: keep ${current}`,
    };
  }
  const replicas = Math.ceil(newRatio * all);
  return {
    ok: true,
    replicas,
    text: `${metric.label} ${v} over ${ready} ready, ${unready} not-Ready pods counted as 0: ${formatNumber(newRatio)} × ${all} → ${replicas}`,
  };
}

/** What one HPA sync needs. */
export interface HpaReconcileInput {
  readonly now: number;
  /** The target's spec.replicas. */
  readonly current: number;
  /** HPA minReplicas (at least 1). */
  readonly min: number;
  readonly max: number;
  readonly behavior: Behavior;
  readonly state: BehaviorState;
  /** The metric's proposal, computed only when the HPA gets that far. */
  readonly proposal: () => Proposal;
}

/** What one HPA sync did. */
export interface HpaReconcileResult {
  /** The target's replicas after the sync. */
  readonly total: number;
  readonly behavior: BehaviorState;
  /** True when the metric was missing and the HPA kept the count. */
  readonly held: boolean;
  readonly reason: string;
}

/** One HPA controller sync (`reconcileAutoscaler`), shared with the KEDA baseline. */
export function reconcileHpa(input: HpaReconcileInput): HpaReconcileResult {
  const { now, current, min, max, behavior } = input;
  const state = seedRecommendation(input.state, now, current);
  const done = (total: number, reason: string, held = false): HpaReconcileResult => ({
    total,
    behavior: recordScaleEvent(state, behavior, now, current, total),
    held,
    reason,
  });
  if (current === 0) {
    return done(0, "at 0 replicas: the HPA does not scale a target at 0 (scaling disabled)");
  }
  if (current > max) return done(max, `${current} replicas above maxReplicas ${max} → ${max}`);
  if (current < min) return done(min, `${current} replicas below minReplicas ${min} → ${min}`);
  const p = input.proposal();
  if (!p.ok) {
    return done(
      current,
      `${p.why}: the HPA cannot compute a replica count and keeps ${current} (never scales down without data)`,
      true,
    );
  }
  const step = normalize(state, behavior, {
    now,
    current,
    desired: p.replicas,
    min,
    max,
  });
  const moved = step.replicas === current ? `keep ${current}` : `${current} → ${step.replicas}`;
  const reason = [p.text, ...step.notes, moved].join("; ");
  return {
    total: step.replicas,
    behavior: recordScaleEvent(step.state, behavior, now, current, step.replicas),
    held: false,
    reason,
  };
}
