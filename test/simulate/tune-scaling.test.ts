import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { loadModelPool, type Policy, parseModelPoolObject } from "../../controller/policy/index.js";
import type { ArrivalSource } from "../../controller/simulate/arrivals.js";
import { capacityAtSlo } from "../../controller/simulate/capacity.js";
import { createLinearProfile } from "../../controller/simulate/profile.js";
import {
  batcherSettings,
  createServiceTime,
  simulatedModel,
} from "../../controller/simulate/setup.js";
import { parseTraceSpec } from "../../controller/simulate/trace.js";
import { parseTraceCsv } from "../../controller/simulate/trace-csv.js";
import {
  applyKnobs,
  better,
  currentValue,
  documentOf,
  SCALING_KNOBS,
  type ScalingScore,
  timeSlice,
  tuneScaling,
} from "../../controller/simulate/tune-scaling.js";
import { minimalPool } from "../support/pools.js";
import { projectRoot } from "../support/reference.js";

/**
 * The scaling tuner on tiny traces (minutes, seeds 1–5 only: 1001–1010 are the
 * benchmark's report seeds).
 */

const PROFILE = createLinearProfile(4, 2.2);

/** Every arrival time of a source, from its start. */
function drain(source: ArrivalSource): number[] {
  source.reset();
  const out: number[] = [];
  const buf = new Float64Array(1000);
  for (;;) {
    const n = source.fill(buf, source.durationSeconds);
    for (let i = 0; i < n; i++) out.push(buf[i]!);
    if (n < buf.length) return out;
  }
}

/** A source that logs `label` on every read, to see when it was used. */
function spy(source: ArrivalSource, label: string, log: string[]): ArrivalSource {
  return {
    name: source.name,
    durationSeconds: source.durationSeconds,
    fill(buf, until) {
      log.push(label);
      return source.fill(buf, until);
    },
    rateBetween(t0, t1) {
      log.push(label);
      return source.rateBetween(t0, t1);
    },
    peakRate(w) {
      log.push(label);
      return source.peakRate(w);
    },
    reset() {
      log.push(label);
      source.reset();
    },
  };
}

/** Every knob applies to this pool (Spot on, may go to zero, room for every minReplicas). */
function everyKnobPool(): Policy {
  return minimalPool({
    scaling: { minReplicas: 0, maxReplicas: 20 },
    capacity: { spot: { enabled: true, onDemandBase: 1 } },
  });
}

describe("tuneScaling: the knob table", () => {
  const policy = everyKnobPool();
  const base = documentOf(policy);
  const start = SCALING_KNOBS.map((k) => currentValue(policy, k));

  it("a policy's document loads back to the same policy", () => {
    const again = parseModelPoolObject(base, "pool.yaml").policy;
    expect(again).to.deep.equal(policy);
  });

  for (const example of readdirSync(join(projectRoot, "examples")).filter((f) =>
    f.endsWith(".yaml"),
  )) {
    it(`examples/${example}: its document loads back to the same policy, with the same knob values`, () => {
      const file = join(projectRoot, "examples", example);
      const p = loadModelPool(readFileSync(file, "utf8"), file);
      const again = parseModelPoolObject(documentOf(p), file).policy;
      expect(again).to.deep.equal(p);
      const values = SCALING_KNOBS.map((k) => currentValue(p, k));
      expect(applyKnobs(documentOf(p), p, SCALING_KNOBS, values)).to.deep.equal(p);
    });
  }

  for (const [i, knob] of SCALING_KNOBS.entries()) {
    it(`${knob.path.join(".")}: every value lands in that field of a valid policy, and only there`, () => {
      expect(knob.appliesTo?.(policy) ?? true, "applies to the test pool").to.equal(true);
      const values = knob.values(policy);
      expect(values.length).to.be.at.least(2);
      for (const v of values) {
        const tuned = applyKnobs(base, policy, SCALING_KNOBS, start.with(i, v));
        expect(tuned, `${knob.path.join(".")} = ${v} loads`).to.not.equal(undefined);
        expect(currentValue(tuned!, knob)).to.equal(v);
        for (const [j, other] of SCALING_KNOBS.entries()) {
          if (j !== i) expect(currentValue(tuned!, other), other.path.join(".")).to.equal(start[j]);
        }
        const parent = knob.path
          .slice(0, -1)
          .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], tuned);
        const field = (parent as Record<string, unknown>)[knob.path.at(-1)!];
        // Typed as the schema types it: a duration string beside its seconds, or a number.
        if (knob.kind === "duration") expect(field).to.be.a("string");
        else expect(field).to.equal(v);
        if (knob.kind === "integer") expect(Number.isInteger(field)).to.equal(true);
      }
    });
  }

  const refused: { name: string; knob: string; value: number; spec: Record<string, unknown> }[] = [
    {
      name: "minReplicas above maxReplicas",
      knob: "spec.scaling.minReplicas",
      value: 4,
      spec: { scaling: { maxReplicas: 3 } },
    },
    {
      name: "minReplicas 0 with engine hpa",
      knob: "spec.scaling.minReplicas",
      value: 0,
      spec: { scaling: { engine: "hpa", minReplicas: 1 } },
    },
  ];
  for (const c of refused) {
    it(`a candidate the loader refuses is no policy: ${c.name}`, () => {
      const p = minimalPool(c.spec);
      const i = SCALING_KNOBS.findIndex((k) => k.path.join(".") === c.knob);
      const values = SCALING_KNOBS.map((k) => currentValue(p, k)).with(i, c.value);
      expect(applyKnobs(documentOf(p), p, SCALING_KNOBS, values)).to.equal(undefined);
    });
  }

  it("knobs that do not apply are not swept: onDemandBase without Spot, idleWindow above zero", () => {
    const p = minimalPool({ scaling: { minReplicas: 1 } });
    const applies = (path: string) =>
      SCALING_KNOBS.find((k) => k.path.join(".") === path)!.appliesTo!(p);
    expect(applies("spec.capacity.spot.onDemandBase")).to.equal(false);
    expect(applies("spec.scaling.idleWindow")).to.equal(false);
  });
});

describe("tuneScaling: the objective", () => {
  const s = (cost: number, attainment: number, met: boolean): ScalingScore => ({
    gpuHours: cost,
    cost,
    attainment,
    worstAttainment: attainment,
    requests: 1,
    met,
  });
  const cases: { name: string; a: ScalingScore; b: ScalingScore; better: boolean }[] = [
    {
      name: "meeting the target beats cheaper",
      a: s(5, 0.996, true),
      b: s(1, 0.9, false),
      better: true,
    },
    {
      name: "of two that meet it, the cheaper",
      a: s(2, 0.996, true),
      b: s(3, 0.999, true),
      better: true,
    },
    {
      name: "equal cost: the higher attainment",
      a: s(2, 0.999, true),
      b: s(2, 0.996, true),
      better: true,
    },
    {
      name: "of two that miss it, the higher attainment",
      a: s(9, 0.99, false),
      b: s(1, 0.9, false),
      better: true,
    },
    {
      name: "an equal outcome does not replace the incumbent",
      a: s(2, 0.996, true),
      b: s(2, 0.996, true),
      better: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(better(c.a, c.b)).to.equal(c.better);
    });
  }
});

describe("tuneScaling: search", function () {
  this.timeout(120_000);

  it("on a constant rate of 1.5 replicas' capacity, finds the hand-worked cheapest: 2 replicas all along", () => {
    // Every run starts warm at ceil(1.5) = 2 replicas. One replica cannot hold 1.5× its
    // capacity at the SLO, so 2 all along is the cheapest that can meet the target. The
    // scaler wants 1.5 / u replicas and moves only when that is more than its tolerance
    // (10%) away from the 2 it has: at u = 0.5 it wants 3 (and gets them), at 0.6 it wants
    // 2.5, still 25% off; from u ≥ 1.5 / 2.2 = 0.68 it keeps 2. The sweep goes up from 0.5,
    // so 0.7 is the first such value, and the higher ones tie with it (equal cost and
    // attainment) and do not replace it: 2 replicas × 5 min at targetUtilization 0.7.
    const policy = minimalPool({ scaling: { targetUtilization: 0.5, maxReplicas: 6 } });
    const model = simulatedModel(policy);
    const c = capacityAtSlo(batcherSettings(model), createServiceTime(PROFILE), 0.085, { seed: 1 });
    const rate = 1.5 * c.requestsPerSecond;
    const trace = (seed: number) =>
      parseTraceSpec(`synthetic:steady:rate=${rate.toFixed(3)}:duration=5m`, seed);
    const r = tuneScaling({
      policy,
      profile: PROFILE,
      tuneOn: [trace(1)],
      validateOn: [trace(2)],
      sloTarget: 0.995,
      seed: 1,
      budget: 8, // the targetUtilization sweep
    });
    const hours = 300 / 3600;
    expect(r.baseline.tuned.gpuHours).to.be.above(2.5 * hours);
    expect(r.tuned.met).to.equal(true);
    expect(r.tuned.gpuHours).to.be.closeTo(2 * hours, 0.01 * hours);
    expect(r.validated.gpuHours).to.be.closeTo(2 * hours, 0.01 * hours);
    const change = r.changes.find((x) => x.path === "spec.scaling.targetUtilization");
    expect(change?.from).to.equal(0.5);
    expect(change?.to).to.equal(0.7);
    expect(r.policy.spec.scaling.targetUtilization).to.equal(change?.to);
    expect(r.budgetSpent).to.equal(true);
    expect(r.candidates).to.equal(8);
  });

  it("never reads a held-back seed before the search is over, and the result does not depend on them", () => {
    const policy = minimalPool({ scaling: { maxReplicas: 6 } });
    const spec = "synthetic:poisson:rate=400:duration=3m";
    const runWith = (holdout: number[]) => {
      const log: string[] = [];
      const r = tuneScaling({
        policy,
        profile: PROFILE,
        tuneOn: [spy(parseTraceSpec(spec, 1), "tune", log)],
        validateOn: holdout.map((s) => spy(parseTraceSpec(spec, s), `held-back ${s}`, log)),
        sloTarget: 0.995,
        seed: 1,
        budget: 5,
      });
      return { r, log };
    };
    const a = runWith([2, 3]);
    const firstHeld = a.log.findIndex((l) => l.startsWith("held-back"));
    expect(firstHeld).to.be.above(0);
    expect(a.log.lastIndexOf("tune")).to.be.below(firstHeld);
    for (const s of [2, 3]) expect(a.log).to.include(`held-back ${s}`);
    const b = runWith([4, 5]);
    expect(b.r.changes).to.deep.equal(a.r.changes);
    expect(b.r.tuned).to.deep.equal(a.r.tuned);
    expect(b.r.policy).to.deep.equal(a.r.policy);
    expect(b.r.validated).to.not.deep.equal(a.r.validated);
  });
});

describe("tuneScaling: a time split of a recorded trace", function () {
  this.timeout(60_000);
  // 120 s at 50 req/s, then 60 s at 400 req/s.
  const rows = ["time,count"];
  for (let t = 0; t < 180; t++) rows.push(`${t},${t < 120 ? 50 : 400}`);
  const csv = `${rows.join("\n")}\n`;
  const trace = () => parseTraceCsv(csv, "two-levels.csv", 1);

  it("each part delivers exactly its own arrivals, from 0", () => {
    const t = trace();
    const first = drain(timeSlice(t, 0, 120));
    const second = drain(timeSlice(t, 120, 180));
    expect(first).to.have.lengthOf(120 * 50);
    expect(second).to.have.lengthOf(60 * 400);
    expect(Math.max(...first)).to.be.below(120);
    expect(Math.min(...second)).to.be.at.least(0);
    expect(Math.max(...second)).to.be.below(60);
    const whole = drain(t);
    expect(second[0]).to.equal(whole[120 * 50]! - 120);
    const s = timeSlice(t, 120, 180);
    expect(s.durationSeconds).to.equal(60);
    expect(s.rateBetween(0, 60)).to.be.closeTo(400, 1e-9);
    expect(s.rateBetween(-60, 60)).to.be.closeTo(200, 1e-9); // before the slice counts as 0
    expect(timeSlice(t, 0, 120).peakRate(60)).to.be.closeTo(50, 1e-9);
  });

  it("validation runs on the held-back part only, tuning on the first part only", () => {
    const t = trace();
    const r = tuneScaling({
      policy: minimalPool({ scaling: { maxReplicas: 4 } }),
      profile: PROFILE,
      tuneOn: [timeSlice(t, 0, 120)],
      validateOn: [timeSlice(t, 120, 180)],
      sloTarget: 0.995,
      seed: 1,
      budget: 3,
    });
    expect(r.tuned.requests).to.equal(120 * 50);
    expect(r.baseline.tuned.requests).to.equal(120 * 50);
    expect(r.validated.requests).to.equal(60 * 400);
    expect(r.baseline.validated.requests).to.equal(60 * 400);
  });
});
