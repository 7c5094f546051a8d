import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { escapeHtml, htmlPage, renderChartSvg } from "../../controller/report/chart.js";
import { requireChromium, shoot } from "../support/chromium.js";

describe("report/chart: ECharts SVG and the self-contained page", () => {
  const line = renderChartSvg(
    {
      xAxis: { type: "category", data: ["00:00", "06:00", "12:00", "18:00"] },
      yAxis: { type: "value", name: "req/s" },
      series: [{ type: "line", name: "arrivals", data: [40, 120, 300, 90] }],
    },
    { width: 640, height: 320 },
  );

  it("draws an SVG document of the size asked, with the series' path", () => {
    expect(line.startsWith("<svg")).to.equal(true);
    expect(line).to.match(/width="640" height="320"/);
    expect(line).to.include("<path");
  });

  it("refuses a size that draws nothing", () => {
    expect(() => renderChartSvg({}, { width: 0, height: 100 })).to.throw(
      /chart size must be positive, got 0×100/,
    );
  });

  it("escapes text from pools: a name is never markup", () => {
    expect(escapeHtml(`<b>"a" & 'b'</b>`)).to.equal(
      "&#60;b&#62;&#34;a&#34; &#38; &#39;b&#39;&#60;/b&#62;",
    );
    const page = htmlPage("pool <x>", [{ heading: "h&h", caption: "<script>", svg: line }]);
    expect(page).to.include("<title>pool &#60;x&#62;</title>");
    expect(page).not.to.include("<script>");
    expect(page).to.include("<h2>h&#38;h</h2>");
  });

  describe("in headless Chromium", function () {
    this.timeout(120_000);
    let chromium = "";
    let dir = "";
    before(function () {
      chromium = requireChromium(this);
      dir = mkdtempSync(join(tmpdir(), "tritonscale-chart-"));
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("renders the page with no console error and ink in the chart", async () => {
      const file = join(dir, "page.html");
      writeFileSync(file, htmlPage("A chart", [{ heading: "arrivals", svg: line }]));
      const shot = await shoot(chromium, file, { selector: ".chart" });
      expect(shot.errors).to.deep.equal([]);
      expect(shot.failedRequests).to.deep.equal([]);
      expect(shot.colours).to.be.greaterThan(3);
      expect(shot.inkFraction).to.be.within(0.01, 0.6);
    });

    it("the pixel check fails on a blank chart and reports a script error (the check can fail)", async () => {
      const blank = join(dir, "blank.html");
      writeFileSync(
        blank,
        htmlPage("Blank", [
          {
            heading: "nothing",
            html: '<div class="chart" style="width:300px;height:200px"></div>',
          },
        ]).replace("</body>", "<script>console.error('boom')</script></body>"),
      );
      const shot = await shoot(chromium, blank, { selector: ".chart" });
      expect(shot.errors).to.deep.equal(["boom"]);
      expect(shot.inkFraction).to.equal(0);
      expect(shot.colours).to.equal(1);
    });
  });
});
