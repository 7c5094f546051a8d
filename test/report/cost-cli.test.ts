import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runReport } from "../../controller/cli/report.js";
import { runSimulate } from "../../controller/cli/simulate.js";
import { COST_CSV_COLUMNS } from "../../controller/report/cost-format.js";
import { runCaptured } from "../support/io.js";
import { projectRoot } from "../support/reference.js";

/**
 * `tritonscale report cost`, run in-process: every output form, each source, and bad
 * input (one clear line, an exit code, nothing written). The example pool's prices are
 * its defaults, 0.526 on-demand and 0.19 Spot per GPU-hour; a static pool of 2 replicas
 * of 1 GPU bills 2 GPU-hours per hour.
 */

const EXAMPLE = join(projectRoot, "examples", "yolov8-pool.yaml");
const TRACE = "synthetic:poisson:rate=100:duration=30m";
const ON_DEMAND = 0.526;

/** The keys of the issue, in its order (extra keys come after them). */
const KEYS = [
  "pool",
  "model",
  "capacity_type",
  "gpu_hours",
  "busy_gpu_hours",
  "idle_gpu_hours",
  "cost",
  "currency",
  "spot_savings",
  "requests",
  "cost_per_1k",
  "slo_attainment",
];

interface JsonReport {
  rows: Record<string, number | string | null | Record<string, number | null>>[];
  total: Record<string, number | string | null | Record<string, number | null>>;
  notes: string[];
  top_scale_events: unknown[];
}

const report = (argv: string[]) => runCaptured(runReport, ["cost", ...argv]);

describe("tritonscale report cost", function () {
  this.timeout(120_000);
  let dir: string;
  /** A saved simulate --json of static:2 and tritonscale. */
  let saved: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-report-"));
    saved = join(dir, "sim.json");
    const r = await runCaptured(runSimulate, [
      "--pool",
      EXAMPLE,
      "--trace",
      TRACE,
      "--scaler",
      "static:2,tritonscale",
      "--bounds",
      "none",
      "--json",
    ]);
    expect(r.code, r.err).to.equal(0);
    writeFileSync(saved, r.out);
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("--from a saved simulation, --json: the issue's keys; static:2 for 30 min is 2 × 0.5 GPU-hours at 0.526", async () => {
    const r = await report(["--from", saved, "--scaler", "static:2", "--json"]);
    expect(r.code, r.err).to.equal(0);
    expect(r.err).to.equal("");
    const out = JSON.parse(r.out) as JsonReport;
    expect(out.rows).to.have.length(1);
    const row = out.rows[0]!;
    expect(Object.keys(row).slice(0, KEYS.length)).to.deep.equal(KEYS);
    expect(Object.keys(out.total).slice(0, KEYS.length)).to.deep.equal(KEYS);
    expect([row.pool, row.model, row.capacity_type, row.currency]).to.deep.equal([
      "yolo-detect",
      "yolov8s",
      "onDemand",
      "USD",
    ]);
    expect(row.gpu_hours).to.equal(2 * 0.5);
    expect(row.cost).to.be.closeTo(2 * 0.5 * ON_DEMAND, 1e-4);
    expect(row.spot_savings).to.equal(0);
    // 100 req/s for 30 min: about 180,000 requests.
    expect(row.requests as number).to.be.within(175_000, 185_000);
    expect(row.cost_per_1k as number).to.be.closeTo(
      ((2 * 0.5 * ON_DEMAND) / (row.requests as number)) * 1000,
      1e-7,
    );
    expect(row.slo_attainment as number).to.be.within(0.99, 1);
    expect((row.busy_gpu_hours as number) + (row.idle_gpu_hours as number)).to.be.closeTo(1, 1e-3);
    expect(out.total.cost).to.equal(row.cost);
    expect(out.top_scale_events).to.deep.equal([]);
  });

  it("--pool/--trace runs the simulation the same way: the same figures as the saved row", async () => {
    const [run, from] = await Promise.all([
      report(["--pool", EXAMPLE, "--trace", TRACE, "--scaler", "tritonscale", "--json"]),
      report(["--from", saved, "--scaler", "tritonscale", "--json"]),
    ]);
    expect(run.code, run.err).to.equal(0);
    expect(from.code, from.err).to.equal(0);
    const a = JSON.parse(run.out) as JsonReport;
    const b = JSON.parse(from.out) as JsonReport;
    expect(a.rows).to.deep.equal(b.rows);
    expect(a.total).to.deep.equal(b.total);
  });

  it("prints a table by default: a header, a line per row, the total, the notes", async () => {
    const r = await report(["--from", saved, "--scaler", "static:2"]);
    expect(r.code, r.err).to.equal(0);
    const lines = r.out.split("\n");
    expect(lines[0]).to.equal("cost report, 2026-01-05 00:00 to 2026-01-05 00:30 UTC (0.5 h)");
    expect(lines[1]).to.match(
      /^pool\s+model\s+capacity\s+GPU-h\s+busy GPU-h\s+idle GPU-h\s+cost USD/,
    );
    expect(lines[2]).to.match(/^vision\/yolo-detect\s+yolov8s\s+on-demand\s+1\.00\s/);
    expect(lines[2]).to.include(` ${(2 * 0.5 * ON_DEMAND).toFixed(2)} `);
    expect(lines[3]).to.match(/^total\s+all\s+1\.00\s/);
    expect(r.out).to.include("note: prices: spec.cost of vision/yolo-detect");
  });

  it("--csv: the documented columns, a line per row and the total", async () => {
    const r = await report(["--from", saved, "--scaler", "static:2", "--csv"]);
    expect(r.code, r.err).to.equal(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).to.equal(COST_CSV_COLUMNS.join(","));
    expect(lines).to.have.length(3);
    const cells = lines[1]!.split(",");
    const at = (c: (typeof COST_CSV_COLUMNS)[number]) => cells[COST_CSV_COLUMNS.indexOf(c)];
    expect([at("Namespace"), at("Pool"), at("CapacityType"), at("GPUHours")]).to.deep.equal([
      "vision",
      "yolo-detect",
      "onDemand",
      "1",
    ]);
    expect(Number(at("GPUCost"))).to.be.closeTo(2 * 0.5 * ON_DEMAND, 1e-4);
    expect(lines[2]!.split(",")[3]).to.equal("total");
  });

  it("--html FILE: a page with the four charts, beside the table", async () => {
    const page = join(dir, "cost.html");
    const r = await report(["--from", saved, "--html", page]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/^cost report/);
    const html = readFileSync(page, "utf8");
    expect(html.match(/<svg/g)).to.have.length(4);
    for (const h of [
      "Cost per day by capacity type",
      "GPU-hours allocated and busy",
      "Cost per 1,000 inferences",
      "SLO attainment",
    ]) {
      expect(html).to.include(`<h2>${h}</h2>`);
    }
    expect(html).not.to.include("<script");
    // The saved simulation's SLO target (the example's default, 99.5%) on the attainment chart.
    expect(html).to.include("against the target of 99.5%");
  });

  it("--previous: the same run compared with itself changes nothing", async () => {
    const r = await report(["--from", saved, "--previous", saved, "--json"]);
    expect(r.code, r.err).to.equal(0);
    const out = JSON.parse(r.out) as JsonReport;
    const change = out.total.change as Record<string, number>;
    expect([change.cost, change.gpu_hours, change.requests]).to.deep.equal([0, 0, 0]);
  });

  it("--opencost: the cluster's price (2.00 per GPU-hour) instead of spec.cost", async () => {
    const csv = join(dir, "opencost.csv");
    writeFileSync(
      csv,
      [
        "Date,Namespace,ControllerKind,ControllerName,Pod,GPUs,GPUCost,TotalCost,Labels,Minutes",
        "2026-01-05,vision,deployment,yolo-detect-triton,yolo-detect-triton-1,1,48,50,,1440",
      ].join("\n"),
    );
    const r = await report(["--from", saved, "--scaler", "static:2", "--opencost", csv, "--json"]);
    expect(r.code, r.err).to.equal(0);
    const out = JSON.parse(r.out) as JsonReport;
    expect(out.rows[0]!.cost).to.be.closeTo(2 * 0.5 * (48 / 24), 1e-9);
    expect(out.notes.join("\n")).to.include("OpenCost");
  });

  it("--mix: a pool of two models costs what its traffic's mix needs (all heavy > all light)", async () => {
    const pool = join(dir, "two-models.yaml");
    writeFileSync(
      pool,
      [
        "apiVersion: tritonscale.dev/v1alpha1",
        "kind: ModelPool",
        "metadata: { name: two, namespace: vision }",
        "spec:",
        "  models:",
        "    - { name: light, template: yolov8-onnx, imageSize: 640, classes: 80, profile: { linear: { a: 4, b: 2.2 } } }",
        "    - { name: heavy, template: yolov8-onnx, imageSize: 640, classes: 80, profile: { linear: { a: 20, b: 12 } } }",
        "  slo: { latencyP99Ms: 85 }",
        "  scaling: { minReplicas: 1, maxReplicas: 12 }",
      ].join("\n"),
    );
    const gpuHours = async (mix: string[]) => {
      const r = await report(["--pool", pool, "--trace", TRACE, ...mix, "--json"]);
      expect(r.code, r.err).to.equal(0);
      return (JSON.parse(r.out) as JsonReport).total.gpu_hours as number;
    };
    const light = await gpuHours(["--mix", "light=1"]);
    const heavy = await gpuHours(["--mix", "heavy=1"]);
    const equal = await gpuHours([]);
    // 100 req/s: one replica carries the light model's (C ≈ 350 req/s), the heavy one's
    // (C ≈ 40 req/s a replica) takes several.
    expect(heavy).to.be.above(2 * light);
    expect(equal).to.be.above(light).and.below(heavy);
  });

  describe("bad input: one clear line, an exit code, nothing written", () => {
    const cases: {
      name: string;
      argv: (d: string) => string[];
      code: number;
      err: RegExp;
      setup?: (d: string) => void;
    }[] = [
      {
        name: "a missing --from file",
        argv: (d) => ["--from", join(d, "nope.json")],
        code: 1,
        err: /nope\.json: cannot read: /,
      },
      {
        name: "a --from file that is not a simulate --json",
        setup: (d) => writeFileSync(join(d, "pool.json"), '{"apiVersion": "v1"}'),
        argv: (d) => ["--from", join(d, "pool.json")],
        code: 1,
        err: /pool\.json: not the output of `tritonscale simulate --json` \(no "rows" list\)/,
      },
      {
        name: "a --from file that is not JSON, with its line and column",
        setup: (d) => writeFileSync(join(d, "broken.json"), '{\n  "rows": [}\n'),
        argv: (d) => ["--from", join(d, "broken.json")],
        code: 1,
        err: /broken\.json:2:12: not JSON/,
      },
      {
        name: "an OpenCost CSV without GPUCost",
        setup: (d) => writeFileSync(join(d, "oc.csv"), "Date,Namespace,ControllerName,GPUs\n"),
        argv: (d) => ["--from", join(d, "..", "sim.json"), "--opencost", join(d, "oc.csv")],
        code: 1,
        err: /oc\.csv:1:1: GPUCost: missing column "GPUCost"/,
      },
      {
        name: "an unknown scaler",
        argv: () => ["--pool", EXAMPLE, "--trace", TRACE, "--scaler", "fastest"],
        code: 2,
        err: /^tritonscale report cost: unknown scaler "fastest"; valid: /,
      },
      {
        name: "a row the saved simulation does not have",
        argv: (d) => ["--from", join(d, "..", "sim.json"), "--scaler", "hpa-gpu"],
        code: 2,
        err: /sim\.json has no row "hpa-gpu"; its rows: static:2, tritonscale/,
      },
      {
        name: "no source",
        argv: () => ["--json"],
        code: 2,
        err: /a source is required: --pool and --trace, --from, or --pool and --prometheus/,
      },
      {
        name: "a --period that is not a duration",
        argv: (d) => ["--from", join(d, "..", "sim.json"), "--period", "1d"],
        code: 2,
        err: /--period: /,
      },
      {
        name: "a --period shorter than the day a simulation's use is kept by",
        argv: (d) => ["--from", join(d, "..", "sim.json"), "--period", "1h"],
        code: 2,
        err: /--period must be whole days, e\.g\. 24h or 168h: a simulation's use is kept per day \(got 1h\)/,
      },
      {
        name: "--pool alone: a simulation needs --trace, the live pool --prometheus",
        argv: () => ["--pool", EXAMPLE],
        code: 2,
        err: /--pool needs --trace \(a simulation\) or --prometheus \(the live pool\)/,
      },
      {
        name: "live: --prometheus without --pool",
        argv: () => ["--prometheus", "http://127.0.0.1:9"],
        code: 2,
        err: /--prometheus, --from-time and --to-time need --pool \(the live pool\)/,
      },
      {
        name: "live: --trace is a simulation's flag",
        argv: () => ["--pool", EXAMPLE, "--prometheus", "http://127.0.0.1:9", "--trace", TRACE],
        code: 2,
        err: /--trace is not for a live report \(--prometheus, --from-time, --to-time\): that is a simulation's flag/,
      },
      {
        name: "live: --period, since the previous period is the same length before --from-time",
        argv: () => ["--pool", EXAMPLE, "--from-time", "now-2h", "--period", "24h"],
        code: 2,
        err: /--period is not for a live report .*: its previous period is the same length before --from-time/,
      },
      {
        name: "live: --prometheus that is not a URL: a bad command line, not a failed query",
        argv: () => ["--pool", EXAMPLE, "--prometheus", "prometheus:9090"],
        code: 2,
        err: /--prometheus must be an http\(s\) URL such as http:\/\/127\.0\.0\.1:9090 \(got "prometheus:9090"\)/,
      },
      {
        name: "live: a time without its zone",
        argv: () => ["--pool", EXAMPLE, "--from-time", "2026-12-01T00:00:00"],
        code: 2,
        err: /--from-time "2026-12-01T00:00:00" has no zone \(which one is meant\?\): add Z for UTC or an offset such as \+02:00/,
      },
      {
        name: "live: a day that does not exist",
        argv: () => ["--pool", EXAMPLE, "--from-time", "2026-02-30T00:00:00Z"],
        code: 2,
        err: /--from-time "2026-02-30T00:00:00Z" is not a real time; valid: now, now-<duration>/,
      },
      {
        name: "live: a time in no form",
        argv: () => ["--pool", EXAMPLE, "--to-time", "yesterday"],
        code: 2,
        err: /--to-time "yesterday": valid: now, now-<duration> such as now-24h, an RFC 3339 time/,
      },
      {
        name: "live: --from-time after --to-time",
        argv: () => [
          "--pool",
          EXAMPLE,
          "--from-time",
          "2026-12-01T12:00:00Z",
          "--to-time",
          "2026-12-01T09:00:00+00:00",
        ],
        code: 2,
        err: /--from-time must be before --to-time \(got 2026-12-01T12:00:00Z and 2026-12-01T09:00:00Z\)/,
      },
      {
        name: "live: --to-time in the future",
        argv: () => ["--pool", EXAMPLE, "--to-time", "4102444800"],
        code: 2,
        err: /--to-time 2100-01-01T00:00:00Z is in the future/,
      },
      {
        name: "live: Prometheus unreachable: one line naming it and how to point elsewhere",
        argv: () => [
          "--pool",
          EXAMPLE,
          "--prometheus",
          "http://127.0.0.1:9",
          "--from-time",
          "now-1h",
        ],
        code: 1,
        err: /^tritonscale report cost: querying Prometheus at http:\/\/127\.0\.0\.1:9: .*\(--prometheus URL sets another Prometheus/,
      },
      {
        name: "--mix naming a model the pool lacks: its place in the flag and the pool's models",
        argv: () => ["--pool", EXAMPLE, "--trace", TRACE, "--mix", "yolov8s=1,nope=1"],
        code: 1,
        err: /^--mix:1:11: --mix\.nope: the pool has no model "nope"; its models: yolov8s/,
      },
      {
        name: "--mix with --model: only that model would run",
        argv: () => [
          "--pool",
          EXAMPLE,
          "--trace",
          TRACE,
          "--mix",
          "yolov8s=1",
          "--model",
          "yolov8s",
        ],
        code: 2,
        err: /^tritonscale report cost: --mix splits a pool's traffic over its models; with --model only that model is simulated/,
      },
      {
        name: "--mix with --from: a saved simulation has its own",
        argv: () => ["--from", saved, "--mix", "yolov8s=1"],
        code: 2,
        err: /^tritonscale report cost: --mix is for --pool\/--trace \(a saved simulation has its own\)/,
      },
      {
        name: "--mix on a live report",
        argv: () => ["--pool", EXAMPLE, "--prometheus", "http://127.0.0.1:9", "--mix", "yolov8s=1"],
        code: 2,
        err: /^tritonscale report cost: --mix is not for a live report/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const d = mkdtempSync(join(dir, "bad-"));
        c.setup?.(d);
        const page = join(d, "page.html");
        const r = await report([...c.argv(d), "--html", page]);
        expect(r.code, r.err).to.equal(c.code);
        expect(r.err).to.match(c.err);
        expect(r.err.split("\n")[0]).to.match(c.err);
        expect(r.out).to.equal("");
        expect(existsSync(page)).to.equal(false);
      });
    }
  });
});
