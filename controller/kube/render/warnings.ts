import type { Problem } from "../../diagnostics/problem.js";
import type { Policy } from "../../policy/index.js";
import { EC2_GPUS, karpenterGpu } from "./gpu-instances.js";
import { replicaSplit } from "./replica-split.js";

/**
 * Warnings about a valid pool whose rendered objects would not do what it says: pods that
 * cannot find their models, HPAs that cannot add up to the pool's floor, Karpenter nodes
 * that do not match the GPU. They are {@link Problem}s (file, line, column of the field to
 * change) that a command prints without failing (exit 0): the pool is valid, and the
 * cluster may hold what tritonscale cannot see.
 */

/** Whether `image` is NVIDIA's stock Triton image (any registry, tag or digest). */
export function isStockTritonImage(image: string): boolean {
  return /(^|\/)nvidia\/tritonserver([:@]|$)/.test(image.trim());
}

/**
 * Source `local` on the stock Triton image: tritonscale mounts nothing for `local` ("a
 * folder baked into or mounted at path"), and the stock image has no model repository,
 * so Triton exits at start and the pod crash-loops. Says what to add instead.
 */
export function repositoryWarnings(policy: Policy): Problem[] {
  const t = policy.spec.triton;
  const repo = t.modelRepository;
  if (repo.source !== "local" || !isStockTritonImage(t.image)) return [];
  return [
    policy.source.problemAt(
      "spec.triton.modelRepository.source",
      `source "local" mounts nothing at ${repo.path}, and the stock Triton image (${t.image}) has no model repository there: Triton would exit at start and the pod crash-loop. Use one of: an image with the repository baked in at ${repo.path} (spec.triton.image); source "pvc" with claimName (a PersistentVolumeClaim holding the repository, mounted at ${repo.path}); or source "s3", "gcs" or "azure" with uri (e.g. s3://bucket/models)`,
    ),
  ];
}

/**
 * A model without `modelFile`: the generated repository declares `version_policy {
 * specific [<version>] }` for it, but `generate` writes no `<version>/` folder with the
 * model file, so Triton will not load the model until someone puts the file there.
 */
export function versionFolderWarnings(policy: Policy): Problem[] {
  return policy.spec.models.flatMap((m, i) =>
    m.modelFile !== undefined
      ? []
      : [
          policy.source.problemAt(
            `spec.models[${i}]`,
            `model "${m.name}" names no modelFile: its generated config declares version_policy { specific [${m.version}] }, but no ${m.version}/ folder with the model file is written, so Triton will not load it. Set modelFile (copied into ${m.version}/), or put the model file (model.onnx, or model.plan for a TensorRT template) in ${m.version}/ of the detector's folder ("${m.name}", or "${m.name}-detector" for an ensemble template) in the repository Triton reads`,
          ),
        ],
  );
}

/**
 * Engine hpa with Spot: each Deployment's HPA keeps at least one replica (autoscaling/v2),
 * so a pool whose floor cannot be split (minReplicas 1, or maxReplicas 1) runs one Spot
 * replica more than it asks for; and when onDemandBase ≥ minReplicas ≥ 2, one replica of
 * the floor runs on Spot so that the floors add up (see `replicaSplit`).
 */
export function hpaSplitWarnings(policy: Policy): Problem[] {
  const s = policy.spec.scaling;
  const spot = policy.spec.capacity.spot;
  if (s.engine !== "hpa" || !spot.enabled) return [];
  const split = replicaSplit(policy);
  const floor = split.spot.min + split.onDemand.min;
  const ceiling = split.spot.max + split.onDemand.max;
  const out: Problem[] = [];
  if (floor > s.minReplicas || ceiling > s.maxReplicas) {
    out.push(
      policy.source.problemAt(
        "spec.scaling.minReplicas",
        `engine "hpa" with Spot scales two Deployments with one HPA each, and an HPA keeps at least 1 replica: the pool runs at least ${floor} replicas (on-demand ${split.onDemand.min}, Spot ${split.spot.min}), not ${s.minReplicas}${ceiling > s.maxReplicas ? `, and up to ${ceiling}, not ${s.maxReplicas}` : ""}. To run exactly ${s.minReplicas}: use engine "keda" (Spot scales to zero), disable Spot, or set minReplicas >= 2`,
      ),
    );
  } else if (split.onDemand.min < Math.min(spot.onDemandBase, s.minReplicas)) {
    out.push(
      policy.source.problemAt(
        "spec.capacity.spot.onDemandBase",
        `engine "hpa" keeps at least 1 Spot replica, so ${split.onDemand.min} of the ${s.minReplicas} floor replicas run on-demand, not ${Math.min(spot.onDemandBase, s.minReplicas)}: set minReplicas above onDemandBase, or use engine "keda"`,
      ),
    );
  }
  return out;
}

/**
 * Provider karpenter: a GPU tritonscale knows no EC2 instance family for (the NodePool
 * then requires only its name, which must be Karpenter's), or a GPU count no instance of
 * its families has (the NodePool would never launch a node).
 */
export function karpenterWarnings(policy: Policy): Problem[] {
  const cap = policy.spec.capacity;
  if (cap.provider !== "karpenter") return [];
  const gpu = karpenterGpu(cap.gpu.type);
  if (gpu.families === undefined) {
    return [
      policy.source.problemAt(
        "spec.capacity.gpu.type",
        `"${cap.gpu.type}" is not an EC2 GPU tritonscale knows (${Object.keys(EC2_GPUS).join(", ")}): the NodePool requires karpenter.k8s.aws/instance-gpu-name "${gpu.name}" with no instance family; check that Karpenter names the GPU so`,
      ),
    ];
  }
  if (gpu.counts !== undefined && !gpu.counts.includes(cap.gpu.count)) {
    return [
      policy.source.problemAt(
        "spec.capacity.gpu.count",
        `no ${gpu.families.join("/")} instance has ${cap.gpu.count} ${gpu.name} GPUs (they have ${gpu.counts.join(", ")}): the NodePool would never launch a node; set count to one of those`,
      ),
    ];
  }
  return [];
}

/**
 * Every warning about a pool's rendered objects (see the module comment), in the order
 * of the sections they concern.
 */
export function poolWarnings(policy: Policy): Problem[] {
  return [
    ...versionFolderWarnings(policy),
    ...hpaSplitWarnings(policy),
    ...karpenterWarnings(policy),
    ...repositoryWarnings(policy),
  ];
}
