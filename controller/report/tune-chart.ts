/**
 * The chart of `tritonscale tune --chart`: every batching configuration the tuner tried, as
 * throughput per GPU against the p99 latency at that throughput, one colour per
 * max_batch_size and one marker per instance count, the chosen configuration ringed and
 * named, the SLO a vertical red dashed line. Pure: candidates in, ECharts option, SVG and
 * HTML text out.
 */
import type { TuneCandidate } from "../simulate/tune.js";
import {
  CHART_COLOURS,
  type ChartOption,
  type ChartSize,
  escapeHtml,
  htmlPage,
  renderChartSvg,
  titledChart,
} from "./chart.js";
import type { ChartFormat } from "./chart-file.js";
import { maxOf, minOf } from "./downsample.js";
import { ROW_COLOURS } from "./simulation-chart.js";

/** What the tune chart shows. */
export interface TuneChartInput {
  /** The page's title. */
  readonly title: string;
  readonly subtitle?: string;
  /** Every configuration tried; the chosen one is `candidates[chosen]`. */
  readonly candidates: readonly TuneCandidate[];
  /** Index of the recommended configuration in `candidates`. @default 0 */
  readonly chosen?: number;
  readonly sloMs: number;
  /** GPUs one replica holds (`spec.capacity.gpu.count`; 1 without a pool). */
  readonly gpusPerReplica: number;
}

/** Size of the tune chart. */
export const TUNE_CHART_SIZE: ChartSize = { width: 1000, height: 600 };

const { text: TEXT, muted: MUTED, sloRed: SLO_RED, gridLine: GRID_LINE } = CHART_COLOURS;

/** Markers by instance count (1, 2, 3, ...). */
const INSTANCE_SYMBOLS = ["circle", "triangle", "diamond", "rect"] as const;

/** A configuration in one line: `max batch 8, preferred 4,8, delay 2000 µs, 1 instance`. */
export function describeCandidate(c: TuneCandidate): string {
  const preferred = c.preferredBatchSizes.length > 0 ? c.preferredBatchSizes.join(",") : "none";
  return `max batch ${c.maxBatchSize}, preferred ${preferred}, delay ${c.maxQueueDelayMicroseconds} µs, ${c.instances} instance${c.instances === 1 ? "" : "s"}`;
}

/** Requests per second per GPU of a configuration. */
function perGpu(c: TuneCandidate, gpus: number): number {
  return c.capacity.requestsPerSecond / gpus;
}

/**
 * The scatter: x the p99 latency (ms) at the throughput one replica sustains within the SLO,
 * y that throughput per GPU; configurations that miss the SLO even at light load sit at 0.
 */
export function tuneOption(
  input: TuneChartInput,
  options: { readonly titled?: boolean } = {},
): ChartOption {
  const gpus = input.gpusPerReplica > 0 ? input.gpusPerReplica : 1;
  const chosen = input.candidates[input.chosen ?? 0];
  const sizes = [...new Set(input.candidates.map((c) => c.maxBatchSize))].sort((a, b) => a - b);
  const instanceCounts = [...new Set(input.candidates.map((c) => c.instances))].sort(
    (a, b) => a - b,
  );
  const symbolOf = (instances: number) =>
    INSTANCE_SYMBOLS[Math.min(instanceCounts.indexOf(instances), INSTANCE_SYMBOLS.length - 1)]!;
  const series: unknown[] = sizes.map((size, i) => ({
    type: "scatter",
    name: `max batch ${size}`,
    symbolSize: 9,
    itemStyle: {
      color: ROW_COLOURS[i % ROW_COLOURS.length],
      opacity: 0.8,
      borderColor: "#ffffff",
      borderWidth: 0.5,
    },
    data: input.candidates
      .filter((c) => c.maxBatchSize === size)
      .map((c) => ({
        value: [round(c.capacity.p99Ms, 3), round(perGpu(c, gpus), 3)],
        symbol: symbolOf(c.instances),
      })),
  }));
  if (chosen) {
    series.push({
      type: "scatter",
      name: "chosen",
      symbol: "circle",
      symbolSize: 26,
      z: 10,
      itemStyle: { color: "rgba(0,0,0,0)", borderColor: SLO_RED, borderWidth: 2.5 },
      label: {
        show: true,
        position: "left",
        distance: 10,
        color: TEXT,
        fontWeight: "bold",
        backgroundColor: "rgba(255,255,255,0.85)",
        padding: [2, 4],
        formatter: `chosen: ${describeCandidate(chosen)}\n${perGpu(chosen, gpus).toFixed(1)} req/s per GPU at p99 ${chosen.capacity.p99Ms.toFixed(1)} ms`,
      },
      data: [[round(chosen.capacity.p99Ms, 3), round(perGpu(chosen, gpus), 3)]],
    });
  }
  series.push({
    type: "scatter",
    name: "SLO",
    data: [],
    markLine: {
      silent: true,
      symbol: "none",
      lineStyle: { color: SLO_RED, type: "dashed", width: 1.5 },
      label: { formatter: `SLO ${input.sloMs} ms`, color: SLO_RED, position: "end" },
      data: [{ xAxis: input.sloMs }],
    },
  });
  // The tuner pushes each configuration's load up to the SLO, so most sit just left of the
  // line: the x axis spans the points (and the line), not 0 to the SLO, to tell them apart.
  const latencies = input.candidates.map((c) => c.capacity.p99Ms);
  const highest = maxOf(input.sloMs, latencies);
  const lowest = minOf(input.sloMs, latencies);
  const pad = Math.max(0.5, (highest - lowest) * 0.08);
  const xMin = Math.max(0, Math.floor(lowest - pad));
  const xMax = Math.ceil(highest + pad);
  const markers = instanceCounts
    .map((n) => `${symbolOf(n)} ${n} instance${n === 1 ? "" : "s"}`)
    .join(", ");
  return {
    ...titledChart(
      input.title,
      `${input.candidates.length} configurations; colour: max_batch_size; marker: ${markers}; per GPU = per replica / ${gpus} GPU${gpus === 1 ? "" : "s"}`,
      options.titled !== false,
    ),
    legend: {
      orient: "vertical",
      right: 10,
      top: 80,
      data: sizes.map((s) => `max batch ${s}`),
      textStyle: { color: TEXT },
    },
    grid: { left: 70, right: 140, top: 80, bottom: 60 },
    xAxis: {
      type: "value",
      min: xMin,
      max: xMax,
      name: `p99 latency at that throughput (ms${xMin > 0 ? `; axis from ${xMin} ms` : ""})`,
      nameLocation: "middle",
      nameGap: 30,
      nameTextStyle: { color: MUTED },
      axisLabel: { color: MUTED },
      splitLine: { lineStyle: { color: GRID_LINE } },
    },
    yAxis: {
      type: "value",
      min: 0,
      name: "throughput within the SLO (requests/s per GPU)",
      nameLocation: "middle",
      nameGap: 48,
      nameTextStyle: { color: MUTED },
      axisLabel: { color: MUTED },
      splitLine: { lineStyle: { color: GRID_LINE } },
    },
    series,
  } as ChartOption;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The tune chart file: `svg`, the chart alone; `html`, a page with the chart and the top ten. */
export function renderTuneChart(input: TuneChartInput, format: ChartFormat): string {
  const svg = renderChartSvg(tuneOption(input, { titled: format === "svg" }), TUNE_CHART_SIZE);
  if (format === "svg") return svg;
  const gpus = input.gpusPerReplica > 0 ? input.gpusPerReplica : 1;
  const head = ["max_batch", "preferred", "delay µs", "instances", "req/s per GPU", "p99 ms"];
  const rows = input.candidates.slice(0, 10).map((c, i) => {
    const cells = [
      String(c.maxBatchSize),
      c.preferredBatchSizes.join(",") || "-",
      String(c.maxQueueDelayMicroseconds),
      String(c.instances),
      perGpu(c, gpus).toFixed(1),
      c.capacity.p99Ms.toFixed(1),
    ];
    const tag = i === (input.chosen ?? 0) ? ' style="font-weight:bold"' : "";
    return `<tr${tag}>${cells.map((x) => `<td>${escapeHtml(x)}</td>`).join("")}</tr>`;
  });
  const table = `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
  return htmlPage(
    input.title,
    [
      {
        heading: "Throughput per GPU against p99",
        caption:
          "Each configuration at the most requests per second one replica sustains with p99 within the SLO (the batcher model, Poisson arrivals).",
        svg,
      },
      {
        heading: "Best ten (chosen in bold: the simplest within 1% of the most throughput)",
        html: table,
      },
    ],
    input.subtitle,
  );
}
