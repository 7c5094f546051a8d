/**
 * Triton's load-time rules beyond the schema, as a table of named lint rules.
 *
 * The schema (unknown fields, enum names, integer ranges, oneofs such as
 * `dynamic_batching` / `sequence_batching` / `ensemble_scheduling`) is checked by the
 * parser. The rules here are the checks Triton runs when it loads a model, mostly from
 * triton-inference-server/core `src/model_config_utils.cc` (`ValidateModelConfig`,
 * `ValidateModelIOConfig`, `ValidateInstanceGroup`, `ValidateEnsembleSchedulingConfig`),
 * `src/ensemble_scheduler/ensemble_utils.cc` (`ValidateEnsembleConfig`, the cross-model
 * part) and the onnxruntime / tensorflow backends (execution accelerators). Messages quote
 * Triton's own wording where it has one, then add the received value and what would be valid.
 *
 * Triton stops at the first error; the linter reports them all. Triton validates the
 * config after backend auto-complete, so a field that auto-complete can fill (a missing
 * `max_batch_size`, `platform`, or the whole input/output list) is never reported as missing.
 * A few rules flag settings Triton accepts but ignores; their JSDoc says so.
 *
 * Pure: no I/O. `../lint-files.ts` reads files and builds the {@link RepositoryIndex}.
 *
 * Layout: `rule.ts` (what a rule is and sees), `common.ts` (shared facts and helpers), one
 * file per rule family (`model.ts`, `batching.ts`, `queue-policy.ts`, `instance-groups.ts`,
 * `tensors.ts`, `sequence-batching.ts`, `response-cache.ts`, `model-metrics.ts`,
 * `accelerators.ts`, `ensemble.ts`, `ensemble-repository.ts`), `registry.ts` (every rule by
 * name) and `run.ts` (runs them over a parsed config).
 */
export { type LintRuleName, lintRules } from "./registry.js";
export type {
  Finding,
  LintContext,
  LintOptions,
  LintRule,
  RepositoryIndex,
  RepositoryModel,
} from "./rule.js";
export { lintModelConfig, modelFolderOf, type ParseRuleName, parseProblemRule } from "./run.js";
