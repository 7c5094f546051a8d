/**
 * What a `--chart FILE` writes, chosen by the file's extension, and the one SVG that holds
 * several charts one above the other (a `.svg` file is one document).
 */

/** The formats `--chart` writes. */
export const CHART_FORMATS = { ".svg": "svg", ".html": "html", ".htm": "html" } as const;

/** A format `--chart` writes. */
export type ChartFormat = (typeof CHART_FORMATS)[keyof typeof CHART_FORMATS];

/**
 * The format of a `--chart` path from its extension (case ignored), or a message naming
 * the flag, the path and the valid extensions.
 */
export function chartFormatOf(flag: string, path: string): ChartFormat | string {
  const dot = path.lastIndexOf(".");
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const ext = dot > slash + 1 ? path.slice(dot).toLowerCase() : "";
  const format = (CHART_FORMATS as Record<string, ChartFormat>)[ext];
  if (format) return format;
  const valid = Object.keys(CHART_FORMATS).join(", ");
  return ext === ""
    ? `${flag} ${JSON.stringify(path)}: no file extension; valid: ${valid} (an SVG image or a self-contained HTML page)`
    : `${flag} ${JSON.stringify(path)}: unknown extension "${ext}"; valid: ${valid} (an SVG image or a self-contained HTML page)`;
}

/** Width and height of an SVG document's root element, from its attributes. */
function svgSize(svg: string): { width: number; height: number } {
  const root = /^<svg\b[^>]*>/.exec(svg)?.[0];
  const width = Number(root && /\swidth="([\d.]+)"/.exec(root)?.[1]);
  const height = Number(root && /\sheight="([\d.]+)"/.exec(root)?.[1]);
  if (!(width > 0 && height > 0)) {
    throw new Error(`not an SVG document with a width and a height: ${svg.slice(0, 80)}`);
  }
  return { width, height };
}

/**
 * Several SVG documents (from `renderChartSvg`) as one, stacked top to bottom on a white
 * background; each keeps its own coordinates as a nested `<svg>` placed at its offset.
 */
export function stackSvgs(svgs: readonly string[]): string {
  if (svgs.length === 1) return svgs[0]!;
  let y = 0;
  let width = 0;
  const parts: string[] = [];
  for (const svg of svgs) {
    const size = svgSize(svg);
    parts.push(svg.replace(/^<svg\b/, `<svg x="0" y="${y}"`));
    y += size.height;
    width = Math.max(width, size.width);
  }
  return [
    `<svg width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1">`,
    `<rect width="${width}" height="${y}" fill="#ffffff"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}
