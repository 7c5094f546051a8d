import type { Policy } from "../policy/index.js";
import { formatNumber } from "./types.js";

/**
 * Kubernetes HPA `behavior` (autoscaling/v2), as the HPA controller applies it, shared by
 * every scaler: stabilization windows over past recommendations, then rate limits computed
 * against the replica count at the start of the period.
 *
 * Faithful to the HPA controller (pkg/controller/podautoscaler/horizontal.go):
 * - `stabilize`: the recommendation is brought within [lowest recommendation of the
 *   scale-up window, highest recommendation of the scale-down window], both windows
 *   including the new recommendation; then the new (unstabilized) recommendation is
 *   recorded. A sample counts when strictly newer than `now - window`.
 * - `limitRate`: the period start is `current - added + removed` within the period (scale
 *   events strictly newer than `now - period`); with selectPolicy Max the larger of
 *   `start + pods` and `ceil(start × (1 + percent/100))` bounds a scale-up, the smaller of
 *   `start - pods` and `trunc(start × (1 - percent/100))` bounds a scale-down; then
 *   [min, max].
 *
 * Worked example with the HPA defaults (scale up: +100% or +4 pods per 15 s; scale down:
 * 300 s window, -100% per 15 s), syncing every 15 s, from 1 replica and a metric asking 40:
 *   t=0   start 1  → max(ceil(1 × 2), 1 + 4) = 5       → 5
 *   t=15  start 5  → max(ceil(5 × 2), 5 + 4) = 10      → 10 (the t=0 event is 15 s old: out)
 *   t=30  start 10 → max(20, 14) = 20                  → 20
 *   t=45  start 20 → max(40, 24) = 40                  → 40
 * Scaling down from 40 when the metric asks 10 at t=60: the highest recommendation in the
 * last 300 s is 40, so the HPA stays at 40 until t=345 (the t=45 sample leaves the window
 * after 300 s), then drops straight to 10 (−100% allows any drop).
 */

/**
 * One direction's limits: `behavior.scaleUp` or `behavior.scaleDown` with selectPolicy Max.
 * The one type for them: the scalers apply it, kube/render renders it as autoscaling/v2, and
 * a policy's `spec.scaling.scaleUp` / `scaleDown` is one (see {@link behaviorFromPolicy}).
 */
export interface ScalingRules {
  /** Seconds of recommendations the direction looks back over (HPA stabilizationWindowSeconds). */
  readonly stabilizationWindowSeconds: number;
  /** Pods policy: replicas added / removed per period; 0 means no Pods policy. */
  readonly maxPodsPerPeriod: number;
  /** Percent policy: percent of the period-start replicas per period; 0 means no Percent policy. */
  readonly maxPercentPerPeriod: number;
  /** Period both policies apply to, in seconds (HPA periodSeconds). */
  readonly periodSeconds: number;
}

/** Both directions of an HPA `behavior`. */
export interface Behavior {
  readonly scaleUp: ScalingRules;
  readonly scaleDown: ScalingRules;
}

/**
 * The HPA's default behavior (autoscaling/v2): scale up with no stabilization by the larger
 * of +100% and +4 pods per 15 s; scale down to the highest recommendation of the last
 * 300 s, by up to 100% per 15 s.
 */
export const HPA_DEFAULT_BEHAVIOR: Behavior = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    maxPodsPerPeriod: 4,
    maxPercentPerPeriod: 100,
    periodSeconds: 15,
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    maxPodsPerPeriod: 0,
    maxPercentPerPeriod: 100,
    periodSeconds: 15,
  },
};

/** The behavior a pool's policy sets (`spec.scaling.scaleUp` / `scaleDown`; HPA defaults by default). */
export function behaviorFromPolicy(policy: Policy): Behavior {
  const { scaleUp, scaleDown } = policy.spec.scaling;
  // Only the fields of ScalingRules: the policy's also carry the durations as written.
  const rules = (r: ScalingRules): ScalingRules => ({
    stabilizationWindowSeconds: r.stabilizationWindowSeconds,
    maxPodsPerPeriod: r.maxPodsPerPeriod,
    maxPercentPerPeriod: r.maxPercentPerPeriod,
    periodSeconds: r.periodSeconds,
  });
  return { scaleUp: rules(scaleUp), scaleDown: rules(scaleDown) };
}

/** A count at a time (seconds on the snapshot clock). */
export interface TimedCount {
  readonly at: number;
  readonly replicas: number;
}

/** What the HPA controller remembers per target: recommendations and scale events. */
export interface BehaviorState {
  /** Whether the first sync recorded the initial recommendation (see {@link seedRecommendation}). */
  readonly seeded: boolean;
  /** Unstabilized recommendations, newest last, pruned to the longer window. */
  readonly recommendations: readonly TimedCount[];
  /** Replicas added per scale-up, pruned to the scale-up period. */
  readonly scaleUpEvents: readonly TimedCount[];
  /** Replicas removed per scale-down, pruned to the scale-down period. */
  readonly scaleDownEvents: readonly TimedCount[];
}

/** Nothing remembered yet. */
export const INITIAL_BEHAVIOR_STATE: BehaviorState = {
  seeded: false,
  recommendations: [],
  scaleUpEvents: [],
  scaleDownEvents: [],
};

/**
 * On the first sync, records the current count as a recommendation, as the HPA's
 * `recordInitialRecommendation` does: a restarted controller does not scale down before a
 * scale-down window of its own has passed.
 */
export function seedRecommendation(
  state: BehaviorState,
  now: number,
  current: number,
): BehaviorState {
  if (state.seeded) return state;
  return {
    ...state,
    seeded: true,
    recommendations: [...state.recommendations, { at: now, replicas: current }],
  };
}

/** The result of one normalization step: replicas, the state to keep and why it differs. */
export interface BehaviorStep {
  readonly replicas: number;
  readonly state: BehaviorState;
  /** Sentences for the decision's reason when the step changed the recommendation. */
  readonly notes: readonly string[];
}

/** What {@link normalize} needs besides the state. */
export interface NormalizeInput {
  /** Seconds on the snapshot clock. */
  readonly now: number;
  /** Replicas the target has now (its spec.replicas). */
  readonly current: number;
  /** The unstabilized recommendation (the metric's desired replicas). */
  readonly desired: number;
  /** Floor applied by the rate step (HPA minReplicas). */
  readonly min: number;
  /** Ceiling applied by the rate step (HPA maxReplicas). */
  readonly max: number;
  /** Skip the scale-up stabilization window (tritonscale's panic mode). @default false */
  readonly bypassScaleUpWindow?: boolean;
}

/**
 * The HPA's `normalizeDesiredReplicasWithBehaviors`: {@link stabilize} then
 * {@link limitRate}. The caller records the final change with {@link recordScaleEvent}.
 */
export function normalize(
  state: BehaviorState,
  behavior: Behavior,
  input: NormalizeInput,
): BehaviorStep {
  const s = stabilize(state, behavior, input);
  const r = limitRate(s.state, behavior, { ...input, desired: s.replicas });
  return { replicas: r.replicas, state: s.state, notes: [...s.notes, ...r.notes] };
}

/**
 * Stabilization: brings `desired` within the lowest recommendation of the scale-up window
 * and the highest of the scale-down window (both include `desired`), starting from
 * `current`, and records `desired`.
 */
export function stabilize(
  state: BehaviorState,
  behavior: Behavior,
  input: Pick<NormalizeInput, "now" | "current" | "desired" | "bypassScaleUpWindow">,
): BehaviorStep {
  const { now, current, desired } = input;
  const upWindow = input.bypassScaleUpWindow ? 0 : behavior.scaleUp.stabilizationWindowSeconds;
  const downWindow = behavior.scaleDown.stabilizationWindowSeconds;
  let up = desired;
  let down = desired;
  for (const rec of state.recommendations) {
    if (rec.at > now - upWindow) up = Math.min(up, rec.replicas);
    if (rec.at > now - downWindow) down = Math.max(down, rec.replicas);
  }
  let replicas = current;
  if (replicas < up) replicas = up;
  if (replicas > down) replicas = down;

  const keep = Math.max(behavior.scaleUp.stabilizationWindowSeconds, downWindow);
  const recommendations = [
    ...state.recommendations.filter((r) => r.at > now - keep),
    { at: now, replicas: desired },
  ];
  const notes: string[] = [];
  if (replicas !== desired) {
    notes.push(
      desired >= current
        ? `scale-up stabilized at ${replicas}: the lowest recommendation of the last ${upWindow} s`
        : `scale-down stabilized at ${replicas}: the highest recommendation of the last ${downWindow} s`,
    );
  }
  return { replicas, state: { ...state, recommendations }, notes };
}

/**
 * Rate limits: a scale-up may reach at most the larger of the two policies' proposals from
 * the period-start count, a scale-down at most the smaller; then [min, max] as the HPA's
 * `convertDesiredReplicasWithBehaviorRate` does (min applies to scale-downs, max to
 * scale-ups).
 */
export function limitRate(
  state: BehaviorState,
  behavior: Behavior,
  input: Pick<NormalizeInput, "now" | "current" | "desired" | "min" | "max">,
): BehaviorStep {
  const { now, current, desired, min, max } = input;
  if (desired > current) {
    const rules = behavior.scaleUp;
    const start = periodStart(state, now, current, rules.periodSeconds);
    let limit = Number.MIN_SAFE_INTEGER;
    if (rules.maxPodsPerPeriod > 0) limit = Math.max(limit, start + rules.maxPodsPerPeriod);
    if (rules.maxPercentPerPeriod > 0) {
      limit = Math.max(limit, Math.ceil(start * (1 + rules.maxPercentPerPeriod / 100)));
    }
    if (limit < current) limit = current;
    if (max <= limit) {
      if (desired > max) {
        return note(state, max, `capped at maxReplicas ${max}`);
      }
    } else if (desired > limit) {
      return note(
        state,
        limit,
        `scale-up limited to ${limit}: ${describeRate("+", rules)} from ${start} at the period start`,
      );
    }
  } else if (desired < current) {
    const rules = behavior.scaleDown;
    const start = periodStart(state, now, current, rules.periodSeconds);
    let limit = Number.MAX_SAFE_INTEGER;
    if (rules.maxPodsPerPeriod > 0) limit = Math.min(limit, start - rules.maxPodsPerPeriod);
    if (rules.maxPercentPerPeriod > 0) {
      limit = Math.min(limit, Math.trunc(start * (1 - rules.maxPercentPerPeriod / 100)));
    }
    if (limit > current) limit = current;
    if (min >= limit) {
      if (desired < min) {
        return note(state, min, `raised to the minimum ${min}`);
      }
    } else if (desired < limit) {
      return note(
        state,
        limit,
        `scale-down limited to ${limit}: ${describeRate("-", rules)} from ${start} at the period start`,
      );
    }
  }
  return { replicas: desired, state, notes: [] };
}

/** Records a change of the target's replicas made at `now` (nothing when `from === to`). */
export function recordScaleEvent(
  state: BehaviorState,
  behavior: Behavior,
  now: number,
  from: number,
  to: number,
): BehaviorState {
  const upKeep = behavior.scaleUp.periodSeconds;
  const downKeep = behavior.scaleDown.periodSeconds;
  const scaleUpEvents = state.scaleUpEvents.filter((e) => e.at > now - upKeep);
  const scaleDownEvents = state.scaleDownEvents.filter((e) => e.at > now - downKeep);
  if (to > from) scaleUpEvents.push({ at: now, replicas: to - from });
  if (to < from) scaleDownEvents.push({ at: now, replicas: from - to });
  return { ...state, scaleUpEvents, scaleDownEvents };
}

/** Replicas at the start of the period ending now: current minus the period's net change. */
function periodStart(
  state: BehaviorState,
  now: number,
  current: number,
  periodSeconds: number,
): number {
  const sum = (events: readonly TimedCount[]): number =>
    events.filter((e) => e.at > now - periodSeconds).reduce((a, e) => a + e.replicas, 0);
  return current - sum(state.scaleUpEvents) + sum(state.scaleDownEvents);
}

function describeRate(sign: "+" | "-", rules: ScalingRules): string {
  const parts: string[] = [];
  if (rules.maxPercentPerPeriod > 0) parts.push(`${sign}${rules.maxPercentPerPeriod}%`);
  if (rules.maxPodsPerPeriod > 0) parts.push(`${sign}${rules.maxPodsPerPeriod} pods`);
  const which = parts.length > 1 ? (sign === "+" ? "the larger of " : "the larger drop of ") : "";
  return `${which}${parts.join(" and ")} per ${formatNumber(rules.periodSeconds)} s`;
}

function note(state: BehaviorState, replicas: number, text: string): BehaviorStep {
  return { replicas, state, notes: [text] };
}
