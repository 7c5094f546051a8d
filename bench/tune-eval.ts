/**
 * Development tool for changing tritonscale's shipped defaults (issue 9 §4): runs
 * tritonscale on every hard trace kind at TUNE seeds only (default 1 and 2), cold and after
 * a 1 h warm-up, and judges its targets as the benchmark does, against hpa-gpu, keda-queue,
 * lead-oracle and best-static on the same seed. Refuses a report seed.
 *
 *   node dist/bench/tune-eval.js [--seeds 1,2] [--only shift,steady] [--cache FILE]
 *
 * The baselines and bounds do not depend on tritonscale, so they are cached in FILE (JSON,
 * default /tmp/tritonscale-tune-eval.json) and only tritonscale is re-run per call.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { compareRows, type Row, seededTrace } from "./scaling-rows.js";
import {
  assertTuningSawNoReportSeed,
  HARD_TRACES,
  judge,
  lowShare,
  policyFor,
  profileFor,
  TUNE_SEEDS,
} from "./scaling-traces.js";

const arg = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const seeds = (arg("--seeds") ?? "1,2").split(",").map(Number);
for (const s of seeds) {
  if (!(TUNE_SEEDS as readonly number[]).includes(s)) {
    throw new Error(`seed ${s} is not a tune seed (${TUNE_SEEDS.join(", ")})`);
  }
}
assertTuningSawNoReportSeed(seeds);
const only = arg("--only")?.split(",");
const cacheFile = arg("--cache") ?? "/tmp/tritonscale-tune-eval.json";
const cache: Record<string, Row[]> = existsSync(cacheFile)
  ? JSON.parse(readFileSync(cacheFile, "utf8"))
  : {};
const WARMUP = 3600;

let met = 0;
let applying = 0;
const byMode = { cold: { met: 0, applying: 0 }, warm: { met: 0, applying: 0 } };
for (const trace of HARD_TRACES) {
  if (only !== undefined && !only.includes(trace.name)) continue;
  const spec = trace.spec(false);
  const policy = policyFor(trace);
  const profile = profileFor(trace);
  const sloTarget = policy.spec.slo.targetAttainment;
  for (const seed of seeds) {
    const source = seededTrace(spec, seed);
    const low = lowShare(source);
    for (const mode of ["cold", "warm"] as const) {
      const warmupSeconds = mode === "warm" ? Math.min(WARMUP, source.durationSeconds / 2) : 0;
      const key = `${spec} ${seed} ${warmupSeconds}`;
      let fixed = cache[key];
      if (fixed === undefined) {
        fixed = compareRows({
          policy,
          trace: source,
          profile,
          controls: ["hpa-gpu", "keda-queue", "lead-oracle", "best-static"],
          seed,
          sloTarget,
          bisectionSteps: 5,
          warmupSeconds,
        }).rows.map((r) => ({ ...r, usage: undefined }) as unknown as Row);
        cache[key] = fixed;
        writeFileSync(cacheFile, JSON.stringify(cache));
      }
      const ts = compareRows({
        policy,
        trace: source,
        profile,
        controls: ["tritonscale"],
        seed,
        sloTarget,
        warmupSeconds,
      }).rows[0]!;
      const rows = new Map<string, Row>();
      for (const r of fixed) rows.set(r.name, r);
      rows.set("tritonscale", ts);
      const verdicts = judge(rows, sloTarget, low, trace.learnable, trace.unpredictable);
      const m = verdicts.filter((v) => v.status === "met").length;
      const a = verdicts.filter((v) => v.status !== "n/a").length;
      met += m;
      applying += a;
      byMode[mode].met += m;
      byMode[mode].applying += a;
      const lo = rows.get("lead-oracle")!;
      const bs = rows.get("best-static")!;
      const hpa = rows.get("hpa-gpu")!;
      console.log(
        `${trace.name.padEnd(16)} s${seed} ${mode}  ts ${ts.gpuHours.toFixed(2).padStart(7)} GPU-h ${(ts.gpuHours / lo.gpuHours).toFixed(2)}×LO ${(ts.gpuHours / bs.gpuHours).toFixed(2)}×BS ${(ts.sloAttainment * 100).toFixed(2)}%  | LO ${lo.gpuHours.toFixed(1)} BS ${bs.gpuHours.toFixed(1)} ${(bs.sloAttainment * 100).toFixed(2)}% hpa ${hpa.gpuHours.toFixed(1)} ${(hpa.sloAttainment * 100).toFixed(2)}%  met ${m}/${a} ${verdicts
          .map((v) => (v.status === "MISS" ? "M" : v.status === "met" ? "+" : "."))
          .join("")}`,
      );
    }
  }
}
console.log(
  `targets met ${met} of ${applying} (cold ${byMode.cold.met}/${byMode.cold.applying}, warm ${byMode.warm.met}/${byMode.warm.applying}); seeds ${seeds.join(",")}`,
);
