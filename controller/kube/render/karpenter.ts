import { NodePool } from "@kubernetes-models/karpenter/karpenter.sh/v1";
import type { Policy } from "../../policy/index.js";
import { poolLabels } from "./labels.js";
import { nodePoolName } from "./placement.js";

/**
 * A Karpenter NodePool for the pool's GPU nodes (provider karpenter): Spot and on-demand
 * allowed, so the Spot Deployment gets Spot and the on-demand one gets on-demand (each
 * selects `karpenter.sh/capacity-type`); consolidation only of empty nodes, one minute
 * after they empty, so serving pods are never moved to pack nodes tighter; a GPU limit of
 * maxReplicas × GPUs per replica. The node class is `capacity.karpenterNodeClass`.
 */
export function buildNodePool(policy: Policy): NodePool {
  const cap = policy.spec.capacity;
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
            { key: "karpenter.sh/capacity-type", operator: "In", values: ["spot", "on-demand"] },
            {
              key: "karpenter.k8s.aws/instance-gpu-count",
              operator: "Gt",
              values: [String(cap.gpu.count - 1)],
            },
          ],
          taints: [{ key: "nvidia.com/gpu", effect: "NoSchedule" }],
          expireAfter: "720h",
        },
      },
      disruption: { consolidationPolicy: "WhenEmpty", consolidateAfter: "1m" },
      limits: { [cap.gpu.resourceName]: String(policy.spec.scaling.maxReplicas * cap.gpu.count) },
    },
  });
  np.validate();
  return np;
}
