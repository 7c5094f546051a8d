import type { IToleration } from "kubernetes-models/v1";
import type { Policy } from "../../policy/index.js";
import type { CapacityType } from "../../scaling/types.js";
import { mergeTolerations } from "./merge.js";

/**
 * Where a pool's pods may run: node labels, affinities and tolerations per provider and
 * capacity type (facts in shared/reference/autoscaling-facts.md).
 *
 * | provider  | Spot node label                                 | taint on Spot nodes                      |
 * |-----------|-------------------------------------------------|------------------------------------------|
 * | gke       | cloud.google.com/gke-spot: "true"               | optional cloud.google.com/gke-spot=true  |
 * | eks       | eks.amazonaws.com/capacityType: SPOT/ON_DEMAND  | none                                     |
 * | aks       | kubernetes.azure.com/scalesetpriority: spot     | kubernetes.azure.com/scalesetpriority=spot:NoSchedule |
 * | karpenter | karpenter.sh/capacity-type: spot/on-demand      | as the NodePool sets (none here)         |
 */

/** Node selection for one Deployment. */
export interface Placement {
  readonly nodeSelector: Record<string, string>;
  /** Required node affinity terms' match expressions (ANDed), e.g. "not a Spot node". */
  readonly requiredNotIn: readonly {
    key: string;
    values?: string[];
    operator: "NotIn" | "DoesNotExist";
  }[];
  readonly tolerations: readonly IToleration[];
}

/** The GPU taint most GPU node pools carry (GKE, AKS, the NVIDIA GPU operator). */
const GPU_TOLERATION: IToleration = {
  key: "nvidia.com/gpu",
  operator: "Exists",
  effect: "NoSchedule",
};

/** GKE's accelerator label, when the pool names a GPU type. */
const GKE_ACCELERATOR = "cloud.google.com/gke-accelerator";

/** Node selection for a capacity type on the pool's provider. */
export function placementFor(policy: Policy, type: CapacityType): Placement {
  const cap = policy.spec.capacity;
  const nodeSelector: Record<string, string> = { ...cap.nodeSelector };
  const requiredNotIn: { key: string; values?: string[]; operator: "NotIn" | "DoesNotExist" }[] =
    [];
  const tolerations: IToleration[] = [GPU_TOLERATION];
  const spot = type === "spot";
  switch (cap.provider) {
    case "gke":
      if (cap.gpu.type) nodeSelector[GKE_ACCELERATOR] = cap.gpu.type;
      if (spot) {
        nodeSelector["cloud.google.com/gke-spot"] = "true";
        tolerations.push({
          key: "cloud.google.com/gke-spot",
          operator: "Equal",
          value: "true",
          effect: "NoSchedule",
        });
      } else {
        requiredNotIn.push({ key: "cloud.google.com/gke-spot", operator: "DoesNotExist" });
      }
      break;
    case "eks":
      nodeSelector["eks.amazonaws.com/capacityType"] = spot ? "SPOT" : "ON_DEMAND";
      break;
    case "aks":
      if (spot) {
        nodeSelector["kubernetes.azure.com/scalesetpriority"] = "spot";
        tolerations.push({
          key: "kubernetes.azure.com/scalesetpriority",
          operator: "Equal",
          value: "spot",
          effect: "NoSchedule",
        });
      } else {
        requiredNotIn.push({
          key: "kubernetes.azure.com/scalesetpriority",
          operator: "NotIn",
          values: ["spot"],
        });
      }
      break;
    case "karpenter":
      nodeSelector["karpenter.sh/capacity-type"] = spot ? "spot" : "on-demand";
      nodeSelector["karpenter.sh/nodepool"] = nodePoolName(policy);
      break;
    case "generic":
      break;
  }
  // The user's tolerations (capacity.tolerations) win over the generated ones with their key.
  return {
    nodeSelector,
    requiredNotIn,
    tolerations: mergeTolerations(tolerations, cap.tolerations),
  };
}

/** The Karpenter NodePool rendered for a pool. */
export function nodePoolName(policy: Policy): string {
  return `${policy.metadata.namespace}-${policy.metadata.name}-gpu`;
}
