/**
 * Lint rules for ensembles, in-config checks (core `ValidateEnsembleSchedulingConfig` /
 * `BuildEnsembleGraph`): platform, forbidden fields, steps, and the tensor wiring
 * between the steps.
 *
 * Each rule is registered by name in `registry.ts`; see `rule.ts` for what a rule sees.
 */

import type { ModelConfig, ModelEnsembling_Step } from "../model-config.js";
import { ENSEMBLE, isEnsemble, mapPath, names, quotedModel } from "./common.js";
import type { Finding, LintContext } from "./rule.js";

/** The steps of an ensemble (none for another model). */
export function steps(c: ModelConfig): readonly ModelEnsembling_Step[] {
  return c.ensemble_scheduling?.step ?? [];
}
/** The field path of step `i`, as the parser records it. */
export function stepPath(i: number): string {
  return `ensemble_scheduling.step[${i}]`;
}
function stepLabel(step: ModelEnsembling_Step, i: number): string {
  return `step ${i}${step.model_name ? ` (model '${step.model_name}')` : ""}`;
}

/** core ValidateModelConfig: "ensemble scheduling must be set for ensemble X whose platform is ensemble". */
export function* ensembleSchedulingRequired(ctx: LintContext): Generator<Finding> {
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
export function* ensemblePlatform(ctx: LintContext): Generator<Finding> {
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
export function* ensembleForbiddenField(ctx: LintContext): Generator<Finding> {
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
export function* ensembleStep(ctx: LintContext): Generator<Finding> {
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
      // Steps come in order, so a step already listed is the last one.
      if (list[list.length - 1] !== i) list.push(i);
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
export function* ensembleTensorDuplicate(ctx: LintContext): Generator<Finding> {
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
export function* ensembleTensorSource(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (c.ensemble_scheduling === undefined) return;
  const g = ensembleGraph(c);
  const available = [...g.inputs, ...g.producer.keys()];
  for (const [i, step] of steps(c).entries()) {
    for (const [key, t] of Object.entries(step.input_map ?? {})) {
      if (g.inputs.has(t) || g.producer.has(t)) continue;
      yield {
        path: mapPath(`${stepPath(i)}.input_map`, key),
        message: `${stepLabel(step, i)} reads ensemble tensor '${t}' (for its input '${key}'), which is neither an ensemble input nor written by any step's output_map; ensemble inputs: ${names(g.inputs)}; step outputs: ${names(g.producer.keys())}${ctx.didYouMean(t, available)}`,
      };
    }
  }
}

/** ValidateEnsembleSchedulingConfig: "ensemble input 'x' for ensemble X' is not used". */
export function* ensembleInputUnused(ctx: LintContext): Generator<Finding> {
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
export function* ensembleOutputUnwritten(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (c.ensemble_scheduling === undefined) return;
  const g = ensembleGraph(c);
  const ready = readyTensors(c, g);
  const needMissing = tensorsNeedingMissing(c, g);
  for (const [i, io] of (c.output ?? []).entries()) {
    const name = io.name ?? "";
    if (name === "" || ready.has(name)) continue;
    if (!g.producer.has(name)) {
      yield {
        path: `output[${i}]`,
        message: `output '${name}' for ensemble '${ctx.modelName}' is not written: no step's output_map has it as a value; step outputs: ${names(g.producer.keys())}${ctx.didYouMean(name, g.producer.keys())}`,
      };
    } else if (!needMissing.has(name)) {
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
export function* ensembleTensorUnused(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  if (c.ensemble_scheduling === undefined) return;
  const g = ensembleGraph(c);
  for (const [i, step] of steps(c).entries()) {
    for (const [key, t] of Object.entries(step.output_map ?? {})) {
      if (g.outputs.has(t) || g.consumers.has(t) || g.producer.get(t) !== i) continue;
      yield {
        path: mapPath(`${stepPath(i)}.output_map`, key),
        message: `ensemble tensor '${t}' is unused in ensemble '${ctx.modelName}': ${stepLabel(step, i)} writes it but no step reads it and it is not an ensemble output; remove it from output_map (unneeded model outputs need no mapping)${ctx.didYouMean(t, g.outputs)}`,
      };
    }
  }
}

/**
 * The tensors that become available when the ensemble inputs arrive (Triton's ready-queue
 * walk): a step runs once every tensor it reads is available, and makes its outputs
 * available. Each step waits on a count of missing inputs, so the walk is linear.
 */
function readyTensors(c: ModelConfig, g: EnsembleGraph): Set<string> {
  const all = steps(c);
  const ready = new Set<string>(g.inputs);
  const missingInputs: number[] = [];
  const waiting = new Map<string, number[]>();
  const runnable: number[] = [];
  for (const [i, step] of all.entries()) {
    const ins = new Set(Object.values(step.input_map ?? {}));
    let missing = 0;
    for (const t of ins) {
      if (ready.has(t)) continue;
      missing++;
      const list = waiting.get(t);
      if (list === undefined) waiting.set(t, [i]);
      else list.push(i);
    }
    missingInputs[i] = missing;
    // A step that reads nothing never runs.
    if (ins.size > 0 && missing === 0) runnable.push(i);
  }
  for (let i = runnable.pop(); i !== undefined; i = runnable.pop()) {
    for (const t of Object.values(all[i]?.output_map ?? {})) {
      if (ready.has(t)) continue;
      ready.add(t);
      for (const j of waiting.get(t) ?? []) {
        missingInputs[j] = (missingInputs[j] ?? 0) - 1;
        if (missingInputs[j] === 0) runnable.push(j);
      }
    }
  }
  return ready;
}

/**
 * The tensors that (transitively) need a tensor nothing provides: one that is neither an
 * ensemble input nor written by a step. Found by walking back from those tensors to the
 * tensors whose producing step reads them, so the work is linear in the wiring.
 */
function tensorsNeedingMissing(c: ModelConfig, g: EnsembleGraph): Set<string> {
  const all = steps(c);
  // Tensor → the tensors whose producing step reads it (the reverse of "needs").
  const neededBy = new Map<string, string[]>();
  const out = new Set<string>();
  const queue: string[] = [];
  for (const [t, p] of g.producer) {
    if (g.inputs.has(t)) continue;
    for (const u of Object.values(all[p]?.input_map ?? {})) {
      const list = neededBy.get(u);
      if (list === undefined) neededBy.set(u, [t]);
      else list.push(t);
      if (!g.inputs.has(u) && !g.producer.has(u) && !out.has(u)) {
        out.add(u);
        queue.push(u);
      }
    }
  }
  for (let u = queue.pop(); u !== undefined; u = queue.pop()) {
    for (const t of neededBy.get(u) ?? []) {
      if (out.has(t)) continue;
      out.add(t);
      queue.push(t);
    }
  }
  return out;
}
