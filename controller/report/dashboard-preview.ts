import { type ChartOption, escapeHtml, renderChartSvg } from "./chart.js";
import type { DashboardJson } from "./dashboard.js";

/**
 * A preview of a Grafana dashboard without Grafana (pure: JSON and query results in, HTML
 * out): the dashboard's own panels, laid out on Grafana's 24-column grid from each panel's
 * `gridPos`, each time series panel drawn by ECharts' SVG renderer (chart.ts) from the
 * results of its targets, with the panel's unit, legend format, thresholds (drawn as lines
 * where the panel's `thresholdsStyle` says so, as Grafana does) and the dashboard's
 * annotations. Stat panels show each series' last non-null value (`reduceOptions.calcs:
 * lastNotNull`) in the colour of its threshold step. A panel type this preview does not
 * draw gets a box saying so, never silence.
 *
 * It is a picture of what the queries return, drawn the way Grafana draws these panel
 * types, not Grafana's rendering: fonts, axis ticks and legend wrapping differ. The page
 * says so at the top. The data comes from triton/prometheus-dashboard.ts.
 */

/** Grafana's grid: 24 columns; a row unit is 30 px high; panels are 8 px apart. */
export const GRID = { columns: 24, cellHeight: 30, margin: 8 } as const;

/** One series of a range query: its labels and its `[unix seconds, value]` points. */
export interface PreviewSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly points: readonly (readonly [number, number])[];
}

/** The answer to one panel target. */
export interface TargetResult {
  readonly panelId: number;
  readonly refId: string;
  /** The query as sent (variables filled). */
  readonly expr: string;
  readonly series: readonly PreviewSeries[];
}

/** The answer to one annotation query. */
export interface AnnotationResult {
  readonly name: string;
  /** Step of its range query, seconds (an annotation's own `step` may exceed the panels'). */
  readonly stepSeconds: number;
  readonly series: readonly PreviewSeries[];
}

/** Everything a preview draws besides the dashboard itself. */
export interface DashboardData {
  /** Range start and end, Unix seconds. */
  readonly from: number;
  readonly to: number;
  /** Step of the range queries, seconds. */
  readonly stepSeconds: number;
  /** Where the data came from (shown on the page), e.g. the Prometheus URL. */
  readonly source: string;
  /** The template variables as substituted, in the dashboard's order. */
  readonly variables: readonly { readonly name: string; readonly value: string }[];
  readonly targets: readonly TargetResult[];
  readonly annotations: readonly AnnotationResult[];
}

/** Options of {@link renderDashboardPreview}. */
export interface PreviewOptions {
  /** Width of the grid, px. @default 1400 */
  readonly width?: number;
}

/** How one panel came out (for tests and the command's summary). */
export interface PanelOutcome {
  readonly id: number;
  readonly title: string;
  readonly type: string;
  /** `chart`/`stat`: drawn with data; `no data`: drawn, empty; `unsupported`: the box. */
  readonly drawn: "chart" | "stat" | "no data" | "unsupported" | "row";
  /** Series with at least one finite point. */
  readonly series: number;
}

/** A preview page and what each panel showed. */
export interface DashboardPreview {
  readonly html: string;
  readonly panels: readonly PanelOutcome[];
}

// ---------------------------------------------------------------------------------------
// The dashboard JSON, read loosely (a file from elsewhere may lack any field)

interface GridPos {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

interface ThresholdStep {
  readonly value: number | null;
  readonly color: string;
}

interface PanelJson {
  readonly type?: string;
  readonly id?: number;
  readonly title?: string;
  readonly description?: string;
  readonly collapsed?: boolean;
  readonly gridPos?: Partial<GridPos>;
  readonly panels?: readonly PanelJson[];
  readonly targets?: readonly {
    readonly expr?: string;
    readonly legendFormat?: string;
    readonly refId?: string;
    readonly hide?: boolean;
  }[];
  readonly fieldConfig?: {
    readonly defaults?: {
      readonly unit?: string;
      readonly min?: number;
      readonly max?: number;
      readonly thresholds?: { readonly steps?: readonly ThresholdStep[] };
      readonly custom?: {
        readonly thresholdsStyle?: { readonly mode?: string };
        readonly drawStyle?: string;
        readonly fillOpacity?: number;
        readonly lineWidth?: number;
        readonly stacking?: { readonly mode?: string };
        readonly axisSoftMin?: number;
        readonly axisSoftMax?: number;
      };
    };
  };
  readonly options?: {
    readonly legend?: { readonly showLegend?: boolean };
  };
}

/** A panel placed on the page, in px from the grid's top left corner. */
export interface PlacedBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Where a `gridPos` lands, in px, on a grid `width` px wide, as Grafana's react-grid-layout
 * places it: a column is (width − 23 × 8) / 24 px, a row unit 30 px, 8 px between
 * neighbours. Example: width 1400 → a column is 50.67 px; `{x: 12, y: 1, w: 12, h: 8}` →
 * left 12 × 58.67 = 704, top 38, 12 × 50.67 + 11 × 8 = 696 wide, 8 × 30 + 7 × 8 = 296 high.
 */
export function placeOnGrid(pos: GridPos, width: number): PlacedBox {
  const { columns, cellHeight, margin } = GRID;
  const col = (width - (columns - 1) * margin) / columns;
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    left: round(pos.x * (col + margin)),
    top: pos.y * (cellHeight + margin),
    width: round(pos.w * col + (pos.w - 1) * margin),
    height: pos.h * cellHeight + (pos.h - 1) * margin,
  };
}

/**
 * A series' name as Grafana's Prometheus data source gives it: the legend format with each
 * `{{label}}` replaced by the label's value (a label the series lacks leaves its name, as
 * Grafana's renderLegendFormat does); with no format (or `__auto`), `metric{a="b", …}`, or
 * the query itself for a series without labels.
 */
export function legendName(
  format: string | undefined,
  labels: Readonly<Record<string, string>>,
  expr: string,
): string {
  if (format !== undefined && format !== "" && format !== "__auto") {
    return format.replace(/\{\{\s*(.+?)\s*\}\}/g, (_, name: string) => labels[name] || name);
  }
  const { __name__: metric, ...rest } = labels;
  const pairs = Object.keys(rest)
    .sort()
    .map((k) => `${k}="${rest[k]}"`);
  if (metric === undefined && pairs.length === 0) return expr;
  return `${metric ?? ""}${pairs.length > 0 ? `{${pairs.join(", ")}}` : ""}`;
}

// ---------------------------------------------------------------------------------------
// Units and colours

/** Grafana's palette-classic, in its order. */
const PALETTE = [
  "#73BF69",
  "#F2CC0C",
  "#8AB8FF",
  "#FF780A",
  "#F2495C",
  "#5794F2",
  "#B877D9",
  "#705DA0",
  "#37872D",
  "#FADE2A",
] as const;

/** Grafana's named colours (dark theme) for the names a dashboard uses. */
const NAMED: Readonly<Record<string, string>> = {
  green: "#73BF69",
  red: "#F2495C",
  orange: "#FF9830",
  yellow: "#FADE2A",
  blue: "#5794F2",
  purple: "#B877D9",
  "dark-red": "#C4162A",
  "dark-green": "#37872D",
  text: "#CCCCDC",
};

/** A Grafana colour (a name or a CSS colour) as CSS. */
export function grafanaColour(c: string): string {
  return NAMED[c] ?? c;
}

const THEME = {
  page: "#111217",
  panel: "#181B1F",
  border: "#2C3235",
  text: "#CCCCDC",
  muted: "#8E8E8E",
  grid: "rgba(204,204,220,0.10)",
  axis: "rgba(204,204,220,0.25)",
  font: "Inter, Helvetica, Arial, sans-serif",
} as const;

/** `v` to about 3 significant digits, without trailing zeros. */
function sig(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  const digits =
    a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : Math.min(6, 2 - Math.floor(Math.log10(a)));
  return String(Number(v.toFixed(digits)));
}

/** `v` scaled by the first of `steps` (largest first) it reaches, with that step's suffix. */
function scaled(v: number, steps: readonly (readonly [number, string])[], base: string): string {
  const a = Math.abs(v);
  for (const [size, suffix] of steps) if (a >= size) return `${sig(v / size)}${suffix}`;
  return `${sig(v)}${base}`;
}

const CURRENCY: Readonly<Record<string, string>> = {
  currencyUSD: "$",
  currencyEUR: "€",
  currencyGBP: "£",
  currencyJPY: "¥",
  currencyCHF: "CHF ",
  currencyCAD: "C$",
  currencyAUD: "A$",
  currencyINR: "₹",
};

/**
 * A value in a Grafana unit, as Grafana writes it (about 3 significant digits): `reqps`
 * `12.5 req/s`, `ms` `45.2 ms` (1.5 s past a second), `s`, `percentunit` (0.91 → `91%`),
 * `bytes` (IEC: `5 GiB`), `short` (`1.5 K`), `none`, the currencies, `suffix: X`. Other
 * units: the number and the unit id.
 */
export function formatUnit(unit: string | undefined, v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
  const u = unit ?? "short";
  switch (u) {
    case "none":
      return sig(v);
    case "short":
      return scaled(
        v,
        [
          [1e12, " T"],
          [1e9, " Bil"],
          [1e6, " Mil"],
          [1e3, " K"],
        ],
        "",
      );
    case "reqps":
      return `${formatUnit("short", v)} req/s`;
    case "ms":
      return Math.abs(v) >= 1000 ? `${sig(v / 1000)} s` : `${sig(v)} ms`;
    case "s":
      return scaled(
        v,
        [
          [86400, " day"],
          [3600, " hour"],
          [60, " min"],
        ],
        " s",
      );
    case "percentunit":
      return `${sig(v * 100)}%`;
    case "percent":
      return `${sig(v)}%`;
    case "bytes":
      return scaled(
        v,
        [
          [1024 ** 4, " TiB"],
          [1024 ** 3, " GiB"],
          [1024 ** 2, " MiB"],
          [1024, " KiB"],
        ],
        " B",
      );
  }
  const symbol = CURRENCY[u];
  if (symbol !== undefined) return `${v < 0 ? "-" : ""}${symbol}${sig(Math.abs(v))}`;
  if (u.startsWith("suffix:")) return `${sig(v)}${u.slice("suffix:".length)}`;
  return `${sig(v)} ${u}`;
}

/** The colour of the threshold step `v` falls in (the last step whose value is ≤ v). */
export function thresholdColour(steps: readonly ThresholdStep[], v: number): string {
  let colour = steps[0]?.color ?? "green";
  for (const s of steps) if (s.value === null || v >= s.value) colour = s.color;
  return grafanaColour(colour);
}

// ---------------------------------------------------------------------------------------
// Panels

const TITLE_HEIGHT = 32;

interface Named {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

/** The series of a panel's targets, named by their legend format, in target order. */
function panelSeries(panel: PanelJson, data: DashboardData): Named[] {
  const out: Named[] = [];
  for (const t of panel.targets ?? []) {
    if (t.hide === true) continue;
    const r = data.targets.find((x) => x.panelId === panel.id && x.refId === t.refId);
    for (const s of r?.series ?? []) {
      out.push({
        name: legendName(t.legendFormat, s.labels, r?.expr ?? t.expr ?? ""),
        points: s.points,
      });
    }
  }
  return out;
}

const hasFinite = (s: Named) => s.points.some(([, v]) => Number.isFinite(v));

/** Space between legend items, px, across and (when the legend wraps) down. */
const LEGEND_GAP = 24;

/**
 * Rough legend height: items packed into lines of `width` px at 7 px a character (DejaVu
 * Sans at 11 px; wider than ECharts' own estimate, so a wrap is never missed), 14 px a line
 * and {@link LEGEND_GAP} between lines.
 */
function legendHeight(names: readonly string[], width: number): number {
  let lines = 1;
  let used = 0;
  for (const n of names) {
    const w = 14 + 5 + n.length * 7 + LEGEND_GAP;
    if (used > 0 && used + w > width - 16) {
      lines++;
      used = 0;
    }
    used += w;
  }
  return names.length === 0 ? 0 : lines * 14 + (lines - 1) * LEGEND_GAP + 8;
}

/**
 * Times of the annotation events: the start of each run of points one step apart (Grafana
 * merges such a run into one event).
 */
export function annotationTimes(data: DashboardData): number[] {
  const times: number[] = [];
  for (const a of data.annotations) {
    const step = a.stepSeconds;
    for (const s of a.series) {
      let last = Number.NEGATIVE_INFINITY;
      for (const [t, v] of s.points) {
        if (!Number.isFinite(v)) continue;
        if (t - last > step) times.push(t);
        last = t;
      }
    }
  }
  return [...new Set(times)].sort((x, y) => x - y);
}

function timeseriesOption(
  panel: PanelJson,
  series: readonly Named[],
  data: DashboardData,
  box: { readonly width: number; readonly height: number },
): ChartOption {
  const d = panel.fieldConfig?.defaults ?? {};
  const custom = d.custom ?? {};
  const unit = d.unit;
  const bars = custom.drawStyle === "bars";
  const stacked = custom.stacking?.mode === "normal";
  const fill = (custom.fillOpacity ?? (bars ? 80 : 0)) / 100;
  const showLegend = panel.options?.legend?.showLegend !== false;
  const names = series.map((s) => s.name);
  const legendH = showLegend ? legendHeight(names, box.width) : 0;
  const steps = d.thresholds?.steps ?? [];
  const lineMode = custom.thresholdsStyle?.mode ?? "off";
  const lines =
    lineMode === "off"
      ? []
      : steps
          .filter((s): s is { value: number; color: string } => s.value !== null)
          .map((s) => ({
            yAxis: s.value,
            lineStyle: {
              color: grafanaColour(s.color),
              type: lineMode === "line" ? ("solid" as const) : ("dashed" as const),
              width: 1,
            },
          }));
  const events = annotationTimes(data).map((t) => ({
    xAxis: t * 1000,
    lineStyle: { color: grafanaColour("orange"), type: "dashed" as const, width: 1 },
  }));
  const marks = [...lines, ...events];
  const chartSeries = series.map((s, i) => {
    const colour = PALETTE[i % PALETTE.length]!;
    return {
      type: bars ? ("bar" as const) : ("line" as const),
      name: s.name,
      stack: stacked ? "A" : undefined,
      showSymbol: false,
      symbol: "none",
      connectNulls: false,
      color: colour,
      lineStyle: { width: custom.lineWidth ?? 1 },
      areaStyle: !bars && fill > 0 ? { opacity: fill } : undefined,
      itemStyle: bars ? { opacity: fill } : undefined,
      barMaxWidth: 12,
      data: s.points.map(([t, v]) => [t * 1000, Number.isFinite(v) ? v : null]),
    };
  });
  const markSeries = {
    type: "line" as const,
    name: "__marks",
    data: [] as number[][],
    silent: true,
    markLine: { silent: true, symbol: "none", label: { show: false }, data: marks },
  };
  return {
    backgroundColor: THEME.panel,
    useUTC: true,
    textStyle: { color: THEME.text, fontFamily: THEME.font, fontSize: 11 },
    grid: { left: 8, right: 28, top: 10, bottom: legendH + 6, containLabel: true },
    legend: showLegend
      ? {
          data: names,
          bottom: 2,
          left: 4,
          icon: "rect",
          itemWidth: 14,
          itemHeight: 4,
          // Wide: ECharts measures text as Arial would, the browser may draw it wider (DejaVu Sans).
          itemGap: LEGEND_GAP,
          textStyle: { color: THEME.text, fontSize: 11 },
        }
      : { show: false },
    xAxis: {
      type: "time",
      min: data.from * 1000,
      max: data.to * 1000,
      axisLine: { lineStyle: { color: THEME.axis } },
      axisTick: { show: false },
      axisLabel: { color: THEME.muted, hideOverlap: true },
      splitLine: { show: true, lineStyle: { color: THEME.grid } },
    },
    yAxis: {
      type: "value",
      min: d.min ?? (custom.axisSoftMin !== undefined ? softMin(custom.axisSoftMin) : undefined),
      max: d.max ?? (custom.axisSoftMax !== undefined ? softMax(custom.axisSoftMax) : undefined),
      axisLabel: { color: THEME.muted, formatter: (v: number) => formatUnit(unit, v) },
      splitLine: { lineStyle: { color: THEME.grid } },
    },
    series: marks.length > 0 ? [...chartSeries, markSeries] : chartSeries,
  } as ChartOption;
}

/** A soft limit: the axis reaches at least this far, further when the data does. */
function softMax(limit: number) {
  return (extent: { max: number }) => Math.max(extent.max, limit);
}
function softMin(limit: number) {
  return (extent: { min: number }) => Math.min(extent.min, limit);
}

function statHtml(panel: PanelJson, series: readonly Named[]): string {
  const d = panel.fieldConfig?.defaults ?? {};
  const steps = d.thresholds?.steps ?? [];
  const cells = series.map((s) => {
    let last = Number.NaN;
    for (const [, v] of s.points) if (Number.isFinite(v)) last = v;
    const colour = Number.isFinite(last) ? thresholdColour(steps, last) : THEME.muted;
    return `<div class="stat"><div class="stat-value" style="color:${colour}">${escapeHtml(formatUnit(d.unit, last))}</div><div class="stat-name">${escapeHtml(s.name)}</div></div>`;
  });
  return `<div class="stats">${cells.join("")}</div>`;
}

/** Panel types drawn here (Grafana's ids). */
export const DRAWN_TYPES = ["timeseries", "stat"] as const;

function panelBody(
  panel: PanelJson,
  data: DashboardData,
  box: PlacedBox,
): { html: string; drawn: PanelOutcome["drawn"]; series: number } {
  const type = panel.type ?? "(no type)";
  const inner = { width: box.width - 2, height: box.height - TITLE_HEIGHT - 2 };
  if (!(DRAWN_TYPES as readonly string[]).includes(type)) {
    return {
      html: `<div class="unsupported">Panel type “${escapeHtml(type)}” is not drawn by this preview (it draws ${DRAWN_TYPES.join(" and ")}); Grafana shows it.</div>`,
      drawn: "unsupported",
      series: 0,
    };
  }
  const series = panelSeries(panel, data).filter(hasFinite);
  if (series.length === 0) {
    return { html: '<div class="nodata">No data</div>', drawn: "no data", series: 0 };
  }
  if (type === "stat")
    return { html: statHtml(panel, series), drawn: "stat", series: series.length };
  const svg = renderChartSvg(timeseriesOption(panel, series, data, inner), inner);
  return { html: `<div class="chart">${svg}</div>`, drawn: "chart", series: series.length };
}

/** The panels in page order: rows' nested panels (collapsed rows) are not shown, as in Grafana. */
function gridPosOf(p: PanelJson): GridPos {
  const g = p.gridPos ?? {};
  return { x: g.x ?? 0, y: g.y ?? 0, w: g.w ?? 12, h: g.h ?? 8 };
}

const iso = (t: number) => new Date(t * 1000).toISOString().replace(".000Z", "Z");

/**
 * The preview page of `dashboard` drawn from `data`: self-contained HTML (inline style and
 * SVG, no script, nothing fetched), and what each panel showed.
 */
export function renderDashboardPreview(
  dashboard: DashboardJson,
  data: DashboardData,
  options: PreviewOptions = {},
): DashboardPreview {
  const width = options.width ?? 1400;
  const panels = (dashboard.panels ?? []) as readonly PanelJson[];
  const outcomes: PanelOutcome[] = [];
  const boxes: string[] = [];
  let bottom = 0;
  for (const p of panels) {
    const pos = gridPosOf(p);
    const box = placeOnGrid(pos, width);
    bottom = Math.max(bottom, box.top + box.height);
    const style = `left:${box.left}px;top:${box.top}px;width:${box.width}px;height:${box.height}px`;
    const title = p.title ?? "";
    const id = p.id ?? 0;
    if (p.type === "row") {
      const hidden = p.collapsed === true ? ` (collapsed: ${p.panels?.length ?? 0} panels)` : "";
      boxes.push(
        `<div class="row" style="${style}">⌄ ${escapeHtml(title)}${escapeHtml(hidden)}</div>`,
      );
      outcomes.push({ id, title, type: "row", drawn: "row", series: 0 });
      continue;
    }
    const body = panelBody(p, data, box);
    const tip = p.description ? ` title="${escapeHtml(p.description)}"` : "";
    boxes.push(
      `<div class="panel" data-panel-id="${id}" style="${style}"><div class="ptitle"${tip}>${escapeHtml(title)}</div>${body.html}</div>`,
    );
    outcomes.push({ id, title, type: p.type ?? "", drawn: body.drawn, series: body.series });
  }
  const vars = data.variables
    .map((v) => `<span class="var"><b>${escapeHtml(v.name)}</b> ${escapeHtml(v.value)}</span>`)
    .join("");
  const events = annotationTimes(data);
  const annotationNote =
    data.annotations.length === 0
      ? ""
      : ` Annotations (${data.annotations.map((a) => escapeHtml(a.name)).join(", ")}): ${events.length} event(s), dashed orange vertical lines.`;
  const title = dashboard.title ?? "dashboard";
  const html = [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)} (preview)</title>`,
    "<style>",
    `body{margin:0;background:${THEME.page};color:${THEME.text};font-family:${THEME.font};font-size:13px}`,
    `.dashboard{width:${width}px;padding:16px}`,
    "h1{font-size:18px;font-weight:500;margin:0 0 6px}",
    `.note{color:${THEME.muted};margin:0 0 8px}`,
    ".note b{color:#FF9830;font-weight:500}",
    `.var{display:inline-block;border:1px solid ${THEME.border};border-radius:2px;padding:3px 8px;margin:0 6px 10px 0;background:${THEME.panel}}`,
    `.var b{font-weight:500;color:${THEME.muted};margin-right:6px}`,
    ".grid{position:relative}",
    `.panel{position:absolute;box-sizing:border-box;background:${THEME.panel};border:1px solid ${THEME.border};border-radius:2px;overflow:hidden}`,
    `.ptitle{height:${TITLE_HEIGHT}px;line-height:${TITLE_HEIGHT}px;padding:0 8px;font-weight:500;font-size:14px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}`,
    ".row{position:absolute;font-size:16px;font-weight:500;line-height:30px}",
    ".chart svg{display:block}",
    `.nodata,.unsupported{display:flex;align-items:center;justify-content:center;height:calc(100% - ${TITLE_HEIGHT}px);color:${THEME.muted};padding:0 16px;text-align:center}`,
    ".unsupported{color:#FF9830;border:1px dashed #FF9830;margin:0 8px;height:calc(100% - 48px)}",
    ".stats{display:flex;height:calc(100% - 40px);align-items:center;justify-content:space-around}",
    ".stat{text-align:center}.stat-value{font-size:40px;font-weight:500}",
    `.stat-name{color:${THEME.muted};margin-top:4px}`,
    "</style></head><body>",
    '<div class="dashboard">',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="note"><b>Preview drawn by tritonscale from the dashboard's own queries, not by Grafana:</b> each panel's targets run as range queries against ${escapeHtml(data.source)} from ${iso(data.from)} to ${iso(data.to)} (step ${data.stepSeconds} s, times in UTC), laid out by the panels' gridPos and drawn with ECharts.${annotationNote}</p>`,
    `<div>${vars}</div>`,
    `<div class="grid" style="height:${bottom}px">`,
    ...boxes,
    "</div></div></body></html>",
    "",
  ].join("\n");
  return { html, panels: outcomes };
}
