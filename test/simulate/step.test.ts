import { expect } from "chai";
import { createScaler } from "../../controller/scaling/registry.js";
import type { ByCapacity, Scaler } from "../../controller/scaling/types.js";
import { capacityAtSlo } from "../../controller/simulate/capacity.js";
import {
  type Control,
  DEFAULT_START_EPOCH,
  type RunInput,
  type SimulationInput,
  SimulationRun,
  simulate,
  type TimelineRow,
} from "../../controller/simulate/engine.js";
import { LatencyHistogram } from "../../controller/simulate/histogram.js";
import { DEFAULT_PROFILE } from "../../controller/simulate/profile.js";
import { repeatArrivals } from "../../controller/simulate/repeat.js";
import { createRng } from "../../controller/simulate/rng.js";
import {
  batcherSettings,
  clusterSettings,
  createServiceTime,
  pipelineSettings,
} from "../../controller/simulate/setup.js";
import { parseTraceSpec } from "../../controller/simulate/trace.js";
import { minimalPool } from "../support/pools.js";

/**
 * The step-able run (simulate/engine.ts SimulationRun) against `simulate`: advanced in any
 * chunks, or driven from outside with the decisions `simulate`'s own control took, at the
 * same times, it gives exactly the same result and timeline on the same trace and seed.
 */

const POLICY = minimalPool({
  scaling: { minReplicas: 0, maxReplicas: 8 },
  capacity: { provider: "eks", spot: { enabled: true, onDemandBase: 1 } },
});
const MODEL = POLICY.spec.models[0]!;
const BATCHER = batcherSettings(MODEL);
const SERVICE = createServiceTime(DEFAULT_PROFILE);
const SLO = POLICY.spec.slo.latencyP99Ms / 1000;
const PER_REPLICA = capacityAtSlo(BATCHER, SERVICE, SLO, { seed: 1 }).requestsPerSecond;

interface Row {
  readonly name: string;
  readonly trace: string;
  /** A registry scaler, or `static:N`. */
  readonly control: string;
}

const ROWS: readonly Row[] = [
  {
    name: "tritonscale on a rising and falling day",
    trace: "synthetic:diurnal:mean=400:peakToMean=3:period=40m",
    control: "tritonscale",
  },
  {
    name: "tritonscale through bursts and idle gaps (scale to zero and back)",
    trace: "synthetic:bursts:base=0:burst=700:length=5m:gap=12m:duration=40m",
    control: "tritonscale",
  },
  {
    name: "hpa-gpu on steady Poisson load",
    trace: "synthetic:poisson:rate=500:duration=20m",
    control: "hpa-gpu",
  },
  {
    name: "a static schedule",
    trace: "synthetic:poisson:rate=300:duration=15m",
    control: "static:2",
  },
];

/** The decisions a control took: target replicas at each simulated time. */
type Decisions = { t: number; target: ByCapacity; reason: string }[];

/** A scaler that records every decision it takes. */
function recording(scaler: Scaler, into: Decisions): Scaler {
  return {
    ...scaler,
    name: scaler.name,
    periodSeconds: scaler.periodSeconds,
    initialState: (c) => scaler.initialState(c),
    decide(snapshot, state) {
      const d = scaler.decide(snapshot, state);
      into.push({ t: snapshot.now - DEFAULT_START_EPOCH, target: d.desired, reason: d.reason });
      return d;
    },
  };
}

function controlOf(row: Row, decisions: Decisions): Control {
  if (row.control.startsWith("static:")) {
    const n = Number(row.control.slice("static:".length));
    return {
      kind: "schedule",
      periodSeconds: 60,
      replicasAt: (t) => {
        decisions.push({ t, target: { spot: 0, onDemand: n }, reason: "" });
        return n;
      },
    };
  }
  const scaler = createScaler(row.control, POLICY, { capacityPerReplica: PER_REPLICA });
  return {
    kind: "scaler",
    scaler: recording(scaler, decisions),
    initial: { spot: 0, onDemand: 2 },
  };
}

function inputOf(
  row: Row,
  control: Control,
  timeline: TimelineRow[],
): SimulationInput & { readonly arrivals: ReturnType<typeof parseTraceSpec> } {
  return {
    arrivals: parseTraceSpec(row.trace, 7),
    batcher: BATCHER,
    service: SERVICE,
    cluster: clusterSettings(POLICY),
    pipeline: pipelineSettings(),
    sloSeconds: SLO,
    control,
    random: createRng(7).fork(row.control),
    histogram: () => new LatencyHistogram(),
    timeline: { intervalSeconds: 60, write: (r) => timeline.push(r) },
  };
}

describe("SimulationRun: the step-able simulation", () => {
  for (const row of ROWS) {
    describe(row.name, () => {
      const decisions: Decisions = [];
      const timeline: TimelineRow[] = [];
      const expected = simulate(inputOf(row, controlOf(row, decisions), timeline));

      it("advanced in uneven chunks, equals simulate", () => {
        const rows: TimelineRow[] = [];
        const input = inputOf(row, controlOf(row, []), rows);
        const run = new SimulationRun(input);
        const duration = input.arrivals.durationSeconds;
        // Chunk ends that fall inside steps, on them, and repeat.
        for (let t = 0.5; t < duration; t += 37.25) {
          run.advanceTo(t);
          expect(run.time).to.equal(Math.floor(t));
          run.advanceTo(t);
        }
        run.advanceTo(duration);
        expect(run.ended).to.equal(true);
        expect(run.finish()).to.deep.equal(expected);
        expect(rows).to.deep.equal(timeline);
      });

      it("driven from outside with the same decisions at the same times, equals simulate", () => {
        expect(decisions.length).to.be.greaterThan(0);
        const rows: TimelineRow[] = [];
        const base = inputOf(row, controlOf(row, []), rows);
        const initial =
          base.control.kind === "scaler"
            ? base.control.initial
            : {
                spot: 0,
                onDemand: (base.control as { replicasAt: (t: number) => number }).replicasAt(0),
              };
        const input: RunInput = { ...base, control: { kind: "external", initial } };
        const run = new SimulationRun(input);
        for (const d of decisions) {
          if (row.control.startsWith("static:") && d.t === 0) continue; // the initial count
          run.advanceTo(d.t);
          expect(run.time).to.equal(d.t);
          run.reconcile(d.target, d.reason);
        }
        run.advanceTo(base.arrivals.durationSeconds);
        expect(run.finish()).to.deep.equal(expected);
        expect(rows).to.deep.equal(timeline);
      });
    });
  }

  it("scrapes Triton's counters under the pool model's name, with the front door", () => {
    const run = new SimulationRun({
      ...inputOf(ROWS[3]!, { kind: "schedule", periodSeconds: 60, replicasAt: () => 2 }, []),
      control: { kind: "external", initial: { spot: 0, onDemand: 2 } },
      pipeline: undefined,
      modelName: "yolov8s",
    });
    run.advanceTo(30);
    const first = run.scrape(1000);
    run.advanceTo(60);
    const round = run.scrape(1000);
    expect(first.t).to.equal(1030);
    expect(round.t).to.equal(1060);
    expect(round.replicas).to.have.length(2);
    for (const r of round.replicas) {
      expect(r.phase).to.equal("ready");
      expect(r.models.map((m) => m.model)).to.deep.equal(["yolov8s"]);
      expect(r.gpuUtilization).to.be.within(0, 1);
    }
    const served = round.replicas.reduce((s, r) => s + r.models[0]!.counters.requestSuccess!, 0);
    expect(round.front?.arrivals).to.equal(run.requests);
    // 300 req/s for 60 s, all but the last batches answered.
    expect(served).to.be.within(17_000, 18_000);
    expect(run.replicaCounts().ready).to.deep.equal({ spot: 0, onDemand: 2 });
  });

  it("an external control changes the cluster only when told, from the next step", () => {
    const run = new SimulationRun({
      ...inputOf(ROWS[3]!, { kind: "schedule", periodSeconds: 60, replicasAt: () => 1 }, []),
      control: { kind: "external", initial: { spot: 0, onDemand: 1 } },
    });
    run.advanceTo(10);
    run.reconcile({ spot: 0, onDemand: 3 });
    expect(run.replicaCounts().pending.onDemand).to.equal(2);
    run.advanceTo(10 + POLICY.spec.scaling.nodeProvisioningSeconds + 1);
    expect(run.replicaCounts().starting.onDemand).to.equal(2);
    run.advanceTo(
      10 + POLICY.spec.scaling.nodeProvisioningSeconds + POLICY.spec.scaling.coldStartSeconds + 2,
    );
    expect(run.replicaCounts().ready.onDemand).to.equal(3);
  });

  const refused: readonly { name: string; act: () => unknown; message: RegExp }[] = [
    {
      name: "reconcile on a run with its own control",
      act: () =>
        new SimulationRun(
          inputOf(ROWS[3]!, { kind: "schedule", periodSeconds: 60, replicasAt: () => 1 }, []),
        ).reconcile({ spot: 0, onDemand: 2 }),
      message: /controlled by its own schedule/,
    },
    {
      name: "a scaler control without a pipeline",
      act: () =>
        new SimulationRun({
          ...inputOf(ROWS[0]!, controlOf(ROWS[0]!, []), []),
          pipeline: undefined,
        }),
      message: /needs a metrics pipeline/,
    },
    {
      name: "advancing a finished run",
      act: () => {
        const run = new SimulationRun(
          inputOf(ROWS[3]!, { kind: "schedule", periodSeconds: 60, replicasAt: () => 1 }, []),
        );
        run.finish();
        run.advanceTo(10);
      },
      message: /finished/,
    },
  ];
  for (const r of refused) {
    it(`refuses ${r.name}`, () => {
      expect(r.act).to.throw(r.message);
    });
  }
});

describe("repeatArrivals", () => {
  const SPEC = "synthetic:poisson:rate=20:duration=10m";

  /** Every arrival before `until`, read with buffers of `size` and `until` steps of `step`. */
  function read(size: number, step: number, until: number): number[] {
    const src = repeatArrivals(parseTraceSpec(SPEC, 3));
    const buf = new Float64Array(size);
    const out: number[] = [];
    for (let u = Math.min(step, until); ; u = Math.min(u + step, until)) {
      for (;;) {
        const n = src.fill(buf, u);
        out.push(...buf.subarray(0, n));
        if (n < size) break;
      }
      if (u === until) return out;
    }
  }

  it("plays the trace again after its end, shifted by its length", () => {
    const once = parseTraceSpec(SPEC, 3);
    const buf = new Float64Array(100_000);
    const lap = [...buf.subarray(0, once.fill(buf, once.durationSeconds))];
    const three = read(4096, 600, 1800);
    expect(three).to.have.length(3 * lap.length);
    expect(three.slice(0, lap.length)).to.deep.equal(lap);
    expect(three.slice(2 * lap.length)).to.deep.equal(lap.map((t) => t + 1200));
  });

  const chunkings = [
    { name: "1-slot buffers, 1 s steps", size: 1, step: 1 },
    { name: "7-slot buffers, 61 s steps (laps end inside a call)", size: 7, step: 61 },
    { name: "a big buffer, one call", size: 100_000, step: 1500 },
  ];
  for (const c of chunkings) {
    it(`gives the same times however it is read: ${c.name}`, () => {
      const a = read(c.size, c.step, 1500);
      const b = read(4096, 1500, 1500);
      expect(a).to.deep.equal(b);
      for (let i = 1; i < a.length; i++) expect(a[i]!).to.be.at.least(a[i - 1]!);
    });
  }

  it("counts laps, rewinds, and is endless", () => {
    const src = repeatArrivals(parseTraceSpec(SPEC, 3));
    expect(src.durationSeconds).to.equal(Number.POSITIVE_INFINITY);
    const buf = new Float64Array(100_000);
    src.fill(buf, 1300);
    expect(src.laps).to.equal(2);
    src.reset();
    expect(src.laps).to.equal(0);
    expect(src.fill(buf, 1)).to.be.greaterThan(0);
    expect(buf[0]!).to.be.below(1);
  });

  it("refuses an endless trace", () => {
    expect(() =>
      repeatArrivals({ ...parseTraceSpec(SPEC, 3), durationSeconds: Number.POSITIVE_INFINITY }),
    ).to.throw(RangeError, /finite length/);
  });
});
