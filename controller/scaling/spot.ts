import type { Policy } from "../policy/index.js";
import { type ByCapacity, formatNumber, type ReplicaCounts } from "./types.js";

/**
 * The Spot / on-demand split of a desired total (`spec.capacity.spot`), the same for every
 * scaler so that cost comparisons differ only by the algorithm.
 *
 * - Spot disabled: every replica on-demand.
 * - Spot enabled: the first `onDemandBase` replicas on-demand, the rest on Spot.
 * - Fallback: when Spot replicas have waited for a node longer than `fallbackAfter`
 *   (`snapshot.replicas.oldestPendingSpotSeconds`), on-demand stand-ins are added for the Spot
 *   replicas that have no node, while the Spot replicas stay requested so they land when
 *   Spot capacity returns. A stand-in is released once a Spot replica is Ready in its place
 *   (not merely scheduled: a starting replica serves nothing yet). On a scale-down stand-ins
 *   go first (they are the expensive ones).
 * - maxReplicas bounds spot + onDemand: when the stand-ins do not fit beside the Spot
 *   requests, the pending Spot requests that do not fit are dropped (they serve nothing, so
 *   no capacity is lost); at maxReplicas the stand-ins then stay until the pool shrinks.
 *
 * Worked example: total 10, onDemandBase 2, fallbackAfter 120 s, maxReplicas 14; 8 Spot
 * wanted, 5 Ready, 3 pending for 150 s → 3 stand-ins: desired { onDemand: 5, spot: 8 }
 * (13 ≤ 14). Two Spot replicas become Ready → stand-ins 8 − 7 = 1 → { onDemand: 3, spot: 8 }.
 * Same with maxReplicas 10: { onDemand: 5, spot: 5 } (the 3 pending Spot requests dropped).
 */

/** What the split remembers between decisions. */
export interface SpotState {
  /** On-demand replicas currently standing in for Spot replicas that found no node. */
  readonly standIns: number;
}

/** No stand-ins. */
export const INITIAL_SPOT_STATE: SpotState = { standIns: 0 };

/** A split: the desired replicas per capacity type, the state to keep and a note when it matters. */
export interface SpotSplit {
  readonly desired: ByCapacity;
  readonly state: SpotState;
  /** A sentence for the decision's reason; empty when the split is the plain one. */
  readonly note: string;
}

/** Splits `total` desired replicas into Spot and on-demand (see the module comment). */
export function splitCapacity(
  total: number,
  policy: Policy,
  view: ReplicaCounts,
  state: SpotState,
): SpotSplit {
  const spot = policy.spec.capacity.spot;
  if (!spot.enabled) {
    return { desired: { spot: 0, onDemand: total }, state: INITIAL_SPOT_STATE, note: "" };
  }
  const max = policy.spec.scaling.maxReplicas;
  const base = Math.min(spot.onDemandBase, total);
  const wanted = total - base;
  const scheduled = view.ready.spot + view.starting.spot;
  // Release stand-ins whose Spot replica is Ready (and any beyond a smaller Spot want).
  let standIns = Math.min(state.standIns, Math.max(0, wanted - view.ready.spot));
  let note = "";
  const overdue =
    view.pending.spot > 0 && view.oldestPendingSpotSeconds > spot.fallbackAfterSeconds;
  if (overdue) {
    const shortfall = Math.min(view.pending.spot, Math.max(0, wanted - scheduled));
    standIns = Math.max(standIns, shortfall);
    note = `${view.pending.spot} Spot replicas pending for ${formatNumber(view.oldestPendingSpotSeconds)} s > fallbackAfter ${formatNumber(spot.fallbackAfterSeconds)} s`;
  }
  const onDemand = base + standIns;
  const spotDesired = Math.max(0, Math.min(wanted, max - onDemand));
  if (standIns > 0) {
    const dropped = wanted - spotDesired;
    const tail =
      dropped > 0
        ? `; ${dropped} pending Spot requests dropped to stay within maxReplicas ${max}`
        : "; Spot requests kept until Spot capacity returns";
    note = `${note === "" ? "" : `${note}: `}${standIns} on-demand stand-ins for Spot${tail}`;
  }
  return { desired: { spot: spotDesired, onDemand }, state: { standIns }, note };
}
