/**
 * Benchmark section (issue 9 §4): scaling on a trace set that is hard on purpose. Eight
 * trace kinds, each from a named real pattern and written as a `synthetic:` spec a user can
 * run too; every scaler and bound on each, as GPU-hours ×lead-oracle and ×best-static and
 * SLO attainment, then tritonscale's targets per trace, met or MISS with the figure.
 *
 * Seed discipline: the report seeds ({@link REPORT_SEEDS}) were fixed before any tuning;
 * tuning sees only {@link TUNE_SEEDS}, and the section checks that the tuner never read a
 * report seed ({@link assertTuningSawNoReportSeed}) before it prints a row.
 *
 * The rows come from bench/scaling-rows.ts, the one adapter to compare() and the tuner.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { loadModelPool, type Policy } from "../controller/policy/index.js";
import type { ArrivalSource } from "../controller/simulate/arrivals.js";
import {
  DEFAULT_PROFILE,
  type LatencyProfile,
  parseLinearProfile,
} from "../controller/simulate/profile.js";
import { packageRoot } from "../controller/util/package-root.js";
import {
  compareRows,
  type Row,
  type SeededTrace,
  seededTrace,
  type TuneOutput,
  tuneForBench,
} from "./scaling-rows.js";

/** Seeds the table reports on: fixed before any tuning, never given to a tuner. */
export const REPORT_SEEDS = [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010] as const;
/** Seeds tuning may use (tuning and its validation). */
export const TUNE_SEEDS = [1, 2, 3, 4, 5] as const;

/** One trace kind of the set. */
export interface HardTrace {
  /** Short name for tables. */
  readonly name: string;
  /** The real pattern it stands for. */
  readonly pattern: string;
  /** The spec, full or `--quick` (shorter). */
  readonly spec: (quick: boolean) => string;
  /** Its pattern can be learned from history (diurnal, weekly, periodic surges, steady). */
  readonly learnable: boolean;
  /**
   * Its rises come from near zero at unpredictable times: the issue's hard case, where the
   * target is best-static's (the ≤ 0.7× best-static target does not apply) and the note
   * says what holding best-static costs against lead-oracle.
   */
  readonly unpredictable?: boolean;
  /** The report seed this trace is shown with (one of {@link REPORT_SEEDS}). */
  readonly reportSeed: number;
  /** The pool's SLO, when not the example pool's 85 ms. */
  readonly sloMs?: number;
  /** A `linear:` profile, when not the default (YOLOv8s fp16 on a T4, assumed). */
  readonly profile?: string;
}

/**
 * The trace set. Durations keep the whole section within about 10 minutes on a 2-core
 * machine (`--quick`: a couple of minutes).
 */
export const HARD_TRACES: readonly HardTrace[] = [
  {
    name: "shift",
    pattern:
      "shift changes with short periodic surges (issue 9's example: ramp to ~450 req/s, slow wave, 2× one-minute surge every 20 min; T4, linear:a=6,b=3, SLO 100 ms)",
    spec: (q) =>
      `synthetic:shift:start=0:level=400:ramp=30m:wave=0.12:wavePeriod=1h:surge=2:surgeLength=1m:surgeEvery=20m:duration=${q ? "1h" : "3h"}`,
    learnable: true,
    reportSeed: 1001,
    sloMs: 100,
    profile: "linear:a=6,b=3",
  },
  {
    name: "clumped uploads",
    pattern:
      "a camera fleet uploading 40 frames at once (within 50 ms), busy 2 min then idle 3 min on average",
    spec: (q) =>
      `synthetic:bursts:base=0:burst=12:length=2m:gap=3m:clump=40:spread=50ms:duration=${q ? "1h" : "2h"}`,
    learnable: false,
    reportSeed: 1002,
  },
  {
    name: "flash crowds",
    pattern:
      "flash crowds from near zero (1 req/s to 900 req/s in 10 s, decaying over ~4 min, ~40 min apart at random)",
    spec: (q) =>
      `synthetic:flash:base=1:peak=900:rise=10s:decay=4m:gap=40m:duration=${q ? "2h" : "4h"}`,
    learnable: false,
    unpredictable: true,
    reportSeed: 1003,
  },
  {
    name: "on/off fleets",
    pattern:
      "on/off camera fleets: 600 cameras at 2 fps in 6 sites of 100 that switch on (~15 min) and off (~30 min) together",
    spec: (q) =>
      `synthetic:onoff:cameras=600:groups=6:fps=2:on=15m:off=30m:duration=${q ? "1h" : "4h"}`,
    learnable: false,
    reportSeed: 1004,
  },
  {
    name: "LLM-like",
    pattern:
      "an LLM-service-like stream: busy spells of ~90 s at a noisy ~400 req/s with idle minutes between (exponential, mean 4 min)",
    spec: (q) =>
      `synthetic:bursts:base=0:burst=400:length=90s:gap=4m:noise=0.3:duration=${q ? "1h" : "3h"}`,
    learnable: false,
    reportSeed: 1005,
  },
  {
    name: "noisy diurnal",
    pattern:
      "a noisy diurnal day: mean 300 req/s, peak/mean 3, the rate off by a random factor (σ 0.15) minute by minute",
    spec: (q) => `synthetic:diurnal:mean=300:peakToMean=3:noise=0.15:period=${q ? "6h" : "24h"}`,
    learnable: true,
    reportSeed: 1006,
  },
  {
    name: "week",
    pattern:
      "a week with weekday/weekend levels: daily cycle peaking at 14:00, weekday mean 40 req/s, weekend 12 req/s, for a heavier model (assumed linear:a=20,b=12)",
    spec: (q) =>
      q
        ? "synthetic:weekly:weekday=40:weekend=12:duration=48h"
        : "synthetic:weekly:weekday=40:weekend=12:duration=168h",
    learnable: true,
    reportSeed: 1007,
    profile: "linear:a=20,b=12",
  },
  {
    name: "steady",
    pattern: "steady load: Poisson at 700 req/s",
    spec: (q) => `synthetic:poisson:rate=700:duration=${q ? "30m" : "2h"}`,
    learnable: true,
    reportSeed: 1008,
  },
  {
    name: "fast ramps",
    pattern:
      "fast ramps: a ×4 swing every hour (mean 300 req/s), the way shift starts, breaks or a stadium's intervals ramp; added after a steady ramp read as a surge cost the example pool a third of its requests",
    spec: (q) => `synthetic:diurnal:mean=300:peakToMean=4:period=1h:duration=${q ? "2h" : "6h"}`,
    learnable: true,
    reportSeed: 1009,
  },
];

/**
 * Throws unless no seed the tuner read is a report seed: the guarantee that the table's
 * "tuned" rows were not tuned on what they are reported on.
 */
export function assertTuningSawNoReportSeed(
  seen: Iterable<number>,
  report: readonly number[] = REPORT_SEEDS,
): void {
  const bad = [...seen].filter((s) => report.includes(s));
  if (bad.length > 0) {
    throw new Error(
      `tuning read report seed(s) ${bad.join(", ")}: the report seeds (${report.join(", ")}) must never be tuned on`,
    );
  }
}

/**
 * Share of the trace's minutes whose mean rate is below a third of its peak minute's: the
 * property behind the ≤ 0.7× best-static target (applies from 30%).
 */
export function lowShare(trace: ArrivalSource): number {
  const peak = trace.peakRate(60);
  const minutes = Math.floor(trace.durationSeconds / 60);
  let low = 0;
  for (let m = 0; m < minutes; m++) {
    if (trace.rateBetween(m * 60, m * 60 + 60) < peak / 3) low++;
  }
  return minutes > 0 ? low / minutes : 0;
}

const CONTROLS = [
  "hpa-gpu",
  "keda-queue",
  "fallback",
  "tritonscale",
  "oracle",
  "lead-oracle",
  "best-static",
] as const;

/** What one trace produced, for the summary. */
export interface TraceOutcome {
  readonly trace: HardTrace;
  readonly spec: string;
  readonly rows: readonly Row[];
  readonly tuned: Row;
  readonly tuning: TuneOutput;
  readonly tuneSeeds: readonly number[];
  readonly validateSeeds: readonly number[];
  readonly lowShare: number;
  readonly verdicts: readonly Verdict[];
  /** Requests per second one replica sustains at the SLO (compare's capacity search). */
  readonly capacityPerReplica: number;
  /** Simulations run for this trace, tuning included. */
  readonly simulations: number;
  /** The same report seed measured after a warm-up (`--warmup`), when asked for. */
  readonly warm?: WarmOutcome;
}

/**
 * tritonscale (shipped defaults) measured after the first `seconds` of the report trace
 * were replayed, so its history learned them: what a pool that has run for a while does.
 * The bounds and baselines are measured over the same part.
 */
export interface WarmOutcome {
  readonly seconds: number;
  readonly rows: readonly Row[];
  readonly verdicts: readonly Verdict[];
}

/** Controls of the warm-up rows: what the targets compare tritonscale with. */
const WARM_CONTROLS = [
  "hpa-gpu",
  "keda-queue",
  "tritonscale",
  "lead-oracle",
  "best-static",
] as const;

/** One target, for one trace. */
export interface Verdict {
  /** `met`, `MISS` or `n/a` (does not apply to this trace). */
  readonly status: "met" | "MISS" | "n/a";
  readonly text: string;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}×` : "—";
}

/** tritonscale's targets on one trace (issue 9 §4). */
export function judge(
  rows: ReadonlyMap<string, Row>,
  sloTarget: number,
  low: number,
  learnable: boolean,
  unpredictable = false,
): Verdict[] {
  const ts = rows.get("tritonscale")!;
  const bs = rows.get("best-static");
  const lo = rows.get("lead-oracle");
  const out: Verdict[] = [];
  if (bs === undefined || !bs.metSloTarget) {
    out.push({
      status: "n/a",
      text: `SLO where best-static reaches it: best-static does not reach ${pct(sloTarget)}${bs ? ` (${bs.detail}: ${pct(bs.sloAttainment)})` : ""}; tritonscale ${pct(ts.sloAttainment)}`,
    });
  } else {
    const ok = ts.sloAttainment >= sloTarget && ts.gpuHours <= bs.gpuHours;
    out.push({
      status: ok ? "met" : "MISS",
      text: `≥ ${pct(sloTarget)} within SLO at ≤ best-static's GPU-h: ${pct(ts.sloAttainment)} at ${ratio(ts.gpuHours, bs.gpuHours)} best-static (${bs.detail})`,
    });
  }
  const baselines = ["hpa-gpu", "keda-queue"].map((n) => rows.get(n)!);
  // Attainment compared at the precision printed (0.01%), so "100.00% vs 100.00%" is equal.
  const shown = (x: number) => Math.round(x * 10_000);
  const beats = baselines.every(
    (b) => ts.gpuHours < b.gpuHours && shown(ts.sloAttainment) >= shown(b.sloAttainment),
  );
  out.push({
    status: beats ? "met" : "MISS",
    text: `cheaper than both baselines at equal or better attainment: ${baselines
      .map(
        (b) =>
          `${b.name} ${ratio(ts.gpuHours, b.gpuHours)} its GPU-h, ${pct(ts.sloAttainment)} vs ${pct(b.sloAttainment)}`,
      )
      .join("; ")}`,
  });
  if (unpredictable) {
    out.push({
      status: "n/a",
      text: `≤ 0.7× best-static: rises from near zero at unpredictable times, so the target is best-static's (above)${bs && lo ? `; holding best-static costs ${ratio(bs.gpuHours, lo.gpuHours)} lead-oracle here` : ""}`,
    });
  } else if (low >= 0.3 && bs !== undefined) {
    const ok = ts.gpuHours <= 0.7 * bs.gpuHours;
    out.push({
      status: ok ? "met" : "MISS",
      text: `≤ 0.7× best-static (${pct(low)} of the time below a third of the peak): ${ratio(ts.gpuHours, bs.gpuHours)}`,
    });
  } else {
    out.push({
      status: "n/a",
      text: `≤ 0.7× best-static: only ${pct(low)} (< 30%) of the time below a third of the peak`,
    });
  }
  if (learnable && lo !== undefined) {
    const ok = ts.gpuHours <= 1.2 * lo.gpuHours;
    out.push({
      status: ok ? "met" : "MISS",
      text: `≤ 1.2× lead-oracle on a learnable pattern: ${ratio(ts.gpuHours, lo.gpuHours)}${lo.metSloTarget ? "" : " (lead-oracle itself misses the target: not a bound)"}`,
    });
  } else {
    out.push({ status: "n/a", text: "≤ 1.2× lead-oracle: the pattern is not learnable" });
  }
  return out;
}

/** The bench pool for a trace: the example pool with its SLO and round-robin spreading. */
export function policyFor(trace: HardTrace): Policy {
  const file = join(packageRoot, "examples", "yolov8-pool.yaml");
  const doc = parseDocument(readFileSync(file, "utf8"));
  if (trace.sloMs !== undefined) doc.setIn(["spec", "slo", "latencyP99Ms"], trace.sloMs);
  // A pool behind a proxy balancing each request round robin (simulated so, planned with
  // the capacity curve), as before simulate routed as the pool says.
  doc.setIn(["spec", "scaling", "loadBalancing"], "roundRobin");
  return loadModelPool(doc.toString(), `${file} (bench: ${trace.name})`);
}

/** The latency profile a trace is run with. */
export function profileFor(trace: HardTrace): LatencyProfile {
  return trace.profile === undefined ? DEFAULT_PROFILE : parseLinearProfile(trace.profile);
}

/**
 * Runs one trace kind: tuning on tune seeds, then every row on its report seed; with
 * `warmupSeconds` (at most half the trace), the warm-up rows too.
 */
export function runHardTrace(trace: HardTrace, quick: boolean, warmupSeconds = 0): TraceOutcome {
  const spec = trace.spec(quick);
  const policy = policyFor(trace);
  const profile = profileFor(trace);
  const sloTarget = policy.spec.slo.targetAttainment;
  const tuneOn: SeededTrace[] = (quick ? [1] : [1, 2]).map((s) => seededTrace(spec, s));
  const validateOn: SeededTrace[] = (quick ? [2] : [3]).map((s) => seededTrace(spec, s));
  const tuning = tuneForBench({
    policy,
    profile,
    tuneOn,
    validateOn,
    sloTarget,
    seed: TUNE_SEEDS[0],
    budget: quick ? 6 : 12,
  });
  // Before any report-seed simulation: the tuner must not have seen one.
  assertTuningSawNoReportSeed(tuning.seedsSeen);
  const report = seededTrace(spec, trace.reportSeed);
  const result = compareRows({
    policy,
    trace: report,
    profile,
    controls: CONTROLS,
    seed: trace.reportSeed,
    sloTarget,
    bisectionSteps: quick ? 3 : 5,
  });
  const tunedRun = compareRows({
    policy: tuning.policy,
    trace: report,
    profile,
    controls: ["tritonscale"],
    seed: trace.reportSeed,
    sloTarget,
  });
  const tunedRow = tunedRun.rows[0] as Row;
  const tuned: Row = { ...tunedRow, name: "tritonscale-tuned" };
  const low = lowShare(report);
  const byName = new Map<string, Row>();
  for (const r of result.rows) byName.set(r.name, r);
  let warm: WarmOutcome | undefined;
  let warmSimulations = 0;
  if (warmupSeconds > 0) {
    const seconds = Math.min(warmupSeconds, report.durationSeconds / 2);
    const w = compareRows({
      policy,
      trace: report,
      profile,
      controls: WARM_CONTROLS,
      seed: trace.reportSeed,
      sloTarget,
      bisectionSteps: quick ? 3 : 5,
      warmupSeconds: seconds,
    });
    const wBy = new Map<string, Row>();
    for (const r of w.rows) wBy.set(r.name, r);
    warm = {
      seconds,
      rows: w.rows,
      verdicts: judge(wBy, sloTarget, low, trace.learnable, trace.unpredictable),
    };
    warmSimulations = w.simulations;
  }
  return {
    trace,
    spec,
    rows: result.rows,
    tuned,
    tuning,
    tuneSeeds: tuneOn.map((t) => t.seed),
    validateSeeds: validateOn.map((t) => t.seed),
    lowShare: low,
    verdicts: judge(byName, sloTarget, low, trace.learnable, trace.unpredictable),
    capacityPerReplica: result.capacity.requestsPerSecond,
    simulations: tuning.simulations + result.simulations + tunedRun.simulations + warmSimulations,
    ...(warm === undefined ? {} : { warm }),
  };
}

function printOutcome(o: TraceOutcome, wallSeconds: number): void {
  const rows = o.rows;
  const byName = new Map<string, Row>();
  for (const r of rows) byName.set(r.name, r);
  const lo = byName.get("lead-oracle");
  const bs = byName.get("best-static");
  const t = o.trace;
  console.log(`\n## ${t.name}: ${t.pattern}`);
  console.log(
    `${o.spec}  seed ${t.reportSeed}; ${(byName.get("tritonscale")?.requests ?? 0).toLocaleString("en")} requests; SLO p99 ${t.sloMs ?? 85} ms; profile ${t.profile ?? "linear:a=4,b=2.2"}; capacity ${o.capacityPerReplica.toFixed(0)} req/s per replica; ${pct(o.lowShare)} of minutes below a third of the peak; learnable: ${t.learnable ? "yes" : "no"}; ${o.simulations} simulations, ${wallSeconds.toFixed(0)} s wall`,
  );
  console.log("control              GPU-h  ×lead-oracle  ×best-static  within SLO  met  note");
  const line = (r: Row, note = ""): void => {
    const bound = ["oracle", "lead-oracle", "best-static"].includes(r.name);
    const n = [r.detail, bound && !r.metSloTarget ? "not a bound (misses the target)" : "", note]
      .filter((x) => x)
      .join("; ");
    console.log(
      `${r.name.padEnd(18)} ${r.gpuHours.toFixed(2).padStart(7)}  ${(lo ? ratio(r.gpuHours, lo.gpuHours) : "—").padStart(12)}  ${(bs ? ratio(r.gpuHours, bs.gpuHours) : "—").padStart(12)}  ${pct(r.sloAttainment).padStart(10)}  ${(r.metSloTarget ? "yes" : "no").padEnd(3)}  ${n}`,
    );
  };
  for (const name of ["hpa-gpu", "keda-queue", "fallback", "tritonscale"]) {
    line(rows.find((r) => r.name === name)!);
  }
  const tu = o.tuning;
  const changes =
    tu.changes.length === 0
      ? "kept the shipped knobs"
      : tu.changes.map((c) => `${c.field} ${c.from}→${c.to}`).join(", ");
  line(
    o.tuned,
    `tune --scaling's search (${tu.simulations} runs) on seed ${o.tuneSeeds.join(",")}: ${changes}; there ${pct(tu.tuned.sloAttainment)} at ${tu.tuned.gpuHours.toFixed(2)} GPU-h; validation seed ${o.validateSeeds.join(",")}: ${pct(tu.validated.sloAttainment)} at ${tu.validated.gpuHours.toFixed(2)} GPU-h`,
  );
  for (const name of ["oracle", "lead-oracle", "best-static"]) {
    line(rows.find((r) => r.name === name)!);
  }
  console.log("targets for tritonscale (shipped defaults):");
  for (const v of o.verdicts) console.log(`  ${v.status.padEnd(4)} ${v.text}`);
  const w = o.warm;
  if (w === undefined) return;
  const wlo = w.rows.find((r) => r.name === "lead-oracle");
  const wbs = w.rows.find((r) => r.name === "best-static");
  console.log(
    `after a ${(w.seconds / 60).toFixed(0)} min warm-up (replayed, then measured to the end; bounds and baselines over the same part):`,
  );
  for (const r of w.rows) {
    console.log(
      `  ${r.name.padEnd(16)} ${r.gpuHours.toFixed(2).padStart(7)}  ${(wlo ? ratio(r.gpuHours, wlo.gpuHours) : "—").padStart(12)}  ${(wbs ? ratio(r.gpuHours, wbs.gpuHours) : "—").padStart(12)}  ${pct(r.sloAttainment).padStart(10)}  ${(r.metSloTarget ? "yes" : "no").padEnd(3)}  ${r.detail ?? ""}`,
    );
  }
  console.log("targets for tritonscale (shipped defaults) after the warm-up:");
  for (const v of w.verdicts) console.log(`  ${v.status.padEnd(4)} ${v.text}`);
}

/** Targets met and applying, over every outcome's verdicts. */
function tally(verdicts: readonly (readonly Verdict[])[]): { met: number; applying: number } {
  let met = 0;
  let applying = 0;
  for (const vs of verdicts) {
    for (const v of vs) {
      if (v.status === "n/a") continue;
      applying++;
      if (v.status === "met") met++;
    }
  }
  return { met, applying };
}

/** One cell of the summary: ×lead-oracle / ×best-static, attainment. */
function cell(r: Row | undefined, lo?: Row, bs?: Row): string {
  if (r === undefined) return "not computed";
  return `${lo ? ratio(r.gpuHours, lo.gpuHours) : "—"} / ${bs ? ratio(r.gpuHours, bs.gpuHours) : "—"}, ${pct(r.sloAttainment)}`;
}

/**
 * Prints the section: every trace, then a summary table (Markdown, for the README); with
 * `warmupSeconds`, a second table measured after that warm-up.
 */
export function printScalingTraces(quick: boolean, warmupSeconds = 0): TraceOutcome[] {
  console.log(
    `\n# Scaling on hard traces (issue 9 §4)${quick ? " — quick: shorter traces, 1 tune seed" : ""}`,
  );
  console.log(
    `# report seeds ${REPORT_SEEDS.join(",")} (fixed before tuning; one per trace); tune seeds ${TUNE_SEEDS.join(",")}; pool examples/yolov8-pool.yaml with loadBalancing: roundRobin (routed round robin, planned with the capacity curve); SLO target = the pool's targetAttainment`,
  );
  const outcomes: TraceOutcome[] = [];
  for (const trace of HARD_TRACES) {
    const t0 = performance.now();
    const o = runHardTrace(trace, quick, warmupSeconds);
    printOutcome(o, (performance.now() - t0) / 1000);
    outcomes.push(o);
  }
  console.log(
    "\n## Summary (GPU-hours ×lead-oracle / ×best-static, share within the SLO; bounds: GPU-h, share, met)",
  );
  console.log(
    "| trace | hpa-gpu | keda-queue | fallback | tritonscale | tritonscale tuned | oracle | lead-oracle | best-static | targets missed |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const o of outcomes) {
    const get = (n: string) => o.rows.find((r) => r.name === n);
    const lo = get("lead-oracle");
    const bs = get("best-static");

    const bound = (r: Row | undefined) =>
      r === undefined
        ? "not computed"
        : `${r.gpuHours.toFixed(1)}, ${pct(r.sloAttainment)}, ${r.metSloTarget ? "met" : "**not a bound**"}${r.detail && r.name === "best-static" ? ` (${r.detail})` : ""}`;
    const missed = o.verdicts.filter((v) => v.status === "MISS").length;
    const total = o.verdicts.filter((v) => v.status !== "n/a").length;
    console.log(
      `| ${o.trace.name} | ${cell(get("hpa-gpu"), lo, bs)} | ${cell(get("keda-queue"), lo, bs)} | ${cell(get("fallback"), lo, bs)} | ${cell(get("tritonscale"), lo, bs)} | ${cell(o.tuned, lo, bs)} | ${bound(get("oracle"))} | ${bound(lo)} | ${bound(bs)} | ${missed} of ${total} |`,
    );
  }
  const cold = tally(outcomes.map((o) => o.verdicts));
  console.log(
    `\ntritonscale (shipped defaults) meets ${cold.met} of the ${cold.applying} targets that apply`,
  );
  const warmed = outcomes.filter((o) => o.warm !== undefined);
  if (warmed.length > 0) {
    console.log(
      `\n## After a warm-up of ${(warmupSeconds / 60).toFixed(0)} min (at most half the trace): tritonscale (shipped defaults) with its history filled; every row measured after the warm-up`,
    );
    console.log(
      "| trace | warm-up | hpa-gpu | keda-queue | tritonscale | lead-oracle | best-static | targets missed |",
    );
    console.log("|---|---|---|---|---|---|---|---|");
    for (const o of warmed) {
      const w = o.warm!;
      const get = (n: string) => w.rows.find((r) => r.name === n);
      const lo = get("lead-oracle");
      const bs = get("best-static");
      const missed = w.verdicts.filter((v) => v.status === "MISS").length;
      const total = w.verdicts.filter((v) => v.status !== "n/a").length;
      const bound = (r: Row | undefined) =>
        r === undefined
          ? "not computed"
          : `${r.gpuHours.toFixed(1)}, ${pct(r.sloAttainment)}, ${r.metSloTarget ? "met" : "**not a bound**"}`;
      console.log(
        `| ${o.trace.name} | ${(w.seconds / 60).toFixed(0)} min | ${cell(get("hpa-gpu"), lo, bs)} | ${cell(get("keda-queue"), lo, bs)} | ${cell(get("tritonscale"), lo, bs)} | ${bound(lo)} | ${bound(bs)} | ${missed} of ${total} |`,
      );
    }
    const t = tally(warmed.map((o) => o.warm!.verdicts));
    console.log(
      `\nafter the warm-up, tritonscale (shipped defaults) meets ${t.met} of the ${t.applying} targets that apply`,
    );
  }
  return outcomes;
}
