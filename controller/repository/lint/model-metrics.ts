/**
 * Lint rules for per-model metric controls (metric families and histogram buckets).
 *
 * Each rule is registered by name in `registry.ts`; see `rule.ts` for what a rule sees.
 */
import type { Finding, LintContext } from "./rule.js";

/** core ValidateModelMetrics: each metric control has a metric family and non-empty histogram buckets. */
export function* modelMetrics(ctx: LintContext): Generator<Finding> {
  for (const [i, mc] of (ctx.config.model_metrics?.metric_control ?? []).entries()) {
    const path = `model_metrics.metric_control[${i}]`;
    if (mc.metric_identifier === undefined) {
      yield {
        path: `${path}.metric_identifier`,
        message:
          "metric control must specify 'metric_identifier' (e.g. metric_identifier { family: \"nv_inference_first_response_histogram_ms\" })",
      };
    } else if (!mc.metric_identifier.family) {
      yield {
        path: `${path}.metric_identifier`,
        message: "metric identifier must specify non-empty 'family'",
      };
    }
    if (mc.histogram_options === undefined) {
      yield {
        path: `${path}.histogram_options`,
        message:
          "metric control must specify 'histogram_options' (e.g. histogram_options { buckets: [ 1, 2, 4, 8 ] })",
      };
    } else if ((mc.histogram_options.buckets ?? []).length === 0) {
      yield {
        path: `${path}.histogram_options`,
        message: "histogram options must specify non-empty 'buckets'",
      };
    }
  }
}
