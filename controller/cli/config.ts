import { readFile } from "node:fs/promises";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { formatProblem } from "../diagnostics/problem.js";
import { closest } from "../diagnostics/suggest.js";
import { lintFiles } from "../repository/lint-files.js";
import { formatModelConfig, parseModelConfig } from "../repository/model-config.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { type CommandIO, ExitCode, printProblems, processIO } from "./io.js";

const HELP = `Usage: tritonscale config <command> [options]

Commands:
  lint <file|dir>...        check Triton config.pbtxt files against Triton's load-time rules
  format <file> [--write]   print (or rewrite) a config.pbtxt in canonical form

Run \`tritonscale config <command> --help\` for a command's options.
`;

const LINT_HELP = `Usage: tritonscale config lint <file|dir>...

Checks Triton model configurations (protobuf text format) the way Triton does when it
loads a model: syntax, the ModelConfig schema, and the rules beyond it (batching and
priority queues, instance groups, inputs and outputs, execution accelerators, platform
and backend, ensembles). A directory is searched for config.pbtxt and *.pbtxt files. For a
<repository>/<model>/config.pbtxt the model name must match its folder, and ensemble steps
are checked against the other models of the repository.

Prints every problem as file:line:col: rule: field: message, sorted, and a summary on
stderr. Writes nothing.

Exit code: 0 when every file is clean, 1 when any has a problem, 2 for a bad command line.

Options:
  -h, --help  show this help
`;

const FORMAT_HELP = `Usage: tritonscale config format <file> [--write]

Prints the canonical form of a Triton config.pbtxt: fields in the order of the ModelConfig
message, two-space indent, one value per line. Comments are not kept. Refuses a file that
does not parse (the problems are printed).

Exit code: 0 on success, 1 when the file cannot be read or parsed, 2 for a bad command line.

Options:
  -w, --write  rewrite the file in place (atomically) instead of printing it
  -h, --help   show this help
`;

type Parsed<V> = { values: V; positionals: string[] };

/** parseArgs that reports a bad command line as usage text instead of throwing. */
function parse<V>(
  io: CommandIO,
  command: string,
  help: string,
  argv: readonly string[],
  options: ParseArgsConfig["options"],
): Parsed<V> | undefined {
  try {
    return parseArgs({
      args: [...argv],
      options,
      allowPositionals: true,
      strict: true,
    }) as Parsed<V>;
  } catch (e) {
    io.stderr.write(`tritonscale config ${command}: ${(e as Error).message}\n\n${help}`);
    return undefined;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** `tritonscale config lint <file|dir>...`. */
async function runLint(argv: readonly string[], io: CommandIO): Promise<number> {
  const args = parse<{ help?: boolean }>(io, "lint", LINT_HELP, argv, {
    help: { type: "boolean", short: "h" },
  });
  if (args === undefined) return ExitCode.Usage;
  if (args.values.help) {
    io.stdout.write(LINT_HELP);
    return ExitCode.Ok;
  }
  if (args.positionals.length === 0) {
    io.stderr.write(`tritonscale config lint: expected at least one <file|dir>\n\n${LINT_HELP}`);
    return ExitCode.Usage;
  }
  const { files, problems } = await lintFiles(args.positionals);
  for (const p of problems) io.stdout.write(`${formatProblem(p)}\n`);
  if (problems.length === 0) {
    io.stderr.write(`ok: ${plural(files.length, "file")}\n`);
    return ExitCode.Ok;
  }
  const withProblems = new Set(problems.map((p) => p.file)).size;
  io.stderr.write(`${plural(problems.length, "problem")} in ${plural(withProblems, "file")}\n`);
  return ExitCode.Problems;
}

/** Whether protobuf text has a `#` comment (outside string literals), which formatting drops. */
function hasComment(text: string): boolean {
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote !== "") {
      if (ch === "\\") i++;
      else if (ch === quote || ch === "\n") quote = "";
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "#") return true;
  }
  return false;
}

/** `tritonscale config format <file> [--write]`. */
async function runFormat(argv: readonly string[], io: CommandIO): Promise<number> {
  const args = parse<{ help?: boolean; write?: boolean }>(io, "format", FORMAT_HELP, argv, {
    help: { type: "boolean", short: "h" },
    write: { type: "boolean", short: "w" },
  });
  if (args === undefined) return ExitCode.Usage;
  if (args.values.help) {
    io.stdout.write(FORMAT_HELP);
    return ExitCode.Ok;
  }
  const [file, ...extra] = args.positionals;
  if (file === undefined || extra.length > 0) {
    io.stderr.write(
      `tritonscale config format: expected exactly one <file>, got ${args.positionals.length}\n\n${FORMAT_HELP}`,
    );
    return ExitCode.Usage;
  }
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    io.stderr.write(
      `tritonscale config format: cannot read ${file}: ${code === "ENOENT" ? "no such file or directory" : (e as Error).message}\n`,
    );
    return ExitCode.Problems;
  }
  const parsed = parseModelConfig(text, file);
  if (parsed.problems.length > 0) {
    printProblems(io, parsed.problems);
    io.stderr.write(`not formatting ${file}: ${plural(parsed.problems.length, "problem")}\n`);
    return ExitCode.Problems;
  }
  const formatted = formatModelConfig(parsed.config);
  if (!args.values.write) {
    io.stdout.write(formatted);
    return ExitCode.Ok;
  }
  if (formatted === text) {
    io.stdout.write(`${file} unchanged\n`);
    return ExitCode.Ok;
  }
  if (hasComment(text)) io.stderr.write(`note: ${file}: comments are not kept by formatting\n`);
  await writeFileAtomic(file, formatted);
  io.stdout.write(`formatted ${file}\n`);
  return ExitCode.Ok;
}

const SUBCOMMANDS = { lint: runLint, format: runFormat } as const satisfies Record<
  string,
  (argv: readonly string[], io: CommandIO) => Promise<number>
>;

/**
 * `tritonscale config <lint|format> ...`: `argv` is what follows `config` on the command
 * line. Output goes to `io` (the process streams by default). Resolves to the exit code:
 * 0 ok, 1 problems found (or the file cannot be read), 2 bad command line.
 */
export async function runConfig(
  argv: readonly string[],
  io: CommandIO = processIO,
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--help" || command === "-h" || command === "help") {
    io.stdout.write(HELP);
    return ExitCode.Ok;
  }
  if (command === undefined) {
    io.stderr.write(`tritonscale config: expected a command\n\n${HELP}`);
    return ExitCode.Usage;
  }
  if (!Object.hasOwn(SUBCOMMANDS, command)) {
    const near = closest(command, Object.keys(SUBCOMMANDS));
    io.stderr.write(
      `tritonscale config: unknown command "${command}"${near ? `; did you mean "${near}"?` : ""}\n\n${HELP}`,
    );
    return ExitCode.Usage;
  }
  return SUBCOMMANDS[command as keyof typeof SUBCOMMANDS](rest, io);
}
