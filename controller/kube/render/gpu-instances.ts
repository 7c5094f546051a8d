/**
 * What tritonscale knows of GPU instances, as plain data (no Kubernetes model imported, so
 * \`validate\` can check a pool against it without loading the object models).
 */

/**
 * EC2 GPUs by the name Karpenter labels instances with (`karpenter.k8s.aws/instance-gpu-name`,
 * lower case), the instance families that carry them and the GPU counts those families'
 * sizes offer (AWS instance type pages: G4dn, G5, G6, G6e, P3, P4d/P4de, P5).
 */
export const EC2_GPUS: Readonly<
  Record<string, { readonly families: readonly string[]; readonly counts: readonly number[] }>
> = {
  t4: { families: ["g4dn"], counts: [1, 4, 8] },
  a10g: { families: ["g5"], counts: [1, 4, 8] },
  l4: { families: ["g6"], counts: [1, 4, 8] },
  l40s: { families: ["g6e"], counts: [1, 4, 8] },
  v100: { families: ["p3", "p3dn"], counts: [1, 4, 8] },
  a100: { families: ["p4d", "p4de"], counts: [8] },
  h100: { families: ["p5"], counts: [1, 8] },
};

/** The GPU a Karpenter pool asks for: Karpenter's GPU name and, when known, its EC2 facts. */
export interface KarpenterGpu {
  /** `karpenter.k8s.aws/instance-gpu-name` value, e.g. `t4`. */
  readonly name: string;
  /** Instance families with that GPU; undefined for a GPU not in {@link EC2_GPUS}. */
  readonly families?: readonly string[];
  /** GPU counts per instance those families offer; undefined for an unknown GPU. */
  readonly counts?: readonly number[];
}

/**
 * Karpenter's name for `capacity.gpu.type`, which may be written the GKE way
 * (`nvidia-tesla-t4`, `nvidia-a100-80gb`, `nvidia-h100-mega-80gb`) or the AWS way (`T4`,
 * `A10G`): lower case, without `nvidia-` and `tesla-`, up to the first `-`.
 *
 * @example karpenterGpu("nvidia-tesla-t4") // { name: "t4", families: ["g4dn"], counts: [1, 4, 8] }
 */
export function karpenterGpu(type: string): KarpenterGpu {
  const name = type
    .trim()
    .toLowerCase()
    .replace(/^nvidia[-_ ]?/, "")
    .replace(/^tesla[-_ ]?/, "")
    .split("-")[0]!;
  const known = EC2_GPUS[name];
  return known === undefined ? { name } : { name, ...known };
}
