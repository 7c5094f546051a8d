/**
 * The ModelPool policy: schema (types, defaults, docs, CRD schema), durations, and the
 * loader that turns YAML or a custom resource into a validated, frozen {@link Policy}.
 */
export { CronError, type CronExpression, parseCron } from "./cron.js";
export {
  DURATION_HINT,
  DURATION_PATTERN,
  DURATION_UNITS,
  type Duration,
  type DurationUnit,
  formatDuration,
  isDuration,
  parseDuration,
} from "./duration.js";
export {
  formatPath,
  loadModelPool,
  type ModelPoolResult,
  type ParseOptions,
  type PathSegment,
  parseModelPool,
  parseModelPoolObject,
  parsePath,
  readPoolName,
} from "./load.js";
export { SPOT_NOTICE_SECONDS } from "./providers.js";
export * from "./schema.js";
