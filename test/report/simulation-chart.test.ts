import { expect } from "chai";
import { chartFormatOf, stackSvgs } from "../../controller/report/chart-file.js";
import {
  attainmentAxisFloor,
  type ChartRow,
  renderSimulationChart,
  rowsOption,
  type SimulationChartInput,
  TimelineCollector,
  timelineOption,
} from "../../controller/report/simulation-chart.js";
import type { TimelineRow } from "../../controller/simulate/engine.js";

const START = Date.UTC(2026, 0, 5) / 1000;
const WEEK = 7 * 86_400;

/** A timeline row at `t` with the given figures (the rest zero). */
function row(t: number, over: Partial<TimelineRow>): TimelineRow {
  return {
    t,
    arrivalsPerSecond: 100,
    served: 6000,
    rejected: 0,
    failed: 0,
    readySpot: 0,
    readyOnDemand: 2,
    starting: 0,
    pending: 0,
    desired: 2,
    queued: 0,
    p99Ms: 20,
    cost: t / 3600,
    reason: "",
    ...over,
  };
}

const ROWS: ChartRow[] = [
  {
    name: "tritonscale",
    kind: "scaler",
    gpuHours: 10,
    cost: 5.2,
    sloAttainment: 0.998,
    metSloTarget: true,
  },
  {
    name: "keda-queue",
    kind: "scaler",
    gpuHours: 30,
    cost: 15.7,
    sloAttainment: 0.91,
    metSloTarget: false,
  },
  {
    name: "oracle",
    kind: "bound",
    gpuHours: 8,
    cost: 4.1,
    sloAttainment: 0.996,
    metSloTarget: true,
  },
  {
    name: "lead-oracle",
    kind: "bound",
    gpuHours: 9,
    cost: 4.6,
    sloAttainment: 0.99,
    metSloTarget: false,
  },
];

/** A week at one row a minute for every row; tritonscale has one 30 s p99 spike. */
function weekInput(): SimulationChartInput {
  const collector = new TimelineCollector(WEEK, 60);
  for (const r of ROWS) {
    for (let t = 60; t <= WEEK; t += 60) {
      collector.add(
        r.name,
        row(t, {
          p99Ms: r.name === "tritonscale" && t === 3 * 86_400 + 600 ? 30_000 : 20 + (t % 7),
          readyOnDemand: r.name === "tritonscale" && t === 5 * 86_400 ? 12 : 2,
          served: t === 120 ? 0 : 6000,
        }),
      );
    }
  }
  return {
    title: "vision/yolo <detect>",
    subtitle: "a week",
    sloMs: 85,
    sloTarget: 0.995,
    currency: "EUR",
    startEpochSeconds: START,
    warmupSeconds: 7200,
    intervalSeconds: 60,
    rows: ROWS,
    timeline: (name) => collector.series(name),
  };
}

interface LineSeries {
  type: string;
  name: string;
  xAxisIndex?: number;
  data: [number, number | null][] | { value: number; itemStyle: { borderColor?: string } }[];
  lineStyle?: { type?: string };
  markLine?: { data: { yAxis?: number; xAxis?: number }[]; label: { formatter: string } };
  markArea?: { data: [{ xAxis: number }, { xAxis: number }][] };
}

describe("report/simulation-chart: the timeline and the per-row bars of simulate --chart", () => {
  const input = weekInput();
  const timeline = timelineOption(input) as unknown as { series: LineSeries[] };
  const lines = (grid: number) => timeline.series.filter((s) => s.xAxisIndex === grid);

  it("draws arrivals once and replicas, p99 and cost once per row, each ≤ 2,000 points for a week", () => {
    expect(lines(0).map((s) => s.name)).to.deep.equal(["arrivals"]);
    const labels = ["tritonscale", "keda-queue", "oracle (bound)", "lead-oracle (not a bound)"];
    expect(lines(1).map((s) => s.name)).to.deep.equal(labels);
    expect(lines(2).map((s) => s.name)).to.deep.equal([...labels, "SLO"]);
    expect(lines(3).map((s) => s.name)).to.deep.equal(labels);
    for (const s of timeline.series.filter((x) => x.name !== "SLO")) {
      expect(s.data.length, s.name).to.be.within(1000, 2000);
    }
  });

  it("keeps the one-minute p99 spike and replica peak of a week after downsampling", () => {
    const p99 = lines(2).find((s) => s.name === "tritonscale")!.data as [number, number | null][];
    expect(Math.max(...p99.map(([, y]) => y ?? 0))).to.equal(30_000);
    const spike = p99.find(([, y]) => y === 30_000)!;
    expect(spike[0]).to.equal((START + 3 * 86_400 + 600) * 1000);
    const replicas = lines(1).find((s) => s.name === "tritonscale")!.data as [number, number][];
    expect(Math.max(...replicas.map(([, y]) => y))).to.equal(12);
  });

  it("a week at one row a second (604,800 rows): ≤ 2,000 points a series as it comes, the spike kept", () => {
    const collector = new TimelineCollector(WEEK, 1);
    const spikeAt = 4 * 86_400 + 12_345;
    for (let t = 1; t <= WEEK; t++) {
      collector.add("tritonscale", row(t, { p99Ms: t === spikeAt ? 45_000 : 20 + (t % 11) }));
    }
    const s = collector.series("tritonscale")!;
    expect(s.rows).to.equal(WEEK);
    for (const points of [s.arrivals, s.replicas, s.p99Ms, s.cost]) {
      expect(points.length).to.be.within(1000, 2000);
    }
    expect(s.p99Ms).to.deep.include([spikeAt, 45_000]);
    expect(s.cost.at(-1)).to.deep.equal([WEEK, WEEK / 3600]);
  });

  it("leaves a gap where no request finished (p99 of nothing is not 0 ms)", () => {
    const hour = new TimelineCollector(3600, 60);
    for (let t = 60; t <= 3600; t += 60) hour.add("a", row(t, { served: t === 120 ? 0 : 10 }));
    const p99 = hour.series("a")!.p99Ms;
    expect(p99).to.have.lengthOf(60);
    expect(p99[1]).to.deep.equal([120, null]);
    expect(p99[2]).to.deep.equal([180, 20]);
  });

  it("draws the SLO line on the latency panel and shades the warmup", () => {
    const slo = lines(2).find((s) => s.name === "SLO")!;
    expect(slo.markLine!.data).to.deep.equal([{ yAxis: 85 }]);
    expect(slo.markLine!.label.formatter).to.equal("SLO 85 ms");
    expect(lines(0)[0]!.markArea!.data).to.deep.equal([
      [{ xAxis: START * 1000 }, { xAxis: (START + 7200) * 1000 }],
    ]);
  });

  it("dashes the bounds' lines and names them bounds (or not, when they missed)", () => {
    const dashed = lines(1)
      .filter((s) => s.lineStyle?.type === "dashed")
      .map((s) => s.name);
    expect(dashed).to.deep.equal(["oracle (bound)", "lead-oracle (not a bound)"]);
  });

  it("bars every row, the target line at 99.5%, missed rows outlined red", () => {
    const bars = rowsOption(input) as unknown as {
      series: LineSeries[];
      yAxis: { data: string[] }[];
    };
    expect(bars.yAxis[0]!.data).to.deep.equal([
      "tritonscale",
      "keda-queue",
      "oracle (bound)",
      "lead-oracle (not a bound)",
    ]);
    const [hours, attainment] = bars.series;
    expect((hours!.data as { value: number }[]).map((d) => d.value)).to.deep.equal([10, 30, 8, 9]);
    expect(attainment!.markLine!.data).to.deep.equal([{ xAxis: 99.5 }]);
    const outlined = (attainment!.data as { itemStyle: { borderColor?: string } }[]).map(
      (d) => d.itemStyle.borderColor !== undefined,
    );
    expect(outlined).to.deep.equal([false, true, false, true]);
  });

  const floors: { name: string; lowest: number; floor: number }[] = [
    { name: "all near the target: tenths", lowest: 0.9952, floor: 99.4 },
    { name: "one row at 98.15%: whole percents, half a step below it", lowest: 0.9815, floor: 97 },
    { name: "one row at 82.59%: fives", lowest: 0.8259, floor: 80 },
    { name: "one row at 60%: tens", lowest: 0.6, floor: 50 },
    { name: "one row at 30%: quarters", lowest: 0.3, floor: 0 },
    { name: "one row at 0%: from 0", lowest: 0, floor: 0 },
  ];
  for (const c of floors) {
    it(`attainment axis floor: ${c.name}`, () => {
      expect(attainmentAxisFloor(c.lowest)).to.equal(c.floor);
    });
  }

  it("renders one SVG holding both charts, and a page with both, the table and escaped names", () => {
    const svg = renderSimulationChart(input, "svg");
    expect(svg.startsWith("<svg")).to.equal(true);
    expect(svg.match(/<svg\b/g)).to.have.lengthOf(3);
    expect(svg).to.match(/^<svg width="1100" height="(\d+)"/);
    expect(svg).to.include("SLO 85 ms");
    expect(svg).to.include("Cost since the start of the run (EUR)");
    expect(svg).to.include("vision/yolo &lt;detect&gt;");
    const html = renderSimulationChart(input, "html");
    expect(html.match(/<svg\b/g)).to.have.lengthOf(2);
    expect(html).to.include("<title>vision/yolo &#60;detect&#62;</title>");
    // The page's heading names it; the chart inside does not say it again.
    expect(html).not.to.include("vision/yolo &lt;detect&gt;");
    expect(html).to.include("<td>lead-oracle (not a bound)</td>");
    expect(html).not.to.include("<script");
  });

  it("draws no timeline line for a row that wrote none, and still the SLO line", () => {
    const none = timelineOption({ ...input, timeline: () => undefined }) as unknown as {
      series: LineSeries[];
    };
    expect(none.series.map((s) => s.name)).to.deep.equal(["arrivals", "SLO"]);
  });
});

describe("report/chart-file: --chart's extension and stacked SVGs", () => {
  const cases: { name: string; path: string; expected: string | RegExp }[] = [
    { name: ".svg", path: "out/sim.svg", expected: "svg" },
    { name: ".html", path: "sim.html", expected: "html" },
    { name: ".htm, upper case", path: "SIM.HTM", expected: "html" },
    {
      name: "a .png names the flag, the extension and the valid ones",
      path: "sim.png",
      expected:
        '--chart "sim.png": unknown extension ".png"; valid: .svg, .html, .htm (an SVG image or a self-contained HTML page)',
    },
    {
      name: "no extension (the dot is the folder's)",
      path: "out.d/sim",
      expected: /^--chart "out.d\/sim": no file extension; valid: \.svg, \.html, \.htm/,
    },
    { name: "a dot file", path: ".svg", expected: /no file extension/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = chartFormatOf("--chart", c.path);
      if (c.expected instanceof RegExp) expect(got).to.match(c.expected);
      else expect(got).to.equal(c.expected);
    });
  }

  it("stacks SVGs top to bottom, each at its offset, in one document", () => {
    const a = '<svg width="100" height="40" xmlns="http://www.w3.org/2000/svg"><rect/></svg>';
    const b = '<svg width="80" height="60" xmlns="http://www.w3.org/2000/svg"><circle/></svg>';
    const out = stackSvgs([a, b]);
    expect(out).to.match(/^<svg width="100" height="100" viewBox="0 0 100 100"/);
    expect(out).to.include('<svg x="0" y="0" width="100"');
    expect(out).to.include('<svg x="0" y="40" width="80"');
    expect(() => stackSvgs(["<svg>", a])).to.throw(/not an SVG document with a width/);
  });
});
