import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { expect } from "chai";
import type { LoadBalancing } from "../../controller/policy/index.js";
import type { ByCapacity, LoadSnapshot, Scaler } from "../../controller/scaling/types.js";
import { capacityAtSlo } from "../../controller/simulate/capacity.js";
import type { ClusterSettings } from "../../controller/simulate/cluster.js";
import {
  type Control,
  type RunInput,
  type SimulationInput,
  type SimulationResult,
  SimulationRun,
  simulate,
  type TimelineRow,
} from "../../controller/simulate/engine.js";
import { LatencyHistogram } from "../../controller/simulate/histogram.js";
import { createLinearProfile } from "../../controller/simulate/profile.js";
import type { BatcherSettings, ServiceTime } from "../../controller/simulate/replica.js";
import { createRng } from "../../controller/simulate/rng.js";
import { createServiceTime } from "../../controller/simulate/setup.js";
import { parseTraceSpec } from "../../controller/simulate/synthetic.js";
import { packageRoot } from "../../controller/util/package-root.js";
import { testBatcher, testCluster } from "../support/sim-settings.js";

/**
 * Golden figures of the simulator, computed by the code before the speed work of issue 9
 * and committed with it (test/fixtures/simulate-golden/figures.json): every number of
 * short runs — results to the last bit, per-minute timelines, a digest of every snapshot a
 * scaler was shown, the arrivals of every synthetic kind, per-replica capacities. A faster
 * engine must give the same figures for the same seed; any change of behaviour fails here.
 *
 * Everything is spelled out in this file (batcher, cluster, pipeline, a test-local
 * scaler), so that changes of pool defaults or of the shipped scalers do not touch it.
 * The random-routing scenarios were added with random routing (spec.scaling.loadBalancing)
 * and pinned by that code; the others are unchanged by it.
 * Regenerate only for a deliberate change of the simulator's behaviour:
 * `UPDATE_GOLDEN=1 npx mocha --no-config dist/test/simulate/golden.test.js`.
 */

const FIXTURE = join(packageRoot, "test", "fixtures", "simulate-golden", "figures.json");

const YOLO: BatcherSettings = testBatcher();

const NO_PREFERRED: BatcherSettings = testBatcher({
  maxBatchSize: 16,
  preferredBatchSizes: [],
  maxQueueDelaySeconds: 0.005,
  instances: 1,
});

/** A bounded queue with a timeout, overloaded below: rejections of both kinds. */
const BOUNDED: BatcherSettings = testBatcher({
  maxBatchSize: 4,
  preferredBatchSizes: [2, 4],
  maxQueueDelaySeconds: 0.001,
  instances: 1,
  maxQueueSize: 60,
  queueTimeoutSeconds: 0.05,
});

const SERVICE: ServiceTime = createServiceTime(createLinearProfile(4, 2.2));

const CLUSTER: ClusterSettings = testCluster({
  spotAvailability: 0.95,
  pricePerGpuHour: { spot: 0.18, onDemand: 0.526 },
});

/** Reclaims often enough that a 1 h run sees several (evictions, retries, lost batches). */
const STORMY: ClusterSettings = {
  ...CLUSTER,
  spotInterruptionsPerHour: 4,
  spotNoticeSeconds: 30,
  spotAvailability: 0.8,
};

const PIPELINE = { scrapeIntervalSeconds: 15, rateWindowSeconds: 60, delaySeconds: 15 };

/**
 * A small scaler that uses most of what the pipeline shows: capacity for the arrival rate
 * plus the pending work, half of it on Spot, to zero when nothing arrives or waits; and a
 * digest of every snapshot it is shown, so the pipeline's output is pinned too.
 */
function probeScaler(perReplica: number, seen: { hash: ReturnType<typeof createHash> }): Scaler {
  return {
    name: "golden-probe",
    periodSeconds: 15,
    initialState: () => 0,
    decide(snapshot: LoadSnapshot, state: unknown) {
      seen.hash.update(`${JSON.stringify(snapshot)}\n`);
      const rate = snapshot.arrivalRate?.value;
      const last = state as number;
      if (rate === undefined || !Number.isFinite(rate)) {
        return {
          desired: split(last),
          active: last > 0,
          held: true,
          reason: "no rate",
          state: last,
        };
      }
      const pending = snapshot.pending?.value ?? 0;
      const util = snapshot.gpuUtilization?.value ?? 0;
      let n = Math.ceil((rate + pending / 5) / perReplica + (util > 0.9 ? 1 : 0) - 1e-9);
      if (rate === 0 && pending === 0) n = 0;
      n = Math.min(12, Math.max(0, n));
      return {
        desired: split(n),
        active: n > 0,
        held: false,
        reason: `rate ${rate} pending ${pending} util ${util} -> ${n}`,
        state: n,
      };
    },
  };
}

function split(n: number): ByCapacity {
  const spot = Math.floor(n / 2);
  return { spot, onDemand: n - spot };
}

interface Scenario {
  readonly name: string;
  readonly trace: string;
  readonly seed: number;
  readonly batcher: BatcherSettings;
  readonly cluster: ClusterSettings;
  readonly sloSeconds: number;
  /** "probe" (the scaler above, starting with `initial`), or a fixed replica count. */
  readonly control: "probe" | number | "follow";
  readonly initial?: ByCapacity;
  readonly frontTimeoutSeconds?: number;
  readonly stepSeconds?: number;
  readonly scheduleCapacity?: "spot" | "onDemand";
  /** @default the engine's, roundRobin */
  readonly loadBalancing?: LoadBalancing;
  readonly connections?: number;
  readonly connectionMaxAgeSeconds?: number;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: "bursts from zero, probe scaler (front queue, scale from and to zero)",
    trace: "synthetic:bursts:base=0:burst=900:length=5m:gap=10m:duration=1h",
    seed: 2,
    batcher: YOLO,
    cluster: CLUSTER,
    sloSeconds: 0.085,
    control: "probe",
    initial: { spot: 0, onDemand: 0 },
  },
  {
    name: "diurnal on Spot with reclaims, probe scaler",
    trace: "synthetic:diurnal:mean=500:peakToMean=3:period=1h:duration=1h",
    seed: 3,
    batcher: YOLO,
    cluster: STORMY,
    sloSeconds: 0.085,
    control: "probe",
    initial: { spot: 1, onDemand: 1 },
  },
  {
    name: "Poisson on a static pool, no preferred sizes",
    trace: "synthetic:poisson:rate=700:duration=20m",
    seed: 4,
    batcher: NO_PREFERRED,
    cluster: CLUSTER,
    sloSeconds: 0.1,
    control: 3,
  },
  {
    name: "a schedule that follows the trace's rate, on Spot with reclaims, 2 s steps",
    trace: "synthetic:onoff:cameras=40:fps=10:on=3m:off=2m:duration=40m",
    seed: 5,
    batcher: YOLO,
    cluster: STORMY,
    sloSeconds: 0.085,
    control: "follow",
    stepSeconds: 2,
    scheduleCapacity: "spot",
  },
  {
    name: "an overloaded bounded queue (full and timed-out rejections)",
    trace: "synthetic:steady:rate=520:mode=poisson:duration=10m",
    seed: 1,
    batcher: BOUNDED,
    cluster: CLUSTER,
    sloSeconds: 0.05,
    control: 1,
    frontTimeoutSeconds: 10,
  },
  // Added with random routing (the pool's spec.scaling.loadBalancing), pinned by the code
  // that introduced it; the scenarios above route round robin, as before, to the bit.
  {
    name: "random routing: diurnal on Spot with reclaims, probe scaler",
    trace: "synthetic:diurnal:mean=500:peakToMean=3:period=1h:duration=1h",
    seed: 3,
    batcher: YOLO,
    cluster: STORMY,
    sloSeconds: 0.085,
    control: "probe",
    initial: { spot: 1, onDemand: 1 },
    loadBalancing: "random",
  },
  {
    name: "random over 12 pinned connections, 2 min max age: bursts from zero, probe scaler",
    trace: "synthetic:bursts:base=0:burst=900:length=5m:gap=10m:duration=1h",
    seed: 2,
    batcher: YOLO,
    cluster: STORMY,
    sloSeconds: 0.085,
    control: "probe",
    initial: { spot: 0, onDemand: 0 },
    loadBalancing: "random",
    connections: 12,
    connectionMaxAgeSeconds: 120,
  },
];

function runScenario(s: Scenario): {
  result: SimulationResult;
  timeline: TimelineRow[];
  snapshots: string;
} {
  const trace = parseTraceSpec(s.trace, s.seed);
  const hash = { hash: createHash("sha256") };
  let control: Control;
  if (s.control === "probe") {
    control = {
      kind: "scaler",
      scaler: probeScaler(300, hash),
      initial: s.initial ?? { spot: 0, onDemand: 0 },
    };
  } else if (s.control === "follow") {
    control = {
      kind: "schedule",
      replicasAt: (t) => Math.ceil(trace.rateBetween(t, t + 30) / 250),
      periodSeconds: 30,
    };
  } else {
    const n = s.control;
    control = { kind: "schedule", replicasAt: () => n, periodSeconds: 60 };
  }
  const timeline: TimelineRow[] = [];
  const input: SimulationInput = {
    arrivals: trace,
    batcher: s.batcher,
    service: SERVICE,
    cluster: s.cluster,
    pipeline: PIPELINE,
    sloSeconds: s.sloSeconds,
    control,
    random: createRng(s.seed).fork("golden"),
    histogram: () => new LatencyHistogram(),
    timeline: { intervalSeconds: 60, write: (r) => timeline.push(r) },
    ...(s.frontTimeoutSeconds !== undefined ? { frontTimeoutSeconds: s.frontTimeoutSeconds } : {}),
    ...(s.stepSeconds !== undefined ? { stepSeconds: s.stepSeconds } : {}),
    ...(s.scheduleCapacity !== undefined ? { scheduleCapacity: s.scheduleCapacity } : {}),
    ...(s.loadBalancing !== undefined ? { loadBalancing: s.loadBalancing } : {}),
    ...(s.connections !== undefined ? { connections: s.connections } : {}),
    ...(s.connectionMaxAgeSeconds !== undefined
      ? { connectionMaxAgeSeconds: s.connectionMaxAgeSeconds }
      : {}),
  };
  const result = simulate(input);
  return { result, timeline, snapshots: hash.hash.digest("hex") };
}

const TRACE_SPECS = [
  "synthetic:poisson:rate=1000:duration=10m",
  "synthetic:steady:rate=333:duration=10m",
  "synthetic:steady:rate=333:mode=poisson:duration=10m",
  "synthetic:diurnal:mean=400:peakToMean=4:period=20m:duration=30m",
  "synthetic:bursts:base=50:burst=900:length=30s:gap=3m:duration=30m",
  "synthetic:bursts:base=0:burst=900:length=1m:gap=4m:gaps=fixed:duration=30m",
  "synthetic:onoff:cameras=30:fps=15:on=2m:off=1m:duration=20m",
  "synthetic:onoff:cameras=30:fps=15:on=2m:off=1m:mode=poisson:duration=20m",
];

/** Every arrival time of a trace, read in odd-sized chunks: count and digest of the bits. */
function traceFigures(spec: string, seed: number): Record<string, number | string> {
  const trace = parseTraceSpec(spec, seed);
  const buf = new Float64Array(1000);
  const hash = createHash("sha256");
  let count = 0;
  let last = 0;
  for (let t = 0.5; t < trace.durationSeconds + 1; t += 0.75) {
    for (;;) {
      const n = trace.fill(buf, t);
      hash.update(new Uint8Array(buf.buffer, 0, n * 8));
      count += n;
      if (n > 0) last = buf[n - 1]!;
      if (n < buf.length) break;
    }
  }
  return {
    count,
    last,
    digest: hash.digest("hex"),
    peak60: trace.peakRate(60),
    rate0to90: trace.rateBetween(0, 90),
  };
}

function figures(): Record<string, unknown> {
  const runs: Record<string, unknown> = {};
  for (const s of SCENARIOS) runs[s.name] = runScenario(s);
  const traces: Record<string, unknown> = {};
  for (const spec of TRACE_SPECS) traces[spec] = traceFigures(spec, 3);
  const capacities = {
    yolo: capacityAtSlo(YOLO, SERVICE, 0.085, { seed: 2 }),
    noPreferred: capacityAtSlo(NO_PREFERRED, SERVICE, 0.1, { seed: 4 }),
    bounded: capacityAtSlo(BOUNDED, SERVICE, 0.05, { seed: 1, requests: 20_000 }),
  };
  // JSON.stringify writes the shortest string that reads back as the same double, so the
  // round trip through the fixture keeps every bit.
  return JSON.parse(JSON.stringify({ runs, traces, capacities }));
}

describe("simulate: golden figures (same seed, same outputs, to the last bit)", function () {
  this.timeout(180_000);
  const golden = JSON.parse(readFileSync(FIXTURE, "utf8")) as Record<
    string,
    Record<string, unknown>
  >;
  let now: Record<string, Record<string, unknown>> = {};
  before(() => {
    now = figures() as Record<string, Record<string, unknown>>;
    if (process.env.UPDATE_GOLDEN === "1") {
      mkdirSync(dirname(FIXTURE), { recursive: true });
      writeFileSync(FIXTURE, `${JSON.stringify(now, null, 1)}\n`);
    }
  });
  for (const group of ["runs", "traces", "capacities"] as const) {
    for (const key of Object.keys(golden[group]!)) {
      it(`${group}: ${key}`, () => {
        expect(now[group]![key]).to.deep.equal(golden[group]![key]);
      });
    }
  }
  it("covers what it means to: reclaims, rejections, failures and scale-to-zero happened", () => {
    const runs = golden.runs as Record<
      string,
      { result: SimulationResult; timeline: TimelineRow[] }
    >;
    const all = Object.values(runs);
    expect(all.some((r) => r.result.rejected > 0)).to.equal(true);
    expect(all.some((r) => r.result.failed > 0)).to.equal(true);
    expect(all.some((r) => r.result.spotGpuHours > 0)).to.equal(true);
    expect(
      all.some((r) => r.timeline.some((row) => row.readySpot + row.readyOnDemand === 0)),
    ).to.equal(true);
  });
});

describe("simulate: memory flat in the trace's length", () => {
  // A schedule control used to scrape into a pipeline nobody read: every round stayed in
  // it, about 1 KB per 15 s, 6 MB a simulated day per bound row of `simulate`.
  const base = {
    batcher: YOLO,
    service: SERVICE,
    cluster: CLUSTER,
    pipeline: PIPELINE,
    sloSeconds: 0.085,
    random: createRng(1).fork("golden"),
    histogram: () => new LatencyHistogram(),
  };
  const cases: { name: string; control: RunInput["control"]; scrapes: number }[] = [
    {
      name: "a schedule control: no scrape rounds (nobody reads them)",
      control: { kind: "schedule", replicasAt: () => 2, periodSeconds: 60 },
      scrapes: 0,
    },
    {
      name: "an external control: none either (its caller scrapes)",
      control: { kind: "external", initial: { spot: 0, onDemand: 2 } },
      scrapes: 0,
    },
    {
      name: "a scaler control: one round per scrape interval, read by its scaler",
      control: {
        kind: "scaler",
        scaler: probeScaler(300, { hash: createHash("sha256") }),
        initial: { spot: 0, onDemand: 2 },
      },
      scrapes: 3600 / 15,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const run = new SimulationRun({
        ...base,
        arrivals: parseTraceSpec("synthetic:poisson:rate=100:duration=1h", 1),
        control: c.control,
      });
      run.advanceTo(3600);
      expect(run.pipelineScrapes).to.equal(c.scrapes);
      expect(run.finish().requests).to.be.greaterThan(300_000);
    });
  }
});
