/**
 * Lint rules for dynamic batching: a model that batches, and the preferred batch sizes
 * (of the dynamic batcher and of the sequence batcher's oldest strategy).
 *
 * Each rule is registered by name in `registry.ts`; see `rule.ts` for what a rule sees.
 */

import { forModel } from "./common.js";
import type { Finding, LintContext } from "./rule.js";

/**
 * Not a Triton load error, but a contradiction: `max_batch_size: 0` declares a model that
 * does not batch, so dynamic batching has nothing to form. Only an explicit 0 is flagged:
 * when the field is absent, backend auto-complete may set it.
 */
export function* dynamicBatchingMaxBatchSize(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (c.dynamic_batching === undefined || !ctx.has("max_batch_size") || c.max_batch_size !== 0)
    return;
  yield {
    path: "dynamic_batching",
    message:
      "dynamic batching needs max_batch_size > 0 (got max_batch_size: 0, which declares a model that does not batch, so every request would run alone); set max_batch_size to the largest batch the model accepts, or remove dynamic_batching",
  };
}

/**
 * core ValidateModelConfig: "dynamic batching preferred size must be positive" and "must
 * be <= max batch size"; the same for `sequence_batching.oldest`. The upper bound is only
 * checked when `max_batch_size` is written (auto-complete may set it otherwise).
 */
export function* preferredBatchSize(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  const max = c.max_batch_size ?? 0;
  const lists: [string, string, readonly number[] | undefined][] = [
    [
      "dynamic_batching.preferred_batch_size",
      "dynamic batching preferred size",
      c.dynamic_batching?.preferred_batch_size,
    ],
    [
      "sequence_batching.oldest.preferred_batch_size",
      "sequence batching preferred batch size",
      c.sequence_batching?.oldest?.preferred_batch_size,
    ],
  ];
  for (const [base, what, sizes] of lists) {
    for (const [i, size] of (sizes ?? []).entries()) {
      const valid = max > 0 ? `a size from 1 to max_batch_size (${max})` : "a size of at least 1";
      if (size <= 0) {
        yield {
          path: `${base}[${i}]`,
          message: `${what} must be positive${forModel(ctx)} (got ${size}); use ${valid}`,
        };
      } else if (ctx.has("max_batch_size") && size > max) {
        yield {
          path: `${base}[${i}]`,
          message: `${what} must be <= max batch size${forModel(ctx)} (got ${size}, max_batch_size is ${max}); use ${valid}, or raise max_batch_size`,
        };
      }
    }
  }
}

/** Not a Triton load error: a preferred batch size listed twice (Triton treats the list as a set). */
export function* preferredBatchSizeDuplicate(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  const lists: [string, readonly number[] | undefined][] = [
    ["dynamic_batching.preferred_batch_size", c.dynamic_batching?.preferred_batch_size],
    [
      "sequence_batching.oldest.preferred_batch_size",
      c.sequence_batching?.oldest?.preferred_batch_size,
    ],
  ];
  for (const [base, sizes] of lists) {
    const first = new Map<number, number>();
    for (const [i, size] of (sizes ?? []).entries()) {
      const j = first.get(size);
      if (j === undefined) first.set(size, i);
      else
        yield {
          path: `${base}[${i}]`,
          message: `preferred batch size ${size} is listed twice (first at ${base}[${j}]); list each size once`,
        };
    }
  }
}
