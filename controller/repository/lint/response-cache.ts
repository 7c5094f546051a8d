/**
 * Lint rules for the response cache, which supports neither decoupled models nor the
 * sequence batcher.
 *
 * Each rule is registered by name in `registry.ts`; see `rule.ts` for what a rule sees.
 */
import type { Finding, LintContext } from "./rule.js";

/**
 * core ValidateModelConfig: the response cache supports neither decoupled models nor the
 * sequence batcher ("Response Cache does not currently support model X with ...").
 */
export function* responseCache(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (!c.response_cache?.enable) return;
  const name = ctx.modelName ? `model ${ctx.modelName}` : "a model";
  if (c.sequence_batching !== undefined) {
    yield {
      path: "response_cache.enable",
      message: `Response Cache does not currently support ${name} with sequence batching scheduler. Please disable the response cache.`,
    };
  }
  if (c.model_transaction_policy?.decoupled) {
    yield {
      path: "response_cache.enable",
      message: `Response Cache does not currently support ${name} with 'decoupled' transaction policy. Please disable the response cache.`,
    };
  }
}
