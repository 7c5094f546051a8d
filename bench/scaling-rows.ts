/**
 * The one adapter between the hard-trace benchmark (bench/scaling-traces.ts) and the
 * simulator: `compare()` with its bounds (`oracle`, `lead-oracle`, `best-static`, each
 * searched until the run meets the SLO target) and the `fallback` scaler, and the tuner
 * behind `tuneForBench`, which records every seed it hands over so that the benchmark can
 * check that tuning never saw a report seed.
 *
 * Nothing here prints; every figure it returns was simulated.
 */

import type { Policy } from "../controller/policy/index.js";
import type { ArrivalSource } from "../controller/simulate/arrivals.js";
import type { Capacity } from "../controller/simulate/capacity.js";
import { type ComparisonRow, compare } from "../controller/simulate/compare.js";
import type { LatencyProfile } from "../controller/simulate/profile.js";
import { parseTraceSpec } from "../controller/simulate/trace.js";
import { type ScalingScore, tuneScaling } from "../controller/simulate/tune-scaling.js";

/** An arrival source that remembers the spec and seed it was made from. */
export interface SeededTrace extends ArrivalSource {
  readonly spec: string;
  readonly seed: number;
}

/** Parses `spec` with `seed` into a source that records both. */
export function seededTrace(spec: string, seed: number): SeededTrace {
  const source = parseTraceSpec(spec, seed);
  return Object.assign(source, { spec, seed });
}

/** A computed row: a comparison row and whether it met the SLO target. */
export interface Row extends ComparisonRow {
  readonly metSloTarget: boolean;
  /** What the row ran, when its name does not say (`best-static` → `static:4`, `lead-oracle` → `headroom 1.12`). */
  readonly detail?: string;
}

/** What {@link compareRows} returns. */
export interface RowsResult {
  readonly capacity: Capacity;
  readonly rows: readonly Row[];
  /** Simulations run. */
  readonly simulations: number;
}

/** What {@link compareRows} compares. */
export interface RowsInput {
  readonly policy: Policy;
  readonly trace: ArrivalSource;
  readonly profile: LatencyProfile;
  /** Scalers, `static:N`, `oracle`, `lead-oracle`, `best-static`, `fallback`. */
  readonly controls: readonly string[];
  readonly seed: number;
  /** Share of requests within the SLO a row must reach to meet the target. */
  readonly sloTarget: number;
  /** Bisection steps for the bounds. @default 5 */
  readonly bisectionSteps?: number;
  /**
   * Seconds at the start of the trace replayed before measuring (`simulate --warmup`): every
   * row, the bounds included, counts only what comes after. @default 0
   */
  readonly warmupSeconds?: number;
}

/** What a bound's search found, for the table (`static:4`, `headroom 1.12`). */
function detailOf(r: ComparisonRow): string | undefined {
  const s = r.search;
  if (s === undefined) return undefined;
  const what =
    s.replicas !== undefined
      ? `static:${s.replicas}`
      : s.headroom !== undefined
        ? `headroom ${s.headroom.toFixed(2)}`
        : "";
  return `${what}${what ? ", " : ""}${s.probes} probes${s.reached ? "" : ", target not reached"}`;
}

/** Runs every control on the trace through compare(), the bounds included. */
export function compareRows(input: RowsInput): RowsResult {
  const result = compare({
    policy: input.policy,
    trace: input.trace,
    profile: input.profile,
    controls: input.controls,
    seed: input.seed,
    sloTarget: input.sloTarget,
    ...(input.bisectionSteps === undefined ? {} : { maxProbes: input.bisectionSteps }),
    ...(input.warmupSeconds ? { warmupSeconds: input.warmupSeconds } : {}),
  });
  let simulations = 0;
  const rows: Row[] = result.rows.map((r) => {
    simulations += r.search?.probes ?? 1;
    const detail = detailOf(r);
    return detail === undefined ? r : { ...r, detail };
  });
  return { capacity: result.capacity, rows, simulations };
}

/** One knob setting the tuner changed, for the report. */
export interface TuneChange {
  readonly field: string;
  readonly from: string;
  readonly to: string;
}

/** A policy's mean result over a set of traces. */
export interface TuneScore {
  readonly gpuHours: number;
  readonly sloAttainment: number;
  /** Met the target on every trace. */
  readonly met: boolean;
}

/** What the tuner is given. */
export interface TuneInput {
  readonly policy: Policy;
  readonly profile: LatencyProfile;
  readonly tuneOn: readonly SeededTrace[];
  readonly validateOn: readonly SeededTrace[];
  readonly sloTarget: number;
  readonly seed: number;
  /** Most simulations per tuning trace. @default tune-scaling's */
  readonly budget?: number;
}

/** What the tuner returns, in the benchmark's terms. */
export interface TuneResult {
  readonly policy: Policy;
  readonly changes: readonly TuneChange[];
  readonly tuned: TuneScore;
  readonly validated: TuneScore;
  readonly simulations: number;
}

/** The tuner's result and every seed the adapter handed it. */
export interface TuneOutput extends TuneResult {
  /** Its traces' seeds (tuning and validation) and its simulations' seed. */
  readonly seedsSeen: ReadonlySet<number>;
}

/**
 * Runs `tune --scaling`'s search (tune-scaling.ts) and records every seed it was handed:
 * the tuner reads arrivals only from the {@link SeededTrace}s given here, so these are all
 * the trace seeds it can have seen. `budget` is in simulations per tuning trace.
 */
export function tuneForBench(input: TuneInput): TuneOutput {
  const seedsSeen = new Set<number>([input.seed]);
  for (const t of [...input.tuneOn, ...input.validateOn]) seedsSeen.add(t.seed);
  const r = tuneScaling({
    policy: input.policy,
    profile: input.profile,
    tuneOn: input.tuneOn,
    validateOn: input.validateOn,
    sloTarget: input.sloTarget,
    seed: input.seed,
    ...(input.budget === undefined ? {} : { budget: input.budget * input.tuneOn.length }),
  });
  const score = (x: ScalingScore): TuneScore => ({
    gpuHours: x.gpuHours,
    sloAttainment: x.attainment,
    met: x.met,
  });
  return {
    policy: r.policy,
    changes: r.changes.map((c) => ({ field: c.path, from: String(c.from), to: String(c.to) })),
    tuned: score(r.tuned),
    validated: score(r.validated),
    simulations: r.simulations,
    seedsSeen,
  };
}
