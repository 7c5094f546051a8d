import { formatProblem, sortProblems } from "../diagnostics/problem.js";
import { buildPool, poolWarnings } from "../kube/render/index.js";
import { formatManifests } from "../kube/yaml.js";
import { loadModelPoolFile } from "../policy/index.js";
import {
  type CommandIO,
  commandLine,
  ExitCode,
  parseFilesOnly,
  processIO,
  reportInputErrors,
  usageError,
} from "./io.js";

const HELP = `Usage: tritonscale render <pool.yaml>

Prints every Kubernetes object the pool needs as one multi-document YAML, in apply order,
for \`kubectl apply -f -\` (or server-side apply): the Triton Deployment(s), Service,
PodDisruptionBudget, ServiceMonitor (or PodMonitor) and PrometheusRule, and the KEDA
ScaledObject(s) — or, with scaling.engine hpa, the HPA(s) and prometheus-adapter rules —
plus a Karpenter NodePool for provider karpenter. Every object is schema-checked first,
and every PromQL expression parsed. Warnings (pods that would not find their models, ...)
go to stderr and leave the exit code 0.

Options:
  -h, --help   show this help
`;

/** `tritonscale render <pool.yaml>`. */
export async function runRender(
  argv: readonly string[],
  io: CommandIO = processIO,
): Promise<number> {
  const args = commandLine(io, "render", HELP, argv, parseFilesOnly);
  if (typeof args === "number") return args;
  const [poolFile, ...extra] = args.positionals;
  if (!poolFile || extra.length > 0)
    return usageError(io, "render", "expected one <pool.yaml>", HELP);
  return reportInputErrors(io, async () => {
    const policy = await loadModelPoolFile(poolFile);
    io.stdout.write(formatManifests(buildPool(policy)));
    // Warnings go to stderr and leave the exit code 0: the objects are valid.
    for (const w of sortProblems(poolWarnings(policy))) {
      io.stderr.write(`warning: ${formatProblem(w)}\n`);
    }
    return ExitCode.Ok;
  });
}
