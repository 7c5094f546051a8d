import type { Policy } from "../policy/index.js";
import {
  type Behavior,
  type BehaviorState,
  HPA_DEFAULT_BEHAVIOR,
  INITIAL_BEHAVIOR_STATE,
  recordScaleEvent,
} from "./behavior.js";
import {
  calculateReplicas,
  HPA_DEFAULT_TOLERANCE,
  type HpaMetric,
  METRICS,
  reconcileHpa,
} from "./hpa.js";
import { INITIAL_SPOT_STATE, type SpotState, splitCapacity } from "./spot.js";
import {
  type ByCapacity,
  formatNumber,
  readSignal,
  type Scaler,
  type ScalingDecision,
  totalOf,
} from "./types.js";

/**
 * A KEDA ScaledObject with one trigger, as a baseline: KEDA's own loop for 0 ↔ 1 and the
 * HPA it creates for 1 ↔ N (pkg/scaling/executor/scale_scaledobjects.go).
 *
 * Every pollingInterval (30 s) KEDA reads the trigger: active when value >
 * activationThreshold.
 * - Active at 0 replicas → scale to max(minReplicaCount, 1) and stamp lastActiveTime.
 * - Active above 0 → stamp lastActiveTime (the HPA does the rest).
 * - Inactive with minReplicaCount 0 and replicas > 0 → once lastActiveTime + cooldownPeriod
 *   (300 s) is past (or, never active, creation + initialCooldownPeriod), straight to 0 from
 *   whatever count, bypassing the HPA's scale-down behavior.
 * - Trigger error (metric missing or stale) without a fallback → no change: KEDA marks the
 *   ScaledObject not Ready ("Triggers defined in ScaledObject are not working correctly")
 *   and neither activates nor deactivates; the HPA's metric query fails too, so it keeps
 *   the count. We model no `fallback` (KEDA's default), so missing data holds: it never
 *   scales down and never to zero. (With a Prometheus trigger and ignoreNullValues=true,
 *   KEDA's default, an *empty* result reads as 0 instead; that is a different failure
 *   (KEDA 5009/3064) the simulator can produce by reporting 0 rather than no value.)
 * Every HPA sync (15 s, hence this scaler's period) the HPA KEDA created runs on the
 * trigger as an External metric with an AverageValue target = threshold per replica,
 * minReplicas max(minReplicaCount, 1), the HPA's default behavior (hpa.ts).
 *
 * Worked example (threshold 4, activationThreshold 0, cooldown 300 s, minReplicaCount 0):
 *   t=0    0 replicas, 6 pending > 0 → active → 1 replica
 *   t=15   HPA: 6 / 4 per replica → ceil(1.5) = 2 → 2
 *   t=30…  queue drains, 0 pending → inactive; the HPA wants ceil(0/4) = 0 → its minimum 1,
 *          held at 2 by the 300 s scale-down window
 *   t=330  still inactive, lastActiveTime 0 + 300 < 330 → KEDA sets 0 at once.
 */

/** A KEDA ScaledObject baseline with one trigger. */
export interface KedaOptions {
  /** The scaler's name in reports, e.g. `keda-queue`. */
  readonly name: string;
  /** The trigger's metric, served to the HPA as an External AverageValue metric. */
  readonly metric: HpaMetric;
  /** The trigger's `threshold`: target value per replica. */
  readonly threshold: number;
  /** The trigger's `activationThreshold`: active when value > this. @default 0 */
  readonly activationThreshold?: number;
  /** `pollingInterval` in seconds. @default 30 */
  readonly pollingIntervalSeconds?: number;
  /** `cooldownPeriod` in seconds. @default 300 */
  readonly cooldownPeriodSeconds?: number;
  /** `initialCooldownPeriod` in seconds, counted from the first decision (creation). @default 0 */
  readonly initialCooldownPeriodSeconds?: number;
  /** The HPA's tolerance. @default 0.1 */
  readonly tolerance?: number;
  /** The HPA's behavior (`advanced.horizontalPodAutoscalerConfig.behavior`). @default HPA_DEFAULT_BEHAVIOR */
  readonly behavior?: Behavior;
}

/** KEDA's and its HPA's memory between decisions. */
export interface KedaState {
  /** The target's spec.replicas: the last decided total (before the Spot split). */
  readonly total: number;
  readonly behavior: BehaviorState;
  readonly spot: SpotState;
  /** When the ScaledObject was created: the first decision's time. */
  readonly createdAt?: number;
  /** When KEDA last polled the trigger. */
  readonly lastPollAt?: number;
  /** When the trigger was last seen active (ScaledObject status.lastActiveTime). */
  readonly lastActiveTime?: number;
  /** The trigger's activity at the last poll (KEDA's IsActive). */
  readonly active: boolean;
}

/**
 * The `keda-queue` baseline: a Prometheus-style trigger on the pool's pending requests
 * (`sum(nv_inference_pending_request_count)`), threshold 4 per replica, activation above 0,
 * KEDA's defaults otherwise. Four queued requests per replica is half a batch at Triton's
 * usual maxBatchSize 8: a replica with more than that waiting is falling behind.
 */
export const KEDA_QUEUE: KedaOptions = {
  name: "keda-queue",
  metric: METRICS.pendingRequests,
  threshold: 4,
  activationThreshold: 0,
};

/**
 * Creates the KEDA baseline for a pool: minReplicaCount and maxReplicaCount are the
 * policy's min / maxReplicas; everything else is KEDA's and the HPA's defaults unless
 * `options` says otherwise (cooldownPeriod 300 s, not the policy's idleWindow); no cron
 * trigger for the policy's schedules.
 */
export function createKedaScaler(policy: Policy, options: KedaOptions): Scaler<KedaState> {
  if (!(options.threshold > 0)) {
    throw new Error(`KEDA ${options.name}: threshold must be > 0 (got ${options.threshold})`);
  }
  const activation = options.activationThreshold ?? 0;
  const polling = options.pollingIntervalSeconds ?? 30;
  const cooldown = options.cooldownPeriodSeconds ?? 300;
  const initialCooldown = options.initialCooldownPeriodSeconds ?? 0;
  const tolerance = options.tolerance ?? HPA_DEFAULT_TOLERANCE;
  const behavior = options.behavior ?? HPA_DEFAULT_BEHAVIOR;
  const label = options.metric.label;
  const sc = policy.spec.scaling;
  const minCount = sc.minReplicas;
  const max = sc.maxReplicas;
  return {
    name: options.name,
    periodSeconds: 15,
    initialState: (current: ByCapacity): KedaState => ({
      total: totalOf(current),
      behavior: INITIAL_BEHAVIOR_STATE,
      spot: INITIAL_SPOT_STATE,
      active: false,
    }),
    decide(snapshot, state): ScalingDecision<KedaState> {
      const now = snapshot.now;
      const current = state.total;
      const createdAt = state.createdAt ?? now;
      const reading = readSignal(label, options.metric.read(snapshot), sc.staleAfterSeconds);
      const polled = state.lastPollAt === undefined || now - state.lastPollAt >= polling;

      let total = current;
      let lastActiveTime = state.lastActiveTime;
      let active = state.active;
      let held = false;
      let kedaActed = false;
      const parts: string[] = [];

      if (polled) {
        active = reading.ok && reading.value > activation;
        if (!reading.ok) {
          held = true;
          parts.push(
            `${reading.why}: KEDA trigger error without fallback, keeping ${current} (never scales down or to zero without data)`,
          );
        } else if (active) {
          lastActiveTime = now;
          if (current === 0) {
            total = Math.min(max, Math.max(minCount, 1));
            kedaActed = true;
            parts.push(
              `${label} ${formatNumber(reading.value)} > activationThreshold ${formatNumber(activation)}: KEDA activates 0 → ${total}`,
            );
          }
        } else if (current > 0 && minCount === 0) {
          const since = lastActiveTime ?? createdAt;
          const wait = lastActiveTime === undefined ? initialCooldown : cooldown;
          const value = formatNumber(reading.value);
          if (since + wait < now) {
            total = 0;
            kedaActed = true;
            parts.push(
              lastActiveTime === undefined
                ? `${label} ${value} ≤ activationThreshold ${formatNumber(activation)} and never active since creation: KEDA deactivates ${current} → 0`
                : `${label} ${value} ≤ activationThreshold ${formatNumber(activation)} for ${formatNumber(now - since)} s > cooldownPeriod ${formatNumber(cooldown)} s: KEDA deactivates ${current} → 0`,
            );
          } else {
            parts.push(
              `${label} ${value} ≤ activationThreshold ${formatNumber(activation)}: cooling down, ${formatNumber(since + wait - now)} s of the ${formatNumber(wait)} s cooldown left`,
            );
          }
        } else if (current < minCount) {
          total = minCount;
          kedaActed = true;
          parts.push(`KEDA restores minReplicaCount ${minCount}`);
        }
      }

      let behaviorState = state.behavior;
      if (kedaActed) {
        behaviorState = recordScaleEvent(behaviorState, behavior, now, current, total);
      } else if (current > 0) {
        const step = reconcileHpa({
          now,
          current,
          min: Math.max(1, minCount),
          max,
          behavior,
          state: behaviorState,
          proposal: () =>
            calculateReplicas(
              { ...options.metric, source: "external" },
              options.threshold,
              tolerance,
              snapshot,
              current,
              sc.staleAfterSeconds,
            ),
        });
        total = step.total;
        behaviorState = step.behavior;
        held = held || step.held;
        // The poll already explained a missing metric; the HPA would repeat it.
        if (!(polled && !reading.ok)) parts.push(`HPA: ${step.reason}`);
      } else if (!polled) {
        parts.push(
          reading.ok
            ? `at 0 replicas, waiting for KEDA's next poll (every ${polling} s)`
            : `${reading.why}: at 0 replicas, nothing to do`,
        );
        held = !reading.ok;
      } else if (reading.ok) {
        parts.push(
          `${label} ${formatNumber(reading.value)} ≤ activationThreshold ${formatNumber(activation)}: stays at 0`,
        );
      }

      const split = splitCapacity(total, policy, snapshot.replicas, state.spot);
      if (split.note !== "") parts.push(split.note);
      return {
        desired: split.desired,
        active: total > 0 || active,
        held,
        reason: parts.join("; "),
        state: {
          total,
          behavior: behaviorState,
          spot: split.state,
          createdAt,
          lastPollAt: polled ? now : state.lastPollAt,
          lastActiveTime,
          active,
        },
      };
    },
  };
}
