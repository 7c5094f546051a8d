import { NodePool } from "@kubernetes-models/karpenter/karpenter.sh/v1";
import { formatDuration } from "../../policy/duration.js";
import type { Policy } from "../../policy/index.js";
import { karpenterGpu } from "./gpu-instances.js";
import { poolLabels } from "./labels.js";
import { nodePoolName } from "./placement.js";

/** A NodePool requirement: the node label `key` is one of `values`. */
function requirement(key: string, values: readonly string[]) {
  return { key, operator: "In" as const, values: [...values] };
}

/**
 * A Karpenter NodePool for the pool's GPU nodes (provider karpenter): only instances with
 * exactly `capacity.gpu.count` GPUs of `capacity.gpu.type` (GPU name, and the instance
 * families that carry it when tritonscale knows them), so one replica fills one node and
 * a node costs what the pool's price says, never a multi-GPU instance for a one-GPU pod;
 * Spot and on-demand allowed, so the Spot Deployment gets Spot and the on-demand one gets
 * on-demand (each selects `karpenter.sh/capacity-type`); consolidation only of empty nodes, so
 * serving pods are never moved to pack nodes tighter, `scaling.history.nodeLinger` after they
 * empty (default 10m), so a node lingers as long as the scaler's scale-down-that-pays and
 * `simulate`'s cluster count on (the pool's model of its cluster is then what Karpenter
 * does); a GPU limit of
 * maxReplicas × GPUs per replica. The node class is `capacity.karpenterNodeClass`.
 */
export function buildNodePool(policy: Policy): NodePool {
  const cap = policy.spec.capacity;
  const gpu = karpenterGpu(cap.gpu.type);
  const np = new NodePool({
    metadata: { name: nodePoolName(policy), labels: poolLabels(policy, "capacity") },
    spec: {
      template: {
        metadata: { labels: { "tritonscale.dev/gpu": cap.gpu.type } },
        spec: {
          nodeClassRef: {
            group: "karpenter.k8s.aws",
            kind: "EC2NodeClass",
            name: cap.karpenterNodeClass,
          },
          requirements: [
            requirement("karpenter.sh/capacity-type", ["spot", "on-demand"]),
            requirement("karpenter.k8s.aws/instance-gpu-name", [gpu.name]),
            ...(gpu.families === undefined
              ? []
              : [requirement("karpenter.k8s.aws/instance-family", gpu.families)]),
            requirement("karpenter.k8s.aws/instance-gpu-count", [String(cap.gpu.count)]),
          ],
          taints: [{ key: "nvidia.com/gpu", effect: "NoSchedule" }],
          expireAfter: "720h",
        },
      },
      disruption: {
        consolidationPolicy: "WhenEmpty",
        consolidateAfter: formatDuration(policy.spec.scaling.history.nodeLingerSeconds),
      },
      limits: { [cap.gpu.resourceName]: String(policy.spec.scaling.maxReplicas * cap.gpu.count) },
    },
  });
  np.validate();
  return np;
}
