import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { InputError } from "../diagnostics/problem.js";
import type { Policy } from "../policy/index.js";
import { formatDuration, parseDuration } from "../policy/index.js";
import { chartFormatOf } from "../report/chart-file.js";
import {
  type ChartRow,
  renderSimulationChart,
  TimelineCollector,
} from "../report/simulation-chart.js";
import {
  SIMULATION_BUCKET_SECONDS,
  type SimulationPoolJson,
  simulationPoolJson,
  simulationUsageJson,
} from "../report/simulation-ledger.js";
import { isScalerName, scalers } from "../scaling/registry.js";
import type { ArrivalSource } from "../simulate/arrivals.js";
import { BOUNDS, type Comparison, type ComparisonRow, compare } from "../simulate/compare.js";
import { DEFAULT_START_EPOCH, type TimelineRow } from "../simulate/engine.js";
import {
  checkTraceModels,
  createShareSplit,
  createTraceSplit,
  equalModelShares,
  type ModelSplit,
  parseModelMix,
} from "../simulate/model-split.js";
import { type ChosenProfile, chooseProfile } from "../simulate/pool-profile.js";
import { DEFAULT_PROFILE_SPEC } from "../simulate/profile.js";
import { simulatedModel, simulatedModels } from "../simulate/setup.js";
import { parseTraceSpec } from "../simulate/trace.js";
import { type RecordedTrace, readTraceCsv } from "../simulate/trace-csv.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import type { ReadOptions } from "../util/input.js";
import { assertOutputPath } from "../util/output-path.js";
import { checkModelName, flagNumber, sloTargetFlag } from "./flags.js";
import { INPUT_SIZE_HELP, inputSizeOptions, loadPolicy, loadProfile } from "./inputs.js";
import {
  badValue,
  type CommandIO,
  commandLine,
  ExitCode,
  inputsOf,
  processIO,
  reportInputErrors,
  usageError,
} from "./io.js";
import type { CommandInputs } from "./read-input.js";

const HELP = `Usage: tritonscale simulate --pool <pool.yaml> --trace <file|synthetic:...> [options]

Replays a traffic trace through a model of the pool — Triton's dynamic batcher on each
replica, GPU nodes with provisioning, cold starts and Spot reclaims, a metrics pipeline —
under each scaler, running the same scaling code as the controller, and prints one row
per scaler, static-peak (enough replicas for the peak minute), and the bounds, each
searched to meet the SLO target (a bound that misses it says "not a bound"):
  best-static   the fewest static replicas that meet the target
  oracle        the fewest replicas at each moment knowing the future, with capacity
                appearing at once (headroom over per-second demand found by bisection)
  lead-oracle   the oracle's demand asked for nodeProvisioning + coldStart ahead on the
                real cluster model (node linger, Spot reclaims): the limit for any scaler
                with perfect prediction
Requests are routed as the pool's spec.scaling.loadBalancing says: random (the default,
a plain Service) sends each to a uniformly random ready replica (or, with --connections,
over client connections pinned to replicas), roundRobin to the next in turn; the output
says which.

Options:
  --pool <file>          the ModelPool (required; - reads standard input)
  --trace <spec>         a CSV file (one timestamp per request, with an optional model
                         column naming each request's model, or time,count rows; read as
                         a stream, - for standard input) or
                         synthetic:KIND:key=value:... e.g. synthetic:poisson:rate=200:duration=1h
  --scaler <names>       comma-separated: ${Object.keys(scalers).join(", ")}, static:N, or all (default: all);
                         fallback is the pool's KEDA queue-time trigger alone, as while the
                         controller is down
  --profile <spec>       perf_analyzer or Model Analyzer CSV, or linear:a=<ms>,b=<ms>
                         (default: the model's spec.models[].profile, else ${DEFAULT_PROFILE_SPEC});
                         one model's, so with several models only with --model
  --model <name>         simulate only this model: its traffic alone, on replicas that serve
                         it alone (default: every model of the pool, each replica hosting
                         all of them on its GPU, one dynamic batcher per model)
  --mix <name=share,...> for a pool of several models: each request's model is drawn from
                         these shares (positive; normalized to add up to 1; a model left out
                         gets none), e.g. --mix yolov8s=0.7,yolov8m=0.3 (default: equal
                         shares). The scalers see each model's series and size replicas for
                         the observed mix, as the controller does (1 / Σ share_i / C_i)
  --seed <n>             random seed (default: 1)
  --slo-target <x>       share of requests within the SLO a row must reach, > 0 and < 1
                         (default: the pool's spec.slo.targetAttainment, 0.995 unless set)
  --warmup <duration>    replay the first part of the trace (e.g. 30m) so scalers learn from
                         it, and measure only after it (default: 0s)
  --bounds <names>       comma-separated rows added after the scalers: static-peak,
                         best-static, oracle, lead-oracle, or all (the default) or none
                         (only the scalers: one simulation each)
  --max-probes <n>       most simulations each bound's search runs (default: 10)
  --connections <n>      a random pool's requests come over n client connections, each pinned
                         to the replica it connected to (kube-proxy with gRPC or HTTP/2
                         clients), reconnecting only when that replica goes; replicas added
                         later get none of the others' traffic (default: 0, a replica per
                         request: the best case of a plain Service)
  --connection-max-age <duration>
                         with --connections: each connection reconnects to a random ready
                         replica after this long, as gRPC's MAX_CONNECTION_AGE makes clients
                         do (default: never)
  --timeline <file.csv>  write load, replicas and latency per minute for every run
  --chart <file>         draw the runs: file.svg (one SVG: the timeline of arrivals, replicas,
                         p99 against the SLO and cost, above GPU-hours and SLO attainment per
                         row) or file.html (a self-contained page with both and the table)
  --json                 print {"slo_target": ..., "pool": ..., "rows": [...]} instead of a
                         table; each row's "usage" (per day and scale event) is what
                         \`tritonscale report cost --from\` reads; with several models,
                         "models" (each one's capacity, share and profile) and each row's
                         "models" (each one's requests, share within the SLO and p99)
${INPUT_SIZE_HELP}
  -h, --help             show this help

Exit code: 0 on success, 1 when an input has a problem (or cannot be read, or --timeline
or --chart cannot be written), 2 for a bad command line.
`;

/** `tritonscale simulate`. */
export async function runSimulate(
  argv: readonly string[],
  io: CommandIO = processIO,
): Promise<number> {
  const args = commandLine(io, "simulate", HELP, argv, parse);
  if (typeof args === "number") return args;
  const { values } = args;
  if (!values.pool || !values.trace) {
    return usageError(io, "simulate", "--pool and --trace are required", HELP);
  }
  const seed = flagNumber("seed", values.seed, 1, { integer: true, min: 0 });
  if (typeof seed === "string") return badValue(io, "simulate", seed);
  if (values.pool === "-" && values.trace === "-") {
    return usageError(io, "simulate", "--pool and --trace cannot both read standard input", HELP);
  }
  const sloTarget = sloTargetFlag(values["slo-target"]);
  if (typeof sloTarget === "string") return badValue(io, "simulate", sloTarget);
  const warmup = warmupFlag(values.warmup);
  if (typeof warmup === "string") return badValue(io, "simulate", warmup);
  const maxProbes = flagNumber("max-probes", values["max-probes"], 10, {
    integer: true,
    min: 1,
    max: 64,
  });
  if (typeof maxProbes === "string") return badValue(io, "simulate", maxProbes);
  const connections = flagNumber("connections", values.connections, 0, {
    integer: true,
    min: 0,
    max: 1_000_000,
  });
  if (typeof connections === "string") return badValue(io, "simulate", connections);
  const maxAge = connectionMaxAgeFlag(values["connection-max-age"]);
  if (typeof maxAge === "string") return badValue(io, "simulate", maxAge);
  if (Number.isFinite(maxAge) && connections === 0) {
    return badValue(io, "simulate", "--connection-max-age needs --connections N (N ≥ 1)");
  }
  const bounds = boundList(values.bounds ?? "all");
  if (!Array.isArray(bounds)) return badValue(io, "simulate", bounds);
  const limits = inputSizeOptions(values["max-input-size"]);
  if (typeof limits === "string") return badValue(io, "simulate", limits);
  const chartFormat =
    values.chart === undefined ? undefined : chartFormatOf("--chart", values.chart);
  if (chartFormat !== undefined && chartFormat !== "svg" && chartFormat !== "html") {
    return badValue(io, "simulate", chartFormat);
  }
  if (
    values.chart !== undefined &&
    values.timeline !== undefined &&
    resolve(values.chart) === resolve(values.timeline)
  ) {
    return badValue(io, "simulate", `--chart and --timeline both name ${values.chart}`);
  }
  const scalerNames = scalerList(values.scaler ?? "all");
  const unknown = scalerNames.filter((n) => !isScalerName(n) && !/^static:\d+$/.test(n));
  if (unknown.length > 0) {
    io.stderr.write(
      `tritonscale simulate: unknown scaler ${unknown.map((n) => `"${n}"`).join(", ")}; valid: ${Object.keys(scalers).join(", ")}, static:N, all\n`,
    );
    return ExitCode.Usage;
  }
  const { pool, trace: traceSpec } = values;
  const inputs = inputsOf(io);
  return reportInputErrors(io, async () => {
    const policy = await loadPolicy(inputs, pool, limits);
    const badModel = checkModelName(values.model, policy);
    if (badModel) return badValue(io, "simulate", badModel);
    if (connections > 0 && policy.spec.scaling.loadBalancing !== "random") {
      return badValue(
        io,
        "simulate",
        `--connections ${connections} pins connections to replicas, as a plain Service does (spec.scaling.loadBalancing: random); pool ${policy.metadata.name} balances each request (${policy.spec.scaling.loadBalancing})`,
      );
    }
    const together = values.model === undefined && policy.spec.models.length > 1;
    const mix = mixFlag(values.mix, values.model, policy);
    if (typeof mix === "string") return badValue(io, "simulate", mix);
    if (values.profile !== undefined && together) {
      return badValue(
        io,
        "simulate",
        `--profile is one model's profile; pool ${policy.metadata.name} has ${policy.spec.models.length} models (${policy.spec.models.map((m) => m.name).join(", ")}): give --model NAME, or set each model's spec.models[].profile`,
      );
    }
    // Found out before the run, not after it.
    if (values.timeline) assertOutputPath(values.timeline, "file");
    if (values.chart) assertOutputPath(values.chart, "file");
    const loaded = await loadProfileAndTrace(inputs, policy, {
      trace: traceSpec,
      seed,
      limits,
      ...(values.profile === undefined ? {} : { profile: values.profile }),
      ...(values.model === undefined ? {} : { model: values.model }),
    });
    const { chosen } = loaded;
    const traffic = modelTraffic(policy, loaded.trace, {
      seed,
      ...(values.model === undefined ? {} : { model: values.model }),
      ...(mix.shares === undefined ? {} : { shares: mix.shares }),
    });
    if (typeof traffic === "string") return badValue(io, "simulate", traffic);
    const { trace, split } = traffic;
    const profile = chosen.profile;
    if (warmup >= trace.durationSeconds) {
      return badValue(
        io,
        "simulate",
        `--warmup ${values.warmup} must be shorter than the trace (${formatDuration(trace.durationSeconds)})`,
      );
    }
    const timelineRows: string[] = [];
    // --timeline's minutes; a chart alone of a short trace gets finer rows (≥ 1 s, ~120 a run).
    const interval = values.timeline
      ? TIMELINE_INTERVAL_SECONDS
      : Math.max(1, Math.min(TIMELINE_INTERVAL_SECONDS, Math.floor(trace.durationSeconds / 120)));
    const collector = chartFormat
      ? new TimelineCollector(trace.durationSeconds, interval)
      : undefined;
    const progress = progressBar(io, trace.durationSeconds);
    const result = compare({
      policy,
      trace,
      profile,
      ...(split ? { split } : {}),
      controls: [...scalerNames, ...bounds],
      seed,
      maxProbes,
      ...(connections > 0 ? { connections, connectionMaxAgeSeconds: maxAge } : {}),
      ...(values.json ? { usageBucketSeconds: SIMULATION_BUCKET_SECONDS } : {}),
      ...(sloTarget === undefined ? {} : { sloTarget }),
      ...(warmup > 0 ? { warmupSeconds: warmup } : {}),
      ...(values.model ? { model: values.model } : {}),
      ...(values.timeline || collector
        ? {
            timeline: {
              intervalSeconds: interval,
              write: (name: string, row: TimelineRow) => {
                if (values.timeline) timelineRows.push(csvRow(name, row));
                collector?.add(name, row);
              },
            },
          }
        : {}),
      ...(progress ? { onProgress: progress } : {}),
    });
    progress?.("", 1);
    if (values.timeline) {
      await writeFileAtomic(values.timeline, `${TIMELINE_HEADER}\n${timelineRows.join("\n")}\n`);
    }
    if (values.chart && chartFormat && collector) {
      const about = `${policy.metadata.namespace ?? "default"}/${policy.metadata.name}`;
      const chart = renderSimulationChart(
        {
          title: `${about}: ${trace.name}`,
          subtitle: `${result.models ? `models ${result.models.map((m) => `${m.model} (${percent(m.share)}, profile ${m.profile})`).join(", ")}` : `model ${simulatedModel(policy, values.model).name}, profile ${chosen.profile.name}`}, seed ${seed}, routing ${result.loadBalancing}${result.connections > 0 ? ` over ${result.connections} connections` : ""}; SLO: ${percent(result.sloTarget)} of requests within ${policy.spec.slo.latencyP99Ms} ms`,
          sloMs: policy.spec.slo.latencyP99Ms,
          sloTarget: result.sloTarget,
          currency: policy.spec.cost.currency,
          startEpochSeconds: DEFAULT_START_EPOCH,
          warmupSeconds: result.warmupSeconds,
          intervalSeconds: interval,
          maxReplicas: policy.spec.scaling.maxReplicas,
          rows: result.rows.map(chartRow),
          timeline: (name) => collector.series(name),
        },
        chartFormat,
      );
      await writeFileAtomic(values.chart, chart);
    }
    io.stdout.write(
      values.json
        ? `${JSON.stringify(toJson(result, together ? undefined : chosen, { policy, model: simulatedModels(policy, values.model) }), null, 2)}\n`
        : formatTable(result, policy.spec.slo.latencyP99Ms, chosen),
    );
    return ExitCode.Ok;
  });
}

/** What `simulate` and `report cost` read besides the pool: the profile and the trace. */
export async function loadProfileAndTrace(
  inputs: CommandInputs,
  policy: Policy,
  o: {
    readonly trace: string;
    readonly seed: number;
    readonly limits: ReadOptions;
    readonly profile?: string;
    readonly model?: string;
  },
): Promise<{ chosen: ChosenProfile; trace: ArrivalSource }> {
  const chosen = chooseProfile(
    policy,
    simulatedModel(policy, o.model),
    o.profile === undefined ? undefined : await loadProfile(inputs, o.profile, o.limits),
  );
  const trace = o.trace.startsWith("synthetic:")
    ? parseTraceSpec(o.trace, o.seed)
    : await readTrace(inputs, o.trace, o.seed);
  return { chosen, trace };
}

/**
 * The `--mix` flag of `simulate` and `report cost`: the shares it gives (none without it),
 * or why the command line is wrong (a string: with `--model` only that model runs). Throws
 * an InputError naming `--mix:1:<col>` for a model the pool lacks, a share that is not a
 * positive number, or a model named twice.
 */
export function mixFlag(
  mix: string | undefined,
  model: string | undefined,
  policy: Policy,
): { readonly shares?: Readonly<Record<string, number>> } | string {
  if (mix === undefined) return {};
  if (model !== undefined) {
    return "--mix splits a pool's traffic over its models; with --model only that model is simulated";
  }
  const parsed = parseModelMix(
    mix,
    policy.spec.models.map((m) => m.name),
  );
  if ("problems" in parsed) throw new InputError(parsed.problems);
  return { shares: parsed.shares };
}

/**
 * Which model each request of `trace` is for: for a pool of several models simulated
 * together, the trace's own `model` column (trace-csv.ts), else `shares` (`--mix`), else
 * equal shares; with `model`, that model's rows of a trace with a model column (the trace
 * as it is otherwise). Throws an InputError for model names the pool lacks (file, line,
 * column of the name's first row); a string is a bad command line.
 */
export function modelTraffic(
  policy: Policy,
  trace: ArrivalSource,
  o: {
    readonly seed: number;
    readonly model?: string;
    readonly shares?: Readonly<Record<string, number>>;
  },
): { trace: ArrivalSource; split?: ModelSplit } | string {
  const names = policy.spec.models.map((m) => m.name);
  const together = o.model === undefined && names.length > 1;
  const recorded = trace as RecordedTrace;
  const column = recorded.models;
  if (column !== undefined) {
    const problems = checkTraceModels(names, column);
    if (problems.length > 0) throw new InputError(problems);
    if (o.shares !== undefined) {
      return `--mix: trace ${column.file} says which model each request is for (its model column); give one or the other`;
    }
    if (o.model !== undefined) {
      const label = column.names.indexOf(o.model);
      if (label < 0) {
        return `--model ${o.model}: trace ${column.file}'s model column never names it (it names ${column.names.join(", ")})`;
      }
      return { trace: recorded.only!(label) };
    }
    return together ? { trace, split: createTraceSplit(names, column) } : { trace };
  }
  if (!together) return { trace };
  return { trace, split: createShareSplit(names, o.shares ?? equalModelShares(names), o.seed) };
}

/** A CSV trace, streamed from its file (or standard input), never held whole. */
export async function readTrace(inputs: CommandInputs, path: string, seed: number) {
  const opened = await inputs.openStream(path, "a CSV trace");
  if (!opened.ok) throw new InputError(opened.problems);
  return readTraceCsv(opened.chunks, opened.file, seed);
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      pool: { type: "string" },
      trace: { type: "string" },
      scaler: { type: "string" },
      profile: { type: "string" },
      model: { type: "string" },
      mix: { type: "string" },
      seed: { type: "string" },
      timeline: { type: "string" },
      chart: { type: "string" },
      json: { type: "boolean" },
      "slo-target": { type: "string" },
      warmup: { type: "string" },
      "max-probes": { type: "string" },
      connections: { type: "string" },
      "connection-max-age": { type: "string" },
      bounds: { type: "string" },
      "max-input-size": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** `--warmup`: seconds (0 without it); a string is the message. */
/** `--connection-max-age`: seconds (Infinity without it); a string is the message. */
function connectionMaxAgeFlag(text: string | undefined): number | string {
  if (text === undefined) return Number.POSITIVE_INFINITY;
  try {
    const s = parseDuration(text);
    return s > 0 ? s : `--connection-max-age must be longer than 0s. Received: ${text}`;
  } catch (e) {
    return `--connection-max-age: ${(e as Error).message}`;
  }
}

function warmupFlag(text: string | undefined): number | string {
  if (text === undefined) return 0;
  try {
    return parseDuration(text);
  } catch (e) {
    return `--warmup: ${(e as Error).message}`;
  }
}

/** Rows `--bounds` may add, in the order they are printed. */
const BOUND_ROWS = ["static-peak", ...BOUNDS] as const;

/** `--bounds`: the rows to add after the scalers; a string is the message. */
function boundList(spec: string): string[] | string {
  const parts = spec
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  if (parts.length === 1 && parts[0] === "none") return [];
  const asked = new Set<string>();
  for (const part of parts) {
    if (part === "all") for (const b of BOUND_ROWS) asked.add(b);
    else if ((BOUND_ROWS as readonly string[]).includes(part)) asked.add(part);
    else {
      return `--bounds: unknown row ${JSON.stringify(part)}; valid: ${BOUND_ROWS.join(", ")}, all, none`;
    }
  }
  return BOUND_ROWS.filter((b) => asked.has(b));
}

/** `all` means every registered scaler; `--bounds` adds the bounds after them. */
function scalerList(spec: string): string[] {
  const out: string[] = [];
  for (const part of spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (part === "all") for (const name of Object.keys(scalers)) out.push(name);
    else out.push(part);
  }
  return [...new Set(out)];
}

/** Simulated seconds between timeline rows (--timeline and --chart). */
const TIMELINE_INTERVAL_SECONDS = 60;

/** A row of the comparison as the chart draws it. */
function chartRow(r: ComparisonRow): ChartRow {
  return {
    name: r.name,
    kind: isBound(r.name) ? "bound" : r.name.startsWith("static") ? "static" : "scaler",
    gpuHours: r.gpuHours,
    cost: r.cost,
    sloAttainment: r.sloAttainment,
    metSloTarget: r.metSloTarget,
  };
}

const TIMELINE_HEADER =
  "run,t_seconds,arrivals_per_second,served,rejected,failed,ready_spot,ready_on_demand,starting,pending,desired,queued,p99_ms,cost,reason";

function csvRow(name: string, r: TimelineRow): string {
  const reason = `"${r.reason.replace(/"/g, '""')}"`;
  return [
    name,
    r.t,
    r.arrivalsPerSecond.toFixed(2),
    r.served,
    r.rejected,
    r.failed,
    r.readySpot,
    r.readyOnDemand,
    r.starting,
    r.pending,
    r.desired,
    r.queued,
    r.p99Ms.toFixed(2),
    r.cost.toFixed(4),
    reason,
  ].join(",");
}

/** One row of `--json`: snake_case keys. */
export type JsonRow = Record<string, number | string | boolean | Record<string, number | boolean>>;

/**
 * The `--json` shape: snake_case keys, one object per row; `load_balancing` says how the
 * requests were routed (the pool's `spec.scaling.loadBalancing`). Every row says whether it met
 * the SLO target (`met_slo_target`); a bound's row adds how its search found it (`search`:
 * `probes`, `stopped_probes` (cut short once they could no longer meet the target), `reached`,
 * `converged`, and best-static's `replicas` or an oracle's `headroom`).
 */
export function toJson(
  c: Comparison,
  chosen?: ChosenProfile,
  simulated?: { readonly policy: Policy; readonly model: string },
): {
  capacity_per_replica: number;
  load_balancing: string;
  connections: number;
  connection_max_age_seconds: number | null;
  slo_target: number;
  warmup_seconds: number;
  profile?: { name: string; origin: string };
  pool?: SimulationPoolJson;
  models?: { name: string; capacity_per_replica: number; share: number; profile: string }[];
  rows: JsonRow[];
} {
  const pool = simulated
    ? simulationPoolJson(simulated.policy, simulated.model, DEFAULT_START_EPOCH)
    : undefined;
  return {
    capacity_per_replica: round(c.capacity.requestsPerSecond, 3),
    load_balancing: c.loadBalancing,
    connections: c.connections,
    connection_max_age_seconds: Number.isFinite(c.connectionMaxAgeSeconds)
      ? c.connectionMaxAgeSeconds
      : null,
    slo_target: c.sloTarget,
    warmup_seconds: c.warmupSeconds,
    ...(chosen ? { profile: { name: chosen.profile.name, origin: chosen.origin } } : {}),
    ...(pool ? { pool } : {}),
    ...(c.models
      ? {
          models: c.models.map((m) => ({
            name: m.model,
            capacity_per_replica: round(m.capacity.requestsPerSecond, 3),
            share: round(m.share, 6),
            profile: m.profile,
          })),
        }
      : {}),
    rows: c.rows.map((r) => ({
      name: r.name,
      requests: r.requests,
      served: r.served,
      rejected: r.rejected,
      failed: r.failed,
      slo_attainment: round(r.sloAttainment, 6),
      met_slo_target: r.metSloTarget,
      p50_ms: round(r.p50Ms, 3),
      p95_ms: round(r.p95Ms, 3),
      p99_ms: round(r.p99Ms, 3),
      mean_queue_wait_ms: round(r.meanQueueWaitMs, 3),
      gpu_hours: round(r.gpuHours, 4),
      spot_gpu_hours: round(r.spotGpuHours, 4),
      cost: round(r.cost, 4),
      scale_events: r.scaleEvents,
      ...(r.byModel
        ? {
            models: r.byModel.map((m) => ({
              model: m.model,
              requests: m.requests,
              served: m.served,
              rejected: m.rejected,
              failed: m.failed,
              slo_attainment: round(m.sloAttainment, 6),
              p50_ms: round(m.p50Ms, 3),
              p95_ms: round(m.p95Ms, 3),
              p99_ms: round(m.p99Ms, 3),
            })) as unknown as JsonRow[string],
          }
        : {}),
      ...(r.search
        ? {
            search: {
              probes: r.search.probes,
              stopped_probes: r.search.stoppedProbes,
              reached: r.search.reached,
              converged: r.search.converged,
              ...(r.search.replicas === undefined ? {} : { replicas: r.search.replicas }),
              ...(r.search.headroom === undefined ? {} : { headroom: round(r.search.headroom, 4) }),
            },
          }
        : {}),
      ...(pool && r.usage
        ? {
            usage: simulationUsageJson(
              r.usage,
              pool.gpus_per_replica,
              pool.start_epoch,
            ) as unknown as JsonRow[string],
          }
        : {}),
    })),
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function formatTable(c: Comparison, sloMs: number, chosen: ChosenProfile): string {
  const head = [
    "scaler",
    "requests",
    "served",
    "rejected",
    "failed",
    `≤${sloMs}ms`,
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "wait ms",
    "GPU-h",
    "spot GPU-h",
    "cost",
    "events",
    "target",
  ];
  const rows = c.rows.map((r: ComparisonRow) => [
    r.name,
    String(r.requests),
    String(r.served),
    String(r.rejected),
    String(r.failed),
    `${(r.sloAttainment * 100).toFixed(2)}%`,
    r.p50Ms.toFixed(1),
    r.p95Ms.toFixed(1),
    r.p99Ms.toFixed(1),
    r.meanQueueWaitMs.toFixed(1),
    r.gpuHours.toFixed(2),
    r.spotGpuHours.toFixed(2),
    r.cost.toFixed(2),
    String(r.scaleEvents),
    r.metSloTarget ? "met" : isBound(r.name) ? "not a bound" : "missed",
  ]);
  const widths = head.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), h.length));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ");
  const target = `SLO target: ${percent(c.sloTarget)} of requests within ${sloMs} ms${c.warmupSeconds > 0 ? `, measured after a ${formatDuration(c.warmupSeconds)} warmup` : ""}`;
  const notes = c.rows.flatMap((r) => (r.search ? [searchNote(r, c.sloTarget)] : []));
  const capacity = c.models
    ? `per-replica capacity at the SLO, every replica hosting ${c.models.length} models: ${c.capacity.requestsPerSecond.toFixed(1)} req/s for the trace's mix (1 / Σ share / capacity); each alone: ${c.models.map((m) => `${m.model} ${m.capacity.requestsPerSecond.toFixed(1)} req/s (${percent(m.share)} of requests, profile ${m.profile})`).join(", ")}`
    : `per-replica capacity at the SLO: ${c.capacity.requestsPerSecond.toFixed(1)} req/s (p99 ${c.capacity.p99Ms.toFixed(1)} ms, mean batch ${c.capacity.meanBatch.toFixed(2)}) with profile ${chosen.profile.name} from ${chosen.from}`;
  const perModel = c.models ? `${modelTable(c, sloMs)}\n` : "";
  return `${capacity}\n${target}\n${routingLine(c)}\n${[line(head), ...rows.map(line)].join("\n")}\n${perModel}${notes.join("\n")}${notes.length > 0 ? "\n" : ""}`;
}

/** Per row, each model's requests, share within the SLO and p99 (a pool of several models). */
function modelTable(c: Comparison, sloMs: number): string {
  const head = ["scaler", "model", "requests", "rejected", "failed", `≤${sloMs}ms`, "p99 ms"];
  const rows = c.rows.flatMap((r) =>
    (r.byModel ?? []).map((m) => [
      r.name,
      m.model,
      String(m.requests),
      String(m.rejected),
      String(m.failed),
      `${(m.sloAttainment * 100).toFixed(2)}%`,
      m.p99Ms.toFixed(1),
    ]),
  );
  const widths = head.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), h.length));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i <= 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ");
  return `per model (the rows above count every model's requests):\n${[line(head), ...rows.map(line)].join("\n")}`;
}

/** How the requests were routed, as the pool says (spec.scaling.loadBalancing). */
function routingLine(c: Comparison): string {
  const { loadBalancing: lb, connections } = c;
  if (lb === "roundRobin") {
    return "routing: roundRobin (spec.scaling.loadBalancing): each request to the next ready replica in turn";
  }
  return connections > 0
    ? `routing: random (spec.scaling.loadBalancing) over ${connections} client connections (--connections), each pinned to a uniformly random ready replica until that replica goes${Number.isFinite(c.connectionMaxAgeSeconds) ? ` or it is ${formatDuration(c.connectionMaxAgeSeconds)} old` : ""}`
    : "routing: random (spec.scaling.loadBalancing): each request to a uniformly random ready replica";
}

function isBound(name: string): boolean {
  return (BOUNDS as readonly string[]).includes(name);
}

function percent(x: number): string {
  return `${Number((x * 100).toFixed(3))}%`;
}

/** How a bound was found, for the line under the table. */
function searchNote(r: ComparisonRow, target: number): string {
  const s = r.search!;
  const setting =
    s.replicas !== undefined
      ? `static:${s.replicas}`
      : `headroom ${s.headroom!.toFixed(2)}× the per-second demand`;
  const probes = `${s.probes} simulation${s.probes === 1 ? "" : "s"}`;
  if (!s.reached) {
    return `${r.name}: cannot reach the ${percent(target)} target (best tried: ${setting}, ${percent(r.sloAttainment)}; ${probes}): not a bound`;
  }
  return `${r.name}: ${setting} (${probes}${s.converged ? "" : ", search stopped at the probe limit: may be above the least"})`;
}

/** A progress bar on stderr when it is a terminal and the trace is longer than an hour. */
function progressBar(
  io: CommandIO,
  durationSeconds: number,
): ((name: string, fraction: number) => void) | undefined {
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  if (!tty || durationSeconds < 3600) return undefined;
  let last = "";
  return (name, fraction) => {
    const width = 30;
    const filled = Math.round(fraction * width);
    const text =
      fraction >= 1
        ? "\r\x1b[K"
        : `\r${name.padEnd(12)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${Math.round(fraction * 100)}%`;
    if (text !== last) io.stderr.write(text);
    last = text;
  };
}
