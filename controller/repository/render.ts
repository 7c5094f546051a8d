import type { Problem } from "../diagnostics/problem.js";
import type { Policy, PolicyModel } from "../policy/index.js";
import {
  type DataType,
  type ModelConfig,
  type ModelDynamicBatching,
  type ModelWarmup,
  parseModelConfig,
} from "./model-config.js";
import type { Family, Template, TemplateFile, TemplateRole } from "./templates.js";

/**
 * From a Policy and its templates to the models of a Triton model repository: pure, no
 * I/O. Each template config is filled in, parsed against the ModelConfig schema (so a
 * template error names the template's file and line), and then what the pool decides is
 * applied: max_batch_size, dynamic batching, instance groups, TensorRT acceleration and
 * warmup.
 */

/** Rows of the NMS outputs of end-to-end and ensemble templates (EfficientNMS's default topK). */
export const MAX_DETECTIONS = 100;

/** A file to place inside a model's folder. */
export type ModelFile =
  | { readonly path: string; readonly content: string }
  | { readonly path: string; readonly copyFrom: string };

/** One model of the repository: its folder name, config, and the files of its version folder. */
export interface RenderedModel {
  readonly name: string;
  /** The pool model it comes from (spec.models[i].name). */
  readonly poolModel: string;
  readonly role: TemplateRole;
  readonly config: ModelConfig;
  /** Paths relative to the model folder, e.g. `1/model.py`. */
  readonly files: readonly ModelFile[];
}

/** The raw detection head's output shape for a family at an image size. */
export function rawOutputShape(
  family: Family,
  imageSize: number,
  classes: number,
): [number, number] {
  // Three detection scales at strides 8, 16 and 32: one cell per (s/stride)² position.
  const cells = (imageSize / 8) ** 2 + (imageSize / 16) ** 2 + (imageSize / 32) ** 2;
  // YOLOv5: 3 anchor boxes per cell, each with (cx, cy, w, h, objectness, classes...).
  if (family === "yolov5") return [3 * cells, 5 + classes];
  // YOLOv8 / YOLO11 (anchor-free): rows are (cx, cy, w, h, classes...), one column per cell.
  return [4 + classes, cells];
}

/**
 * Data type of the detector's input and raw output. ONNX exported at fp16 has fp16 I/O;
 * an ONNX model run through TensorRT, and TensorRT engines, keep fp32 I/O (the precision
 * is a build setting); int8 models keep fp32 I/O (quantisation is inside the graph).
 */
export function detectorTensorType(kind: Template["kind"], model: PolicyModel): DataType {
  const onnx = kind === "onnx" || kind === "ensemble";
  return onnx && model.precision === "fp16" && !model.tensorrt ? "TYPE_FP16" : "TYPE_FP32";
}

/** The models a role is named: the detector keeps the pool model's name unless it is inside an ensemble. */
export function roleModelName(
  model: PolicyModel,
  kind: Template["kind"],
  role: TemplateRole,
): string {
  if (kind !== "ensemble") return model.name;
  return role === "ensemble" ? model.name : `${model.name}-${role}`;
}

/** Fills `{{placeholders}}`; an unknown one is a problem at its line and column. */
export function fillPlaceholders(
  source: TemplateFile,
  values: Readonly<Record<string, string | number>>,
): { text: string; problems: Problem[] } {
  const problems: Problem[] = [];
  const lines = source.text.split("\n").map((line, i) =>
    line.replace(/\{\{\s*([A-Za-z0-9_]*)\s*\}\}/g, (whole, name: string, col: number) => {
      const v = values[name];
      if (v === undefined) {
        problems.push({
          file: source.file,
          line: i + 1,
          col: col + 1,
          path: "",
          message: `unknown placeholder ${whole}; known: ${Object.keys(values)
            .map((k) => `{{${k}}}`)
            .join(", ")}`,
        });
        return whole;
      }
      return String(v);
    }),
  );
  return { text: lines.join("\n"), problems };
}

function dynamicBatching(model: PolicyModel): ModelDynamicBatching {
  const b = model.batching;
  if (!b) return {};
  const db: ModelDynamicBatching = {};
  if (b.preferredBatchSizes.length > 0) db.preferred_batch_size = [...b.preferredBatchSizes];
  db.max_queue_delay_microseconds = BigInt(b.maxQueueDelayMicroseconds);
  if (b.preserveOrdering) db.preserve_ordering = true;
  const q = b.queue;
  if (
    q.maxQueueSize > 0 ||
    q.timeoutMicroseconds > 0 ||
    q.timeoutAction !== "REJECT" ||
    q.allowTimeoutOverride
  ) {
    db.default_queue_policy = {
      timeout_action: q.timeoutAction,
      ...(q.timeoutMicroseconds > 0
        ? { default_timeout_microseconds: BigInt(q.timeoutMicroseconds) }
        : {}),
      ...(q.allowTimeoutOverride ? { allow_timeout_override: true } : {}),
      ...(q.maxQueueSize > 0 ? { max_queue_size: q.maxQueueSize } : {}),
    };
  }
  return db;
}

/** Warmup samples at batch 1 and at the largest batch, so the first real request is not the slow one. */
function warmups(model: PolicyModel, dataType: DataType): ModelWarmup[] {
  const sizes = model.maxBatchSize > 1 ? [1, model.maxBatchSize] : [1];
  return sizes.map((n) => ({
    name: `random-batch-${n}`,
    batch_size: n,
    inputs: {
      images: {
        data_type: dataType,
        dims: [3n, BigInt(model.imageSize), BigInt(model.imageSize)],
        random_data: true,
      },
    },
  }));
}

/** What the pool decides, applied to the detector's parsed template config. */
function applyDetectorPolicy(
  config: ModelConfig,
  model: PolicyModel,
  template: Template,
  tensorType: DataType,
): void {
  config.max_batch_size = model.maxBatchSize;
  if (model.maxBatchSize > 0) config.dynamic_batching = dynamicBatching(model);
  config.instance_group = [{ count: model.instances, kind: "KIND_GPU" }];
  if (model.tensorrt && (template.kind === "onnx" || template.kind === "ensemble")) {
    const precisionMode = { fp32: "FP32", fp16: "FP16", int8: "INT8" }[model.precision];
    config.optimization = {
      ...config.optimization,
      execution_accelerators: {
        gpu_execution_accelerator: [
          {
            name: "tensorrt",
            parameters: {
              precision_mode: precisionMode,
              max_workspace_size_bytes: "1073741824",
              // Reusing built engines across restarts turns minutes of cold start into seconds.
              trt_engine_cache_enable: "true",
              trt_engine_cache_path: "/tmp/tritonscale-trt-cache",
            },
          },
        ],
      },
    };
  }
  if (model.warmup) config.model_warmup = warmups(model, tensorType);
}

/** The file name Triton looks for in the version folder. */
function modelFileName(config: ModelConfig): string {
  return (
    config.default_model_filename ??
    (config.platform === "tensorrt_plan" ? "model.plan" : "model.onnx")
  );
}

/**
 * Renders every model of the pool. `templates` holds each template the pool names that
 * loaded (the caller loads them and reports the others; their models are skipped here).
 * `resolveModelFile` turns a pool's `modelFile` into the path to copy from (relative to
 * the pool file).
 */
export function renderModelRepository(
  policy: Policy,
  templates: ReadonlyMap<string, Template>,
  resolveModelFile: (p: string) => string = (p) => p,
): { models: RenderedModel[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const models: RenderedModel[] = [];
  policy.spec.models.forEach((model, i) => {
    const at = `spec.models[${i}]`;
    const template = templates.get(model.template);
    // A template that did not load was reported by whoever loaded the templates.
    if (!template) return;
    if (model.tensorrt && template.kind !== "onnx" && template.kind !== "ensemble") {
      problems.push(
        policy.source.problemAt(
          `${at}.tensorrt`,
          `tensorrt applies to ONNX templates only; "${model.template}" (${template.kind}) is already a TensorRT engine: remove tensorrt or pick ${template.family}-onnx`,
        ),
      );
      return;
    }
    const [outputRows, outputCols] = rawOutputShape(
      template.family,
      model.imageSize,
      model.classes,
    );
    const tensorType = detectorTensorType(template.kind, model);
    const values = {
      name: "",
      detectorName: roleModelName(model, template.kind, "detector"),
      preprocessName: roleModelName(model, template.kind, "preprocess"),
      postprocessName: roleModelName(model, template.kind, "postprocess"),
      imageSize: model.imageSize,
      classes: model.classes,
      tensorType,
      outputRows,
      outputCols,
      maxDetections: MAX_DETECTIONS,
      family: template.family,
    };
    for (const [role, source] of template.configs) {
      const name = roleModelName(model, template.kind, role);
      const filled = fillPlaceholders(source, { ...values, name });
      for (const p of filled.problems) problems.push(p);
      const parsed = parseModelConfig(filled.text, source.file);
      for (const p of parsed.problems) problems.push(p);
      if (filled.problems.length > 0 || parsed.problems.length > 0) continue;
      const config = parsed.config;
      const files: ModelFile[] = [];
      if (role === "detector") {
        applyDetectorPolicy(config, model, template, tensorType);
        if (model.modelFile !== undefined) {
          files.push({
            path: `${model.version}/${modelFileName(config)}`,
            copyFrom: resolveModelFile(model.modelFile),
          });
        }
      } else {
        // The ensemble and its CPU steps batch as far as the detector does.
        config.max_batch_size = model.maxBatchSize;
        if (role !== "ensemble" && model.maxBatchSize > 0) config.dynamic_batching = {};
        const py = template.pythonModels.get(role);
        if (py) files.push({ path: `${model.version}/model.py`, content: py.text });
        if (role === "ensemble") files.push({ path: `${model.version}/.keep`, content: "" });
      }
      config.version_policy = { specific: { versions: [BigInt(model.version)] } };
      models.push({ name, poolModel: model.name, role, config, files });
    }
  });
  const seen = new Map<string, string>();
  for (const m of models) {
    const other = seen.get(m.name);
    if (other !== undefined && other !== m.poolModel) {
      const i = policy.spec.models.findIndex((x) => x.name === m.poolModel);
      problems.push(
        policy.source.problemAt(
          `spec.models[${i}].name`,
          `generates model "${m.name}", which model "${other}" also generates; rename one`,
        ),
      );
    }
    seen.set(m.name, m.poolModel);
  }
  return { models, problems };
}
