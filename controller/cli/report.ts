import { parseArgs } from "node:util";
import { InputError } from "../diagnostics/problem.js";
import { type Policy, parseDuration } from "../policy/index.js";
import {
  buildCostReport,
  type CostReport,
  type GpuPrice,
  poolPrices,
  splitPeriod,
} from "../report/cost.js";
import {
  formatCostCsv,
  formatCostHtml,
  formatCostJson,
  formatCostTable,
} from "../report/cost-format.js";
import { parseOpenCostCsv } from "../report/opencost.js";
import {
  ledgerFromSimulation,
  parseSavedSimulation,
  type SavedSimulation,
  SIMULATION_BUCKET_SECONDS,
  simulationPoolJson,
  simulationUsageJson,
} from "../report/simulation-ledger.js";
import type { UsageLedger } from "../report/usage.js";
import { isScalerName, scalers } from "../scaling/registry.js";
import { BOUNDS, compare } from "../simulate/compare.js";
import { DEFAULT_START_EPOCH } from "../simulate/engine.js";
import { simulatedModels } from "../simulate/setup.js";
import { prometheusLedger } from "../triton/prometheus-ledger.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { assertOutputPath } from "../util/output-path.js";
import {
  checkModelName,
  flagNumber,
  isoSeconds,
  prometheusUrlProblem,
  timeRangeFlags,
} from "./flags.js";
import { INPUT_SIZE_HELP, inputSizeOptions, loadPolicy, readInputText } from "./inputs.js";
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
import { loadProfileAndTrace, mixFlag, modelTraffic } from "./simulate.js";

const REPORTS = ["cost"] as const;

const HELP = `Usage: tritonscale report cost (--pool <pool.yaml> --trace <spec> | --from <sim.json>
                            | --pool <pool.yaml> --prometheus <url> [--from-time T] [--to-time T]) [options]

Cost per pool, model and capacity type (on-demand, spot) over a period: GPU-hours
allocated, busy and idle, cost at the pool's spec.cost prices (or the cluster's real
prices from an OpenCost export), Spot savings against the same hours on-demand, requests,
cost per 1,000 inferences and SLO attainment, with a total; the same figures for a
previous period and the change; and the scale-ups that cost most.

Source (one):
  --pool <file> --trace <spec>
                         run the simulation as \`simulate\` does (same trace specs, profile
                         and seed), for one scaler
    --scaler <name>      ${Object.keys(scalers).join(", ")}, static:N, static-peak,
                         ${BOUNDS.join(", ")} (default: the pool's spec.scaling.scaler)
    --seed <n>           random seed (default: 1)
    --profile <spec>     latency profile, as for simulate (one model's: with several
                         models only with --model)
    --model <name>       simulate only this model, as for simulate (default: every
                         model of the pool together)
    --mix <name=share,...>
                         a pool of several models: each request's model drawn from these
                         shares, as for simulate (default: the trace's model column, else
                         equal shares)
  --from <sim.json>      a saved \`tritonscale simulate --json\`; --scaler picks its row
                         (default: the only row, else tritonscale)
  --pool <file> --prometheus <url>
                         the live pool, from Prometheus: the controller's replica gauges
                         (GPU-hours), Triton's counters (requests, busy time) and request
                         summaries (SLO attainment, an estimate) over [--from-time, --to-time);
                         --prometheus defaults to the pool's spec.monitoring.prometheusAddress
    --from-time <time>   start: now-<duration> (e.g. now-24h), an RFC 3339 time with its zone
                         (2026-12-01T00:00:00Z) or Unix seconds (default: --to-time − 24h)
    --to-time <time>     end, the same forms (default: now); the previous period is the same
                         length before --from-time

Prices:
  --opencost <file.csv>  an OpenCost allocation CSV export: each pool's effective price per
                         GPU-hour (GPUCost / GPU-hours of its Triton Deployments' rows) by
                         namespace and capacity type, instead of spec.cost (kept where the
                         export has no rows)

Previous period (one):
  --previous <sim.json>  a saved simulate --json to compare with (its row of the same name)
  --period <duration>    report the source's last <duration> (e.g. 24h) and compare it with
                         the <duration> before it, when the source covers it

Output:
  (default)              a table
  --csv                  CSV (columns in the README)
  --json                 {"rows": [...], "total": {...}, ...}
  --html <file>          also write a self-contained page with charts
  --top <n>              scale-ups listed (default: 5)
${INPUT_SIZE_HELP}
  -h, --help             show this help

Exit code: 0 on success, 1 when an input has a problem (or cannot be read, or --html cannot
be written), 2 for a bad command line.
`;

/** `tritonscale report <kind>`: only `cost` so far. */
export async function runReport(
  argv: readonly string[],
  io: CommandIO = processIO,
): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind === "-h" || kind === "--help") {
    io.stdout.write(HELP);
    return ExitCode.Ok;
  }
  if (kind !== "cost") {
    return usageError(
      io,
      "report",
      kind === undefined
        ? `which report? one of: ${REPORTS.join(", ")}`
        : `unknown report ${JSON.stringify(kind)}; valid: ${REPORTS.join(", ")}`,
      HELP,
    );
  }
  return runCostReport(rest, io);
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
      seed: { type: "string" },
      profile: { type: "string" },
      model: { type: "string" },
      mix: { type: "string" },
      from: { type: "string" },
      prometheus: { type: "string" },
      "from-time": { type: "string" },
      "to-time": { type: "string" },
      opencost: { type: "string" },
      previous: { type: "string" },
      period: { type: "string" },
      csv: { type: "boolean" },
      json: { type: "boolean" },
      html: { type: "string" },
      top: { type: "string" },
      "max-input-size": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

const COMMAND = "report cost";

/** `tritonscale report cost`. */
export async function runCostReport(argv: readonly string[], io: CommandIO): Promise<number> {
  const args = commandLine(io, COMMAND, HELP, argv, parse);
  if (typeof args === "number") return args;
  const { values } = args;
  const live =
    values.prometheus !== undefined ||
    values["from-time"] !== undefined ||
    values["to-time"] !== undefined;
  if (live) {
    const bad = liveFlagProblem(values) ?? prometheusUrlProblem(values.prometheus);
    if (bad) return badValue(io, COMMAND, bad);
  }
  const simulating = !live && (values.pool !== undefined || values.trace !== undefined);
  if (simulating && values.from !== undefined) {
    return badValue(io, COMMAND, "give --pool/--trace or --from, not both");
  }
  if (!live && !simulating && values.from === undefined) {
    return badValue(
      io,
      COMMAND,
      "a source is required: --pool and --trace, --from, or --pool and --prometheus",
    );
  }
  if (simulating && (!values.pool || !values.trace)) {
    return badValue(
      io,
      COMMAND,
      values.pool
        ? "--pool needs --trace (a simulation) or --prometheus (the live pool)"
        : "--trace needs --pool",
    );
  }
  let liveRange: { from: number; to: number } | undefined;
  if (live) {
    const range = timeRangeFlags(
      values["from-time"],
      values["to-time"],
      Math.floor(Date.now() / 1000),
      86_400,
    );
    if (typeof range === "string") return badValue(io, COMMAND, range);
    liveRange = range;
  }
  if (values.pool === "-" && values.trace === "-") {
    return badValue(io, COMMAND, "--pool and --trace cannot both read standard input");
  }
  if (values.from !== undefined) {
    for (const flag of ["seed", "profile", "model", "mix"] as const) {
      if (values[flag] !== undefined) {
        return badValue(
          io,
          COMMAND,
          `--${flag} is for --pool/--trace (a saved simulation has its own)`,
        );
      }
    }
  }
  if (values.csv && values.json) {
    return badValue(io, COMMAND, "--csv and --json: choose one");
  }
  if (values.previous !== undefined && values.period !== undefined) {
    return badValue(io, COMMAND, "--previous and --period: choose one");
  }
  const seed = flagNumber("seed", values.seed, 1, { integer: true, min: 0 });
  if (typeof seed === "string") return badValue(io, COMMAND, seed);
  const top = flagNumber("top", values.top, 5, { integer: true, min: 0, max: 1000 });
  if (typeof top === "string") return badValue(io, COMMAND, top);
  let period: number | undefined;
  if (values.period !== undefined) {
    try {
      period = parseDuration(values.period);
    } catch (e) {
      return badValue(io, COMMAND, `--period: ${(e as Error).message}`);
    }
    if (!(period > 0) || period % SIMULATION_BUCKET_SECONDS !== 0) {
      return badValue(
        io,
        COMMAND,
        `--period must be whole days, e.g. 24h or 168h: a simulation's use is kept per day (got ${values.period})`,
      );
    }
  }
  const scaler = values.scaler;
  if (scaler !== undefined && simulating && !isControl(scaler)) {
    const one = scaler.includes(",") || scaler === "all" ? " (a report is of one scaler)" : "";
    return badValue(
      io,
      COMMAND,
      `unknown scaler "${scaler}"${one}; valid: ${Object.keys(scalers).join(", ")}, static:N, static-peak, ${BOUNDS.join(", ")}`,
    );
  }
  const limits = inputSizeOptions(values["max-input-size"]);
  if (typeof limits === "string") return badValue(io, COMMAND, limits);
  const inputs = inputsOf(io);

  const readSavedSimulation = async (path: string) => {
    const text = await readInputText(inputs, path, {
      expected: "a simulate --json output",
      ...limits,
    });
    return parseSavedSimulation(text.text, text.file);
  };

  return reportInputErrors(io, async () => {
    // Found out before any work, not after it.
    if (values.html !== undefined) assertOutputPath(values.html, "file");
    let current: Sourced;
    let previous: Sourced | undefined;
    const extraNotes: string[] = [];
    if (liveRange) {
      const policy = await loadPolicy(inputs, values.pool!, limits);
      const url = values.prometheus ?? policy.spec.monitoring.prometheusAddress;
      const length = liveRange.to - liveRange.from;
      const now = await prometheusSource(policy, url, liveRange.from, liveRange.to);
      if (typeof now === "string") {
        io.stderr.write(`tritonscale ${COMMAND}: ${now}\n`);
        return ExitCode.Problems;
      }
      current = now;
      const before = await prometheusSource(policy, url, liveRange.from - length, liveRange.from);
      if (typeof before === "string") {
        extraNotes.push(
          `no previous period (${isoSeconds(liveRange.from - length)} to ${isoSeconds(liveRange.from)}): ${before}`,
        );
      } else {
        previous = before;
      }
    } else if (simulating) {
      const policy = await loadPolicy(inputs, values.pool!, limits);
      const badModel = checkModelName(values.model, policy);
      if (badModel) return badValue(io, COMMAND, badModel);
      if (
        values.profile !== undefined &&
        values.model === undefined &&
        policy.spec.models.length > 1
      ) {
        return badValue(
          io,
          COMMAND,
          `--profile is one model's profile; pool ${policy.metadata.name} has ${policy.spec.models.length} models: give --model NAME, or set each model's spec.models[].profile`,
        );
      }
      const mix = mixFlag(values.mix, values.model, policy);
      if (typeof mix === "string") return badValue(io, COMMAND, mix);
      const model = simulatedModels(policy, values.model);
      const row = scaler ?? policy.spec.scaling.scaler;
      const loaded = await loadProfileAndTrace(inputs, policy, {
        trace: values.trace!,
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
      if (typeof traffic === "string") return badValue(io, COMMAND, traffic);
      const { trace, split } = traffic;
      const result = compare({
        policy,
        trace,
        profile: chosen.profile,
        ...(split ? { split } : {}),
        controls: [row],
        seed,
        ...(values.model === undefined ? {} : { model: values.model }),
        usageBucketSeconds: SIMULATION_BUCKET_SECONDS,
      });
      const pool = simulationPoolJson(policy, model, DEFAULT_START_EPOCH);
      const sim: SavedSimulation = {
        file: "",
        pool,
        sloTarget: result.sloTarget,
        rows: result.rows.map((r) => ({
          name: r.name,
          usage: simulationUsageJson(r.usage!, pool.gpus_per_replica, pool.start_epoch),
        })),
      };
      current = simulationSource(sim, row);
    } else {
      const sim = await readSavedSimulation(values.from!);
      const picked = pickRow(sim, scaler);
      if (picked.row === undefined) return badValue(io, COMMAND, picked.error);
      current = simulationSource(sim, picked.row);
    }

    let ledger = current.ledger;
    if (values.previous !== undefined) {
      const before = await readSavedSimulation(values.previous);
      const picked = pickRow(before, current.row);
      if (picked.row === undefined) return badValue(io, COMMAND, `--previous: ${picked.error}`);
      previous = simulationSource(before, picked.row);
    } else if (period !== undefined) {
      const split = splitPeriod(ledger, period);
      ledger = split.current;
      if (split.previous) previous = { ...current, ledger: split.previous };
      else {
        extraNotes.push(
          `--period ${values.period}: the source does not reach back before ${new Date((ledger.to - period) * 1000).toISOString().replace(/\.000Z$/, "Z")}: no previous period`,
        );
      }
    }

    const pools = [...current.pools, ...(previous?.pools ?? [])];
    let prices: GpuPrice[] = pools.flatMap((p) =>
      poolPrices(p.name, p.namespace, p.gpuType, p.cost),
    );
    if (values.opencost !== undefined) {
      const text = await readInputText(inputs, values.opencost, {
        expected: "an OpenCost allocation CSV",
        ...limits,
      });
      const oc = parseOpenCostCsv(
        text.text,
        text.file,
        pools.map((p) => ({ pool: p.name, namespace: p.namespace })),
        current.pools[0]?.cost.currency ?? "USD",
      );
      if (!oc.ok) throw new InputError(oc.problems);
      prices = [...oc.prices, ...prices];
      for (const n of oc.notes) extraNotes.push(n);
    }

    let report: CostReport;
    try {
      report = buildCostReport({
        ledger,
        prices,
        topEvents: top,
        ...(previous ? { previous: previous.ledger } : {}),
      });
    } catch (e) {
      io.stderr.write(`tritonscale ${COMMAND}: ${(e as Error).message}\n`);
      return ExitCode.Problems;
    }
    report = { ...report, notes: [...report.notes, ...extraNotes] };
    if (values.html !== undefined) {
      await writeFileAtomic(
        values.html,
        formatCostHtml(report, current.title, {
          ...(current.sloTarget === undefined ? {} : { sloTarget: current.sloTarget }),
        }),
      );
    }
    io.stdout.write(
      values.json
        ? formatCostJson(report)
        : values.csv
          ? formatCostCsv(report)
          : formatCostTable(report),
    );
    return ExitCode.Ok;
  });
}

/** A pool in a ledger and its `spec.cost`, the prices it is reported at unless OpenCost's. */
interface PricedPool {
  readonly name: string;
  readonly namespace: string;
  readonly gpuType: string;
  readonly cost: {
    readonly currency: string;
    readonly onDemandPerGpuHour: number;
    readonly spotPerGpuHour: number;
  };
}

/**
 * What a report source gives: a ledger, the pools in it with their prices, and what to call
 * it. A new source (e.g. Prometheus over `--from-time`/`--to-time`) is one more function
 * returning this, beside {@link simulationSource}.
 */
interface Sourced {
  readonly ledger: UsageLedger;
  readonly pools: readonly PricedPool[];
  /** The page's title. */
  readonly title: string;
  /** The row (scaler) it reports, to pick the same row of a --previous simulation. */
  readonly row: string;
  /** The SLO attainment target, drawn on the page's attainment chart when known. */
  readonly sloTarget?: number;
}

/** A row of a saved (or just run) simulation as a report source. */
function simulationSource(sim: SavedSimulation, row: string): Sourced {
  const p = sim.pool;
  return {
    ledger: ledgerFromSimulation(sim, row),
    pools: [
      {
        name: p.name,
        namespace: p.namespace,
        gpuType: p.gpu_type,
        cost: {
          currency: p.currency,
          onDemandPerGpuHour: p.on_demand_per_gpu_hour,
          spotPerGpuHour: p.spot_per_gpu_hour,
        },
      },
    ],
    title: `Cost of ${p.namespace ? `${p.namespace}/` : ""}${p.name} (simulated, ${row})`,
    row,
    ...(sim.sloTarget === undefined ? {} : { sloTarget: sim.sloTarget }),
  };
}

/**
 * The live pool over [from, to) from Prometheus ({@link prometheusLedger}), priced at its
 * `spec.cost`. A Prometheus that cannot be reached or has no series for the pool gives the
 * message instead (one line, exit 1): the query and what is likely wrong.
 */
async function prometheusSource(
  policy: Policy,
  url: string,
  from: number,
  to: number,
): Promise<Sourced | string> {
  let ledger: UsageLedger;
  try {
    ledger = await prometheusLedger({ url, policy, from, to });
  } catch (e) {
    return `${(e as Error).message} (--prometheus URL sets another Prometheus, e.g. a kubectl port-forward's http://127.0.0.1:9090)`;
  }
  const cost = policy.spec.cost;
  const ns = policy.metadata.namespace ?? "";
  return {
    ledger,
    pools: [
      {
        name: policy.metadata.name,
        namespace: ns,
        gpuType: policy.spec.capacity.gpu.type,
        cost: {
          currency: cost.currency,
          onDemandPerGpuHour: cost.onDemandPerGpuHour,
          spotPerGpuHour: cost.spotPerGpuHour,
        },
      },
    ],
    title: `Cost of ${ns ? `${ns}/` : ""}${policy.metadata.name} (Prometheus, ${isoSeconds(from)} to ${isoSeconds(to)})`,
    row: policy.spec.scaling.scaler,
    sloTarget: policy.spec.slo.targetAttainment,
  };
}

/** The flags a live (Prometheus) report cannot take with it, as a message; else undefined. */
function liveFlagProblem(values: {
  readonly pool?: string | undefined;
  readonly [flag: string]: string | boolean | undefined;
}): string | undefined {
  if (values.pool === undefined)
    return "--prometheus, --from-time and --to-time need --pool (the live pool)";
  for (const flag of [
    "trace",
    "from",
    "previous",
    "period",
    "seed",
    "profile",
    "model",
    "mix",
    "scaler",
  ]) {
    if (values[flag] !== undefined) {
      return `--${flag} is not for a live report (--prometheus, --from-time, --to-time): ${
        flag === "previous" || flag === "period"
          ? "its previous period is the same length before --from-time"
          : "that is a simulation's flag"
      }`;
    }
  }
  return undefined;
}

/** A control `compare` runs: a registry scaler, static:N, static-peak or a bound. */
function isControl(name: string): boolean {
  return (
    isScalerName(name) ||
    /^static:\d+$/.test(name) ||
    name === "static-peak" ||
    (BOUNDS as readonly string[]).includes(name)
  );
}

/** The row of a saved simulation to report on; an error message when it is not clear. */
function pickRow(
  sim: SavedSimulation,
  wanted: string | undefined,
): { row: string; error?: undefined } | { row?: undefined; error: string } {
  const names = sim.rows.map((r) => r.name);
  if (wanted !== undefined) {
    if (names.includes(wanted)) return { row: wanted };
    return { error: `${sim.file} has no row "${wanted}"; its rows: ${names.join(", ")}` };
  }
  if (names.length === 1) return { row: names[0]! };
  if (names.includes("tritonscale")) return { row: "tritonscale" };
  return {
    error: `${sim.file} has ${names.length} rows (${names.join(", ")}): choose one with --scaler`,
  };
}
