/**
 * Opens an HTML or SVG file in headless Chromium (Debian's `chromium`, which `.ci/run`
 * installs) through puppeteer-core, and reports what a person would see: console errors,
 * page errors, failed loads, a PNG screenshot and how much of it is not background.
 *
 * The pixel count runs in the page itself (the screenshot drawn on a canvas), so no PNG
 * decoder is needed here.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";
import { onCI } from "./reference.js";

/** The Chromium binary, or null when this machine has none (tests then skip, saying so). */
export function chromiumPath(): string | null {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      const found = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
      if (found) return found;
    } catch {
      // not on PATH
    }
  }
  return null;
}

/**
 * The Chromium binary for a test: on CI (`CI=true`) its absence fails the test, since
 * `.ci/run` installs it; elsewhere the test is skipped with a message saying why.
 */
export function requireChromium(ctx: Mocha.Context): string {
  const found = chromiumPath();
  if (found) return found;
  const msg =
    "no chromium on PATH (or CHROMIUM_PATH): screenshot tests need Debian's chromium (apt-get install chromium)";
  if (onCI) throw new Error(msg);
  console.warn(`    skipped: ${msg}`);
  ctx.skip();
}

/** What a page showed. */
export interface PageShot {
  /** `console.error` messages and uncaught page errors, in order. */
  readonly errors: readonly string[];
  /** URLs that failed to load (a self-contained page has none). */
  readonly failedRequests: readonly string[];
  /** The screenshot of the viewport (or of `selector`), PNG. */
  readonly png: Buffer;
  /** Share of the screenshot's pixels that differ from its most common colour (the background). */
  readonly inkFraction: number;
  /** Distinct colours in the screenshot (a blank or one-colour picture has 1). */
  readonly colours: number;
}

/** Options of {@link shoot}. */
export interface ShotOptions {
  readonly width?: number;
  readonly height?: number;
  /** Screenshot only this element (e.g. `svg` or `.chart`), else the viewport. */
  readonly selector?: string;
}

/** Counts ink and colours of a PNG given as a data URL, inside the page. */
const INK_SCRIPT = (dataUrl: string) => `(async () => {
  const img = new Image();
  await new Promise((resolve, reject) => { img.onload = resolve; img.onerror = reject; img.src = ${JSON.stringify(dataUrl)}; });
  // createElementNS: in an SVG document (an .svg file) createElement makes an SVG element.
  const canvas = document.createElementNS("http://www.w3.org/1999/xhtml", "canvas");
  canvas.width = img.width; canvas.height = img.height;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  const counts = new Map();
  for (let i = 0; i < data.length; i += 4) {
    const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  let most = 0;
  for (const n of counts.values()) if (n > most) most = n;
  const total = data.length / 4;
  return { ink: total === 0 ? 0 : (total - most) / total, colours: counts.size };
})()`;

/** Opens `file` (an .html or .svg path) in headless Chromium and takes its screenshot. */
export async function shoot(
  chromium: string,
  file: string,
  options: ShotOptions = {},
): Promise<PageShot> {
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // CI runs as root, where Chromium's sandbox refuses to start.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: options.width ?? 1280, height: options.height ?? 900 });
    const errors: string[] = [];
    const failedRequests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e instanceof Error ? e.message : String(e)));
    page.on("requestfailed", (r) => failedRequests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
    let png: Uint8Array;
    if (options.selector) {
      const el = await page.$(options.selector);
      if (!el) throw new Error(`${file}: no element matches ${options.selector}`);
      png = await el.screenshot({ type: "png" });
    } else {
      png = await page.screenshot({ type: "png" });
    }
    const buffer = Buffer.from(png);
    const counted = (await page.evaluate(
      INK_SCRIPT(`data:image/png;base64,${buffer.toString("base64")}`),
    )) as {
      ink: number;
      colours: number;
    };
    return {
      errors,
      failedRequests,
      png: buffer,
      inkFraction: counted.ink,
      colours: counted.colours,
    };
  } finally {
    await browser.close();
  }
}
