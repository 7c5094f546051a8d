import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { buildCostReport, poolPrices } from "../../controller/report/cost.js";
import { costChartOptions, formatCostHtml } from "../../controller/report/cost-format.js";
import type { UsageBucket } from "../../controller/report/usage.js";
import { packageRoot } from "../../controller/util/package-root.js";
import { requireChromium, shoot } from "../support/chromium.js";

/**
 * The cost report's page in headless Chromium: no console error, nothing fetched, and each
 * chart drawn (ink in its screenshot, and its first series' bars in the SVG). One PNG per
 * chart kind is kept as a reviewable fixture under test/fixtures/screenshots/ (rewritten
 * with UPDATE_SCREENSHOTS=1, written when missing; never compared pixel by pixel, as fonts
 * differ between machines).
 */

const SCREENSHOTS = join(packageRoot, "test", "fixtures", "screenshots");
const DAY = 86_400;
const T0 = Date.UTC(2026, 0, 5) / 1000;
/** ECharts' default palette's first colour: the first series' bars. */
const FIRST_SERIES = 'fill="#5070dd"';

/** Three days of a pool with on-demand and Spot replicas (made-up figures). */
function buckets(): UsageBucket[] {
  const out: UsageBucket[] = [];
  [
    [20, 14, 30, 1.2e6],
    [24, 18, 36, 1.5e6],
    [18, 12, 26, 1.1e6],
  ].forEach(([od, spot, busy, requests], d) => {
    for (const [type, hours] of [
      ["onDemand", od],
      ["spot", spot],
    ] as const) {
      out.push({
        pool: "yolo-fleet",
        namespace: "vision",
        model: "yolo11m",
        capacityType: type,
        gpuType: "nvidia-tesla-t4",
        start: T0 + d * DAY,
        seconds: DAY,
        gpuHours: hours!,
        busyGpuHours: (busy! * hours!) / (od! + spot!),
        requests: (requests! * hours!) / (od! + spot!),
        requestsWithinSlo: (requests! * hours! * (0.99 + d * 0.003)) / (od! + spot!),
      });
    }
  });
  return out;
}

describe("report cost --html in headless Chromium", function () {
  this.timeout(180_000);
  let chromium = "";
  let dir = "";
  before(function () {
    chromium = requireChromium(this);
    dir = mkdtempSync(join(tmpdir(), "tritonscale-cost-page-"));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const report = buildCostReport({
    ledger: {
      source: "simulation",
      from: T0,
      to: T0 + 3 * DAY,
      buckets: buckets(),
      scaleEvents: [],
      notes: [],
    },
    prices: poolPrices("yolo-fleet", "vision", "nvidia-tesla-t4", {
      currency: "USD",
      onDemandPerGpuHour: 0.526,
      spotPerGpuHour: 0.19,
    }),
  });
  /** Chart kinds in page order: the table is section 1, the charts sections 2 to 5. */
  const kinds = Object.keys(costChartOptions(report));
  const page = formatCostHtml(report, "Cost of vision/yolo-fleet", { sloTarget: 0.995 });

  it("has the four chart kinds", () => {
    expect(kinds).to.deep.equal(["cost-per-day", "gpu-hours", "cost-per-1k", "slo-attainment"]);
  });

  it("draws the SLO target as a line on the attainment chart", () => {
    const slo = page.split("<section>")[5]!;
    expect(slo).to.include("<h2>SLO attainment</h2>");
    expect(slo).to.include("against the target of 99.5%");
    expect(slo).to.include("target 99.5%");
    expect(page.split("<section>")[2]).not.to.include("target 99.5%");
  });

  kinds.forEach((kind, i) => {
    it(`${kind}: renders with no console error and draws its bars`, async () => {
      const file = join(dir, "cost.html");
      if (!existsSync(file)) writeFileSync(file, page);
      const selector = `section:nth-of-type(${i + 2}) .chart svg`;
      const shot = await shoot(chromium, file, { selector });
      expect(shot.errors).to.deep.equal([]);
      expect(shot.failedRequests).to.deep.equal([]);
      expect(shot.colours).to.be.greaterThan(3);
      expect(shot.inkFraction).to.be.within(0.01, 0.6);
      const svg = page.split("<section>")[i + 2]!;
      // Three days of bars plus the legend's mark, in the first series' colour.
      expect(svg.split(FIRST_SERIES).length - 1).to.be.at.least(3 + 1);
      const fixture = join(SCREENSHOTS, `cost-${kind}.png`);
      if (process.env.UPDATE_SCREENSHOTS === "1" || !existsSync(fixture)) {
        mkdirSync(SCREENSHOTS, { recursive: true });
        writeFileSync(fixture, shot.png);
      }
    });
  });
});
