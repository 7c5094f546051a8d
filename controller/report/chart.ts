/**
 * Charts as SVG, drawn by Apache ECharts' server-side renderer (no browser, no canvas), and
 * the self-contained HTML page that the report and chart commands write around them.
 *
 * Pure: an ECharts option in, SVG text out. Animation is always off (a file is one frame)
 * and the page embeds the SVG inline, so it opens offline with no script at all.
 */
import * as echarts from "echarts";

/** An ECharts option (the typed `EChartsOption` of the pinned echarts). */
export type ChartOption = echarts.EChartsOption;

/** Pixel size of one chart. */
export interface ChartSize {
  readonly width: number;
  readonly height: number;
}

/** The charts' shared colours: text, secondary text, the SLO line and grid lines. */
export const CHART_COLOURS = {
  text: "#1f2328",
  muted: "#59636e",
  sloRed: "#cf222e",
  gridLine: "#e6e9ef",
} as const;

/**
 * A chart's base text style and its title and subtitle at the top left. On a page the
 * heading above already names the chart (`titled: false` leaves the title out); a lone SVG
 * carries its own.
 */
export function titledChart(
  title: string,
  subtitle: string,
  titled = true,
): Pick<ChartOption, "textStyle" | "title"> {
  return {
    textStyle: { color: CHART_COLOURS.text, fontFamily: "system-ui, sans-serif" },
    title: {
      text: titled ? title : "",
      left: 60,
      top: 8,
      textStyle: { fontSize: 16, color: CHART_COLOURS.text },
      subtext: subtitle,
      subtextStyle: { color: CHART_COLOURS.muted, fontSize: 12 },
    },
  };
}

/** The size a chart gets unless told: wide enough for a day's timeline. */
export const DEFAULT_CHART_SIZE: ChartSize = { width: 960, height: 360 };

/**
 * One chart as a standalone SVG document (`<svg …>…</svg>`), drawn by ECharts' SSR renderer.
 * Throws if the option draws nothing (ECharts' own errors name the wrong series or axis).
 */
export function renderChartSvg(option: ChartOption, size: ChartSize = DEFAULT_CHART_SIZE): string {
  if (!(size.width > 0 && size.height > 0)) {
    throw new RangeError(`chart size must be positive, got ${size.width}×${size.height}`);
  }
  const chart = echarts.init(null, null, {
    renderer: "svg",
    ssr: true,
    width: size.width,
    height: size.height,
  });
  try {
    chart.setOption({ animation: false, backgroundColor: "#ffffff", ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** `&`, `<`, `>`, `"` and `'` as HTML entities: text from a pool file is never markup. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One part of a page: a heading and an SVG chart, or a heading and an HTML fragment. */
export interface PageSection {
  readonly heading: string;
  /** An SVG document from {@link renderChartSvg}. */
  readonly svg?: string;
  /** Markup built by the caller with {@link escapeHtml} on every piece of text (e.g. a table). */
  readonly html?: string;
  /** A line under the heading (text, escaped here). */
  readonly caption?: string;
}

/**
 * A self-contained HTML page: inline style, inline SVG, no script and nothing fetched, so it
 * opens offline, in a mail attachment or behind a strict Content-Security-Policy.
 */
export function htmlPage(
  title: string,
  sections: readonly PageSection[],
  subtitle?: string,
): string {
  const parts = sections.map((s) => {
    const caption = s.caption ? `<p class="caption">${escapeHtml(s.caption)}</p>` : "";
    const body = [s.svg ? `<div class="chart">${s.svg}</div>` : "", s.html ?? ""].join("");
    return `<section><h2>${escapeHtml(s.heading)}</h2>${caption}${body}</section>`;
  });
  return [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    "<style>",
    "body{font-family:system-ui,sans-serif;margin:24px;color:#1f2328;background:#fff}",
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px}",
    ".subtitle,.caption{color:#59636e;margin:0 0 8px}",
    "table{border-collapse:collapse;font-size:13px}",
    "th,td{border:1px solid #d1d9e0;padding:4px 8px;text-align:right}",
    "th:first-child,td:first-child{text-align:left}",
    ".chart svg{max-width:100%;height:auto}",
    "</style></head><body>",
    `<h1>${escapeHtml(title)}</h1>`,
    subtitle ? `<p class="subtitle">${escapeHtml(subtitle)}</p>` : "",
    ...parts,
    "</body></html>",
    "",
  ].join("\n");
}
