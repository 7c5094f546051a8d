/**
 * The one adapter between the hard-trace benchmark (bench/scaling-traces.ts) and the
 * simulator's comparison and tuner, so that the benchmark is written against the names of
 * issue 9 — `compare()` rows `lead-oracle`, `best-static`, `fallback` with `metSloTarget`,
 * and `tuneScaling({policy, profile, tuneOn, validateOn, sloTarget, seed, budget?,
 * onProgress?}) → {policy, changes, tuned, validated, simulations}` — while those are built
 * on other branches.
 *
 * STAND-INS (to switch at merge; every one is marked `STAND-IN` below):
 * - `best-static`: bisection over `static:N` here (the same schedule control as compare's
 *   `static:N`), instead of compare's `best-static`.
 * - `lead-oracle`: a clairvoyant schedule run through the real cluster model (provisioning,
 *   cold start, node linger, Spot), asking at each moment for what the next L =
 *   nodeProvisioning + coldStart (+ one re-size period) will need, with a headroom factor
 *   bisected until the run meets the SLO target; instead of compare's `lead-oracle`.
 * - `oracle`: compare's `oracle` as it is on this branch (no provisioning or cold start,
 *   *not* bisected to meet the target: its `metSloTarget` says whether it did).
 * - `fallback`: not computed (no such control on this branch): the row says so.
 * - `tuneScalingStandIn`: a small search over targetUtilization, scale-down stabilization
 *   and idleWindow on the tune traces, instead of tune-scaling.ts's `tuneScaling`.
 * Nothing here prints; every figure it returns was simulated.
 *
 * At merge: `compareRows` becomes one `compare({..., controls, sloTarget})` call whose rows
 * carry `metSloTarget` (keep `detail` from the bound rows' own description, e.g. best-static's
 * N), and `tuneForBench` calls `tuneScaling` instead of `tuneScalingStandIn`, still recording
 * the seeds it hands over.
 */

import type { Policy } from "../controller/policy/index.js";
import type { ArrivalSource } from "../controller/simulate/arrivals.js";
import type { Capacity } from "../controller/simulate/capacity.js";
import { type ComparisonRow, compare } from "../controller/simulate/compare.js";
import { type Control, simulate } from "../controller/simulate/engine.js";
import { LatencyHistogram } from "../controller/simulate/histogram.js";
import type { LatencyProfile } from "../controller/simulate/profile.js";
import { createRng } from "../controller/simulate/rng.js";
import {
  batcherSettings,
  clusterSettings,
  createServiceTime,
  pipelineSettings,
  simulatedModel,
} from "../controller/simulate/setup.js";
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

const ORACLE_PERIOD_SECONDS = 5;
const STATIC_PERIOD_SECONDS = 60;

/** Runs every control on the trace; the bounds as the module's doc says. */
export function compareRows(input: RowsInput): RowsResult {
  const direct = input.controls.filter(
    (c) => c !== "lead-oracle" && c !== "best-static" && c !== "fallback",
  );
  const base = compare({
    policy: input.policy,
    trace: input.trace,
    profile: input.profile,
    controls: direct.length > 0 ? direct : ["oracle"],
    seed: input.seed,
  });
  let simulations = base.rows.length;
  const target = input.sloTarget;
  const met = (r: ComparisonRow): Row => ({ ...r, metSloTarget: r.sloAttainment >= target });
  const byName = new Map(base.rows.map((r) => [r.name, met(r)]));
  const runner = scheduleRunner(input);
  const rows: (Row | MissingRow)[] = [];
  for (const name of input.controls) {
    if (name === "fallback") {
      // STAND-IN: compare's `fallback` control (the rendered KEDA Prometheus fallback as a
      // scaler) is on the simulate helper's branch.
      rows.push({ name, missing: "no `fallback` control on this branch" });
    } else if (name === "best-static") {
      const r = bestStatic(input, runner, base.capacity.requestsPerSecond);
      simulations += r.simulations;
      rows.push(r.row);
    } else if (name === "lead-oracle") {
      const r = leadOracle(input, runner, base.capacity.requestsPerSecond);
      simulations += r.simulations;
      rows.push(r.row);
    } else {
      rows.push(byName.get(name)!);
    }
  }
  return { capacity: base.capacity, rows, simulations };
}

type ScheduleRunner = (
  name: string,
  replicasAt: (t: number) => number,
  periodSeconds: number,
) => ComparisonRow;

/** Runs a schedule control exactly as compare() runs `static:N` (same cluster, same RNG fork). */
function scheduleRunner(input: RowsInput): ScheduleRunner {
  const { policy } = input;
  const model = simulatedModel(policy);
  const batcher = batcherSettings(model);
  const service = createServiceTime(input.profile);
  const cluster = clusterSettings(policy);
  const pipeline = pipelineSettings();
  return (name, replicasAt, periodSeconds) => {
    input.trace.reset();
    const control: Control = { kind: "schedule", replicasAt, periodSeconds };
    const result = simulate({
      arrivals: input.trace,
      batcher,
      service,
      cluster,
      pipeline,
      sloSeconds: policy.spec.slo.latencyP99Ms / 1000,
      control,
      random: createRng(input.seed).fork(name),
      histogram: () => new LatencyHistogram(),
    });
    return { name, ...result };
  };
}

/**
 * STAND-IN for compare's `best-static`: the fewest `static:N` (1..maxReplicas) meeting the
 * target, by bisection from [⌈mean / capacity⌉ − 1, maxReplicas]. When even maxReplicas
 * misses, that row with `metSloTarget` false.
 */
function bestStatic(
  input: RowsInput,
  run: ScheduleRunner,
  capacity: number,
): { row: Row; simulations: number } {
  const trace = input.trace;
  const d = trace.durationSeconds;
  const max = input.policy.spec.scaling.maxReplicas;
  let simulations = 0;
  const tried = new Map<number, ComparisonRow>();
  const at = (n: number): ComparisonRow => {
    let r = tried.get(n);
    if (r === undefined) {
      r = run(`static:${n}`, () => n, STATIC_PERIOD_SECONDS);
      tried.set(n, r);
      simulations++;
    }
    return r;
  };
  const ok = (n: number) => at(n).sloAttainment >= input.sloTarget;
  let lo = Math.max(0, Math.ceil(trace.rateBetween(0, d) / capacity) - 1); // misses (or 0)
  let hi = Math.min(max, Math.max(lo + 1, Math.ceil(trace.peakRate(60) / capacity)));
  while (!ok(hi) && hi < max) {
    lo = hi;
    hi = Math.min(max, hi * 2);
  }
  if (!ok(hi)) {
    return {
      row: { ...at(hi), name: "best-static", metSloTarget: false, detail: `static:${hi}` },
      simulations,
    };
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return {
    row: { ...at(hi), name: "best-static", metSloTarget: true, detail: `static:${hi}` },
    simulations,
  };
}

/**
 * STAND-IN for compare's `lead-oracle`: knows every second's rate r(s) in advance and, at
 * each re-size (every 5 s), asks for ⌈h · max r over [t, t + L + 5) / capacity⌉ replicas,
 * L = nodeProvisioning + coldStart: what any scaler with perfect prediction would have to
 * request by now for its capacity to be there in time, and keep while it is still needed.
 * The run goes through the real cluster model. h is the least headroom in [1, 4] meeting the
 * target (bisection); when 4 misses, that row with `metSloTarget` false.
 */
function leadOracle(
  input: RowsInput,
  run: ScheduleRunner,
  capacity: number,
): { row: Row; simulations: number } {
  const trace = input.trace;
  const s = input.policy.spec.scaling;
  const lead = s.nodeProvisioningSeconds + s.coldStartSeconds;
  const d = Math.ceil(trace.durationSeconds);
  const rates = new Float64Array(d);
  for (let k = 0; k < d; k++) rates[k] = trace.rateBetween(k, k + 1);
  const window = lead + ORACLE_PERIOD_SECONDS;
  let simulations = 0;
  const attempt = (h: number): Row => {
    const replicasAt = (t: number): number => {
      let peak = 0;
      const from = Math.floor(t);
      const to = Math.min(d, from + window);
      for (let k = from; k < to; k++) if (rates[k]! > peak) peak = rates[k]!;
      return Math.ceil((h * peak) / capacity - 1e-9);
    };
    simulations++;
    const r = run("lead-oracle", replicasAt, ORACLE_PERIOD_SECONDS);
    return {
      ...r,
      metSloTarget: r.sloAttainment >= input.sloTarget,
      detail: `headroom ${h.toFixed(3)}, lead ${lead} s`,
    };
  };
  let best = attempt(1);
  if (best.metSloTarget) return { row: best, simulations };
  let lo = 1;
  let hi = 1.5;
  let top = attempt(hi);
  while (!top.metSloTarget && hi < 4) {
    lo = hi;
    hi = Math.min(4, hi * 1.5);
    top = attempt(hi);
  }
  if (!top.metSloTarget) return { row: top, simulations };
  best = top;
  for (let i = 0; i < (input.bisectionSteps ?? 5); i++) {
    const mid = (lo + hi) / 2;
    const r = attempt(mid);
    if (r.metSloTarget) {
      hi = mid;
      best = r;
    } else lo = mid;
  }
  return { row: best, simulations };
}

// ---------------------------------------------------------------------------------------
// Tuning

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
