/**
 * Lint rules for ensembles, cross-model checks (core `ensemble_utils.cc`
 * `ValidateEnsembleConfig`): the models the steps name exist in the repository, and
 * their tensors, batch sizes, data types and shapes agree with the ensemble.
 *
 * Each rule is registered by name in `registry.ts`; see `rule.ts` for what a rule sees.
 */

import type {
  DataType,
  ModelConfig,
  ModelEnsembling_Step,
  ModelInput,
  ModelOutput,
} from "../model-config.js";
import { list, mapPath, names } from "./common.js";
import { stepPath, steps } from "./ensemble.js";
import type { Finding, LintContext } from "./rule.js";

/** The steps whose model the repository index can answer for (no namespace, a name given). */
function* resolvableSteps(ctx: LintContext): Generator<[number, ModelEnsembling_Step, string]> {
  if (ctx.repo === undefined || ctx.config.ensemble_scheduling === undefined) return;
  for (const [i, step] of steps(ctx.config).entries()) {
    if (step.model_namespace || !step.model_name) continue;
    yield [i, step, step.model_name];
  }
}

/** The repository must hold every model a step names (Triton leaves the ensemble unavailable otherwise). */
export function* ensembleModelMissing(ctx: LintContext): Generator<Finding> {
  const repo = ctx.repo;
  if (repo === undefined) return;
  let there: string | undefined;
  for (const [i, , model] of resolvableSteps(ctx)) {
    if (repo.models.has(model)) continue;
    there ??= names([...repo.models.keys()].sort());
    yield {
      path: `${stepPath(i)}.model_name`,
      message: `step ${i} runs model '${model}', which is not in the model repository ${repo.root}; models there: ${there}${ctx.didYouMean(model, repo.models.keys())}`,
    };
  }
}

/** The input and output names of a model, as lists (for messages) and sets (for lookups). */
interface ModelTensors {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly inputSet: ReadonlySet<string>;
  readonly outputSet: ReadonlySet<string>;
}
function modelTensors(c: ModelConfig): ModelTensors {
  const inputs = (c.input ?? []).map((io) => io.name ?? "");
  const outputs = (c.output ?? []).map((io) => io.name ?? "");
  return { inputs, outputs, inputSet: new Set(inputs), outputSet: new Set(outputs) };
}

/** The first tensor of each name in `ios` (what `ios.find` by name would return). */
function byName<T extends { readonly name?: string }>(ios: readonly T[]): Map<string, T> {
  const out = new Map<string, T>();
  for (const io of ios) if (io.name !== undefined && !out.has(io.name)) out.set(io.name, io);
  return out;
}

/**
 * ValidateTensorMapping: input_map keys are inputs of the step's model ("ensemble tensor T
 * is mapping to non-existing input K in model M"), every non-optional model input is mapped
 * ("input K in model M is not mapped to any ensemble tensors"), and output_map keys are its
 * outputs ("is mapped from non-existing output"). Skipped when the model declares no
 * inputs (or outputs): auto-complete fills them from the model file.
 */
export function* ensembleStepTensors(ctx: LintContext): Generator<Finding> {
  const tensorsOf = new Map<string, ModelTensors>();
  for (const [i, step, model] of resolvableSteps(ctx)) {
    const target = ctx.repo?.models.get(model)?.config;
    if (target === undefined) continue;
    let known = tensorsOf.get(model);
    if (known === undefined) {
      known = modelTensors(target);
      tensorsOf.set(model, known);
    }
    const { inputs, outputs } = known;
    const inputMap = step.input_map ?? {};
    if (inputs.length > 0) {
      for (const [key, t] of Object.entries(inputMap)) {
        if (known.inputSet.has(key)) continue;
        yield {
          path: mapPath(`${stepPath(i)}.input_map`, key),
          message: `in ensemble ${ctx.modelName}, ensemble tensor ${t} is mapping to non-existing input ${key} in model ${model}; inputs of ${model}: ${names(inputs)}${ctx.didYouMean(key, inputs)}`,
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
        if (known.outputSet.has(key)) continue;
        yield {
          path: mapPath(`${stepPath(i)}.output_map`, key),
          message: `in ensemble ${ctx.modelName}, ensemble tensor ${t} is mapped from non-existing output ${key} in model ${model}; outputs of ${model}: ${names(outputs)}${ctx.didYouMean(key, outputs)}`,
        };
      }
    }
  }
}

/**
 * ValidateEnsembleConfig: "ensemble X allows maximum batch size B, but it contains model M
 * which only allows maximum batch size to be b" (a non-batching model is fine).
 */
export function* ensembleBatchSize(ctx: LintContext): Generator<Finding> {
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
export function* ensembleTensorConsistency(ctx: LintContext): Generator<Finding> {
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
  const ioOf = new Map<
    string,
    { input: Map<string, ModelInput>; output: Map<string, ModelOutput> }
  >();
  for (const [i, step, model] of resolvableSteps(ctx)) {
    const target = ctx.repo.models.get(model)?.config;
    if (target === undefined) continue;
    const stepBatching = (target.max_batch_size ?? 0) > 0;
    let ios = ioOf.get(model);
    if (ios === undefined) {
      ios = { input: byName(target.input ?? []), output: byName(target.output ?? []) };
      ioOf.set(model, ios);
    }
    const maps = [
      ["input_map", step.input_map ?? {}, ios.input],
      ["output_map", step.output_map ?? {}, ios.output],
    ] as const;
    for (const [field, map, named] of maps) {
      for (const [key, t] of Object.entries(map)) {
        const io: ModelInput | ModelOutput | undefined = named.get(key);
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
