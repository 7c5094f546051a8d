import { parseArgs } from "node:util";
import { InputError } from "../diagnostics/problem.js";
import { isScalerName, scalers } from "../scaling/registry.js";
import { type Comparison, type ComparisonRow, compare } from "../simulate/compare.js";
import type { TimelineRow } from "../simulate/engine.js";
import { type ChosenProfile, chooseProfile } from "../simulate/pool-profile.js";
import { DEFAULT_PROFILE_SPEC } from "../simulate/profile.js";
import { simulatedModel } from "../simulate/setup.js";
import { parseTraceSpec } from "../simulate/trace.js";
import { readTraceCsv } from "../simulate/trace-csv.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { assertOutputPath } from "../util/output-path.js";
import { checkModelName, flagNumber } from "./flags.js";
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
per scaler plus the bounds static-peak and oracle.

Options:
  --pool <file>          the ModelPool (required; - reads standard input)
  --trace <spec>         a CSV file (one timestamp per request, or time,count rows; read as
                         a stream, - for standard input) or
                         synthetic:KIND:key=value:... e.g. synthetic:poisson:rate=200:duration=1h
  --scaler <names>       comma-separated: ${Object.keys(scalers).join(", ")}, static:N, or all (default: all)
  --profile <spec>       perf_analyzer or Model Analyzer CSV, or linear:a=<ms>,b=<ms>
                         (default: the model's spec.models[].profile, else ${DEFAULT_PROFILE_SPEC})
  --model <name>         which pool model to simulate (default: the first)
  --seed <n>             random seed (default: 1)
  --timeline <file.csv>  write load, replicas and latency per minute for every run
  --json                 print {"rows": [...]} instead of a table
${INPUT_SIZE_HELP}
  -h, --help             show this help

Exit code: 0 on success, 1 when an input has a problem (or cannot be read, or --timeline
cannot be written), 2 for a bad command line.
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
  const limits = inputSizeOptions(values["max-input-size"]);
  if (typeof limits === "string") return badValue(io, "simulate", limits);
  const names = scalerList(values.scaler ?? "all");
  const unknown = names.filter((n) => !isScalerName(n) && !/^static:\d+$/.test(n));
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
    // Found out before the run, not after it.
    if (values.timeline) assertOutputPath(values.timeline, "file");
    const chosen = chooseProfile(
      policy,
      simulatedModel(policy, values.model),
      values.profile === undefined ? undefined : await loadProfile(inputs, values.profile, limits),
    );
    const profile = chosen.profile;
    const trace = traceSpec.startsWith("synthetic:")
      ? parseTraceSpec(traceSpec, seed)
      : await readTrace(inputs, traceSpec, seed);
    const timelineRows: string[] = [];
    const progress = progressBar(io, trace.durationSeconds);
    const result = compare({
      policy,
      trace,
      profile,
      controls: [...names, "static-peak", "oracle"],
      seed,
      ...(values.model ? { model: values.model } : {}),
      ...(values.timeline
        ? {
            timeline: {
              intervalSeconds: 60,
              write: (name: string, row: TimelineRow) => timelineRows.push(csvRow(name, row)),
            },
          }
        : {}),
      ...(progress ? { onProgress: progress } : {}),
    });
    progress?.("", 1);
    if (values.timeline) {
      await writeFileAtomic(values.timeline, `${TIMELINE_HEADER}\n${timelineRows.join("\n")}\n`);
    }
    io.stdout.write(
      values.json
        ? `${JSON.stringify(toJson(result, chosen), null, 2)}\n`
        : formatTable(result, policy.spec.slo.latencyP99Ms, chosen),
    );
    return ExitCode.Ok;
  });
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
      seed: { type: "string" },
      timeline: { type: "string" },
      json: { type: "boolean" },
      "max-input-size": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** `all` means the three scalers; the bounds are always added. */
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

/** The `--json` shape: snake_case keys, one object per row. */
export function toJson(
  c: Comparison,
  chosen?: ChosenProfile,
): {
  capacity_per_replica: number;
  profile?: { name: string; origin: string };
  rows: Record<string, number | string>[];
} {
  return {
    capacity_per_replica: round(c.capacity.requestsPerSecond, 3),
    ...(chosen ? { profile: { name: chosen.profile.name, origin: chosen.origin } } : {}),
    rows: c.rows.map((r) => ({
      name: r.name,
      requests: r.requests,
      served: r.served,
      rejected: r.rejected,
      failed: r.failed,
      slo_attainment: round(r.sloAttainment, 6),
      p50_ms: round(r.p50Ms, 3),
      p95_ms: round(r.p95Ms, 3),
      p99_ms: round(r.p99Ms, 3),
      mean_queue_wait_ms: round(r.meanQueueWaitMs, 3),
      gpu_hours: round(r.gpuHours, 4),
      spot_gpu_hours: round(r.spotGpuHours, 4),
      cost: round(r.cost, 4),
      scale_events: r.scaleEvents,
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
  ]);
  const widths = head.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), h.length));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ");
  return `per-replica capacity at the SLO: ${c.capacity.requestsPerSecond.toFixed(1)} req/s (p99 ${c.capacity.p99Ms.toFixed(1)} ms, mean batch ${c.capacity.meanBatch.toFixed(2)}) with profile ${chosen.profile.name} from ${chosen.from}\n${[line(head), ...rows.map(line)].join("\n")}\n`;
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
