import { formatDuration, type Policy, parseModelPoolObject } from "../policy/index.js";
import type { ArrivalSource } from "./arrivals.js";
import { type Capacity, capacityAtSlo, capacityCurve, spreadsRoundRobin } from "./capacity.js";
import { compare } from "./compare.js";
import type { LatencyProfile } from "./profile.js";
import { batcherSettings, createServiceTime, simulatedModel } from "./setup.js";

/**
 * Offline tuner of a pool's scaling knobs (`tritonscale tune --scaling`): searches
 * {@link SCALING_KNOBS} with the simulator (compare.ts, the same runs `simulate` prints)
 * for the cheapest policy whose runs on the tuning traces meet the SLO target, then
 * replays the result — and the pool as it was — on held-back traces it never tuned on.
 *
 * The search is coordinate descent: from the pool's own values, sweep one knob at a time
 * over its candidate values with the others fixed, keep the best, and go round again
 * until a round changes nothing or the budget of simulations is spent. "Best": a policy
 * that meets the target beats one that does not; among those that meet it the cheaper
 * (cost, which is GPU-hours × price: with Spot off, the same order as GPU-hours), a tie
 * going to the higher attainment; among those that miss it the higher attainment (the
 * worst tuning trace's), a tie going to the cheaper. A candidate must be strictly better
 * than the incumbent to replace it, so a knob that changes nothing keeps its value.
 */

/** A knob value as a ModelPool document holds it: a number, or a duration such as `5m`. */
export type KnobValue = number | string;

/** One searchable knob: where it lives in the ModelPool, what to try, and when it matters. */
export interface ScalingKnob {
  /** Path in the ModelPool document, e.g. `["spec", "scaling", "targetUtilization"]`. */
  readonly path: readonly string[];
  /**
   * How a value is written: `number` and `integer` as they are, `duration` as a duration
   * string (`formatDuration`) whose seconds the policy holds in the `<field>Seconds` sibling.
   */
  readonly kind: "number" | "integer" | "duration";
  /** Values to try (seconds for durations), given the pool being tuned. */
  readonly values: (policy: Policy) => readonly number[];
  /** Whether the knob can change anything for this (candidate) pool. @default always */
  readonly appliesTo?: (policy: Policy) => boolean;
}

/** Whether a pool's scaler learns from a history (the history knobs change nothing else). */
function learns(p: Policy): boolean {
  return p.spec.scaling.scaler === "tritonscale" && p.spec.scaling.history.enabled;
}

/**
 * The knobs `tune --scaling` searches, in the order each round sweeps them (the biggest
 * lever first). Adding a knob is one row; a candidate the schema or a cross-field rule
 * refuses (e.g. minReplicas above maxReplicas, or 0 with engine hpa) is skipped unrun.
 */
export const SCALING_KNOBS: readonly ScalingKnob[] = [
  {
    path: ["spec", "scaling", "targetUtilization"],
    kind: "number",
    values: () => [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95],
  },
  {
    path: ["spec", "scaling", "scaleDown", "stabilizationWindow"],
    kind: "duration",
    values: () => [0, 30, 60, 120, 300, 600, 900],
  },
  {
    path: ["spec", "scaling", "minReplicas"],
    kind: "integer",
    values: (p) => [0, 1, 2, 3, 4, 6, 8, 12, 16].filter((n) => n <= p.spec.scaling.maxReplicas),
  },
  {
    path: ["spec", "scaling", "idleWindow"],
    kind: "duration",
    values: () => [60, 120, 300, 600, 1200, 1800],
    // Only a pool that may go to zero waits out its idle window.
    appliesTo: (p) => p.spec.scaling.minReplicas === 0,
  },
  {
    path: ["spec", "scaling", "scaleUp", "stabilizationWindow"],
    kind: "duration",
    values: () => [0, 15, 30, 60, 120],
  },
  {
    path: ["spec", "capacity", "spot", "onDemandBase"],
    kind: "integer",
    values: (p) => [0, 1, 2, 3, 4, 6, 8].filter((n) => n <= p.spec.scaling.maxReplicas),
    // Without Spot every replica is on-demand anyway.
    appliesTo: (p) => p.spec.capacity.spot.enabled,
  },
  // The tritonscale scaler's learned history (scaling/history.ts). Its leadQuantile is left
  // out: unset, it follows the SLO target, which is what it is for.
  {
    path: ["spec", "scaling", "history", "downQuantile"],
    kind: "number",
    values: () => [0.5, 0.75, 0.9, 0.95, 0.99],
    appliesTo: learns,
  },
  {
    path: ["spec", "scaling", "history", "warmup"],
    kind: "duration",
    values: () => [0, 300, 600, 1800],
    appliesTo: learns,
  },
];

/** What {@link tuneScaling} searches and on what. */
export interface TuneScalingInput {
  /** The pool as it is: the search starts from its values and keeps everything else. */
  readonly policy: Policy;
  readonly profile: LatencyProfile;
  /** Traces to tune on, each replayed from the start (`reset`) for every candidate. */
  readonly tuneOn: readonly ArrivalSource[];
  /** Held-back traces: replayed only after the search, for the result and the pool as it was. */
  readonly validateOn: readonly ArrivalSource[];
  /** Share of requests within the SLO that a run must reach, e.g. 0.995. */
  readonly sloTarget: number;
  /** Seeds the simulated cluster's randomness (Spot reclaims), as `simulate --seed`. */
  readonly seed: number;
  /**
   * Most simulations of the search; one candidate costs one per tuning trace.
   * @default 60 per tuning trace
   */
  readonly budget?: number;
  /** Which pool model to simulate. @default the first */
  readonly model?: string;
  /** The knobs to search. @default SCALING_KNOBS */
  readonly knobs?: readonly ScalingKnob[];
  /** Called after every simulation with the number done and the most there will be. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** How a policy did on a set of traces. */
export interface ScalingScore {
  readonly gpuHours: number;
  readonly cost: number;
  /** Share of all the traces' requests served within the SLO. */
  readonly attainment: number;
  /** The lowest attainment of any one trace. */
  readonly worstAttainment: number;
  readonly requests: number;
  /** Every trace reached the SLO target. */
  readonly met: boolean;
}

/** One knob the tuner moved, in document form (`5m`, not 300). */
export interface KnobChange {
  /** Dotted document path, e.g. `spec.scaling.targetUtilization`. */
  readonly path: string;
  readonly from: KnobValue;
  readonly to: KnobValue;
}

/** What {@link tuneScaling} found. */
export interface TuneScalingResult {
  /** The tuned pool (validated by the loader, like any pool). */
  readonly policy: Policy;
  /** The knobs that differ from the pool's, in knob-table order. */
  readonly changes: readonly KnobChange[];
  /** The tuned pool on the tuning traces. */
  readonly tuned: ScalingScore;
  /** The tuned pool on the held-back traces. */
  readonly validated: ScalingScore;
  /** The pool as it was, on the same traces. */
  readonly baseline: { readonly tuned: ScalingScore; readonly validated: ScalingScore };
  /** Simulations run, search and validation. */
  readonly simulations: number;
  /** Candidates evaluated by the search (each on every tuning trace). */
  readonly candidates: number;
  /** The search stopped because the budget was spent, not because a round changed nothing. */
  readonly budgetSpent: boolean;
  readonly sloTarget: number;
  /**
   * Every candidate the search ran, in the order it ran them (the pool as it was first),
   * each with its knobs that differ from the pool's and its score on the tuning traces.
   */
  readonly tried: readonly {
    readonly changes: readonly KnobChange[];
    readonly score: ScalingScore;
  }[];
}

/** Rounds of coordinate descent at most (a round sweeps every knob once). */
const MAX_ROUNDS = 3;
/** Default search budget, in candidates per tuning trace. */
const DEFAULT_CANDIDATES = 60;

/** Searches the scaling knobs; see the module comment. Deterministic for its input. */
export function tuneScaling(input: TuneScalingInput): TuneScalingResult {
  const { policy, sloTarget } = input;
  if (input.tuneOn.length === 0) throw new Error("tuneScaling needs at least one trace to tune on");
  if (input.validateOn.length === 0) throw new Error("tuneScaling needs a held-back trace");
  const knobs = input.knobs ?? SCALING_KNOBS;
  const per = input.tuneOn.length;
  const budget = Math.max(per, input.budget ?? DEFAULT_CANDIDATES * per);
  const model = simulatedModel(policy, input.model);
  const sloSeconds = policy.spec.slo.latencyP99Ms / 1000;
  // One capacity for every run: the knobs do not change the model or its batcher.
  const batcher = batcherSettings(model);
  const service = createServiceTime(input.profile);
  const single = capacityAtSlo(batcher, service, sloSeconds, { seed: input.seed });
  const capacity = spreadsRoundRobin(policy)
    ? capacityCurve(single, batcher, service, sloSeconds, policy.spec.scaling.maxReplicas, {
        seed: input.seed,
      })
    : single;
  const scaler = policy.spec.scaling.scaler;
  const base = documentOf(policy);
  const start = knobs.map((k) => currentValue(policy, k));

  let simulations = 0;
  const sweep = knobs.reduce((n, k) => n + k.values(policy).length, 0);
  let total = Math.min(budget, per * (1 + sweep * MAX_ROUNDS)) + 2 * input.validateOn.length;
  const progress = () => input.onProgress?.(simulations, total);
  const run = (p: Policy, sources: readonly ArrivalSource[]): ScalingScore => {
    const rows = sources.map((trace) => {
      const row = runOne(p, trace, input, capacity, scaler);
      simulations++;
      progress();
      return row;
    });
    return score(rows, sloTarget);
  };

  interface Evaluated {
    readonly values: readonly number[];
    readonly policy: Policy;
    readonly score: ScalingScore;
  }
  const seen = new Map<string, Evaluated | null>();
  const ran: Evaluated[] = [];
  let searchRuns = 0;
  const evaluate = (values: readonly number[]): Evaluated | null | "budget" => {
    const key = values.join(",");
    const known = seen.get(key);
    if (known !== undefined) return known;
    const candidate = key === start.join(",") ? policy : applyKnobs(base, policy, knobs, values);
    if (candidate === undefined) {
      seen.set(key, null);
      return null;
    }
    if (searchRuns + per > budget) return "budget";
    searchRuns += per;
    const e = { values, policy: candidate, score: run(candidate, input.tuneOn) };
    seen.set(key, e);
    ran.push(e);
    return e;
  };

  const first = evaluate(start);
  if (first === null || first === "budget") throw new Error("the pool's own values do not load");
  let best = first;
  let budgetSpent = false;
  search: for (let round = 0; round < MAX_ROUNDS; round++) {
    const before = best;
    for (const [i, knob] of knobs.entries()) {
      if (knob.appliesTo && !knob.appliesTo(best.policy)) continue;
      for (const v of knob.values(best.policy)) {
        const values = best.values.with(i, v);
        const e = evaluate(values);
        if (e === "budget") {
          budgetSpent = true;
          break search;
        }
        if (e !== null && better(e.score, best.score)) best = e;
      }
    }
    if (best === before) break;
  }
  // The bar's total was the most the search could take; it took what it took.
  total = simulations + 2 * input.validateOn.length;
  progress();
  const validated = run(best.policy, input.validateOn);
  const baselineValidated = run(policy, input.validateOn);
  const changesOf = (values: readonly number[]): KnobChange[] => {
    const out: KnobChange[] = [];
    for (const [i, knob] of knobs.entries()) {
      if (values[i] === start[i]) continue;
      out.push({
        path: knob.path.join("."),
        from: documentValue(policy, knob),
        to: formatKnob(knob, values[i]!),
      });
    }
    return out;
  };
  const changes = changesOf(best.values);
  return {
    policy: best.policy,
    changes,
    tuned: best.score,
    validated,
    baseline: { tuned: first.score, validated: baselineValidated },
    simulations,
    candidates: searchRuns / per,
    budgetSpent,
    sloTarget,
    tried: ran.map((e) => ({ changes: changesOf(e.values), score: e.score })),
  };
}

/** Is `a` a better outcome than `b`? See the module comment. */
export function better(a: ScalingScore, b: ScalingScore): boolean {
  if (a.met !== b.met) return a.met;
  if (a.met) {
    if (a.cost !== b.cost) return a.cost < b.cost;
    return a.attainment > b.attainment;
  }
  if (a.worstAttainment !== b.worstAttainment) return a.worstAttainment > b.worstAttainment;
  if (a.attainment !== b.attainment) return a.attainment > b.attainment;
  return a.cost < b.cost;
}

interface RunRow {
  readonly gpuHours: number;
  readonly cost: number;
  readonly requests: number;
  readonly sloAttainment: number;
}

function runOne(
  policy: Policy,
  trace: ArrivalSource,
  input: TuneScalingInput,
  capacity: Capacity,
  scaler: string,
): RunRow {
  const c = compare({
    policy,
    trace,
    profile: input.profile,
    controls: [scaler],
    seed: input.seed,
    capacity,
    ...(input.model ? { model: input.model } : {}),
  });
  const row = c.rows[0]!;
  return {
    gpuHours: row.gpuHours,
    cost: row.cost,
    requests: row.requests,
    sloAttainment: row.sloAttainment,
  };
}

function score(rows: readonly RunRow[], target: number): ScalingScore {
  let gpuHours = 0;
  let cost = 0;
  let requests = 0;
  let within = 0;
  let worst = 1;
  for (const r of rows) {
    gpuHours += r.gpuHours;
    cost += r.cost;
    requests += r.requests;
    within += r.sloAttainment * r.requests;
    worst = Math.min(worst, r.sloAttainment);
  }
  const attainment = requests > 0 ? within / requests : 1;
  return { gpuHours, cost, attainment, worstAttainment: worst, requests, met: worst >= target };
}

/** A knob's value in the policy, as a number (seconds for durations). */
export function currentValue(policy: Policy, knob: ScalingKnob): number {
  const parent = getIn(policy, knob.path.slice(0, -1)) as Record<string, unknown>;
  const last = knob.path.at(-1)!;
  const v = parent[knob.kind === "duration" ? `${last}Seconds` : last];
  if (typeof v !== "number")
    throw new Error(`${knob.path.join(".")} is not a number in the policy`);
  return v;
}

/** A knob's value in the policy as its document holds it (`5m` as written, not 300). */
function documentValue(policy: Policy, knob: ScalingKnob): KnobValue {
  const v = getIn(policy, knob.path);
  if (typeof v === "number" || typeof v === "string") return v;
  throw new Error(`${knob.path.join(".")} is not a value in the policy`);
}

/** How a knob's value is written in a ModelPool (`300` seconds → `5m`). */
export function formatKnob(knob: ScalingKnob, value: number): KnobValue {
  return knob.kind === "duration" ? formatDuration(value) : value;
}

/**
 * The ModelPool document a policy came from, as plain data: the policy without the
 * `<field>Seconds` siblings the loader adds beside every duration (a key is dropped only
 * when its stem is a string beside it, so `tolerationSeconds` and the like stay).
 */
export function documentOf(policy: Policy): Record<string, unknown> {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v !== "object" || v === null) return v;
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      if (k.endsWith("Seconds") && typeof o[k.slice(0, -"Seconds".length)] === "string") continue;
      out[k] = strip(x);
    }
    return out;
  };
  return strip(policy) as Record<string, unknown>;
}

/**
 * The pool with the knobs at `values` (in `knobs` order; those equal to the pool's own
 * are left as written), validated by the loader: undefined when it refuses the result.
 */
export function applyKnobs(
  document: Record<string, unknown>,
  policy: Policy,
  knobs: readonly ScalingKnob[],
  values: readonly number[],
): Policy | undefined {
  const doc = structuredClone(document);
  for (const [i, knob] of knobs.entries()) {
    const v = values[i]!;
    if (v === currentValue(policy, knob)) continue;
    setIn(doc, knob.path, formatKnob(knob, v));
  }
  return parseModelPoolObject(doc, policy.source.file).policy;
}

function getIn(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const k of path) v = (v as Record<string, unknown> | undefined)?.[k];
  return v;
}

function setIn(doc: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let o = doc;
  for (const k of path.slice(0, -1)) {
    const next = o[k];
    if (typeof next !== "object" || next === null) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[path.at(-1)!] = value;
}

/**
 * The part [t0, t1) of a trace as a trace of its own, starting at 0: what `tune --scaling`
 * tunes on (the first part of a recorded trace) and holds back (the rest). Arrivals
 * outside the window are never delivered, and rates outside it are 0. The window shares
 * `source`'s reading position: use one window at a time, each from its `reset()` (as
 * compare.ts does before every run).
 */
export function timeSlice(source: ArrivalSource, t0: number, t1: number): ArrivalSource {
  const end = Math.min(t1, source.durationSeconds);
  if (!(t0 >= 0 && end > t0)) {
    throw new RangeError(
      `a slice of ${source.name} needs 0 <= t0 < t1 <= ${source.durationSeconds}. Received: [${t0}, ${t1})`,
    );
  }
  const duration = end - t0;
  let skipped = false;
  const peaks = new Map<number, number>();
  const rateBetween = (a: number, b: number): number => {
    if (!(b > a)) throw new RangeError(`rateBetween needs t1 > t0. Received: [${a}, ${b})`);
    const lo = Math.max(a, 0);
    const hi = Math.min(b, duration);
    if (hi <= lo) return 0;
    return (source.rateBetween(lo + t0, hi + t0) * (hi - lo)) / (b - a);
  };
  return {
    name: `${source.name} [${formatDuration(t0)}, ${formatDuration(end)})`,
    durationSeconds: duration,
    reset() {
      source.reset();
      skipped = false;
    },
    fill(buf, until) {
      if (!skipped) {
        // Read past everything before the window (into buf, which is overwritten below).
        while (source.fill(buf, t0) === buf.length);
        skipped = true;
      }
      const n = source.fill(buf, Math.min(until, duration) + t0);
      // Never at or past the end through rounding (the contract: every arrival < duration).
      const last = duration * (1 - Number.EPSILON);
      for (let i = 0; i < n; i++) buf[i] = Math.min(buf[i]! - t0, last);
      return n;
    },
    rateBetween,
    // The largest rate over windows starting on whole seconds (w ≤ 0: over 1 s windows),
    // a close reading of the exact peak at 1 s resolution.
    peakRate(windowSeconds) {
      const w = windowSeconds > 0 ? windowSeconds : 1;
      const cached = peaks.get(w);
      if (cached !== undefined) return cached;
      let peak = 0;
      if (w >= duration) peak = rateBetween(0, w);
      else for (let t = 0; t + w <= duration; t++) peak = Math.max(peak, rateBetween(t, t + w));
      peaks.set(w, peak);
      return peak;
    },
  };
}
