import type { Problem } from "../diagnostics/problem.js";
// The warnings module alone: it loads no Kubernetes object model, so validate starts fast.
import { poolWarnings } from "../kube/render/warnings.js";
import { profileWarnings } from "../simulate/pool-profile.js";
import { INPUT_SIZE_HELP, inputSizeOptions, readModelPool } from "./inputs.js";
import {
  badValue,
  type CommandIO,
  commandLine,
  ExitCode,
  inputsOf,
  parseFilesOnly,
  printProblems,
  printWarnings,
  processIO,
  usageError,
} from "./io.js";

const HELP = `Usage: tritonscale validate <pool.yaml|->...

Checks ModelPool files: YAML syntax, apiVersion and kind, unknown fields, types, ranges
and the rules between fields. Prints one line per valid file and every problem of the
invalid ones as file:line:col: field: message; then warnings (a valid pool whose pods
would not find their models, a model without a latency profile whose capacity is
estimated from the default, ...) as warning: file:line:col: ... Writes nothing. \`-\` reads standard input.

Exit code: 0 when every file is valid (warnings or not), 1 when any has a problem (or cannot be read),
2 for a bad command line.

Options:
${INPUT_SIZE_HELP}
  -h, --help             show this help
`;

/** `tritonscale validate <pool.yaml>...`: check ModelPool files, report every problem. */
export async function runValidate(
  argv: readonly string[],
  io: CommandIO = processIO,
): Promise<number> {
  const args = commandLine(io, "validate", HELP, argv, parseFilesOnly);
  if (typeof args === "number") return args;
  if (args.positionals.length === 0) {
    return usageError(io, "validate", "expected at least one <pool.yaml>", HELP);
  }
  const limits = inputSizeOptions(args.values["max-input-size"]);
  if (typeof limits === "string") return badValue(io, "validate", limits);
  const problems: Problem[] = [];
  for (const file of args.positionals) {
    const r = await readModelPool(inputsOf(io), file, limits);
    if (r.policy === undefined) {
      for (const p of r.problems) problems.push(p);
      continue;
    }
    printWarnings(io, [...poolWarnings(r.policy), ...profileWarnings(r.policy)]);
    const { metadata, spec } = r.policy;
    const n = spec.models.length;
    io.stdout.write(
      `ok: ${file === "-" ? "<stdin>" : file}: ModelPool ${metadata.namespace}/${metadata.name}, ${n} model${n === 1 ? "" : "s"}\n`,
    );
  }
  if (problems.length === 0) return ExitCode.Ok;
  printProblems(io, problems);
  io.stderr.write(`${problems.length} problem${problems.length === 1 ? "" : "s"}\n`);
  return ExitCode.Problems;
}
