import type { PoolDecision } from "../loop/ports.js";
import { totalOf } from "../scaling/types.js";
import type { ReasonClass } from "./names.js";

/**
 * A schedule's floor in a reason, as scaling/schedule.ts `scheduleFloor` words it
 * (`schedule morning is active (…)`, `schedule morning starts in 90 s (…)`). The tritonscale
 * scaler adds that sentence only when the schedule's minimum is what holds the count up.
 */
const SCHEDULE_FLOOR = /\bschedule \S+ (is active|starts in)\b/;

/**
 * The class of a decision for `tritonscale_decisions_total{reason_class}`: a fixed set
 * (names.ts REASON_CLASSES) whatever the scaler's free-text reason says. First match wins:
 *
 * 1. `held`: the scaler held its last count for missing or stale signals;
 * 2. `scale-to-zero`: the total went from above 0 to 0 (after the idle window);
 * 3. `schedule`: a schedule's minimum raised or kept the count (pre-warm included);
 * 4. `scale-up` / `scale-down`: the total rose / fell;
 * 5. `rebalance`: the same total split differently between Spot and on-demand (a Spot
 *    fallback or its return);
 * 6. `steady`: nothing changed.
 *
 * Example: previous {spot 2, onDemand 1}, desired {spot 0, onDemand 3}, not held →
 * `rebalance`; desired {spot 2, onDemand 2} with reason "…; schedule morning is active
 * (60 s of 7200 s): at least 4; 3 → 4" → `schedule`.
 */
export function classifyDecision(d: PoolDecision): ReasonClass {
  if (d.decision.held) return "held";
  const before = totalOf(d.previous);
  const after = totalOf(d.decision.desired);
  if (after === 0 && before > 0) return "scale-to-zero";
  if (after >= before && SCHEDULE_FLOOR.test(d.decision.reason)) return "schedule";
  if (after > before) return "scale-up";
  if (after < before) return "scale-down";
  if (d.decision.desired.spot !== d.previous.spot) return "rebalance";
  return "steady";
}
