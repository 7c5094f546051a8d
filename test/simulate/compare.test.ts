import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { loadModelPool, type Policy } from "../../controller/policy/index.js";
import { type Comparison, type ComparisonRow, compare } from "../../controller/simulate/compare.js";
import { DEFAULT_PROFILE } from "../../controller/simulate/profile.js";
import { parseTraceSpec } from "../../controller/simulate/trace.js";
import { pool } from "../scaling/support.js";
import { projectRoot } from "../support/reference.js";

/**
 * `compare` on the example pool (YOLOv8s, p99 ≤ 85 ms, on-demand only) with the default
 * profile, on short synthetic traces.
 */

const EXAMPLE = join(projectRoot, "examples", "yolov8-pool.yaml");

function row(c: Comparison, name: string): ComparisonRow {
  const r = c.rows.find((x) => x.name === name);
  if (!r) throw new Error(`no row "${name}" in ${c.rows.map((x) => x.name).join(", ")}`);
  return r;
}

function run(policy: Policy, trace: string, controls: readonly string[], seed = 1): Comparison {
  return compare({
    policy,
    trace: parseTraceSpec(trace, seed),
    profile: DEFAULT_PROFILE,
    controls,
    seed,
  });
}

const TRACES: { name: string; trace: string; hours: number; controls: string[] }[] = [
  {
    name: "diurnal, 1 h period, mean 300 req/s",
    trace: "synthetic:diurnal:mean=300:period=1h:duration=1h",
    hours: 1,
    controls: ["oracle", "static:2", "tritonscale", "static-peak"],
  },
  {
    name: "poisson, 500 req/s for 20 min",
    trace: "synthetic:poisson:rate=500:duration=20m",
    hours: 1 / 3,
    controls: ["static-peak", "tritonscale", "static:3", "oracle"],
  },
];

describe("compare on the example pool", () => {
  let policy: Policy;
  before(async () => {
    policy = loadModelPool(readFileSync(EXAMPLE, "utf8"), EXAMPLE);
  });

  for (const t of TRACES) {
    describe(t.name, () => {
      let c: Comparison;
      before(() => {
        c = run(policy, t.trace, t.controls);
      });

      it("returns one row per control, in the order asked", () => {
        expect(c.rows.map((r) => r.name)).to.deep.equal(t.controls);
      });

      it("replays the same trace for every row, and accounts for every request", () => {
        const requests = c.rows[0]!.requests;
        expect(requests).to.be.above(0);
        for (const r of c.rows) {
          expect(r.requests, r.name).to.equal(requests);
          expect(r.served + r.rejected + r.failed, r.name).to.equal(r.requests);
          expect(r.durationSeconds, r.name).to.be.closeTo(t.hours * 3600, 1e-9);
        }
      });

      it("the oracle holds the SLO with no more GPU-hours than static-peak", () => {
        const oracle = row(c, "oracle");
        expect(oracle.sloAttainment).to.be.at.least(0.99);
        expect(oracle.gpuHours).to.be.at.most(row(c, "static-peak").gpuHours);
      });

      it("static:N runs N on-demand replicas for the whole trace", () => {
        const name = t.controls.find((x) => x.startsWith("static:"))!;
        const n = Number(name.slice("static:".length));
        const r = row(c, name);
        expect(r.gpuHours).to.be.closeTo(n * t.hours, 1e-9);
        expect(r.spotGpuHours).to.equal(0);
        expect(r.cost).to.be.closeTo(n * t.hours * policy.spec.cost.onDemandPerGpuHour, 1e-9);
        expect(r.scaleEvents).to.equal(0);
      });
    });
  }

  it("tritonscale holds the SLO on a steady Poisson trace with no more GPU-hours than static-peak", () => {
    const c = run(
      policy,
      "synthetic:poisson:rate=500:duration=20m",
      ["tritonscale", "static-peak"],
      2,
    );
    const ts = row(c, "tritonscale");
    expect(ts.sloAttainment).to.be.at.least(0.99);
    expect(ts.failed).to.equal(0);
    expect(ts.gpuHours).to.be.at.most(row(c, "static-peak").gpuHours);
  });

  it("is deterministic for a seed", () => {
    const trace = "synthetic:poisson:rate=200:duration=5m";
    const a = run(policy, trace, ["tritonscale", "oracle"], 5);
    const b = run(policy, trace, ["tritonscale", "oracle"], 5);
    expect(b).to.deep.equal(a);
  });

  describe("rejects what it cannot run, with a clear error", () => {
    const cases: {
      name: string;
      policy?: () => Policy;
      controls: string[];
      model?: string;
      error: RegExp;
    }[] = [
      {
        name: "an unknown scaler, listing the valid ones",
        controls: ["tritonscale", "nope"],
        error:
          /unknown scaler "nope": must be one of "hpa-gpu", "keda-queue", "fallback", "tritonscale"/,
      },
      {
        name: "static: without a whole number",
        controls: ["static:two"],
        error: /"static:two": static:N needs a whole number of replicas/,
      },
      {
        name: "an unknown model",
        controls: ["oracle"],
        model: "yolo-nope",
        error: /pool yolo-detect has no model "yolo-nope"; models: yolov8s/,
      },
      {
        name: "an SLO no configuration can meet (1 ms with the default profile)",
        policy: () => pool({}, {}, { latencyP99Ms: 1 }),
        controls: ["oracle"],
        error: /cannot meet the 1 ms p99 SLO even at light load/,
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        expect(() =>
          compare({
            policy: c.policy ? c.policy() : policy,
            trace: parseTraceSpec("synthetic:poisson:rate=50:duration=1m", 1),
            profile: DEFAULT_PROFILE,
            controls: c.controls,
            seed: 1,
            ...(c.model ? { model: c.model } : {}),
          }),
        ).to.throw(c.error);
      });
    }
  });
});
