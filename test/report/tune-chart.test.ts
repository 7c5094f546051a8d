import { expect } from "chai";
import {
  renderTuneChart,
  type TuneChartInput,
  tuneOption,
} from "../../controller/report/tune-chart.js";
import type { TuneCandidate } from "../../controller/simulate/tune.js";

/** A candidate with the given throughput and p99 (the rest of capacity plausible). */
function candidate(
  maxBatchSize: number,
  instances: number,
  delay: number,
  rps: number,
  p99: number,
): TuneCandidate {
  return {
    maxBatchSize,
    preferredBatchSizes: maxBatchSize >= 4 ? [maxBatchSize / 2, maxBatchSize] : [],
    maxQueueDelayMicroseconds: delay,
    instances,
    capacity: {
      requestsPerSecond: rps,
      p99Ms: p99,
      meanBatch: 2,
      saturationRequestsPerSecond: rps * 1.2,
    },
  };
}

/** Ranked as tuneBatching ranks: the chosen first. */
const CANDIDATES: TuneCandidate[] = [
  candidate(8, 1, 1000, 340, 84.6),
  candidate(8, 2, 1000, 342, 84.9),
  candidate(4, 1, 0, 280, 84.2),
  candidate(4, 2, 500, 276, 83.1),
  candidate(1, 1, 0, 134, 84.9),
  candidate(1, 2, 0, 0, 91.5),
];

interface ScatterSeries {
  name: string;
  data: ({ value: [number, number]; symbol: string } | [number, number])[];
  label?: { formatter: string };
  markLine?: { data: { xAxis: number }[]; label: { formatter: string } };
}

describe("report/tune-chart: throughput per GPU against p99 for tune --chart", () => {
  const input: TuneChartInput = {
    title: "vision/yolo model yolov8s",
    candidates: CANDIDATES,
    chosen: 0,
    sloMs: 85,
    gpusPerReplica: 2,
  };
  const option = tuneOption(input) as unknown as {
    series: ScatterSeries[];
    xAxis: { min: number; max: number };
  };

  it("one series per max_batch_size holding every candidate, per GPU, marker per instance count", () => {
    const batches = option.series.filter((s) => s.name.startsWith("max batch"));
    expect(batches.map((s) => s.name)).to.deep.equal(["max batch 1", "max batch 4", "max batch 8"]);
    expect(batches.reduce((n, s) => n + s.data.length, 0)).to.equal(CANDIDATES.length);
    const eight = batches[2]!.data as { value: [number, number]; symbol: string }[];
    expect(eight).to.deep.equal([
      { value: [84.6, 170], symbol: "circle" },
      { value: [84.9, 171], symbol: "triangle" },
    ]);
  });

  it("marks the chosen configuration, named, at its point", () => {
    const chosen = option.series.find((s) => s.name === "chosen")!;
    expect(chosen.data).to.deep.equal([[84.6, 170]]);
    expect(chosen.label!.formatter).to.equal(
      "chosen: max batch 8, preferred 4,8, delay 1000 µs, 1 instance\n170.0 req/s per GPU at p99 84.6 ms",
    );
    const other = tuneOption({ ...input, chosen: 2 }) as unknown as { series: ScatterSeries[] };
    expect(other.series.find((s) => s.name === "chosen")!.data).to.deep.equal([[84.2, 140]]);
  });

  it("draws the SLO as a vertical line, inside an x axis that spans every point", () => {
    const slo = option.series.find((s) => s.name === "SLO")!;
    expect(slo.markLine!.data).to.deep.equal([{ xAxis: 85 }]);
    expect(slo.markLine!.label.formatter).to.equal("SLO 85 ms");
    expect(option.xAxis.min).to.be.at.most(83.1);
    expect(option.xAxis.max).to.be.at.least(91.5);
  });

  it("renders an SVG with the chosen label, and a page with the best ten, the chosen in bold", () => {
    const svg = renderTuneChart(input, "svg");
    expect(svg.startsWith("<svg")).to.equal(true);
    expect(svg).to.include("chosen: max batch 8");
    expect(svg).to.include("SLO 85 ms");
    const html = renderTuneChart(input, "html");
    expect(html).to.include(
      '<tr style="font-weight:bold"><td>8</td><td>4,8</td><td>1000</td><td>1</td><td>170.0</td><td>84.6</td></tr>',
    );
    expect(html.match(/<tr style="font-weight:bold">/g)).to.have.lengthOf(1);
    // Named by the page's <title> and heading; the chart inside does not repeat it.
    expect(html.match(/vision\/yolo model yolov8s/g)).to.have.lengthOf(2);
    expect(svg.match(/vision\/yolo model yolov8s/g)).to.have.lengthOf(1);
  });
});
