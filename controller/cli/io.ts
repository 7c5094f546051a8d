import { parseArgs } from "node:util";
import {
  escapeInvisible,
  formatProblem,
  InputError,
  type Problem,
  sortProblems,
} from "../diagnostics/problem.js";
import { type CommandInputs, createInputReader, StreamInputError } from "./read-input.js";

/** Where a command writes, and what it reads through; tests pass their own. */
export interface CommandIO {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
  /** The input reader (files and `-` for stdin). @default the process's own */
  readonly inputs?: CommandInputs;
}

let processInputs: CommandInputs | undefined;

/** The input reader of `io`: its own, or the one over the real files and process.stdin. */
export function inputsOf(io: CommandIO): CommandInputs {
  if (io.inputs) return io.inputs;
  processInputs ??= createInputReader();
  return processInputs;
}

/** The process's own streams. */
export const processIO: CommandIO = { stdout: process.stdout, stderr: process.stderr };

/** Exit codes every command shares. */
export const ExitCode = {
  Ok: 0,
  /** Bad input, failed check, or (with --check) output that would change. */
  Problems: 1,
  /** The command line itself is wrong. */
  Usage: 2,
  /** A bug in tritonscale (EX_SOFTWARE): one line on stderr asking for a report. */
  Internal: 70,
} as const;

/**
 * The one line printed for an error that is not a problem with the input — a bug. With
 * `debug` (the environment variable TRITONSCALE_DEBUG=1), the stack trace follows.
 */
export function internalError(e: unknown, debug: boolean): string {
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const first = escapeInvisible(what.split("\n", 1)[0]!.slice(0, 500));
  const stack = debug && e instanceof Error && e.stack ? `${escapeInvisible(e.stack)}\n` : "";
  return `tritonscale: internal error: ${first}\nThis is a bug in tritonscale, not a problem with your input: please report it with the command you ran${debug ? "" : " (TRITONSCALE_DEBUG=1 prints the stack trace)"}.\n${stack}`;
}

/**
 * Prints warnings (problems that do not fail the command), one `warning: file:line:col: ...`
 * line each, sorted, to stderr.
 */
export function printWarnings(io: CommandIO, warnings: readonly Problem[]): void {
  for (const w of sortProblems(warnings)) io.stderr.write(`warning: ${formatProblem(w)}\n`);
}

/** Prints problems, one `file:line:col: ...` line each, sorted, to stderr. */
export function printProblems(io: CommandIO, problems: readonly Problem[]): void {
  for (const p of sortProblems(problems)) io.stderr.write(`${formatProblem(p)}\n`);
}

/**
 * Parses a command line with the command's own `parse` (node:util parseArgs), answering
 * `--help` and reporting a bad command line with `report` (by default the message and the
 * usage text, {@link usageError}). Returns the parsed arguments, or the exit code to
 * return at once.
 */
export function commandLine<T extends { readonly values: { readonly help?: boolean | undefined } }>(
  io: CommandIO,
  command: string,
  help: string,
  argv: readonly string[],
  parse: (args: string[]) => T,
  report: (message: string) => number = (message) => usageError(io, command, message, help),
): T | number {
  let parsed: T;
  try {
    parsed = parse([...argv]);
  } catch (e) {
    return report((e as Error).message);
  }
  if (parsed.values.help) {
    io.stdout.write(help);
    return ExitCode.Ok;
  }
  return parsed;
}

/**
 * A bad value of a known option (a number out of range, a model the pool does not have):
 * prints `tritonscale <command>: <message>` and where the options are described, not the
 * whole usage text; returns the usage exit code.
 */
export function badValue(io: CommandIO, command: string, message: string): number {
  io.stderr.write(
    `tritonscale ${command}: ${message}\nRun \`tritonscale ${command} --help\` for the options.\n`,
  );
  return ExitCode.Usage;
}

/**
 * A bad command line of a long-running command (`controller`, `demo`): one line naming
 * what is wrong and where the options are, no usage text; returns the usage exit code.
 */
export function oneLineUsageError(io: CommandIO, command: string, message: string): number {
  io.stderr.write(
    `tritonscale ${command}: ${message} (\`tritonscale ${command} --help\` lists the options)\n`,
  );
  return ExitCode.Usage;
}

/**
 * {@link commandLine} for the long-running commands: a parse error is one line
 * ({@link oneLineUsageError}), `--help` prints `help`.
 */
export function oneLineCommandLine<
  T extends { readonly values: { readonly help?: boolean | undefined } },
>(
  io: CommandIO,
  command: string,
  help: string,
  argv: readonly string[],
  parse: (args: string[]) => T,
): T | number {
  return commandLine(io, command, help, argv, parse, (message) =>
    oneLineUsageError(io, command, message.split("\n", 1)[0]!),
  );
}

/** Prints `tritonscale <command>: <message>` and the usage text; returns the usage exit code. */
export function usageError(io: CommandIO, command: string, message: string, help: string): number {
  io.stderr.write(`tritonscale ${command}: ${message}\n\n${help}`);
  return ExitCode.Usage;
}

/**
 * Runs a command's body; bad input (an InputError anywhere in it, or a streamed input
 * that turns out unreadable) becomes every problem on stderr, an optional summary line,
 * and exit code 1. Other errors propagate (to main's internal-error handler).
 */
export async function reportInputErrors(
  io: CommandIO,
  body: () => Promise<number>,
  summary?: (problems: number) => string,
): Promise<number> {
  try {
    return await body();
  } catch (e) {
    const problems =
      e instanceof InputError
        ? e.problems
        : e instanceof StreamInputError
          ? [e.problem]
          : undefined;
    if (problems === undefined) throw e;
    printProblems(io, problems);
    if (summary) io.stderr.write(`${summary(problems.length)}\n`);
    return ExitCode.Problems;
  }
}

/** The command line of a command that takes only files, `--max-input-size` and `--help`. */
export function parseFilesOnly(args: string[]) {
  return parseArgs({
    args,
    options: { help: { type: "boolean", short: "h" }, "max-input-size": { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
}
