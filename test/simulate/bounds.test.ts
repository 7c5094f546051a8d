import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { loadModelPool, type Policy } from "../../controller/policy/index.js";
import type { ArrivalSource } from "../../controller/simulate/arrivals.js";
import { BoundSearches, type ProbeResult, windowMax } from "../../controller/simulate/bounds.js";
import { type Comparison, type ComparisonRow, compare } from "../../controller/simulate/compare.js";
import { DEFAULT_PROFILE } from "../../controller/simulate/profile.js";
import { createRng } from "../../controller/simulate/rng.js";
import { clusterSettings } from "../../controller/simulate/setup.js";
import { parseTraceSpec } from "../../controller/simulate/trace.js";
import { parseTraceCsv } from "../../controller/simulate/trace-csv.js";
import { pool } from "../scaling/support.js";
import { projectRoot } from "../support/reference.js";

/**
 * The bounds of a comparison (best-static, oracle, lead-oracle), each searched to meet the
 * SLO target, and the measurement after a warmup. The example pool (YOLOv8s, SLO 85 ms, the
 * default profile linear:a=4,b=2.2): one replica holds 352 req/s at the SLO (Poisson), and at
 * most 8 / (4 + 2.2 × 8) ms = 370 req/s at full batches.
 */

const EXAMPLE = join(projectRoot, "examples", "yolov8-pool.yaml");

function row(c: Comparison, name: string): ComparisonRow {
  const r = c.rows.find((x) => x.name === name);
  if (!r) throw new Error(`no row "${name}" in ${c.rows.map((x) => x.name).join(", ")}`);
  return r;
}

function run(
  policy: Policy,
  trace: string,
  controls: readonly string[],
  more: { sloTarget?: number; warmupSeconds?: number; maxProbes?: number; seed?: number } = {},
): Comparison {
  const seed = more.seed ?? 1;
  return compare({
    policy,
    trace: parseTraceSpec(trace, seed),
    profile: DEFAULT_PROFILE,
    controls,
    ...more,
    seed,
  });
}

describe("simulate/bounds: bounds that meet the SLO target", () => {
  let policy: Policy;
  before(() => {
    policy = loadModelPool(readFileSync(EXAMPLE, "utf8"), EXAMPLE);
  });

  describe("windowMax: the largest value of each window ahead", () => {
    const cases: { name: string; a: number[]; w: number; want: number[] }[] = [
      { name: "window 1 is the input", a: [3, 1, 2], w: 1, want: [3, 1, 2] },
      { name: "window 2", a: [1, 3, 2, 0, 5], w: 2, want: [3, 3, 2, 5, 5] },
      { name: "window longer than the input", a: [1, 4, 2], w: 10, want: [4, 4, 2] },
      {
        name: "a peak is seen w − 1 seconds ahead",
        a: [0, 0, 0, 0, 7],
        w: 3,
        want: [0, 0, 7, 7, 7],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        expect([...windowMax(Float64Array.from(c.a), c.w)]).to.deep.equal(c.want);
      });
    }
  });

  describe("the searches' probes, worked by hand (a fake probe: the run meets the target with 13 replicas or more)", () => {
    // 1000 req/s for 100 s, 100 req/s per replica: the oracle runs ceil(10 h) replicas.
    const trace: ArrivalSource = {
      name: "constant",
      durationSeconds: 100,
      fill: () => 0,
      rateBetween: () => 1000,
      peakRate: () => 1000,
      reset: () => {},
    };
    const result = (attainment: number): ProbeResult => ({
      requests: 100_000,
      served: 100_000,
      rejected: 0,
      failed: 0,
      sloAttainment: attainment,
      p50Ms: 1,
      p95Ms: 1,
      p99Ms: 1,
      maxMs: 1,
      meanQueueWaitMs: 0,
      gpuHours: 0,
      spotGpuHours: 0,
      cost: 0,
      scaleEvents: 0,
      durationSeconds: 100,
    });
    function searches(seen: string[], maxProbes?: number): BoundSearches {
      return new BoundSearches({
        policy,
        trace,
        perReplica: 100,
        target: 0.995,
        cluster: clusterSettings(policy),
        ...(maxProbes === undefined ? {} : { maxProbes }),
        probe: (name, control) => {
          if (control.kind !== "schedule") throw new Error(`${name}: not a schedule`);
          const n = control.replicasAt(50);
          seen.push(`${name}:${n}`);
          return result(n >= 13 ? 1 : 0.9);
        },
      });
    }

    it("best-static: 10 (the peak's count) misses, doubling to 20 meets, then 15, 12, 13: N = 13 in 5", () => {
      const seen: string[] = [];
      const b = searches(seen).bestStatic();
      expect(seen).to.deep.equal([
        "best-static:10",
        "best-static:20",
        "best-static:15",
        "best-static:12",
        "best-static:13",
      ]);
      expect(b.search).to.deep.equal({
        probes: 5,
        stoppedProbes: 0,
        replicas: 13,
        reached: true,
        converged: true,
      });
    });

    it("oracle: h = 1 (10) misses; gallop to 1.25 (13) meets; bisect on log h to within 2%: 6 probes", () => {
      const seen: string[] = [];
      const o = searches(seen).oracle();
      // h: 1 → 10, 1.25 → 13, √1.25 = 1.118 → 12, √(1.118 × 1.25) = 1.182 → 12,
      // √(1.182 × 1.25) = 1.216 → 13, √(1.182 × 1.216) = 1.199 → 12; 1.216 / 1.199 < 1.02.
      expect(seen.filter((x) => x.startsWith("oracle"))).to.deep.equal([
        "oracle:10",
        "oracle:13",
        "oracle:12",
        "oracle:12",
        "oracle:13",
        "oracle:12",
      ]);
      expect(o.search.probes).to.equal(6);
      expect(o.search.headroom).to.be.closeTo(1.2156, 1e-4);
      expect(o.search.converged).to.equal(true);
    });

    it("a search out of probes says it has not converged (best-static with 3: 10, 20, 15)", () => {
      const seen: string[] = [];
      const b = searches(seen, 3).bestStatic();
      expect(b.search).to.deep.equal({
        probes: 3,
        stoppedProbes: 0,
        replicas: 15,
        reached: true,
        converged: false,
      });
    });
  });

  describe("a constant 1000 req/s for 10 minutes (evenly spaced)", () => {
    const trace = "synthetic:steady:rate=1000:duration=10m";
    let c: Comparison;
    before(() => {
      c = run(policy, trace, ["static:2", "best-static", "oracle", "lead-oracle"]);
    });

    it("the target is the pool's spec.slo.targetAttainment (0.995 by default)", () => {
      expect(c.sloTarget).to.equal(0.995);
    });

    it("best-static = ceil(1000 / 352) = 3, found in 3 simulations (3 meets; 1 and 2 miss, stopped at 5 min)", () => {
      const b = row(c, "best-static");
      expect(b.search).to.deep.equal({
        probes: 3,
        stoppedProbes: 2,
        replicas: 3,
        reached: true,
        converged: true,
      });
      expect(b.metSloTarget).to.equal(true);
      expect(b.gpuHours).to.be.closeTo(3 / 6, 1e-9);
      // The count below misses: 2 replicas get 500 req/s each, past the 370 they can serve.
      expect(row(c, "static:2").metSloTarget).to.equal(false);
    });

    it("the oracle meets the target at no more GPU-hours than best-static", () => {
      const o = row(c, "oracle");
      expect(o.metSloTarget).to.equal(true);
      expect(o.search!.reached).to.equal(true);
      expect(o.gpuHours).to.be.at.most(row(c, "best-static").gpuHours + 1e-9);
      expect(o.search!.probes).to.be.within(1, 10);
    });

    it("the lead-oracle meets the target at no fewer GPU-hours than the oracle", () => {
      const l = row(c, "lead-oracle");
      expect(l.metSloTarget).to.equal(true);
      expect(l.gpuHours).to.be.at.least(row(c, "oracle").gpuHours - 1e-9);
      expect(l.search!.headroom).to.be.at.least(row(c, "oracle").search!.headroom!);
    });
  });

  it("a Poisson 1000 req/s: best-static is ceil(1000 / 352) = 3 or one more; oracle ≤ it ≤ static-peak", () => {
    const c = run(policy, "synthetic:poisson:rate=1000:duration=10m", [
      "static-peak",
      "best-static",
      "oracle",
      "lead-oracle",
    ]);
    const b = row(c, "best-static");
    expect(b.search!.replicas).to.be.oneOf([3, 4]);
    expect(b.search!.converged).to.equal(true);
    expect(b.gpuHours).to.be.at.most(row(c, "static-peak").gpuHours);
    expect(row(c, "oracle").gpuHours).to.be.at.most(b.gpuHours + 1e-9);
    expect(row(c, "lead-oracle").gpuHours).to.be.at.least(row(c, "oracle").gpuHours - 1e-9);
    for (const r of c.rows) expect(r.metSloTarget, r.name).to.equal(true);
  });

  it("an idle gap: the lead-oracle pays for the nodes that linger, the oracle does not", () => {
    // 300 req/s for 2 of every 12 minutes: each burst needs one replica, which the
    // lead-oracle asks for 2 min + 90 s ahead and whose node lingers 10 min after it.
    const c = run(
      policy,
      "synthetic:bursts:base=0:burst=300:gap=10m:length=2m:gaps=fixed:duration=36m",
      ["best-static", "oracle", "lead-oracle"],
    );
    const [b, o, l] = ["best-static", "oracle", "lead-oracle"].map((n) => row(c, n));
    expect(b!.search!.replicas).to.equal(1);
    for (const r of [b!, o!, l!]) expect(r.metSloTarget, r.name).to.equal(true);
    // The oracle runs one replica only while there is demand: 3 bursts of 2 min.
    expect(o!.gpuHours).to.be.closeTo(6 / 60, 0.01);
    expect(l!.gpuHours).to.be.above(o!.gpuHours);
    expect(l!.gpuHours).to.be.at.most(b!.gpuHours + 1e-9);
  });

  it("clumped arrivals (40 requests within 50 ms, idle minutes): the oracle needs headroom over per-second demand, and finds it", () => {
    // Clumps start at 8 per second (320 req/s) in two of every three minutes, for 10 min.
    const rng = createRng(2);
    const times: number[] = [];
    for (let t = rng.exponential(8); t < 600; t += rng.exponential(8)) {
      if (Math.floor(t / 60) % 3 === 2) continue;
      for (let k = 0; k < 40; k++) times.push(t + rng.next() * 0.05);
    }
    times.sort((x, y) => x - y);
    const trace = parseTraceCsv(`t\n${times.map((t) => t.toFixed(4)).join("\n")}\n`, "clumped.csv");
    const c = compare({
      policy,
      trace,
      profile: DEFAULT_PROFILE,
      controls: ["best-static", "oracle", "lead-oracle"],
      seed: 1,
    });
    const [b, o, l] = ["best-static", "oracle", "lead-oracle"].map((n) => row(c, n));
    for (const r of [b!, o!, l!]) expect(r.metSloTarget, r.name).to.equal(true);
    // The search starts at headroom 1 (the old oracle, which sized for the per-second peak
    // with the Poisson capacity) and only goes up when that misses.
    expect(o!.search!.headroom).to.be.above(1);
    expect(o!.gpuHours).to.be.at.most(b!.gpuHours + 1e-9);
    expect(l!.gpuHours).to.be.at.least(o!.gpuHours - 1e-9);
  });

  it("a Spot pool: the lead-oracle runs Spot replicas as the policy splits them, reclaims and all", () => {
    // One on-demand base replica, the rest Spot; reclaims every 2 minutes per node-hour on
    // average (30 per node-hour), so several land in 10 minutes of 3 replicas.
    const spot = pool({ maxReplicas: 10 }, { spot: { enabled: true, onDemandBase: 1 } });
    const c = compare({
      policy: spot,
      trace: parseTraceSpec("synthetic:steady:rate=1000:duration=10m", 1),
      profile: DEFAULT_PROFILE,
      controls: ["oracle", "lead-oracle"],
      seed: 1,
      cluster: { spotInterruptionsPerHour: 30 },
    });
    const l = row(c, "lead-oracle");
    expect(l.spotGpuHours).to.be.above(0);
    expect(l.gpuHours - l.spotGpuHours).to.be.above(0);
    // The oracle's capacity is on-demand and never reclaimed.
    expect(row(c, "oracle").spotGpuHours).to.equal(0);
    expect(l.metSloTarget).to.equal(l.sloAttainment >= 0.995);
    // At most best-static's 3 on-demand replicas, that many reclaims cannot be held: said so.
    expect(l.search!.reached).to.equal(l.metSloTarget);
  });

  describe("a row missing its target is flagged", () => {
    // 3000 req/s for 10 s every 10 min over 300 req/s: the peak minute averages 750 req/s
    // (3 replicas), far short of the 10-second bursts.
    const trace = "synthetic:bursts:base=300:burst=3000:gap=10m:length=10s:gaps=fixed:duration=30m";

    it("static:1 at 1000 req/s misses", () => {
      const c = run(policy, "synthetic:steady:rate=1000:duration=2m", ["static:1"]);
      expect(row(c, "static:1").metSloTarget).to.equal(false);
    });

    it("a bound whose search runs out of probes before meeting the target says it did not reach it", () => {
      const c = run(policy, trace, ["static-peak", "best-static"], { maxProbes: 1 });
      const b = row(c, "best-static");
      expect(row(c, "static-peak").metSloTarget).to.equal(false);
      expect(b.metSloTarget).to.equal(false);
      // The one probe stops once past the misses the target allows (static-peak's row has
      // counted the trace's arrivals), and is run again to the end for the row: 2 in all.
      expect(b.search).to.deep.equal({
        probes: 2,
        stoppedProbes: 1,
        replicas: 3,
        reached: false,
        converged: false,
      });
    });

    it("with probes enough, best-static finds the count that holds the bursts", () => {
      const c = run(policy, trace, ["best-static"]);
      const b = row(c, "best-static");
      expect(b.metSloTarget).to.equal(true);
      // Doubling from 3 finds 6 meeting or missing; 3000 / 370 = 8.1 replicas serve a burst.
      expect(b.search!.replicas).to.be.within(4, 12);
      expect(b.search!.probes).to.be.at.most(10);
    });
  });

  it("--slo-target: a lower target needs no more replicas", () => {
    const trace = "synthetic:poisson:rate=1000:duration=5m";
    const strict = row(run(policy, trace, ["best-static"], { sloTarget: 0.999 }), "best-static");
    const loose = row(run(policy, trace, ["best-static"], { sloTarget: 0.5 }), "best-static");
    expect(loose.search!.replicas).to.be.at.most(strict.search!.replicas!);
    // Half the requests within the SLO: 2 replicas at 500 req/s queue without bound, but the
    // first minutes' requests still make it.
    expect(loose.search!.replicas).to.be.at.most(3);
  });

  it("the pool's targetAttainment is the default target", () => {
    const p = pool({}, {}, { targetAttainment: 0.9 });
    const c = run(p, "synthetic:steady:rate=100:duration=2m", ["static:1"]);
    expect(c.sloTarget).to.equal(0.9);
  });

  describe("rejects a target or warmup it cannot use", () => {
    const cases: { name: string; sloTarget?: number; warmupSeconds?: number; error: RegExp }[] = [
      { name: "target 0", sloTarget: 0, error: /the SLO target must be in \(0, 1\]/ },
      { name: "target above 1", sloTarget: 1.5, error: /Received: 1\.5/ },
      {
        name: "a warmup as long as the trace",
        warmupSeconds: 120,
        error: /shorter than the trace/,
      },
      { name: "a negative warmup", warmupSeconds: -1, error: /Received: -1/ },
    ];
    for (const c of cases) {
      it(c.name, () => {
        expect(() =>
          run(policy, "synthetic:steady:rate=100:duration=2m", ["static:1"], {
            ...(c.sloTarget === undefined ? {} : { sloTarget: c.sloTarget }),
            ...(c.warmupSeconds === undefined ? {} : { warmupSeconds: c.warmupSeconds }),
          }),
        ).to.throw(c.error);
      });
    }
  });
});

describe("simulate --warmup: measure only after the first D seconds", () => {
  let policy: Policy;
  before(() => {
    policy = loadModelPool(readFileSync(EXAMPLE, "utf8"), EXAMPLE);
  });

  it("static:2 over 10 min with a 4 min warmup: 6 min of GPU time, the requests of 6 min", () => {
    const trace = "synthetic:steady:rate=100:duration=10m";
    const whole = row(run(policy, trace, ["static:2"]), "static:2");
    const c = run(policy, trace, ["static:2"], { warmupSeconds: 240 });
    const r = row(c, "static:2");
    expect(c.warmupSeconds).to.equal(240);
    expect(whole.requests).to.equal(60_000);
    expect(r.gpuHours).to.be.closeTo((2 * 360) / 3600, 1e-9);
    expect(r.durationSeconds).to.equal(360);
    // Evenly spaced at 100 req/s: 36 000 arrive after 240 s, plus the few still in flight then.
    expect(r.requests).to.be.within(36_000, 36_010);
    expect(r.served + r.rejected + r.failed).to.equal(r.requests);
    expect(r.cost).to.be.closeTo(whole.cost * 0.6, 1e-9);
  });

  it("a miss during the warmup does not count: a burst in the first minutes, then quiet", () => {
    // 3000 req/s for 30 s at 5 min (the first burst of a fixed schedule), 100 req/s otherwise.
    const trace = "synthetic:bursts:base=100:burst=3000:gap=5m:length=30s:gaps=fixed:duration=10m";
    const whole = row(run(policy, trace, ["static:2"]), "static:2");
    const after = row(run(policy, trace, ["static:2"], { warmupSeconds: 480 }), "static:2");
    expect(whole.metSloTarget).to.equal(false);
    expect(after.sloAttainment).to.equal(1);
    expect(after.metSloTarget).to.equal(true);
  });
});
