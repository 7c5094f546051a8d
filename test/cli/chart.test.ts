import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runSimulate } from "../../controller/cli/simulate.js";
import { runTune } from "../../controller/cli/tune.js";
import { runCaptured } from "../support/io.js";
import { projectRoot } from "../support/reference.js";

/** `simulate --chart` and `tune --chart`, run in-process. */

const EXAMPLE = join(projectRoot, "examples", "yolov8-pool.yaml");
const TRACE = "synthetic:poisson:rate=100:duration=10m";
const SIMULATE = ["--pool", EXAMPLE, "--trace", TRACE, "--scaler", "tritonscale"];
const TUNE = ["--slo-p99", "85", "--profile", "linear:a=4,b=2.2"];
const TUNE_SCALING = [
  "--scaling",
  "--pool",
  EXAMPLE,
  "--trace",
  "synthetic:steady:rate=500:duration=3m",
  "--budget",
  "4",
];

describe("--chart of simulate and tune", function () {
  this.timeout(120_000);
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-chart-cli-"));
    mkdirSync(join(dir, "folder.svg"));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const written: {
    name: string;
    run: typeof runSimulate;
    argv: string[];
    file: string;
    has: string[];
    svgs: number;
  }[] = [
    {
      name: "simulate --chart x.svg: one SVG, the timeline above the bars, bounds named",
      run: runSimulate,
      argv: [...SIMULATE, "--bounds", "oracle"],
      file: "sim.svg",
      has: [
        "SLO 85 ms",
        "Ready replicas (Spot and on-demand; maxReplicas 12)",
        "oracle (bound)",
        "GPU-hours and SLO attainment per row",
      ],
      svgs: 3,
    },
    {
      name: "simulate --chart x.html: a page with both charts and the table",
      run: runSimulate,
      argv: [...SIMULATE, "--bounds", "none"],
      file: "sim.html",
      has: ["<!DOCTYPE html>", "<h2>Timeline</h2>", "<td>tritonscale</td>", "SLO 85 ms"],
      svgs: 2,
    },
    {
      name: "tune --chart x.svg: the configurations, the chosen one named",
      run: runTune,
      argv: TUNE,
      file: "tune.svg",
      has: ["chosen: max batch", "SLO 85 ms", "max batch 16"],
      svgs: 1,
    },
    {
      name: "tune --scaling --chart x.svg: the knob sets tried, cost against attainment",
      run: runTune,
      argv: TUNE_SCALING,
      file: "tune-scaling.svg",
      has: ["pool as is:", "tuned:", "cost on the tuning part (USD)"],
      svgs: 1,
    },
    {
      name: "tune --chart x.HTML (any case): a page with the chart and the best ten",
      run: runTune,
      argv: TUNE,
      file: "tune.HTML",
      has: ["<!DOCTYPE html>", "<th>req/s per GPU</th>", "chosen: max batch"],
      svgs: 1,
    },
  ];
  for (const c of written) {
    it(c.name, async () => {
      const file = join(dir, c.file);
      const r = await runCaptured(c.run, [...c.argv, "--chart", file]);
      expect(r.code, r.err).to.equal(0);
      const text = readFileSync(file, "utf8");
      for (const h of c.has) expect(text, h).to.include(h);
      expect(text.match(/<svg\b/g)).to.have.lengthOf(c.svgs);
      // Written through a temporary file and a rename: nothing else left beside it.
      expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
    });
  }

  const refused: {
    name: string;
    run: typeof runSimulate;
    argv: string[];
    chart: string;
    code: number;
    err: RegExp;
  }[] = [
    {
      name: "simulate: an unknown extension names the flag and the valid ones, and nothing runs",
      run: runSimulate,
      argv: SIMULATE,
      chart: "out.png",
      code: 2,
      err: /tritonscale simulate: --chart ".*out\.png": unknown extension "\.png"; valid: \.svg, \.html, \.htm/,
    },
    {
      name: "simulate: no extension at all",
      run: runSimulate,
      argv: SIMULATE,
      chart: "chart",
      code: 2,
      err: /--chart ".*chart": no file extension; valid: \.svg, \.html, \.htm/,
    },
    {
      name: "simulate: a folder as the file is refused before the simulation",
      run: runSimulate,
      argv: SIMULATE,
      chart: "folder.svg",
      code: 1,
      err: /folder\.svg: cannot write: is a directory, not a file/,
    },
    {
      name: "simulate: a missing folder is refused before the simulation",
      run: runSimulate,
      argv: SIMULATE,
      chart: "missing/sim.svg",
      code: 1,
      err: /sim\.svg: cannot write: folder .*missing does not exist/,
    },
    {
      name: "tune: an unknown extension",
      run: runTune,
      argv: TUNE,
      chart: "tune.pdf",
      code: 2,
      err: /tritonscale tune: --chart ".*tune\.pdf": unknown extension "\.pdf"; valid: \.svg, \.html, \.htm/,
    },
    {
      name: "tune --scaling: an unknown extension, before anything is simulated",
      run: runTune,
      argv: TUNE_SCALING,
      chart: "knobs.png",
      code: 2,
      err: /tritonscale tune: --chart ".*knobs\.png": unknown extension "\.png"; valid: \.svg, \.html, \.htm/,
    },
    {
      name: "tune --scaling: a folder as the file, before anything is simulated",
      run: runTune,
      argv: TUNE_SCALING,
      chart: "folder.svg",
      code: 1,
      err: /folder\.svg: cannot write: is a directory, not a file/,
    },
    {
      name: "tune: a folder as the file",
      run: runTune,
      argv: TUNE,
      chart: "folder.svg",
      code: 1,
      err: /folder\.svg: cannot write: is a directory, not a file/,
    },
  ];
  for (const c of refused) {
    it(c.name, async () => {
      const chart = join(dir, c.chart);
      const r = await runCaptured(c.run, [...c.argv, "--chart", chart]);
      expect(r.code, r.err).to.equal(c.code);
      expect(r.err).to.match(c.err);
      expect(r.out, "nothing was simulated or tuned").to.equal("");
      if (c.code === 2) expect(existsSync(chart)).to.equal(false);
    });
  }

  it("simulate: --chart and --timeline naming the same file is refused before the simulation", async () => {
    const file = join(dir, "same.svg");
    const r = await runCaptured(runSimulate, [
      ...SIMULATE,
      "--timeline",
      file,
      "--chart",
      join(dir, ".", "same.svg"),
    ]);
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/--chart and --timeline both name .*same\.svg/);
    expect(r.out).to.equal("");
    expect(existsSync(file)).to.equal(false);
  });
});
