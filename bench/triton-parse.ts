/**
 * Benchmark section: Triton `/metrics` parse throughput, MB/s of CPU time (one core), of our
 * parser (controller/triton/prom-text.ts) against `parse-prometheus-text-format` (the npm
 * parser, a port of client_python's) on the same text in the same run; target ≥ 5×.
 *
 * The text is what a busy Triton serves: the Triton stand-in's `/metrics` (every per-model
 * family, HELP/TYPE, four failure reasons) for 120 model versions on 8 GPUs, plus the
 * histogram and summary families of Triton's reference sample per model, about 0.4 MB.
 * Rows: what the scrape source runs (parse + pick Triton's series into model samples), the
 * parser alone with a no-op handler, and the parser building an object per sample (the
 * baseline's kind of output).
 */
import { createRequire } from "node:module";
import { parsePromSamples, parsePromText } from "../controller/triton/prom-text.js";
import { readTritonMetrics } from "../controller/triton/triton-metrics.js";
import { TritonStandin } from "../test/support/triton-standin.js";

const require = createRequire(import.meta.url);
const baseline = require("parse-prometheus-text-format") as (text: string) => unknown[];

/** A large, realistic Triton `/metrics` text. */
export function tritonMetricsText(models = 40, versions = 3, gpus = 8): string {
  const list = [];
  for (let m = 0; m < models; m++)
    for (let v = 1; v <= versions; v++) list.push({ name: `yolov8-${m}`, version: String(v) });
  // The stand-in keys models by name; give each version its own name-version stand-in text.
  const standin = new TritonStandin({
    models: list.map((x) => ({ name: `${x.name}-v${x.version}` })),
    gpus,
  });
  list.forEach((x, i) => {
    standin.setArrivalRate(`${x.name}-v${x.version}`, 50 + i);
  });
  standin.advance(3600);
  standin.fail(`${list[0]!.name}-v1`, "BACKEND", 3);
  const base = standin
    .metricsText()
    .replace(/model="([^"]+)-v(\d+)",version="1"/g, 'model="$1",version="$2"');
  const extra: string[] = [
    "# HELP nv_inference_first_response_histogram_ms Duration from request to first response in milliseconds",
    "# TYPE nv_inference_first_response_histogram_ms histogram",
  ];
  for (const x of list) {
    const l = `model="${x.name}",version="${x.version}"`;
    let cum = 0;
    for (const le of ["100", "500", "2000", "5000", "+Inf"]) {
      cum += 7;
      extra.push(`nv_inference_first_response_histogram_ms_bucket{${l},le="${le}"} ${cum}`);
    }
    extra.push(
      `nv_inference_first_response_histogram_ms_sum{${l}} 10771`,
      `nv_inference_first_response_histogram_ms_count{${l}} ${cum}`,
    );
  }
  extra.push(
    "# HELP nv_inference_queue_summary_us Summary of inference queuing duration in microseconds (includes cached requests)",
    "# TYPE nv_inference_queue_summary_us summary",
  );
  for (const x of list) {
    const l = `model="${x.name}",version="${x.version}"`;
    for (const q of ["0.5", "0.9", "0.95", "0.99", "0.999"])
      extra.push(
        `nv_inference_queue_summary_us{${l},quantile="${q}"} ${(Number(q) * 137.5).toFixed(3)}`,
      );
    extra.push(
      `nv_inference_queue_summary_us_sum{${l}} 11110`,
      `nv_inference_queue_summary_us_count{${l}} 161`,
    );
  }
  // Flat, as an HTTP body decoded to a string is (a concatenation would be a rope).
  return Buffer.from(`${base}${extra.join("\n")}\n`, "utf8").toString("utf8");
}

/**
 * CPU milliseconds (user + system) per run of each of `fs`: the least over `rounds` rounds,
 * each round timing `reps` runs of every function in turn, so that all of them see the
 * same load on a shared machine. CPU time, not wall-clock, so that other processes do not
 * count. No forced GC between rounds: a forced full collection makes the next round regrow
 * the young generation, which charges a scraper that runs every few seconds for a cost it
 * does not have (it doubled our time and not the baseline's); steady state is the honest
 * measure.
 */
function cpuMs(fs: readonly (() => void)[], reps: number, rounds: number): number[] {
  const best = fs.map(() => Number.POSITIVE_INFINITY);
  for (let r = 0; r < rounds; r++) {
    fs.forEach((f, k) => {
      const t0 = process.cpuUsage();
      for (let i = 0; i < reps; i++) f();
      const t = process.cpuUsage(t0);
      best[k] = Math.min(best[k]!, (t.user + t.system) / 1000 / reps);
    });
  }
  return best;
}

/** Prints the section. */
export function printTritonParse(quick: boolean): void {
  const text = tritonMetricsText();
  const mb = Buffer.byteLength(text) / 2 ** 20;
  const lines = text.split("\n").length;
  // Same input, same answer: the baseline must parse it too.
  const check = readTritonMetrics(text);
  if (check.problem) throw new Error(`bench text: ${check.problem.message}`);
  const families = baseline(text).length;

  const reps = quick ? 5 : 20;
  const rounds = quick ? 3 : 7;
  let sink = 0;
  const rows: [string, () => void][] = [
    [
      "parse-prometheus-text-format (baseline)",
      () => {
        sink += baseline(text).length;
      },
    ],
    [
      "ours: scrape source (parse + Triton samples)",
      () => {
        sink += readTritonMetrics(text).metrics!.models.length;
      },
    ],
    ["ours: parser, no-op handler", () => void parsePromText(text, { sample: () => void sink++ })],
    [
      "ours: parser, an object per sample",
      () => {
        sink += parsePromSamples(text).samples.length;
      },
    ],
  ];
  for (const [, f] of rows) for (let i = 0; i < 5; i++) f(); // warm up (JIT)
  console.log(
    `\n# Triton /metrics parse throughput: ${(mb * 1024).toFixed(0)} KB, ${lines.toLocaleString("en")} lines, ${families} families (MB/s of CPU time, one core; target ≥ 5× the baseline)`,
  );
  console.log("parser                                          ms/parse     MB/s   × baseline");
  const times = cpuMs(
    rows.map(([, f]) => f),
    reps,
    rounds,
  );
  const baseMs = times[0]!;
  const ratios: number[] = [];
  for (const [k, [label]] of rows.entries()) {
    const ms = times[k]!;
    const ratio = baseMs / ms;
    if (label.startsWith("ours: scrape")) ratios.push(ratio);
    console.log(
      `${label.padEnd(46)} ${ms.toFixed(2).padStart(9)} ${(mb / (ms / 1000)).toFixed(1).padStart(8)} ${ratio.toFixed(2).padStart(11)}`,
    );
  }
  const r = ratios[0] ?? 0;
  console.log(
    `scrape-source parse vs baseline: ${r.toFixed(1)}× (target ≥ 5×): ${r >= 5 ? "met" : "MISS"}`,
  );
  if (sink === -1) console.log(sink);
}
