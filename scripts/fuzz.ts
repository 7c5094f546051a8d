/**
 * `npm run fuzz`: the long fuzz run for developers. The same targets, mutations and
 * invariants as CI's bounded run (test/fuzz/fuzz.test.ts), with more inputs, inputs up to
 * 1 MB, a seed from the command line (or the clock), a wall-clock ceiling per input and a
 * watchdog for inputs that never return. Prints a minimal reproducer for every failure.
 *
 *   npm run fuzz                                  # every target, 50,000 inputs each
 *   npm run fuzz -- --target pbtxt --iterations 500000 --seed 42
 *   npm run fuzz -- --target modelpool --seed 20260701 --index 1234   # replay one input
 *   npm run fuzz -- --all-defects                 # also report issue 7's known defects
 *
 * Each target runs in a worker thread; the main thread kills a worker whose input runs
 * past the hang limit, reports that input and goes on from the next. Exit 1 when any
 * input broke an invariant.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { type Found, fuzzTarget, quote, shrink } from "../test/fuzz/harness.js";
import { skippedAsKnown } from "../test/fuzz/known-defects.js";
import { mutatedInput } from "../test/fuzz/mutate.js";
import { entriesFor, SCALING_CASES } from "../test/fuzz/scaling.js";
import { checkInput, TARGETS, targetNamed } from "../test/fuzz/targets.js";

interface Job {
  readonly target: string;
  readonly seed: number;
  readonly first: number;
  readonly iterations: number;
  readonly maxLength: number;
  readonly maxRepeat: number;
  readonly ceilingMs: number;
  readonly filterKnown: boolean;
  /** [index of the input running, 1 while an input runs] */
  readonly progress: SharedArrayBuffer;
}

type FromWorker =
  | { type: "found"; found: Found }
  | { type: "shrunk"; index: number; text: string }
  | { type: "done"; accepted: number; known: [string, number][] };

// ---------------------------------------------------------------------------------------
// Worker: run inputs, report failures (then their shrunk form) and slow inputs.

function runWorker(job: Job): void {
  const target = targetNamed(job.target);
  const progress = new Int32Array(job.progress);
  const seeds = target.seeds().texts;
  const post = (m: FromWorker): void => parentPort!.postMessage(m);
  const slow: Found[] = [];
  const report = fuzzTarget(target, seeds, {
    seed: job.seed,
    first: job.first,
    iterations: job.iterations,
    maxLength: job.maxLength,
    maxRepeat: job.maxRepeat,
    filterKnown: job.filterKnown,
    onInput: (index) => {
      Atomics.store(progress, 0, index);
      Atomics.store(progress, 1, 1);
    },
    onDone: (index, text, ms) => {
      Atomics.store(progress, 1, 0);
      if (ms > job.ceilingMs) {
        slow.push({
          target: target.name,
          index,
          text,
          steps: [],
          failure: {
            kind: "slow",
            message: `${ms.toFixed(0)} ms for ${text.length.toLocaleString("en")} characters (ceiling ${job.ceilingMs} ms)`,
          },
        });
        post({ type: "found", found: slow[slow.length - 1]! });
      }
    },
  });
  for (const found of report.failures) {
    post({ type: "found", found });
    post({ type: "shrunk", index: found.index, text: shrink(target, found) });
  }
  post({ type: "done", accepted: report.accepted, known: [...report.known] });
}

// ---------------------------------------------------------------------------------------
// Main thread

function save(dir: string, f: Found, seed: number, suffix = ""): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${f.target}-${seed}-${f.index}${suffix}.txt`);
  writeFileSync(file, f.text);
  return file;
}

/** Runs one target's inputs in workers, restarting after a hang. Resolves with what broke. */
async function runTarget(
  job: Omit<Job, "progress" | "first">,
  hangMs: number,
  out: string,
): Promise<number> {
  let first = 0;
  let broken = 0;
  let accepted = 0;
  const known = new Map<string, number>();
  const t0 = performance.now();
  while (first < job.iterations) {
    const progress = new SharedArrayBuffer(8);
    const state = new Int32Array(progress);
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { ...job, first, iterations: job.iterations - first, progress } satisfies Job,
    });
    // Resolves with the input that stopped the worker (hang or crash), or undefined when done.
    const stopped = await new Promise<{ index: number; why: string } | undefined>((resolve) => {
      let last = -1;
      let since = performance.now();
      let finished = false;
      let hung = false;
      const timer = setInterval(() => {
        const index = Atomics.load(state, 0);
        const running = Atomics.load(state, 1) === 1;
        if (index !== last || !running) {
          last = index;
          since = performance.now();
        } else if (performance.now() - since > hangMs) {
          clearInterval(timer);
          hung = true;
          void worker
            .terminate()
            .then(() =>
              resolve({ index, why: `hang: no answer after ${hangMs} ms (worker stopped)` }),
            );
        }
      }, 100);
      worker.on("message", (m: FromWorker) => {
        if (m.type === "found") {
          broken++;
          const f = m.found;
          const file = save(out, f, job.seed);
          console.log(
            `FAIL ${f.target} #${f.index}${f.steps.length > 0 ? ` (${f.steps.join("+")})` : ""}: ${f.failure.kind}: ${f.failure.message}\n  input (${file}): ${quote(f.text, 300)}`,
          );
        } else if (m.type === "shrunk") {
          console.log(`  minimal reproducer of #${m.index}: ${quote(m.text, 600)}`);
        } else {
          finished = true;
          accepted += m.accepted;
          for (const [k, n] of m.known) known.set(k, (known.get(k) ?? 0) + n);
        }
      });
      let error = "";
      worker.on("error", (e) => {
        error = `${e.name}: ${e.message}`;
      });
      worker.on("exit", (code) => {
        clearInterval(timer);
        if (hung) return;
        if (finished) resolve(undefined);
        else
          resolve({
            index: Atomics.load(state, 0),
            why: `crash: the worker died (exit code ${code}${error ? `, ${error}` : ""})`,
          });
      });
    });
    if (stopped === undefined) break;
    broken++;
    const target = targetNamed(job.target);
    const { text, steps } = mutatedInput(
      job.seed,
      stopped.index,
      target.seeds().texts,
      target.grammar,
      job,
    );
    const found: Found = {
      target: job.target,
      index: stopped.index,
      text,
      steps,
      failure: { kind: "hang", message: stopped.why },
    };
    const file = save(out, found, job.seed);
    console.log(
      `FAIL ${job.target} #${stopped.index} (${steps.join("+")}): ${stopped.why}\n  input (${file}): ${quote(text, 300)}`,
    );
    first = stopped.index + 1;
  }
  const secs = (performance.now() - t0) / 1000;
  const set = [...known].map(([k, n]) => `${n} × ${k}`).join("; ");
  console.log(
    `${job.target}: ${job.iterations.toLocaleString("en")} inputs in ${secs.toFixed(1)} s, ${accepted.toLocaleString("en")} accepted, ${broken} failing${set ? `; set aside as KNOWN_DEFECTS: ${set}` : ""}`,
  );
  return broken;
}

/** The 1 MB ceiling: each growing input family at 1 MB must parse in under `ceilingMs`. */
function checkLargeInputs(ceilingMs: number, filterKnown: boolean): number {
  let broken = 0;
  for (const c of SCALING_CASES) {
    const text = c.make(entriesFor(c, 2 ** 20));
    const known = filterKnown ? skippedAsKnown(c.target, text) : undefined;
    if (known !== undefined) {
      console.log(`skip ${c.name}: set aside as KNOWN_DEFECTS: ${known.name}`);
      continue;
    }
    const t0 = performance.now();
    c.parse(text);
    const ms = performance.now() - t0;
    const ok = ms <= ceilingMs;
    if (!ok) broken++;
    console.log(
      `${ok ? "ok  " : "SLOW"} ${c.name}: ${(text.length / 2 ** 20).toFixed(2)} MB in ${ms.toFixed(0)} ms (ceiling ${ceilingMs} ms)`,
    );
  }
  return broken;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      target: { type: "string", multiple: true },
      seed: { type: "string" },
      iterations: { type: "string", default: "50000" },
      index: { type: "string" },
      "max-length": { type: "string", default: String(2 ** 20) },
      "max-repeat": { type: "string", default: "100000" },
      "ceiling-ms": { type: "string", default: "1000" },
      "hang-ms": { type: "string", default: "20000" },
      "all-defects": { type: "boolean", default: false },
      "skip-large": { type: "boolean", default: false },
      out: { type: "string", default: join(tmpdir(), "tritonscale-fuzz") },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      `usage: npm run fuzz -- [--target ${TARGETS.map((t) => t.name).join("|")}]... [--seed N] [--iterations N] [--index I]\n       [--max-length CHARS] [--max-repeat N] [--ceiling-ms MS] [--hang-ms MS] [--all-defects] [--skip-large] [--out DIR]`,
    );
    return 0;
  }
  const int = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a whole number`);
    return n;
  };
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : int("seed", values.seed);
  const names = values.target ?? TARGETS.map((t) => t.name);
  const limits = {
    maxLength: int("max-length", values["max-length"]),
    maxRepeat: int("max-repeat", values["max-repeat"]),
  };
  const ceilingMs = int("ceiling-ms", values["ceiling-ms"]);

  if (values.index !== undefined) {
    // Replay one input in this process, then shrink it.
    const index = int("index", values.index);
    let broken = 0;
    for (const name of names) {
      const target = targetNamed(name);
      const { text, steps } = mutatedInput(
        seed,
        index,
        target.seeds().texts,
        target.grammar,
        limits,
      );
      const t0 = performance.now();
      const { failure, outcome } = checkInput(target, text);
      const ms = performance.now() - t0;
      console.log(
        `${name} #${index} (${steps.join("+")}), ${text.length} characters, ${ms.toFixed(1)} ms: ${failure ? `${failure.kind}: ${failure.message}` : outcome?.ok ? "accepted" : `rejected: ${outcome?.problems[0]?.message}`}\n  input: ${quote(text, 600)}`,
      );
      if (failure !== undefined) {
        broken++;
        const found = { target: name, index, text, steps, failure };
        console.log(`  minimal reproducer: ${quote(shrink(target, found), 600)}`);
      }
    }
    return broken > 0 ? 1 : 0;
  }

  console.log(
    `fuzz seed ${seed}: ${names.join(", ")}; ${int("iterations", values.iterations).toLocaleString("en")} inputs each, up to ${limits.maxLength.toLocaleString("en")} characters; ceiling ${ceilingMs} ms per input; failing inputs saved in ${values.out}`,
  );
  let broken = 0;
  if (!values["skip-large"]) broken += checkLargeInputs(ceilingMs, !values["all-defects"]);
  for (const name of names) {
    targetNamed(name);
    broken += await runTarget(
      {
        target: name,
        seed,
        iterations: int("iterations", values.iterations),
        ...limits,
        ceilingMs,
        filterKnown: !values["all-defects"],
      },
      int("hang-ms", values["hang-ms"]),
      values.out,
    );
  }
  console.log(
    broken > 0
      ? `${broken} failing inputs (seed ${seed})`
      : `no failures (seed ${seed}); set-aside known defects are listed per target above`,
  );
  return broken > 0 ? 1 : 0;
}

if (isMainThread) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`fuzz: ${(e as Error).message}`);
      process.exitCode = 2;
    },
  );
} else {
  runWorker(workerData as Job);
}
