import type { Policy } from "../../policy/index.js";

/**
 * Labels shared by every object rendered for a pool, and how they appear in Prometheus.
 */

/** Pod and object label naming the ModelPool. */
export const POOL_LABEL = "tritonscale.dev/pool";
/** Pod label naming the capacity type of its Deployment (spot / on-demand). */
export const CAPACITY_LABEL = "tritonscale.dev/capacity-type";
/**
 * The pool label as a Prometheus label: the ServiceMonitor/PodMonitor copies the pod
 * label (podTargetLabels / relabeling), which Prometheus sanitizes to this name.
 */
export const PROM_POOL_LABEL = "tritonscale_dev_pool";

/** The capacity-type pod label as a Prometheus label (copied like the pool label). */
export const PROM_CAPACITY_LABEL = "tritonscale_dev_capacity_type";

/** The field manager tritonscale applies with (server-side apply). */
export const FIELD_MANAGER = "tritonscale";

/** `app.kubernetes.io/*` labels plus the pool label, for every object of a pool. */
export function poolLabels(policy: Policy, component: string): Record<string, string> {
  return poolNameLabels(policy.metadata.name, component);
}

/** {@link poolLabels} of the pool named `name`, for objects made without its policy. */
export function poolNameLabels(name: string, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": "triton",
    "app.kubernetes.io/instance": name,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": "tritonscale",
    "app.kubernetes.io/managed-by": "tritonscale",
    [POOL_LABEL]: name,
  };
}

/** The selector labels of the pool's Triton pods (stable across capacity types). */
export function podSelector(policy: Policy): Record<string, string> {
  return {
    "app.kubernetes.io/name": "triton",
    "app.kubernetes.io/instance": policy.metadata.name,
    [POOL_LABEL]: policy.metadata.name,
  };
}
