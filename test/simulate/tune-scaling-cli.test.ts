import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { CommandIO } from "../../controller/cli/io.js";
import { applyScalingChanges, runTune } from "../../controller/cli/tune.js";
import { loadModelPool } from "../../controller/policy/index.js";
import type { KnobChange } from "../../controller/simulate/tune-scaling.js";
import { runCaptured } from "../support/io.js";
import { projectRoot } from "../support/reference.js";

/** `tritonscale tune --scaling`, run in-process on tiny traces (seeds 1–5 only). */

const FIXTURES = join(projectRoot, "test", "fixtures", "tune-scaling");
const POOL = readFileSync(join(FIXTURES, "pool.yaml"), "utf8");
/**
 * The fixture without Spot: at the start the Spot split would swap a warm on-demand
 * replica for a Spot one that takes minutes to come, which a 3-minute trace cannot show
 * past.
 */
const ON_DEMAND = POOL.replace("spot: { enabled: true", "spot: { enabled: false");
/** 500 req/s, evenly spaced, for 3 minutes: about 1.4 replicas of the example model. */
const STEADY = "synthetic:steady:rate=500:duration=3m";

/** Every kind of edit: block and flow scalars, a missing key, a missing mapping. */
const CHANGES: readonly KnobChange[] = [
  { path: "spec.scaling.targetUtilization", from: 0.85, to: 0.7 },
  { path: "spec.scaling.scaleDown.stabilizationWindow", from: "5m", to: "1m" },
  { path: "spec.scaling.minReplicas", from: 0, to: 2 },
  { path: "spec.scaling.idleWindow", from: "10m", to: "2m" },
  { path: "spec.scaling.scaleUp.stabilizationWindow", from: "0s", to: "30s" },
  { path: "spec.capacity.spot.onDemandBase", from: 1, to: 2 },
];

/** Runs `tune` with a stderr that says it is (or is not) a terminal. */
async function runWithTty(argv: readonly string[], tty: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIO = {
    stdout: { write: (s: string) => out.push(s) },
    stderr: Object.assign({ write: (s: string) => err.push(s) }, { isTTY: tty }),
  };
  const code = await runTune(argv, io);
  return { code, out: out.join(""), err: err.join("") };
}

describe("tritonscale tune --scaling", function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-tune-scaling-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("--write's edit keeps comments, order and flow style (golden file)", () => {
    const updated = applyScalingChanges(POOL, CHANGES);
    expect(updated).to.equal(readFileSync(join(FIXTURES, "pool.tuned.yaml"), "utf8"));
    const p = loadModelPool(updated, "pool.tuned.yaml");
    expect(p.spec.scaling.targetUtilization).to.equal(0.7);
    expect(p.spec.scaling.scaleDown.stabilizationWindowSeconds).to.equal(60);
    expect(p.spec.scaling.scaleUp.stabilizationWindowSeconds).to.equal(30);
    expect(p.spec.scaling.idleWindowSeconds).to.equal(120);
    expect(p.spec.scaling.minReplicas).to.equal(2);
    expect(p.spec.capacity.spot.onDemandBase).to.equal(2);
  });

  it("tunes a synthetic trace on --seed, reports the held-back seeds, and --write stores the result", async () => {
    const file = join(dir, "pool.yaml");
    writeFileSync(file, ON_DEMAND.replace("targetUtilization: 0.85", "targetUtilization: 0.5"));
    const r = await runWithTty(
      ["--scaling", "--pool", file, "--trace", STEADY, "--budget", "6", "--write", "--json"],
      true,
    );
    expect(r.code, r.err).to.equal(0);
    expect(r.err, "no progress bar with --json").to.equal("");
    const json = JSON.parse(r.out);
    expect(json.tuned_on.traces).to.have.lengthOf(1);
    expect(json.held_back.traces).to.have.lengthOf(2);
    expect(json.tuned_on.seeds).to.deep.equal([1]);
    expect(json.held_back.seeds).to.deep.equal([2, 3]);
    expect(json.tuned_on.after.met_slo_target).to.equal(true);
    expect(json.tuned_on.after.gpu_hours).to.be.below(json.tuned_on.before.gpu_hours);
    expect(json.written).to.equal(true);
    const changes = json.changes as KnobChange[];
    expect(changes.map((c) => c.path)).to.include("spec.scaling.targetUtilization");
    const text = readFileSync(file, "utf8");
    expect(text).to.match(/^# A pool whose scaling knobs/);
    expect(text).to.include("maxReplicas: 6 # the cost ceiling, never tuned");
    expect(text).to.include("minReplicas: 0 # scale to zero when idle");
    const p = loadModelPool(text, file);
    const tu = changes.find((c) => c.path === "spec.scaling.targetUtilization")!;
    expect(tu.from).to.equal(0.5);
    expect(p.spec.scaling.targetUtilization).to.equal(tu.to);
  });

  it("prints both parts, the changes and a progress bar on a terminal only", async () => {
    const file = join(dir, "on-demand.yaml");
    writeFileSync(file, ON_DEMAND);
    const args = ["--scaling", "--pool", file, "--trace", STEADY];
    const tty = await runWithTty([...args, "--budget", "2"], true);
    expect(tty.code, tty.err).to.equal(0);
    expect(tty.err).to.match(/tuning \[#+\.*\] \d+\/\d+ simulations/);
    expect(tty.out).to.match(/^tuned on +pool as is +[\d.]+ +[\d.]+ +[\d.]+% +(met|missed)/m);
    expect(tty.out).to.match(/^held back \(2 traces\) +pool as is /m);
    expect(tty.out).to.match(/^ +tuned +[\d.]+ +[\d.]+ +[\d.]+% +(met|missed)/m);
    expect(tty.out).to.include("tuned on seed 1, held back seeds 2, 3");
    expect(tty.out).to.match(/^changes: none|^changes:\n {2}spec\./m);
    const plain = await runWithTty([...args, "--budget", "2"], false);
    expect(plain.err).to.equal("");
    expect(plain.out).to.equal(tty.out);
  });

  it("tunes on several seeds and holds back the ones after the last", async () => {
    const file = join(dir, "seeds.yaml");
    writeFileSync(file, ON_DEMAND);
    const r = await runCaptured(runTune, [
      "--scaling",
      "--pool",
      file,
      "--trace",
      STEADY,
      "--seed",
      "1,2",
      "--budget",
      "2",
      "--json",
    ]);
    expect(r.code, r.err).to.equal(0);
    const json = JSON.parse(r.out);
    expect(json.tuned_on.seeds).to.deep.equal([1, 2]);
    expect(json.tuned_on.traces).to.have.lengthOf(2);
    expect(json.held_back.seeds).to.deep.equal([3, 4]);
    expect(json.candidates).to.equal(1);
    expect(json.simulations).to.equal(2 + 2 * 2);
  });

  it("splits a CSV trace in time: the last --holdout is held back", async () => {
    const csv = join(dir, "trace.csv");
    const rows = ["time,count"];
    for (let t = 0; t < 100; t++) rows.push(`${t},${t < 70 ? 100 : 300}`);
    writeFileSync(csv, `${rows.join("\n")}\n`);
    const r = await runCaptured(runTune, [
      "--scaling",
      "--pool",
      join(FIXTURES, "pool.yaml"),
      "--trace",
      csv,
      "--budget",
      "1",
      "--json",
    ]);
    expect(r.code, r.err).to.equal(0);
    const json = JSON.parse(r.out);
    expect(json.tuned_on.after.requests).to.equal(70 * 100);
    expect(json.held_back.after.requests).to.equal(30 * 300);
    expect(json.held_back.traces[0]).to.include("[1m10s, 1m40s)");
  });

  it("when no policy tried meets the target: exit 1, the best attainment said, nothing written", async () => {
    const file = join(dir, "too-small.yaml");
    // One replica at most for 1.4 replicas' worth of load: nothing can meet 99.5%.
    const text = ON_DEMAND.replace("maxReplicas: 6", "maxReplicas: 1");
    writeFileSync(file, text);
    const r = await runCaptured(runTune, [
      "--scaling",
      "--pool",
      file,
      "--trace",
      STEADY,
      "--budget",
      "2",
      "--write",
    ]);
    expect(r.code, r.err).to.equal(1);
    expect(r.out).to.match(
      /no policy tried meets the 99\.5% target on the tuned part: the best attainment found is \d+\.\d\d%/,
    );
    expect(r.out).to.match(/^not written: no policy tried meets the 99\.5% target/m);
    expect(readFileSync(file, "utf8")).to.equal(text);
  });

  it("an invalid pool with --write is refused and nothing is written", async () => {
    const file = join(dir, "bad.yaml");
    const bad = POOL.replace("targetUtilization: 0.85", "targetUtilization: 1.5");
    writeFileSync(file, bad);
    const r = await runCaptured(runTune, [
      "--scaling",
      "--pool",
      file,
      "--trace",
      STEADY,
      "--write",
    ]);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/bad\.yaml:\d+:\d+: spec\.scaling\.targetUtilization/);
    expect(r.out).to.equal("");
    expect(readFileSync(file, "utf8")).to.equal(bad);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).to.deep.equal([]);
  });

  it("an unknown trace file is exit 1", async () => {
    const r = await runCaptured(runTune, [
      "--scaling",
      "--pool",
      join(FIXTURES, "pool.yaml"),
      "--trace",
      join(dir, "no-such.csv"),
    ]);
    expect(r.code).to.equal(1);
    expect(r.err).to.include("no-such.csv");
  });

  describe("bad command lines: exit 2, one line", () => {
    const pool = join(FIXTURES, "pool.yaml");
    const cases: { name: string; argv: string[]; err: RegExp }[] = [
      { name: "no --trace", argv: ["--scaling", "--pool", pool], err: /needs --pool and --trace/ },
      {
        name: "--slo-p99 belongs to batching",
        argv: ["--scaling", "--pool", pool, "--trace", STEADY, "--slo-p99", "85"],
        err: /--slo-p99 tunes batching/,
      },
      {
        name: "--holdout with a synthetic trace",
        argv: ["--scaling", "--pool", pool, "--trace", STEADY, "--holdout", "0.2"],
        err: /--holdout splits a CSV trace/,
      },
      {
        name: "--holdout-seeds with a CSV trace",
        argv: ["--scaling", "--pool", pool, "--trace", "t.csv", "--holdout-seeds", "2"],
        err: /--holdout-seeds are for a synthetic: trace/,
      },
      {
        name: "a held-back seed that is the tuning seed",
        argv: [
          "--scaling",
          "--pool",
          pool,
          "--trace",
          STEADY,
          "--seed",
          "3",
          "--holdout-seeds",
          "4,3",
        ],
        err: /seed 3 is a tuning seed/,
      },
      {
        name: "several --seed with a CSV trace",
        argv: ["--scaling", "--pool", pool, "--trace", "t.csv", "--seed", "1,2"],
        err: /--seed takes one seed with a CSV trace/,
      },
      {
        name: "--budget 0",
        argv: ["--scaling", "--pool", pool, "--trace", STEADY, "--budget", "0"],
        err: /--budget must be/,
      },
      {
        name: "--holdout 1",
        argv: ["--scaling", "--pool", pool, "--trace", "t.csv", "--holdout", "1"],
        err: /--holdout must be/,
      },
      {
        name: "--slo-target above 1",
        argv: ["--scaling", "--pool", pool, "--trace", STEADY, "--slo-target", "2"],
        err: /--slo-target must be/,
      },
      {
        name: "an unknown flag",
        argv: ["--scaling", "--pool", pool, "--trace", STEADY, "--frobnicate"],
        err: /frobnicate/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const r = await runCaptured(runTune, c.argv);
        expect(r.code, r.err).to.equal(2);
        expect(r.err).to.match(c.err);
        expect(r.err.trimEnd().split("\n"), r.err).to.have.lengthOf(1);
      });
    }

    it("--trace without --scaling", async () => {
      const r = await runCaptured(runTune, ["--pool", pool, "--trace", STEADY]);
      expect(r.code).to.equal(2);
      expect(r.err).to.match(/--trace needs --scaling/);
    });
  });
});
