/**
 * Lint rules for instance groups: kind and GPUs, counts, TensorRT profiles, and
 * rate-limiter resources.
 *
 * Each rule is registered by name in `registry.ts`; see `rule.ts` for what a rule sees.
 */

import { effectivePlatform, list, quotedModel } from "./common.js";
import type { Finding, LintContext } from "./rule.js";

function groupName(ctx: LintContext, i: number): string {
  const name = ctx.config.instance_group?.[i]?.name;
  return name ? `'${name}'` : `#${i}`;
}

/**
 * core ValidateInstanceGroup: "instance group G of model X has kind KIND_CPU (or
 * KIND_MODEL) but specifies one or more GPUs".
 */
export function* instanceGroupGpus(ctx: LintContext): Generator<Finding> {
  for (const [i, g] of (ctx.config.instance_group ?? []).entries()) {
    if ((g.kind !== "KIND_CPU" && g.kind !== "KIND_MODEL") || (g.gpus ?? []).length === 0) continue;
    yield {
      path: `instance_group[${i}].gpus`,
      message: `instance group ${groupName(ctx, i)} of model ${quotedModel(ctx)} has kind ${g.kind} but specifies one or more GPUs (got gpus: ${list(g.gpus ?? [])}); remove gpus, or use kind: KIND_GPU to place instances on those GPUs`,
    };
  }
}

/** core ValidateInstanceGroup: "specifies invalid or unsupported gpu id" (a negative id is never a CUDA device). */
export function* instanceGroupGpuId(ctx: LintContext): Generator<Finding> {
  for (const [i, g] of (ctx.config.instance_group ?? []).entries()) {
    for (const [j, id] of (g.gpus ?? []).entries()) {
      if (id >= 0) continue;
      yield {
        path: `instance_group[${i}].gpus[${j}]`,
        message: `instance group ${groupName(ctx, i)} specifies invalid gpu id ${id}; GPU ids are CUDA device indices 0, 1, ...`,
      };
    }
  }
}

/** Not a Triton load error: a negative `count` is treated like an unset one (the default count). */
export function* instanceGroupCount(ctx: LintContext): Generator<Finding> {
  for (const [i, g] of (ctx.config.instance_group ?? []).entries()) {
    if ((g.count ?? 0) >= 0) continue;
    yield {
      path: `instance_group[${i}].count`,
      message: `instance group ${groupName(ctx, i)} has count ${g.count}; Triton treats a count below 1 as unset and uses its default (1, or 2 on CPU for onnxruntime and tensorflow); write a positive count`,
    };
  }
}

/**
 * core ValidateInstanceGroup: `profile` "is only supported for TensorRT models" and must be
 * "the string representation of a non-negative integer".
 */
export function* instanceGroupProfile(ctx: LintContext): Generator<Finding> {
  const platform = effectivePlatform(ctx.config);
  for (const [i, g] of (ctx.config.instance_group ?? []).entries()) {
    const profiles = g.profile ?? [];
    if (profiles.length === 0) continue;
    if (platform !== "tensorrt_plan") {
      yield {
        path: `instance_group[${i}].profile`,
        message: `instance group ${groupName(ctx, i)} of model ${quotedModel(ctx)} and platform ${platform ?? "(unset)"} specifies profile field which is only supported for TensorRT models (platform "tensorrt_plan"); remove profile`,
      };
      continue;
    }
    for (const [j, p] of profiles.entries()) {
      if (/^\d+$/.test(p)) continue;
      yield {
        path: `instance_group[${i}].profile[${j}]`,
        message: `instance group ${groupName(ctx, i)} specifies invalid profile "${p}"; a profile is the string form of a non-negative integer, the TensorRT optimization profile index (e.g. "0")`,
      };
    }
  }
}

/**
 * core RateLimiter (ResourceManager): a resource may not be both global and per-device in
 * one model's configuration.
 */
export function* rateLimiterResource(ctx: LintContext): Generator<Finding> {
  const seen = new Map<string, { global: boolean; where: string }>();
  for (const [i, g] of (ctx.config.instance_group ?? []).entries()) {
    for (const [j, r] of (g.rate_limiter?.resources ?? []).entries()) {
      const name = r.name ?? "";
      const where = `instance_group[${i}].rate_limiter.resources[${j}]`;
      const global = r.global ?? false;
      const first = seen.get(name);
      if (first === undefined) seen.set(name, { global, where });
      else if (first.global !== global)
        yield {
          path: where,
          message: `resource "${name}" is present as both global and device-specific resource in the model configuration (${first.global ? "global" : "per-device"} at ${first.where}); declare it the same way everywhere`,
        };
    }
  }
}
