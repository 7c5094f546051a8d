import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { ClusterLanding } from "../keda/landing.js";
import { createAcceleratedClock } from "../loop/clock.js";
import type { DecisionSink, PoolDecision } from "../loop/ports.js";
import { createSimulatedPorts } from "../loop/simulated.js";
import { classifyDecision } from "../metrics/reason-class.js";
import { DURATION_HINT, isDuration, parseDuration } from "../policy/duration.js";
import { type ByCapacity, formatNumber, totalOf } from "../scaling/types.js";
import type { ArrivalSource } from "../simulate/arrivals.js";
import type { SimulationResult } from "../simulate/engine.js";
import { poolCapacity } from "../simulate/pool-capacity.js";
import { createPoolRun } from "../simulate/pool-run.js";
import { parseTraceSpec } from "../simulate/trace.js";
import { packageRoot } from "../util/package-root.js";
import { flagNumber } from "./flags.js";
import { loadPolicy } from "./inputs.js";
import {
  type CommandIO,
  ExitCode,
  inputsOf,
  oneLineCommandLine,
  oneLineUsageError,
  processIO,
  reportInputErrors,
} from "./io.js";
import { type Serving, startServing } from "./serve.js";
import { readTrace } from "./simulate.js";

/** The pool `demo` runs unless told otherwise (shipped with the package). */
export const DEFAULT_DEMO_POOL = join(packageRoot, "examples", "yolov8-pool.yaml");

/**
 * The trace `demo` plays unless told otherwise: a 2 h day-shaped cycle, from a trough of
 * a few requests per second to a peak of 1,200 req/s after an hour and back, played over
 * and over. At the default speed a cycle takes 2 wall minutes: the example pool scales
 * up from 1 to 4 replicas and back down.
 */
export const DEFAULT_DEMO_TRACE = "synthetic:diurnal:mean=300:peakToMean=4:period=2h";

/** The default clock speed: simulated seconds per wall second. */
export const DEFAULT_DEMO_SPEED = 60;

const HELP = `Usage: tritonscale demo [options]

Runs the whole controller with no cluster: the same control loop as \`tritonscale
controller\`, its /metrics, /healthz, /readyz and /status, and the KEDA external scaler
answering for the ScaledObjects \`tritonscale render\` writes for the pool, all on
127.0.0.1, against a simulated cluster (Triton's dynamic batcher on each replica, GPU
nodes with provisioning and cold starts) fed by a traffic trace, on a clock running
--speed times faster than real time. Each decision is printed as it is taken, and the
simulated cluster moves where KEDA and the HPA it creates would take the Deployments on
the external scaler's answers (KEDA's activation and cooldown, the HPA's 10% tolerance and
its behavior), which is not always the decision:

  +00:42:15  desired spot 0 on-demand 4  cluster spot 0 on-demand 3  ready/starting 3/0  902.1 req/s  scale-up: ...

(simulated time since the start; desired replicas by capacity type; the Deployments'
replicas the cluster set; replicas ready and starting, waiting for a node included; the
arrival rate the loop measured; the class of the decision and the scaler's reason.)

Stops on Ctrl-C (SIGINT), SIGTERM or after --duration, then prints a summary.

Options:
  --pool <file>          the ModelPool (default: the shipped examples/yolov8-pool.yaml)
  --trace <spec>         synthetic:KIND:key=value:... or a CSV trace file, played over and
                         over (default: ${DEFAULT_DEMO_TRACE})
  --speed <n>            simulated seconds per wall second, up to 3600 (default: ${DEFAULT_DEMO_SPEED})
  --duration <d>         stop after this much SIMULATED time, e.g. 10m or 2h (at speed 60,
                         2h takes 2 wall minutes) (default: run until stopped)
  --metrics-port <p>     port of /metrics (default: 0, a free one; the URL is printed)
  --health-port <p>      port of /healthz, /readyz and /status (default: 0, a free one)
  --grpc-port <p>        port of the KEDA external scaler (default: 0, a free one)
  --seed <n>             random seed of the trace and the cluster (default: 1)
  -h, --help             show this help

Exit code: 0 when stopped (--duration, SIGINT or SIGTERM), 1 when the pool or the trace
has a problem or a port is taken, 2 for a bad command line.
`;

/** Where `demo` runs; tests pass their own. */
export interface DemoOptions {
  /** Stops the demo when aborted. @default SIGINT and SIGTERM */
  readonly signal?: AbortSignal;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      pool: { type: "string" },
      trace: { type: "string" },
      speed: { type: "string" },
      duration: { type: "string" },
      "metrics-port": { type: "string" },
      "health-port": { type: "string" },
      "grpc-port": { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** `--duration`: a duration string or seconds, > 0; a string is the message for a bad value. */
export function parseDemoDuration(text: string | undefined): number | undefined | string {
  if (text === undefined) return undefined;
  let seconds: number | undefined;
  if (isDuration(text)) seconds = parseDuration(text);
  else if (/^[0-9]+(\.[0-9]+)?$/.test(text)) seconds = Number(text);
  if (seconds === undefined || !(seconds > 0)) {
    return `--duration must be ${DURATION_HINT} (simulated time), or seconds, > 0 (got "${text}")`;
  }
  return seconds;
}

/** `tritonscale demo`. */
export async function runDemo(
  argv: readonly string[],
  io: CommandIO = processIO,
  options: DemoOptions = {},
): Promise<number> {
  const args = oneLineCommandLine(io, "demo", HELP, argv, parse);
  if (typeof args === "number") return args;
  const { values } = args;
  const speed = flagNumber("speed", values.speed, DEFAULT_DEMO_SPEED, {
    greaterThan: 0,
    max: 3600,
  });
  if (typeof speed === "string") return oneLineUsageError(io, "demo", speed);
  const seed = flagNumber("seed", values.seed, 1, { integer: true, min: 0 });
  if (typeof seed === "string") return oneLineUsageError(io, "demo", seed);
  const ports: number[] = [];
  for (const flag of ["metrics-port", "health-port", "grpc-port"] as const) {
    const p = flagNumber(flag, values[flag], 0, { integer: true, min: 0, max: 65535 });
    if (typeof p === "string") return oneLineUsageError(io, "demo", p);
    ports.push(p);
  }
  const [metricsPort, healthPort, grpcPort] = ports as [number, number, number];
  const duration = parseDemoDuration(values.duration);
  if (typeof duration === "string") return oneLineUsageError(io, "demo", duration);
  const poolFile = values.pool ?? DEFAULT_DEMO_POOL;
  const traceSpec = values.trace ?? DEFAULT_DEMO_TRACE;
  if (poolFile === "-" && traceSpec === "-") {
    return oneLineUsageError(io, "demo", "--pool and --trace cannot both read standard input");
  }

  const inputs = inputsOf(io);
  return reportInputErrors(io, async () => {
    const policy = await loadPolicy(inputs, poolFile);
    const trace: ArrivalSource = traceSpec.startsWith("synthetic:")
      ? parseTraceSpec(traceSpec, seed)
      : await readTrace(inputs, traceSpec, seed);
    const pool = { namespace: policy.metadata.namespace, name: policy.metadata.name };
    // The slow part (a capacity search per model) before the clock starts, so the first
    // decision comes one sync period into the trace, not minutes of simulated time later.
    const capacity = poolCapacity(policy);
    const run = createPoolRun(policy, trace, {
      seed,
      repeat: true,
      capacityPerReplica: capacity.perReplica,
    });
    const clock = createAcceleratedClock(speed);
    // The simulation's time 0 on the clock: set when the pool starts running, below.
    let epoch = clock.now();
    const sim = createSimulatedPorts(run, pool, () => epoch, duration);
    // The cluster moves where KEDA and the HPA would take it on the scaler's answers (the
    // safety floors, the HPA's tolerance and behavior, KEDA's cooldown), not straight to
    // each decision: the demo shows what a cluster does.
    const start = run.replicaCounts();
    const landing = new ClusterLanding(
      policy,
      {
        spot: start.ready.spot + start.starting.spot + start.pending.spot,
        onDemand: start.ready.onDemand + start.starting.onDemand + start.pending.onDemand,
      },
      (l) => sim.actuate(l.decision.at, l.replicas, l.reasons.join("; ")),
    );
    const printer = createDecisionPrinter(io, () => epoch, landing);
    let serving: Serving;
    try {
      serving = await startServing({
        loop: { capacityOf: () => capacity },
        metrics: sim.metrics,
        cluster: sim.cluster,
        clock,
        sinks: [landing, printer],
        host: "127.0.0.1",
        metricsPort,
        healthPort,
        grpcPort,
        version: "demo",
        periodSeconds: policy.spec.scaling.syncPeriodSeconds,
        onEvent: (e) => {
          if (e.kind === "pool-rejected" || e.kind === "schedule-failed") {
            io.stderr.write(`tritonscale demo: pool ${pool.namespace}/${pool.name}: ${e.error}\n`);
          } else {
            io.stderr.write(`tritonscale demo: ${e.kind}: ${e.error}\n`);
          }
        },
      });
    } catch (e) {
      const text = (e as Error).message;
      const hint = /EADDRINUSE/.test(text)
        ? " (a port given with --metrics-port, --health-port or --grpc-port is taken; 0 picks a free one)"
        : "";
      io.stderr.write(`tritonscale demo: cannot serve: ${text}${hint}\n`);
      return ExitCode.Problems;
    }
    const wallStart = performance.now();
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    const external = options.signal;
    if (external) external.addEventListener("abort", onSignal, { once: true });
    else {
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
    }
    try {
      epoch = clock.now();
      if (!serving.setPool(policy)) {
        return ExitCode.Problems;
      }
      serving.markSynced();
      printIntro(io, serving, poolFile, trace.name, speed, duration);
      if (!(external?.aborted ?? false)) {
        if (duration === undefined) {
          await new Promise<void>((resolve) =>
            stop.signal.addEventListener("abort", () => resolve(), { once: true }),
          );
        } else {
          await clock.sleep(epoch + duration - clock.now(), stop.signal);
        }
      }
    } finally {
      external?.removeEventListener("abort", onSignal);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await serving.close();
    }
    const wallSeconds = (performance.now() - wallStart) / 1000;
    // Up to where the clock stopped (exactly --duration when it ran out).
    run.advanceTo(Math.min(clock.now() - epoch, duration ?? Number.POSITIVE_INFINITY));
    const result = run.finish();
    io.stdout.write(
      `\n${formatSummary({ result, wallSeconds, speed, pool, sloMs: policy.spec.slo.latencyP99Ms, decisions: printer.tally })}\n`,
    );
    return ExitCode.Ok;
  });
}

function printIntro(
  io: CommandIO,
  s: Serving,
  poolFile: string,
  traceName: string,
  speed: number,
  duration: number | undefined,
): void {
  const shown = poolFile === DEFAULT_DEMO_POOL ? relative(packageRoot, poolFile) : poolFile;
  const host = "127.0.0.1";
  const targets = s.keda.targets().map((t) => `${t.namespace}/${t.name}`);
  const lines = [
    `tritonscale demo: pool ${poolFile === "-" ? "(standard input)" : shown}, trace ${traceName} played over and over, ${formatNumber(speed)}× real time${duration === undefined ? "; Ctrl-C stops" : `, for ${formatClock(duration)} of simulated time`}`,
    `  metrics:  http://${host}:${s.metricsPort}/metrics`,
    `  health:   http://${host}:${s.healthPort}/healthz  /readyz  /status`,
    `  KEDA external scaler (gRPC): ${host}:${s.grpcPort}, ScaledObjects ${targets.length > 0 ? targets.join(", ") : "(none: the pool's scaling.engine is not keda)"}`,
    "",
  ];
  io.stdout.write(`${lines.join("\n")}\n`);
}

/** `+HH:MM:SS` of simulated time (days as `Nd` in front). */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86_400);
  const hh = String(Math.floor((s % 86_400) / 3600)).padStart(2, "0");
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return `${days > 0 ? `${days}d` : ""}${hh}:${mm}:${ss}`;
}

function byType(c: ByCapacity): string {
  return `spot ${c.spot} on-demand ${c.onDemand}`;
}

/** Counts of what the demo decided, for the summary. */
interface Tally {
  decisions: number;
  byClass: Record<string, number>;
  minDesired: number;
  maxDesired: number;
}

/**
 * One line per decision: simulated time, desired by type, the Deployments' replicas the
 * cluster set (when given), ready/starting, arrivals, reason.
 */
export function formatDecision(d: PoolDecision, epoch: number, cluster?: ByCapacity): string {
  const r = d.snapshot.replicas;
  const rate = d.snapshot.arrivalRate?.value;
  const rateText = rate === undefined ? "— req/s" : `${rate.toFixed(1)} req/s`;
  const set = cluster === undefined ? "" : `  cluster ${byType(cluster)}`;
  return `+${formatClock(d.at - epoch)}  desired ${byType(d.decision.desired)}${set}  ready/starting ${totalOf(r.ready)}/${totalOf(r.starting) + totalOf(r.pending)}  ${rateText}  ${classifyDecision(d)}: ${d.decision.reason}`;
}

function createDecisionPrinter(
  io: CommandIO,
  epoch: () => number,
  landing: ClusterLanding,
): DecisionSink & { tally: Tally } {
  const tally: Tally = {
    decisions: 0,
    byClass: {},
    minDesired: Number.POSITIVE_INFINITY,
    maxDesired: 0,
  };
  return {
    tally,
    publish(d) {
      tally.decisions++;
      const c = classifyDecision(d);
      tally.byClass[c] = (tally.byClass[c] ?? 0) + 1;
      const total = totalOf(d.decision.desired);
      tally.minDesired = Math.min(tally.minDesired, total);
      tally.maxDesired = Math.max(tally.maxDesired, total);
      io.stdout.write(`${formatDecision(d, epoch(), landing.current())}\n`);
    },
  };
}

function count(n: number, word: string): string {
  return `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
}

/** The closing paragraph. */
function formatSummary(s: {
  result: SimulationResult;
  wallSeconds: number;
  speed: number;
  pool: { namespace: string; name: string };
  sloMs: number;
  decisions: Tally;
}): string {
  const r = s.result;
  const t = s.decisions;
  const classes = ["scale-up", "scale-down", "scale-to-zero", "held", "schedule", "rebalance"]
    .filter((c) => (t.byClass[c] ?? 0) > 0)
    .map((c) => `${t.byClass[c]} ${c}`);
  const range =
    t.decisions === 0
      ? "no decision was taken"
      : t.minDesired === t.maxDesired
        ? `desired replicas stayed at ${t.maxDesired}`
        : `desired replicas ranged from ${t.minDesired} to ${t.maxDesired}`;
  return `Summary: ${formatClock(r.durationSeconds)} of simulated time in ${s.wallSeconds.toFixed(1)} s of wall time (${formatNumber(s.speed)}×) on pool ${s.pool.namespace}/${s.pool.name}: ${count(r.requests, "request")}, ${(r.sloAttainment * 100).toFixed(2)}% answered within the ${s.sloMs} ms SLO (p99 ${r.p99Ms.toFixed(1)} ms), ${r.rejected.toLocaleString("en-US")} rejected, ${r.failed.toLocaleString("en-US")} failed; ${count(t.decisions, "decision")}${classes.length > 0 ? ` (${classes.join(", ")})` : ""}, ${range}, ${count(r.scaleEvents, "scale event")}; ${r.gpuHours.toFixed(2)} GPU-hours (${r.spotGpuHours.toFixed(2)} on Spot), cost ${r.cost.toFixed(2)} at the pool's prices per GPU-hour.`;
}
