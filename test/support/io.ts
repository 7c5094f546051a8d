import type { CommandIO } from "../../controller/cli/io.js";

/** A command's output, captured in memory. */
export interface Captured {
  readonly io: CommandIO;
  readonly out: () => string;
  readonly err: () => string;
}

/** IO streams that collect what a command writes. */
export function capture(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => err.push(s) },
    },
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

/** Runs a command in-process and returns its exit code and output. */
export async function runCaptured(
  run: (argv: readonly string[], io: CommandIO) => Promise<number>,
  argv: readonly string[],
): Promise<{ code: number; out: string; err: string }> {
  const c = capture();
  const code = await run(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}
