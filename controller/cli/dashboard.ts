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
import { writeFileAtomic } from "../util/atomic-file.js";
import { assertOutputPath } from "../util/output-path.js";
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

Exit code: 0 on success, 1 when a pool has a problem (or cannot be read) or the output
cannot be written, 2 for a bad command line.

Options:
  -o, --out <dir>        folder for the dashboards and the fleet overview
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
  if (out === undefined && files.length > 1)
    return badValue(
      io,
      "dashboard",
      `${files.length} pools need --out <dir> (without it, one pool's dashboard is printed)`,
    );
  const limits = inputSizeOptions(args.values["max-input-size"]);
  if (typeof limits === "string") return badValue(io, "dashboard", limits);
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

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string", short: "o" },
      ...INPUT_SIZE_OPTION,
      help: { type: "boolean", short: "h" },
    },
  });
}
