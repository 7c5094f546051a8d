/**
 * The one adapter between the hard-trace benchmark (bench/scaling-traces.ts) and the
 * simulator: `compare()` with its bounds (`oracle`, `lead-oracle`, `best-static`, each
 * searched until the run meets the SLO target) and the `fallback` scaler, and the tuner
 * behind `tuneForBench`, which records every seed it hands over so that the benchmark can
 * check that tuning never saw a report seed.
 *
 * STAND-IN (to switch when `tuneScaling` lands): `tuneScalingStandIn`, a small search over
 * targetUtilization, scale-down stabilization and idleWindow on the tune traces.
 * Nothing here prints; every figure it returns was simulated.
 */

import type { Policy } from "../controller/policy/index.js";
import type { ArrivalSource } from "../controller/simulate/arrivals.js";
import type { Capacity } from "../controller/simulate/capacity.js";
import { type ComparisonRow, compare } from "../controller/simulate/compare.js";
import type { LatencyProfile } from "../controller/simulate/profile.js";
import { parseTraceSpec } from "../controller/simulate/trace.js";

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

/** A row that was asked for and could not be computed, with why. */
export interface MissingRow {
  readonly name: string;
  readonly missing: string;
}

/** What {@link compareRows} returns. */
export interface RowsResult {
  readonly capacity: Capacity;
  readonly rows: readonly (Row | MissingRow)[];
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
}

/** Whether a row was computed. */
export function isRow(r: Row | MissingRow): r is Row {
  return !("missing" in r);
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

/** What the tuner is given: the names of tune-scaling.ts's `tuneScaling`. */
export interface TuneInput {
  readonly policy: Policy;
  readonly profile: LatencyProfile;
  readonly tuneOn: readonly SeededTrace[];
  readonly validateOn: readonly SeededTrace[];
  readonly sloTarget: number;
  readonly seed: number;
  /** Most candidate policies to simulate. @default 8 */
  readonly budget?: number;
  readonly onProgress?: (fraction: number) => void;
}

/** What the tuner returns: the names of tune-scaling.ts's `tuneScaling`. */
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
 * Runs the tuner and records every seed it was handed: the tuner reads arrivals only from
 * the {@link SeededTrace}s given here, so these are all the trace seeds it can have seen.
 * At merge, only the call inside changes (to tune-scaling.ts's `tuneScaling`).
 */
export function tuneForBench(input: TuneInput): TuneOutput {
  const seedsSeen = new Set<number>([input.seed]);
  for (const t of [...input.tuneOn, ...input.validateOn]) seedsSeen.add(t.seed);
  const result = tuneScalingStandIn(input); // STAND-IN: tuneScaling(input)
  return { ...result, seedsSeen };
}

type Knobs = { targetUtilization: number; scaleDownSeconds: number; idleSeconds: number };

/** `seconds` as the policy writes durations. */
function durationText(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}

/** The policy with these knobs (the string and `…Seconds` forms both set). */
function withKnobs(policy: Policy, k: Knobs): Policy {
  const s = policy.spec.scaling;
  return {
    ...policy,
    spec: {
      ...policy.spec,
      scaling: {
        ...s,
        targetUtilization: k.targetUtilization,
        scaleDown: {
          ...s.scaleDown,
          stabilizationWindow: durationText(
            k.scaleDownSeconds,
          ) as typeof s.scaleDown.stabilizationWindow,
          stabilizationWindowSeconds: k.scaleDownSeconds,
        },
        idleWindow: durationText(k.idleSeconds) as typeof s.idleWindow,
        idleWindowSeconds: k.idleSeconds,
      },
    },
  };
}

/**
 * STAND-IN for tune-scaling.ts's `tuneScaling`: tries the shipped knobs, then
 * targetUtilization 0.7 / 0.95, scale-down stabilization 1m, idleWindow 2m and a few
 * combinations (at most `budget` candidates), each on every `tuneOn` trace; keeps the
 * cheapest that meets the target on all of them (else the one with the best worst
 * attainment), and scores it on `validateOn`.
 */
function tuneScalingStandIn(input: TuneInput): TuneResult {
  const s = input.policy.spec.scaling;
  const shipped: Knobs = {
    targetUtilization: s.targetUtilization,
    scaleDownSeconds: s.scaleDown.stabilizationWindowSeconds,
    idleSeconds: s.idleWindowSeconds,
  };
  const candidates: Knobs[] = [
    shipped,
    { ...shipped, targetUtilization: 0.7 },
    { ...shipped, scaleDownSeconds: 60 },
    { ...shipped, idleSeconds: 120 },
    { ...shipped, targetUtilization: 0.95 },
    { ...shipped, scaleDownSeconds: 60, idleSeconds: 120 },
    { ...shipped, targetUtilization: 0.7, scaleDownSeconds: 60, idleSeconds: 120 },
    { ...shipped, targetUtilization: 0.6 },
  ].slice(0, input.budget ?? 8);
  let simulations = 0;
  const score = (policy: Policy, traces: readonly SeededTrace[]): TuneScore => {
    let gpu = 0;
    let att = 0;
    let met = true;
    for (const trace of traces) {
      const r = compare({
        policy,
        trace,
        profile: input.profile,
        controls: ["tritonscale"],
        seed: input.seed,
      }).rows[0]!;
      simulations++;
      gpu += r.gpuHours;
      att += r.sloAttainment;
      if (r.sloAttainment < input.sloTarget) met = false;
    }
    return { gpuHours: gpu / traces.length, sloAttainment: att / traces.length, met };
  };
  let best: { knobs: Knobs; score: TuneScore } | undefined;
  candidates.forEach((knobs, i) => {
    const sc = score(withKnobs(input.policy, knobs), input.tuneOn);
    input.onProgress?.((i + 1) / candidates.length);
    const better =
      best === undefined ||
      (sc.met && (!best.score.met || sc.gpuHours < best.score.gpuHours)) ||
      (!sc.met && !best.score.met && sc.sloAttainment > best.score.sloAttainment);
    if (better) best = { knobs, score: sc };
  });
  const chosen = best!;
  const policy = withKnobs(input.policy, chosen.knobs);
  const changes: TuneChange[] = [];
  if (chosen.knobs.targetUtilization !== shipped.targetUtilization)
    changes.push({
      field: "scaling.targetUtilization",
      from: String(shipped.targetUtilization),
      to: String(chosen.knobs.targetUtilization),
    });
  if (chosen.knobs.scaleDownSeconds !== shipped.scaleDownSeconds)
    changes.push({
      field: "scaling.scaleDown.stabilizationWindow",
      from: durationText(shipped.scaleDownSeconds),
      to: durationText(chosen.knobs.scaleDownSeconds),
    });
  if (chosen.knobs.idleSeconds !== shipped.idleSeconds)
    changes.push({
      field: "scaling.idleWindow",
      from: durationText(shipped.idleSeconds),
      to: durationText(chosen.knobs.idleSeconds),
    });
  const validated = score(policy, input.validateOn);
  return { policy, changes, tuned: chosen.score, validated, simulations };
}
