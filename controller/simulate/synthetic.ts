/**
 * Synthetic traces: `synthetic:KIND:key=value:…` specs ({@link SYNTHETIC_KINDS},
 * {@link parseTraceSpec}), each built from an intensity (intensity.ts) and a source
 * (arrival-sources.ts). Parameters are read by util/number's parser and checked against
 * their bounds; a whole spec is refused when it would generate more than
 * {@link MAX_TRACE_REQUESTS} requests or rate changes, so no spec runs for ever.
 */

import { InputError, type Problem } from "../diagnostics/problem.js";
import { closest, didYouMean } from "../diagnostics/suggest.js";
import { DURATION_HINT, isDuration, parseDuration } from "../policy/duration.js";
import {
  checkNumber,
  isDecimal,
  type NumberBounds,
  type ParsedNumber,
  parseNumber,
} from "../util/number.js";
import { FleetFramesSource, PeriodicSource, PoissonSource } from "./arrival-sources.js";
import { type ArrivalSource, MAX_TRACE_REQUESTS, MAX_TRACE_SECONDS } from "./arrivals.js";
import {
  BurstSegments,
  ConstantSegments,
  DiurnalSegments,
  FleetSegments,
  type Segments,
} from "./intensity.js";
import { createRng, type Rng } from "./rng.js";

/**
 * How a synthetic parameter's value is read (numbers by {@link parseNumber}: decimal,
 * finite): `rate` a number ≥ 0 (> 0 when `positive`) per second, `duration` seconds or a
 * duration string, ≥ 0 (> 0 when `positive`) and at most {@link MAX_TRACE_SECONDS},
 * `count` a whole number 1..1000000, `fraction` 0..1, `number` a number from 1 to `max`,
 * `choice` one of `choices`. A whole spec is also refused when it would generate more than
 * {@link MAX_TRACE_REQUESTS} requests or rate changes.
 */
export type SyntheticParamType = "rate" | "duration" | "count" | "fraction" | "number" | "choice";

/** One parameter of a synthetic kind, for validation and `--help`. */
export interface SyntheticParam {
  /** What it means, with its unit. */
  readonly doc: string;
  readonly type: SyntheticParamType;
  /** The default as written in a spec (or in words when derived); required when absent. */
  readonly default?: string;
  /** The valid values of a `choice`. */
  readonly choices?: readonly string[];
  /** The value must be > 0 rather than ≥ 0 (`rate`, `duration`; `number` is always ≥ 1). */
  readonly positive?: boolean;
  /** The largest valid value, if any. */
  readonly max?: number;
}

/** One synthetic kind: what it generates and its parameters. */
export interface SyntheticKindDoc {
  readonly doc: string;
  readonly params: Readonly<Record<string, SyntheticParam>>;
}

const DURATION_DOC = "trace length: seconds or a duration such as 10m, 1h, 24h";

/** Every synthetic trace kind and its parameters (`synthetic:KIND:key=value:…`). */
export const SYNTHETIC_KINDS = {
  poisson: {
    doc: "a homogeneous Poisson process",
    params: {
      rate: { doc: "mean arrivals per second", type: "rate", positive: true },
      duration: { doc: DURATION_DOC, type: "duration", default: "1h", positive: true },
    },
  },
  steady: {
    doc: "a constant rate: evenly spaced arrivals, or Poisson",
    params: {
      rate: { doc: "arrivals per second", type: "rate", positive: true },
      mode: {
        doc: "deterministic (every 1/rate s from 0) or poisson",
        type: "choice",
        choices: ["deterministic", "poisson"],
        default: "deterministic",
      },
      duration: { doc: DURATION_DOC, type: "duration", default: "1h", positive: true },
    },
  },
  diurnal: {
    doc: "a Poisson process whose rate follows a daily cycle (von Mises shape, peak at `phase`)",
    params: {
      mean: { doc: "mean arrivals per second over a period", type: "rate", positive: true },
      peakToMean: { doc: "peak rate / mean rate, 1..20", type: "number", default: "3", max: 20 },
      period: { doc: "cycle length", type: "duration", default: "24h", positive: true },
      phase: { doc: "time of the peak after the start", type: "duration", default: "period/2" },
      duration: { doc: DURATION_DOC, type: "duration", default: "one period", positive: true },
    },
  },
  bursts: {
    doc: "a Poisson process at `base` with bursts at `burst`; gaps between bursts are exponential",
    params: {
      base: { doc: "arrivals per second between bursts (0 = idle)", type: "rate", default: "0" },
      burst: { doc: "arrivals per second during a burst", type: "rate", positive: true },
      length: { doc: "length of each burst", type: "duration", default: "30s", positive: true },
      gap: {
        doc: "time between bursts: the mean (exponential) or exact (fixed)",
        type: "duration",
        default: "5m",
      },
      gaps: {
        doc: "exponential (bursts at random) or fixed (the first at `gap`, then every gap + length: a schedule can know them)",
        type: "choice",
        choices: ["exponential", "fixed"],
        default: "exponential",
      },
      duration: { doc: DURATION_DOC, type: "duration", default: "1h", positive: true },
    },
  },
  onoff: {
    doc: "a camera fleet: each camera switches on and off (exponential times) and sends frames at `fps` while on",
    params: {
      cameras: { doc: "number of cameras", type: "count" },
      fps: {
        doc: "frames per second per camera while on",
        type: "rate",
        default: "10",
        positive: true,
      },
      on: { doc: "mean time a camera stays on", type: "duration", default: "5m", positive: true },
      off: { doc: "mean time a camera stays off (0 = always on)", type: "duration", default: "5m" },
      mode: {
        doc: "periodic (a frame every 1/fps s with jitter) or poisson (Poisson at fps)",
        type: "choice",
        choices: ["periodic", "poisson"],
        default: "periodic",
      },
      jitter: {
        doc: "periodic mode: frame delay, uniform in [0, jitter) frame intervals, 0..1",
        type: "fraction",
        default: "0.1",
      },
      duration: { doc: DURATION_DOC, type: "duration", default: "1h", positive: true },
    },
  },
} as const satisfies Record<string, SyntheticKindDoc>;

/** A synthetic trace kind. */
export type SyntheticKind = keyof typeof SYNTHETIC_KINDS;

type Values = ReadonlyMap<string, number | string>;

function num(v: Values, key: string): number {
  return v.get(key) as number;
}

const BUILDERS = {
  poisson: (name, v, root) => {
    const rate = num(v, "rate");
    const d = num(v, "duration");
    return new PoissonSource(name, d, () => new ConstantSegments(rate, d), root);
  },
  steady: (name, v, root) => {
    const rate = num(v, "rate");
    const d = num(v, "duration");
    return v.get("mode") === "poisson"
      ? new PoissonSource(name, d, () => new ConstantSegments(rate, d), root)
      : new PeriodicSource(name, rate, d);
  },
  diurnal: (name, v, root) => {
    const period = num(v, "period");
    const phase = v.has("phase") ? num(v, "phase") : period / 2;
    const d = v.has("duration") ? num(v, "duration") : period;
    const mean = num(v, "mean");
    const ratio = num(v, "peakToMean");
    return new PoissonSource(
      name,
      d,
      () => new DiurnalSegments(mean, ratio, period, phase, d),
      root,
    );
  },
  bursts: (name, v, root) => {
    const d = num(v, "duration");
    const make = (): Segments =>
      new BurstSegments(
        num(v, "base"),
        num(v, "burst"),
        num(v, "length"),
        num(v, "gap"),
        d,
        root,
        v.get("gaps") === "fixed",
      );
    return new PoissonSource(name, d, make, root);
  },
  onoff: (name, v, root) => {
    const d = num(v, "duration");
    const cameras = num(v, "cameras");
    const fps = num(v, "fps");
    const make = (): FleetSegments =>
      new FleetSegments(cameras, fps, num(v, "on"), num(v, "off"), d, root);
    return v.get("mode") === "poisson"
      ? new PoissonSource(name, d, make, root)
      : new FleetFramesSource(name, d, make, cameras, fps, num(v, "jitter"), root);
  },
} satisfies Record<SyntheticKind, (name: string, values: Values, root: Rng) => ArrivalSource>;

/**
 * What a spec costs to generate, for the guard against runs that never end: the expected
 * number of requests, of rate changes (segments), and what to change when either is too
 * many.
 */
const WORK = {
  poisson: (v) => ({ requests: num(v, "rate") * num(v, "duration"), changes: 1, fix: "" }),
  steady: (v) => ({ requests: num(v, "rate") * num(v, "duration"), changes: 1, fix: "" }),
  diurnal: (v) => {
    const period = num(v, "period");
    const d = v.has("duration") ? num(v, "duration") : period;
    return {
      requests: num(v, "mean") * d,
      changes: d / Math.min(1, period / 1000),
      fix: "a longer period",
    };
  },
  bursts: (v) => {
    const d = num(v, "duration");
    const length = num(v, "length");
    const gap = num(v, "gap");
    const cycle = length + gap;
    return {
      requests: (d * (num(v, "base") * gap + num(v, "burst") * length)) / cycle,
      changes: (2 * d) / cycle,
      fix: "a longer length or gap",
    };
  },
  onoff: (v) => {
    const d = num(v, "duration");
    const cameras = num(v, "cameras");
    const on = num(v, "on");
    const off = num(v, "off");
    return {
      requests: (cameras * num(v, "fps") * d * on) / (on + off),
      changes: off === 0 ? 1 : (2 * cameras * d) / (on + off),
      fix: "fewer cameras or longer on and off times",
    };
  },
} satisfies Record<
  SyntheticKind,
  (values: Values) => { requests: number; changes: number; fix: string }
>;

/** `744h (31 days)`: a limit in seconds as a duration, for messages. */
const MAX_DURATION_TEXT = `${MAX_TRACE_SECONDS / 3600}h (${MAX_TRACE_SECONDS / 86_400} days)`;

/** Reads one parameter value; returns the value or an error message. */
function readParam(p: SyntheticParam, raw: string): number | string | { error: string } {
  switch (p.type) {
    case "choice":
      return p.choices?.includes(raw)
        ? raw
        : {
            error: `must be one of ${p.choices?.join(", ")}${didYouMean(raw, p.choices ?? [])} (got ${JSON.stringify(raw)})`,
          };
    case "duration": {
      const low: NumberBounds = p.positive ? { greaterThan: 0 } : { min: 0 };
      let r: ParsedNumber;
      if (isDecimal(raw)) r = parseNumber(raw, low);
      else if (isDuration(raw)) r = checkNumber(parseDuration(raw), low, raw);
      else {
        return {
          error: `must be a number of seconds or ${DURATION_HINT} (got ${JSON.stringify(raw)})`,
        };
      }
      if (!r.ok) return { error: r.message };
      if (r.value > MAX_TRACE_SECONDS) {
        return {
          error: `must be at most ${MAX_DURATION_TEXT}, the longest trace simulated (got ${raw})`,
        };
      }
      return r.value;
    }
    case "count":
      return result(parseNumber(raw, { integer: true, min: 1, max: 1_000_000 }));
    case "fraction":
      return result(parseNumber(raw, { min: 0, max: 1 }));
    case "rate":
      return result(parseNumber(raw, p.positive ? { greaterThan: 0 } : { min: 0 }));
    case "number":
      return result(parseNumber(raw, p.max === undefined ? { min: 1 } : { min: 1, max: p.max }));
  }
}

function result(r: ParsedNumber): number | { error: string } {
  return r.ok ? r.value : { error: r.message };
}

/**
 * Parses `synthetic:KIND:key=value:key=value` into a source (kinds and keys:
 * {@link SYNTHETIC_KINDS}). Examples: `synthetic:poisson:rate=200:duration=10m`,
 * `synthetic:diurnal:mean=150:peakToMean=3`, `synthetic:onoff:cameras=400:fps=5`.
 * The seed makes the arrivals (and any random schedule) reproducible.
 *
 * @throws InputError naming every bad kind, key or value, with the valid ones.
 */
export function parseTraceSpec(spec: string, seed: number): ArrivalSource {
  const file = `trace ${JSON.stringify(spec)}`;
  const problems: Problem[] = [];
  const fail = (path: string, message: string): never => {
    problems.push({ file, line: 0, col: 0, path, message });
    throw new InputError(problems, "invalid trace spec");
  };
  const kinds = Object.keys(SYNTHETIC_KINDS);
  const parts = spec.trim().split(":");
  if (parts[0] !== "synthetic") {
    fail("", `expected synthetic:KIND:key=value:..., KIND one of ${kinds.join(", ")}`);
  }
  const kind = parts[1] ?? "";
  if (!Object.hasOwn(SYNTHETIC_KINDS, kind)) {
    fail(
      "",
      `unknown kind ${JSON.stringify(kind)}${didYouMean(kind, kinds)}; valid kinds: ${kinds.join(", ")}`,
    );
  }
  const doc: SyntheticKindDoc = SYNTHETIC_KINDS[kind as SyntheticKind];
  const keys = Object.keys(doc.params);
  const values = new Map<string, number | string>();
  const report = (path: string, message: string): void => {
    problems.push({ file, line: 0, col: 0, path, message });
  };
  // Keys already blamed (misspelt or without a value) are not also reported missing.
  const blamed = new Set<string>();
  for (const item of parts.slice(2)) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq < 0) {
      report(
        "",
        `expected key=value, got ${JSON.stringify(item)}; valid keys for ${kind}: ${keys.join(", ")}`,
      );
      blamed.add(item);
      continue;
    }
    const key = item.slice(0, eq);
    const raw = item.slice(eq + 1);
    const p = doc.params[key];
    if (p === undefined) {
      report(
        key,
        `unknown key for ${kind}${didYouMean(key, keys)}; valid keys: ${keys.join(", ")}`,
      );
      const suggestion = closest(key, keys);
      if (suggestion !== undefined) blamed.add(suggestion);
      continue;
    }
    if (values.has(key)) {
      report(key, "given twice");
      continue;
    }
    const v = readParam(p, raw);
    if (typeof v === "object") report(key, v.error);
    else values.set(key, v);
  }
  for (const key of keys) {
    const p = doc.params[key]!;
    if (values.has(key) || blamed.has(key) || problems.some((q) => q.path === key)) continue;
    if (p.default === undefined) {
      report(key, `missing: ${p.doc}`);
    } else {
      // Defaults written as prose ("period/2", "one period") are derived by the builder.
      const v = readParam(p, p.default);
      if (typeof v !== "object") values.set(key, v);
    }
  }
  if (problems.length === 0) {
    const work = WORK[kind as SyntheticKind](values);
    if (work.requests > MAX_TRACE_REQUESTS) {
      report(
        "",
        `about ${work.requests.toPrecision(3)} requests expected (rate × duration); at most ${MAX_TRACE_REQUESTS} are simulated: lower the rate or the duration`,
      );
    } else if (work.changes > MAX_TRACE_REQUESTS) {
      report(
        "",
        `about ${work.changes.toPrecision(3)} rate changes; at most ${MAX_TRACE_REQUESTS} are simulated: choose ${work.fix}, or a shorter duration`,
      );
    }
  }
  if (problems.length > 0) throw new InputError(problems, "invalid trace spec");
  const root = createRng(seed).fork(`trace:${kind}`);
  return BUILDERS[kind as SyntheticKind](spec.trim(), values, root);
}
