/**
 * Lint rules for execution accelerators (onnxruntime_backend `src/onnxruntime.cc`,
 * tensorflow_backend): which accelerator names each backend reads, and the parameters of
 * the TensorRT accelerator.
 *
 * Each rule is registered by name in `registry.ts`; see `rule.ts` for what a rule sees.
 */

import type { ModelOptimizationPolicy_ExecutionAccelerators_Accelerator } from "../model-config.js";
import { effectiveBackend, mapPath } from "./common.js";
import type { Finding, LintContext } from "./rule.js";

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
export function* executionAccelerator(ctx: LintContext): Generator<Finding> {
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
        message: `unknown Execution Accelerator '${name}' is requested: the ${backend} backend's ${field} takes ${names.map((n) => `"${n}"`).join(", ")}${other ? `; "${name}" belongs in ${other}` : ctx.didYouMean(name, names)}`,
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
export function* executionAcceleratorParameter(ctx: LintContext): Generator<Finding> {
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
          message: `unknown parameter '${key}' is provided for TensorRT Execution Accelerator; the ${backend} backend accepts: ${Object.keys(known).join(", ")}${ctx.didYouMean(key, Object.keys(known))}`,
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
