import { isDeepStrictEqual, parseArgs } from "node:util";
import { type Document, isMap, isScalar, isSeq, parseDocument } from "yaml";
import { InputError } from "../diagnostics/problem.js";
import { formatDuration, loadModelPool, parseModelPool } from "../policy/index.js";
import { chartFormatOf } from "../report/chart-file.js";
import { describeCandidate as describe, renderTuneChart } from "../report/tune-chart.js";
import { renderTuneScalingChart } from "../report/tune-scaling-chart.js";
import type { ArrivalSource } from "../simulate/arrivals.js";
import {
  type ChosenProfile,
  chooseProfile,
  type StoredProfile,
  storedProfileOf,
} from "../simulate/pool-profile.js";
import { DEFAULT_PROFILE, DEFAULT_PROFILE_SPEC } from "../simulate/profile.js";
import { simulatedModel } from "../simulate/setup.js";
import { parseTraceSpec } from "../simulate/trace.js";
import { type TuneCandidate, tuneBatching } from "../simulate/tune.js";
import {
  type KnobChange,
  SCALING_KNOBS,
  type ScalingScore,
  type TuneScalingResult,
  timeSlice,
  tuneScaling,
} from "../simulate/tune-scaling.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { assertOutputPath } from "../util/output-path.js";
import { checkModelName, flagNumber, sloTargetFlag } from "./flags.js";
import { INPUT_SIZE_HELP, inputSizeOptions, loadProfile, readInputText } from "./inputs.js";
import {
  badValue,
  type CommandIO,
  commandLine,
  ExitCode,
  inputsOf,
  oneLineCommandLine,
  oneLineUsageError,
  processIO,
  reportInputErrors,
  usageError,
} from "./io.js";
import { readTrace } from "./simulate.js";

const HELP = `Usage: tritonscale tune [--profile <csv|linear:...>] (--slo-p99 <ms> | --pool <pool.yaml> [--model <name>] [--write])
       tritonscale tune --scaling --pool <pool.yaml> --trace <file|synthetic:...> [--write] [options]

Chooses max_batch_size, preferred_batch_size, max_queue_delay_microseconds and the
instance count that give the most requests per second per GPU with p99 latency inside
the SLO, using the simulator's model of Triton's dynamic batcher — offline, no GPU.
Prints the dynamic_batching block, the per-replica capacity and the profile used; with
--pool --write, writes them into the pool's model (comments kept), with the --profile
it measured as spec.models[].profile.

Options:
  --profile <spec>   perf_analyzer or Model Analyzer CSV, or linear:a=<ms>,b=<ms>
                     (default: the pool model's spec.models[].profile, else ${DEFAULT_PROFILE_SPEC},
                     an assumption that --write does not store)
  --slo-p99 <ms>     the p99 latency objective (default: the pool's slo.latencyP99Ms)
  --pool <file>      a ModelPool whose model to tune
  --model <name>     which pool model (default: the first)
  --write            write the result into --pool
  --top <n>          list the n best configurations, 1 or more (default 5)
  --chart <file>     draw every configuration tried, throughput per GPU against p99, the
                     chosen one marked and the SLO line: file.svg, or file.html (a
                     self-contained page with the chart and the best ten)
${INPUT_SIZE_HELP}
  -h, --help         show this help

With --scaling, searches the pool's scaling knobs instead (${SCALING_KNOBS.map((k) => k.path.slice(2).join(".")).join(", ")})
with the simulator for the cheapest policy whose run on the trace keeps the share of requests
within the SLO at spec.slo.targetAttainment, then replays the result on a held-back part of
the trace it never tuned on, and prints both beside the pool as it is:
  --trace <spec>          a CSV trace (the first part tunes, the last --holdout is held back)
                          or synthetic:KIND:... (--seed's seeds tune, --holdout-seeds are held back)
  --holdout <fraction>    CSV traces: the share of the trace's time held back, > 0 and at
                          most 0.9 (default 0.3)
  --holdout-seeds <list>  synthetic traces: comma-separated seeds held back (default: the two
                          after the last --seed); never a tuning seed
  --seed <list>           synthetic traces: comma-separated tuning seeds, each of which the tuned
                          policy must meet the target on; the first also seeds the simulated
                          cluster (and a CSV trace's spread of counts), as simulate --seed (default 1)
  --slo-target <share>    the share of requests within the SLO to reach, > 0 and < 1 (default: the pool's
                          slo.targetAttainment)
  --budget <n>            most simulations of the search (default 60 per tuning trace)
  --model <name>          simulate only this model, as simulate --model does (default: a pool
                          of several models is simulated together, each replica hosting all
                          of them, each request's model drawn from equal shares; a CSV
                          trace's model column is not read here)
  --write                 write the knobs that changed into --pool (comments kept), only
                          when the tuned policy meets the target on the tuned part
  --json                  print the result as JSON (no progress bar)
  --chart <file>          draw every knob set tried, cost against SLO attainment on the tuned
                          part, the pool as is and the tuned policy marked: file.svg, or
                          file.html (a page with the chart and the before/after table)

Exit code: 0 on success, 1 when an input has a problem (or cannot be read, or no
configuration meets the SLO, or with --scaling no policy meets the target on the tuned
part), 2 for a bad command line.
`;

/** `tritonscale tune`. */
export async function runTune(argv: readonly string[], io: CommandIO = processIO): Promise<number> {
  const scaling = argv.includes("--scaling");
  const args = scaling
    ? oneLineCommandLine(io, "tune", HELP, argv, parse)
    : commandLine(io, "tune", HELP, argv, parse);
  if (typeof args === "number") return args;
  const { values } = args;
  if (values.scaling) return runTuneScaling(values, io);
  const scalingOnly = SCALING_FLAGS.find((f) => values[f] !== undefined);
  if (scalingOnly) {
    return usageError(io, "tune", `--${scalingOnly} needs --scaling`, HELP);
  }
  if ((values["slo-p99"] === undefined && !values.pool) || (values.write && !values.pool)) {
    return usageError(io, "tune", "needs --slo-p99 or --pool (--write needs --pool)", HELP);
  }
  if (values.write && values.pool === "-") {
    return usageError(io, "tune", "--write needs a pool file, not standard input", HELP);
  }
  if (values.model !== undefined && !values.pool) {
    return usageError(io, "tune", "--model needs --pool", HELP);
  }
  const chartFormat =
    values.chart === undefined ? undefined : chartFormatOf("--chart", values.chart);
  if (chartFormat !== undefined && chartFormat !== "svg" && chartFormat !== "html") {
    return badValue(io, "tune", chartFormat);
  }
  const top = flagNumber("top", values.top, 5, { integer: true, min: 1 });
  if (typeof top === "string") return badValue(io, "tune", top);
  const sloFlag = flagNumber("slo-p99", values["slo-p99"], 0, { greaterThan: 0 });
  if (typeof sloFlag === "string") return badValue(io, "tune", sloFlag);
  const limits = inputSizeOptions(values["max-input-size"]);
  if (typeof limits === "string") return badValue(io, "tune", limits);
  const profileSpec = values.profile;
  const inputs = inputsOf(io);
  return reportInputErrors(io, async () => {
    const poolInput = values.pool
      ? await readInputText(inputs, values.pool, { expected: "a ModelPool (YAML)", ...limits })
      : undefined;
    const policy = poolInput ? loadModelPool(poolInput.text, poolInput.file) : undefined;
    if (policy) {
      const badModel = checkModelName(values.model, policy);
      if (badModel) return badValue(io, "tune", badModel);
    }
    if (values.write && values.pool) assertOutputPath(values.pool, "file");
    if (values.chart) assertOutputPath(values.chart, "file");
    const sloMs = values["slo-p99"] !== undefined ? sloFlag : policy!.spec.slo.latencyP99Ms;
    const given =
      profileSpec === undefined ? undefined : await loadProfile(inputs, profileSpec, limits);
    const chosen: ChosenProfile = policy
      ? chooseProfile(policy, simulatedModel(policy, values.model), given)
      : given
        ? { profile: given, origin: "command-line", from: "--profile" }
        : {
            profile: DEFAULT_PROFILE,
            origin: "default",
            from: "the default (no --profile and no --pool; assumed, not measured)",
          };
    const profile = chosen.profile;
    const ranked = tuneBatching({ profile, sloMs });
    const best = ranked[0];
    if (!best || best.capacity.requestsPerSecond <= 0) {
      io.stderr.write(
        `tritonscale tune: no configuration keeps p99 under ${sloMs} ms with this profile, even at light load\n`,
      );
      return ExitCode.Problems;
    }
    io.stdout.write(
      `recommended of ${ranked.length} configurations for p99 ≤ ${sloMs} ms (the simplest within 1% of the most throughput per GPU):\n\n`,
    );
    io.stdout.write(`${formatBlock(best)}\n`);
    io.stdout.write(
      `per-replica capacity: ${best.capacity.requestsPerSecond.toFixed(1)} req/s at p99 ${best.capacity.p99Ms.toFixed(1)} ms (mean batch ${best.capacity.meanBatch.toFixed(2)}; saturation ${best.capacity.saturationRequestsPerSecond.toFixed(1)} req/s)\n`,
    );
    io.stdout.write(`profile: ${profile.name} from ${chosen.from}\n`);
    if (top > 1 || values.top !== undefined) {
      io.stdout.write(`\n  req/s   p99 ms  max_batch  preferred  delay_us  instances\n`);
      for (const c of ranked.slice(0, top)) {
        io.stdout.write(
          `${c.capacity.requestsPerSecond.toFixed(1).padStart(7)}  ${c.capacity.p99Ms.toFixed(1).padStart(7)}  ${String(c.maxBatchSize).padStart(9)}  ${(c.preferredBatchSizes.join(",") || "-").padStart(9)}  ${String(c.maxQueueDelayMicroseconds).padStart(8)}  ${String(c.instances).padStart(9)}\n`,
        );
      }
    }
    if (values.chart && chartFormat) {
      const model = policy ? simulatedModel(policy, values.model) : undefined;
      const about = policy
        ? `${policy.metadata.namespace ?? "default"}/${policy.metadata.name} model ${model!.name}`
        : "tune";
      await writeFileAtomic(
        values.chart,
        renderTuneChart(
          {
            title: `${about}: batching configurations for p99 ≤ ${sloMs} ms`,
            subtitle: `profile ${profile.name} from ${chosen.from}; chosen: ${describe(best)}`,
            candidates: ranked,
            chosen: 0,
            sloMs,
            gpusPerReplica: policy ? policy.spec.capacity.gpu.count : 1,
          },
          chartFormat,
        ),
      );
    }
    if (values.write && values.pool && policy && poolInput) {
      const model = simulatedModel(policy, values.model);
      const index = policy.spec.models.indexOf(model);
      const doc = parseDocument(poolInput.text);
      const at = ["spec", "models", index];
      doc.setIn([...at, "maxBatchSize"], best.maxBatchSize);
      doc.setIn([...at, "instances"], best.instances);
      doc.setIn([...at, "batching", "preferredBatchSizes"], [...best.preferredBatchSizes]);
      doc.setIn([...at, "batching", "maxQueueDelayMicroseconds"], best.maxQueueDelayMicroseconds);
      const stored = profileToStore(chosen, best.maxBatchSize, model.profile?.source);
      if (stored !== undefined) setProfile(doc, [...at, "profile"], stored);
      const updated = doc.toString();
      const check = parseModelPool(updated, values.pool); // never write a pool that no longer loads
      if (check.policy === undefined) throw new InputError(check.problems);
      await writeFileAtomic(values.pool, updated);
      const fields = `maxBatchSize, instances, batching${stored === undefined ? "" : ", profile"}`;
      io.stdout.write(
        `\nwrote spec.models[${index}] (${model.name}) of ${values.pool}: ${fields}\n`,
      );
      if (chosen.origin === "default") {
        io.stdout.write(
          `profile not written: the default ${DEFAULT_PROFILE_SPEC} is an assumption, not a measurement; pass --profile <perf_analyzer.csv> to store a measured one\n`,
        );
      }
    }
    return ExitCode.Ok;
  });
}

/** Longest `profile.source` a pool accepts (its schema's maxLength). */
const SOURCE_MAX = 256;

/**
 * What `--write` stores in `spec.models[].profile`: the --profile it read (a CSV as a table
 * at its measured batch sizes within the chosen maxBatchSize, its name as `source`); the
 * pool's own profile again only when the new maxBatchSize cuts its table; never the
 * default, which is an assumption (undefined: leave the field as it is).
 */
export function profileToStore(
  chosen: ChosenProfile,
  maxBatchSize: number,
  poolSource: string | undefined,
): StoredProfile | undefined {
  const p = chosen.profile;
  if (chosen.origin === "default") return undefined;
  if (chosen.origin === "pool") {
    const last = p.definition?.kind === "points" ? p.definition.points.at(-1)?.batch : undefined;
    if (last === undefined || last <= maxBatchSize) return undefined;
    return storedProfileOf(p, maxBatchSize, poolSource);
  }
  const source =
    p.definition?.kind === "linear"
      ? undefined
      : p.name.replace(/[\r\n]+/g, " ").slice(0, SOURCE_MAX);
  return storedProfileOf(p, maxBatchSize, source);
}

/** Sets `spec.models[i].profile` to `stored`, table rows in flow style (`{ batch: 1, ms: 6.2 }`). */
function setProfile(
  doc: Document,
  path: readonly (string | number)[],
  stored: StoredProfile,
): void {
  const node = doc.createNode(stored);
  if (isMap(node)) {
    const table = node.get("table");
    if (isSeq(table)) {
      for (const row of table.items) if (isMap(row)) row.flow = true;
    }
    const linear = node.get("linear");
    if (isMap(linear)) linear.flow = true;
  }
  doc.setIn(path, node);
}

/** The config.pbtxt blocks for a candidate. */
export function formatBlock(c: TuneCandidate): string {
  const lines = [`max_batch_size: ${c.maxBatchSize}`, "dynamic_batching {"];
  if (c.preferredBatchSizes.length > 0)
    lines.push(`  preferred_batch_size: [${c.preferredBatchSizes.join(", ")}]`);
  lines.push(`  max_queue_delay_microseconds: ${c.maxQueueDelayMicroseconds}`, "}");
  lines.push("instance_group {", `  count: ${c.instances}`, "  kind: KIND_GPU", "}");
  return `${lines.join("\n")}\n`;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      profile: { type: "string" },
      "slo-p99": { type: "string" },
      pool: { type: "string" },
      model: { type: "string" },
      write: { type: "boolean" },
      top: { type: "string" },
      chart: { type: "string" },
      "max-input-size": { type: "string" },
      help: { type: "boolean", short: "h" },
      scaling: { type: "boolean" },
      trace: { type: "string" },
      seed: { type: "string" },
      holdout: { type: "string" },
      "holdout-seeds": { type: "string" },
      budget: { type: "string" },
      "slo-target": { type: "string" },
      json: { type: "boolean" },
    },
  });
}

/** Flags that only `--scaling` takes. */
const SCALING_FLAGS = [
  "trace",
  "seed",
  "holdout",
  "holdout-seeds",
  "budget",
  "slo-target",
  "json",
] as const;

type TuneValues = ReturnType<typeof parse>["values"];

/** `tritonscale tune --scaling`. */
async function runTuneScaling(values: TuneValues, io: CommandIO): Promise<number> {
  const bad = (message: string) => oneLineUsageError(io, "tune", message);
  if (!values.pool || !values.trace) return bad("--scaling needs --pool and --trace");
  for (const f of ["slo-p99", "top"] as const) {
    if (values[f] !== undefined) return bad(`--${f} tunes batching; it does not go with --scaling`);
  }
  if (values.write && values.pool === "-") {
    return bad("--write needs a pool file, not standard input");
  }
  if (values.pool === "-" && values.trace === "-") {
    return bad("--pool and --trace cannot both read standard input");
  }
  const tuneSeeds = seedList("seed", values.seed, [1], []);
  if (typeof tuneSeeds === "string") return bad(tuneSeeds);
  const seed = tuneSeeds[0]!;
  const budget = flagNumber("budget", values.budget, 0, { integer: true, min: 1 });
  if (typeof budget === "string") return bad(budget);
  const sloTarget = sloTargetFlag(values["slo-target"]);
  if (typeof sloTarget === "string") return bad(sloTarget);
  const holdout = flagNumber("holdout", values.holdout, 0.3, { greaterThan: 0, max: 0.9 });
  if (typeof holdout === "string") return bad(holdout);
  const limits = inputSizeOptions(values["max-input-size"]);
  if (typeof limits === "string") return bad(limits);
  const traceSpec = values.trace;
  const synthetic = traceSpec.startsWith("synthetic:");
  if (synthetic && values.holdout !== undefined) {
    return bad("--holdout splits a CSV trace; a synthetic trace holds back --holdout-seeds");
  }
  if (!synthetic && values["holdout-seeds"] !== undefined) {
    return bad("--holdout-seeds are for a synthetic: trace; a CSV trace holds back --holdout");
  }
  if (!synthetic && tuneSeeds.length > 1) {
    return bad("--seed takes one seed with a CSV trace (several tune a synthetic: trace)");
  }
  const last = tuneSeeds.reduce((m, s) => Math.max(m, s), 0);
  const holdoutSeeds = seedList(
    "holdout-seeds",
    values["holdout-seeds"],
    [last + 1, last + 2],
    tuneSeeds,
  );
  if (typeof holdoutSeeds === "string") return bad(holdoutSeeds);
  const chartFormat =
    values.chart === undefined ? undefined : chartFormatOf("--chart", values.chart);
  if (chartFormat !== undefined && chartFormat !== "svg" && chartFormat !== "html") {
    return bad(chartFormat);
  }
  const pool = values.pool;
  const inputs = inputsOf(io);
  return reportInputErrors(io, async () => {
    const poolInput = await readInputText(inputs, pool, {
      expected: "a ModelPool (YAML)",
      ...limits,
    });
    // An invalid pool stops here: nothing is simulated and nothing written.
    const policy = loadModelPool(poolInput.text, poolInput.file);
    const badModel = checkModelName(values.model, policy);
    if (badModel) return bad(badModel);
    if (
      values.profile !== undefined &&
      values.model === undefined &&
      policy.spec.models.length > 1
    ) {
      return bad(
        `--profile is one model's profile; pool ${policy.metadata.name} has ${policy.spec.models.length} models: give --model NAME, or set each model's spec.models[].profile`,
      );
    }
    if (values.write) assertOutputPath(pool, "file");
    if (values.chart) assertOutputPath(values.chart, "file");
    const chosen = chooseProfile(
      policy,
      simulatedModel(policy, values.model),
      values.profile === undefined ? undefined : await loadProfile(inputs, values.profile, limits),
    );
    const target = sloTarget ?? policy.spec.slo.targetAttainment;
    let tuneOn: ArrivalSource[];
    let validateOn: ArrivalSource[];
    let split: string;
    let seeds: { tuneOn: number[]; validateOn: number[] } | undefined;
    if (synthetic) {
      tuneOn = tuneSeeds.map((s) => parseTraceSpec(traceSpec, s));
      validateOn = holdoutSeeds.map((s) => parseTraceSpec(traceSpec, s));
      const plural = (n: number) => (n === 1 ? "seed" : "seeds");
      split = `tuned on ${plural(tuneSeeds.length)} ${tuneSeeds.join(", ")}, held back ${plural(holdoutSeeds.length)} ${holdoutSeeds.join(", ")}`;
      seeds = { tuneOn: tuneSeeds, validateOn: holdoutSeeds };
    } else {
      const trace = await readTrace(inputs, traceSpec, seed);
      const at = Math.round(trace.durationSeconds * (1 - holdout));
      if (at < 1 || trace.durationSeconds - at < 1) {
        throw new InputError([
          {
            file: trace.name,
            line: 0,
            col: 0,
            path: "",
            message: `the trace spans ${trace.durationSeconds} s: too short to hold back ${holdout} of it; it needs at least a second on each side`,
          },
        ]);
      }
      tuneOn = [timeSlice(trace, 0, at)];
      validateOn = [timeSlice(trace, at, trace.durationSeconds)];
      split = `tuned on [0s, ${formatDuration(at)}), held back [${formatDuration(at)}, ${formatDuration(trace.durationSeconds)})`;
    }
    const progress = values.json ? undefined : progressBar(io);
    const result = tuneScaling({
      policy,
      profile: chosen.profile,
      tuneOn,
      validateOn,
      sloTarget: target,
      seed,
      ...(values.budget !== undefined ? { budget } : {}),
      ...(values.model ? { model: values.model } : {}),
      ...(progress ? { onProgress: progress.update } : {}),
    });
    progress?.done();
    let written: string | undefined;
    let writeNote: string | undefined;
    if (values.write) {
      if (!result.tuned.met) {
        writeNote = `not written: no policy tried meets the ${percent(target)} target on the tuned part`;
      } else if (result.changes.length === 0) {
        writeNote = `nothing to write: the pool's own values were the best found`;
      } else {
        const updated = applyScalingChanges(poolInput.text, result.changes);
        const check = parseModelPool(updated, pool); // never write a pool that no longer loads
        if (check.policy === undefined) throw new InputError(check.problems);
        await writeFileAtomic(pool, updated);
        written = pool;
        writeNote = `wrote ${result.changes.length} knob${result.changes.length === 1 ? "" : "s"} to ${pool}`;
      }
    }
    if (values.chart && chartFormat) {
      await writeFileAtomic(
        values.chart,
        renderTuneScalingChart(
          {
            title: `${policy.metadata.namespace ?? "default"}/${policy.metadata.name}, scaler ${policy.spec.scaling.scaler}: scaling knobs tried`,
            subtitle: `trace ${traceSpec}: ${split}; profile ${chosen.profile.name}`,
            result,
            sloMs: policy.spec.slo.latencyP99Ms,
            currency: policy.spec.cost.currency,
          },
          chartFormat,
        ),
      );
    }
    if (values.json) {
      io.stdout.write(
        `${JSON.stringify(scalingJson(result, { tuneOn, validateOn, seeds, written: written !== undefined, profile: chosen }), null, 2)}\n`,
      );
    } else {
      io.stdout.write(
        formatScalingReport(result, {
          pool: `${policy.metadata.namespace ?? "default"}/${policy.metadata.name}`,
          scaler: policy.spec.scaling.scaler,
          sloMs: policy.spec.slo.latencyP99Ms,
          trace: traceSpec,
          split,
          profile: `${chosen.profile.name} from ${chosen.from}`,
          tuneOn: tuneOn.length,
          validateOn: validateOn.length,
        }),
      );
      if (writeNote) io.stdout.write(`\n${writeNote}\n`);
    }
    return result.tuned.met ? ExitCode.Ok : ExitCode.Problems;
  });
}

/**
 * A comma-separated list of seeds given to `--flag` (`fallback` when absent), none of
 * them one of `taken` (the tuning seeds, for the held-back ones).
 */
function seedList(
  flag: string,
  text: string | undefined,
  fallback: readonly number[],
  taken: readonly number[],
): number[] | string {
  if (text === undefined) return [...fallback];
  const out: number[] = [];
  for (const part of text.split(",")) {
    const n = flagNumber(flag, part.trim(), 0, { integer: true, min: 0 });
    if (typeof n === "string") return n;
    if (taken.includes(n)) {
      return `--${flag} ${text}: seed ${n} is a tuning seed (--seed); a held-back seed must differ`;
    }
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/**
 * The pool file's text with `changes` made (each at its dotted document path): what
 * `tune --scaling --write` writes. Only the changed values' text changes: a value that is
 * written is replaced where it stands; a missing one is added as a last entry of its
 * nearest written mapping (a line of a block mapping at its indentation, an entry of a
 * flow mapping), missing mappings above it in flow style (`scaleUp: { stabilizationWindow:
 * 30s }`). Comments, key order, quoting and flow style stay as they were. Should the
 * edited text not read back as the pool with exactly these changes (a layout this does
 * not know), the yaml library's Document API writes it instead (comments kept, spacing
 * of flow collections its own).
 */
export function applyScalingChanges(text: string, changes: readonly KnobChange[]): string {
  const expected = parseDocument(text);
  for (const c of changes) expected.setIn(c.path.split("."), c.to);
  let out: string | undefined = text;
  for (const c of changes) {
    out = setValueInText(out, c.path.split("."), c.to);
    if (out === undefined) break;
  }
  if (out !== undefined) {
    const check = parseDocument(out);
    if (check.errors.length === 0 && isDeepStrictEqual(check.toJS(), expected.toJS())) return out;
  }
  return expected.toString();
}

/** `text` with the value at `path` set to `value` by a text edit, or undefined. */
function setValueInText(
  text: string,
  path: readonly string[],
  value: number | string,
): string | undefined {
  const doc = parseDocument(text);
  const written = String(value);
  const node = doc.getIn(path, true);
  if (isScalar(node) && node.range) {
    return text.slice(0, node.range[0]) + written + text.slice(node.range[1]);
  }
  if (node !== undefined) return undefined;
  let depth = path.length - 1;
  while (depth > 0 && !isMap(doc.getIn(path.slice(0, depth), true))) depth--;
  const parent = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
  if (!isMap(parent) || !parent.range) return undefined;
  let entryValue = written;
  for (let i = path.length - 1; i > depth; i--) entryValue = `{ ${path[i]}: ${entryValue} }`;
  const entry = `${path[depth]}: ${entryValue}`;
  if (parent.flow) {
    const close = text.lastIndexOf("}", parent.range[1] - 1);
    if (close < parent.range[0]) return undefined;
    const head = text.slice(0, close).trimEnd();
    const sep = head.endsWith("{") ? " " : ", ";
    return `${head}${sep}${entry} ${text.slice(close)}`;
  }
  const first = parent.items[0]?.key;
  const last = parent.items.at(-1);
  const lastNode = (last?.value ?? last?.key) as { range?: [number, number, number] } | null;
  if (!isScalar(first) || !first.range || !lastNode?.range) return undefined;
  const indent = first.range[0] - (text.lastIndexOf("\n", first.range[0] - 1) + 1);
  let end = lastNode.range[1];
  if (text[end - 1] === "\n") end--;
  const eol = text.indexOf("\n", end);
  const at = eol === -1 ? text.length : eol;
  return `${text.slice(0, at)}\n${" ".repeat(indent)}${entry}${text.slice(at)}`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(2).replace(/\.?0+$/, "")}%`;
}

/** The text report of `tune --scaling`. */
export function formatScalingReport(
  r: TuneScalingResult,
  about: {
    readonly pool: string;
    readonly scaler: string;
    readonly sloMs: number;
    readonly trace: string;
    readonly split: string;
    readonly profile: string;
    /** How many traces each part has (GPU-hours and cost are their sums). */
    readonly tuneOn: number;
    readonly validateOn: number;
  },
): string {
  const lines = [
    `pool ${about.pool}, scaler ${about.scaler}: cheapest policy with ≥ ${percent(r.sloTarget)} of requests within ${about.sloMs} ms`,
    `trace ${about.trace}: ${about.split}`,
    `profile: ${about.profile}`,
    `searched ${r.candidates} candidate${r.candidates === 1 ? "" : "s"} in ${r.simulations} simulations (${r.budgetSpent ? "stopped: the --budget was spent" : "stopped: a round changed nothing"})`,
    "",
  ];
  const head = ["", "", "GPU-h", "cost", `≤${about.sloMs}ms`, "target"];
  const row = (part: string, which: string, s: ScalingScore) => [
    part,
    which,
    s.gpuHours.toFixed(2),
    s.cost.toFixed(2),
    `${(s.attainment * 100).toFixed(2)}%`,
    (s.met ? "met" : "missed") +
      (s.worstAttainment < s.attainment - 5e-7
        ? ` (worst trace ${(s.worstAttainment * 100).toFixed(2)}%)`
        : ""),
  ];
  const traces = (n: number) => (n === 1 ? "" : ` (${n} traces)`);
  const rows = [
    row(`tuned on${traces(about.tuneOn)}`, "pool as is", r.baseline.tuned),
    row("", "tuned", r.tuned),
    row(`held back${traces(about.validateOn)}`, "pool as is", r.baseline.validated),
    row("", "tuned", r.validated),
  ];
  const widths = head.map((h, i) => rows.reduce((w, x) => Math.max(w, x[i]!.length), h.length));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i < 2 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  lines.push(fmt(head));
  for (const x of rows) lines.push(fmt(x));
  lines.push("");
  if (!r.tuned.met) {
    lines.push(
      `no policy tried meets the ${percent(r.sloTarget)} target on the tuned part: the best attainment found is ${(r.tuned.worstAttainment * 100).toFixed(2)}%`,
    );
  }
  if (r.tuned.met && !r.validated.met) {
    lines.push(
      `the tuned policy misses the ${percent(r.sloTarget)} target on the held-back part (${(r.validated.worstAttainment * 100).toFixed(2)}%): it may be tuned too close to the tuned part`,
    );
  }
  if (r.changes.length === 0)
    lines.push("changes: none (the pool's own values were the best found)");
  else {
    lines.push("changes:");
    const w = r.changes.reduce((m, c) => Math.max(m, c.path.length), 0);
    for (const c of r.changes) lines.push(`  ${c.path.padEnd(w)}  ${c.from} → ${c.to}`);
  }
  return `${lines.join("\n")}\n`;
}

function scoreJson(s: ScalingScore) {
  return {
    gpu_hours: round(s.gpuHours, 4),
    cost: round(s.cost, 4),
    slo_attainment: round(s.attainment, 6),
    worst_attainment: round(s.worstAttainment, 6),
    requests: s.requests,
    met_slo_target: s.met,
  };
}

/** The `--json` shape of `tune --scaling`. */
function scalingJson(
  r: TuneScalingResult,
  about: {
    readonly tuneOn: readonly ArrivalSource[];
    readonly validateOn: readonly ArrivalSource[];
    /** A synthetic trace's seeds, tuning and held back. */
    readonly seeds:
      | { readonly tuneOn: readonly number[]; readonly validateOn: readonly number[] }
      | undefined;
    readonly written: boolean;
    readonly profile: ChosenProfile;
  },
) {
  const { tuneOn, validateOn, seeds, written } = about;
  return {
    slo_target: r.sloTarget,
    profile: { name: about.profile.profile.name, origin: about.profile.origin },
    tuned_on: {
      traces: tuneOn.map((t) => t.name),
      ...(seeds ? { seeds: seeds.tuneOn } : {}),
      before: scoreJson(r.baseline.tuned),
      after: scoreJson(r.tuned),
    },
    held_back: {
      traces: validateOn.map((t) => t.name),
      ...(seeds ? { seeds: seeds.validateOn } : {}),
      before: scoreJson(r.baseline.validated),
      after: scoreJson(r.validated),
    },
    changes: r.changes.map((c) => ({ path: c.path, from: c.from, to: c.to })),
    candidates: r.candidates,
    simulations: r.simulations,
    budget_spent: r.budgetSpent,
    written,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * A progress bar on stderr when it is a terminal (simulations done of the most the
 * search may take); nothing otherwise.
 */
function progressBar(
  io: CommandIO,
): { update(done: number, total: number): void; done(): void } | undefined {
  if ((io.stderr as { isTTY?: boolean }).isTTY !== true) return undefined;
  let last = "";
  return {
    update(done, total) {
      const width = 30;
      const f = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(f * width);
      const text = `\rtuning [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} simulations`;
      if (text !== last) io.stderr.write(text);
      last = text;
    },
    done() {
      if (last !== "") io.stderr.write("\r\x1b[K");
    },
  };
}
