/**
 * Benchmark section: parser scaling. Each input family (test/fuzz/scaling.ts) is parsed at
 * 2,000 and at 20,000 entries in the same process and the ratio printed: linear work gives
 * about 10, quadratic about 100. Also the time per MB at 20,000 entries (target: no input
 * over 1 s at 1 MB; `npm run fuzz` checks 1 MB inputs against the wall clock).
 */

import { SCALING_CASES } from "../test/fuzz/scaling.js";

/**
 * The least CPU time (user + system, milliseconds) of `runs` parses of `text`: CPU time,
 * not wall-clock, so that other processes on a shared machine do not skew the ratio. One
 * full GC before the runs, not one before each: V8 throws away the compiled code of
 * functions a few full GCs found idle, so a forced GC before every parse made each pay
 * for compiling the yaml library again (2,000 unknown fields: 163 ms, against 49 ms in a
 * warm process), which is a fixed cost, not one per MB.
 */
function best(parse: (text: string) => void, text: string, runs: number): number {
  let min = Number.POSITIVE_INFINITY;
  globalThis.gc?.();
  for (let i = 0; i < runs; i++) {
    const t0 = process.cpuUsage();
    parse(text);
    const t = process.cpuUsage(t0);
    min = Math.min(min, (t.user + t.system) / 1000);
  }
  return min;
}

/** Prints the scaling table; `quick` measures each size once. */
export function printParserScaling(quick: boolean): void {
  const small = 2000;
  const large = 20_000;
  console.log(
    `\n# Parser scaling: ${small.toLocaleString("en")} vs ${large.toLocaleString("en")} entries in one run (linear ≈ 10, quadratic ≈ 100); target ≤ 1 s per MB`,
  );
  console.log(
    "input family                          2k CPU ms  20k CPU ms  ratio   20k size   ms per MB  verdict",
  );
  for (const c of SCALING_CASES) {
    const a = c.make(small);
    const b = c.make(large);
    c.parse(c.make(200)); // warm up the code paths
    const ta = best(c.parse, a, quick ? 1 : 3);
    // A quadratic parser at 20k would run for minutes: a step to 6k (3×) shows it first
    // (linear ≈ 3, quadratic ≈ 9). Only worth it when 2k already takes a while: a parse of
    // a few ms is too short to time one 6k step against (noise read as super-linear), and
    // even a quadratic one would finish 20k in seconds.
    const tm = ta >= 50 ? best(c.parse, c.make(3 * small), 1) : 0;
    if (tm / Math.max(ta, 0.001) > 6) {
      console.log(
        `${c.name.padEnd(38)} ${ta.toFixed(1).padStart(8)}  ${"skipped".padStart(10)}       —  ${`${(b.length / 1024).toFixed(0)} KB`.padStart(9)}           —  MISS (super-linear: 6k/2k = ${(tm / ta).toFixed(1)}, linear ≈ 3; 20k would take ~${((ta * 100) / 1000).toFixed(0)} s)`,
      );
      continue;
    }
    const tb = best(c.parse, b, quick ? 1 : 3);
    const ratio = tb / Math.max(ta, 0.001);
    const perMb = tb / (b.length / 2 ** 20);
    const ok = ratio < 20 && perMb <= 1000;
    console.log(
      `${c.name.padEnd(38)} ${ta.toFixed(1).padStart(8)}  ${tb.toFixed(1).padStart(9)}  ${ratio.toFixed(1).padStart(6)}  ${`${(b.length / 1024).toFixed(0)} KB`.padStart(9)}  ${perMb.toFixed(0).padStart(10)}  ${ok ? "met" : "MISS"}${ratio >= 20 ? " (super-linear)" : ""}${perMb > 1000 ? " (over 1 s per MB)" : ""}`,
    );
  }
}
