/**
 * Facts and helpers the lint rules share: what Triton knows of platforms and backends,
 * data types, how models and fields are named in messages, and the effective backend
 * and platform after auto-complete.
 */
import type { DataType, ModelConfig, ModelInput, ModelOutput } from "../model-config.js";
import type { LintContext } from "./rule.js";

/** Platforms Triton knows, and the backend each belongs to (core `GetBackendTypeFromPlatform`). */
export const PLATFORM_BACKEND: Readonly<Record<string, string>> = {
  tensorrt_plan: "tensorrt",
  tensorflow_graphdef: "tensorflow",
  tensorflow_savedmodel: "tensorflow",
  onnxruntime_onnx: "onnxruntime",
  pytorch_libtorch: "pytorch",
  torch_aoti: "pytorch",
};
/** Backends whose platform Triton checks (core `GetBackendType`); any other backend is custom and takes any platform. */
export const TYPED_BACKENDS: ReadonlySet<string> = new Set([
  "tensorrt",
  "tensorflow",
  "onnxruntime",
  "pytorch",
]);
/** The platform auto-complete gives a typed backend when `platform` is empty (core `AutoCompleteBackendFields`). */
export const BACKEND_DEFAULT_PLATFORM: Readonly<Record<string, string>> = {
  tensorrt: "tensorrt_plan",
  onnxruntime: "onnxruntime_onnx",
  pytorch: "pytorch_libtorch",
};
/** The backend auto-complete derives from `default_model_filename` when `backend` is empty. */
export const FILENAME_BACKEND: Readonly<Record<string, string>> = {
  "model.plan": "tensorrt",
  "model.onnx": "onnxruntime",
  "model.xml": "openvino",
  "model.pt": "pytorch",
  "model.pt2": "pytorch",
  "model.py": "python",
};
/** The platform of an ensemble model. */
export const ENSEMBLE = "ensemble";
/** Backends NVIDIA ships, for "did you mean" on a misspelled backend (any other name is a custom backend). */
export const OFFICIAL_BACKENDS = [
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

/** Every valid tensor data type (all but TYPE_INVALID), for messages. */
export const DATA_TYPES: readonly DataType[] = [
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
export function forModel(ctx: LintContext): string {
  return ctx.modelName ? ` for ${ctx.modelName}` : "";
}
/** `'<model>'` quoted, or `this model`. */
export function quotedModel(ctx: LintContext): string {
  return ctx.modelName ? `'${ctx.modelName}'` : "this model";
}
/** The path of a string-keyed map entry, as the parser records it: `a.b["k"]`. */
export function mapPath(base: string, key: string): string {
  return `${base}[${JSON.stringify(key)}]`;
}
/**
 * How many values a message lists before it says how many more there are, so a config with
 * 200,000 tensors does not repeat all their names in every finding.
 */
export const MAX_LISTED = 20;

/** A list as Triton prints one: `[1, 2, 3]`; past {@link MAX_LISTED} values, `[1, 2, ... 5 more]`. */
export function list(values: readonly (string | number | bigint)[]): string {
  if (values.length <= MAX_LISTED) return `[${values.join(", ")}]`;
  return `[${values.slice(0, MAX_LISTED).join(", ")}, ... ${values.length - MAX_LISTED} more]`;
}
/**
 * Names quoted and comma-separated (`'a', 'b'`), or `(none)`; past {@link MAX_LISTED}
 * names, `'a', 'b', ... and 5 more`.
 */
export function names(values: Iterable<string>): string {
  const shown: string[] = [];
  let more = 0;
  for (const v of values) {
    if (shown.length < MAX_LISTED) shown.push(`'${v}'`);
    else more++;
  }
  if (shown.length === 0) return "(none)";
  return more === 0 ? shown.join(", ") : `${shown.join(", ")}, ... and ${more} more`;
}

/** The backend that will run the model: `backend`, else what the platform implies. */
export function effectiveBackend(c: ModelConfig): string | undefined {
  if (c.backend) return c.backend;
  if (c.platform) return PLATFORM_BACKEND[c.platform];
  return c.default_model_filename ? FILENAME_BACKEND[c.default_model_filename] : undefined;
}
/** The platform after auto-complete: `platform`, else the typed backend's default. */
export function effectivePlatform(c: ModelConfig): string | undefined {
  if (c.platform) return c.platform;
  return c.backend ? BACKEND_DEFAULT_PLATFORM[c.backend] : undefined;
}
/** Whether the model is an ensemble (by platform or by its ensemble_scheduling). */
export function isEnsemble(c: ModelConfig): boolean {
  return c.platform === ENSEMBLE || c.ensemble_scheduling !== undefined;
}

/** One input or output with its index and field path (`input[0]`). */
export interface Tensor<T> {
  readonly kind: "input" | "output";
  readonly index: number;
  readonly path: string;
  readonly io: T;
}
/** The inputs, then the outputs, of a config. */
export function* tensors(c: ModelConfig): Generator<Tensor<ModelInput> | Tensor<ModelOutput>> {
  for (const [index, io] of (c.input ?? []).entries()) {
    yield { kind: "input", index, path: `input[${index}]`, io };
  }
  for (const [index, io] of (c.output ?? []).entries()) {
    yield { kind: "output", index, path: `output[${index}]`, io };
  }
}
/** `model input 'x' ` as Triton prefixes its IO messages. */
export function ioPrefix(t: Tensor<ModelInput> | Tensor<ModelOutput>): string {
  return `model ${t.kind} ${t.io.name ? `'${t.io.name}' ` : ""}`;
}
