import { parseArgs } from "node:util";
import type { Problem } from "../diagnostics/problem.js";
import { parseModelPoolFile } from "../policy/index.js";
import { type CommandIO, ExitCode, printProblems, processIO } from "./io.js";

const HELP = `Usage: tritonscale validate <pool.yaml>...

Checks ModelPool files: YAML syntax, apiVersion and kind, unknown fields, types, ranges
and the rules between fields. Prints one line per valid file and every problem of the
invalid ones as file:line:col: field: message. Writes nothing.

Exit code: 0 when every file is valid, 1 when any has a problem, 2 for a bad command line.

Options:
  -h, --help  show this help
`;

/** `tritonscale validate <pool.yaml>...`: check ModelPool files, report every problem. */
export async function runValidate(
  argv: readonly string[],
  io: CommandIO = processIO,
): Promise<number> {
  let args: { values: { help?: boolean }; positionals: string[] };
  try {
    args = parseArgs({
      args: [...argv],
      options: { help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.stderr.write(`tritonscale validate: ${(e as Error).message}\n\n${HELP}`);
    return ExitCode.Usage;
  }
  if (args.values.help) {
    io.stdout.write(HELP);
    return ExitCode.Ok;
  }
  if (args.positionals.length === 0) {
    io.stderr.write(`tritonscale validate: expected at least one <pool.yaml>\n\n${HELP}`);
    return ExitCode.Usage;
  }
  const problems: Problem[] = [];
  for (const file of args.positionals) {
    const r = await parseModelPoolFile(file);
    if (r.policy === undefined) {
      problems.push(...r.problems);
      continue;
    }
    const { metadata, spec } = r.policy;
    const n = spec.models.length;
    io.stdout.write(
      `ok: ${file}: ModelPool ${metadata.namespace}/${metadata.name}, ${n} model${n === 1 ? "" : "s"}\n`,
    );
  }
  if (problems.length === 0) return ExitCode.Ok;
  printProblems(io, problems);
  io.stderr.write(`${problems.length} problem${problems.length === 1 ? "" : "s"}\n`);
  return ExitCode.Problems;
}
