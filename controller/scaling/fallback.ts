import type { Policy } from "../policy/index.js";
import {
  type Behavior,
  type BehaviorState,
  behaviorFromPolicy,
  INITIAL_BEHAVIOR_STATE,
  recordScaleEvent,
} from "./behavior.js";
import { calculateReplicas, HPA_DEFAULT_TOLERANCE, type HpaMetric, reconcileHpa } from "./hpa.js";
import { INITIAL_SPOT_STATE, type SpotState, splitCapacity } from "./spot.js";
import { TRITONSCALE_TUNING } from "./tritonscale.js";
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
 * The `fallback` scaler: what a pool's rendered KEDA ScaledObject (engine keda) does while
 * the tritonscale controller is down, so that its cost is known. The settings come from
 * {@link kedaFallbackTrigger}, which kube/render uses to render the same trigger (one source
 * of truth).
 *
 * The ScaledObject has the external trigger (tritonscale) and, with
 * `spec.scaling.keda.prometheusFallback` (the default), a prometheus trigger on queue time:
 * value = mean queue time per request (ms) × serving replicas, AverageValue target = the
 * queue-time budget ({@link queueTimeBudgetMs}), activation above 0; KEDA's `fallback`
 * (replicas max(1, minReplicas), behavior currentReplicasIfHigher).
 *
 * With the controller unreachable the external trigger errors, every poll and every HPA
 * read. Then:
 * - KEDA's poll (every pollingInterval = the pool's syncPeriod): the queue-time trigger is
 *   active when its value > 0. Active at 0 replicas → max(minReplicas, 1) — but at 0
 *   replicas the query has no series (no pod to scrape), so a pool at 0 stays at 0 while
 *   the controller is down (KEDA's fallback does not scale 0 → 1, KEDA 7239). With a
 *   trigger erroring and fallback.replicas ≠ 0, KEDA never deactivates to 0.
 * - The HPA KEDA created (every 15 s) takes the largest proposal of its metrics; one of
 *   them fails, and the HPA does not scale when some metrics fail and the rest say scale
 *   down (autoscaling/v2 `computeReplicasForMetrics`): so the queue-time trigger can only
 *   add replicas — the pool ratchets up to what the worst queueing so far asked for and
 *   stays there until the controller is back. Scale-ups follow the pool's `scaleUp`
 *   behavior and `keda.hpaTolerance` (default 0.1).
 *
 * Not modelled: the cron triggers of the pool's schedules; and KEDA #5914 (an unreachable
 * external scaler can blank the other triggers' metrics too, which would freeze the pool
 * instead). With `prometheusFallback: false` nothing but KEDA's fallback replicas applies.
 *
 * Worked example (SLO 85 ms → budget 42.5 ms, 3 replicas):
 *   queue 60 ms → value 180 → ceil(180 / 42.5) = 5 → 3 → 5 (a scale-up: applied)
 *   queue 3 ms at 5 → value 15 → ceil(0.35) = 1 < 5 → keep 5 (a scale-down: refused)
 */

/** The KEDA prometheus trigger backing up the external scaler, as kube/render renders it. */
export interface KedaFallbackTrigger {
  /** AverageValue target per replica: the queue-time budget, ms. */
  readonly thresholdMs: number;
  /** Active when the value is above this. */
  readonly activationThreshold: number;
  /** KEDA's pollingInterval, seconds: the pool's syncPeriod, whole and at least 1. */
  readonly pollingIntervalSeconds: number;
  /** KEDA's `fallback.replicas` for the pool as a whole: max(1, minReplicas). */
  readonly fallbackReplicas: number;
  /** KEDA's `fallback.failureThreshold`. */
  readonly failureThreshold: number;
}

/** The ScaledObject's `fallback.failureThreshold` (rendered and simulated). */
export const KEDA_FALLBACK_FAILURE_THRESHOLD = 3;

/**
 * The queue time per request (ms) past which the fallback trigger adds replicas: the share of
 * the SLO past which the tritonscale scaler treats Ready replicas as past their capacity
 * (TRITONSCALE_TUNING.queueDelaySloShare, 0.5), and at least the longest
 * maxQueueDelayMicroseconds of the models, since a lightly loaded batcher waits that long
 * on purpose. Example: SLO 85 ms, max queue delay 2 ms → 42.5 ms.
 */
export function queueTimeBudgetMs(policy: Policy): number {
  const batchingMs = policy.spec.models.reduce(
    (most, m) => Math.max(most, (m.batching?.maxQueueDelayMicroseconds ?? 0) / 1000),
    0,
  );
  return Math.max(TRITONSCALE_TUNING.queueDelaySloShare * policy.spec.slo.latencyP99Ms, batchingMs);
}

/** KEDA's pollingInterval for a pool's ScaledObject: its syncPeriod, whole seconds, at least 1. */
export function kedaPollingIntervalSeconds(policy: Policy): number {
  return Math.max(1, Math.round(policy.spec.scaling.syncPeriodSeconds));
}

/**
 * KEDA's cooldownPeriod for a pool's ScaledObject: one polling interval. The controller
 * answers IsActive false only once its own scaler has decided zero (after the pool's
 * idleWindow, or the keep-alive it learned from idle gaps, with nothing pending), so the
 * cooldown only confirms that answer over one more poll. With cooldownPeriod = idleWindow,
 * as before, a pool reached zero after about twice its idleWindow. A trigger error never
 * leads to zero: with `fallback.replicas` ≠ 0, KEDA holds an erroring ScaledObject at its
 * fallback replicas instead of deactivating it.
 */
export function kedaCooldownSeconds(policy: Policy): number {
  return kedaPollingIntervalSeconds(policy);
}

/**
 * Scale-down stabilization the rendered HPA keeps of its own when a raw-signal trigger
 * (the Prometheus queue-time fallback) feeds it beside the controller's decision: enough
 * to damp that trigger's proposals between HPA syncs, short next to a cold start.
 */
export const HPA_FALLBACK_DAMPING_SECONDS = 60;

/**
 * The behavior of the HPA that decides on the controller's answer: the one KEDA creates for
 * a ScaledObject (engine keda), or the plain HPA of scaler `tritonscale` (engine hpa, the
 * `desired` External metric). The controller's decision already went through the pool's
 * scaleUp / scaleDown (its stabilization windows and rate limits), so the HPA passes it
 * through: no scale-up window; a scale-down window only while a queue-time trigger also
 * feeds the HPA (at most {@link HPA_FALLBACK_DAMPING_SECONDS}, never more than the pool's);
 * the pool's rate limits kept, which bind only where the decision's own would. Before, the
 * HPA applied the pool's windows a second time: a decision down from 6 to 3 at t landed at
 * t + the scale-down window, after the decision itself had waited that window.
 *
 * Worked example (HPA-default rules: scale-down window 300 s, 100% per 15 s; the queue-time
 * fallback on): rendered scale-down window min(300, 60) = 60 s, scale-up window 0 s.
 */
export function decisionHpaBehavior(policy: Policy): Behavior {
  const b = behaviorFromPolicy(policy);
  const sc = policy.spec.scaling;
  const queueTrigger = sc.engine === "keda" ? sc.keda.prometheusFallback : true;
  const downWindow = queueTrigger
    ? Math.min(b.scaleDown.stabilizationWindowSeconds, HPA_FALLBACK_DAMPING_SECONDS)
    : 0;
  return {
    scaleUp: { ...b.scaleUp, stabilizationWindowSeconds: 0 },
    scaleDown: { ...b.scaleDown, stabilizationWindowSeconds: downWindow },
  };
}

/** The fallback trigger's settings for a pool (see {@link KedaFallbackTrigger}). */
export function kedaFallbackTrigger(policy: Policy): KedaFallbackTrigger {
  return {
    thresholdMs: queueTimeBudgetMs(policy),
    activationThreshold: 0,
    pollingIntervalSeconds: kedaPollingIntervalSeconds(policy),
    fallbackReplicas: Math.max(1, policy.spec.scaling.minReplicas),
    failureThreshold: KEDA_FALLBACK_FAILURE_THRESHOLD,
  };
}

/** The fallback scaler's memory: KEDA's and its HPA's. */
export interface FallbackState {
  /** The target's spec.replicas: the last decided total (before the Spot split). */
  readonly total: number;
  readonly behavior: BehaviorState;
  readonly spot: SpotState;
  /** When KEDA last polled the triggers. */
  readonly lastPollAt?: number;
}

/**
 * The trigger's query as the snapshot shows it: mean queue time per request (ms) × Ready
 * replicas. An idle pool with Ready replicas has no queue time to average and the recording
 * rule reads 0 there (not NaN): so a missing queue time with a fresh arrival rate reads 0.
 * At 0 Ready replicas there is no series: missing.
 */
function queuePressure(staleAfterSeconds: number): HpaMetric {
  return {
    label: "queue time × replicas",
    source: "external",
    read: (s: LoadSnapshot): Signal | undefined => {
      const ready = totalOf(s.replicas.ready);
      if (ready === 0) return undefined;
      const q = s.queueDelayMs;
      if (q !== undefined) return { value: q.value * ready, ageSeconds: q.ageSeconds };
      const rate = readSignal("arrival rate", s.arrivalRate, staleAfterSeconds);
      return rate.ok ? { value: 0, ageSeconds: rate.ageSeconds } : undefined;
    },
  };
}

/** Creates the `fallback` scaler for a pool (see the module comment). */
export function createFallbackScaler(policy: Policy): Scaler<FallbackState> {
  const trigger = kedaFallbackTrigger(policy);
  const sc = policy.spec.scaling;
  const stale = sc.staleAfterSeconds;
  const metric = queuePressure(stale);
  // The HPA KEDA created, as render writes it (scale-ups are all it does while the controller is down).
  const behavior: Behavior = decisionHpaBehavior(policy);
  const tolerance = sc.keda.hpaTolerance ?? HPA_DEFAULT_TOLERANCE;
  const min = Math.max(1, sc.minReplicas);
  const max = sc.maxReplicas;
  const threshold = formatNumber(trigger.thresholdMs);
  return {
    name: "fallback",
    periodSeconds: 15,
    initialState: (current: ByCapacity): FallbackState => ({
      total: totalOf(current),
      behavior: INITIAL_BEHAVIOR_STATE,
      spot: INITIAL_SPOT_STATE,
    }),
    decide(snapshot, state): ScalingDecision<FallbackState> {
      const now = snapshot.now;
      const current = state.total;
      const polled =
        state.lastPollAt === undefined || now - state.lastPollAt >= trigger.pollingIntervalSeconds;
      const parts: string[] = [];
      let total = current;
      let held = false;
      let behaviorState = state.behavior;
      const reading = readSignal(metric.label, metric.read(snapshot), stale);
      if (polled) {
        const active = reading.ok && reading.value > trigger.activationThreshold;
        if (active && current === 0) {
          total = Math.min(max, min);
          parts.push(
            `${metric.label} ${formatNumber(reading.value)} > activationThreshold ${trigger.activationThreshold}: KEDA activates 0 → ${total}`,
          );
        } else if (current === 0) {
          parts.push(
            reading.ok
              ? `${metric.label} ${formatNumber(reading.value)} ≤ activationThreshold ${trigger.activationThreshold}: stays at 0`
              : `${reading.why}: at 0 replicas with the external trigger down, nothing activates (KEDA's fallback does not scale 0 → 1, KEDA 7239)`,
          );
        }
        if (total !== current) {
          behaviorState = recordScaleEvent(behaviorState, behavior, now, current, total);
        }
      }
      if (total === current && current > 0) {
        const step = reconcileHpa({
          now,
          current,
          min,
          max,
          behavior,
          state: behaviorState,
          proposal: () => {
            const p = calculateReplicas(
              metric,
              trigger.thresholdMs,
              tolerance,
              snapshot,
              current,
              stale,
            );
            if (!p.ok || p.replicas >= current) return p;
            return {
              ok: true,
              replicas: current,
              text: `${p.text}, but the external trigger fails: the HPA does not scale down while a metric fails; keep ${current}`,
            };
          },
        });
        total = step.total;
        behaviorState = step.behavior;
        held = step.held;
        parts.push(`HPA (budget ${threshold} ms per replica): ${step.reason}`);
      }
      const split = splitCapacity(total, policy, snapshot.replicas, state.spot);
      if (split.note !== "") parts.push(split.note);
      return {
        desired: split.desired,
        active: total > 0,
        held,
        reason: parts.join("; "),
        state: {
          total,
          behavior: behaviorState,
          spot: split.state,
          lastPollAt: polled ? now : state.lastPollAt,
        },
        terms: { queueTimeBudgetMs: trigger.thresholdMs },
      };
    },
  };
}
