/**
 * How the pool's replica bounds split across its Spot and on-demand Deployments, as plain
 * data (no Kubernetes model imported, so \`validate\` can warn about it cheaply).
 */
import type { Policy } from "../../policy/index.js";
import type { CapacityType } from "../../scaling/types.js";

/** Least and most replicas of one Deployment (a ScaledObject's or HPA's bounds). */
export interface ReplicaBounds {
  readonly min: number;
  readonly max: number;
}

/**
 * The pool's minReplicas and maxReplicas split across its Deployments, so that the
 * Deployments' bounds add up to the pool's: the split of `splitCapacity` (the first
 * onDemandBase replicas on-demand, the rest on Spot) at the pool's floor and ceiling.
 *
 * Engine keda (a ScaledObject may go to zero): on-demand min(base, min) to max, Spot the
 * rest of min to max − base (at least 1, which a ScaledObject needs). The mins add up to
 * the pool's; the on-demand max stays the pool's so stand-ins can replace Spot replicas
 * that find no node, and the external scaler keeps the total within maxReplicas.
 *
 * Engine hpa: an autoscaling/v2 HPA needs minReplicas ≥ 1 (0 only behind the alpha
 * HPAScaleToZero gate), and nothing coordinates the two HPAs, so both bounds are split
 * statically. Whenever two HPAs can add up (min ≥ 2), they do: on-demand gets min(base,
 * min) but leaves Spot its one replica, Spot the rest; on-demand reaches at most the base
 * (no on-demand fallback for Spot: that needs engine keda), Spot the rest of max. A pool
 * with min ≤ 1 (or max 1) cannot add up: on-demand gets the floor and Spot keeps one
 * replica more, which {@link hpaSplitWarnings} (render/warnings.ts) reports.
 *
 * Worked example (hpa): min 1, max 24, base 1 → on-demand 1..1, Spot 1..23 (floor 2, the
 * unavoidable extra Spot replica; ceiling 24). min 3, max 8, base 3 → on-demand 2..3,
 * Spot 1..5 (floor 3, ceiling 8).
 */
export function replicaSplit(policy: Policy): Readonly<Record<CapacityType, ReplicaBounds>> {
  const s = policy.spec.scaling;
  const spot = policy.spec.capacity.spot;
  const hpa = s.engine === "hpa";
  if (!spot.enabled) {
    const onDemand = { min: hpa ? Math.max(1, s.minReplicas) : s.minReplicas, max: s.maxReplicas };
    return { onDemand, spot: { min: 0, max: 0 } };
  }
  const base = Math.min(spot.onDemandBase, s.maxReplicas);
  if (!hpa) {
    const floor = Math.min(base, s.minReplicas);
    return {
      onDemand: { min: floor, max: s.maxReplicas },
      // A ScaledObject needs a max ≥ 1 even when the base leaves Spot nothing to run.
      spot: { min: s.minReplicas - floor, max: Math.max(1, s.maxReplicas - base) },
    };
  }
  const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));
  // Each HPA keeps one replica; when the pool's floor leaves room for both, they add up to it.
  const odMin = Math.max(1, Math.min(base, s.minReplicas, s.minReplicas - 1));
  const spotMin = Math.max(1, s.minReplicas - odMin);
  const odMax = clamp(base, odMin, s.maxReplicas - spotMin);
  const spotMax = Math.max(spotMin, s.maxReplicas - odMax);
  return { onDemand: { min: odMin, max: odMax }, spot: { min: spotMin, max: spotMax } };
}

/** Replica bounds of one Deployment of the pool (see {@link replicaSplit}). */
export function replicaBounds(policy: Policy, type: CapacityType): ReplicaBounds {
  return replicaSplit(policy)[type];
}
