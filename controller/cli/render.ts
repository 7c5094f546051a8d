import { buildPool, poolWarnings } from "../kube/render/index.js";
import { formatManifests } from "../kube/yaml.js";
import { INPUT_SIZE_HELP, inputSizeOptions, loadPolicy } from "./inputs.js";
import {
  badValue,
  type CommandIO,
  commandLine,
  ExitCode,
  inputsOf,
  parseFilesOnly,
  printWarnings,
  processIO,
  reportInputErrors,
  usageError,
} from "./io.js";

const HELP = `Usage: tritonscale render <pool.yaml|->

Prints every Kubernetes object the pool needs as one multi-document YAML, in apply order,
for \`kubectl apply -f -\` (or server-side apply): the Triton Deployment(s), Service,
PodDisruptionBudget, ServiceMonitor (or PodMonitor) and PrometheusRule, and the KEDA
ScaledObject(s) — or, with scaling.engine hpa, the HPA(s) and prometheus-adapter rules —
plus a Karpenter NodePool for provider karpenter. Every object is schema-checked first,
and every PromQL expression parsed. Warnings (pods that would not find their models, ...)
go to stderr and leave the exit code 0. \`-\` reads the pool from standard input.

Exit code: 0 on success (warnings included), 1 when the pool has a problem (or cannot be
read), 2 for a bad command line.

Options:
${INPUT_SIZE_HELP}
  -h, --help             show this help
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
  const limits = inputSizeOptions(args.values["max-input-size"]);
  if (typeof limits === "string") return badValue(io, "render", limits);
  return reportInputErrors(io, async () => {
    const policy = await loadPolicy(inputsOf(io), poolFile, limits);
    io.stdout.write(formatManifests(buildPool(policy)));
    // Warnings go to stderr and leave the exit code 0: the objects are valid.
    printWarnings(io, poolWarnings(policy));
    return ExitCode.Ok;
  });
}
