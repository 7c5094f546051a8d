import { join } from "node:path";
import { parseArgs } from "node:util";
import { InputError, type Problem } from "../diagnostics/problem.js";
import { checkManifestsPath, manifestsFileState } from "../io/manifests-file.js";
import type { Policy } from "../policy/index.js";
import {
  buildFleetDashboard,
  buildPoolDashboard,
  type DashboardJson,
  dashboardUid,
  FLEET_UID,
  formatDashboard,
} from "../report/dashboard.js";
import { renderDashboardPreview } from "../report/dashboard-preview.js";
import { queryDashboard } from "../triton/prometheus-dashboard.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { assertOutputPath } from "../util/output-path.js";
import { prometheusUrlProblem, timeRangeFlags } from "./flags.js";
import { INPUT_SIZE_HELP, INPUT_SIZE_OPTION, inputSizeOptions, readModelPool } from "./inputs.js";
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

const HELP = `Usage: tritonscale dashboard <pool.yaml>... [--out <dir>]
       tritonscale dashboard <pool.yaml> --preview <file.html> [--prometheus <url>]
                             [--from-time <t>] [--to-time <t>]

Builds a Grafana dashboard for each ModelPool, and with --out a fleet overview of them all.
A pool's dashboard has a row each for traffic (request rate, batch fill, queue time per
request against the pool's budget, pending requests), capacity (ready / starting / pending /
desired replicas by capacity type, headroom at the SLO, decisions by reason, held
decisions, signal age), latency (p50 / p99 against the SLO), GPU (utilization and memory,
from Triton or DCGM as spec.monitoring.gpuUtilization says) and cost (GPUs allocated, cost
per hour and per 1,000 inferences at the pool's spec.cost prices), and the controller's
scale events as annotations. Variables: data source, namespace, pool and model, defaulting
to the pool's own. \`tritonscale render\` ships the same dashboard as a ConfigMap for
Grafana's dashboard sidecar.

Without --out, prints the one pool's dashboard JSON (for Grafana's "Import dashboard").
With --out, writes <dir>/<uid>.json per pool (uid: <namespace>_<pool>) and
<dir>/${FLEET_UID}.json, each replaced atomically and only when it changed; nothing is
written when any pool has a problem.

With --preview, runs every panel's queries (variables: the pool's namespace, name and
models) as range queries against Prometheus and writes a self-contained HTML page that
draws the dashboard from the answers, laid out as in Grafana: a preview drawn by
tritonscale, not Grafana's rendering (the page says so). Prometheus defaults to the pool's
spec.monitoring.prometheusAddress; the period to the dashboard's default, the last 6 hours.

Exit code: 0 on success, 1 when a pool has a problem (or cannot be read), the output
cannot be written or Prometheus cannot be queried, 2 for a bad command line.

Options:
  -o, --out <dir>        folder for the dashboards and the fleet overview
      --preview <file>   write an HTML preview of the pool's dashboard drawn from Prometheus
      --prometheus <url> Prometheus to query (default: spec.monitoring.prometheusAddress)
      --from-time <t>    period start: now-<duration> (now-6h), RFC 3339 with its zone
                         (2026-01-15T08:00:00Z) or Unix seconds (default: 6 hours before
                         --to-time)
      --to-time <t>      period end, as --from-time (default: now)
${INPUT_SIZE_HELP}
  -h, --help             show this help
`;

/** `tritonscale dashboard <pool.yaml>... [--out DIR]`. */
export async function runDashboard(
  argv: readonly string[],
  io: CommandIO = processIO,
): Promise<number> {
  const args = commandLine(io, "dashboard", HELP, argv, parse);
  if (typeof args === "number") return args;
  const files = args.positionals;
  const out = args.values.out;
  if (files.length === 0) return usageError(io, "dashboard", "expected <pool.yaml>...", HELP);
  if (out === undefined && files.length > 1 && args.values.preview === undefined)
    return badValue(
      io,
      "dashboard",
      `${files.length} pools need --out <dir> (without it, one pool's dashboard is printed)`,
    );
  const limits = inputSizeOptions(args.values["max-input-size"]);
  if (typeof limits === "string") return badValue(io, "dashboard", limits);
  const preview = args.values.preview;
  if (preview === undefined) {
    for (const o of ["prometheus", "from-time", "to-time"] as const)
      if (args.values[o] !== undefined) return badValue(io, "dashboard", `--${o} needs --preview`);
  } else {
    if (out !== undefined || files.length > 1)
      return badValue(io, "dashboard", "--preview draws one pool's dashboard, without --out");
    // The 6 hours before --to-time by default: the dashboard's own default range.
    const period = timeRangeFlags(
      args.values["from-time"],
      args.values["to-time"],
      Math.floor(Date.now() / 1000),
      6 * 3600,
    );
    if (typeof period === "string") return badValue(io, "dashboard", period);
    const url = args.values.prometheus;
    const badUrl = prometheusUrlProblem(url);
    if (badUrl) return badValue(io, "dashboard", badUrl);
    return reportInputErrors(io, async () => {
      const [policy] = await loadPools(io, files, limits);
      return writePreview(io, preview, policy!, url, period);
    });
  }
  return reportInputErrors(
    io,
    async () => {
      const policies = await loadPools(io, files, limits);
      if (out === undefined) {
        io.stdout.write(formatDashboard(buildPoolDashboard(policies[0]!)));
        return ExitCode.Ok;
      }
      await writeDashboards(io, out, policies);
      return ExitCode.Ok;
    },
    (n) => `${n} problem(s); nothing written`,
  );
}

/** Every pool, or every problem of all of them (and pools named twice) as one InputError. */
async function loadPools(
  io: CommandIO,
  files: readonly string[],
  limits: Exclude<ReturnType<typeof inputSizeOptions>, string>,
): Promise<Policy[]> {
  const problems: Problem[] = [];
  const policies: Policy[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const r = await readModelPool(inputsOf(io), file, limits);
    if (r.policy === undefined) {
      for (const p of r.problems) problems.push(p);
      continue;
    }
    const key = `${r.policy.metadata.namespace}/${r.policy.metadata.name}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push(
        r.policy.source.problemAt(
          "metadata.name",
          `pool ${key} is also defined in ${first}: each pool gets one dashboard (uid ${dashboardUid(r.policy.metadata.namespace, r.policy.metadata.name)}); rename one or leave it out`,
        ),
      );
      continue;
    }
    seen.set(key, file);
    policies.push(r.policy);
  }
  if (problems.length > 0) throw new InputError(problems);
  return policies;
}

/** Writes each pool's dashboard and the fleet overview into `out`, checked first. */
async function writeDashboards(
  io: CommandIO,
  out: string,
  policies: readonly Policy[],
): Promise<void> {
  const files: { path: string; dashboard: DashboardJson }[] = policies.map((p) => ({
    path: join(out, `${dashboardUid(p.metadata.namespace, p.metadata.name)}.json`),
    dashboard: buildPoolDashboard(p),
  }));
  files.push({ path: join(out, `${FLEET_UID}.json`), dashboard: buildFleetDashboard(policies) });
  assertOutputPath(out, "directory");
  // Each file is checked where the folder exists (a missing folder is created).
  const problems = files.map((f) => checkManifestsPath(out, f.path)).filter((p) => p !== undefined);
  if (problems.length > 0) throw new InputError(problems);
  for (const f of files) {
    const text = new TextEncoder().encode(formatDashboard(f.dashboard));
    const panels = (f.dashboard.panels ?? []).filter((p) => p.type !== "row").length;
    if (manifestsFileState(f.path, text) === "unchanged") {
      io.stdout.write(`${f.path}: unchanged (${panels} panels)\n`);
      continue;
    }
    await writeFileAtomic(f.path, text, { createFolder: true });
    io.stdout.write(`${f.path}: wrote "${f.dashboard.title}" (${panels} panels)\n`);
  }
}

/** Queries Prometheus for the pool's dashboard and writes its preview page atomically. */
async function writePreview(
  io: CommandIO,
  file: string,
  policy: Policy,
  url: string | undefined,
  period: { from: number; to: number },
): Promise<number> {
  assertOutputPath(file, "file");
  const dashboard = buildPoolDashboard(policy);
  const prometheus = url ?? policy.spec.monitoring.prometheusAddress;
  let data: Awaited<ReturnType<typeof queryDashboard>>;
  try {
    data = await queryDashboard({
      url: prometheus,
      dashboard,
      namespace: policy.metadata.namespace,
      pool: policy.metadata.name,
      models: policy.spec.models.map((m) => m.name),
      from: period.from,
      to: period.to,
      scrapeIntervalSeconds: policy.spec.monitoring.scrapeIntervalSeconds,
    });
  } catch (e) {
    io.stderr.write(`tritonscale dashboard: ${(e as Error).message.split("\n", 1)[0]}\n`);
    return ExitCode.Problems;
  }
  const preview = renderDashboardPreview(dashboard, data);
  await writeFileAtomic(file, preview.html);
  const shown = preview.panels.filter((p) => p.drawn !== "row");
  const empty = shown.filter((p) => p.drawn === "no data").map((p) => p.title);
  io.stdout.write(
    `${file}: wrote the preview of "${dashboard.title}" (${shown.length} panels${empty.length > 0 ? `; no data: ${empty.join(", ")}` : ""})\n`,
  );
  return ExitCode.Ok;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string", short: "o" },
      preview: { type: "string" },
      prometheus: { type: "string" },
      "from-time": { type: "string" },
      "to-time": { type: "string" },
      ...INPUT_SIZE_OPTION,
      help: { type: "boolean", short: "h" },
    },
  });
}
