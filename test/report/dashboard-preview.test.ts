import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { DashboardJson } from "../../controller/report/dashboard.js";
import {
  annotationTimes,
  type DashboardData,
  formatUnit,
  legendName,
  placeOnGrid,
  renderDashboardPreview,
  type TargetResult,
  thresholdColour,
} from "../../controller/report/dashboard-preview.js";
import { previewStep, rateIntervalSeconds } from "../../controller/triton/prometheus-dashboard.js";
import { projectRoot } from "../support/reference.js";

/** The example pool's golden dashboard JSON (test/fixtures/dashboards/). */
function exampleDashboard(): DashboardJson {
  return JSON.parse(
    readFileSync(join(projectRoot, "test", "fixtures", "dashboards", "yolov8-pool.json"), "utf8"),
  ) as DashboardJson;
}

const FROM = 1_800_000_000;
const TO = FROM + 600;

/** A series of `value` every 10 s over the period. */
function flat(labels: Record<string, string>, value: number) {
  const points: [number, number][] = [];
  for (let t = FROM; t <= TO; t += 10) points.push([t, value]);
  return { labels, points };
}

function data(targets: TargetResult[], extra: Partial<DashboardData> = {}): DashboardData {
  return {
    from: FROM,
    to: TO,
    stepSeconds: 10,
    source: "Prometheus at http://prometheus:9090",
    variables: [{ name: "namespace", value: "vision" }],
    targets,
    annotations: [],
    ...extra,
  };
}

/** The panel `<div>` of `id` in a preview page. */
function panelDiv(html: string, id: number): string {
  const start = html.indexOf(`data-panel-id="${id}"`);
  expect(start, `panel ${id} on the page`).to.be.greaterThan(0);
  const end = html.indexOf('<div class="panel"', start);
  return html.slice(start, end < 0 ? undefined : end);
}

describe("report/dashboard-preview: a dashboard drawn from its JSON and query results", () => {
  describe("placeOnGrid: Grafana's 24 columns, 30 px row units, 8 px margins (1400 px: a column is 50.67 px)", () => {
    const cases = [
      {
        name: "a row header across the grid",
        pos: { x: 0, y: 0, w: 24, h: 1 },
        want: { left: 0, top: 0, width: 1400, height: 30 },
      },
      {
        name: "right half, second row unit: 12 × (50.67 + 8) = 704 left, 38 down",
        pos: { x: 12, y: 1, w: 12, h: 8 },
        want: { left: 704, top: 38, width: 696, height: 296 },
      },
      {
        name: "a third: 8 × 50.67 + 7 × 8 = 461.33 wide, from 8 × 58.67 = 469.33",
        pos: { x: 8, y: 61, w: 8, h: 8 },
        want: { left: 469.33, top: 2318, width: 461.33, height: 296 },
      },
      {
        name: "a stat, 5 units high: 5 × 30 + 4 × 8 = 182",
        pos: { x: 0, y: 69, w: 12, h: 5 },
        want: { left: 0, top: 2622, width: 696, height: 182 },
      },
    ];
    for (const c of cases) {
      it(c.name, () => expect(placeOnGrid(c.pos, 1400)).to.deep.equal(c.want));
    }
  });

  describe("legendName: as Grafana's Prometheus data source names a series", () => {
    const cases: {
      name: string;
      format: string | undefined;
      labels: Record<string, string>;
      want: string;
    }[] = [
      {
        name: "labels substituted",
        format: "{{model}} p99",
        labels: { model: "yolov8s" },
        want: "yolov8s p99",
      },
      {
        name: "spaces inside the braces",
        format: "{{ state }} {{capacity_type}}",
        labels: { state: "ready", capacity_type: "spot" },
        want: "ready spot",
      },
      {
        name: "a label the series lacks leaves its name",
        format: "{{pod}}",
        labels: {},
        want: "pod",
      },
      {
        name: "no format: metric and sorted labels",
        format: "",
        labels: { job: "b", __name__: "up", instance: "a" },
        want: 'up{instance="a", job="b"}',
      },
      {
        name: "__auto without a metric name",
        format: "__auto",
        labels: { pool: "yolo" },
        want: '{pool="yolo"}',
      },
      {
        name: "no format and no labels: the query",
        format: undefined,
        labels: {},
        want: "sum(x)",
      },
    ];
    for (const c of cases) {
      it(c.name, () => expect(legendName(c.format, c.labels, "sum(x)")).to.equal(c.want));
    }
  });

  describe("formatUnit: Grafana's units", () => {
    const cases = [
      { name: "reqps in thousands", unit: "reqps", v: 1500, want: "1.5 K req/s" },
      { name: "reqps", unit: "reqps", v: 12.345, want: "12.3 req/s" },
      { name: "ms", unit: "ms", v: 85, want: "85 ms" },
      { name: "ms past a second", unit: "ms", v: 1500, want: "1.5 s" },
      { name: "percentunit", unit: "percentunit", v: 0.91, want: "91%" },
      { name: "bytes, IEC", unit: "bytes", v: 5120 * 1048576, want: "5 GiB" },
      { name: "USD", unit: "currencyUSD", v: 0.716, want: "$0.716" },
      { name: "a small cost", unit: "currencyUSD", v: 0.00503, want: "$0.00503" },
      { name: "a currency by suffix", unit: "suffix: SEK", v: 7.5, want: "7.5 SEK" },
      { name: "short", unit: "short", v: 3, want: "3" },
      { name: "none", unit: "none", v: 6.25, want: "6.25" },
      { name: "seconds in minutes", unit: "s", v: 90, want: "1.5 min" },
      { name: "+Inf (a missing signal's age)", unit: "s", v: Infinity, want: "+Inf" },
      { name: "an unknown unit keeps its id", unit: "watt", v: 300, want: "300 watt" },
    ];
    for (const c of cases) {
      it(c.name, () => expect(formatUnit(c.unit, c.v)).to.equal(c.want));
    }
  });

  it("thresholdColour: the last step at or below the value", () => {
    const steps = [
      { value: null, color: "green" },
      { value: 85, color: "red" },
    ];
    expect(thresholdColour(steps, 10)).to.equal("#73BF69");
    expect(thresholdColour(steps, 85)).to.equal("#F2495C");
  });

  it("annotationTimes: a run of points one step apart is one event", () => {
    const series = {
      labels: {},
      points: [
        [FROM + 60, 1],
        [FROM + 75, 1],
        [FROM + 300, 2],
      ] as [number, number][],
    };
    const d = data([], {
      annotations: [{ name: "Scale events", stepSeconds: 15, series: [series] }],
    });
    expect(annotationTimes(d)).to.deep.equal([FROM + 60, FROM + 300]);
  });

  describe("renderDashboardPreview of the example pool's dashboard", () => {
    const dashboard = exampleDashboard();
    const latency = (dashboard.panels ?? []).find(
      (p) => p.type === "timeseries" && p.title?.startsWith("Latency"),
    )!;
    const request = (dashboard.panels ?? []).find((p) => p.title === "Request rate")!;
    const cost = (dashboard.panels ?? []).find((p) => p.title === "Cost over the range")!;
    const results: TargetResult[] = [
      {
        panelId: latency.id!,
        refId: "B",
        expr: "p99",
        series: [flat({ model: "yolov8s" }, 40)],
      },
      {
        panelId: request.id!,
        refId: "A",
        expr: "ok",
        series: [flat({ model: "yolov8s" }, 120)],
      },
      {
        panelId: cost.id!,
        refId: "A",
        expr: "cost",
        series: [
          {
            labels: {},
            points: [
              [FROM, 0.5],
              [FROM + 10, 0.716],
              [TO, Number.NaN],
            ],
          },
        ],
      },
    ];
    const withGauge: DashboardJson = {
      ...dashboard,
      title: "pool <b>",
      panels: [
        ...(dashboard.panels ?? []),
        { type: "bargauge", id: 99, title: "A bar gauge", gridPos: { x: 0, y: 80, w: 12, h: 6 } },
      ],
    };
    const preview = renderDashboardPreview(withGauge, data(results));

    it("says it is a preview drawn by tritonscale, not Grafana, and is self-contained", () => {
      expect(preview.html).to.include("not by Grafana");
      expect(preview.html).to.include("Prometheus at http://prometheus:9090");
      expect(preview.html).not.to.match(/<script|<link|src=/);
      expect(preview.html).to.include("<h1>pool &#60;b&#62;</h1>");
    });

    it("places every panel at its gridPos", () => {
      expect(panelDiv(preview.html, 3)).to.include("left:704px;top:38px;width:696px;height:296px");
      expect(preview.panels.map((p) => p.id)).to.deep.equal(
        (withGauge.panels ?? []).map((p) => p.id),
      );
    });

    it("draws the latency panel: its series named by the legend format, its SLO line red and dashed", () => {
      const div = panelDiv(preview.html, latency.id!);
      expect(div).to.include("<svg");
      expect(div).to.include("yolov8s p99");
      expect(div).to.match(
        /stroke="#F2495C"[^>]*stroke-dasharray|stroke-dasharray[^>]*stroke="#F2495C"/,
      );
      expect(div).to.include("40 ms");
      expect(preview.panels.find((p) => p.id === latency.id)).to.deep.include({
        drawn: "chart",
        series: 1,
      });
    });

    it("annotations: each event a dashed orange line on the time series panels, counted in the note", () => {
      const events = renderDashboardPreview(
        dashboard,
        data(results, {
          annotations: [
            {
              name: "Scale events",
              stepSeconds: 15,
              series: [{ labels: { direction: "up" }, points: [[FROM + 300, 1]] }],
            },
          ],
        }),
      ).html;
      expect(panelDiv(events, request.id!)).to.include('stroke="#FF9830"');
      expect(panelDiv(preview.html, request.id!)).not.to.include('stroke="#FF9830"');
      expect(events).to.include("Annotations (Scale events): 1 event(s)");
    });

    it("a panel type it does not draw gets a box saying so", () => {
      expect(preview.panels.find((p) => p.id === 99)).to.deep.include({
        drawn: "unsupported",
        type: "bargauge",
      });
      expect(panelDiv(preview.html, 99)).to.include(
        "Panel type “bargauge” is not drawn by this preview",
      );
    });

    it("a panel whose queries returned nothing says No data", () => {
      const batch = (dashboard.panels ?? []).find((p) => p.title === "Batch fill")!;
      expect(panelDiv(preview.html, batch.id!)).to.include("No data");
      expect(preview.panels.find((p) => p.id === batch.id)?.drawn).to.equal("no data");
    });

    it("a stat shows the last non-null value in its unit", () => {
      expect(panelDiv(preview.html, cost.id!)).to.include("$0.716");
      expect(preview.panels.find((p) => p.id === cost.id)?.drawn).to.equal("stat");
    });
  });

  describe("Grafana's step and $__rate_interval", () => {
    const cases = [
      {
        name: "6 h at 15 s: step 36 s, rate interval 60 s",
        range: 6 * 3600,
        scrape: 15,
        step: 36,
        rate: 60,
      },
      {
        name: "2 min at 1 s: step 1 s, rate interval 4 s",
        range: 120,
        scrape: 1,
        step: 1,
        rate: 4,
      },
      {
        name: "30 days at 30 s: step 4320 s, rate interval 4350 s",
        range: 30 * 86400,
        scrape: 30,
        step: 4320,
        rate: 4350,
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const step = previewStep(FROM, FROM + c.range, c.scrape);
        expect(step).to.equal(c.step);
        expect(rateIntervalSeconds(step, c.scrape)).to.equal(c.rate);
      });
    }
  });
});
