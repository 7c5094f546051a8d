/**
 * Latency profiles: how long one model instance takes to execute a batch of n requests.
 * The simulator's batcher asks `computeMs(n)` for every batch it dispatches, so the
 * profiles answer from a precomputed table for whole batch sizes.
 *
 * Three sources:
 * - `linear:a=<ms>,b=<ms>[,maxBatch=<n>]`: a + b·n, both required (b = 0 is a constant time);
 * - a perf_analyzer `-f` CSV (see {@link parsePerfAnalyzerCsv});
 * - a Model Analyzer inference metrics CSV (see {@link parseModelAnalyzerCsv}).
 *
 * Measured points are interpolated linearly between measured batch sizes and extrapolated
 * linearly beyond them.
 *
 * How a measurement CSV becomes points (batch size → batch time):
 *
 * With compute columns (perf_analyzer always; Model Analyzer when its
 * `Server Compute * (ms)` columns were requested), a row's batch time is
 * `Server Compute Input + Server Compute Infer + Server Compute Output`: Triton charges each
 * request the full duration of the batch it ran in (the instance is busy for all three
 * phases), so their per-request averages are the mean batch time. perf_analyzer does not
 * write the server's batch size, so it is estimated by Little's law on the compute stage:
 * inferences in compute = throughput × batch time, spread over the instances, so the mean
 * busy batch is at least `throughput × time / instances` — exact when the GPU is saturated
 * (queueing), a lower bound otherwise, which makes the profile conservative (a batch looks
 * slower per request than it is). The estimate is clamped to [client batch, client batch ×
 * concurrency] and rounded to a whole batch; rows with the same batch are averaged.
 * Worked example (perf_analyzer-example.csv, concurrency 3): 209 + 11742 + 17 µs = 11.968 ms,
 * 84.2 inferences/s × 0.011968 s = 1.01 → batch 1.
 *
 * Without compute columns (Model Analyzer's default columns), a batch of the client batch
 * size B takes `B × min(concurrency, instances) / throughput`: each busy instance finishes
 * one request's batch per that time. The row with the lowest concurrency is used for each
 * B, where the dynamic batcher has the least chance to merge requests into larger batches;
 * its time includes the client round trip, so again it errs slow.
 *
 * Finally compute time is made non-decreasing in batch size (isotonic regression).
 */

import { InputError, type Problem } from "../diagnostics/problem.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { type NumberBounds, parseNumber } from "../util/number.js";
import { splitCsvLine } from "./csv.js";

/** The compute time of one batch on one model instance. */
export interface LatencyProfile {
  /** A name for reports, e.g. `linear:a=4,b=2.2` or `perf_analyzer:perf.csv`. */
  readonly name: string;
  /**
   * Milliseconds one model instance is busy executing a batch of `batch` requests
   * (batch ≥ 1): Triton's compute input + infer + output for that batch.
   */
  computeMs(batch: number): number;
  /** The largest batch the measured model accepts (its `max_batch_size`), when known. */
  readonly maxBatch?: number;
  /** How the profile was derived, for reports. */
  readonly description?: string;
  /**
   * What the profile is made of, when it is a line or measured points (what a pool's
   * `spec.models[].profile` stores; `tune --write` writes it).
   */
  readonly definition?: ProfileDefinition;
}

/** The data of a linear or a measured profile. */
export type ProfileDefinition =
  | { readonly kind: "linear"; readonly a: number; readonly b: number }
  | { readonly kind: "points"; readonly points: readonly ProfilePoint[] };

/** One measured point: a batch size and its compute time. */
export interface ProfilePoint {
  /** Requests (inferences) in the batch, > 0. */
  readonly batch: number;
  /** Milliseconds to execute it, > 0. */
  readonly ms: number;
}

/** Options of the CSV profile parsers. */
export interface ProfileOptions {
  /**
   * Model instances that served the measurement (perf_analyzer CSVs do not say; Model
   * Analyzer's `Instance Group` column overrides this).
   * @default 1
   */
  readonly instances?: number;
  /**
   * The client batch size of the measurement (perf_analyzer's `-b`), when the CSV has no
   * `Batch` column.
   * @default 1
   */
  readonly batchSize?: number;
  /** Model Analyzer: the `Model` to profile. @default the first row's */
  readonly model?: string;
  /**
   * Model Analyzer: the `Model Config Path` to profile.
   * @default the one ending in `_config_default`, else the first row's
   */
  readonly config?: string;
}

const LOOKUP_LIMIT = 4096;

class LinearProfile implements LatencyProfile {
  readonly name: string;
  readonly maxBatch?: number;
  readonly description: string;
  readonly definition: ProfileDefinition;
  private readonly a: number;
  private readonly b: number;

  constructor(a: number, b: number, name: string, maxBatch: number | undefined, desc: string) {
    this.a = a;
    this.b = b;
    this.definition = { kind: "linear", a, b };
    this.name = name;
    if (maxBatch !== undefined) this.maxBatch = maxBatch;
    this.description = desc;
  }

  computeMs(batch: number): number {
    return this.a + this.b * batch;
  }
}

/**
 * A profile a + b·n milliseconds for a batch of n.
 *
 * @throws RangeError when a or b is negative or not finite, or both are 0.
 */
export function createLinearProfile(
  aMs: number,
  bMs: number,
  options: {
    readonly name?: string;
    readonly maxBatch?: number;
    readonly description?: string;
  } = {},
): LatencyProfile {
  if (!(Number.isFinite(aMs) && aMs >= 0) || !(Number.isFinite(bMs) && bMs >= 0)) {
    throw new RangeError(`a linear profile needs a, b >= 0 ms. Received: a=${aMs}, b=${bMs}`);
  }
  if (aMs + bMs <= 0) {
    throw new RangeError("a linear profile needs a + b > 0: a batch cannot take no time");
  }
  return new LinearProfile(
    aMs,
    bMs,
    options.name ?? `linear:a=${aMs},b=${bMs}`,
    options.maxBatch,
    options.description ?? `${aMs} ms + ${bMs} ms per request`,
  );
}

class PiecewiseProfile implements LatencyProfile {
  readonly name: string;
  readonly maxBatch?: number;
  readonly description: string;
  readonly definition: ProfileDefinition;
  private readonly xs: Float64Array;
  private readonly ys: Float64Array;
  /** computeMs for whole batch sizes 0..table.length-1. */
  private readonly table: Float64Array;

  constructor(
    points: readonly ProfilePoint[],
    name: string,
    maxBatch: number | undefined,
    desc: string,
  ) {
    this.xs = Float64Array.from(points, (p) => p.batch);
    this.ys = Float64Array.from(points, (p) => p.ms);
    this.definition = { kind: "points", points: points.map((p) => ({ batch: p.batch, ms: p.ms })) };
    this.name = name;
    if (maxBatch !== undefined) this.maxBatch = maxBatch;
    this.description = desc;
    const last = this.xs[this.xs.length - 1]!;
    const size = Math.min(LOOKUP_LIMIT, Math.max(64, Math.ceil(last), maxBatch ?? 0) + 1);
    this.table = new Float64Array(size);
    for (let n = 0; n < size; n++) this.table[n] = this.interpolate(n);
  }

  computeMs(batch: number): number {
    const t = this.table;
    if (batch >= 0 && batch < t.length && (batch | 0) === batch) return t[batch]!;
    return this.interpolate(batch);
  }

  private interpolate(n: number): number {
    const xs = this.xs;
    const ys = this.ys;
    const k = xs.length;
    const x0 = xs[0]!;
    const y0 = ys[0]!;
    if (k === 1) return (y0 * n) / x0;
    if (n <= x0) {
      // Extrapolate the first segment down, but never faster than proportionally: a
      // smaller batch is not cheaper per request than a larger one.
      const slope = (ys[1]! - y0) / (xs[1]! - x0);
      return Math.max(y0 + slope * (n - x0), (y0 * n) / x0);
    }
    let i = 1;
    while (i < k - 1 && xs[i]! < n) i++;
    const xa = xs[i - 1]!;
    const xb = xs[i]!;
    const ya = ys[i - 1]!;
    const yb = ys[i]!;
    return ya + ((yb - ya) * (n - xa)) / (xb - xa);
  }
}

/**
 * A profile through measured points, linear between them and beyond them (the slope of the
 * nearest segment). One point gives a proportional profile, `ms · n / batch`: with nothing
 * measured about batching, no batching gain is assumed (conservative).
 *
 * @throws RangeError for no points, a non-positive batch or time, or a repeated batch size.
 */
export function createPiecewiseProfile(
  points: readonly ProfilePoint[],
  options: {
    readonly name?: string;
    readonly maxBatch?: number;
    readonly description?: string;
  } = {},
): LatencyProfile {
  if (points.length === 0) throw new RangeError("a profile needs at least one measured point");
  const sorted = [...points].sort((p, q) => p.batch - q.batch);
  for (let i = 0; i < sorted.length; i++) {
    const p = sorted[i]!;
    if (!(p.batch > 0 && Number.isFinite(p.batch) && p.ms > 0 && Number.isFinite(p.ms))) {
      throw new RangeError(
        `a profile point needs batch > 0 and ms > 0. Received: batch=${p.batch}, ms=${p.ms}`,
      );
    }
    if (i > 0 && sorted[i - 1]!.batch === p.batch) {
      throw new RangeError(`a profile has two points for batch ${p.batch}`);
    }
  }
  const desc =
    options.description ?? sorted.map((p) => `batch ${fmt(p.batch)}: ${fmt(p.ms)} ms`).join(", ");
  return new PiecewiseProfile(
    sorted,
    options.name ?? `points:${sorted.map((p) => `${p.batch}=${p.ms}`).join(",")}`,
    options.maxBatch,
    desc,
  );
}

/**
 * The spec of the built-in default profile, for the README's example (YOLOv8s, 640×640,
 * TensorRT fp16 on an NVIDIA T4): 4 ms per batch + 2.2 ms per image.
 *
 * This is an ASSUMPTION, not a measurement: a round figure for a mid-size detector on a T4
 * including Triton's input/output copies, chosen so the example's numbers are plausible.
 * Measure your own with perf_analyzer (or Model Analyzer) and pass the CSV instead.
 */
export const DEFAULT_PROFILE_SPEC = "linear:a=4,b=2.2";

/** The built-in default profile ({@link DEFAULT_PROFILE_SPEC}); max batch 16 assumed. */
export const DEFAULT_PROFILE: LatencyProfile = createLinearProfile(4, 2.2, {
  name: "yolov8s-t4-fp16 (assumed: linear:a=4,b=2.2)",
  maxBatch: 16,
  description:
    "assumed YOLOv8s 640 TensorRT fp16 on a T4: 4 ms + 2.2 ms per image (not measured; pass a perf_analyzer CSV)",
});

const LINEAR_KEYS = ["a", "b", "maxBatch"] as const;

/**
 * Parses `linear:a=<ms>,b=<ms>[,maxBatch=<n>]`: both `a` and `b` are required (write `b=0`
 * for a constant time, `a=0` for a proportional one), finite, ≥ 0, not both 0; values may
 * end in `ms`; `maxBatch` is a whole number ≥ 1.
 *
 * @throws InputError naming every bad key or value.
 */
export function parseLinearProfile(spec: string, file = "profile"): LatencyProfile {
  const problems: Problem[] = [];
  const where = (path: string, message: string): void => {
    problems.push({ file, line: 0, col: 0, path, message });
  };
  const body = spec.trim().replace(/^linear:/, "");
  const values = new Map<string, number>();
  for (const part of body.split(",")) {
    const item = part.trim();
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq < 0) {
      where(
        "",
        `expected key=value, got ${JSON.stringify(item)}; valid keys: ${LINEAR_KEYS.join(", ")}`,
      );
      continue;
    }
    const key = item.slice(0, eq).trim();
    const raw = item.slice(eq + 1).trim();
    if (!(LINEAR_KEYS as readonly string[]).includes(key)) {
      where(
        key,
        `unknown key${didYouMean(key, LINEAR_KEYS)}; valid keys: ${LINEAR_KEYS.join(", ")}`,
      );
      continue;
    }
    if (values.has(key)) {
      where(key, "given twice");
      continue;
    }
    const r =
      key === "maxBatch"
        ? parseNumber(raw, { integer: true, min: 1 })
        : parseNumber(raw.replace(/ms$/, ""), { min: 0 });
    if (!r.ok) {
      where(key, r.message);
      continue;
    }
    values.set(key, r.value);
  }
  for (const [key, what] of [
    ["a", "the fixed milliseconds per batch (0 for none)"],
    ["b", "the milliseconds per request in the batch (0 for a constant time)"],
  ] as const) {
    if (!values.has(key) && !problems.some((p) => p.path === key)) {
      where(key, `missing: ${what}; both a and b are required, e.g. linear:a=4,b=2.2`);
    }
  }
  const a = values.get("a") ?? 0;
  const b = values.get("b") ?? 0;
  if (problems.length === 0 && a + b <= 0) {
    where("b", "a + b must be > 0: a batch cannot take no time");
  }
  if (problems.length > 0)
    throw new InputError(problems, `invalid profile ${JSON.stringify(spec)}`);
  const maxBatch = values.get("maxBatch");
  return createLinearProfile(a, b, {
    name: `linear:a=${a},b=${b}${maxBatch === undefined ? "" : `,maxBatch=${maxBatch}`}`,
    ...(maxBatch === undefined ? {} : { maxBatch }),
  });
}

// ---------------------------------------------------------------------------------------
// Measurement CSVs (perf_analyzer, Model Analyzer)

/** Normalized header name → role. Units come from the header's `(ms)` / `(us)` suffix. */
const COLUMN_ROLES: Readonly<Record<string, Role>> = {
  batch: "batch",
  "batch size": "batch",
  "client batch size": "batch",
  concurrency: "concurrency",
  "request concurrency": "concurrency",
  "inferences/second": "throughput",
  "throughput (infer/sec)": "throughput",
  "server compute input": "computeInput",
  "server compute infer": "computeInfer",
  "server compute output": "computeOutput",
  "instance group": "instanceGroup",
  "model config path": "config",
  model: "model",
  "max batch size": "maxBatch",
};

type Role =
  | "batch"
  | "concurrency"
  | "throughput"
  | "computeInput"
  | "computeInfer"
  | "computeOutput"
  | "instanceGroup"
  | "config"
  | "model"
  | "maxBatch";

interface Column {
  readonly index: number;
  readonly header: string;
  /** Multiplier from the column's unit to milliseconds (time columns only). */
  readonly toMs: number;
}

interface Row {
  readonly line: number;
  readonly batch: number;
  readonly concurrency: number | undefined;
  readonly throughput: number;
  /** Compute input + infer + output, ms, when the CSV has compute columns. */
  readonly computeMs: number | undefined;
  readonly instances: number;
}

function normalizeHeader(h: string): { key: string; toMs: number } {
  const t = h.trim().toLowerCase().replace(/\s+/g, " ");
  const unit = /\s*\((ms|us|µs|usec|msec)\)$/.exec(t);
  if (unit && t.startsWith("server compute")) {
    const u = unit[1]!;
    return { key: t.slice(0, unit.index), toMs: u === "ms" || u === "msec" ? 1 : 0.001 };
  }
  // perf_analyzer writes time columns in integer microseconds, without a unit.
  return { key: t, toMs: 0.001 };
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(3).replace(/0+$/, "");
}

/**
 * Bounds of measured cells beyond which a profile is not a measurement of a GPU model (and
 * sums or products of cells could overflow): a batch of at most a million, concurrency
 * and instance counts up to a million, a billion inferences per second, and a time cell
 * of at most a billion (milliseconds or perf_analyzer's microseconds).
 */
const MAX_BATCH = 1_000_000;
const MAX_CONCURRENCY = 1_000_000;
const MAX_THROUGHPUT = 1e9;
const MAX_TIME_CELL = 1e9;

/** Text lines with their 1-based numbers, skipping blank and `#` lines. */
function csvLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!;
    if (t.trim() === "" || t.trimStart().startsWith("#")) continue;
    out.push({ line: i + 1, text: t });
  }
  return out;
}

/**
 * Pool-adjacent-violators: the non-decreasing sequence closest (weighted least squares) to
 * `ys`. Compute time cannot fall as the batch grows; measured noise sometimes says it does.
 */
function isotonic(ys: readonly number[], ws: readonly number[]): number[] {
  const vals: number[] = [];
  const weights: number[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < ys.length; i++) {
    let v = ys[i]!;
    let w = ws[i]!;
    let size = 1;
    while (vals.length > 0 && vals[vals.length - 1]! > v) {
      const pw = weights.pop()!;
      v = (vals.pop()! * pw + v * w) / (pw + w);
      w += pw;
      size += sizes.pop()!;
    }
    vals.push(v);
    weights.push(w);
    sizes.push(size);
  }
  const out: number[] = [];
  vals.forEach((v, i) => {
    for (let j = 0; j < sizes[i]!; j++) out.push(v);
  });
  return out;
}

type Format = "perf_analyzer" | "model_analyzer";

/**
 * Reads a perf_analyzer or Model Analyzer CSV into rows of the chosen model/config.
 * Collects every problem; throws them together.
 */
function readMeasurements(
  text: string,
  file: string,
  format: Format,
  options: ProfileOptions,
): { rows: Row[]; maxBatch: number | undefined; selected: string } {
  const problems: Problem[] = [];
  const lines = csvLines(text);
  const head = lines[0];
  if (head === undefined) {
    throw new InputError([{ file, line: 0, col: 0, path: "", message: "the file is empty" }]);
  }
  const header = splitCsvLine(head.text);
  const cols = new Map<Role, Column>();
  header.fields.forEach((h, index) => {
    const { key, toMs } = normalizeHeader(h);
    const role = COLUMN_ROLES[key];
    if (role !== undefined && !cols.has(role)) cols.set(role, { index, header: h.trim(), toMs });
  });
  const found = header.fields.map((h) => JSON.stringify(h.trim())).join(", ");
  if (!cols.has("throughput")) {
    problems.push({
      file,
      line: head.line,
      col: 1,
      path: "",
      message: `no throughput column: expected "Inferences/Second" (perf_analyzer) or "Throughput (infer/sec)" (Model Analyzer); found ${found}`,
    });
  }
  if (format === "perf_analyzer" && !cols.has("computeInfer")) {
    problems.push({
      file,
      line: head.line,
      col: 1,
      path: "",
      message: `no "Server Compute Infer" column: run perf_analyzer against a server with statistics (the default) and -f <file>.csv; found ${found}`,
    });
  }
  if (problems.length > 0) throw new InputError(problems, `cannot read profile ${file}`);

  const records = lines.slice(1).map((l) => ({ line: l.line, ...splitCsvLine(l.text) }));
  const cell = (r: (typeof records)[number], role: Role): string | undefined => {
    const c = cols.get(role);
    return c === undefined ? undefined : r.fields[c.index]?.trim();
  };

  // Choose one model and one config: a Model Analyzer CSV holds a sweep of several.
  let selected = file;
  let chosen = records;
  for (const [role, wanted] of [
    ["model", options.model],
    ["config", options.config],
  ] as const) {
    if (!cols.has(role)) continue;
    const values = [...new Set(chosen.map((r) => cell(r, role) ?? ""))];
    let pick = wanted;
    if (pick === undefined) {
      pick =
        (role === "config" ? values.find((v) => v.endsWith("_config_default")) : undefined) ??
        values[0];
    } else if (!values.includes(pick)) {
      throw new InputError(
        [
          {
            file,
            line: head.line,
            col: header.cols[cols.get(role)!.index] ?? 1,
            path: "",
            message: `no rows for ${role} ${JSON.stringify(pick)}${didYouMean(pick, values)}; the file has ${values.map((v) => JSON.stringify(v)).join(", ")}`,
          },
        ],
        `cannot read profile ${file}`,
      );
    }
    if (pick === undefined) continue;
    chosen = chosen.filter((r) => cell(r, role) === pick);
    selected = role === "model" ? pick : `${selected}/${pick}`;
  }

  const rows: Row[] = [];
  let maxBatch: number | undefined;
  const num = (
    r: (typeof records)[number],
    role: Role,
    bounds: NumberBounds,
  ): number | undefined => {
    const c = cols.get(role);
    if (c === undefined) return undefined;
    const parsed = parseNumber(r.fields[c.index] ?? "", bounds);
    if (!parsed.ok) {
      problems.push({
        file,
        line: r.line,
        col: r.cols[c.index] ?? 1,
        path: "",
        message: `${c.header}: ${parsed.message}`,
      });
      return Number.NaN;
    }
    return parsed.value;
  };
  for (const r of chosen) {
    const batch =
      num(r, "batch", { integer: true, min: 1, max: MAX_BATCH }) ?? options.batchSize ?? 1;
    const concurrency = num(r, "concurrency", { greaterThan: 0, max: MAX_CONCURRENCY });
    const throughput = num(r, "throughput", { greaterThan: 0, max: MAX_THROUGHPUT })!;
    let computeMs: number | undefined;
    if (cols.has("computeInfer")) {
      computeMs = 0;
      for (const role of ["computeInput", "computeInfer", "computeOutput"] as const) {
        const v = num(
          r,
          role,
          role === "computeInfer"
            ? { greaterThan: 0, max: MAX_TIME_CELL }
            : { min: 0, max: MAX_TIME_CELL },
        );
        if (v !== undefined) computeMs += v * cols.get(role)!.toMs;
      }
    }
    let instances = options.instances ?? 1;
    const group = cell(r, "instanceGroup");
    if (group !== undefined) {
      // Model Analyzer writes `<count>:<kind>` per instance group, e.g. `2:GPU`.
      const counts = [...group.matchAll(/(\d+)\s*:/g)].map((m) => Number(m[1]));
      if (counts.length === 0 || counts.some((n) => !(n >= 1 && n <= MAX_CONCURRENCY))) {
        const c = cols.get("instanceGroup")!;
        problems.push({
          file,
          line: r.line,
          col: r.cols[c.index] ?? 1,
          path: "",
          message: `${c.header}: expected <count>:<kind> with a count from 1 to ${MAX_CONCURRENCY}, such as "1:GPU" (got ${JSON.stringify(group)})`,
        });
      } else {
        instances = counts.reduce((a, b) => a + b, 0);
      }
    }
    const mb = num(r, "maxBatch", { integer: true, min: 0 });
    if (mb !== undefined && mb > 0 && maxBatch === undefined) maxBatch = mb;
    rows.push({ line: r.line, batch, concurrency, throughput, computeMs, instances });
  }
  if (problems.length > 0) throw new InputError(problems, `cannot read profile ${file}`);
  if (rows.length === 0) {
    throw new InputError(
      [
        {
          file,
          line: head.line,
          col: 1,
          path: "",
          message: "no measurement rows under the header",
        },
      ],
      `cannot read profile ${file}`,
    );
  }
  return { rows, maxBatch, selected };
}

/** Turns measurement rows into profile points (the method: see this file's header). */
function pointsFrom(rows: readonly Row[]): { points: ProfilePoint[]; how: string } {
  const groups = new Map<number, { sum: number; n: number }>();
  let how: string;
  if (rows[0]!.computeMs !== undefined) {
    how =
      "batch time = Server Compute Input + Infer + Output; server batch = max(client batch, inferences/s × batch time / instances), rounded";
    for (const r of rows) {
      const ms = r.computeMs!;
      let b = Math.max(r.batch, (r.throughput * ms) / 1000 / r.instances);
      if (r.concurrency !== undefined) b = Math.min(b, r.batch * r.concurrency);
      const key = Math.max(r.batch, Math.round(b));
      const g = groups.get(key) ?? { sum: 0, n: 0 };
      g.sum += ms;
      g.n++;
      groups.set(key, g);
    }
  } else {
    how =
      "batch time = batch × min(concurrency, instances) / throughput at the lowest concurrency measured for each batch size";
    const best = new Map<number, Row>();
    for (const r of rows) {
      const seen = best.get(r.batch);
      const c = r.concurrency ?? 1;
      if (seen === undefined || c < (seen.concurrency ?? 1)) best.set(r.batch, r);
    }
    for (const [b, r] of best) {
      const busy = Math.min(r.concurrency ?? r.instances, r.instances);
      groups.set(b, { sum: (1000 * b * busy) / r.throughput, n: 1 });
    }
  }
  const keys = [...groups.keys()].sort((a, b) => a - b);
  const means = keys.map((k) => groups.get(k)!.sum / groups.get(k)!.n);
  const fitted = isotonic(
    means,
    keys.map((k) => groups.get(k)!.n),
  );
  return { points: keys.map((batch, i) => ({ batch, ms: fitted[i]! })), how };
}

function createMeasuredProfile(
  text: string,
  file: string,
  format: Format,
  options: ProfileOptions,
): LatencyProfile {
  const { rows, maxBatch, selected } = readMeasurements(text, file, format, options);
  const { points, how } = pointsFrom(rows);
  const measured = points.map((p) => `batch ${fmt(p.batch)}: ${fmt(p.ms)} ms`).join(", ");
  const single =
    points.length === 1
      ? "; one batch size measured, so time is assumed proportional to batch size"
      : "";
  return createPiecewiseProfile(points, {
    name: `${format}:${selected}`,
    ...(maxBatch === undefined ? {} : { maxBatch }),
    description: `${format} ${selected}, ${rows.length} rows → ${measured} (${how})${single}`,
  });
}

/**
 * Reads a perf_analyzer `-f` CSV (header `Concurrency|Request Rate,Inferences/Second,…`,
 * times in µs; see ../shared/reference/triton/PERF_ANALYZER_CSV.md). Uses the columns
 * `Server Compute Input`, `Server Compute Infer`, `Server Compute Output` (batch time),
 * `Inferences/Second` and `Concurrency` (batch estimate), and an optional `Batch` column
 * that merged sweeps often add. How the numbers become points: see this file's header.
 *
 * @throws InputError with `file:line:col` for a missing column or a bad cell.
 */
export function parsePerfAnalyzerCsv(
  text: string,
  file: string,
  options: ProfileOptions = {},
): LatencyProfile {
  return createMeasuredProfile(text, file, "perf_analyzer", options);
}

/**
 * Reads a Model Analyzer inference metrics CSV (`Model,Batch,Concurrency,Model Config Path,
 * Instance Group,Max Batch Size,Satisfies Constraints,Throughput (infer/sec),p99 Latency (ms)`
 * by default) for one model and one config (see {@link ProfileOptions}). Uses `Batch`,
 * `Concurrency`, `Throughput (infer/sec)`, the instance count from `Instance Group`,
 * `Max Batch Size`, and `Server Compute Input/Infer/Output (ms)` when present.
 *
 * @throws InputError with `file:line:col` for a missing column, an unknown model or config,
 * or a bad cell.
 */
export function parseModelAnalyzerCsv(
  text: string,
  file: string,
  options: ProfileOptions = {},
): LatencyProfile {
  return createMeasuredProfile(text, file, "model_analyzer", options);
}

/**
 * Reads a profile from a spec or a CSV's text: `linear:…`, `default` (the built-in
 * {@link DEFAULT_PROFILE}), or a perf_analyzer / Model Analyzer CSV recognized by its header.
 *
 * @throws InputError when the text is none of these, or is invalid.
 */
export function parseProfile(
  specOrCsvText: string,
  file: string,
  options: ProfileOptions = {},
): LatencyProfile {
  const t = specOrCsvText.trim();
  if (t === "default") return DEFAULT_PROFILE;
  if (t.startsWith("linear:")) return parseLinearProfile(t, file);
  // CSV text is parsed as written (not trimmed), so line numbers count leading blank lines.
  const csv = specOrCsvText;
  const firstLine = csvLines(csv)[0]?.text.toLowerCase() ?? "";
  if (firstLine.includes("inferences/second")) return parsePerfAnalyzerCsv(csv, file, options);
  if (firstLine.includes("throughput (infer/sec)")) {
    return parseModelAnalyzerCsv(csv, file, options);
  }
  throw new InputError(
    [
      {
        file,
        line: 0,
        col: 0,
        path: "",
        message:
          'not a profile: expected "linear:a=<ms>,b=<ms>", "default", a perf_analyzer CSV (header with "Inferences/Second") or a Model Analyzer inference CSV (header with "Throughput (infer/sec)")',
      },
    ],
    `invalid profile ${file}`,
  );
}

/**
 * `profile` with every compute time multiplied by `factor` (the live correction of
 * loop/correction.ts): named `<name> ×<factor>`, same maximum batch.
 *
 * @throws RangeError when factor is not a positive finite number.
 */
export function createScaledProfile(profile: LatencyProfile, factor: number): LatencyProfile {
  if (!(Number.isFinite(factor) && factor > 0)) {
    throw new RangeError(`a profile scale must be a positive finite number. Received: ${factor}`);
  }
  if (factor === 1) return profile;
  const shown = Number(factor.toFixed(3));
  return {
    name: `${profile.name} ×${shown}`,
    computeMs: (batch: number) => profile.computeMs(batch) * factor,
    ...(profile.maxBatch === undefined ? {} : { maxBatch: profile.maxBatch }),
    description: `${profile.description ?? profile.name}, times ${shown} (corrected from observed compute times)`,
  };
}
