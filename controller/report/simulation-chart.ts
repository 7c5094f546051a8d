/**
 * The charts of `tritonscale simulate --chart`: a timeline of one simulation per row
 * (arrivals, ready replicas, p99 against the SLO, cost so far) and a bar chart of each row's
 * GPU-hours and SLO attainment. Pure: timeline rows and row figures in, ECharts options,
 * SVG and HTML text out.
 *
 * The timeline is collected while the simulation runs ({@link TimelineCollector}) and
 * downsampled on the fly, keeping each bucket's lowest and highest value, so a week of
 * minutes (10,080 rows per run) draws at most {@link DEFAULT_MAX_POINTS} points per series
 * with every latency spike still at its height.
 */
import { formatDuration } from "../policy/index.js";
import type { TimelineRow } from "../simulate/engine.js";
import {
  CHART_COLOURS,
  type ChartOption,
  type ChartSize,
  escapeHtml,
  htmlPage,
  type PageSection,
  renderChartSvg,
} from "./chart.js";
import { type ChartFormat, stackSvgs } from "./chart-file.js";
import {
  bucketWidthFor,
  DEFAULT_MAX_POINTS,
  MinMaxSeries,
  maxOf,
  minOf,
  type Point,
} from "./downsample.js";

/** Line colours, one per row in order (Tableau 10: distinct, and readable on white). */
export const ROW_COLOURS = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#e15759",
  "#b07aa1",
  "#76b7b2",
  "#9c755f",
  "#edc948",
  "#ff9da7",
  "#bab0ac",
] as const;

/** The downsampled series of one row's run. */
export interface TimelineSeries {
  readonly name: string;
  /** Arrivals per second, mean over each interval. */
  readonly arrivals: readonly Point[];
  /** Ready replicas (Spot and on-demand) at the end of each interval. */
  readonly replicas: readonly Point[];
  /** p99 latency of the requests finished in each interval, ms (null: none finished). */
  readonly p99Ms: readonly Point[];
  /** Cost since the start of the run, in the pool's currency. */
  readonly cost: readonly Point[];
  /** Timeline rows received (before downsampling). */
  readonly rows: number;
}

/**
 * Collects timeline rows as the simulation writes them (`compare`'s `timeline.write`),
 * one set of series per row name, each downsampled as it comes (x: seconds from the start).
 */
export class TimelineCollector {
  private readonly byName = new Map<
    string,
    { arrivals: MinMaxSeries; replicas: MinMaxSeries; p99Ms: MinMaxSeries; cost: MinMaxSeries }
  >();
  private readonly width: number;

  /**
   * @param durationSeconds the trace's length (rows run from `intervalSeconds` to it).
   * @param intervalSeconds seconds between timeline rows.
   * @param maxPoints most points per series. @default 2000
   */
  constructor(
    durationSeconds: number,
    intervalSeconds: number,
    maxPoints: number = DEFAULT_MAX_POINTS,
  ) {
    const expected = Math.ceil(durationSeconds / intervalSeconds);
    this.width = bucketWidthFor(0, durationSeconds, expected, maxPoints);
  }

  /** Adds one timeline row of the run `name`. */
  add(name: string, row: TimelineRow): void {
    let s = this.byName.get(name);
    if (!s) {
      s = {
        arrivals: new MinMaxSeries(0, this.width),
        replicas: new MinMaxSeries(0, this.width),
        p99Ms: new MinMaxSeries(0, this.width),
        cost: new MinMaxSeries(0, this.width),
      };
      this.byName.set(name, s);
    }
    s.arrivals.push(row.t, row.arrivalsPerSecond);
    s.replicas.push(row.t, row.readySpot + row.readyOnDemand);
    s.p99Ms.push(row.t, row.served > 0 && row.p99Ms > 0 ? row.p99Ms : null);
    s.cost.push(row.t, row.cost);
  }

  /** The series of run `name`, or undefined when it wrote no row. */
  series(name: string): TimelineSeries | undefined {
    const s = this.byName.get(name);
    if (!s) return undefined;
    return {
      name,
      arrivals: s.arrivals.points(),
      replicas: s.replicas.points(),
      p99Ms: s.p99Ms.points(),
      cost: s.cost.points(),
      rows: s.arrivals.pushed,
    };
  }
}

/** What a row is, for how it is drawn: bounds dashed and paler, and named so. */
export type RowKind = "scaler" | "static" | "bound";

/** One row of the comparison, as the charts need it. */
export interface ChartRow {
  readonly name: string;
  readonly kind: RowKind;
  readonly gpuHours: number;
  readonly cost: number;
  readonly sloAttainment: number;
  readonly metSloTarget: boolean;
}

/** Everything the simulation charts show. */
export interface SimulationChartInput {
  /** The page's title, e.g. `vision/yolo-detect: synthetic:diurnal:...`. */
  readonly title: string;
  /** A line under it (trace, profile, seed). */
  readonly subtitle?: string;
  readonly sloMs: number;
  /** Share of requests within the SLO a row must reach. */
  readonly sloTarget: number;
  /** ISO 4217 code of the prices. */
  readonly currency: string;
  /** Unix seconds of the trace's start on the simulated clock. */
  readonly startEpochSeconds: number;
  /** Seconds replayed before measuring (0: none). */
  readonly warmupSeconds: number;
  /** The pool's `spec.scaling.maxReplicas`, named on the replicas panel. */
  readonly maxReplicas?: number;
  /** Simulated seconds between timeline rows (the panels say "per minute" for 60). */
  readonly intervalSeconds: number;
  /** The rows, in the table's order. */
  readonly rows: readonly ChartRow[];
  /** Each row's timeline (rows without one are left out of the timeline). */
  readonly timeline: (name: string) => TimelineSeries | undefined;
}

/** How a row is called in legends and axes. */
export function rowLabel(r: ChartRow): string {
  if (r.kind !== "bound") return r.name;
  return r.metSloTarget ? `${r.name} (bound)` : `${r.name} (not a bound)`;
}

const { text: TEXT, muted: MUTED, sloRed: SLO_RED, gridLine: GRID_LINE } = CHART_COLOURS;

/** `#rrggbb` mixed half way to white. */
function paler(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const mix = (c: number) => Math.round(c + (255 - c) * 0.5);
  const rgb = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map(mix);
  return `#${rgb.map((c) => c.toString(16).padStart(2, "0")).join("")}`;
}

/** Percent with as many decimals as needed to tell 99.5% from 99.95%, at most 3. */
function pct(share: number, digits = 2): string {
  return `${(share * 100).toFixed(digits)}%`;
}

function toMs(startEpochSeconds: number, points: readonly Point[]): [number, number | null][] {
  return points.map(([t, y]) => [(startEpochSeconds + t) * 1000, y]);
}

/** Size of the timeline chart. */
export const TIMELINE_SIZE: ChartSize = { width: 1100, height: 980 };

/**
 * The timeline: four panels over simulated time, one line per row (bounds dashed) — arrivals
 * (the same trace for every row, drawn once), ready replicas, p99 latency per interval on a
 * log scale with the SLO as a red dashed line, and cost since the start.
 */
export function timelineOption(
  input: SimulationChartInput,
  options: { readonly titled?: boolean } = {},
): ChartOption {
  const drawn = input.rows.flatMap((r, i) => {
    const s = input.timeline(r.name);
    return s ? [{ row: r, series: s, colour: ROW_COLOURS[i % ROW_COLOURS.length]! }] : [];
  });
  const first = drawn[0]?.series;
  const per = input.intervalSeconds === 60 ? "minute" : `${formatDuration(input.intervalSeconds)}`;
  const panels = [
    { title: `Arrivals (requests/s, mean per ${per})` },
    {
      title:
        input.maxReplicas === undefined
          ? "Ready replicas (Spot and on-demand)"
          : `Ready replicas (Spot and on-demand; maxReplicas ${input.maxReplicas})`,
    },
    {
      title: `p99 latency per ${per} (ms, log scale); SLO ${input.sloMs} ms dashed red`,
    },
    { title: `Cost since the start of the run (${input.currency})` },
  ];
  const top0 = 92;
  const panelHeight = 165;
  const gap = 58;
  const left = 70;
  const right = 200;
  const tops = panels.map((_, i) => top0 + i * (panelHeight + gap));
  const start = input.startEpochSeconds * 1000;
  const warmupArea =
    input.warmupSeconds > 0
      ? {
          silent: true,
          itemStyle: { color: "rgba(120,120,120,0.10)" },
          label: { show: false },
          data: [[{ xAxis: start }, { xAxis: start + input.warmupSeconds * 1000 }]],
        }
      : undefined;
  const line = (
    name: string,
    colour: string,
    dashed: boolean,
    grid: number,
    data: [number, number | null][],
  ) => ({
    type: "line" as const,
    name,
    xAxisIndex: grid,
    yAxisIndex: grid,
    data,
    symbol: "none",
    connectNulls: false,
    lineStyle: {
      width: dashed ? 1.5 : 1.6,
      type: dashed ? ("dashed" as const) : ("solid" as const),
    },
    itemStyle: { color: colour },
  });
  const series: NonNullable<ChartOption["series"]> & unknown[] = [];
  series.push({
    type: "line",
    name: "arrivals",
    xAxisIndex: 0,
    yAxisIndex: 0,
    data: first ? toMs(input.startEpochSeconds, first.arrivals) : [],
    symbol: "none",
    lineStyle: { width: 1.2, color: "#57606a" },
    itemStyle: { color: "#57606a" },
    areaStyle: { color: "rgba(87,96,106,0.18)" },
    ...(warmupArea ? { markArea: warmupArea } : {}),
  });
  for (const d of drawn) {
    const name = rowLabel(d.row);
    const dashed = d.row.kind === "bound";
    series.push(
      line(name, d.colour, dashed, 1, toMs(input.startEpochSeconds, d.series.replicas)),
      line(name, d.colour, dashed, 2, toMs(input.startEpochSeconds, d.series.p99Ms)),
      line(name, d.colour, dashed, 3, toMs(input.startEpochSeconds, d.series.cost)),
    );
  }
  // The SLO line on the latency panel, on a series of its own so it shows with no row drawn.
  series.push({
    type: "line",
    name: "SLO",
    xAxisIndex: 2,
    yAxisIndex: 2,
    data: [],
    markLine: {
      silent: true,
      symbol: "none",
      lineStyle: { color: SLO_RED, type: "dashed", width: 1.5 },
      label: { formatter: `SLO ${input.sloMs} ms`, color: SLO_RED, position: "insideEndTop" },
      data: [{ yAxis: input.sloMs }],
    },
  });
  const latencies = drawn.flatMap((d) =>
    d.series.p99Ms.flatMap(([, y]) => (y === null ? [] : [y])),
  );
  const lowest = minOf(input.sloMs, latencies);
  const highest = maxOf(input.sloMs, latencies);
  const xAxis = tops.map((_, i) => ({
    type: "time" as const,
    gridIndex: i,
    min: start,
    max:
      start +
      maxOf(
        1,
        drawn.map((d) => d.series.arrivals.at(-1)?.[0] ?? 0),
      ) *
        1000,
    axisLabel: {
      show: true,
      color: MUTED,
      hideOverlap: true,
      formatter: {
        year: "{yyyy}",
        month: "{MMM} {yyyy}",
        day: "{ee} {d} {MMM}",
        hour: "{HH}:{mm}",
        minute: "{HH}:{mm}",
        second: "{HH}:{mm}:{ss}",
      },
    },
    axisLine: { lineStyle: { color: "#8c959f" } },
    splitLine: { show: true, lineStyle: { color: GRID_LINE } },
    ...(i === panels.length - 1
      ? {
          name: "simulated time (UTC)",
          nameLocation: "middle" as const,
          nameGap: 30,
          nameTextStyle: { color: MUTED },
        }
      : {}),
  }));
  const yAxis = tops.map((_, i) => ({
    gridIndex: i,
    ...(i === 2
      ? {
          type: "log" as const,
          logBase: 10,
          min: 10 ** Math.floor(Math.log10(Math.max(lowest, 0.1))),
          max: 10 ** Math.ceil(Math.log10(highest * 1.05)),
        }
      : { type: "value" as const, min: 0 }),
    ...(i === 1 ? { minInterval: 1 } : {}),
    axisLabel: { color: MUTED },
    splitLine: { lineStyle: { color: GRID_LINE } },
  }));
  return {
    useUTC: true,
    textStyle: { color: TEXT, fontFamily: "system-ui, sans-serif" },
    title: [
      {
        // On a page the heading above already names it; a lone SVG carries its own title.
        text: options.titled === false ? "" : input.title,
        left: left - 10,
        top: 8,
        textStyle: { fontSize: 17, fontWeight: "bold", color: TEXT },
        subtext:
          `one line per row${drawn.some((d) => d.row.kind === "bound") ? "; bounds dashed" : ""}` +
          (input.warmupSeconds > 0 ? "; the shaded start is warmup, not measured" : "") +
          (first && first.rows > first.arrivals.length
            ? `; ${first.rows.toLocaleString("en-US")} intervals per row drawn as ${first.arrivals.length.toLocaleString("en-US")} points (lowest and highest of each stretch kept)`
            : ""),
        subtextStyle: { color: MUTED, fontSize: 12 },
      },
      ...panels.map((p, i) => ({
        text: p.title,
        left: left - 10,
        top: tops[i]! - 24,
        textStyle: { fontSize: 13, fontWeight: "normal" as const, color: TEXT },
      })),
    ],
    legend: {
      type: "plain",
      orient: "vertical",
      right: 10,
      top: tops[1]! - 4,
      data: drawn.map((d) => rowLabel(d.row)),
      textStyle: { color: TEXT, fontSize: 12 },
      icon: "rect",
      itemWidth: 22,
      itemHeight: 3,
    },
    grid: tops.map((top) => ({ left, right, top, height: panelHeight })),
    xAxis,
    yAxis,
    series,
  } as ChartOption;
}

/** Size of the per-row bar chart for `rows` rows. */
export function rowsChartSize(rows: number): ChartSize {
  return { width: 1100, height: 120 + Math.max(rows, 1) * 34 };
}

/**
 * GPU-hours and SLO attainment per row, as horizontal bars side by side (rows top to
 * bottom in the table's order, coloured as in the timeline; bounds paler and named so;
 * the attainment target a red dashed line, a row that missed it outlined red).
 */
export function rowsOption(input: SimulationChartInput): ChartOption {
  const rows = input.rows;
  const labels = rows.map(rowLabel);
  const colour = (i: number) => ROW_COLOURS[i % ROW_COLOURS.length]!;
  const { floor, step } = attainmentAxis(
    minOf(
      input.sloTarget,
      rows.map((r) => r.sloAttainment),
    ),
  );
  const mostHours = maxOf(
    0,
    rows.map((r) => r.gpuHours),
  );
  const category = {
    type: "category" as const,
    data: labels,
    inverse: true,
    axisTick: { show: false },
    axisLabel: { color: TEXT },
  };
  // Bounds paler: the colour at half strength (not `opacity`, which would pale the label too).
  const fill = (i: number, r: ChartRow) => (r.kind === "bound" ? paler(colour(i)) : colour(i));
  const bar = (value: number, i: number, r: ChartRow) => ({
    value,
    itemStyle: { color: fill(i, r) },
  });
  return {
    textStyle: { color: TEXT, fontFamily: "system-ui, sans-serif" },
    title: [
      {
        text: "GPU-hours and SLO attainment per row",
        left: 10,
        top: 8,
        textStyle: { fontSize: 15, color: TEXT },
        subtext: `target: ${pct(input.sloTarget, 2)} of requests within ${input.sloMs} ms (red dashed line); bounds paler; a row that missed it is outlined red`,
        subtextStyle: { color: MUTED, fontSize: 12 },
      },
    ],
    grid: [
      { left: 170, width: "33%", top: 70, bottom: 40 },
      { right: 90, width: "33%", top: 70, bottom: 40 },
    ],
    xAxis: [
      {
        type: "value",
        gridIndex: 0,
        min: 0,
        // Room right of the longest bar for its label.
        max: mostHours > 0 ? niceCeil(mostHours * 1.55) : 1,
        name: "GPU-hours",
        nameLocation: "middle",
        nameGap: 24,
        nameTextStyle: { color: MUTED },
        axisLabel: { color: MUTED },
        splitLine: { lineStyle: { color: GRID_LINE } },
      },
      {
        type: "value",
        gridIndex: 1,
        min: floor,
        max: 100,
        interval: step,
        name: `requests within ${input.sloMs} ms (%)${floor > 0 ? `, axis from ${floor}%` : ""}`,
        nameLocation: "middle",
        nameGap: 24,
        nameTextStyle: { color: MUTED },
        axisLabel: { color: MUTED, formatter: "{value}%" },
        splitLine: { lineStyle: { color: GRID_LINE } },
      },
    ],
    yAxis: [
      { ...category, gridIndex: 0 },
      { ...category, gridIndex: 1, axisLabel: { show: false } },
    ],
    series: [
      {
        type: "bar",
        name: "GPU-hours",
        xAxisIndex: 0,
        yAxisIndex: 0,
        barMaxWidth: 22,
        data: rows.map((r, i) => bar(r.gpuHours, i, r)),
        label: {
          show: true,
          position: "right",
          color: TEXT,
          formatter: (p: { dataIndex: number }) => {
            const r = rows[p.dataIndex]!;
            return `${r.gpuHours.toFixed(2)} GPU-h · ${r.cost.toFixed(2)} ${input.currency}`;
          },
        },
      },
      {
        type: "bar",
        name: "SLO attainment",
        xAxisIndex: 1,
        yAxisIndex: 1,
        barMaxWidth: 22,
        data: rows.map((r, i) => ({
          ...bar(Math.max(r.sloAttainment * 100, floor), i, r),
          ...(r.metSloTarget
            ? {}
            : {
                itemStyle: {
                  color: fill(i, r),
                  borderColor: SLO_RED,
                  borderWidth: 2,
                },
              }),
        })),
        label: {
          show: true,
          position: "right",
          color: TEXT,
          formatter: (p: { dataIndex: number }) => {
            const r = rows[p.dataIndex]!;
            return `${pct(r.sloAttainment, 2)}${r.metSloTarget ? "" : " missed"}`;
          },
        },
        markLine: {
          silent: true,
          symbol: "none",
          lineStyle: { color: SLO_RED, type: "dashed", width: 1.5 },
          // The category axis runs top down (inverse), so the line's start is at the top.
          label: {
            formatter: `target ${pct(input.sloTarget, 2)}`,
            color: SLO_RED,
            position: "start",
          },
          data: [{ xAxis: input.sloTarget * 100 }],
        },
      },
    ],
  } as ChartOption;
}

/**
 * Where the attainment axis starts (percent): low enough to show the lowest row, on a step
 * that suits the spread, so 99.5% and 99.9% still look different and 82% fits too.
 * E.g. 0.9952 → 99.4, 0.8259 → 80, 0.3 → 25.
 */
export function attainmentAxisFloor(lowest: number): number {
  return attainmentAxis(lowest).floor;
}

/** The attainment axis: where it starts and its tick step, in percent (see attainmentAxisFloor). */
export function attainmentAxis(lowest: number): { floor: number; step: number } {
  const low = lowest * 100;
  const span = 100 - low;
  const step = span > 50 ? 25 : span > 20 ? 10 : span > 5 ? 5 : span > 1 ? 1 : 0.1;
  const floor = Math.floor((low - step / 2) / step) * step;
  return { floor: Math.max(0, Math.round(floor * 10) / 10), step };
}

/** `x` rounded up to 1, 2 or 5 times a power of ten. */
function niceCeil(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/** The rows as an HTML table (every text escaped). */
function rowsTable(input: SimulationChartInput): string {
  const head = [
    "row",
    "GPU-hours",
    `cost (${input.currency})`,
    `within ${input.sloMs} ms`,
    "target",
  ];
  const body = input.rows.map((r) => {
    const cells = [
      rowLabel(r),
      r.gpuHours.toFixed(2),
      r.cost.toFixed(2),
      pct(r.sloAttainment, 2),
      r.metSloTarget ? "met" : r.kind === "bound" ? "not a bound" : "missed",
    ];
    return `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${body.join("")}</tbody></table>`;
}

/**
 * The chart file: `svg`, the timeline above the per-row bars in one SVG document; `html`, a
 * self-contained page with both charts and the rows' table.
 */
export function renderSimulationChart(input: SimulationChartInput, format: ChartFormat): string {
  const timeline = renderChartSvg(
    timelineOption(input, { titled: format === "svg" }),
    TIMELINE_SIZE,
  );
  const bars = renderChartSvg(rowsOption(input), rowsChartSize(input.rows.length));
  if (format === "svg") return stackSvgs([timeline, bars]);
  const sections: PageSection[] = [
    {
      heading: "Timeline",
      caption:
        `Each row's run of the same trace: arrivals, ready replicas, p99 latency per ${input.intervalSeconds === 60 ? "minute" : formatDuration(input.intervalSeconds)} against the SLO, and what the GPUs cost so far.` +
        (input.warmupSeconds > 0
          ? " Cost here counts from the start; the table's from the end of the warmup."
          : ""),
      svg: timeline,
    },
    { heading: "Per row", svg: bars, html: rowsTable(input) },
  ];
  return htmlPage(input.title, sections, input.subtitle);
}
