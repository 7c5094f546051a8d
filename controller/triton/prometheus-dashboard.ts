import type { DashboardJson } from "../report/dashboard.js";
import type {
  AnnotationResult,
  DashboardData,
  PreviewSeries,
  TargetResult,
} from "../report/dashboard-preview.js";
import { fillVariables } from "../report/dashboard-queries.js";
import { promApiCall, promNumber } from "./prometheus-api.js";

/**
 * The data of a dashboard preview (report/dashboard-preview.ts) from a live Prometheus:
 * every panel target's expression and every annotation query, with the template variables
 * substituted as Grafana would (dashboard-queries.ts `fillVariables`), run as a range query
 * over the period through prometheus-api.ts.
 *
 * Grafana's step and `$__rate_interval`: the step is the period over the panel's width in
 * points (here 600), at least the scrape interval; `$__rate_interval` is max(step + scrape
 * interval, 4 × scrape interval). Example: 6 h at a 15 s scrape → step 36 s, rate interval
 * max(51, 60) = 60 s. Annotations use at least their own `step` (the JSON's, e.g. `15s`),
 * as Grafana does.
 */

/** Options of {@link queryDashboard}. */
export interface DashboardQueryOptions {
  /** Prometheus's base URL. */
  readonly url: string;
  readonly dashboard: DashboardJson;
  /** Values of `$namespace` and `$pool`; `$model` is every one of `models`. */
  readonly namespace: string;
  readonly pool: string;
  readonly models: readonly string[];
  /** Period start and end, Unix seconds (end after start). */
  readonly from: number;
  readonly to: number;
  /** The scrape interval, seconds (Grafana's data source "scrape interval"). @default 15 */
  readonly scrapeIntervalSeconds?: number;
  /** Step of the range queries, seconds. @default see the module comment */
  readonly stepSeconds?: number;
  /** Time allowed per query, ms. @default 30000 */
  readonly timeoutMs?: number;
  /** Largest answer read per query, bytes. @default 64 MiB */
  readonly maxBytes?: number;
  readonly signal?: AbortSignal;
}

/** Points across a panel, for the default step (a panel's width in px, as Grafana's maxDataPoints). */
export const PREVIEW_POINTS = 600;

/** Prometheus refuses a range query of more than 11,000 points per series. */
const MAX_POINTS = 11_000;

/** Grafana's step for a period: period / {@link PREVIEW_POINTS}, at least the scrape interval, whole seconds. */
export function previewStep(from: number, to: number, scrapeSeconds: number): number {
  return Math.max(scrapeSeconds, Math.ceil((to - from) / PREVIEW_POINTS), 1);
}

/** Grafana's `$__rate_interval`: max(step + scrape interval, 4 × scrape interval), seconds. */
export function rateIntervalSeconds(stepSeconds: number, scrapeSeconds: number): number {
  return Math.max(stepSeconds + scrapeSeconds, 4 * scrapeSeconds);
}

/** Seconds of a Grafana interval such as `15s`, `1m`, `2h` (undefined when unreadable). */
function intervalSeconds(text: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text?.trim() ?? "");
  if (!m) return undefined;
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s"];
  return Number(m[1]) * unit;
}

interface MatrixSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly (readonly [number, string])[];
}

/** Runs the dashboard's queries over the period; rejects with one line when Prometheus fails. */
export async function queryDashboard(o: DashboardQueryOptions): Promise<DashboardData> {
  if (!(o.to > o.from)) {
    throw new RangeError(
      `the period must end after it starts (from ${o.from}, to ${o.to}, Unix seconds)`,
    );
  }
  const scrape = o.scrapeIntervalSeconds ?? 15;
  const range = o.to - o.from;
  const step = Math.max(
    o.stepSeconds ?? previewStep(o.from, o.to, scrape),
    Math.ceil(range / MAX_POINTS),
  );
  const rate = rateIntervalSeconds(step, scrape);
  const fill = (expr: string) =>
    fillVariables(expr, {
      namespace: o.namespace,
      pool: o.pool,
      models: o.models,
      rateInterval: `${rate}s`,
      rangeSeconds: Math.round(range),
    });
  const limits = { timeoutMs: o.timeoutMs ?? 30_000, maxBytes: o.maxBytes ?? 64 * 1024 * 1024 };
  const run = async (expr: string, s: number): Promise<PreviewSeries[]> => {
    const result = await promApiCall<MatrixSeries>(
      o.url,
      "query_range",
      { query: expr, start: String(o.from), end: String(o.to), step: String(s) },
      "matrix",
      limits,
      o.signal,
    );
    return result.map((r) => ({
      labels: r.metric,
      points: r.values.map(([t, v]) => [t, promNumber(v)] as const),
    }));
  };

  const jobs: { panelId: number; refId: string; expr: string }[] = [];
  const panels = (o.dashboard.panels ?? []) as readonly {
    type?: string;
    id?: number;
    targets?: readonly { expr?: string; refId?: string; hide?: boolean }[];
  }[];
  for (const p of panels) {
    if (p.type === "row") continue;
    for (const t of p.targets ?? []) {
      if (typeof t.expr === "string" && t.hide !== true)
        jobs.push({ panelId: p.id ?? 0, refId: t.refId ?? "A", expr: fill(t.expr) });
    }
  }
  const targets: TargetResult[] = [];
  // A few at a time: a dashboard has tens of queries, Prometheus answers each quickly.
  for (let i = 0; i < jobs.length; i += 4) {
    const chunk = jobs.slice(i, i + 4);
    const answers = await Promise.all(chunk.map((j) => run(j.expr, step)));
    for (const [k, j] of chunk.entries()) targets.push({ ...j, series: answers[k]! });
  }
  const annotations: AnnotationResult[] = [];
  for (const a of o.dashboard.annotations?.list ?? []) {
    const x = a as { name?: string; expr?: string; step?: string; enable?: boolean };
    if (typeof x.expr !== "string" || x.enable === false) continue;
    const s = Math.max(step, intervalSeconds(x.step) ?? 0);
    annotations.push({
      name: x.name ?? "annotations",
      stepSeconds: s,
      series: await run(fill(x.expr), s),
    });
  }
  const variables = [
    { name: "datasource", value: o.url },
    { name: "namespace", value: o.namespace },
    { name: "pool", value: o.pool },
    { name: "model", value: o.models.join(", ") },
    { name: "$__rate_interval", value: `${rate}s` },
  ];
  return {
    from: o.from,
    to: o.to,
    stepSeconds: step,
    source: `Prometheus at ${o.url}`,
    variables,
    targets,
    annotations,
  };
}
