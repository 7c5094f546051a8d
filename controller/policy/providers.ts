/**
 * Facts about the cloud providers a pool runs on (shared/reference/autoscaling-facts.md),
 * used by the manifests (termination budgets) and the simulator (reclaim notice).
 */

/** Notice a Spot node gets before it is reclaimed, in seconds, by `spec.capacity.provider`. */
export const SPOT_NOTICE_SECONDS: Readonly<Record<string, number>> = {
  gke: 30,
  eks: 120,
  aks: 30,
  karpenter: 120,
  generic: 120,
};
