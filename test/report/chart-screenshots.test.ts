import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runSimulate } from "../../controller/cli/simulate.js";
import { runTune } from "../../controller/cli/tune.js";
import { requireChromium, shoot } from "../support/chromium.js";
import { runCaptured } from "../support/io.js";
import { projectRoot } from "../support/reference.js";

/**
 * The chart files `simulate --chart` and `tune --chart` write, opened in headless Chromium:
 * no console error, nothing fetched, and ink in every chart. One screenshot per chart kind
 * (of the .svg file, which carries its title) is kept in test/fixtures/screenshots/ for
 * review (and the README); `UPDATE_GOLDEN=1` rewrites them. They are never compared pixel for pixel: fonts differ between machines.
 */

const EXAMPLE = join(projectRoot, "examples", "yolov8-pool.yaml");
const SCREENSHOTS = join(projectRoot, "test", "fixtures", "screenshots");
const update = process.env.UPDATE_GOLDEN === "1";
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The README's simulate example, shortened to a six-hour day. */
const SIMULATE = [
  "--pool",
  EXAMPLE,
  "--trace",
  "synthetic:diurnal:mean=300:peakToMean=3:period=6h",
];
const TUNE = ["--pool", EXAMPLE];
/** The README's tune --scaling example. */
const TUNE_SCALING = [
  "--scaling",
  "--pool",
  EXAMPLE,
  "--trace",
  "synthetic:diurnal:mean=300:peakToMean=4:period=1h:duration=1h",
];

describe("chart files in headless Chromium", function () {
  this.timeout(300_000);
  let chromium = "";
  let dir = "";
  before(async function () {
    chromium = requireChromium(this);
    dir = mkdtempSync(join(tmpdir(), "tritonscale-chart-shots-"));
    for (const [run, argv, file] of [
      [runSimulate, SIMULATE, "simulate.html"],
      [runSimulate, SIMULATE, "simulate.svg"],
      [runTune, TUNE, "tune.html"],
      [runTune, TUNE, "tune.svg"],
      [runTune, TUNE_SCALING, "tune-scaling.html"],
      [runTune, TUNE_SCALING, "tune-scaling.svg"],
    ] as const) {
      const r = await runCaptured(run, [...argv, "--chart", join(dir, file)]);
      expect(r.code, r.err).to.equal(0);
    }
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cases: {
    name: string;
    file: string;
    selector: string;
    /** The fixture this screenshot is kept as, if it is the one of its kind. */
    kind?: string;
    minInk: number;
  }[] = [
    {
      name: "simulate .html: the timeline",
      file: "simulate.html",
      selector: "section:nth-of-type(1) .chart",
      minInk: 0.05,
    },
    {
      name: "simulate .html: GPU-hours and attainment per row",
      file: "simulate.html",
      selector: "section:nth-of-type(2) .chart",
      minInk: 0.05,
    },
    {
      name: "simulate .svg: the timeline above the bars",
      file: "simulate.svg",
      selector: "svg",
      kind: "simulate",
      minInk: 0.05,
    },
    {
      name: "tune .html: throughput per GPU against p99",
      file: "tune.html",
      selector: ".chart",
      minInk: 0.02,
    },
    { name: "tune .svg", file: "tune.svg", selector: "svg", kind: "tune", minInk: 0.02 },
    {
      name: "tune --scaling .html: cost against attainment of the knob sets tried",
      file: "tune-scaling.html",
      selector: ".chart",
      minInk: 0.02,
    },
    {
      name: "tune --scaling .svg",
      file: "tune-scaling.svg",
      selector: "svg",
      kind: "tune-scaling",
      minInk: 0.02,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: no console error, nothing fetched, ink in the chart`, async () => {
      const shot = await shoot(chromium, join(dir, c.file), {
        selector: c.selector,
        width: 1200,
        height: 1000,
      });
      expect(shot.errors).to.deep.equal([]);
      expect(shot.failedRequests).to.deep.equal([]);
      expect(shot.inkFraction).to.be.within(c.minInk, 0.6);
      // Lines, bars, text and the red SLO line: far more than a blank or one-colour picture.
      expect(shot.colours).to.be.above(50);
      if (!c.kind) return;
      const fixture = join(SCREENSHOTS, `${c.kind}.png`);
      if (update) {
        mkdirSync(SCREENSHOTS, { recursive: true });
        writeFileSync(fixture, shot.png);
      }
      expect(existsSync(fixture), `${fixture} (UPDATE_GOLDEN=1 writes it)`).to.equal(true);
      expect(readFileSync(fixture).subarray(0, 8).equals(PNG_MAGIC)).to.equal(true);
    });
  }
});
