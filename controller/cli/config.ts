import { parseArgs } from "node:util";
import { formatProblem } from "../diagnostics/problem.js";
import { closest } from "../diagnostics/suggest.js";
import { lintFiles } from "../repository/lint-files.js";
import { formatModelConfig, parseModelConfig } from "../repository/model-config.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { INPUT_SIZE_HELP, inputSizeOptions, readInputText } from "./inputs.js";
import {
  badValue,
  type CommandIO,
  commandLine,
  ExitCode,
  inputsOf,
  parseFilesOnly,
  printProblems,
  processIO,
  reportInputErrors,
  usageError,
} from "./io.js";

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

Exit code: 0 when every file is clean, 1 when any has a problem (or cannot be read), 2 for
a bad command line.

Options:
${INPUT_SIZE_HELP}
  -h, --help             show this help
`;

const FORMAT_HELP = `Usage: tritonscale config format <file|-> [--write]

Prints the canonical form of a Triton config.pbtxt: fields in the order of the ModelConfig
message, two-space indent, one value per line. Comments are not kept. Refuses a file that
does not parse (the problems are printed). \`-\` reads standard input (printing only).

Exit code: 0 on success, 1 when the file cannot be read or parsed, 2 for a bad command line.

Options:
  -w, --write            rewrite the file in place (atomically) instead of printing it
${INPUT_SIZE_HELP}
  -h, --help             show this help
`;

function parseFormat(args: string[]) {
  return parseArgs({
    args,
    options: {
      help: { type: "boolean", short: "h" },
      write: { type: "boolean", short: "w" },
      "max-input-size": { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** `tritonscale config lint <file|dir>...`. */
async function runLint(argv: readonly string[], io: CommandIO): Promise<number> {
  const args = commandLine(io, "config lint", LINT_HELP, argv, parseFilesOnly);
  if (typeof args === "number") return args;
  if (args.positionals.length === 0) {
    return usageError(io, "config lint", "expected at least one <file|dir>", LINT_HELP);
  }
  const limits = inputSizeOptions(args.values["max-input-size"]);
  if (typeof limits === "string") return badValue(io, "config lint", limits);
  const { files, problems } = await lintFiles(args.positionals, inputsOf(io), limits);
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
  const args = commandLine(io, "config format", FORMAT_HELP, argv, parseFormat);
  if (typeof args === "number") return args;
  const [path, ...extra] = args.positionals;
  if (path === undefined || extra.length > 0) {
    return usageError(
      io,
      "config format",
      `expected exactly one <file>, got ${args.positionals.length}`,
      FORMAT_HELP,
    );
  }
  if (path === "-" && args.values.write) {
    return usageError(io, "config format", "--write needs a file, not standard input", FORMAT_HELP);
  }
  const limits = inputSizeOptions(args.values["max-input-size"]);
  if (typeof limits === "string") return badValue(io, "config format", limits);
  return reportInputErrors(io, () => format(io, path, args.values.write === true, limits));
}

async function format(
  io: CommandIO,
  path: string,
  write: boolean,
  limits: { limitBytes?: number },
): Promise<number> {
  const { file, text } = await readInputText(inputsOf(io), path, {
    expected: "a Triton model configuration (protobuf text format)",
    ...limits,
  });
  const parsed = parseModelConfig(text, file);
  if (parsed.problems.length > 0) {
    printProblems(io, parsed.problems);
    io.stderr.write(`not formatting ${file}: ${plural(parsed.problems.length, "problem")}\n`);
    return ExitCode.Problems;
  }
  const formatted = formatModelConfig(parsed.config);
  if (!write) {
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
