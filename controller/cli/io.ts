import { parseArgs } from "node:util";
import { formatProblem, InputError, type Problem, sortProblems } from "../diagnostics/problem.js";

/** Where a command writes; tests pass their own to capture output. */
export interface CommandIO {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
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
} as const;

/** Prints problems, one `file:line:col: ...` line each, sorted, to stderr. */
export function printProblems(io: CommandIO, problems: readonly Problem[]): void {
  for (const p of sortProblems(problems)) io.stderr.write(`${formatProblem(p)}\n`);
}

/**
 * Parses a command line with the command's own `parse` (node:util parseArgs), answering
 * `--help` and reporting a bad command line with the usage text. Returns the parsed
 * arguments, or the exit code to return at once.
 */
export function commandLine<T extends { readonly values: { readonly help?: boolean | undefined } }>(
  io: CommandIO,
  command: string,
  help: string,
  argv: readonly string[],
  parse: (args: string[]) => T,
): T | number {
  let parsed: T;
  try {
    parsed = parse([...argv]);
  } catch (e) {
    return usageError(io, command, (e as Error).message, help);
  }
  if (parsed.values.help) {
    io.stdout.write(help);
    return ExitCode.Ok;
  }
  return parsed;
}

/** Prints `tritonscale <command>: <message>` and the usage text; returns the usage exit code. */
export function usageError(io: CommandIO, command: string, message: string, help: string): number {
  io.stderr.write(`tritonscale ${command}: ${message}\n\n${help}`);
  return ExitCode.Usage;
}

/**
 * Runs a command's body; bad input (an InputError anywhere in it) becomes every problem
 * on stderr, an optional summary line, and exit code 1. Other errors propagate.
 */
export async function reportInputErrors(
  io: CommandIO,
  body: () => Promise<number>,
  summary?: (problems: number) => string,
): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    printProblems(io, e.problems);
    if (summary) io.stderr.write(`${summary(e.problems.length)}\n`);
    return ExitCode.Problems;
  }
}

/** The command line of a command that takes only files and `--help`. */
export function parseFilesOnly(args: string[]) {
  return parseArgs({
    args,
    options: { help: { type: "boolean", short: "h" } },
    allowPositionals: true,
    strict: true,
  });
}
