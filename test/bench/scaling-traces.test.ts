import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { Row } from "../../bench/scaling-rows.js";
import { compareRows, seededTrace, tuneForBench } from "../../bench/scaling-rows.js";
import {
  assertTuningSawNoReportSeed,
  HARD_TRACES,
  judge,
  lowShare,
  REPORT_SEEDS,
  TUNE_SEEDS,
} from "../../bench/scaling-traces.js";
import { loadModelPool } from "../../controller/policy/index.js";
import { DEFAULT_PROFILE } from "../../controller/simulate/profile.js";
import { parseTraceSpec } from "../../controller/simulate/trace.js";
import { packageRoot } from "../../controller/util/package-root.js";

describe("bench: hard trace set", () => {
  it("has at least 8 trace kinds, each a valid spec in full and quick form, on distinct report seeds", () => {
    expect(new Set(HARD_TRACES.map((t) => t.name)).size).to.be.at.least(8);
    expect(HARD_TRACES.length).to.be.at.least(8);
    for (const t of HARD_TRACES) {
      for (const quick of [false, true]) {
        expect(() => parseTraceSpec(t.spec(quick), 1), `${t.name} quick=${quick}`).not.to.throw();
      }
      expect(REPORT_SEEDS as readonly number[], t.name).to.include(t.reportSeed);
    }
    expect(new Set(HARD_TRACES.map((t) => t.reportSeed)).size).to.equal(HARD_TRACES.length);
  });

  it("fixes report seeds 1001–1010 and tune seeds 1–5, disjoint", () => {
    expect([...REPORT_SEEDS]).to.deep.equal([
      1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010,
    ]);
    expect([...TUNE_SEEDS]).to.deep.equal([1, 2, 3, 4, 5]);
    for (const s of TUNE_SEEDS) expect(REPORT_SEEDS as readonly number[]).not.to.include(s);
  });

  const checks: { name: string; seen: number[]; throws: boolean }[] = [
    { name: "tune seeds only", seen: [1, 2, 3], throws: false },
    { name: "nothing seen", seen: [], throws: false },
    { name: "one report seed among tune seeds", seen: [1, 1004], throws: true },
    { name: "only a report seed", seen: [1010], throws: true },
  ];
  for (const c of checks) {
    it(`the tuning check ${c.throws ? "refuses" : "accepts"} ${c.name}`, () => {
      const run = () => assertTuningSawNoReportSeed(new Set(c.seen));
      if (c.throws) expect(run).to.throw(/tuning read report seed/);
      else expect(run).not.to.throw();
    });
  }

  it("the tuner records every seed it was handed, and the check catches a report seed among them", () => {
    const file = join(packageRoot, "examples", "yolov8-pool.yaml");
    const policy = loadModelPool(readFileSync(file, "utf8"), file);
    const spec = "synthetic:poisson:rate=50:duration=5m";
    const out = tuneForBench({
      policy,
      profile: DEFAULT_PROFILE,
      tuneOn: [seededTrace(spec, 2)],
      validateOn: [seededTrace(spec, 1003)],
      sloTarget: 0.995,
      seed: 1,
      budget: 1,
    });
    expect([...out.seedsSeen].sort((a, b) => a - b)).to.deep.equal([1, 2, 1003]);
    // The pool as it is on the tuning trace (the whole budget of 1), then the tuned pool and
    // the pool as it was on the held-back trace.
    expect(out.simulations).to.equal(3);
    expect(() => assertTuningSawNoReportSeed(out.seedsSeen)).to.throw(/1003/);
  });

  it("--warmup: the rows count only what comes after the warm-up (the first 5 of 10 min: about half the requests)", () => {
    const file = join(packageRoot, "examples", "yolov8-pool.yaml");
    const policy = loadModelPool(readFileSync(file, "utf8"), file);
    const spec = "synthetic:poisson:rate=50:duration=10m";
    const rows = (warmupSeconds: number) =>
      compareRows({
        policy,
        trace: seededTrace(spec, 2),
        profile: DEFAULT_PROFILE,
        controls: ["static:1"],
        seed: 2,
        sloTarget: 0.995,
        warmupSeconds,
      }).rows[0]!;
    const cold = rows(0);
    const warm = rows(300);
    expect(warm.requests / cold.requests).to.be.within(0.45, 0.55);
    expect(warm.gpuHours / cold.gpuHours).to.be.within(0.45, 0.55);
  });

  it("computes the share of time below a third of the peak from the trace", () => {
    expect(lowShare(parseTraceSpec("synthetic:poisson:rate=100:duration=1h", 1))).to.equal(0);
    const idle = lowShare(
      parseTraceSpec(
        "synthetic:bursts:base=0:burst=100:length=10m:gap=30m:gaps=fixed:duration=2h",
        1,
      ),
    );
    // Bursts at minutes 30–40, 70–80 and 110–120: 90 of 120 minutes idle.
    expect(idle).to.be.closeTo(90 / 120, 1e-9);
  });
});

describe("bench: tritonscale's targets per trace", () => {
  const row = (name: string, gpuHours: number, sloAttainment: number, detail?: string): Row =>
    ({
      name,
      gpuHours,
      sloAttainment,
      metSloTarget: sloAttainment >= 0.995,
      ...(detail ? { detail } : {}),
    }) as unknown as Row;
  const rows = (ts: [number, number], bs: [number, number], lo: [number, number]) =>
    new Map<string, Row>([
      ["tritonscale", row("tritonscale", ...ts)],
      ["hpa-gpu", row("hpa-gpu", 10, 0.99)],
      ["keda-queue", row("keda-queue", 12, 0.9)],
      ["best-static", row("best-static", ...bs, "static:4")],
      ["lead-oracle", row("lead-oracle", ...lo)],
    ]);
  const cases: {
    name: string;
    rows: Map<string, Row>;
    low: number;
    learnable: boolean;
    unpredictable?: boolean;
    statuses: string[];
  }[] = [
    {
      name: "all met",
      rows: rows([5, 0.999], [8, 0.996], [4.5, 0.996]),
      low: 0.4,
      learnable: true,
      statuses: ["met", "met", "met", "met"],
    },
    {
      name: "misses the SLO, too dear against best-static and lead-oracle",
      rows: rows([7, 0.98], [8, 0.996], [4, 0.996]),
      low: 0.4,
      learnable: true,
      statuses: ["MISS", "MISS", "MISS", "MISS"],
    },
    {
      name: "best-static cannot reach the target; low share and pattern do not apply",
      rows: rows([5, 0.992], [8, 0.99], [4, 0.996]),
      low: 0.1,
      learnable: false,
      statuses: ["n/a", "met", "n/a", "n/a"],
    },
    {
      name: "rises from near zero: the 0.7× target gives way to best-static's",
      rows: rows([9, 0.999], [8, 0.996], [4, 0.996]),
      low: 0.9,
      learnable: false,
      unpredictable: true,
      statuses: ["MISS", "met", "n/a", "n/a"],
    },
    {
      name: "attainment equal at the printed precision counts as equal",
      rows: new Map([
        ...rows([5, 0.99996], [8, 0.996], [4, 0.996]),
        ["hpa-gpu", row("hpa-gpu", 10, 0.99998)],
      ]),
      low: 0.1,
      learnable: false,
      statuses: ["met", "met", "n/a", "n/a"],
    },
    {
      name: "attainment lower by a printed 0.01% is worse",
      rows: new Map([
        ...rows([5, 0.9998], [8, 0.996], [4, 0.996]),
        ["hpa-gpu", row("hpa-gpu", 10, 0.9999)],
      ]),
      low: 0.1,
      learnable: false,
      statuses: ["met", "MISS", "n/a", "n/a"],
    },
    {
      name: "more GPU-hours than best-static at the SLO",
      rows: rows([9, 0.999], [8, 0.996], [8, 0.996]),
      low: 0.1,
      learnable: true,
      statuses: ["MISS", "met", "n/a", "met"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = judge(c.rows, 0.995, c.low, c.learnable, c.unpredictable);
      expect(v.map((x) => x.status)).to.deep.equal(c.statuses);
    });
  }
});
