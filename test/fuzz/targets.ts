/**
 * The parsers under fuzz, each with its seeds, the shape of its text (for mutations) and
 * the invariants every input must keep:
 *
 * 1. the parser returns (a value or problems) or throws the project's input error, never
 *    anything else (the duration and cron grammars throw their own documented errors);
 * 2. a rejected input has at least one problem with a line and column > 0 (where the
 *    input has positions), and every position lies inside the text;
 * 3. the work stays within a budget linear in the input's length (did-you-mean
 *    comparisons, problem count);
 * 4. target-specific: e.g. `format(parse(x))` parses back to the same text.
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError, type Problem } from "../../controller/diagnostics/problem.js";
import { suggestWork } from "../../controller/diagnostics/suggest.js";
import { CronError, parseCron } from "../../controller/policy/cron.js";
import { formatDuration, isDuration, parseDuration } from "../../controller/policy/duration.js";
import { parseModelPool } from "../../controller/policy/load.js";
import { formatModelConfig, parseModelConfig } from "../../controller/repository/model-config.js";
import { type LatencyProfile, parseProfile } from "../../controller/simulate/profile.js";
import type { ArrivalSource } from "../../controller/simulate/trace.js";
import { parseTraceCsv } from "../../controller/simulate/trace-csv.js";
import { PromTextParser, parsePromSamples } from "../../controller/triton/prom-text.js";
import { projectRoot, referenceDir } from "../support/reference.js";
import { TritonStandin } from "../support/triton-standin.js";
import type { FuzzRng, Grammar } from "./mutate.js";

/** What a parser made of one input. */
export interface Outcome {
  /** True when the input was accepted. */
  readonly ok: boolean;
  /** The problems of a rejected input (empty when ok). */
  readonly problems: readonly Problem[];
  /** What the parser returned, for the target's own checks. */
  readonly value?: unknown;
}

/** The kinds of invariant an input can break. */
export type FailureKind =
  | "threw" // an exception other than the project's input error
  | "no-position" // rejected without any problem carrying a line and column
  | "bad-position" // a problem's line:col outside the text, or not at what it names
  | "over-budget" // deterministic work over its linear budget
  | "invariant" // a target-specific property (round trip, finite values, ...)
  | "slow" // wall-clock over the ceiling (npm run fuzz only)
  | "hang"; // did not finish at all (npm run fuzz only)

/** One broken invariant. */
export interface Failure {
  readonly kind: FailureKind;
  /** What went wrong, in one line (an error's name and message, or the invariant). */
  readonly message: string;
}

/** Seeds of a target, or why there are none here. */
export interface Seeds {
  readonly texts: readonly string[];
  /** Seed files that were expected but are absent (e.g. ../shared/reference). */
  readonly missing: readonly string[];
}

/** A parser under fuzz. */
export interface Target {
  readonly name: string;
  /** The file name problems are reported against. */
  readonly file: string;
  readonly grammar: Grammar;
  /** Whether problems with `text` carry positions: not for one-line specs. */
  hasPositions(text: string): boolean;
  seeds(): Seeds;
  /** Parses `text`; throws only what the parser throws. */
  run(text: string): Outcome;
  /** Whether `p` is about the whole input, so it has no line (e.g. "the trace has no rows"). */
  wholeInput?(p: Problem): boolean;
  /** Extra invariants of an accepted or rejected input: a message when one is broken. */
  check?(text: string, outcome: Outcome): string | undefined;
}

// ---------------------------------------------------------------------------------------
// Seeds

function readDir(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir)
    .filter(keep)
    .sort()
    .map((f) => readFileSync(join(dir, f), "utf8"));
}

function findFiles(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (keep(e.name)) out.push(readFileSync(p, "utf8"));
    }
  };
  if (existsSync(dir)) visit(dir);
  return out;
}

/** The reference Triton configs (all text-format files) and the repository templates. */
function pbtxtSeeds(): Seeds {
  const texts = findFiles(join(projectRoot, "repo-templates"), (f) => f.endsWith(".pbtxt"));
  const configs = join(referenceDir, "triton", "configs");
  const missing: string[] = [];
  if (existsSync(configs)) texts.push(...readDir(configs, () => true));
  else missing.push(configs);
  return { texts, missing };
}

/** The example pools, plus one that uses labels, schedules and quoting. */
function poolSeeds(): Seeds {
  const texts = readDir(join(projectRoot, "examples"), (f) => f.endsWith(".yaml"));
  texts.push(
    readFileSync(join(projectRoot, "manifests", "examples", "yolo-fleet-spot.yaml"), "utf8"),
  );
  return { texts, missing: [] };
}

const TRACE_SEEDS = [
  "timestamp\n100\n100.125\n101\n",
  "10.5\n11\n12.25\n",
  "2024-05-01T12:00:00.250Z\n2024-05-01T12:00:01Z\n2024-05-01T12:00:01.500000Z\n",
  "2024-05-01T12:00:00Z\n2024-05-01T14:00:02+02:00\n2024-05-01T06:30:03-0530\n",
  '2024-05-01 23:59:59.5\n"2024-05-02T00:00:00,75"\n',
  "id,method,ts,latency_ms\n1,GET,5,3.2\n2,POST,6.5,1\n",
  "time,count\n0,100\n60,250\n120,0\n240,30\n",
  "timestamp,rps\n2024-05-01T00:00:00Z,12.5\n2024-05-01T00:05:00Z,40\n2024-05-01T00:10:00Z,3\n",
  "# a comment\r\nt,requests\r\n0,1\r\n1,2\r\n",
];

function traceSeeds(): Seeds {
  return { texts: TRACE_SEEDS, missing: [] };
}

const PA_HEADER =
  "Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency";

const PROFILE_SEEDS = [
  "linear:a=4,b=2.2",
  "linear:a=4ms,b=2ms,maxBatch=16",
  "default",
  [
    PA_HEADER,
    "1,100,200,1000,50,500,5000,500,0,7000,8000,8500,9000",
    "16,400,200,1000,20000,2000,16000,2000,0,40000,41000,42000,43000",
    "8,333.3,200,1000,9000,1000,10000,1000,0,22000,23000,24000,25000",
  ].join("\n"),
  [
    "Batch,Concurrency,Inferences/Second,Server Compute Input (ms),Server Compute Infer (ms),Server Compute Output (ms),p99 latency (ms)",
    "1,1,150,0.5,5,0.5,7",
    "4,1,333.3,1,10,1,13",
  ].join("\n"),
  [
    "Model,Batch,Concurrency,Model Config Path,Instance Group,Max Batch Size,Throughput (infer/sec),Server Compute Input (ms),Server Compute Infer (ms),Server Compute Output (ms)",
    "yolo,1,1,yolo_config_default,1:GPU,16,150,0.5,5,0.5",
    "yolo,1,8,yolo_config_default,1:GPU,16,333.3,1,10,1",
  ].join("\n"),
  [
    "Model,Batch,Concurrency,Model Config Path,Instance Group,Max Batch Size,Satisfies Constraints,Throughput (infer/sec),p99 Latency (ms)",
    "m,1,4,m_config_0,2:GPU,8,Yes,900,1",
    "m,1,1,m_config_0,2:GPU,8,Yes,200,1",
    "m,4,2,m_config_0,2:GPU,8,Yes,1000,1",
  ].join("\n"),
];

function profileSeeds(): Seeds {
  const texts = [...PROFILE_SEEDS];
  const missing: string[] = [];
  const triton = join(referenceDir, "triton");
  if (existsSync(triton)) {
    texts.push(readFileSync(join(triton, "perf_analyzer-example.csv"), "utf8"));
    texts.push(...readDir(join(triton, "model_analyzer"), (f) => f.endsWith(".csv")));
  } else missing.push(triton);
  return { texts, missing };
}

// ---------------------------------------------------------------------------------------
// Grammars

const aliasBomb = (rng: FuzzRng, size: number): string => {
  // "Billion laughs": each level a list of aliases of the level before.
  const levels = rng.range(2, 12);
  const width = rng.range(2, 9);
  let s = 'l0: &l0 ["x"]\n';
  for (let i = 1; i <= levels && s.length < size; i++) {
    s += `l${i}: &l${i} [${Array.from({ length: width }, () => `*l${i - 1}`).join(", ")}]\n`;
  }
  return rng.chance(0.5) ? s : `apiVersion: tritonscale.dev/v1alpha1\nkind: ModelPool\n${s}`;
};

const selfAlias = (rng: FuzzRng): string =>
  rng.pick(["a: &a [*a]", "a: &a [*a, *a]", "a: &a {b: *a}", "&a [*a]", "a: &a\n  - *a\n"]);

const yamlGrammar: Grammar = {
  structural: "[]{}:,-?&*!|>'\"#%@`\n \\",
  nest: [(s) => `[${s}]`, (s) => `{a: ${s}}`, (s) => `- ${s}`],
  entries: [
    "  k#N: v\n",
    "    - name: m#N\n",
    "- #N\n",
    "      team#N: perception\n",
    "  x: &a#N [1]\n  y#N: *a#N\n",
  ],
  specials: [aliasBomb, selfAlias],
};

const pbtxtGrammar: Grammar = {
  structural: "{}[]<>:,;\"'\\#\n-./",
  nest: [(s) => `a {${s}}`, (s) => `[${s}]`, (s) => `<${s}>`, (s) => `optimization {${s}}`],
  entries: [
    "unknown_field_#N: 1\n",
    'parameters { key: "k#N" value { string_value: "v" } }\n',
    'input { name: "i#N" data_type: TYPE_FP32 dims: [ 3 ] }\n',
    "dims: #N\n",
    'name: "a"\n',
  ],
};

const csvGrammar: Grammar = {
  structural: ',"\n\r.eE-+:TZ# ',
  nest: [(s) => `"${s}"`],
  entries: ["#N\n", "#N,1\n", "2024-05-01T00:00:0#NZ\n", "1,10,1,1,1,1,1000,1,1,1,1,1,1\n"],
};

const specGrammar: Grammar = {
  structural: ":,=.hmsMHSe-+ *\t/",
  nest: [(s) => `${s}${s}`],
  entries: ["1h", "30m", ",a=1", "1,"],
};

// ---------------------------------------------------------------------------------------
// Targets

/**
 * The lines of a text as positions count them: a leading byte-order mark is not a column
 * (editors do not show it, and the input reader drops it before any parser sees the text).
 */
function linesOf(text: string): string[] {
  return (text.startsWith("\uFEFF") ? text.slice(1) : text).split("\n");
}

/** The text at a 1-based position, or undefined when the position is outside the text. */
export function textAt(lines: readonly string[], line: number, col: number): string | undefined {
  const l = lines[line - 1];
  if (l === undefined || col < 1 || col > l.length + 1) return undefined;
  return l.slice(col - 1);
}

/** Runs `f`, turning the project's InputError into problems. */
function problemsOf(f: () => unknown): Outcome {
  try {
    return { ok: true, problems: [], value: f() };
  } catch (e) {
    if (e instanceof InputError) return { ok: false, problems: e.problems };
    throw e;
  }
}

const modelPool: Target = {
  name: "modelpool",
  file: "pool.yaml",
  grammar: yamlGrammar,
  hasPositions: () => true,
  seeds: poolSeeds,
  run(text) {
    const r = parseModelPool(text, "pool.yaml");
    if (r.policy === undefined && r.problems.length === 0) {
      throw new Error("parseModelPool returned neither a policy nor problems");
    }
    return { ok: r.policy !== undefined, problems: r.problems };
  },
  check(text, outcome) {
    // An unknown key is reported at the key: the text there starts with it.
    const lines = linesOf(text);
    for (const p of outcome.problems) {
      if (!p.message.startsWith("unknown field") || p.line === 0) continue;
      const key = /\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(p.path)?.[1];
      if (key === undefined) continue;
      const at = textAt(lines, p.line, p.col) ?? "";
      // An empty key (`: x`) is YAML's null, named `null` and placed at its `:`.
      if (key === "null" && at.startsWith(":")) continue;
      if (!at.replace(/^["']/, "").startsWith(key)) {
        return `${p.line}:${p.col}: "unknown field" ${p.path} points at ${JSON.stringify(at.slice(0, 20))}`;
      }
    }
    return undefined;
  },
};

const pbtxt: Target = {
  name: "pbtxt",
  file: "config.pbtxt",
  grammar: pbtxtGrammar,
  hasPositions: () => true,
  seeds: pbtxtSeeds,
  run(text) {
    const r = parseModelConfig(text, "config.pbtxt");
    if (!r.complete && r.problems.length === 0) {
      throw new Error("an incomplete parse without a problem");
    }
    return { ok: r.problems.length === 0, problems: r.problems };
  },
  check(text, outcome) {
    const lines = linesOf(text);
    for (const p of outcome.problems) {
      const name = /^unknown field "([A-Za-z_][A-Za-z0-9_]*)"/.exec(p.message)?.[1];
      if (name === undefined) continue;
      const at = textAt(lines, p.line, p.col) ?? "";
      if (!at.startsWith(name) && !at.startsWith(`[${name}`)) {
        return `${p.line}:${p.col}: unknown field "${name}" points at ${JSON.stringify(at.slice(0, 20))}`;
      }
    }
    if (!outcome.ok) return undefined;
    const parsed = parseModelConfig(text, "config.pbtxt");
    // Every field the parser placed is in the value (nothing silently dropped).
    for (const path of parsed.positions.keys()) {
      if (valueAt(parsed.config, path) === undefined) {
        return `a value was written at ${path} but the parsed config has none there`;
      }
    }
    // Canonical text is a fixed point: format∘parse is the identity on it.
    const once = formatModelConfig(parsed.config);
    const again = parseModelConfig(once, "formatted.pbtxt");
    if (again.problems.length > 0) {
      return `the formatted text does not parse: ${again.problems[0]!.message}`;
    }
    const twice = formatModelConfig(again.config);
    if (twice !== once) return "format(parse(format(parse(x)))) differs from format(parse(x))";
    return undefined;
  },
};

/** The value at a position path (`a.b[2]`, `parameters["k"].string_value`), if any. */
function valueAt(root: unknown, path: string): unknown {
  let cur: unknown = root;
  const re = /([A-Za-z_][A-Za-z0-9_]*)|\[("(?:[^"\\]|\\.)*"|[^\]]*)\]/g;
  for (const m of path.matchAll(re)) {
    if (cur === null || typeof cur !== "object") return undefined;
    const key = m[1] ?? (m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!);
    if (!Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

const traceCsv: Target = {
  name: "trace-csv",
  file: "trace.csv",
  grammar: csvGrammar,
  hasPositions: () => true,
  seeds: traceSeeds,
  // About the file as a whole: no rows, no requests, too few times to infer the interval.
  wholeInput: (p) =>
    p.line === 0 &&
    (p.message.startsWith("the trace has no ") ||
      /^per-interval \w+ need at least two different times/.test(p.message)),
  run(text) {
    return problemsOf(() => parseTraceCsv(text, "trace.csv", 1));
  },
  check(_text, outcome) {
    if (!outcome.ok) return undefined;
    const src = outcome.value as ArrivalSource;
    const d = src.durationSeconds;
    if (!(Number.isFinite(d) && d >= 0)) return `durationSeconds is ${d}`;
    // Read a bounded number of arrivals: each finite, in order, inside [0, duration).
    const buf = new Float64Array(1024);
    let prev = 0;
    for (let round = 0; round < 16; round++) {
      const n = src.fill(buf, d);
      for (let i = 0; i < n; i++) {
        const t = buf[i]!;
        if (!(Number.isFinite(t) && t >= prev && t < d)) {
          return `arrival ${t} after ${prev} (duration ${d})`;
        }
        prev = t;
      }
      if (n < buf.length) break;
    }
    const peak = src.peakRate(60);
    if (!(Number.isFinite(peak) && peak >= 0)) return `peakRate(60) is ${peak}`;
    return undefined;
  },
};

const profile: Target = {
  name: "profile",
  file: "profile.csv",
  grammar: csvGrammar,
  // CSV profiles have positions; a `linear:` spec has none.
  hasPositions: (text) => !text.trim().startsWith("linear:"),
  seeds: profileSeeds,
  // Text that is no profile at all is rejected as a whole.
  wholeInput: (p) => p.line === 0 && p.message.startsWith("not a profile"),
  run(text) {
    return problemsOf(() => parseProfile(text, "profile.csv"));
  },
  check(text, outcome) {
    if (!outcome.ok) return undefined;
    const p = outcome.value as LatencyProfile;
    if (text.trim().startsWith("linear:")) {
      // Every parameter the spec names must be given; a missing one is not zero.
      const keys = new Set(
        text
          .trim()
          .slice("linear:".length)
          .split(",")
          .map((kv) => kv.split("=")[0]!.trim()),
      );
      if (keys.has("a") !== keys.has("b")) {
        return `"${text.trim()}" accepted with only one of a and b`;
      }
    }
    let prev = 0;
    const batches = [1, 2, 3, 4, 8, 16, 64, p.maxBatch ?? 1].sort((x, y) => x - y);
    for (const b of batches) {
      const ms = p.computeMs(b);
      if (!(Number.isFinite(ms) && ms > 0 && ms >= prev - 1e-9)) {
        return `computeMs(${b}) is ${ms} after ${prev}`;
      }
      prev = ms;
    }
    return undefined;
  },
};

const duration: Target = {
  name: "duration",
  file: "duration",
  grammar: specGrammar,
  hasPositions: () => false,
  seeds: () => ({
    texts: ["90s", "10m", "1h30m", "500ms", "0", "4h30m", "0s", "1.5s", "2m", "15s"],
    missing: [],
  }),
  run(text) {
    try {
      const s = parseDuration(text);
      if (!isDuration(text)) throw new Error(`parseDuration accepted ${JSON.stringify(text)}`);
      return { ok: true, problems: [], value: s };
    } catch (e) {
      if (!(e instanceof RangeError) || isDuration(text)) throw e;
      return {
        ok: false,
        problems: [{ file: "duration", line: 0, col: 0, path: "", message: e.message }],
      };
    }
  },
  check(_text, outcome) {
    if (!outcome.ok) return undefined;
    const s = outcome.value as number;
    if (!(Number.isFinite(s) && s >= 0)) return `parseDuration gave ${s}`;
    // Durations a pool can hold print and read back to the millisecond.
    if (s < 1e12) {
      const back = parseDuration(formatDuration(s));
      if (Math.abs(back - s) > 0.0005 + s * 1e-15)
        return `formatDuration round trip: ${s} → ${back}`;
    }
    return undefined;
  },
};

const cron: Target = {
  name: "cron",
  file: "cron",
  grammar: specGrammar,
  hasPositions: () => false,
  seeds: () => ({
    texts: ["30 6 * * MON-FRI", "40 * * * *", "0 8 * * 1-5", "*/15 0-6,22-23 1,15 JAN-MAR *"],
    missing: [],
  }),
  run(text) {
    try {
      const c = parseCron(text);
      const bad = [
        c.minutes.every((v) => v >= 0 && v <= 59) && c.minutes.length > 0,
        c.hours.every((v) => v >= 0 && v <= 23) && c.hours.length > 0,
        [...c.daysOfMonth].every((v) => v >= 1 && v <= 31) && c.daysOfMonth.size > 0,
        [...c.months].every((v) => v >= 1 && v <= 12) && c.months.size > 0,
        [...c.daysOfWeek].every((v) => v >= 0 && v <= 6) && c.daysOfWeek.size > 0,
      ].indexOf(false);
      if (bad >= 0) throw new Error(`cron field ${bad + 1} out of range or empty`);
      return { ok: true, problems: [] };
    } catch (e) {
      if (!(e instanceof CronError)) throw e;
      return {
        ok: false,
        problems: [{ file: "cron", line: 0, col: 0, path: "", message: e.message }],
      };
    }
  },
};

// Triton's /metrics (the Prometheus text format), as the controller scrapes it.

const promTextGrammar: Grammar = {
  structural: '{}",=#\n \t\\:.-+eE',
  nest: [(s) => `a{${s}}`, (s) => `a{x="${s}"}`],
  entries: [
    'nv_inference_count{model="m#N",version="1"} #N\n',
    'nv_inference_request_failure{model="m",version="1",reason="REJECTED"} #N 1700000000000\n',
    "# HELP nv_gpu_utilization GPU utilization rate [0.0 - 1.0)\n# TYPE nv_gpu_utilization gauge\n",
    'nv_gpu_utilization{gpu_uuid="GPU-#N"} 0.#N\n',
  ],
};

/** The Triton stand-in's /metrics under load, plus Triton's reference sample when present. */
function promTextSeeds(): Seeds {
  const standin = new TritonStandin({
    models: [{ name: "yolov8s" }, { name: "yolov8n", version: "2" }],
    gpus: 2,
  });
  standin.setArrivalRate("yolov8s", 300);
  standin.setArrivalRate("yolov8n", 40);
  standin.advance(30);
  standin.fail("yolov8s", "BACKEND", 2);
  const texts = [
    standin.metricsText(),
    'a{x="q\\"\\\\\\n",y="raw\nnewline"} NaN 1700000000000\n# TYPE a gauge\nb -Inf\nc .5e-3',
  ];
  const sample = join(referenceDir, "triton", "metrics-sample.txt");
  const missing: string[] = [];
  if (existsSync(sample)) texts.push(readFileSync(sample, "utf8"));
  else missing.push(sample);
  return { texts, missing };
}

/** The samples and problem of a parse, as comparable text. */
function promTextSummary(r: ReturnType<typeof parsePromSamples>): string {
  const p = r.problem;
  return JSON.stringify({
    samples: r.samples.map((x) => [x.name, x.labels, String(x.value), x.timestampMs]),
    problem: p && [p.line, p.col, p.message],
  });
}

const promText: Target = {
  name: "prom-text",
  file: "metrics.txt",
  grammar: promTextGrammar,
  hasPositions: () => true,
  seeds: promTextSeeds,
  run(text) {
    const r = parsePromSamples(text, "metrics.txt");
    return r.problem ? { ok: false, problems: [r.problem] } : { ok: true, problems: [], value: r };
  },
  check(text) {
    // Streaming: the text in three chunks (cut at a third and two thirds, through records,
    // escapes and quotes) parses to the same samples and the same problem as the whole.
    const whole = promTextSummary(parsePromSamples(text, "metrics.txt"));
    const samples: ReturnType<typeof parsePromSamples>["samples"] = [];
    const parser = new PromTextParser(
      {
        sample(name, labels, value, timestampMs) {
          const o: Record<string, string> = {};
          for (let k = 0; k < labels.length; k += 2) o[labels[k]!] = labels[k + 1]!;
          samples.push(
            timestampMs === undefined
              ? { name, labels: o, value }
              : { name, labels: o, value, timestampMs },
          );
        },
      },
      "metrics.txt",
    );
    const a = Math.floor(text.length / 3);
    const b = Math.floor((2 * text.length) / 3);
    const problem =
      parser.write(text.slice(0, a)) ??
      parser.write(text.slice(a, b)) ??
      parser.write(text.slice(b)) ??
      parser.end();
    const chunked = promTextSummary(problem ? { samples, problem } : { samples });
    return chunked === whole
      ? undefined
      : `chunked parse differs from the whole: ${chunked.slice(0, 200)} vs ${whole.slice(0, 200)}`;
  },
};

/** Every target, in the order the fuzz run takes them. */
export const TARGETS: readonly Target[] = [
  modelPool,
  pbtxt,
  traceCsv,
  profile,
  duration,
  cron,
  promText,
];

// ---------------------------------------------------------------------------------------
// Invariants

/** The work budget of one input: linear in its length. */
export function workBudget(text: string): { comparisons: number; problems: number } {
  return { comparisons: 2000 + 64 * text.length, problems: 64 + 2 * text.length };
}

/**
 * Runs `target` on `text` and checks every invariant. Returns the first broken one, or
 * undefined. Never throws.
 */
export function checkInput(target: Target, text: string): { failure?: Failure; outcome?: Outcome } {
  const before = suggestWork.comparisons;
  // A parser reports through problems: a Node warning would reach the user's terminal.
  const warnings: string[] = [];
  const emitWarning = process.emitWarning;
  process.emitWarning = ((w: string | Error) => {
    warnings.push(typeof w === "string" ? w : w.message);
  }) as typeof process.emitWarning;
  let outcome: Outcome;
  try {
    outcome = target.run(text);
  } catch (e) {
    const err = e as Error;
    return {
      failure: {
        kind: "threw",
        message: `${err?.name ?? typeof e}: ${String(err?.message ?? e).slice(0, 200)}`,
      },
    };
  } finally {
    process.emitWarning = emitWarning;
  }
  if (warnings.length > 0) {
    return {
      outcome,
      failure: {
        kind: "invariant",
        message: `printed a Node warning: ${warnings[0]!.slice(0, 160)}`,
      },
    };
  }
  const comparisons = suggestWork.comparisons - before;
  const budget = workBudget(text);
  if (comparisons > budget.comparisons) {
    return {
      outcome,
      failure: {
        kind: "over-budget",
        message: `${comparisons} did-you-mean comparisons for ${text.length} characters (budget ${budget.comparisons})`,
      },
    };
  }
  if (outcome.problems.length > budget.problems) {
    return {
      outcome,
      failure: {
        kind: "over-budget",
        message: `${outcome.problems.length} problems for ${text.length} characters`,
      },
    };
  }
  if (!outcome.ok && outcome.problems.length === 0) {
    return { outcome, failure: { kind: "invariant", message: "rejected without a problem" } };
  }
  if (!outcome.ok && target.hasPositions(text)) {
    const placed = outcome.problems.some(
      (p) => (p.line > 0 && p.col > 0) || target.wholeInput?.(p) === true,
    );
    if (!placed) {
      const p = outcome.problems[0]!;
      return {
        outcome,
        failure: { kind: "no-position", message: `no problem has a line and column: ${p.message}` },
      };
    }
    const lines = linesOf(text);
    for (const p of outcome.problems) {
      if (p.line === 0 && p.col === 0) continue;
      if (textAt(lines, p.line, p.col) === undefined) {
        const len = lines[p.line - 1]?.length;
        return {
          outcome,
          failure: {
            kind: "bad-position",
            message: `problem at ${p.line}:${p.col} outside the text (${lines.length} lines${len === undefined ? "" : `, line ${p.line} has ${len} characters`}): ${p.message.slice(0, 120)}`,
          },
        };
      }
    }
  }
  let broken: string | undefined;
  try {
    broken = target.check?.(text, outcome);
  } catch (e) {
    const err = e as Error;
    broken = `the invariant check threw ${err?.name}: ${String(err?.message).slice(0, 200)}`;
  }
  if (broken !== undefined) {
    const kind = broken.includes("points at") ? "bad-position" : "invariant";
    return { outcome, failure: { kind, message: broken } };
  }
  return { outcome };
}

/** The target called `name`. */
export function targetNamed(name: string): Target {
  const t = TARGETS.find((x) => x.name === name);
  if (t === undefined) {
    throw new Error(`unknown target "${name}"; targets: ${TARGETS.map((x) => x.name).join(", ")}`);
  }
  return t;
}
