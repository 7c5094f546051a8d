/**
 * Lint rules for inputs and outputs (core `ValidateModelIOConfig` / `ValidateIOShape`):
 * names, data types, dims, reshape, formats, shape and non-linear-format tensors, batch
 * inputs and outputs.
 *
 * Each rule is registered by name in `registry.ts`; see `rule.ts` for what a rule sees.
 */
import {
  DATA_TYPES,
  effectivePlatform,
  forModel,
  ioPrefix,
  list,
  names,
  tensors,
} from "./common.js";
import type { Finding, LintContext } from "./rule.js";

/** core ValidateIOShape: "model input must specify 'name'"; also no name declared twice. */
export function* ioName(ctx: LintContext): Generator<Finding> {
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
export function* ioDataType(ctx: LintContext): Generator<Finding> {
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
export function* ioDims(ctx: LintContext): Generator<Finding> {
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
export function* ioReshape(ctx: LintContext): Generator<Finding> {
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
export function* ioFormat(ctx: LintContext): Generator<Finding> {
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
export function* ioShapeTensor(ctx: LintContext): Generator<Finding> {
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
export function* ioNonLinearFormat(ctx: LintContext): Generator<Finding> {
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
export function* batchIo(ctx: LintContext): Generator<Finding> {
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
          message: `unknown source input name '${s}'; inputs: ${names(inputs)}${ctx.didYouMean(s, inputs)}`,
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
          message: `unknown target output name '${target}'; outputs: ${names(outputs)}${ctx.didYouMean(target, outputs)}`,
        };
      } else if (seen.has(target)) {
        yield { path, message: `target output name '${target}' can only be specified once` };
      }
      seen.add(target);
    }
  }
}
