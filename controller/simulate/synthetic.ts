/**
 * Synthetic traces: `synthetic:KIND:key=value:…` specs ({@link SYNTHETIC_KINDS},
 * {@link parseTraceSpec}), each built from an intensity (intensity.ts) and a source
 * (arrival-sources.ts). Parameters are read by util/number's parser and checked against
 * their bounds; a whole spec is refused when it would generate more than
 * {@link MAX_TRACE_REQUESTS} requests or rate changes, so no spec runs for ever.
 *
 * Every kind also takes `clump` and `spread` (each arrival becomes `clump` requests within
 * `spread`: clumps.ts), and the kinds with a Poisson intensity take `noise` (a random factor
 * on the rate every minute: synthetic-shapes.ts). The kinds named after a real pattern
 * (`shift`, `flash`, `weekly`) are in synthetic-shapes.ts.
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
import { ClumpSource } from "./clumps.js";
import {
  BurstSegments,
  ConstantSegments,
  DiurnalSegments,
  FleetSegments,
  type Segments,
} from "./intensity.js";
import { createRng, type Rng } from "./rng.js";
import { FlashSegments, NoisySegments, ShiftSegments, WeeklySegments } from "./synthetic-shapes.js";

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

/** The keys every kind takes: clumped arrivals (clumps.ts). */
const CLUMP_PARAMS = {
  clump: {
    doc: "requests per arrival: each arrival becomes this many requests sent within `spread` (a camera uploading N frames at once)",
    type: "count",
    default: "1",
  },
  spread: {
    doc: "time within which a clump's requests are sent (uniform), e.g. 50ms",
    type: "duration",
    default: "50ms",
  },
} as const satisfies Record<string, SyntheticParam>;

/** Seconds between the factors of `noise`. */
const NOISE_STEP_SECONDS = 60;

/** The key of the kinds with a Poisson intensity: multiplicative noise on the rate. */
const NOISE_PARAM = {
  doc: "σ of a random factor e^(σZ − σ²/2) on the rate, drawn anew every minute (mean 1), 0..1; 0 = none",
  type: "fraction",
  default: "0",
} as const satisfies SyntheticParam;

/** Every synthetic trace kind and its parameters (`synthetic:KIND:key=value:…`). */
export const SYNTHETIC_KINDS = {
  poisson: {
    doc: "a homogeneous Poisson process",
    params: {
      rate: { doc: "mean arrivals per second", type: "rate", positive: true },
      duration: { doc: DURATION_DOC, type: "duration", default: "1h", positive: true },
      noise: NOISE_PARAM,
      ...CLUMP_PARAMS,
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
      ...CLUMP_PARAMS,
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
      noise: NOISE_PARAM,
      ...CLUMP_PARAMS,
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
      noise: NOISE_PARAM,
      ...CLUMP_PARAMS,
    },
  },
  onoff: {
    doc: "a camera fleet: each camera switches on and off (exponential times) and sends frames at `fps` while on",
    params: {
      cameras: { doc: "number of cameras", type: "count" },
      groups: {
        doc: "cameras switch on and off in this many equal groups (a site, a shift); a group's cameras send evenly staggered frames; must divide cameras",
        type: "count",
        default: "cameras (each on its own)",
      },
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
      ...CLUMP_PARAMS,
    },
  },
  shift: {
    doc: "a work shift: a ramp from `start` to `level`, a slow wave, and a surge of `surge`× lasting `surgeLength` every `surgeEvery` (the first at `surgeEvery`); Poisson",
    params: {
      level: { doc: "arrivals per second after the ramp", type: "rate", positive: true },
      start: { doc: "arrivals per second at the start", type: "rate", default: "0" },
      ramp: { doc: "length of the linear ramp", type: "duration", default: "30m" },
      wave: {
        doc: "amplitude of the slow wave, a fraction of the rate, 0..1",
        type: "fraction",
        default: "0",
      },
      wavePeriod: {
        doc: "period of the slow wave",
        type: "duration",
        default: "1h",
        positive: true,
      },
      surge: {
        doc: "rate multiplier during a surge, 1..20",
        type: "number",
        default: "2",
        max: 20,
      },
      surgeLength: {
        doc: "length of each surge (less than surgeEvery)",
        type: "duration",
        default: "1m",
        positive: true,
      },
      surgeEvery: {
        doc: "time between surge starts",
        type: "duration",
        default: "20m",
        positive: true,
      },
      duration: { doc: DURATION_DOC, type: "duration", default: "3h", positive: true },
      noise: NOISE_PARAM,
      ...CLUMP_PARAMS,
    },
  },
  flash: {
    doc: "flash crowds from near zero: from `base` the rate rises to `peak` in `rise`, decays back (time constant `decay`); crowds come at random, after quiet gaps of `gap` on average; Poisson",
    params: {
      base: { doc: "arrivals per second between crowds", type: "rate", default: "1" },
      peak: {
        doc: "arrivals per second at a crowd's top (at least base)",
        type: "rate",
        positive: true,
      },
      rise: {
        doc: "time from a crowd's start to its peak",
        type: "duration",
        default: "10s",
        positive: true,
      },
      decay: {
        doc: "time constant of the decay after the peak",
        type: "duration",
        default: "5m",
        positive: true,
      },
      gap: {
        doc: "mean quiet time between crowds (exponential)",
        type: "duration",
        default: "1h",
        positive: true,
      },
      duration: { doc: DURATION_DOC, type: "duration", default: "6h", positive: true },
      noise: NOISE_PARAM,
      ...CLUMP_PARAMS,
    },
  },
  weekly: {
    doc: "a week from Monday 00:00: a daily cycle (as diurnal) at mean `weekday` Monday to Friday and `weekend` on Saturday and Sunday; Poisson",
    params: {
      weekday: { doc: "mean arrivals per second on a weekday", type: "rate", positive: true },
      weekend: {
        doc: "mean arrivals per second on a weekend day",
        type: "rate",
        default: "weekday/3",
      },
      peakToMean: {
        doc: "peak rate / mean rate within a day, 1..20",
        type: "number",
        default: "3",
        max: 20,
      },
      phase: { doc: "time of day of the daily peak", type: "duration", default: "14h" },
      duration: { doc: DURATION_DOC, type: "duration", default: "168h", positive: true },
      noise: NOISE_PARAM,
      ...CLUMP_PARAMS,
    },
  },
} as const satisfies Record<string, SyntheticKindDoc>;

/** A synthetic trace kind. */
export type SyntheticKind = keyof typeof SYNTHETIC_KINDS;

type Values = ReadonlyMap<string, number | string>;

function num(v: Values, key: string): number {
  return v.get(key) as number;
}

/** `make`, with the spec's `noise` on it when there is any. */
function noisy(v: Values, root: Rng, make: () => Segments): () => Segments {
  const sigma = v.has("noise") ? num(v, "noise") : 0;
  return sigma > 0 ? () => new NoisySegments(make(), sigma, NOISE_STEP_SECONDS, root) : make;
}

const BUILDERS = {
  poisson: (name, v, root) => {
    const rate = num(v, "rate");
    const d = num(v, "duration");
    return new PoissonSource(
      name,
      d,
      noisy(v, root, () => new ConstantSegments(rate, d)),
      root,
    );
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
      noisy(v, root, () => new DiurnalSegments(mean, ratio, period, phase, d)),
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
    return new PoissonSource(name, d, noisy(v, root, make), root);
  },
  onoff: (name, v, root) => {
    const d = num(v, "duration");
    const cameras = num(v, "cameras");
    // A group of k cameras switches as one unit sending k × fps frames per second.
    const groups = v.has("groups") ? num(v, "groups") : cameras;
    const fps = (num(v, "fps") * cameras) / groups;
    const make = (): FleetSegments =>
      new FleetSegments(groups, fps, num(v, "on"), num(v, "off"), d, root);
    return v.get("mode") === "poisson"
      ? new PoissonSource(name, d, make, root)
      : new FleetFramesSource(name, d, make, groups, fps, num(v, "jitter"), root);
  },
  shift: (name, v, root) => {
    const d = num(v, "duration");
    const shape = {
      start: num(v, "start"),
      level: num(v, "level"),
      ramp: num(v, "ramp"),
      wave: num(v, "wave"),
      wavePeriod: num(v, "wavePeriod"),
      surge: num(v, "surge"),
      surgeLength: num(v, "surgeLength"),
      surgeEvery: num(v, "surgeEvery"),
    };
    return new PoissonSource(
      name,
      d,
      noisy(v, root, () => new ShiftSegments(shape, d)),
      root,
    );
  },
  flash: (name, v, root) => {
    const d = num(v, "duration");
    const shape = {
      base: num(v, "base"),
      peak: num(v, "peak"),
      rise: num(v, "rise"),
      decay: num(v, "decay"),
      gap: num(v, "gap"),
    };
    return new PoissonSource(
      name,
      d,
      noisy(v, root, () => new FlashSegments(shape, d, root)),
      root,
    );
  },
  weekly: (name, v, root) => {
    const d = num(v, "duration");
    const weekday = num(v, "weekday");
    const shape = {
      weekday,
      weekend: v.has("weekend") ? num(v, "weekend") : weekday / 3,
      peakToMean: num(v, "peakToMean"),
      phase: num(v, "phase"),
    };
    return new PoissonSource(
      name,
      d,
      noisy(v, root, () => new WeeklySegments(shape, d)),
      root,
    );
  },
} satisfies Record<SyntheticKind, (name: string, values: Values, root: Rng) => ArrivalSource>;

/**
 * Checks that involve more than one key, as [key, message] pairs (the single-key bounds are
 * in {@link SYNTHETIC_KINDS}).
 */
const CROSS_CHECKS: Partial<Record<SyntheticKind, (v: Values) => [string, string][]>> = {
  onoff: (v) => {
    if (!v.has("groups")) return [];
    const cameras = num(v, "cameras");
    const groups = num(v, "groups");
    return cameras % groups === 0
      ? []
      : [["groups", `must divide cameras (${cameras}) into equal groups (got ${groups})`]];
  },
  shift: (v) =>
    num(v, "surgeLength") < num(v, "surgeEvery")
      ? []
      : [
          [
            "surgeLength",
            `must be less than surgeEvery (${num(v, "surgeEvery")} s) (got ${num(v, "surgeLength")} s)`,
          ],
        ],
  flash: (v) =>
    num(v, "peak") >= num(v, "base")
      ? []
      : [["peak", `must be at least base (${num(v, "base")}) (got ${num(v, "peak")})`]],
};

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
    const units = v.has("groups") ? num(v, "groups") : cameras;
    const on = num(v, "on");
    const off = num(v, "off");
    return {
      requests: (cameras * num(v, "fps") * d * on) / (on + off),
      changes: off === 0 ? 1 : (2 * units * d) / (on + off),
      fix: "fewer cameras or longer on and off times",
    };
  },
  shift: (v) => ({
    requests:
      Math.max(num(v, "start"), num(v, "level")) *
      (1 + num(v, "wave")) *
      num(v, "duration") *
      (1 + ((num(v, "surge") - 1) * num(v, "surgeLength")) / num(v, "surgeEvery")),
    changes: num(v, "duration"),
    fix: "",
  }),
  flash: (v) => ({
    requests: num(v, "peak") * num(v, "duration"),
    changes: num(v, "duration"),
    fix: "",
  }),
  weekly: (v) => ({
    requests:
      Math.max(num(v, "weekday"), v.has("weekend") ? num(v, "weekend") : 0) * num(v, "duration"),
    changes: num(v, "duration"),
    fix: "",
  }),
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
 * `synthetic:diurnal:mean=150:peakToMean=3`, `synthetic:onoff:cameras=400:fps=5`,
 * `synthetic:shift:level=400:wave=0.12` (the shift of issue 9),
 * `synthetic:bursts:burst=12:length=2m:gap=3m:clump=40:spread=50ms` (clumped uploads).
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
    for (const [path, message] of CROSS_CHECKS[kind as SyntheticKind]?.(values) ?? []) {
      report(path, message);
    }
  }
  if (problems.length === 0) {
    const work = WORK[kind as SyntheticKind](values);
    const clump = values.has("clump") ? num(values, "clump") : 1;
    work.requests *= clump;
    if (values.has("noise") && num(values, "noise") > 0) {
      const d = values.has("duration") ? num(values, "duration") : num(values, "period");
      work.changes += d / NOISE_STEP_SECONDS;
    }
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
  const source = BUILDERS[kind as SyntheticKind](spec.trim(), values, root);
  const clump = num(values, "clump");
  return clump > 1
    ? new ClumpSource(source, clump, num(values, "spread"), root, spec.trim())
    : source;
}
