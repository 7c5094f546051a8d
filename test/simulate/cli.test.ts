import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runSimulate } from "../../controller/cli/simulate.js";
import { runTune } from "../../controller/cli/tune.js";
import { loadModelPool } from "../../controller/policy/index.js";
import { runCaptured } from "../support/io.js";
import { projectRoot } from "../support/reference.js";

/** `tritonscale simulate` and `tritonscale tune`, run in-process. */

const EXAMPLE = join(projectRoot, "examples", "yolov8-pool.yaml");
/** Ten minutes at 100 req/s: ten timeline rows per run, fast. */
const TRACE = "synthetic:poisson:rate=100:duration=10m";

const ROW_KEYS = [
  "name",
  "requests",
  "served",
  "rejected",
  "failed",
  "slo_attainment",
  "met_slo_target",
  "p50_ms",
  "p95_ms",
  "p99_ms",
  "mean_queue_wait_ms",
  "gpu_hours",
  "spot_gpu_hours",
  "cost",
  "scale_events",
];

interface JsonOutput {
  capacity_per_replica: number;
  load_balancing: string;
  connections: number;
  connection_max_age_seconds: number | null;
  slo_target: number;
  warmup_seconds: number;
  rows: Record<string, number | string | boolean | Record<string, number | boolean>>[];
}

/** Every row's run, then the bounds (each with how its search found it). */
const BOUND_ROWS = ["best-static", "oracle", "lead-oracle"];

describe("tritonscale simulate", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-simulate-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe("--json prints the rows", () => {
    const cases: { name: string; scaler?: string; rows: string[] }[] = [
      {
        name: "--scaler all (the default): every registered scaler, then the bounds",
        rows: ["hpa-gpu", "keda-queue", "fallback", "tritonscale", "static-peak", ...BOUND_ROWS],
      },
      {
        name: "--scaler static:2: the static pool, then the bounds",
        scaler: "static:2",
        rows: ["static:2", "static-peak", ...BOUND_ROWS],
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const argv = ["--pool", EXAMPLE, "--trace", TRACE, "--json"];
        if (c.scaler) argv.push("--scaler", c.scaler);
        const r = await runCaptured(runSimulate, argv);
        expect(r.code, r.err).to.equal(0);
        const out = JSON.parse(r.out) as JsonOutput;
        expect(Object.keys(out).sort()).to.deep.equal([
          "capacity_per_replica",
          "connection_max_age_seconds",
          "connections",
          "load_balancing",
          "pool",
          "profile",
          "rows",
          "slo_target",
          "warmup_seconds",
        ]);
        expect(out.capacity_per_replica).to.be.above(0);
        // How the rows were routed: the example pool's default.
        expect(out.load_balancing).to.equal("random");
        expect(out.connections).to.equal(0);
        expect(out.connection_max_age_seconds).to.equal(null);
        expect([out.slo_target, out.warmup_seconds]).to.deep.equal([0.995, 0]);
        expect(out.rows.map((x) => x.name)).to.deep.equal(c.rows);
        for (const row of out.rows) {
          const bound = BOUND_ROWS.includes(String(row.name));
          // `usage`: what `report cost` reads (test/report/cost-cli.test.ts checks its figures).
          const keys = bound ? [...ROW_KEYS, "search", "usage"] : [...ROW_KEYS, "usage"];
          expect(Object.keys(row), String(row.name)).to.have.members(keys);
          expect(Object.keys(row), String(row.name)).to.have.length(keys.length);
          for (const k of ROW_KEYS.slice(1)) {
            expect(row[k], `${row.name}.${k}`).to.be.a(
              k === "met_slo_target" ? "boolean" : "number",
            );
          }
          expect(row.met_slo_target, String(row.name)).to.equal(
            (row.slo_attainment as number) >= 0.995,
          );
          expect(row.requests).to.be.above(50_000);
          const usage = row.usage as unknown as {
            days: { requests: number; on_demand_gpu_hours: number; spot_gpu_hours: number }[];
          };
          // The days add up to the row's own totals.
          expect(usage.days.reduce((n, d) => n + d.requests, 0)).to.equal(row.requests);
          expect(
            usage.days.reduce((n, d) => n + d.on_demand_gpu_hours + d.spot_gpu_hours, 0),
          ).to.be.closeTo(row.gpu_hours as number, 1e-3);
          if (bound) {
            const search = row.search as Record<string, number | boolean>;
            expect(Object.keys(search)).to.include.members([
              "probes",
              "stopped_probes",
              "reached",
              "converged",
            ]);
            expect(search.probes).to.be.within(1, 10);
            expect(search[row.name === "best-static" ? "replicas" : "headroom"]).to.be.a("number");
          }
        }
      });
    }
  });

  it("prints a table: the capacity line, the target, the routing, a header, one line per row, the bounds' searches", async () => {
    const r = await runCaptured(runSimulate, ["--pool", EXAMPLE, "--trace", TRACE]);
    expect(r.code, r.err).to.equal(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).to.match(/^per-replica capacity at the SLO: [\d.]+ req\/s/);
    expect(lines[1]).to.equal("SLO target: 99.5% of requests within 85 ms");
    // The example pool leaves spec.scaling.loadBalancing at its default.
    expect(lines[2]).to.equal(
      "routing: random (spec.scaling.loadBalancing): each request to a uniformly random ready replica",
    );
    expect(lines[3]).to.match(
      /^scaler\s+requests\s+served\s+rejected\s+failed\s+≤85ms\s+p50 ms.*\s+target$/,
    );
    const names = [
      "hpa-gpu",
      "keda-queue",
      "fallback",
      "tritonscale",
      "static-peak",
      ...BOUND_ROWS,
    ];
    expect(lines).to.have.length(4 + names.length + BOUND_ROWS.length);
    const rows = lines.slice(4, 4 + names.length);
    expect(rows.map((l) => l.split(/\s+/)[0])).to.deep.equal(names);
    for (const l of rows) expect(l).to.match(/\s(met|missed|not a bound)$/);
    expect(lines[4 + names.length]).to.match(/^best-static: static:\d+ \(\d+ simulations?\)$/);
    expect(lines[5 + names.length]).to.match(/^oracle: headroom [\d.]+× the per-second demand/);
  });

  it("--slo-target, --warmup: the table says the target and the warmup; --json carries them", async () => {
    const argv = ["--pool", EXAMPLE, "--trace", TRACE, "--scaler", "static:1"];
    const table = await runCaptured(runSimulate, [
      ...argv,
      "--slo-target",
      "0.9",
      "--warmup",
      "5m",
    ]);
    expect(table.code, table.err).to.equal(0);
    expect(table.out.split("\n")[1]).to.equal(
      "SLO target: 90% of requests within 85 ms, measured after a 5m warmup",
    );
    const json = await runCaptured(runSimulate, [...argv, "--slo-target", "0.9", "--json"]);
    const out = JSON.parse(json.out) as JsonOutput;
    expect([out.slo_target, out.warmup_seconds]).to.deep.equal([0.9, 0]);
  });

  describe("--bounds chooses the rows added after the scalers", () => {
    const cases: { name: string; bounds: string; rows: string[] }[] = [
      { name: "none: the scalers only", bounds: "none", rows: ["static:2"] },
      {
        name: "a list, printed in the usual order",
        bounds: "lead-oracle,static-peak",
        rows: ["static:2", "static-peak", "lead-oracle"],
      },
      { name: "all", bounds: "all", rows: ["static:2", "static-peak", ...BOUND_ROWS] },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const r = await runCaptured(runSimulate, [
          "--pool",
          EXAMPLE,
          "--trace",
          "synthetic:steady:rate=100:duration=2m",
          "--scaler",
          "static:2",
          "--bounds",
          c.bounds,
          "--json",
        ]);
        expect(r.code, r.err).to.equal(0);
        const out = JSON.parse(r.out) as JsonOutput;
        expect(out.rows.map((x) => x.name)).to.deep.equal(c.rows);
      });
    }
  });

  it('a bound that cannot reach the target says "not a bound"', async () => {
    // 3000 req/s for 10 s every 10 min: the peak minute's 3 replicas cannot hold the bursts,
    // and one probe leaves the search no room to find more.
    const r = await runCaptured(runSimulate, [
      "--pool",
      EXAMPLE,
      "--trace",
      "synthetic:bursts:base=300:burst=3000:gap=10m:length=10s:gaps=fixed:duration=20m",
      "--scaler",
      "static:3",
      "--max-probes",
      "1",
    ]);
    expect(r.code, r.err).to.equal(0);
    const best = r.out.split("\n").find((l) => l.startsWith("best-static "))!;
    expect(best).to.match(/\snot a bound$/);
    expect(r.out).to.match(
      /^best-static: cannot reach the 99\.5% target \(best tried: static:3, [\d.]+%; \d simulations?\): not a bound$/m,
    );
    const static3 = r.out.split("\n").find((l) => l.startsWith("static:3 "))!;
    expect(static3).to.match(/\smissed$/);
  });

  it("--timeline writes a CSV with a header and rows for every run", async () => {
    const file = join(dir, "timeline.csv");
    const r = await runCaptured(runSimulate, [
      "--pool",
      EXAMPLE,
      "--trace",
      TRACE,
      "--scaler",
      "static:2",
      "--timeline",
      file,
    ]);
    expect(r.code, r.err).to.equal(0);
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines[0]).to.equal(
      "run,t_seconds,arrivals_per_second,served,rejected,failed,ready_spot,ready_on_demand,starting,pending,desired,queued,p99_ms,cost,reason",
    );
    const rows = lines.slice(1).map((l) => l.split(","));
    for (const run of ["static:2", "static-peak", ...BOUND_ROWS]) {
      const mine = rows.filter((x) => x[0] === run);
      // One row a minute over ten minutes.
      expect(
        mine.map((x) => Number(x[1])),
        run,
      ).to.deep.equal([60, 120, 180, 240, 300, 360, 420, 480, 540, 600]);
    }
    expect(rows).to.have.length(50);
    const static2 = rows.filter((x) => x[0] === "static:2");
    for (const x of static2) expect(x[7], "ready_on_demand").to.equal("2");
  });

  it("--connections, --connection-max-age: a random pool's requests over pinned connections; the table and --json say so", async () => {
    const argv = ["--pool", EXAMPLE, "--trace", TRACE, "--scaler", "static:2", "--bounds", "none"];
    const pinned = [...argv, "--connections", "8", "--connection-max-age", "5m"];
    const table = await runCaptured(runSimulate, pinned);
    expect(table.code, table.err).to.equal(0);
    expect(table.out.split("\n")[2]).to.equal(
      "routing: random (spec.scaling.loadBalancing) over 8 client connections (--connections), each pinned to a uniformly random ready replica until that replica goes or it is 5m old",
    );
    const json = JSON.parse(
      (await runCaptured(runSimulate, [...pinned, "--json"])).out,
    ) as JsonOutput;
    expect([json.load_balancing, json.connections, json.connection_max_age_seconds]).to.deep.equal([
      "random",
      8,
      300,
    ]);
    const perRequest = JSON.parse(
      (await runCaptured(runSimulate, [...argv, "--json"])).out,
    ) as JsonOutput;
    // Eight connections over two replicas are rarely split four and four: more queueing.
    expect(json.rows[0]!.requests).to.equal(perRequest.rows[0]!.requests);
    expect(json.rows[0]!.mean_queue_wait_ms).to.not.equal(perRequest.rows[0]!.mean_queue_wait_ms);
  });

  it("--connections on a roundRobin pool: exit 2, naming the pool's load balancing", async () => {
    const file = join(dir, "round-robin.yaml");
    writeFileSync(
      file,
      readFileSync(EXAMPLE, "utf8").replace(
        /^ {2}scaling: \{ /m,
        "  scaling: { loadBalancing: roundRobin, ",
      ),
    );
    expect(loadModelPool(readFileSync(file, "utf8"), file).spec.scaling.loadBalancing).to.equal(
      "roundRobin",
    );
    const r = await runCaptured(runSimulate, [
      "--pool",
      file,
      "--trace",
      TRACE,
      "--connections",
      "4",
    ]);
    expect(r.code).to.equal(2);
    expect(r.err).to.match(
      /--connections 4 pins connections to replicas, as a plain Service does \(spec\.scaling\.loadBalancing: random\); pool yolo-detect balances each request \(roundRobin\)/,
    );
  });

  describe("bad input", () => {
    const cases: { name: string; argv: string[]; code: number; err: RegExp }[] = [
      {
        name: "missing --trace: usage, exit 2",
        argv: ["--pool", EXAMPLE],
        code: 2,
        err: /--pool and --trace are required[\s\S]*Usage: tritonscale simulate/,
      },
      {
        name: "an unknown option: usage, exit 2",
        argv: ["--pool", EXAMPLE, "--trace", TRACE, "--bogus"],
        code: 2,
        err: /Unknown option '--bogus'/,
      },
      {
        name: "an unknown scaler: the valid names, exit 2",
        argv: ["--pool", EXAMPLE, "--trace", TRACE, "--scaler", "tritonscale,nope"],
        code: 2,
        err: /unknown scaler "nope"; valid: hpa-gpu, keda-queue, fallback, tritonscale, static:N, all/,
      },
      {
        name: "--slo-target 1: must be below 1, exit 2",
        argv: ["--pool", EXAMPLE, "--trace", TRACE, "--slo-target", "1"],
        code: 2,
        err: /--slo-target must be a share of requests > 0 and < 1, e\.g\. 0\.995 for 99\.5% \(got "1"\)/,
      },
      {
        name: "--slo-target not a number: exit 2",
        argv: ["--pool", EXAMPLE, "--trace", TRACE, "--slo-target", "99.5%"],
        code: 2,
        err: /--slo-target must be a share of requests > 0 and < 1.*\(got "99\.5%"\)/,
      },
      {
        name: "--connections not a whole number: exit 2",
        argv: ["--pool", EXAMPLE, "--trace", TRACE, "--connections", "-1"],
        code: 2,
        err: /--connections /,
      },
      {
        name: "--connection-max-age without --connections: exit 2",
        argv: ["--pool", EXAMPLE, "--trace", TRACE, "--connection-max-age", "5m"],
        code: 2,
        err: /--connection-max-age needs --connections N \(N ≥ 1\)/,
      },
      {
        name: "--connection-max-age 0s: exit 2",
        argv: [
          "--pool",
          EXAMPLE,
          "--trace",
          TRACE,
          "--connections",
          "4",
          "--connection-max-age",
          "0s",
        ],
        code: 2,
        err: /--connection-max-age must be longer than 0s\. Received: 0s/,
      },
      {
        name: "--warmup not a duration: exit 2",
        argv: ["--pool", EXAMPLE, "--trace", TRACE, "--warmup", "ten"],
        code: 2,
        err: /--warmup: invalid duration "ten"/,
      },
      {
        name: "--warmup as long as the trace: exit 2",
        argv: ["--pool", EXAMPLE, "--trace", TRACE, "--warmup", "10m"],
        code: 2,
        err: /--warmup 10m must be shorter than the trace \(10m\)/,
      },
      {
        name: "--bounds with an unknown row: the valid ones, exit 2",
        argv: ["--pool", EXAMPLE, "--trace", TRACE, "--bounds", "oracle,best"],
        code: 2,
        err: /--bounds: unknown row "best"; valid: static-peak, best-static, oracle, lead-oracle, all, none/,
      },
      {
        name: "--max-probes 0: exit 2",
        argv: ["--pool", EXAMPLE, "--trace", TRACE, "--max-probes", "0"],
        code: 2,
        err: /--max-probes must be/,
      },
      {
        name: "a seed that is not an integer: exit 2",
        argv: ["--pool", EXAMPLE, "--trace", TRACE, "--seed", "abc"],
        code: 2,
        err: /--seed must be a whole number >= 0 \(got "abc"\)/,
      },
      {
        name: "a missing pool file: exit 1",
        argv: ["--pool", "/nonexistent/pool.yaml", "--trace", TRACE],
        code: 1,
        err: /\/nonexistent\/pool\.yaml: cannot read: no such file/,
      },
      {
        name: "a bad value in the trace spec: the problem, exit 1",
        argv: ["--pool", EXAMPLE, "--trace", "synthetic:poisson:rate=x:duration=10m"],
        code: 1,
        err: /rate: must be a number > 0 \(got "x"\)/,
      },
      {
        name: "an unknown trace kind: the valid kinds, exit 1",
        argv: ["--pool", EXAMPLE, "--trace", "synthetic:sawtooth:rate=5"],
        code: 1,
        err: /unknown kind "sawtooth".*valid kinds: poisson, steady, diurnal, bursts, onoff/,
      },
      {
        name: "a missing trace file: exit 1",
        argv: ["--pool", EXAMPLE, "--trace", "/nonexistent/trace.csv"],
        code: 1,
        err: /\/nonexistent\/trace\.csv: cannot read: no such file or directory/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const r = await runCaptured(runSimulate, c.argv);
        expect(r.code, r.err).to.equal(c.code);
        expect(r.err).to.match(c.err);
        expect(r.out).to.equal("");
      });
    }
  });
});

/** The values of a printed config.pbtxt block. */
function printedBlock(out: string): {
  maxBatchSize: number;
  preferredBatchSizes: number[];
  maxQueueDelayMicroseconds: number;
  instances: number;
} {
  const num = (re: RegExp): number => {
    const m = re.exec(out);
    if (!m) throw new Error(`${re} not in:\n${out}`);
    return Number(m[1]);
  };
  const preferred = /preferred_batch_size: \[([\d, ]*)\]/.exec(out);
  return {
    maxBatchSize: num(/^max_batch_size: (\d+)$/m),
    preferredBatchSizes: preferred ? preferred[1]!.split(",").map((s) => Number(s.trim())) : [],
    maxQueueDelayMicroseconds: num(/max_queue_delay_microseconds: (\d+)/),
    instances: num(/instance_group \{\n {2}count: (\d+)/),
  };
}

describe("tritonscale tune", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-tune-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the dynamic_batching block and the per-replica capacity", async () => {
    const r = await runCaptured(runTune, ["--profile", "linear:a=4,b=2.2", "--slo-p99", "85"]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/^recommended of \d+ configurations for p99 ≤ 85 ms/);
    expect(r.out).to.match(/^dynamic_batching \{$/m);
    expect(r.out).to.match(/^per-replica capacity: [\d.]+ req\/s at p99 [\d.]+ ms/m);
    const block = printedBlock(r.out);
    expect(block.maxBatchSize).to.be.at.least(1);
    const capacity = Number(/per-replica capacity: ([\d.]+)/.exec(r.out)![1]);
    expect(capacity).to.be.above(0);
  });

  it("--pool --write rewrites the pool's model, keeping its comments", async () => {
    const file = join(dir, "pool.yaml");
    copyFileSync(EXAMPLE, file);
    const before = loadModelPool(readFileSync(file, "utf8"), file).spec.models[0]!;
    // A small search (batches up to 4) keeps the test quick; the pool's SLO (85 ms) is used.
    const r = await runCaptured(runTune, [
      "--profile",
      "linear:a=4,b=2.2,maxBatch=4",
      "--pool",
      file,
      "--write",
    ]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/for p99 ≤ 85 ms/);
    expect(r.out).to.include(`wrote spec.models[0] (yolov8s) of ${file}`);
    const printed = printedBlock(r.out);

    const text = readFileSync(file, "utf8");
    expect(text).to.match(/^# A minimal ModelPool: one YOLOv8s detector/m);
    expect(text).to.include("template: yolov8-onnx # a folder in repo-templates/");
    const model = loadModelPool(text, file).spec.models[0]!;
    expect(model.maxBatchSize).to.equal(printed.maxBatchSize);
    expect(model.instances).to.equal(printed.instances);
    expect(model.batching?.preferredBatchSizes).to.deep.equal(printed.preferredBatchSizes);
    expect(model.batching?.maxQueueDelayMicroseconds).to.equal(printed.maxQueueDelayMicroseconds);
    // With batches of at most 4 the example's 16 cannot survive.
    expect(model.maxBatchSize).to.not.equal(before.maxBatchSize);
    expect(model.name).to.equal(before.name);
  });

  describe("bad usage", () => {
    const cases: { name: string; argv: string[]; code: number; err: RegExp }[] = [
      {
        name: "--write without --pool: exit 2",
        argv: ["--profile", "linear:a=4,b=2.2", "--slo-p99", "85", "--write"],
        code: 2,
        err: /--write needs --pool/,
      },
      {
        name: "neither --slo-p99 nor --pool: exit 2",
        argv: ["--profile", "linear:a=4,b=2.2"],
        code: 2,
        err: /needs --slo-p99 or --pool/,
      },
      {
        name: "an SLO that is not a positive number: exit 2",
        argv: ["--profile", "linear:a=4,b=2.2", "--slo-p99", "fast"],
        code: 2,
        err: /--slo-p99 must be a number > 0 \(got "fast"\)/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const r = await runCaptured(runTune, c.argv);
        expect(r.code, r.err).to.equal(c.code);
        expect(r.err).to.match(c.err);
      });
    }
  });
});
