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
 * Pure: no I/O. `lint-files.ts` reads files and builds the {@link RepositoryIndex}.
 */
import { basename, dirname } from "node:path";
import type { Problem } from "../diagnostics/problem.js";
import { didYouMean } from "../diagnostics/suggest.js";
import {
  type DataType,
  type ModelConfig,
  type ModelEnsembling_Step,
  type ModelInput,
  type ModelOptimizationPolicy_ExecutionAccelerators_Accelerator,
  type ModelOutput,
  type ModelQueuePolicy,
  type ModelSequenceBatching_Control_Kind,
  type ParsedModelConfig,
  positionOf,
} from "./model-config.js";

/** One model of a model repository, as the cross-model (ensemble) rules see it. */
export interface RepositoryModel {
  /** The model's folder name, which is the name Triton serves it under. */
  readonly name: string;
  /** Its `config.pbtxt`, or undefined when the folder has none (Triton auto-completes one). */
  readonly file?: string;
  /**
   * The parsed config; undefined when there is no `config.pbtxt` or it has parse problems,
   * in which case only the model's existence is checked.
   */
  readonly config?: ModelConfig;
}

/** The models of one model repository, by folder name. */
export interface RepositoryIndex {
  /** The repository directory (parent of the model folders), as the user named it. */
  readonly root: string;
  readonly models: ReadonlyMap<string, RepositoryModel>;
}

/** Options of {@link lintModelConfig}. */
export interface LintOptions {
  /**
   * The repository the config belongs to. Without it the cross-model checks (ensemble
   * steps name existing models, map existing tensors of matching type) are skipped.
   */
  readonly repo?: RepositoryIndex;
  /**
   * The model's folder name, which `name` must equal.
   * @default the parent folder of `parsed.file` when that file is named `config.pbtxt`;
   * otherwise none, and the name check is skipped.
   */
  readonly modelFolder?: string;
}

/** One finding of a rule, before the runner adds the rule name and the file position. */
export interface Finding {
  /** Path of the offending field, as keyed in the position index (`input[0].dims[2]`). */
  readonly path: string;
  /** What is wrong, the received value, and what would be valid. */
  readonly message: string;
}

/** What a rule sees. */
export interface LintContext {
  readonly config: ModelConfig;
  /** The model's name for messages: `name`, else the folder name, else empty. */
  readonly modelName: string;
  /** The folder the config lives in, when known (see {@link LintOptions.modelFolder}). */
  readonly modelFolder: string | undefined;
  readonly repo: RepositoryIndex | undefined;
  /** Whether `path` (e.g. `max_batch_size`) was written in the file. */
  has(path: string): boolean;
}

/** A lint rule: one small check over a config, yielding every finding. */
export type LintRule = (ctx: LintContext) => Iterable<Finding>;

// ---------------------------------------------------------------------------------------
// Shared facts and helpers

/** Platforms Triton knows, and the backend each belongs to (core `GetBackendTypeFromPlatform`). */
const PLATFORM_BACKEND: Readonly<Record<string, string>> = {
  tensorrt_plan: "tensorrt",
  tensorflow_graphdef: "tensorflow",
  tensorflow_savedmodel: "tensorflow",
  onnxruntime_onnx: "onnxruntime",
  pytorch_libtorch: "pytorch",
  torch_aoti: "pytorch",
};
/** Backends whose platform Triton checks (core `GetBackendType`); any other backend is custom and takes any platform. */
const TYPED_BACKENDS: ReadonlySet<string> = new Set([
  "tensorrt",
  "tensorflow",
  "onnxruntime",
  "pytorch",
]);
/** The platform auto-complete gives a typed backend when `platform` is empty (core `AutoCompleteBackendFields`). */
const BACKEND_DEFAULT_PLATFORM: Readonly<Record<string, string>> = {
  tensorrt: "tensorrt_plan",
  onnxruntime: "onnxruntime_onnx",
  pytorch: "pytorch_libtorch",
};
/** The backend auto-complete derives from `default_model_filename` when `backend` is empty. */
const FILENAME_BACKEND: Readonly<Record<string, string>> = {
  "model.plan": "tensorrt",
  "model.onnx": "onnxruntime",
  "model.xml": "openvino",
  "model.pt": "pytorch",
  "model.pt2": "pytorch",
  "model.py": "python",
};
const ENSEMBLE = "ensemble";
/** Backends NVIDIA ships, for "did you mean" on a misspelled backend (any other name is a custom backend). */
const OFFICIAL_BACKENDS = [
  "tensorrt",
  "onnxruntime",
  "tensorflow",
  "pytorch",
  "openvino",
  "python",
  "dali",
  "fil",
  "vllm",
  "tensorrtllm",
  "identity",
  "repeat",
  "square",
] as const;

const DATA_TYPES: readonly DataType[] = [
  "TYPE_BOOL",
  "TYPE_UINT8",
  "TYPE_UINT16",
  "TYPE_UINT32",
  "TYPE_UINT64",
  "TYPE_INT8",
  "TYPE_INT16",
  "TYPE_INT32",
  "TYPE_INT64",
  "TYPE_FP16",
  "TYPE_FP32",
  "TYPE_FP64",
  "TYPE_STRING",
  "TYPE_BF16",
];

/** ` for <model>` as Triton appends it, or nothing when the name is unknown. */
function forModel(ctx: LintContext): string {
  return ctx.modelName ? ` for ${ctx.modelName}` : "";
}
/** `'<model>'` quoted, or `this model`. */
function quotedModel(ctx: LintContext): string {
  return ctx.modelName ? `'${ctx.modelName}'` : "this model";
}
/** The path of a string-keyed map entry, as the parser records it: `a.b["k"]`. */
function mapPath(base: string, key: string): string {
  return `${base}[${JSON.stringify(key)}]`;
}
function list(values: readonly (string | number | bigint)[]): string {
  return `[${values.join(", ")}]`;
}
function names(values: Iterable<string>): string {
  const all = [...values];
  return all.length === 0 ? "(none)" : all.map((v) => `'${v}'`).join(", ");
}

/** The backend that will run the model: `backend`, else what the platform implies. */
function effectiveBackend(c: ModelConfig): string | undefined {
  if (c.backend) return c.backend;
  if (c.platform) return PLATFORM_BACKEND[c.platform];
  return c.default_model_filename ? FILENAME_BACKEND[c.default_model_filename] : undefined;
}
/** The platform after auto-complete: `platform`, else the typed backend's default. */
function effectivePlatform(c: ModelConfig): string | undefined {
  if (c.platform) return c.platform;
  return c.backend ? BACKEND_DEFAULT_PLATFORM[c.backend] : undefined;
}
function isEnsemble(c: ModelConfig): boolean {
  return c.platform === ENSEMBLE || c.ensemble_scheduling !== undefined;
}

interface Tensor<T> {
  readonly kind: "input" | "output";
  readonly index: number;
  readonly path: string;
  readonly io: T;
}
function* tensors(c: ModelConfig): Generator<Tensor<ModelInput> | Tensor<ModelOutput>> {
  for (const [index, io] of (c.input ?? []).entries()) {
    yield { kind: "input", index, path: `input[${index}]`, io };
  }
  for (const [index, io] of (c.output ?? []).entries()) {
    yield { kind: "output", index, path: `output[${index}]`, io };
  }
}
/** `model input 'x' ` as Triton prefixes its IO messages. */
function ioPrefix(t: Tensor<ModelInput> | Tensor<ModelOutput>): string {
  return `model ${t.kind} ${t.io.name ? `'${t.io.name}' ` : ""}`;
}

// ---------------------------------------------------------------------------------------
// Model, platform and backend

/** core ValidateModelConfig: "'max_batch_size' must be non-negative value for X". */
function* maxBatchSize(ctx: LintContext): Generator<Finding> {
  const m = ctx.config.max_batch_size ?? 0;
  if (m < 0) {
    yield {
      path: "max_batch_size",
      message: `'max_batch_size' must be non-negative value${forModel(ctx)} (got ${m}); use 0 for a model that does not batch, or the largest batch size it accepts`,
    };
  }
}

/**
 * core ModelRepositoryManager: "unexpected directory name 'D' for model 'N', directory
 * name must equal model name". A missing name is filled from the folder, which is fine.
 */
function* modelNameDirectory(ctx: LintContext): Generator<Finding> {
  const name = ctx.config.name;
  if (ctx.modelFolder === undefined || !name || name === ctx.modelFolder) return;
  yield {
    path: "name",
    message: `unexpected directory name '${ctx.modelFolder}' for model '${name}', directory name must equal model name; rename the folder or set name: "${ctx.modelFolder}" (or drop name, which defaults to the folder)`,
  };
}

/**
 * core ValidateModelConfig + AutoCompleteBackendFields: a non-ensemble platform must be
 * one Triton knows unless a backend is given ("unexpected platform type 'P' for X"), and a
 * typed backend (tensorrt, tensorflow, onnxruntime, pytorch) must agree with the platform
 * ("unexpected 'platform' and 'backend' pair"). With neither set, Triton decides from the
 * model files, so nothing is checked.
 */
function* platformBackend(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  const platform = c.platform ?? "";
  if (platform === ENSEMBLE || platform === "") return;
  let backend = c.backend ?? "";
  if (backend === "") {
    if (PLATFORM_BACKEND[platform] !== undefined) return;
    const fromFile = c.default_model_filename
      ? FILENAME_BACKEND[c.default_model_filename]
      : undefined;
    if (fromFile === undefined) {
      const known = [...Object.keys(PLATFORM_BACKEND), ENSEMBLE];
      const hint = (OFFICIAL_BACKENDS as readonly string[]).includes(platform)
        ? `; "${platform}" is a backend name: write backend: "${platform}"${BACKEND_DEFAULT_PLATFORM[platform] ? ` or platform: "${BACKEND_DEFAULT_PLATFORM[platform]}"` : ""}`
        : didYouMean(platform, known);
      yield {
        path: "platform",
        message: `unexpected platform type '${platform}'${forModel(ctx)}: with no backend, platform must be one of ${known.join(", ")}${hint}`,
      };
      return;
    }
    backend = fromFile;
  }
  if (!TYPED_BACKENDS.has(backend) || PLATFORM_BACKEND[platform] === backend) return;
  const fits = Object.entries(PLATFORM_BACKEND)
    .filter(([, b]) => b === backend)
    .map(([p]) => p);
  yield {
    path: c.backend ? "backend" : "platform",
    message: `unexpected 'platform' and 'backend' pair, got:${platform}, ${backend}; backend "${backend}" takes platform ${fits.map((p) => `"${p}"`).join(" or ")} (or no platform)`,
  };
}

/**
 * Not a Triton load error: a backend name one typo away from an official backend makes
 * Triton look for a custom backend library that does not exist.
 */
function* backendName(ctx: LintContext): Generator<Finding> {
  const backend = ctx.config.backend;
  if (!backend || (OFFICIAL_BACKENDS as readonly string[]).includes(backend)) return;
  const hint = didYouMean(backend, OFFICIAL_BACKENDS);
  if (hint === "") return;
  yield {
    path: "backend",
    message: `backend "${backend}" is not an official backend, so Triton will look for a custom backend library named libtriton_${backend}.so${hint}`,
  };
}

// ---------------------------------------------------------------------------------------
// Dynamic batching and queue policies

/**
 * Not a Triton load error, but a contradiction: `max_batch_size: 0` declares a model that
 * does not batch, so dynamic batching has nothing to form. Only an explicit 0 is flagged:
 * when the field is absent, backend auto-complete may set it.
 */
function* dynamicBatchingMaxBatchSize(ctx: LintContext): Generator<Finding> {
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
function* preferredBatchSize(ctx: LintContext): Generator<Finding> {
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
function* preferredBatchSizeDuplicate(ctx: LintContext): Generator<Finding> {
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

/** core ValidateModelConfig: "default priority level must be in range [1, N] for X". */
function* defaultPriorityLevel(ctx: LintContext): Generator<Finding> {
  const db = ctx.config.dynamic_batching;
  const levels = db?.priority_levels ?? 0n;
  if (db === undefined || levels === 0n) return;
  const level = db.default_priority_level ?? 0n;
  if (level !== 0n && level <= levels) return;
  yield {
    path: "dynamic_batching.default_priority_level",
    message: `default priority level must be in range [1, ${levels}]${forModel(ctx)} (got ${level}${db.default_priority_level === undefined ? ", not set" : ""}); with priority_levels: ${levels}, set default_priority_level to a level from 1 (highest) to ${levels}`,
  };
}

/** core ValidateModelConfig: "priority queue policy must have priority level in range [1, N] for X". */
function* priorityQueuePolicyLevel(ctx: LintContext): Generator<Finding> {
  const db = ctx.config.dynamic_batching;
  const levels = db?.priority_levels ?? 0n;
  if (db === undefined || levels === 0n) return;
  for (const key of Object.keys(db.priority_queue_policy ?? {})) {
    const level = BigInt(key);
    if (level !== 0n && level <= levels) continue;
    yield {
      path: `dynamic_batching.priority_queue_policy[${key}]`,
      message: `priority queue policy must have priority level in range [1, ${levels}]${forModel(ctx)} (got key ${key}); key each policy by a level from 1 to priority_levels (${levels})`,
    };
  }
}

/**
 * Not a Triton load error: `default_priority_level` and `priority_queue_policy` are
 * ignored while `priority_levels` is 0 (priorities disabled).
 */
function* priorityLevelsUnset(ctx: LintContext): Generator<Finding> {
  const db = ctx.config.dynamic_batching;
  if (db === undefined || (db.priority_levels ?? 0n) !== 0n) return;
  const ignored = [
    ...((db.default_priority_level ?? 0n) !== 0n ? ["default_priority_level"] : []),
    ...(Object.keys(db.priority_queue_policy ?? {}).length > 0 ? ["priority_queue_policy"] : []),
  ];
  if (ignored.length === 0) return;
  yield {
    path: `dynamic_batching.${ignored[0]}`,
    message: `${ignored.join(" and ")} ${ignored.length > 1 ? "are" : "is"} ignored because priority_levels is 0 (priorities disabled); set priority_levels to the number of levels, or remove ${ignored.length > 1 ? "them" : "it"}`,
  };
}

/** core ValidateModelConfig: "Only one priority level is allowed when 'preserve_ordering' is true for X". */
function* preserveOrderingPriority(ctx: LintContext): Generator<Finding> {
  const db = ctx.config.dynamic_batching;
  if (!db?.preserve_ordering || (db.priority_levels ?? 0n) <= 1n) return;
  yield {
    path: "dynamic_batching.priority_levels",
    message: `Only one priority level is allowed when 'preserve_ordering' is true${forModel(ctx)} (got priority_levels: ${db.priority_levels}); set priority_levels to 0 or 1, or turn preserve_ordering off`,
  };
}

function queuePolicies(ctx: LintContext): [string, ModelQueuePolicy][] {
  const db = ctx.config.dynamic_batching;
  if (db === undefined) return [];
  return [
    ...(db.default_queue_policy
      ? [
          ["dynamic_batching.default_queue_policy", db.default_queue_policy] as [
            string,
            ModelQueuePolicy,
          ],
        ]
      : []),
    ...Object.entries(db.priority_queue_policy ?? {}).map(
      ([key, p]) =>
        [`dynamic_batching.priority_queue_policy[${key}]`, p] as [string, ModelQueuePolicy],
    ),
  ];
}

/**
 * core ValidateModelConfig: "Queue policy can not have DELAY as timeout action when
 * 'preserve_ordering' is true for X" (a DELAY policy with a non-zero default timeout).
 */
function* preserveOrderingDelay(ctx: LintContext): Generator<Finding> {
  if (!ctx.config.dynamic_batching?.preserve_ordering) return;
  for (const [path, p] of queuePolicies(ctx)) {
    const timeout = p.default_timeout_microseconds ?? 0n;
    if (p.timeout_action !== "DELAY" || timeout === 0n) continue;
    yield {
      path: `${path}.timeout_action`,
      message: `Queue policy can not have DELAY as timeout action when 'preserve_ordering' is true${forModel(ctx)} (got timeout_action: DELAY with default_timeout_microseconds: ${timeout}); use timeout_action: REJECT, or turn preserve_ordering off`,
    };
  }
}

/**
 * Not a Triton load error: a DELAY timeout action never applies when requests cannot time
 * out (no default timeout and no per-request override).
 */
function* queuePolicyTimeout(ctx: LintContext): Generator<Finding> {
  for (const [path, p] of queuePolicies(ctx)) {
    if (p.timeout_action !== "DELAY" || (p.default_timeout_microseconds ?? 0n) !== 0n) continue;
    if (p.allow_timeout_override) continue;
    yield {
      path: `${path}.timeout_action`,
      message:
        "timeout_action DELAY never applies: default_timeout_microseconds is 0 (no timeout) and allow_timeout_override is false; set a default_timeout_microseconds, allow the override, or drop timeout_action",
    };
  }
}

// ---------------------------------------------------------------------------------------
// Instance groups

function groupName(ctx: LintContext, i: number): string {
  const name = ctx.config.instance_group?.[i]?.name;
  return name ? `'${name}'` : `#${i}`;
}

/**
 * core ValidateInstanceGroup: "instance group G of model X has kind KIND_CPU (or
 * KIND_MODEL) but specifies one or more GPUs".
 */
function* instanceGroupGpus(ctx: LintContext): Generator<Finding> {
  for (const [i, g] of (ctx.config.instance_group ?? []).entries()) {
    if ((g.kind !== "KIND_CPU" && g.kind !== "KIND_MODEL") || (g.gpus ?? []).length === 0) continue;
    yield {
      path: `instance_group[${i}].gpus`,
      message: `instance group ${groupName(ctx, i)} of model ${quotedModel(ctx)} has kind ${g.kind} but specifies one or more GPUs (got gpus: ${list(g.gpus ?? [])}); remove gpus, or use kind: KIND_GPU to place instances on those GPUs`,
    };
  }
}

/** core ValidateInstanceGroup: "specifies invalid or unsupported gpu id" (a negative id is never a CUDA device). */
function* instanceGroupGpuId(ctx: LintContext): Generator<Finding> {
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
function* instanceGroupCount(ctx: LintContext): Generator<Finding> {
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
function* instanceGroupProfile(ctx: LintContext): Generator<Finding> {
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
function* rateLimiterResource(ctx: LintContext): Generator<Finding> {
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

// ---------------------------------------------------------------------------------------
// Inputs and outputs (core ValidateModelIOConfig / ValidateIOShape)

/** core ValidateIOShape: "model input must specify 'name'"; also no name declared twice. */
function* ioName(ctx: LintContext): Generator<Finding> {
  const first = new Map<string, string>();
  for (const t of tensors(ctx.config)) {
    const name = t.io.name ?? "";
    if (name === "") {
      yield {
        path: `${t.path}.name`,
        message: `model ${t.kind} must specify 'name'${forModel(ctx)}; use the tensor name the model expects`,
      };
      continue;
    }
    const key = `${t.kind}:${name}`;
    const where = first.get(key);
    if (where === undefined) first.set(key, t.path);
    else
      yield {
        path: `${t.path}.name`,
        message: `model ${t.kind} '${name}' is declared twice (first at ${where}); each ${t.kind} name must be unique`,
      };
  }
}

/** core ValidateIOShape: "model input 'x' must specify 'data_type'". */
function* ioDataType(ctx: LintContext): Generator<Finding> {
  for (const t of tensors(ctx.config)) {
    if (t.io.data_type !== undefined && t.io.data_type !== "TYPE_INVALID") continue;
    yield {
      path: `${t.path}.data_type`,
      message: `${ioPrefix(t)}must specify 'data_type'${forModel(ctx)} (got ${t.io.data_type ?? "none"}); valid: ${DATA_TYPES.join(", ")}`,
    };
  }
}

/**
 * core ValidateIOShape: "must specify 'dims'" (the empty shape is not allowed: use
 * `dims: [ 1 ]` with `reshape: { shape: [ ] }` for a scalar) and "dimension must be integer
 * >= 1, or -1 to indicate a variable-size dimension".
 */
function* ioDims(ctx: LintContext): Generator<Finding> {
  for (const t of tensors(ctx.config)) {
    const dims = t.io.dims ?? [];
    if (dims.length === 0) {
      yield {
        path: `${t.path}.dims`,
        message: `${ioPrefix(t)}must specify 'dims'${forModel(ctx)}; list the non-batch dimensions (e.g. dims: [ 3, 640, 640 ]), or for a scalar write dims: [ 1 ] with reshape: { shape: [ ] }`,
      };
      continue;
    }
    for (const [j, d] of dims.entries()) {
      if (d >= 1n || d === -1n) continue;
      yield {
        path: `${t.path}.dims[${j}]`,
        message: `${ioPrefix(t)}dimension must be integer >= 1, or -1 to indicate a variable-size dimension (got ${d} in dims ${list(dims)})`,
      };
    }
  }
}

/** Triton's GetElementCount: the product, -1 when any dimension is -1, 0 for no dimensions. */
function elementCount(shape: readonly bigint[]): bigint {
  if (shape.length === 0) return 0n;
  if (shape.includes(-1n)) return -1n;
  return shape.reduce((a, d) => a * d, 1n);
}

/** Element counts of the runs between -1 dimensions: [2, 4, -1, 6] → [8, 6]. */
function wildcardRuns(shape: readonly bigint[]): bigint[] {
  const runs: bigint[] = [];
  let n = 1n;
  for (const d of shape) {
    if (d === -1n) {
      runs.push(n);
      n = 1n;
    } else n *= d;
  }
  runs.push(n);
  return runs;
}

/**
 * core ValidateIOShape: reshape dims are >= 1 or -1; no empty reshape for a non-batching
 * model; dims and reshape have the same element count, and with -1 dimensions the same
 * count between each pair of -1s ("has different size for dims and reshape").
 */
function* ioReshape(ctx: LintContext): Generator<Finding> {
  const max = ctx.config.max_batch_size ?? 0;
  for (const t of tensors(ctx.config)) {
    const reshape = t.io.reshape;
    if (reshape === undefined) continue;
    const shape = reshape.shape ?? [];
    const dims = t.io.dims ?? [];
    const path = `${t.path}.reshape`;
    if (shape.length === 0 && max === 0 && ctx.has("max_batch_size")) {
      yield {
        path,
        message: `${ioPrefix(t)}cannot have empty reshape for non-batching model as scalar tensors are not supported (max_batch_size is 0); give reshape a shape, or batch the model`,
      };
      continue;
    }
    const bad = shape.findIndex((d) => d < 1n && d !== -1n);
    if (bad >= 0) {
      yield {
        path: `${path}.shape[${bad}]`,
        message: `${ioPrefix(t)}reshape dimensions must be integer >= 1, or -1 to indicate a variable-size dimension (got ${shape[bad]} in shape ${list(shape)})`,
      };
      continue;
    }
    if (dims.length === 0 || dims.some((d) => d < 1n && d !== -1n)) continue;
    // GetElementCount: -1 when any dimension is -1, 0 for an empty shape.
    const dimsSize = elementCount(dims);
    const shapeSize = elementCount(shape);
    const sizes = `dims ${list(dims)}, reshape ${list(shape)}`;
    if (dimsSize !== shapeSize && (shapeSize !== 0n || dimsSize !== 1n)) {
      yield {
        path,
        message: `${ioPrefix(t)}has different size for dims and reshape (${sizes}); reshape must keep the element count, and a -1 in one needs a -1 in the other`,
      };
    } else if (dimsSize === -1n) {
      const dimRuns = wildcardRuns(dims);
      const shapeRuns = wildcardRuns(shape);
      if (dimRuns.length !== shapeRuns.length) {
        yield {
          path,
          message: `${ioPrefix(t)}has different number of variable-size dimensions for dims and reshape (${sizes}); each -1 in dims needs one in reshape`,
        };
      } else if (dimRuns.some((n, k) => n !== shapeRuns[k])) {
        yield {
          path,
          message: `${ioPrefix(t)}has different size for dims and reshape (${sizes}: ${dimRuns.join(" | ")} vs ${shapeRuns.join(" | ")} elements between the -1 dimensions); each run between -1s must keep its element count`,
        };
      }
    }
  }
}

/** core ValidateModelInput: "model input NHWC/NCHW require 3 dims". */
function* ioFormat(ctx: LintContext): Generator<Finding> {
  for (const [i, io] of (ctx.config.input ?? []).entries()) {
    if (io.format !== "FORMAT_NHWC" && io.format !== "FORMAT_NCHW") continue;
    const dims = io.dims ?? [];
    if (dims.length === 3 || dims.length === 0) continue;
    yield {
      path: `input[${i}].format`,
      message: `model input NHWC/NCHW require 3 dims (input '${io.name ?? ""}' has format ${io.format} and ${dims.length} dims ${list(dims)}); list only the 3 non-batch dimensions (the batch dimension comes from max_batch_size), or use FORMAT_NONE`,
    };
  }
}

/** core ValidateModelInput/Output: "shape tensors are only supported for TensorRT platform". */
function* ioShapeTensor(ctx: LintContext): Generator<Finding> {
  const platform = effectivePlatform(ctx.config);
  if (platform === "tensorrt_plan") return;
  for (const t of tensors(ctx.config)) {
    if (!t.io.is_shape_tensor) continue;
    yield {
      path: `${t.path}.is_shape_tensor`,
      message: `shape tensors are only supported for TensorRT platform (${t.kind} '${t.io.name ?? ""}' has is_shape_tensor: true, platform is ${platform ?? "unset"}); remove is_shape_tensor`,
    };
  }
}

/**
 * core ValidateNonLinearFormatIO: "Non-linear IO format is only supported for the TensorRT
 * platform" and "Non-linear IO format input requires 3 dims".
 */
function* ioNonLinearFormat(ctx: LintContext): Generator<Finding> {
  const platform = effectivePlatform(ctx.config);
  for (const t of tensors(ctx.config)) {
    if (!t.io.is_non_linear_format_io) continue;
    const path = `${t.path}.is_non_linear_format_io`;
    const dims = t.io.dims ?? [];
    if (platform !== "tensorrt_plan") {
      yield {
        path,
        message: `Non-linear IO format is only supported for the TensorRT platform (${t.kind} '${t.io.name ?? ""}', platform is ${platform ?? "unset"}); remove is_non_linear_format_io`,
      };
    } else if (dims.length !== 3) {
      yield {
        path,
        message: `Non-linear IO format ${t.kind} requires 3 dims (got ${dims.length}: ${list(dims)})`,
      };
    }
  }
}

/**
 * core ValidateBatchIO: each batch input/output has exactly one source input, names an
 * existing input; batch inputs are TYPE_INT32 or TYPE_FP32; batch output targets are
 * existing outputs, each named once. Names are only checked when inputs/outputs are declared.
 */
function* batchIo(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  const inputs = new Set((c.input ?? []).map((io) => io.name ?? ""));
  const outputs = new Set((c.output ?? []).map((io) => io.name ?? ""));
  const groups = [
    ["batch_input", c.batch_input ?? []],
    ["batch_output", c.batch_output ?? []],
  ] as const;
  for (const [field, items] of groups) {
    for (const [i, b] of items.entries()) {
      const path = `${field}[${i}]`;
      const sources = b.source_input ?? [];
      const kind =
        b.kind ??
        (field === "batch_input" ? "BATCH_ELEMENT_COUNT" : "BATCH_SCATTER_WITH_INPUT_SHAPE");
      if (sources.length !== 1) {
        yield {
          path: `${path}.source_input`,
          message: `${field === "batch_input" ? "batch input" : "batch output"} kind '${kind}' expects 1 source input, got ${sources.length}; name exactly one model input in source_input`,
        };
      }
      for (const [j, s] of sources.entries()) {
        if (inputs.size === 0 || inputs.has(s)) continue;
        yield {
          path: `${path}.source_input[${j}]`,
          message: `unknown source input name '${s}'; inputs: ${names(inputs)}${didYouMean(s, inputs)}`,
        };
      }
    }
  }
  for (const [i, b] of (c.batch_input ?? []).entries()) {
    if (b.data_type === "TYPE_INT32" || b.data_type === "TYPE_FP32") continue;
    yield {
      path: `batch_input[${i}].data_type`,
      message: `batch input data type must be TYPE_INT32 or TYPE_FP32 (got ${b.data_type ?? "none"})`,
    };
  }
  for (const [i, b] of (c.batch_output ?? []).entries()) {
    const seen = new Set<string>();
    for (const [j, target] of (b.target_name ?? []).entries()) {
      const path = `batch_output[${i}].target_name[${j}]`;
      if (outputs.size > 0 && !outputs.has(target)) {
        yield {
          path,
          message: `unknown target output name '${target}'; outputs: ${names(outputs)}${didYouMean(target, outputs)}`,
        };
      } else if (seen.has(target)) {
        yield { path, message: `target output name '${target}' can only be specified once` };
      }
      seen.add(target);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Sequence batching, response cache, metrics

const BOOLEAN_CONTROLS: readonly ModelSequenceBatching_Control_Kind[] = [
  "CONTROL_SEQUENCE_START",
  "CONTROL_SEQUENCE_END",
  "CONTROL_SEQUENCE_READY",
];
const CORRID_TYPES: readonly DataType[] = [
  "TYPE_UINT64",
  "TYPE_INT64",
  "TYPE_UINT32",
  "TYPE_INT32",
  "TYPE_STRING",
];

/**
 * core GetBooleanSequenceControlProperties / GetTypedSequenceControlProperties: each
 * control tensor has a name used for one control kind; each kind appears at most once;
 * START/END/READY give exactly one of int32/fp32/bool `_false_true` with 2 entries; CORRID
 * gives none of those and a data type of TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 or TYPE_STRING.
 */
function* sequenceBatchingControl(ctx: LintContext): Generator<Finding> {
  const inputs = ctx.config.sequence_batching?.control_input ?? [];
  const tensorsSeen = new Set<string>();
  const kindSeen = new Map<string, string>();
  for (const [i, ci] of inputs.entries()) {
    const base = `sequence_batching.control_input[${i}]`;
    const name = ci.name ?? "";
    if (name === "") {
      yield {
        path: `${base}.name`,
        message: `sequence batching control tensor must have a name${forModel(ctx)}`,
      };
    } else if (tensorsSeen.has(name)) {
      yield {
        path: `${base}.name`,
        message: `sequence batching control tensor '${name}' is specified for multiple control kinds${forModel(ctx)}; put all of a tensor's controls in one control_input`,
      };
    }
    tensorsSeen.add(name);
    for (const [j, ctl] of (ci.control ?? []).entries()) {
      const path = `${base}.control[${j}]`;
      const kind = ctl.kind ?? "CONTROL_SEQUENCE_START";
      const first = kindSeen.get(kind);
      if (first !== undefined) {
        yield {
          path,
          message: `sequence batching specifies multiple ${kind} tensors${forModel(ctx)} (first at ${first})`,
        };
        continue;
      }
      kindSeen.set(kind, path);
      const given = [
        ["int32_false_true", ctl.int32_false_true ?? []],
        ["fp32_false_true", ctl.fp32_false_true ?? []],
        ["bool_false_true", ctl.bool_false_true ?? []],
      ].filter(([, v]) => (v as readonly unknown[]).length > 0) as [string, readonly unknown[]][];
      if (kind === "CONTROL_SEQUENCE_CORRID") {
        if (given.length > 0) {
          yield {
            path,
            message: `sequence batching must not specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for ${kind}${forModel(ctx)} (got ${given.map(([f]) => f).join(", ")}); give data_type instead`,
          };
        } else if (!CORRID_TYPES.includes(ctl.data_type ?? "TYPE_INVALID")) {
          yield {
            path: `${path}.data_type`,
            message: `unexpected data type for control ${kind}${forModel(ctx)} (got ${ctl.data_type ?? "none"}). Allowed data types are TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 and TYPE_STRING`,
          };
        }
        continue;
      }
      if (!BOOLEAN_CONTROLS.includes(kind)) continue;
      const only = given[0];
      if (only === undefined) {
        yield {
          path,
          message: `sequence batching must specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for ${kind}${forModel(ctx)}`,
        };
      } else if (given.length > 1) {
        yield {
          path,
          message: `sequence batching specifies more than one from 'int32_false_true', 'fp32_false_true' and 'bool_false_true' for ${kind}${forModel(ctx)} (got ${given.map(([f]) => f).join(", ")})`,
        };
      } else if (only[1].length !== 2) {
        yield {
          path: `${path}.${only[0]}`,
          message: `sequence batching control '${only[0]}' must have exactly 2 entries for ${kind}${forModel(ctx)} (got ${only[1].length}); give the false value then the true value, e.g. [ 0, 1 ]`,
        };
      }
    }
  }
}

/** core ValidateModelConfig: "sequence batching minimum slot utilization must be in range (0.0, 1.0]". */
function* sequenceBatchingSlotUtilization(ctx: LintContext): Generator<Finding> {
  const u = ctx.config.sequence_batching?.direct?.minimum_slot_utilization;
  if (u === undefined || (u >= 0 && u <= 1)) return;
  yield {
    path: "sequence_batching.direct.minimum_slot_utilization",
    message: `sequence batching minimum slot utilization must be in range (0.0, 1.0]${forModel(ctx)} (got ${u})`,
  };
}

/**
 * core ValidateModelConfig: the response cache supports neither decoupled models nor the
 * sequence batcher ("Response Cache does not currently support model X with ...").
 */
function* responseCache(ctx: LintContext): Generator<Finding> {
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

/** core ValidateModelMetrics: each metric control has a metric family and non-empty histogram buckets. */
function* modelMetrics(ctx: LintContext): Generator<Finding> {
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

// ---------------------------------------------------------------------------------------
// Execution accelerators (onnxruntime_backend src/onnxruntime.cc, tensorflow_backend)

type ParamKind = "string" | "int" | "uint" | "bool" | readonly string[];
const ORT_TENSORRT_PARAMS: Readonly<Record<string, ParamKind>> = {
  precision_mode: ["FP32", "FP16", "BF16", "INT8"],
  max_workspace_size_bytes: "uint",
  trt_max_partition_iterations: "int",
  trt_min_subgraph_size: "int",
  int8_calibration_table_name: "string",
  int8_use_native_calibration_table: "bool",
  trt_dla_enable: "bool",
  trt_dla_core: "int",
  trt_engine_cache_enable: "bool",
  trt_engine_cache_path: "string",
  trt_engine_cache_prefix: "string",
  trt_dump_subgraphs: "bool",
  trt_force_sequential_engine_build: "bool",
  trt_context_memory_sharing_enable: "bool",
  trt_layer_norm_fp32_fallback: "bool",
  trt_timing_cache_enable: "bool",
  trt_timing_cache_path: "string",
  trt_force_timing_cache: "bool",
  trt_detailed_build_log: "bool",
  trt_build_heuristics_enable: "bool",
  trt_sparsity_enable: "bool",
  trt_builder_optimization_level: "int",
  trt_auxiliary_streams: "int",
  trt_tactic_sources: "string",
  trt_extra_plugin_lib_paths: "string",
  trt_profile_min_shapes: "string",
  trt_profile_max_shapes: "string",
  trt_profile_opt_shapes: "string",
  trt_cuda_graph_enable: "bool",
  trt_dump_ep_context_model: "bool",
  trt_ep_context_file_path: "string",
  trt_ep_context_embed_mode: "int",
};
const TF_TENSORRT_PARAMS: Readonly<Record<string, ParamKind>> = {
  precision_mode: ["FP32", "FP16"],
  minimum_segment_size: "int",
  max_workspace_size_bytes: "int",
  max_cached_engines: "int",
};
/** Accelerator names each backend reads, by list; an absent list is not read at all. */
const ACCELERATORS: Readonly<
  Record<
    string,
    Partial<Record<"gpu_execution_accelerator" | "cpu_execution_accelerator", readonly string[]>>
  >
> = {
  onnxruntime: {
    gpu_execution_accelerator: ["tensorrt", "cuda"],
    cpu_execution_accelerator: ["openvino"],
  },
  tensorflow: { gpu_execution_accelerator: ["tensorrt", "gpu_io", "auto_mixed_precision"] },
};
const ACCELERATOR_LISTS = ["gpu_execution_accelerator", "cpu_execution_accelerator"] as const;

function* accelerators(
  ctx: LintContext,
): Generator<
  [
    string,
    (typeof ACCELERATOR_LISTS)[number],
    ModelOptimizationPolicy_ExecutionAccelerators_Accelerator,
  ]
> {
  const ea = ctx.config.optimization?.execution_accelerators;
  for (const field of ACCELERATOR_LISTS) {
    for (const [i, a] of (ea?.[field] ?? []).entries()) {
      yield [`optimization.execution_accelerators.${field}[${i}]`, field, a];
    }
  }
}

/**
 * Execution accelerators are read only by the onnxruntime backend (GPU: "tensorrt",
 * "cuda"; CPU: "openvino") and the tensorflow backend (GPU: "tensorrt", "gpu_io",
 * "auto_mixed_precision", not "tensorrt" together with "auto_mixed_precision"). Others
 * fail the load with "unknown Execution Accelerator 'X' is requested" or are ignored.
 */
function* executionAccelerator(ctx: LintContext): Generator<Finding> {
  const backend = effectiveBackend(ctx.config);
  if (backend === undefined) return;
  const allowed = ACCELERATORS[backend];
  const tfNames = new Set<string>();
  for (const [path, field, a] of accelerators(ctx)) {
    const name = a.name ?? "";
    if (allowed === undefined) {
      yield {
        path,
        message: `execution accelerator '${name}' has no effect with the ${backend} backend: only onnxruntime (platform "onnxruntime_onnx") and tensorflow (platform "tensorflow_savedmodel" / "tensorflow_graphdef") read optimization.execution_accelerators; remove it`,
      };
      continue;
    }
    const names = allowed[field];
    if (names === undefined) {
      yield {
        path,
        message: `the ${backend} backend does not read ${field} (got '${name}'); ${Object.entries(
          allowed,
        )
          .map(([f, n]) => `${f} takes ${n.map((x) => `"${x}"`).join(", ")}`)
          .join("; ")}`,
      };
      continue;
    }
    if (!names.includes(name)) {
      const other = ACCELERATOR_LISTS.find((f) => f !== field && allowed[f]?.includes(name));
      yield {
        path: name ? `${path}.name` : path,
        message: `unknown Execution Accelerator '${name}' is requested: the ${backend} backend's ${field} takes ${names.map((n) => `"${n}"`).join(", ")}${other ? `; "${name}" belongs in ${other}` : didYouMean(name, names)}`,
      };
    }
    if (backend === "tensorflow") tfNames.add(name);
  }
  if (tfNames.has("tensorrt") && tfNames.has("auto_mixed_precision")) {
    yield {
      path: "optimization.execution_accelerators.gpu_execution_accelerator",
      message:
        'Auto mixed precision can not be set with TFTRT optimization; keep either "tensorrt" or "auto_mixed_precision"',
    };
  }
}

function paramProblem(kind: ParamKind, value: string): string | undefined {
  if (typeof kind !== "string") {
    return kind.includes(value) ? undefined : `must be one of ${kind.join(", ")}`;
  }
  if (kind === "int") return /^[+-]?\d+$/.test(value) ? undefined : "must be an integer";
  if (kind === "uint") return /^\d+$/.test(value) ? undefined : "must be a non-negative integer";
  if (kind === "bool")
    return /^(true|false|on|off|1|0)$/i.test(value)
      ? undefined
      : "must be true or false (or 1 / 0)";
  return undefined;
}

/**
 * The parameters of a "tensorrt" accelerator: onnxruntime and tensorflow each accept a
 * fixed set ("unknown parameter 'k' is provided for TensorRT Execution Accelerator"), and
 * `precision_mode` takes FP32/FP16/BF16/INT8 (onnxruntime) or FP32/FP16 (tensorflow)
 * ("unsupported precision mode 'x' is requested"); numbers and booleans must parse.
 */
function* executionAcceleratorParameter(ctx: LintContext): Generator<Finding> {
  const backend = effectiveBackend(ctx.config);
  const known =
    backend === "onnxruntime"
      ? ORT_TENSORRT_PARAMS
      : backend === "tensorflow"
        ? TF_TENSORRT_PARAMS
        : undefined;
  if (known === undefined) return;
  for (const [path, field, a] of accelerators(ctx)) {
    if (a.name !== "tensorrt" || field !== "gpu_execution_accelerator") continue;
    for (const [key, value] of Object.entries(a.parameters ?? {})) {
      const at = mapPath(`${path}.parameters`, key);
      const kind = known[key];
      if (kind === undefined) {
        yield {
          path: at,
          message: `unknown parameter '${key}' is provided for TensorRT Execution Accelerator; the ${backend} backend accepts: ${Object.keys(known).join(", ")}${didYouMean(key, Object.keys(known))}`,
        };
        continue;
      }
      const why = paramProblem(kind, value);
      if (why !== undefined) {
        yield {
          path: at,
          message:
            key === "precision_mode"
              ? `unsupported precision mode '${value}' is requested; precision_mode ${why}`
              : `TensorRT parameter '${key}' ${why} (got "${value}")`,
        };
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Ensembles: in-config checks (core ValidateEnsembleSchedulingConfig / BuildEnsembleGraph)

function steps(c: ModelConfig): readonly ModelEnsembling_Step[] {
  return c.ensemble_scheduling?.step ?? [];
}
function stepPath(i: number): string {
  return `ensemble_scheduling.step[${i}]`;
}
function stepLabel(step: ModelEnsembling_Step, i: number): string {
  return `step ${i}${step.model_name ? ` (model '${step.model_name}')` : ""}`;
}

/** core ValidateModelConfig: "ensemble scheduling must be set for ensemble X whose platform is ensemble". */
function* ensembleSchedulingRequired(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (c.platform !== ENSEMBLE || c.ensemble_scheduling !== undefined) return;
  yield {
    path: "platform",
    message: `ensemble scheduling must be set for ensemble ${ctx.modelName || "(unnamed)"} whose platform is ensemble; add ensemble_scheduling { step [ ... ] }, or set the platform/backend of a real model`,
  };
}

/**
 * core ValidateEnsembleSchedulingConfig / ValidateModelConfig: `ensemble_scheduling` needs
 * platform "ensemble" ("ensemble scheduling cannot be set for model 'X' whose platform is
 * not ensemble"), and an ensemble has no backend ("must have platform type 'ensemble' and
 * empty backend type").
 */
function* ensemblePlatform(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (c.ensemble_scheduling !== undefined && c.platform !== ENSEMBLE) {
    yield {
      path: "ensemble_scheduling",
      message: `ensemble scheduling cannot be set for model ${quotedModel(ctx)} whose platform is not ensemble (got platform ${c.platform ? `"${c.platform}"` : "unset"}); set platform: "ensemble"`,
    };
  }
  if (c.platform === ENSEMBLE && c.backend) {
    yield {
      path: "backend",
      message: `Ensemble model ${quotedModel(ctx)} must have platform type 'ensemble' and empty backend type (got backend "${c.backend}"); remove backend`,
    };
  }
}

/**
 * core ValidateEnsembleSchedulingConfig: an ensemble has no instances, so "instance group
 * should not be specified", "optimization should not be specified" and "model_warmup can
 * not be specified" for it (configure those on the composing models).
 */
function* ensembleForbiddenField(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (!isEnsemble(c)) return;
  const name = quotedModel(ctx);
  if ((c.instance_group ?? []).length > 0) {
    yield {
      path: "instance_group",
      message: `instance group should not be specified for ensemble ${name} (got ${c.instance_group?.length} group(s)); set instance_group on the composing models instead`,
    };
  }
  if (c.optimization !== undefined) {
    yield {
      path: "optimization",
      message: `optimization should not be specified for ensemble ${name}; set optimization on the composing models instead`,
    };
  }
  if ((c.model_warmup ?? []).length > 0) {
    yield {
      path: "model_warmup",
      message: `model_warmup can not be specified for ensemble ${name} (got ${c.model_warmup?.length} warmup entr${c.model_warmup?.length === 1 ? "y" : "ies"}); warm up the composing models instead`,
    };
  }
}

/**
 * core ValidateEnsembleSchedulingConfig / BuildEnsembleGraph: "must specify 'step'", and
 * each step "must specify 'model_name'", a non-empty 'input_map' and 'output_map'.
 */
function* ensembleStep(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (c.ensemble_scheduling === undefined) return;
  const name = quotedModel(ctx);
  if (steps(c).length === 0) {
    yield {
      path: "ensemble_scheduling",
      message: `must specify 'step' for ensemble ${name}; list the models to run, e.g. step [ { model_name: "pre" input_map { ... } output_map { ... } } ]`,
    };
  }
  for (const [i, step] of steps(c).entries()) {
    for (const field of ["model_name", "input_map", "output_map"] as const) {
      const v = step[field];
      const empty =
        typeof v === "string" ? v === "" : v === undefined || Object.keys(v).length === 0;
      if (v !== undefined && !empty) continue;
      yield {
        path: `${stepPath(i)}.${field}`,
        message: `must specify '${field}' in step ${i} of ensemble ${name}${field === "model_name" ? "" : ` (the map from the model's ${field === "input_map" ? "input" : "output"} names to ensemble tensor names)`}`,
      };
    }
  }
}

/** Where each ensemble tensor comes from and goes to, for the wiring rules. */
interface EnsembleGraph {
  readonly inputs: ReadonlySet<string>;
  readonly outputs: ReadonlySet<string>;
  /** Tensor → the first step that writes it (output_map value). */
  readonly producer: ReadonlyMap<string, number>;
  /** Tensor → the steps that read it (input_map values). */
  readonly consumers: ReadonlyMap<string, readonly number[]>;
}
function ensembleGraph(c: ModelConfig): EnsembleGraph {
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  for (const [i, step] of steps(c).entries()) {
    for (const t of Object.values(step.output_map ?? {})) if (!producer.has(t)) producer.set(t, i);
    for (const t of Object.values(step.input_map ?? {})) {
      const list = consumers.get(t) ?? [];
      if (!list.includes(i)) list.push(i);
      consumers.set(t, list);
    }
  }
  return {
    inputs: new Set((c.input ?? []).map((io) => io.name ?? "")),
    outputs: new Set((c.output ?? []).map((io) => io.name ?? "")),
    producer,
    consumers,
  };
}

/** BuildEnsembleGraph: "ensemble tensor 'T' can appear in an output map only once for ensemble 'X' step N". */
function* ensembleTensorDuplicate(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (c.ensemble_scheduling === undefined) return;
  const first = new Map<string, number>();
  for (const [i, step] of steps(c).entries()) {
    for (const [key, t] of Object.entries(step.output_map ?? {})) {
      const j = first.get(t);
      if (j === undefined) {
        first.set(t, i);
        continue;
      }
      yield {
        path: mapPath(`${stepPath(i)}.output_map`, key),
        message: `ensemble tensor '${t}' can appear in an output map only once for ensemble '${ctx.modelName}' step ${i} (already written by ${stepLabel(steps(c)[j] ?? {}, j)}); give this output its own tensor name`,
      };
    }
  }
}

/**
 * ValidateEnsembleSchedulingConfig data flow: every tensor a step reads (input_map value)
 * must be an ensemble input or written by some step (output_map value); otherwise the step
 * never runs and Triton reports its outputs as not connected.
 */
function* ensembleTensorSource(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (c.ensemble_scheduling === undefined) return;
  const g = ensembleGraph(c);
  const available = [...g.inputs, ...g.producer.keys()];
  for (const [i, step] of steps(c).entries()) {
    for (const [key, t] of Object.entries(step.input_map ?? {})) {
      if (g.inputs.has(t) || g.producer.has(t)) continue;
      yield {
        path: mapPath(`${stepPath(i)}.input_map`, key),
        message: `${stepLabel(step, i)} reads ensemble tensor '${t}' (for its input '${key}'), which is neither an ensemble input nor written by any step's output_map; ensemble inputs: ${names(g.inputs)}; step outputs: ${names(g.producer.keys())}${didYouMean(t, available)}`,
      };
    }
  }
}

/** ValidateEnsembleSchedulingConfig: "ensemble input 'x' for ensemble X' is not used". */
function* ensembleInputUnused(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (c.ensemble_scheduling === undefined) return;
  const g = ensembleGraph(c);
  for (const [i, io] of (c.input ?? []).entries()) {
    const name = io.name ?? "";
    if (name === "" || g.consumers.has(name) || g.producer.has(name)) continue;
    yield {
      path: `input[${i}]`,
      message: `ensemble input '${name}' for ensemble '${ctx.modelName}' is not used; map it as the value of some step's input_map, or remove the input`,
    };
  }
}

/**
 * ValidateEnsembleSchedulingConfig: "output 'y' for ensemble 'X' is not written": no step
 * writes the output, or its producing steps depend on each other in a cycle. (An output
 * cut off by a tensor with no source is reported once, by ensemble-tensor-source.)
 */
function* ensembleOutputUnwritten(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (c.ensemble_scheduling === undefined) return;
  const g = ensembleGraph(c);
  const ready = readyTensors(c, g);
  for (const [i, io] of (c.output ?? []).entries()) {
    const name = io.name ?? "";
    if (name === "" || ready.has(name)) continue;
    if (!g.producer.has(name)) {
      yield {
        path: `output[${i}]`,
        message: `output '${name}' for ensemble '${ctx.modelName}' is not written: no step's output_map has it as a value; step outputs: ${names(g.producer.keys())}${didYouMean(name, g.producer.keys())}`,
      };
    } else if (!dependsOnMissing(name, c, g, new Set())) {
      yield {
        path: `output[${i}]`,
        message: `output '${name}' for ensemble '${ctx.modelName}' is not written: the steps producing it depend on each other in a cycle, so none can run; break the cycle`,
      };
    }
  }
}

/**
 * ValidateEnsembleSchedulingConfig: "ensemble tensor 'T' is unused in ensemble 'X'": a
 * tensor a step writes must be read by a later step or be an ensemble output. (Model
 * outputs you do not need are simply left out of output_map.)
 */
function* ensembleTensorUnused(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (c.ensemble_scheduling === undefined) return;
  const g = ensembleGraph(c);
  for (const [i, step] of steps(c).entries()) {
    for (const [key, t] of Object.entries(step.output_map ?? {})) {
      if (g.outputs.has(t) || g.consumers.has(t) || g.producer.get(t) !== i) continue;
      yield {
        path: mapPath(`${stepPath(i)}.output_map`, key),
        message: `ensemble tensor '${t}' is unused in ensemble '${ctx.modelName}': ${stepLabel(step, i)} writes it but no step reads it and it is not an ensemble output; remove it from output_map (unneeded model outputs need no mapping)${didYouMean(t, g.outputs)}`,
      };
    }
  }
}

/** The tensors that become available when the ensemble inputs arrive (Triton's ready-queue walk). */
function readyTensors(c: ModelConfig, g: EnsembleGraph): Set<string> {
  const ready = new Set<string>(g.inputs);
  const done = new Set<number>();
  for (let progress = true; progress; ) {
    progress = false;
    for (const [i, step] of steps(c).entries()) {
      if (done.has(i)) continue;
      const ins = Object.values(step.input_map ?? {});
      if (ins.length === 0 || !ins.every((t) => ready.has(t))) continue;
      for (const t of Object.values(step.output_map ?? {})) ready.add(t);
      done.add(i);
      progress = true;
    }
  }
  return ready;
}

/** Whether `tensor` (transitively) needs a tensor that nothing provides. */
function dependsOnMissing(
  tensor: string,
  c: ModelConfig,
  g: EnsembleGraph,
  seen: Set<string>,
): boolean {
  if (g.inputs.has(tensor) || seen.has(tensor)) return false;
  seen.add(tensor);
  const p = g.producer.get(tensor);
  if (p === undefined) return true;
  return Object.values(steps(c)[p]?.input_map ?? {}).some((t) => dependsOnMissing(t, c, g, seen));
}

// ---------------------------------------------------------------------------------------
// Ensembles: cross-model checks (core ensemble_utils.cc ValidateEnsembleConfig)

/** The steps whose model the repository index can answer for (no namespace, a name given). */
function* resolvableSteps(ctx: LintContext): Generator<[number, ModelEnsembling_Step, string]> {
  if (ctx.repo === undefined || ctx.config.ensemble_scheduling === undefined) return;
  for (const [i, step] of steps(ctx.config).entries()) {
    if (step.model_namespace || !step.model_name) continue;
    yield [i, step, step.model_name];
  }
}

/** The repository must hold every model a step names (Triton leaves the ensemble unavailable otherwise). */
function* ensembleModelMissing(ctx: LintContext): Generator<Finding> {
  const repo = ctx.repo;
  if (repo === undefined) return;
  for (const [i, , model] of resolvableSteps(ctx)) {
    if (repo.models.has(model)) continue;
    yield {
      path: `${stepPath(i)}.model_name`,
      message: `step ${i} runs model '${model}', which is not in the model repository ${repo.root}; models there: ${names([...repo.models.keys()].sort())}${didYouMean(model, repo.models.keys())}`,
    };
  }
}

/**
 * ValidateTensorMapping: input_map keys are inputs of the step's model ("ensemble tensor T
 * is mapping to non-existing input K in model M"), every non-optional model input is mapped
 * ("input K in model M is not mapped to any ensemble tensors"), and output_map keys are its
 * outputs ("is mapped from non-existing output"). Skipped when the model declares no
 * inputs (or outputs): auto-complete fills them from the model file.
 */
function* ensembleStepTensors(ctx: LintContext): Generator<Finding> {
  for (const [i, step, model] of resolvableSteps(ctx)) {
    const target = ctx.repo?.models.get(model)?.config;
    if (target === undefined) continue;
    const inputs = (target.input ?? []).map((io) => io.name ?? "");
    const outputs = (target.output ?? []).map((io) => io.name ?? "");
    const inputMap = step.input_map ?? {};
    if (inputs.length > 0) {
      for (const [key, t] of Object.entries(inputMap)) {
        if (inputs.includes(key)) continue;
        yield {
          path: mapPath(`${stepPath(i)}.input_map`, key),
          message: `in ensemble ${ctx.modelName}, ensemble tensor ${t} is mapping to non-existing input ${key} in model ${model}; inputs of ${model}: ${names(inputs)}${didYouMean(key, inputs)}`,
        };
      }
      for (const io of target.input ?? []) {
        const name = io.name ?? "";
        if (io.optional || Object.hasOwn(inputMap, name)) continue;
        yield {
          path: `${stepPath(i)}.input_map`,
          message: `in ensemble ${ctx.modelName}, input ${name} in model ${model} is not mapped to any ensemble tensors; add input_map { key: "${name}" value: "<ensemble tensor>" }`,
        };
      }
    }
    if (outputs.length > 0) {
      for (const [key, t] of Object.entries(step.output_map ?? {})) {
        if (outputs.includes(key)) continue;
        yield {
          path: mapPath(`${stepPath(i)}.output_map`, key),
          message: `in ensemble ${ctx.modelName}, ensemble tensor ${t} is mapped from non-existing output ${key} in model ${model}; outputs of ${model}: ${names(outputs)}${didYouMean(key, outputs)}`,
        };
      }
    }
  }
}

/**
 * ValidateEnsembleConfig: "ensemble X allows maximum batch size B, but it contains model M
 * which only allows maximum batch size to be b" (a non-batching model is fine).
 */
function* ensembleBatchSize(ctx: LintContext): Generator<Finding> {
  const max = ctx.config.max_batch_size ?? 0;
  for (const [i, , model] of resolvableSteps(ctx)) {
    const target = ctx.repo?.models.get(model)?.config;
    const m = target?.max_batch_size ?? 0;
    if (m === 0 || m >= max) continue;
    yield {
      path: `${stepPath(i)}.model_name`,
      message: `ensemble ${ctx.modelName} allows maximum batch size ${max}, but it contains model ${model} which only allows maximum batch size to be ${m}; lower the ensemble's max_batch_size to ${m} or raise ${model}'s`,
    };
  }
}

interface TensorNode {
  readonly model: string;
  readonly type: DataType | undefined;
  readonly dims: readonly bigint[];
  readonly fullDims: readonly bigint[];
}
function tensorNode(
  model: string,
  batching: boolean,
  type: DataType | undefined,
  dims: readonly bigint[],
): TensorNode {
  return { model, type, dims, fullDims: batching ? [-1n, ...dims] : dims };
}
function sameDims(a: readonly bigint[], b: readonly bigint[]): boolean {
  return a.length === b.length && a.every((d, k) => d === b[k] || d === -1n || b[k] === -1n);
}

/**
 * ValidateTensorConsistency: an ensemble tensor has one data type and compatible shapes
 * everywhere it is used ("inconsistent data type: A is inferred from model M while B is
 * inferred from model N", likewise "inconsistent shape"); -1 matches any size, and a
 * batching model's shape is compared with the batch dimension prepended.
 */
function* ensembleTensorConsistency(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (ctx.repo === undefined || c.ensemble_scheduling === undefined) return;
  const nodes = new Map<string, TensorNode>();
  const self = ctx.modelName;
  const batching = (c.max_batch_size ?? 0) > 0;
  for (const io of [...(c.input ?? []), ...(c.output ?? [])]) {
    if (!io.name || nodes.has(io.name)) continue;
    nodes.set(
      io.name,
      tensorNode(
        self,
        batching,
        io.data_type,
        io.reshape ? (io.reshape.shape ?? []) : (io.dims ?? []),
      ),
    );
  }
  for (const [i, step, model] of resolvableSteps(ctx)) {
    const target = ctx.repo.models.get(model)?.config;
    if (target === undefined) continue;
    const stepBatching = (target.max_batch_size ?? 0) > 0;
    const maps = [
      ["input_map", step.input_map ?? {}, target.input ?? []],
      ["output_map", step.output_map ?? {}, target.output ?? []],
    ] as const;
    for (const [field, map, ios] of maps) {
      for (const [key, t] of Object.entries(map)) {
        const io = ios.find((x) => x.name === key);
        if (io === undefined || io.data_type === undefined || (io.dims ?? []).length === 0)
          continue;
        const node = tensorNode(model, stepBatching, io.data_type, io.dims ?? []);
        const prev = nodes.get(t);
        if (prev === undefined) {
          nodes.set(t, node);
          continue;
        }
        const path = mapPath(`${stepPath(i)}.${field}`, key);
        if (prev.type !== undefined && prev.type !== node.type) {
          yield {
            path,
            message: `in ensemble ${self}, ensemble tensor ${t}: inconsistent data type: ${prev.type} is inferred from model ${prev.model} while ${node.type} is inferred from model ${model}; make both sides use one data type`,
          };
        } else if (
          prev.dims.length > 0 &&
          !sameDims(prev.dims, node.dims) &&
          !sameDims(prev.fullDims, node.fullDims)
        ) {
          yield {
            path,
            message: `in ensemble ${self}, ensemble tensor ${t}: inconsistent shape: ${list(prev.fullDims)} is inferred from model ${prev.model} while ${list(node.fullDims)} is inferred from model ${model}; shapes must match (-1 matches any size)`,
          };
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// The rule table

/**
 * Every lint rule, by name. Adding a rule = one function above, one entry here, one row
 * in test/repository/lint.test.ts.
 */
export const lintRules = {
  "max-batch-size": maxBatchSize,
  "model-name-directory": modelNameDirectory,
  "platform-backend": platformBackend,
  "backend-name": backendName,
  "dynamic-batching-max-batch-size": dynamicBatchingMaxBatchSize,
  "preferred-batch-size": preferredBatchSize,
  "preferred-batch-size-duplicate": preferredBatchSizeDuplicate,
  "default-priority-level": defaultPriorityLevel,
  "priority-queue-policy-level": priorityQueuePolicyLevel,
  "priority-levels-unset": priorityLevelsUnset,
  "preserve-ordering-priority": preserveOrderingPriority,
  "preserve-ordering-delay": preserveOrderingDelay,
  "queue-policy-timeout": queuePolicyTimeout,
  "instance-group-gpus": instanceGroupGpus,
  "instance-group-gpu-id": instanceGroupGpuId,
  "instance-group-count": instanceGroupCount,
  "instance-group-profile": instanceGroupProfile,
  "rate-limiter-resource": rateLimiterResource,
  "io-name": ioName,
  "io-data-type": ioDataType,
  "io-dims": ioDims,
  "io-reshape": ioReshape,
  "io-format": ioFormat,
  "io-shape-tensor": ioShapeTensor,
  "io-non-linear-format": ioNonLinearFormat,
  "batch-io": batchIo,
  "sequence-batching-control": sequenceBatchingControl,
  "sequence-batching-slot-utilization": sequenceBatchingSlotUtilization,
  "response-cache": responseCache,
  "model-metrics": modelMetrics,
  "execution-accelerator": executionAccelerator,
  "execution-accelerator-parameter": executionAcceleratorParameter,
  "ensemble-scheduling-required": ensembleSchedulingRequired,
  "ensemble-platform": ensemblePlatform,
  "ensemble-forbidden-field": ensembleForbiddenField,
  "ensemble-step": ensembleStep,
  "ensemble-tensor-duplicate": ensembleTensorDuplicate,
  "ensemble-tensor-source": ensembleTensorSource,
  "ensemble-input-unused": ensembleInputUnused,
  "ensemble-output-unwritten": ensembleOutputUnwritten,
  "ensemble-tensor-unused": ensembleTensorUnused,
  "ensemble-model-missing": ensembleModelMissing,
  "ensemble-step-tensors": ensembleStepTensors,
  "ensemble-batch-size": ensembleBatchSize,
  "ensemble-tensor-consistency": ensembleTensorConsistency,
} as const satisfies Record<string, LintRule>;

/** The name of a lint rule, e.g. `default-priority-level`. */
export type LintRuleName = keyof typeof lintRules;

/** The rule name given to parse problems: `syntax` (the parse stopped) or `schema`. */
export type ParseRuleName = "syntax" | "schema";

/**
 * The rule a parse problem is reported under: `syntax` for the error that stopped the
 * parse (the last problem of an incomplete parse), `schema` for the others (unknown
 * field, bad enum, out of range...).
 */
export function parseProblemRule(parsed: ParsedModelConfig, p: Problem): ParseRuleName {
  return !parsed.complete && p === parsed.problems[parsed.problems.length - 1]
    ? "syntax"
    : "schema";
}

/**
 * The model folder of a config file: the parent folder of a file named `config.pbtxt`
 * (`<repository>/<model>/config.pbtxt`); undefined for any other file name.
 */
export function modelFolderOf(file: string): string | undefined {
  if (basename(file) !== "config.pbtxt") return undefined;
  const folder = basename(dirname(file));
  return folder === "" || folder === "." || folder === ".." ? undefined : folder;
}

/**
 * Whether `path` is one of `paths` or lies under one (`a.b[2].c` is under `a.b[2]`, `a.b`
 * and `a`; everything is under the empty path). Looks up each ancestor, so the cost is the
 * length of `path`, not the number of paths.
 */
function isUnderAny(path: string, paths: ReadonlySet<string>): boolean {
  if (paths.has("")) return true;
  let p = path;
  for (;;) {
    if (paths.has(p)) return true;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    if (cut <= 0) return false;
    p = p.slice(0, cut);
  }
}

/**
 * Runs every lint rule on a parsed config and returns the findings as problems (with the
 * rule name, field path and file:line:col), sorted by position.
 *
 * Parse problems are not included (they are `parsed.problems`). After a syntax error the
 * config is incomplete, so no rule runs; findings on a field that already has a schema
 * problem are dropped, so one mistake is reported once.
 */
export function lintModelConfig(parsed: ParsedModelConfig, options: LintOptions = {}): Problem[] {
  if (!parsed.complete) return [];
  const modelFolder = options.modelFolder ?? modelFolderOf(parsed.file);
  const ctx: LintContext = {
    config: parsed.config,
    modelName: parsed.config.name || modelFolder || "",
    modelFolder,
    repo: options.repo,
    has: (path) => parsed.positions.has(path),
  };
  const problemPaths = new Set(parsed.problems.map((p) => p.path));
  const out: Problem[] = [];
  for (const [rule, check] of Object.entries(lintRules) as [LintRuleName, LintRule][]) {
    for (const f of check(ctx)) {
      if (isUnderAny(f.path, problemPaths)) continue;
      const at = positionOf(parsed.positions, f.path);
      out.push({
        file: parsed.file,
        line: at.line,
        col: at.col,
        path: f.path,
        message: f.message,
        rule,
      });
    }
  }
  return out
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.line - b.p.line || a.p.col - b.p.col || a.i - b.i)
    .map(({ p }) => p);
}
