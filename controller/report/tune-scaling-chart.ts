/**
 * The chart of `tritonscale tune --scaling --chart`: every knob set the search ran, as its
 * cost against its SLO attainment on the tuning part of the trace, the pool as it was and
 * the tuned policy ringed and named, the attainment target a red dashed line. Pure:
 * the tuner's result in, ECharts option, SVG and HTML text out.
 */
import type { KnobChange, ScalingScore, TuneScalingResult } from "../simulate/tune-scaling.js";
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
import { minOf } from "./downsample.js";
import { attainmentAxis } from "./simulation-chart.js";

/** What the chart shows. */
export interface TuneScalingChartInput {
  readonly title: string;
  readonly subtitle?: string;
  readonly result: Pick<
    TuneScalingResult,
    "tried" | "tuned" | "validated" | "baseline" | "changes" | "sloTarget"
  >;
  readonly sloMs: number;
  /** ISO 4217 code of the prices. */
  readonly currency: string;
}

/** Size of the chart. */
export const TUNE_SCALING_CHART_SIZE: ChartSize = { width: 1000, height: 600 };

const { text: TEXT, muted: MUTED, sloRed: SLO_RED, gridLine: GRID_LINE } = CHART_COLOURS;
const MET = "#4e79a7";
const MISSED = "#bab0ac";

function point(s: ScalingScore): [number, number] {
  return [round(s.cost, 4), round(s.attainment * 100, 4)];
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Knob changes in one line: `scaleDown.stabilizationWindow 5m → 2m, ...` (or `as is`). */
export function describeChanges(changes: readonly KnobChange[]): string {
  if (changes.length === 0) return "the pool's own values";
  return changes
    .map((c) => `${c.path.replace(/^spec\.scaling\./, "")} ${c.from} → ${c.to}`)
    .join(", ");
}

/** The scatter: x cost on the tuning part, y share of requests within the SLO there. */
export function tuneScalingOption(
  input: TuneScalingChartInput,
  options: { readonly titled?: boolean } = {},
): ChartOption {
  const r = input.result;
  const met = r.tried.filter((t) => t.score.met);
  const missed = r.tried.filter((t) => !t.score.met);
  const attainments = r.tried.map((t) => t.score.attainment);
  const { floor, step } = attainmentAxis(minOf(r.sloTarget, attainments));
  const ring = (
    name: string,
    colour: string,
    at: [number, number],
    label: string,
    where: string,
  ) => ({
    type: "scatter",
    name,
    symbol: "circle",
    symbolSize: 24,
    z: 10,
    itemStyle: { color: "rgba(0,0,0,0)", borderColor: colour, borderWidth: 2.5 },
    label: {
      show: true,
      position: where,
      distance: 10,
      color: TEXT,
      fontWeight: "bold",
      backgroundColor: "rgba(255,255,255,0.85)",
      padding: [2, 4],
      formatter: label,
    },
    data: [at],
  });
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  return {
    ...titledChart(
      input.title,
      `${r.tried.length} knob sets run on the tuning part; target ${pct(r.sloTarget)} of requests within ${input.sloMs} ms on every tuning trace (red dashed line)`,
      options.titled !== false,
    ),
    legend: {
      orient: "vertical",
      right: 10,
      top: 150,
      data: ["met the target", "missed it"],
      textStyle: { color: TEXT },
    },
    grid: { left: 80, right: 150, top: 90, bottom: 60 },
    xAxis: {
      type: "value",
      scale: true,
      name: `cost on the tuning part (${input.currency})`,
      nameLocation: "middle",
      nameGap: 30,
      nameTextStyle: { color: MUTED },
      axisLabel: { color: MUTED },
      splitLine: { lineStyle: { color: GRID_LINE } },
    },
    yAxis: {
      type: "value",
      min: floor,
      max: 100,
      interval: step,
      name: `requests within ${input.sloMs} ms (%)${floor > 0 ? `, axis from ${floor}%` : ""}`,
      nameLocation: "middle",
      nameGap: 52,
      nameTextStyle: { color: MUTED },
      axisLabel: { color: MUTED, formatter: "{value}%" },
      splitLine: { lineStyle: { color: GRID_LINE } },
    },
    series: [
      {
        type: "scatter",
        name: "met the target",
        symbolSize: 9,
        itemStyle: { color: MET, opacity: 0.8 },
        data: met.map((t) => point(t.score)),
      },
      {
        type: "scatter",
        name: "missed it",
        symbolSize: 9,
        itemStyle: { color: MISSED, opacity: 0.9 },
        data: missed.map((t) => point(t.score)),
        markLine: {
          silent: true,
          symbol: "none",
          lineStyle: { color: SLO_RED, type: "dashed", width: 1.5 },
          label: { formatter: `target ${pct(r.sloTarget)}`, color: SLO_RED, position: "end" },
          data: [{ yAxis: r.sloTarget * 100 }],
        },
      },
      ring(
        "pool as is",
        "#1f2328",
        point(r.baseline.tuned),
        `pool as is: ${r.baseline.tuned.cost.toFixed(2)} ${input.currency}, ${pct(r.baseline.tuned.attainment)}`,
        "top",
      ),
      ring(
        "tuned",
        SLO_RED,
        point(r.tuned),
        `tuned: ${r.tuned.cost.toFixed(2)} ${input.currency}, ${pct(r.tuned.attainment)}`,
        "bottom",
      ),
    ],
  } as ChartOption;
}

/**
 * The chart file: `svg`, the chart alone; `html`, a page with the chart, the before/after
 * table of both parts (the held-back part included) and the knobs that moved.
 */
export function renderTuneScalingChart(input: TuneScalingChartInput, format: ChartFormat): string {
  const svg = renderChartSvg(
    tuneScalingOption(input, { titled: format === "svg" }),
    TUNE_SCALING_CHART_SIZE,
  );
  if (format === "svg") return svg;
  const r = input.result;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const head = [
    "part",
    "policy",
    "GPU-hours",
    `cost (${input.currency})`,
    `within ${input.sloMs} ms`,
    "target",
  ];
  const rows: [string, string, ScalingScore][] = [
    ["tuned on", "pool as is", r.baseline.tuned],
    ["tuned on", "tuned", r.tuned],
    ["held back", "pool as is", r.baseline.validated],
    ["held back", "tuned", r.validated],
  ];
  const body = rows.map(([part, policy, s]) => {
    const cells = [
      part,
      policy,
      s.gpuHours.toFixed(2),
      s.cost.toFixed(2),
      pct(s.attainment),
      s.met ? "met" : "missed",
    ];
    return `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`;
  });
  const table = `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${body.join("")}</tbody></table>`;
  return htmlPage(
    input.title,
    [
      {
        heading: "Cost against SLO attainment of every knob set tried",
        caption: "On the tuning part of the trace only: the held-back part is in the table below.",
        svg,
      },
      {
        heading: "Before and after",
        html: table,
        caption: `changes: ${describeChanges(r.changes)}`,
      },
    ],
    input.subtitle,
  );
}
