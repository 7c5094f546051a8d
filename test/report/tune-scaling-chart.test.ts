import { expect } from "chai";
import {
  describeChanges,
  renderTuneScalingChart,
  type TuneScalingChartInput,
  tuneScalingOption,
} from "../../controller/report/tune-scaling-chart.js";
import { createLinearProfile } from "../../controller/simulate/profile.js";
import { parseTraceSpec } from "../../controller/simulate/trace.js";
import { type ScalingScore, tuneScaling } from "../../controller/simulate/tune-scaling.js";
import { minimalPool } from "../support/pools.js";

function score(cost: number, attainment: number, met: boolean): ScalingScore {
  return {
    gpuHours: cost * 2,
    cost,
    attainment,
    worstAttainment: attainment,
    requests: 1000,
    met,
  };
}

const AS_IS = score(2.4, 0.6063, false);
const TUNED = score(2.43, 0.9969, true);
const CHANGE = { path: "spec.scaling.minReplicas", from: 0, to: 3 } as const;

const INPUT: TuneScalingChartInput = {
  title: "vision/yolo <detect>",
  sloMs: 85,
  currency: "USD",
  result: {
    sloTarget: 0.995,
    tried: [
      { changes: [], score: AS_IS },
      { changes: [CHANGE], score: TUNED },
      { changes: [CHANGE], score: score(1.9, 0.978, false) },
      { changes: [CHANGE], score: score(6.3, 1, true) },
    ],
    tuned: TUNED,
    validated: score(4.86, 0.996, true),
    baseline: { tuned: AS_IS, validated: score(4.82, 0.6033, false) },
    changes: [CHANGE],
  },
};

interface Series {
  name: string;
  data: [number, number][];
  label?: { formatter: string };
  markLine?: { data: { yAxis: number }[] };
}

describe("report/tune-scaling-chart: cost against attainment of the knob sets tune --scaling tried", () => {
  const option = tuneScalingOption(INPUT) as unknown as {
    series: Series[];
    yAxis: { min: number };
  };
  const byName = (n: string) => option.series.find((s) => s.name === n)!;

  it("splits the knob sets tried into met and missed, at (cost, attainment %)", () => {
    expect(byName("met the target").data).to.deep.equal([
      [2.43, 99.69],
      [6.3, 100],
    ]);
    expect(byName("missed it").data).to.deep.equal([
      [2.4, 60.63],
      [1.9, 97.8],
    ]);
  });

  it("rings the pool as it was and the tuned policy, and draws the target line", () => {
    expect(byName("pool as is").data).to.deep.equal([[2.4, 60.63]]);
    expect(byName("tuned").data).to.deep.equal([[2.43, 99.69]]);
    expect(byName("tuned").label!.formatter).to.equal("tuned: 2.43 USD, 99.69%");
    expect(byName("missed it").markLine!.data).to.deep.equal([{ yAxis: 99.5 }]);
    expect(option.yAxis.min).to.be.at.most(60.63);
  });

  it("renders an SVG, and a page with the before/after table of both parts and the changes", () => {
    const svg = renderTuneScalingChart(INPUT, "svg");
    expect(svg.startsWith("<svg")).to.equal(true);
    expect(svg).to.include("target 99.50%");
    const html = renderTuneScalingChart(INPUT, "html");
    expect(html).to.include(
      "<td>held back</td><td>tuned</td><td>9.72</td><td>4.86</td><td>99.60%</td><td>met</td>",
    );
    expect(html).to.include("changes: minReplicas 0 → 3");
    expect(html).to.include("<title>vision/yolo &#60;detect&#62;</title>");
    expect(describeChanges([])).to.equal("the pool's own values");
  });

  it("draws what tuneScaling ran: every candidate in `tried`, the pool as it was first", function () {
    this.timeout(60_000);
    const r = tuneScaling({
      policy: minimalPool({ scaling: { targetUtilization: 0.5, maxReplicas: 6 } }),
      profile: createLinearProfile(4, 2.2),
      tuneOn: [parseTraceSpec("synthetic:steady:rate=500:duration=2m", 1)],
      validateOn: [parseTraceSpec("synthetic:steady:rate=500:duration=2m", 2)],
      sloTarget: 0.995,
      seed: 1,
      budget: 5,
    });
    expect(r.tried).to.have.lengthOf(r.candidates);
    expect(r.tried[0]).to.deep.equal({ changes: [], score: r.baseline.tuned });
    expect(r.tried.map((t) => t.score)).to.deep.include(r.tuned);
    const best = r.tried.find((t) => t.score === r.tuned)!;
    expect(best.changes).to.deep.equal(r.changes);
  });
});
