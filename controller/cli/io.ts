import { formatProblem, type Problem, sortProblems } from "../diagnostics/problem.js";

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
