/**
 * The cost report as text: a terminal table, CSV, JSON and a self-contained HTML page
 * with charts. Pure: a {@link CostReport} in, a string out.
 */
import { type ChartOption, escapeHtml, htmlPage, renderChartSvg } from "./chart.js";
import type { CostFigures, CostReport, CostRow } from "./cost.js";

const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
const maybe = (x: number | null, digits: number) => (x === null ? null : round(x, digits));

/** An ISO 8601 UTC time, to the second. */
function iso(unix: number): string {
  return new Date(unix * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/** `2026-01-05 00:00` (UTC). */
function when(unix: number): string {
  return iso(unix).slice(0, 16).replace("T", " ");
}

const typeName = (t: CostRow["capacityType"]) =>
  t === "onDemand" ? "on-demand" : t === "spot" ? "spot" : "all";

/** The JSON figures of a row: snake_case, rounded (GPU-hours and money to 4 decimals). */
function jsonFigures(f: CostFigures) {
  return {
    gpu_hours: round(f.gpuHours, 4),
    busy_gpu_hours: round(f.busyGpuHours, 4),
    idle_gpu_hours: round(f.idleGpuHours, 4),
    cost: round(f.cost, 4),
    spot_savings: round(f.spotSavings, 4),
    requests: round(f.requests, 2),
    cost_per_1k: maybe(f.costPer1k, 8),
    slo_attainment: maybe(f.sloAttainment, 6),
  };
}

function jsonRow(r: CostRow) {
  const f = jsonFigures(r);
  return {
    pool: r.pool,
    model: r.model,
    capacity_type: r.capacityType,
    gpu_hours: f.gpu_hours,
    busy_gpu_hours: f.busy_gpu_hours,
    idle_gpu_hours: f.idle_gpu_hours,
    cost: f.cost,
    currency: r.currency,
    spot_savings: f.spot_savings,
    requests: f.requests,
    cost_per_1k: f.cost_per_1k,
    slo_attainment: f.slo_attainment,
    namespace: r.namespace,
    ...(r.previous ? { previous: jsonFigures(r.previous) } : {}),
    ...(r.change
      ? {
          change: {
            gpu_hours: round(r.change.gpuHours, 4),
            cost: round(r.change.cost, 4),
            requests: round(r.change.requests, 2),
            cost_per_1k: maybe(r.change.costPer1k, 8),
            slo_attainment: maybe(r.change.sloAttainment, 6),
          },
        }
      : {}),
  };
}

/**
 * `--json`: `{"rows": [...], "total": {...}}` with the keys of the issue (pool, model,
 * capacity_type, gpu_hours, busy_gpu_hours, idle_gpu_hours, cost, currency, spot_savings,
 * requests, cost_per_1k, slo_attainment), plus `namespace`, and with a previous period
 * `previous` (the same figures) and `change` (current minus previous); beside them the
 * period, the scale events that cost most and the notes.
 */
export function formatCostJson(r: CostReport): string {
  return `${JSON.stringify(
    {
      rows: r.rows.map(jsonRow),
      total: jsonRow(r.total),
      period: { from: iso(r.from), to: iso(r.to) },
      ...(r.previous
        ? { previous_period: { from: iso(r.previous.from), to: iso(r.previous.to) } }
        : {}),
      top_scale_events: r.topEvents.map((e) => ({
        at: iso(e.event.at),
        pool: e.event.pool,
        capacity_type: e.event.capacityType,
        from: e.event.from,
        to: e.event.to,
        added_gpu_hours: round(e.event.addedGpuHours, 4),
        cost: round(e.cost, 4),
        reason: e.event.reason,
      })),
      notes: r.notes,
    },
    null,
    2,
  )}\n`;
}

/**
 * `--csv` columns, in order. OpenCost's names where they mean the same (Namespace,
 * GPUCost: the cost of the GPUs allocated); the rest in the same style. Units: hours,
 * the currency of the Currency column, counts, shares in [0, 1].
 */
export const COST_CSV_COLUMNS = [
  "WindowStart",
  "WindowEnd",
  "Namespace",
  "Pool",
  "Model",
  "CapacityType",
  "GPUHours",
  "BusyGPUHours",
  "IdleGPUHours",
  "GPUCost",
  "Currency",
  "SpotSavings",
  "Requests",
  "CostPer1kInferences",
  "SLOAttainment",
] as const;

/** Columns added when a previous period is compared. */
export const COST_CSV_PREVIOUS_COLUMNS = [
  "PreviousGPUHours",
  "PreviousGPUCost",
  "PreviousRequests",
  "PreviousCostPer1kInferences",
  "PreviousSLOAttainment",
] as const;

function csvField(x: string | number | null): string {
  if (x === null) return "";
  const s = String(x);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** `--csv`: one line per row, then the total (Pool `total`, CapacityType `all`). */
export function formatCostCsv(r: CostReport): string {
  const header = [...COST_CSV_COLUMNS, ...(r.previous ? COST_CSV_PREVIOUS_COLUMNS : [])];
  const line = (row: CostRow) => {
    const f = jsonFigures(row);
    const cells: (string | number | null)[] = [
      iso(r.from),
      iso(r.to),
      row.namespace,
      row.pool,
      row.model,
      row.capacityType,
      f.gpu_hours,
      f.busy_gpu_hours,
      f.idle_gpu_hours,
      f.cost,
      row.currency,
      f.spot_savings,
      f.requests,
      f.cost_per_1k,
      f.slo_attainment,
    ];
    if (r.previous) {
      const p = jsonFigures(row.previous!);
      cells.push(p.gpu_hours, p.cost, p.requests, p.cost_per_1k, p.slo_attainment);
    }
    return cells.map(csvField).join(",");
  };
  return `${[header.join(","), ...r.rows.map(line), line(r.total)].join("\n")}\n`;
}

function signed(x: number, digits: number): string {
  const text = x.toFixed(digits);
  if (Number(text) === 0) return (0).toFixed(digits);
  return `${x > 0 ? "+" : ""}${text}`;
}

/** Four significant digits, never in exponent form (a cost per 1k can be 0.0008307). */
function sig(x: number | null): string {
  if (x === null) return "-";
  if (x === 0) return "0";
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(x))));
  return x.toFixed(Math.min(digits, 12));
}

function pct(x: number | null, digits = 3): string {
  return x === null ? "-" : `${(x * 100).toFixed(digits)}%`;
}

/** The rows as table cells (shared by the terminal table and the page). */
function tableCells(r: CostReport): { head: string[]; rows: string[][] } {
  const c = r.currency;
  const head = [
    "pool",
    "model",
    "capacity",
    "GPU-h",
    "busy GPU-h",
    "idle GPU-h",
    `cost ${c}`,
    `spot savings ${c}`,
    "requests",
    `${c} per 1k`,
    "SLO",
    ...(r.previous ? [`previous cost ${c}`, `change ${c}`] : []),
  ];
  const cells = (row: CostRow) => [
    row.pool === "total" ? "total" : `${row.namespace ? `${row.namespace}/` : ""}${row.pool}`,
    row.model,
    typeName(row.capacityType),
    row.gpuHours.toFixed(2),
    row.busyGpuHours.toFixed(2),
    row.idleGpuHours.toFixed(2),
    row.cost.toFixed(2),
    row.spotSavings.toFixed(2),
    Math.round(row.requests).toString(),
    sig(row.costPer1k),
    pct(row.sloAttainment),
    ...(row.previous && row.change
      ? [row.previous.cost.toFixed(2), signed(row.change.cost, 2)]
      : r.previous
        ? ["-", "-"]
        : []),
  ];
  return { head, rows: [...r.rows.map(cells), cells(r.total)] };
}

/** The terminal table, the previous period, the costliest scale events and the notes. */
export function formatCostTable(r: CostReport): string {
  const { head, rows } = tableCells(r);
  const widths = head.map((h, i) => rows.reduce((w, x) => Math.max(w, x[i]!.length), h.length));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  const hours = (r.to - r.from) / 3600;
  const out = [
    `cost report, ${when(r.from)} to ${when(r.to)} UTC (${round(hours, 2)} h)`,
    line(head),
  ];
  for (const row of rows) out.push(line(row));
  if (r.previous) {
    const t = r.total;
    const p = t.previous!;
    const ch = t.change!;
    const rel = p.cost > 0 ? ` (${signed((ch.cost / p.cost) * 100, 1)}%)` : "";
    out.push(
      "",
      `previous period ${when(r.previous.from)} to ${when(r.previous.to)} UTC: cost ${p.cost.toFixed(2)} ${r.currency}, change ${signed(ch.cost, 2)} ${r.currency}${rel}; GPU-h ${p.gpuHours.toFixed(2)} (${signed(ch.gpuHours, 2)}); per 1k ${sig(p.costPer1k)}; SLO ${pct(p.sloAttainment)}`,
    );
  }
  if (r.topEvents.length > 0) {
    out.push("", "scale-ups that cost most (added GPU-hours until the count fell back):");
    for (const e of r.topEvents) {
      const ev = e.event;
      out.push(
        `  ${when(ev.at)}  ${typeName(ev.capacityType)} ${ev.from} → ${ev.to}  ${ev.addedGpuHours.toFixed(2)} GPU-h  ${e.cost.toFixed(2)} ${r.currency}  ${ev.reason.length > 100 ? `${ev.reason.slice(0, 99)}…` : ev.reason}`,
      );
    }
  }
  if (r.notes.length > 0) out.push("");
  for (const n of r.notes) out.push(`note: ${n}`);
  return `${out.join("\n")}\n`;
}

/** The day labels of the charts. */
function dayLabels(r: CostReport): string[] {
  return r.days.map((d) =>
    d.seconds >= 86_400 || r.days.length > 1 ? iso(d.start).slice(0, 10) : when(d.start),
  );
}

/** The charts of the page: ECharts options by kind. */
export function costChartOptions(
  r: CostReport,
  options: CostPageOptions = {},
): Record<string, ChartOption> {
  const days = dayLabels(r);
  const c = r.currency;
  const grid = { left: 70, right: 30, top: 50, bottom: 40 };
  const legend = { top: 8 };
  const axis = { type: "category" as const, data: days };
  return {
    "cost-per-day": {
      grid,
      legend,
      tooltip: {},
      xAxis: axis,
      yAxis: { type: "value", name: c },
      series: [
        {
          type: "bar",
          stack: "cost",
          name: "on-demand",
          data: r.days.map((d) => round(d.cost.onDemand, 4)),
        },
        {
          type: "bar",
          stack: "cost",
          name: "spot",
          data: r.days.map((d) => round(d.cost.spot, 4)),
        },
      ],
    },
    "gpu-hours": {
      grid,
      legend,
      xAxis: axis,
      yAxis: { type: "value", name: "GPU-hours" },
      series: [
        {
          type: "bar",
          name: "allocated",
          data: r.days.map((d) => round(d.figures.gpuHours, 4)),
        },
        { type: "bar", name: "busy", data: r.days.map((d) => round(d.figures.busyGpuHours, 4)) },
      ],
    },
    "cost-per-1k": {
      grid,
      legend,
      xAxis: axis,
      yAxis: { type: "value", name: `${c} per 1,000` },
      series: [
        {
          type: "bar",
          name: "cost per 1,000 inferences",
          data: r.days.map((d) => maybe(d.figures.costPer1k, 6)),
        },
      ],
    },
    "slo-attainment": {
      grid,
      legend,
      xAxis: axis,
      // A line with its points: the axis fits the values (all near 100%), and a point at
      // the axis' foot stays visible where a bar would not.
      yAxis: {
        type: "value",
        name: "% within SLO",
        scale: true,
        max: 100,
        // Keep the target line in view when every day is above it.
        ...(options.sloTarget === undefined ? {} : { min: sloAxisMin(r, options.sloTarget) }),
      },
      series: [
        {
          type: "line",
          name: "requests within the SLO",
          symbol: "circle",
          symbolSize: 9,
          label: { show: true, formatter: "{c}%" },
          data: r.days.map((d) =>
            d.figures.sloAttainment === null ? null : round(d.figures.sloAttainment * 100, 3),
          ),
          ...(options.sloTarget === undefined
            ? {}
            : {
                markLine: {
                  symbol: "none",
                  lineStyle: { color: "#c4314b", type: "dashed" as const },
                  label: {
                    position: "insideEndTop",
                    formatter: `target ${round(options.sloTarget * 100, 3)}%`,
                  },
                  data: [{ yAxis: round(options.sloTarget * 100, 3) }],
                },
              }),
        },
      ],
    },
  };
}

/** What the page shows besides the report. */
export interface CostPageOptions {
  /** The SLO attainment target (0 to 1), drawn as a line on the attainment chart. */
  readonly sloTarget?: number;
}

/** The attainment axis' foot (percent): a whole number below the target and every day. */
function sloAxisMin(r: CostReport, target: number): number {
  let low = target * 100;
  for (const d of r.days) {
    if (d.figures.sloAttainment !== null) low = Math.min(low, d.figures.sloAttainment * 100);
  }
  return Math.max(0, Math.floor(low - 0.1));
}

/** `--html`: the page: the table, four charts, the costliest scale events and the notes. */
export function formatCostHtml(
  r: CostReport,
  title: string,
  options: CostPageOptions = {},
): string {
  const { head, rows } = tableCells(r);
  const table = `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((x) => `<td>${escapeHtml(x)}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
  const charts = costChartOptions(r, options);
  const svg = (kind: string) => renderChartSvg(charts[kind]!);
  const events =
    r.topEvents.length === 0
      ? "<p>No scale-up in the period.</p>"
      : `<table><thead><tr><th>at (UTC)</th><th>capacity</th><th>from → to</th><th>added GPU-h</th><th>cost ${escapeHtml(r.currency)}</th><th>reason</th></tr></thead><tbody>${r.topEvents
          .map(
            (e) =>
              `<tr><td>${escapeHtml(when(e.event.at))}</td><td>${typeName(e.event.capacityType)}</td><td>${e.event.from} → ${e.event.to}</td><td>${e.event.addedGpuHours.toFixed(2)}</td><td>${e.cost.toFixed(2)}</td><td style="text-align:left">${escapeHtml(e.event.reason)}</td></tr>`,
          )
          .join("")}</tbody></table>`;
  const notes = `<ul>${r.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>`;
  return htmlPage(
    title,
    [
      { heading: "Cost by pool, model and capacity type", html: table },
      {
        heading: "Cost per day by capacity type",
        caption: `${r.currency}: GPU-hours × the price per GPU-hour`,
        svg: svg("cost-per-day"),
      },
      {
        heading: "GPU-hours allocated and busy",
        caption: "allocated: GPUs of nodes billed; busy: time the GPUs computed batches",
        svg: svg("gpu-hours"),
      },
      {
        heading: "Cost per 1,000 inferences",
        svg: svg("cost-per-1k"),
      },
      {
        heading: "SLO attainment",
        caption: `share of requests served within the SLO${options.sloTarget === undefined ? "" : `, against the target of ${round(options.sloTarget * 100, 3)}%`}`,
        svg: svg("slo-attainment"),
      },
      { heading: "Scale-ups that cost most", html: events },
      { heading: "Notes", html: notes },
    ],
    `${when(r.from)} to ${when(r.to)} UTC${r.previous ? `, compared with ${when(r.previous.from)} to ${when(r.previous.to)}` : ""}`,
  );
}
