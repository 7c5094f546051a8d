import { expect } from "chai";
import type { ByCapacity, LoadSnapshot, Scaler } from "../../controller/scaling/types.js";
import type { ClusterSettings } from "../../controller/simulate/cluster.js";
import {
  type Control,
  DEFAULT_START_EPOCH,
  type SimulationInput,
  type SimulationResult,
  simulate,
  type TimelineRow,
} from "../../controller/simulate/engine.js";
import { LatencyHistogram } from "../../controller/simulate/histogram.js";
import type { BatcherSettings, ServiceTime } from "../../controller/simulate/replica.js";
import { createRng } from "../../controller/simulate/rng.js";

/**
 * The cluster and the metrics pipeline, seen through `simulate`: hand-made arrivals, a
 * replica that serves one request per 10 ms (100 req/s), and either a static schedule or
 * a scripted Scaler whose decisions are a function of time.
 */

/** Evenly spaced arrivals: one every 1/rate s from t = 0 (exact counts in any window). */
function evenly(rate: number, duration: number): SimulationInput["arrivals"] {
  let k = 0;
  return {
    durationSeconds: duration,
    fill(buf, until) {
      let n = 0;
      while (n < buf.length && k / rate < until && k / rate < duration) buf[n++] = k++ / rate;
      return n;
    },
  };
}

/** No traffic at all: for billing checks. */
function silence(duration: number): SimulationInput["arrivals"] {
  return { durationSeconds: duration, fill: () => 0 };
}

/** Poisson arrivals from a seeded stream. */
function poisson(rate: number, duration: number, seed: number): SimulationInput["arrivals"] {
  const rng = createRng(seed).fork("arrivals");
  let t = rng.exponential(rate);
  return {
    durationSeconds: duration,
    fill(buf, until) {
      let n = 0;
      while (n < buf.length && t < until && t < duration) {
        buf[n++] = t;
        t += rng.exponential(rate);
      }
      return n;
    },
  };
}

const ONE_AT_A_TIME: BatcherSettings = {
  maxBatchSize: 1,
  preferredBatchSizes: [],
  maxQueueDelaySeconds: 0,
  instances: 1,
  maxQueueSize: 0,
  queueTimeoutSeconds: 0,
};

/** 10 ms per request: one replica serves 100 req/s. */
const TEN_MS: ServiceTime = () => 0.01;

/** Round numbers so every expected time below can be worked out by hand. */
const CLUSTER: ClusterSettings = {
  nodeProvisionSeconds: { spot: 120, onDemand: 100 },
  coldStartSeconds: 50,
  nodeIdleRemovalSeconds: 300,
  spotInterruptionsPerHour: 0,
  spotNoticeSeconds: 30,
  spotAvailability: 1,
  gpusPerReplica: 1,
  pricePerGpuHour: { spot: 0.2, onDemand: 0.5 },
};

const NONE: ByCapacity = { spot: 0, onDemand: 0 };
const onDemand = (n: number): ByCapacity => ({ spot: 0, onDemand: n });
const spot = (n: number): ByCapacity => ({ spot: n, onDemand: 0 });

/**
 * A Scaler that says `script(t)` every `periodSeconds` (t = seconds since the start, read
 * from `snapshot.now - epoch`) and records every snapshot it is shown.
 */
function scripted(
  script: (t: number) => ByCapacity,
  options: { periodSeconds?: number; epoch?: number; seen?: LoadSnapshot[] } = {},
): Scaler {
  const epoch = options.epoch ?? 0;
  return {
    name: "scripted",
    periodSeconds: options.periodSeconds ?? 10,
    initialState: () => null,
    decide(snapshot) {
      options.seen?.push(snapshot);
      const t = snapshot.now - epoch;
      return { desired: script(t), active: true, held: false, reason: `t=${t}`, state: null };
    },
  };
}

function scalerControl(scaler: Scaler, initial: ByCapacity = NONE): Control {
  return { kind: "scaler", scaler, initial };
}

function scheduleControl(replicas: number): Control {
  return { kind: "schedule", replicasAt: () => replicas, periodSeconds: 60 };
}

/** A run with the defaults above; `rows` collects the timeline when given. */
function run(
  over: Partial<SimulationInput> & {
    readonly arrivals: SimulationInput["arrivals"];
    readonly control: Control;
  },
  rows?: TimelineRow[],
): SimulationResult {
  return simulate({
    batcher: ONE_AT_A_TIME,
    service: TEN_MS,
    cluster: CLUSTER,
    pipeline: { scrapeIntervalSeconds: 15, rateWindowSeconds: 60, delaySeconds: 15 },
    sloSeconds: 1,
    random: createRng(7).fork("cluster"),
    histogram: () => new LatencyHistogram(),
    startEpochSeconds: 0,
    ...(rows ? { timeline: { intervalSeconds: 1, write: (r: TimelineRow) => rows.push(r) } } : {}),
    ...over,
  });
}

/**
 * The cluster during the step that starts at `s`: a timeline row is written at the end
 * of its interval, so with 1 s intervals the row `t = s + 1` shows the step [s, s + 1).
 */
function during(rows: readonly TimelineRow[], s: number): TimelineRow {
  const row = rows.find((r) => r.t === s + 1);
  if (!row) throw new Error(`no timeline row for the step at ${s} s`);
  return row;
}

/** The steps (start times) in [from, to) whose row fails `ok`, for a readable failure. */
function stepsWhere(
  rows: readonly TimelineRow[],
  from: number,
  to: number,
  ok: (r: TimelineRow) => boolean,
): number[] {
  const bad: number[] = [];
  for (let s = from; s < to; s++) if (!ok(during(rows, s))) bad.push(s);
  return bad;
}

function accountedFor(r: SimulationResult): void {
  expect(r.served + r.rejected + r.failed, "every request is served, rejected or failed").to.equal(
    r.requests,
  );
}

describe("simulate: pods and nodes", () => {
  describe("a new replica serves only after node provisioning and cold start", () => {
    // Desired 0 until t = 60, then 2: nodes are asked for at 60, ready at 60 + 100 = 160;
    // the pods cold-start until 160 + 50 = 210. 10 req/s arrive from t = 0 and wait at the
    // front; at 210 those older than the front timeout have failed, the rest are served.
    const cases: { name: string; frontTimeoutSeconds?: number; failed: number }[] = [
      { name: "default front timeout (30 s): arrivals before 180 s fail", failed: 1800 },
      {
        name: "front timeout 10 s: arrivals before 200 s fail",
        frontTimeoutSeconds: 10,
        failed: 2000,
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const rows: TimelineRow[] = [];
        const r = run(
          {
            arrivals: evenly(10, 400),
            control: scalerControl(scripted((t) => (t >= 60 ? onDemand(2) : NONE))),
            ...(c.frontTimeoutSeconds !== undefined
              ? { frontTimeoutSeconds: c.frontTimeoutSeconds }
              : {}),
          },
          rows,
        );
        const timeout = c.frontTimeoutSeconds ?? 30;
        expect(stepsWhere(rows, 0, 60, (x) => x.pending + x.starting + x.readyOnDemand === 0)).to.be
          .empty;
        expect(stepsWhere(rows, 60, 160, (x) => x.pending === 2 && x.readyOnDemand === 0)).to.be
          .empty;
        expect(stepsWhere(rows, 160, 210, (x) => x.starting === 2 && x.readyOnDemand === 0)).to.be
          .empty;
        expect(stepsWhere(rows, 210, 400, (x) => x.readyOnDemand === 2 && x.starting === 0)).to.be
          .empty;

        expect(r.requests).to.equal(4000);
        expect(r.failed).to.be.closeTo(c.failed, 1);
        expect(r.rejected).to.equal(0);
        accountedFor(r);
        // The oldest served request waited at the front for the whole timeout.
        expect(r.maxMs).to.be.within((timeout - 1) * 1000, (timeout + 1) * 1000);
        // Nothing was served before the replicas were ready.
        expect(rows.filter((x) => x.t <= 210).reduce((n, x) => n + x.served, 0)).to.equal(0);
      });
    }
  });

  describe("an idle node lingers for nodeIdleRemovalSeconds after its pod goes", () => {
    // One on-demand replica ready at 0; desired drops to 0 at 100 s, so the pod drains at
    // once (no traffic) and its node idles from 100 s until 100 + 300 = 400 s.
    const cases: {
      name: string;
      script: (t: number) => ByCapacity;
      gpuSeconds: number;
      readyAgainAt?: number;
    }[] = [
      {
        name: "the empty node bills until the autoscaler removes it at 400 s",
        script: (t) => onDemand(t < 100 ? 1 : 0),
        gpuSeconds: 400,
      },
      {
        name: "a pod created at 200 s takes the idle node: cold start only, no provisioning",
        script: (t) => onDemand(t < 100 || t >= 200 ? 1 : 0),
        // One node for the whole 600 s, never a second one.
        gpuSeconds: 600,
        // 200 + cold start 50, not 200 + provisioning 100 + 50.
        readyAgainAt: 250,
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const rows: TimelineRow[] = [];
        const r = run(
          { arrivals: silence(600), control: scalerControl(scripted(c.script), onDemand(1)) },
          rows,
        );
        expect(r.gpuHours * 3600).to.be.closeTo(c.gpuSeconds, 1e-6);
        expect(r.cost).to.be.closeTo((c.gpuSeconds / 3600) * 0.5, 1e-9);
        expect(r.spotGpuHours).to.equal(0);
        expect(
          stepsWhere(rows, 0, 600, (x) => x.pending === 0),
          "never waits for a node",
        ).to.be.empty;
        expect(stepsWhere(rows, 100, 200, (x) => x.readyOnDemand === 0)).to.be.empty;
        if (c.readyAgainAt !== undefined) {
          expect(stepsWhere(rows, 200, c.readyAgainAt, (x) => x.starting === 1)).to.be.empty;
          expect(stepsWhere(rows, c.readyAgainAt, 600, (x) => x.readyOnDemand === 1)).to.be.empty;
        }
      });
    }
  });

  describe("GPU-hours and cost add up", () => {
    const cases: {
      name: string;
      replicas: number;
      capacity?: "spot" | "onDemand";
      gpusPerReplica?: number;
      gpuHours: number;
      spotGpuHours: number;
      cost: number;
    }[] = [
      {
        name: "2 on-demand replicas for 1 h: 2 GPU-hours at the on-demand price",
        replicas: 2,
        gpuHours: 2,
        spotGpuHours: 0,
        cost: 2 * 0.5,
      },
      {
        name: "3 Spot replicas for 1 h: 3 Spot GPU-hours at the Spot price",
        replicas: 3,
        capacity: "spot",
        gpuHours: 3,
        spotGpuHours: 3,
        cost: 3 * 0.2,
      },
      {
        name: "1 replica of 2 GPUs for 1 h: 2 GPU-hours",
        replicas: 1,
        gpusPerReplica: 2,
        gpuHours: 2,
        spotGpuHours: 0,
        cost: 2 * 0.5,
      },
      { name: "no replicas: nothing", replicas: 0, gpuHours: 0, spotGpuHours: 0, cost: 0 },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const r = run({
          arrivals: silence(3600),
          control: scheduleControl(c.replicas),
          cluster: { ...CLUSTER, gpusPerReplica: c.gpusPerReplica ?? 1 },
          ...(c.capacity ? { scheduleCapacity: c.capacity } : {}),
        });
        expect(r.gpuHours).to.be.closeTo(c.gpuHours, 1e-9);
        expect(r.spotGpuHours).to.be.closeTo(c.spotGpuHours, 1e-9);
        expect(r.cost).to.be.closeTo(c.cost, 1e-9);
        expect(r.scaleEvents).to.equal(0);
      });
    }
  });

  describe("Spot reclaims", () => {
    // 5 Spot replicas, a reclaim every 3 min per node on average (about 50 over the half
    // hour); the replacement is asked for at the notice and ready 20 + 10 s later.
    const spotCluster: ClusterSettings = {
      ...CLUSTER,
      nodeProvisionSeconds: { spot: 20, onDemand: 20 },
      coldStartSeconds: 10,
      spotInterruptionsPerHour: 20,
    };
    /** 300 req/s on 500 req/s of 10 ms replicas, 30 s notice. */
    const reclaimRun = (seed: number, rows?: TimelineRow[]) =>
      run(
        {
          arrivals: poisson(300, 1800, 3),
          control: scheduleControl(5),
          scheduleCapacity: "spot",
          cluster: spotCluster,
          random: createRng(seed).fork("cluster"),
        },
        rows,
      );

    it("replaces reclaimed replicas and retries what they had not served: none lost", () => {
      // 1 s per request at 90% load, and a 1 s notice: a reclaimed replica still holds
      // queued requests when its node goes.
      const rows: TimelineRow[] = [];
      const computed = { n: 0 };
      const r = run(
        {
          arrivals: poisson(4.5, 1800, 3),
          control: scheduleControl(5),
          scheduleCapacity: "spot",
          cluster: { ...spotCluster, spotNoticeSeconds: 1 },
          sloSeconds: 60,
          service: (n) => {
            computed.n += n;
            return 1;
          },
        },
        rows,
      );
      accountedFor(r);
      // A retried request keeps its first arrival time: one that has already waited the
      // front's 30 s (the client's timeout) by the time it is retried fails, and only those.
      expect(r.failed).to.be.below(r.requests * 0.05);
      expect(r.rejected).to.equal(0);
      // Requests cut off by a reclaim were computed for nothing, then served elsewhere.
      expect(computed.n, "some requests were cut off by reclaims").to.be.above(r.served);
      // Replacements came: pods waited for nodes or started while the pool was short.
      expect(rows.some((x) => x.pending + x.starting > 0)).to.equal(true);
      expect(rows.some((x) => x.readySpot < 5)).to.equal(true);
      expect(rows.at(-1)?.readySpot).to.equal(5);
      expect(rows.every((x) => x.readyOnDemand === 0)).to.equal(true);
    });

    it("bills a reclaimed node until it goes and its replacement from the request on", () => {
      const calm = run({
        arrivals: poisson(300, 1800, 3),
        control: scheduleControl(5),
        scheduleCapacity: "spot",
        cluster: { ...spotCluster, spotInterruptionsPerHour: 0 },
      });
      expect(calm.gpuHours).to.be.closeTo(2.5, 1e-9);
      const r = reclaimRun(1);
      accountedFor(r);
      expect(r.failed).to.equal(0);
      // Each reclaim's 30 s notice overlaps its replacement's provisioning.
      expect(r.gpuHours).to.be.above(calm.gpuHours + 0.1);
      expect(r.spotGpuHours).to.be.closeTo(r.gpuHours, 1e-9);
      expect(r.cost).to.be.closeTo(r.gpuHours * 0.2, 1e-9);
    });

    it("is deterministic: the same input twice gives identical results and timelines", () => {
      const rowsA: TimelineRow[] = [];
      const rowsB: TimelineRow[] = [];
      const a = reclaimRun(1, rowsA);
      const b = reclaimRun(1, rowsB);
      expect(b).to.deep.equal(a);
      expect(rowsB).to.deep.equal(rowsA);
    });

    it("a different cluster seed changes the Spot outcomes, not the traffic", () => {
      const a = reclaimRun(1);
      const b = reclaimRun(2);
      expect(b.requests).to.equal(a.requests);
      expect(b.gpuHours).to.not.equal(a.gpuHours);
    });
  });

  describe("Spot availability 0", () => {
    it("Spot pods stay pending and cost nothing; the on-demand fallback then serves", () => {
      // 2 Spot replicas wanted from 10 s, never fulfilled; on-demand instead from 300 s:
      // nodes at 300 + 100, ready at 400 + 50.
      const rows: TimelineRow[] = [];
      const seen: LoadSnapshot[] = [];
      const r = run(
        {
          arrivals: evenly(10, 600),
          control: scalerControl(
            scripted((t) => (t >= 300 ? onDemand(2) : t >= 10 ? spot(2) : NONE), { seen }),
          ),
          cluster: { ...CLUSTER, spotAvailability: 0 },
        },
        rows,
      );
      expect(stepsWhere(rows, 10, 300, (x) => x.pending === 2 && x.readySpot === 0)).to.be.empty;
      expect(stepsWhere(rows, 300, 400, (x) => x.pending === 2)).to.be.empty;
      expect(stepsWhere(rows, 400, 450, (x) => x.starting === 2)).to.be.empty;
      expect(stepsWhere(rows, 450, 600, (x) => x.readyOnDemand === 2 && x.pending === 0)).to.be
        .empty;
      expect(
        stepsWhere(rows, 10, 300, (x) => x.cost === 0),
        "no cost while pending",
      ).to.be.empty;

      for (const s of seen.filter((x) => x.now > 10 && x.now < 300)) {
        expect(s.replicas.pending.spot, `t=${s.now}`).to.equal(2);
        expect(s.replicas.oldestPendingSpotSeconds, `t=${s.now}`).to.equal(s.now - 10);
      }
      expect(r.spotGpuHours).to.equal(0);
      expect(r.gpuHours * 3600).to.be.closeTo(2 * 300, 1e-6);
      expect(r.cost).to.be.closeTo(((2 * 300) / 3600) * 0.5, 1e-9);
      accountedFor(r);
      expect(r.failed).to.be.above(0);
    });
  });
});

describe("simulate: what the scaler sees", () => {
  // 20 req/s from 0; desired 0 until 60 s, then 1 on-demand: the replica is ready at
  // 60 + 100 + 50 = 210 s. Scrapes every 15 s (at the end of the steps ending 15, 30, …),
  // visible 15 s later, rates over 60 s.
  const seen: LoadSnapshot[] = [];
  before(() => {
    run({
      arrivals: evenly(20, 400),
      control: scalerControl(
        scripted((t) => (t >= 60 ? onDemand(1) : NONE), { periodSeconds: 5, seen }),
      ),
    });
  });
  const at = (from: number, to: number): LoadSnapshot[] =>
    seen.filter((s) => s.now >= from && s.now < to);

  it("decides every periodSeconds, from the first period on", () => {
    expect(seen.map((s) => s.now).slice(0, 4)).to.deep.equal([5, 10, 15, 20]);
    expect(seen.at(-1)?.now).to.equal(395);
  });

  it("sees no signal before the first scrape is visible (scrape 15 s + delay 15 s)", () => {
    const early = at(0, 30);
    expect(early).to.have.length(5);
    for (const s of early)
      expect(Object.keys(s).sort(), `t=${s.now}`).to.deep.equal(["now", "replicas"]);
  });

  it("sees a rate close to the true 20 req/s once two scrapes are visible", () => {
    for (const s of at(0, 45)) expect(s.arrivalRate, `t=${s.now}`).to.equal(undefined);
    const later = at(45, 400);
    expect(later.length).to.be.above(60);
    for (const s of later) {
      expect(s.arrivalRate?.value, `t=${s.now}`).to.be.closeTo(20, 0.4);
      expect(s.arrivalRate?.ageSeconds, `t=${s.now}`).to.be.within(15, 30);
    }
  });

  it("sees Triton's signals as missing while no replica is ready, and present after", () => {
    // The scrape at 225 s is the first with a ready replica; visible from 240 s.
    for (const s of at(30, 240)) {
      expect(s.inflight, `t=${s.now}`).to.equal(undefined);
      expect(s.gpuUtilization, `t=${s.now}`).to.equal(undefined);
      // Requests waiting at the front are pending work, though no Triton counts them.
      expect(s.pending?.value, `t=${s.now}`).to.be.above(0);
    }
    // Utilization needs two scrapes of the same replica: from the scrape at 240 s.
    for (const s of at(255, 400)) {
      expect(s.inflight, `t=${s.now}`).to.not.equal(undefined);
      expect(s.gpuUtilization, `t=${s.now}`).to.not.equal(undefined);
    }
    // The backlog is gone by 225 s: 20 req/s × 10 ms = 20% busy.
    for (const s of at(270, 400))
      expect(s.gpuUtilization?.value, `t=${s.now}`).to.be.closeTo(0.2, 0.02);
  });

  it("sees replica counts as they are, without the pipeline's delay", () => {
    for (const s of at(65, 160)) expect(s.replicas.pending.onDemand, `t=${s.now}`).to.equal(1);
    for (const s of at(165, 210)) expect(s.replicas.starting.onDemand, `t=${s.now}`).to.equal(1);
    for (const s of at(215, 400)) expect(s.replicas.ready.onDemand, `t=${s.now}`).to.equal(1);
  });
});

describe("simulate: the start epoch", () => {
  const cases: { name: string; epoch?: number; expected: number }[] = [
    { name: "defaults to Monday 2026-01-05T00:00:00Z", expected: DEFAULT_START_EPOCH },
    { name: "a given epoch", epoch: 1_800_000_000, expected: 1_800_000_000 },
  ];
  for (const c of cases) {
    it(`snapshot.now = start + t: ${c.name}`, () => {
      const seen: LoadSnapshot[] = [];
      const input: SimulationInput = {
        arrivals: silence(60),
        batcher: ONE_AT_A_TIME,
        service: TEN_MS,
        cluster: CLUSTER,
        pipeline: { scrapeIntervalSeconds: 15, rateWindowSeconds: 60, delaySeconds: 15 },
        sloSeconds: 1,
        control: scalerControl(scripted(() => NONE, { seen })),
        random: createRng(1),
        histogram: () => new LatencyHistogram(),
        ...(c.epoch !== undefined ? { startEpochSeconds: c.epoch } : {}),
      };
      simulate(input);
      expect(seen.map((s) => s.now - c.expected)).to.deep.equal([10, 20, 30, 40, 50]);
    });
  }

  it("the default start is a Monday at midnight UTC", () => {
    const d = new Date(DEFAULT_START_EPOCH * 1000);
    expect(d.toISOString()).to.equal("2026-01-05T00:00:00.000Z");
    expect(d.getUTCDay()).to.equal(1);
  });
});
