import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runSimulate } from "../../controller/cli/simulate.js";
import { profileToStore, runTune } from "../../controller/cli/tune.js";
import { runValidate } from "../../controller/cli/validate.js";
import { loadModelPool } from "../../controller/policy/index.js";
import { poolCapacity, poolProfileOf } from "../../controller/simulate/pool-capacity.js";
import {
  chooseProfile,
  profileOfModel,
  profileWarnings,
  storedProfileOf,
} from "../../controller/simulate/pool-profile.js";
import {
  createLinearProfile,
  createPiecewiseProfile,
  DEFAULT_PROFILE,
  parseProfile,
} from "../../controller/simulate/profile.js";
import { runCaptured } from "../support/io.js";
import { pool } from "../support/pool-text.js";
import { projectRoot } from "../support/reference.js";

/**
 * A pool model's own latency profile (`spec.models[].profile`): the LatencyProfile built
 * from it, the precedence command line > pool > default in simulate, tune and the loop,
 * validate's warning, and `tune --write` storing the profile it measured.
 */

const EXAMPLE = join(projectRoot, "examples", "yolov8-pool.yaml");
const TRACE = "synthetic:poisson:rate=50:duration=2m";

/**
 * A merged perf_analyzer sweep: batch 1 computes in 6 ms, 2 in 8, 4 in 12; max batch 4
 * keeps tune's search small.
 */
const PERF_CSV = [
  "Batch,Concurrency,Inferences/Second,Server Compute Input (ms),Server Compute Infer (ms),Server Compute Output (ms),p99 latency (ms),Max Batch Size",
  "1,1,150,0.5,5,0.5,7,4",
  "2,1,240,0.5,7,0.5,9,4",
  "4,1,333.3,1,10,1,13,4",
].join("\n");

const LINEAR = pool({}, "      profile: { linear: { a: 3, b: 1.5 } }");
const TABLE = pool(
  {},
  "      maxBatchSize: 4",
  "      profile:",
  "        table:",
  "          - { batch: 1, ms: 6 }",
  "          - { batch: 4, ms: 12 }",
);

describe("pool profile: the LatencyProfile of spec.models[].profile", () => {
  it("linear: a + b·n, named like --profile linear:", () => {
    const m = loadModelPool(LINEAR, "pool.yaml").spec.models[0]!;
    const p = profileOfModel(m)!;
    expect(p.name).to.equal("linear:a=3,b=1.5");
    expect(p.computeMs(4)).to.equal(9);
    expect(p.definition).to.deep.equal({ kind: "linear", a: 3, b: 1.5 });
  });

  it("table: linear between rows, its last batch the profile's largest", () => {
    const m = loadModelPool(TABLE, "pool.yaml").spec.models[0]!;
    const p = profileOfModel(m)!;
    expect(p.name).to.equal("table:1=6,4=12");
    expect([1, 2, 4].map((n) => p.computeMs(n))).to.deep.equal([6, 8, 12]);
    expect(p.maxBatch).to.equal(4);
  });

  it("none: undefined", () => {
    expect(profileOfModel(loadModelPool(pool({}), "pool.yaml").spec.models[0]!)).to.equal(
      undefined,
    );
  });

  describe("which profile is used: command line, else the pool's, else the default", () => {
    const cli = createLinearProfile(1, 1);
    const rows = [
      { name: "command line over the pool's", yaml: LINEAR, given: cli, origin: "command-line" },
      {
        name: "command line, pool without one",
        yaml: pool({}),
        given: cli,
        origin: "command-line",
      },
      { name: "the pool's without a command line", yaml: LINEAR, given: undefined, origin: "pool" },
      { name: "the default with neither", yaml: pool({}), given: undefined, origin: "default" },
    ] as const;
    for (const r of rows) {
      it(r.name, () => {
        const policy = loadModelPool(r.yaml, "pool.yaml");
        const chosen = chooseProfile(policy, policy.spec.models[0]!, r.given);
        expect(chosen.origin).to.equal(r.origin);
        if (r.origin === "command-line") expect(chosen.profile).to.equal(cli);
        if (r.origin === "pool") expect(chosen.profile.name).to.equal("linear:a=3,b=1.5");
        if (r.origin === "default") {
          expect(chosen.profile).to.equal(DEFAULT_PROFILE);
          expect(chosen.from).to.match(/^the default \(model yolov8s has no profile/);
        }
      });
    }
  });

  it("the loop's default profileOf is the pool's, and its capacity follows it", () => {
    const fast = loadModelPool(pool({}, "      profile: { linear: { a: 2, b: 1.1 } }"), "p.yaml");
    const assumed = loadModelPool(pool({}), "p.yaml");
    expect(poolProfileOf(fast, fast.spec.models[0]!).name).to.equal("linear:a=2,b=1.1");
    expect(poolProfileOf(assumed, assumed.spec.models[0]!)).to.equal(DEFAULT_PROFILE);
    const c = poolCapacity(fast);
    expect(c.profiles).to.deep.equal({ yolov8s: "linear:a=2,b=1.1" });
    // Half the default's compute time: clearly more than the default's capacity.
    expect(c.perReplica).to.be.above(poolCapacity(assumed).perReplica * 1.5);
  });
});

describe("pool profile: validate's warning", () => {
  it("one warning per model without a profile, at the model; none with one", () => {
    const without = loadModelPool(pool({}), "pool.yaml");
    const w = profileWarnings(without);
    expect(w.map((p) => `${p.line}:${p.col}: ${p.path}`)).to.deep.equal(["7:7: spec.models[0]"]);
    expect(w[0]!.message).to.match(
      /^model "yolov8s" has no profile: its capacity per replica at the SLO is estimated from the default profile linear:a=4,b=2\.2 \(an assumed YOLOv8s fp16 on a T4, not a measurement\)/,
    );
    expect(profileWarnings(loadModelPool(LINEAR, "pool.yaml"))).to.deep.equal([]);
  });

  describe("tritonscale validate", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "tritonscale-profile-validate-"));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const rows = [
      { name: "a pool without a profile: warned, exit 0", yaml: pool({}), warned: true },
      { name: "a pool with a profile: not warned, exit 0", yaml: LINEAR, warned: false },
    ];
    for (const r of rows) {
      it(r.name, async () => {
        const file = join(dir, "pool.yaml");
        writeFileSync(file, r.yaml);
        const out = await runCaptured(runValidate, [file]);
        expect(out.code).to.equal(0);
        expect(out.out).to.match(/^ok: /);
        const warning = `warning: ${file}:7:7: spec.models[0]: model "yolov8s" has no profile: `;
        expect(out.err.includes(warning), out.err).to.equal(r.warned);
      });
    }
  });
});

describe("pool profile: what tune --write stores", () => {
  const rows = [
    {
      name: "a linear profile as linear",
      profile: createLinearProfile(4, 2.2),
      maxBatch: 8,
      stored: { linear: { a: 4, b: 2.2 } },
    },
    {
      name: "measured points within the max batch, plus the max batch",
      profile: createPiecewiseProfile([
        { batch: 1, ms: 6 },
        { batch: 4, ms: 12 },
        { batch: 16, ms: 36 },
      ]),
      maxBatch: 8,
      stored: {
        table: [
          { batch: 1, ms: 6 },
          { batch: 4, ms: 12 },
          { batch: 8, ms: 20 },
        ],
      },
    },
    {
      name: "batch 1 added when the first measured batch is larger",
      profile: createPiecewiseProfile([
        { batch: 2, ms: 8 },
        { batch: 4, ms: 12 },
      ]),
      maxBatch: 4,
      stored: {
        table: [
          { batch: 1, ms: 6 },
          { batch: 2, ms: 8 },
          { batch: 4, ms: 12 },
        ],
      },
    },
  ];
  for (const r of rows) {
    it(r.name, () => {
      expect(storedProfileOf(r.profile, r.maxBatch)).to.deep.equal(r.stored);
    });
  }

  it("never the default (an assumption); the pool's own only when a new maxBatchSize cuts it", () => {
    const policy = loadModelPool(TABLE, "pool.yaml");
    const model = policy.spec.models[0]!;
    expect(
      profileToStore(chooseProfile(loadModelPool(pool({}), "p"), model), 8, undefined),
    ).to.equal(undefined);
    const own = chooseProfile(policy, model);
    expect(profileToStore(own, 4, undefined)).to.equal(undefined);
    expect(profileToStore(own, 2, "bench")).to.deep.equal({
      table: [
        { batch: 1, ms: 6 },
        { batch: 2, ms: 8 },
      ],
      source: "bench",
    });
    const csv = parseProfile(PERF_CSV, "perf.csv");
    expect(profileToStore(chooseProfile(policy, model, csv), 4, undefined)).to.deep.equal({
      table: [
        { batch: 1, ms: 6 },
        { batch: 2, ms: 8 },
        { batch: 4, ms: 12 },
      ],
      source: "perf_analyzer:perf.csv",
    });
  });
});

describe("pool profile: the commands", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-profile-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("simulate says which profile it used", () => {
    const rows = [
      {
        name: "--profile over the pool's",
        yaml: LINEAR,
        argv: ["--profile", "linear:a=5,b=2"],
        line: /with profile linear:a=5,b=2 from --profile$/m,
        origin: "command-line",
      },
      {
        name: "the pool's without --profile",
        yaml: LINEAR,
        argv: [],
        line: /with profile linear:a=3,b=1\.5 from the pool's spec\.models\[0\]\.profile$/m,
        origin: "pool",
      },
      {
        name: "the default without either",
        yaml: pool({}),
        argv: [],
        line: /with profile yolov8s-t4-fp16 \(assumed: linear:a=4,b=2\.2\) from the default \(model yolov8s has no profile; assumed, not measured\)$/m,
        origin: "default",
      },
    ];
    for (const r of rows) {
      it(r.name, async () => {
        const file = join(dir, "sim.yaml");
        writeFileSync(file, r.yaml);
        const base = ["--pool", file, "--trace", TRACE, "--scaler", "static:1", ...r.argv];
        const table = await runCaptured(runSimulate, base);
        expect(table.code, table.err).to.equal(0);
        expect(table.out).to.match(r.line);
        const json = await runCaptured(runSimulate, [...base, "--json"]);
        expect(JSON.parse(json.out).profile.origin).to.equal(r.origin);
      });
    }
  });

  it("tune --pool --write stores the measured --profile, keeping comments; tune then reads it", async () => {
    const csv = join(dir, "perf.csv");
    writeFileSync(csv, PERF_CSV);
    const file = join(dir, "pool.yaml");
    copyFileSync(EXAMPLE, file);
    const w = await runCaptured(runTune, ["--profile", csv, "--pool", file, "--write"]);
    expect(w.code, w.err).to.equal(0);
    expect(w.out).to.include(`profile: perf_analyzer:${csv} from --profile\n`);
    expect(w.out).to.include(
      `wrote spec.models[0] (yolov8s) of ${file}: maxBatchSize, instances, batching, profile\n`,
    );
    const text = readFileSync(file, "utf8");
    // Comments and untouched fields survive, byte for byte.
    expect(text).to.match(/^# A minimal ModelPool: one YOLOv8s detector/m);
    expect(text).to.include("template: yolov8-onnx # a folder in repo-templates/");
    expect(text).to.include("    # Where the pods read the repository from:");
    expect(text).to.include("      - { batch: 1, ms: 6 }");
    expect(readdirTmp(dir)).to.deep.equal([]);
    const model = loadModelPool(text, file).spec.models[0]!;
    expect(model.profile?.source).to.equal(`perf_analyzer:${csv}`);
    const stored = profileOfModel(model)!;
    const measured = parseProfile(PERF_CSV, "perf.csv");
    for (let n = 1; n <= model.maxBatchSize; n++) {
      expect(stored.computeMs(n), `batch ${n}`).to.be.closeTo(measured.computeMs(n), 1e-4);
    }
    // The next tune (and simulate, and the loop) read the pool's own profile.
    const again = await runCaptured(runTune, ["--pool", file, "--top", "1"]);
    expect(again.code, again.err).to.equal(0);
    expect(again.out).to.match(
      /^profile: table:1=6,2=8,4=12.* from the pool's spec\.models\[0\]\.profile$/m,
    );
  });

  it("tune --write with the default profile does not store it, and says so", async () => {
    const file = join(dir, "pool-default.yaml");
    writeFileSync(file, pool({}, "      maxBatchSize: 2"));
    const before = readFileSync(file, "utf8");
    const w = await runCaptured(runTune, ["--pool", file, "--write"]);
    expect(w.code, w.err).to.equal(0);
    expect(w.out).to.match(/from the default \(model yolov8s has no profile/);
    expect(w.out).to.include("profile not written: the default linear:a=4,b=2.2 is an assumption");
    const after = loadModelPool(readFileSync(file, "utf8"), file);
    expect(after.spec.models[0]!.profile).to.equal(undefined);
    expect(readFileSync(file, "utf8")).to.not.equal(before);
  });
});

/** Temporary files an atomic write left behind (none). */
function readdirTmp(dir: string): string[] {
  return (readdirSyncSafe(dir) ?? []).filter((f) => f.endsWith(".tmp"));
}

function readdirSyncSafe(dir: string): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch {
    return undefined;
  }
}
