import { expect } from "chai";
import { ControlLoop, countLoadingAsStarting, type LoopEvent } from "../../controller/loop/loop.js";
import type { PoolRef } from "../../controller/loop/ports.js";
import type { Policy } from "../../controller/policy/index.js";
import type { TritonscaleState } from "../../controller/scaling/tritonscale.js";
import { totalOf } from "../../controller/scaling/types.js";
import { DEFAULT_START_EPOCH } from "../../controller/simulate/engine.js";
import type { PoolCapacity } from "../../controller/simulate/pool-capacity.js";
import { pool } from "../scaling/support.js";
import {
  FakeCluster,
  FakeMetrics,
  failingSink,
  ManualClock,
  ManualScheduler,
  PHASE_ZERO,
  RecordingSink,
  settle,
} from "./support.js";

const T0 = DEFAULT_START_EPOCH;
const REF: PoolRef = { namespace: "vision", name: "yolo-detect" };
/** 96 req/s per replica, as the scaling tests' worked examples. */
const CAPACITY = (): PoolCapacity => ({
  perModel: { yolov8s: 96 },
  perReplica: 96,
  profiles: { yolov8s: "test" },
});

interface Harness {
  readonly clock: ManualClock;
  readonly metrics: FakeMetrics;
  readonly cluster: FakeCluster;
  readonly sink: RecordingSink;
  readonly scheduler: ManualScheduler;
  readonly events: LoopEvent[];
  readonly loop: ControlLoop;
  /** Seconds since T0 of each decision published to `sink`. */
  at(): number[];
}

function harness(
  extraSinks: "none" | "failing-first" = "none",
  start = T0,
  phase = PHASE_ZERO,
): Harness {
  const clock = new ManualClock(start);
  const metrics = new FakeMetrics(start - 60);
  const cluster = new FakeCluster();
  const sink = new RecordingSink();
  const scheduler = new ManualScheduler();
  const events: LoopEvent[] = [];
  const sinks =
    extraSinks === "failing-first" ? [failingSink(false), failingSink(true), sink] : [sink];
  const loop = new ControlLoop(
    { metrics, cluster, sinks, clock, scheduler },
    { capacityOf: CAPACITY, phaseOf: phase, onEvent: (e) => events.push(e) },
  );
  return {
    clock,
    metrics,
    cluster,
    sink,
    scheduler,
    events,
    loop,
    at: () => sink.decisions.map((d) => d.at - T0),
  };
}

const POLICY: Policy = pool({ minReplicas: 1, maxReplicas: 10, syncPeriod: "15s" });

describe("loop: collect → decide → publish per pool", () => {
  it("decides every sync period, from the moment the pool is added", async () => {
    const h = harness();
    h.loop.setPool(REF, POLICY);
    await h.clock.advance(60);
    expect(h.at()).to.deep.equal([0, 15, 30, 45, 60]);
    const last = h.sink.decisions.at(-1)!;
    expect(last.pool).to.deep.equal(REF);
    expect(last.scaler).to.equal("tritonscale");
    expect(last.capacityPerReplica).to.deep.equal({ yolov8s: 96 });
    // 40 req/s over the 60 s window (4 × syncPeriod), scraped this instant.
    expect(last.snapshot.arrivalRate).to.deep.equal({ value: 40, ageSeconds: 0 });
    expect(last.decision.held).to.equal(false);
    // 40 / (96 × 0.7) → 1; from 2, the scale-down stabilization keeps 2 for now.
    expect(totalOf(last.decision.desired)).to.equal(2);
    expect(last.previous).to.deep.equal({ spot: 0, onDemand: 2 });
    await h.loop.stop();
  });

  it("the first decision holds (one round: no rate yet) and says so", async () => {
    const h = harness();
    h.loop.setPool(REF, POLICY);
    await settle();
    const first = h.sink.decisions[0]!;
    expect(first.snapshot.arrivalRate).to.equal(undefined);
    expect(first.decision.held).to.equal(true);
    expect(first.decision.reason).to.match(/arrival rate missing/);
    await h.loop.stop();
  });

  it("a rejected collect is every signal missing: the scaler holds, never down", async () => {
    const h = harness();
    h.loop.setPool(REF, POLICY);
    await h.clock.advance(45);
    h.metrics.fail = true;
    await h.clock.advance(30);
    const failed = h.sink.decisions.filter((d) => d.at - T0 >= 60);
    expect(failed).to.have.length(2);
    for (const d of failed) {
      expect(Object.keys(d.snapshot).sort()).to.deep.equal(["now", "replicas"]);
      expect(d.decision.held).to.equal(true);
      expect(totalOf(d.decision.desired)).to.equal(2);
    }
    expect(h.events.map((e) => e.kind)).to.deep.equal(["collect-failed", "collect-failed"]);
    await h.loop.stop();
  });

  it("a cluster that cannot be read skips the decision (nothing to decide on) and reports it", async () => {
    const h = harness();
    h.loop.setPool(REF, POLICY);
    await h.clock.advance(15);
    h.cluster.fail = true;
    await h.clock.advance(15);
    expect(h.at()).to.deep.equal([0, 15]);
    expect(h.events.map((e) => e.kind)).to.deep.equal(["cluster-failed"]);
    await h.loop.stop();
  });

  it("a wake between periods reconciles at once, and the period grid stays", async () => {
    const h = harness();
    h.loop.setPool(REF, POLICY);
    await h.clock.advance(20);
    h.loop.wake(REF);
    await settle();
    await h.clock.advance(25);
    expect(h.at()).to.deep.equal([0, 15, 20, 30, 45]);
    await h.loop.stop();
  });

  it("a wake during a reconcile runs one more right after it", async () => {
    const h = harness();
    h.loop.setPool(REF, POLICY);
    await h.clock.advance(5);
    let open!: () => void;
    h.metrics.gate = new Promise((r) => {
      open = r;
    });
    h.loop.wake(REF);
    await settle();
    h.loop.wake(REF);
    h.loop.wake(REF);
    h.metrics.gate = undefined;
    open();
    await settle();
    expect(h.at()).to.deep.equal([0, 5, 5]);
    await h.loop.stop();
  });

  it("a changed pool gets a new scaler that carries the old state over", async () => {
    const h = harness();
    h.loop.setPool(REF, POLICY);
    h.metrics.rate = 400;
    await h.clock.advance(60);
    const before = h.sink.decisions.at(-1)!;
    const kept = (before.decision.state as TritonscaleState).arrivals.length;
    expect(kept).to.be.above(1);
    // maxReplicas 10 → 3: the next decision is capped by the new policy, with the trend kept.
    h.loop.setPool(REF, pool({ minReplicas: 1, maxReplicas: 3, syncPeriod: "15s" }));
    await settle();
    const after = h.sink.decisions.at(-1)!;
    expect(after.at - T0).to.equal(60);
    expect(h.sink.decisions).to.have.length(6);
    expect(totalOf(after.decision.desired)).to.equal(3);
    expect(after.decision.reason).to.match(/maxReplicas 3/);
    expect((after.decision.state as TritonscaleState).arrivals.length).to.equal(kept + 1);
    expect(after.previous).to.deep.equal(before.decision.desired);
    await h.loop.stop();
  });

  it("a change to another scaler starts it from the last decision", async () => {
    const h = harness();
    h.loop.setPool(REF, POLICY);
    await h.clock.advance(30);
    h.loop.setPool(REF, pool({ minReplicas: 1, maxReplicas: 10, scaler: "keda-queue" }));
    await settle();
    expect(h.sink.decisions.at(-1)!.scaler).to.equal("keda-queue");
    expect(h.events).to.deep.equal([]);
    await h.loop.stop();
  });

  it("a change that cannot be run keeps the pool on its previous policy", async () => {
    const h = harness();
    h.loop.setPool(REF, POLICY);
    await h.clock.advance(15);
    const loop = new ControlLoop(
      {
        metrics: h.metrics,
        cluster: h.cluster,
        sinks: [h.sink],
        clock: h.clock,
      },
      {
        phaseOf: PHASE_ZERO,
        capacityOf: (p) => ({
          ...CAPACITY(),
          perReplica: p.spec.scaling.maxReplicas === 3 ? 0 : 96,
        }),
        onEvent: (e) => h.events.push(e),
      },
    );
    const other: PoolRef = { namespace: "vision", name: "other" };
    expect(loop.setPool(other, POLICY)).to.equal(true);
    loop.setPool(other, pool({ minReplicas: 1, maxReplicas: 3 }));
    await settle();
    expect(h.events.map((e) => e.kind)).to.deep.equal(["pool-rejected"]);
    expect(loop.lastDecision(other)?.decision.reason).to.not.match(/maxReplicas 3/);
    expect(loop.setPool({ namespace: "vision", name: "third" }, pool({ maxReplicas: 3 }))).to.equal(
      false,
    );
    await loop.stop();
    await h.loop.stop();
  });

  it("a removed pool publishes nothing more, even from a reconcile in progress", async () => {
    const h = harness();
    h.loop.setPool(REF, POLICY);
    await h.clock.advance(15);
    let open!: () => void;
    h.metrics.gate = new Promise((r) => {
      open = r;
    });
    await h.clock.advance(15);
    const removed = h.loop.removePool(REF);
    open();
    await removed;
    await h.clock.advance(120);
    expect(h.at()).to.deep.equal([0, 15]);
    expect(h.loop.poolRefs()).to.deep.equal([]);
    expect(h.clock.sleepers).to.equal(0);
    await h.loop.stop();
  });

  it("an error in one sink does not stop the others (thrown or rejected)", async () => {
    const h = harness("failing-first");
    h.loop.setPool(REF, POLICY);
    await h.clock.advance(30);
    expect(h.at()).to.deep.equal([0, 15, 30]);
    const failed = h.events.filter((e) => e.kind === "sink-failed");
    expect(failed).to.have.length(6);
    expect(failed.map((e) => (e as { sink: number }).sink)).to.deep.equal([0, 1, 0, 1, 0, 1]);
    await h.loop.stop();
  });

  it("a bug in one reconcile (a malformed scrape) is reported and the pool carries on", async () => {
    const h = harness();
    const collect = h.metrics.collect.bind(h.metrics);
    let broken = true;
    h.metrics.collect = async (p, now) =>
      broken ? (undefined as unknown as ReturnType<typeof collect>) : collect(p, now);
    h.loop.setPool(REF, POLICY);
    await settle();
    broken = false;
    await h.clock.advance(30);
    expect(h.events.map((e) => e.kind)).to.deep.equal(["reconcile-failed"]);
    expect(h.at()).to.deep.equal([15, 30]);
    await h.loop.stop();
  });

  it("a listener that throws does not stop the loop", async () => {
    const clock = new ManualClock(T0);
    const sink = new RecordingSink();
    const metrics = new FakeMetrics(T0);
    metrics.fail = true;
    const loop = new ControlLoop(
      { metrics, cluster: new FakeCluster(), sinks: [sink], clock },
      {
        capacityOf: CAPACITY,
        phaseOf: PHASE_ZERO,
        onEvent: () => {
          throw new Error("logger down");
        },
      },
    );
    loop.setPool(REF, POLICY);
    await clock.advance(30);
    expect(sink.decisions).to.have.length(3);
    await loop.stop();
  });

  it("stop() lets the reconcile in progress finish and publish, then resolves", async () => {
    const h = harness();
    h.loop.setPool(REF, POLICY);
    await h.clock.advance(15);
    let open!: () => void;
    h.metrics.gate = new Promise((r) => {
      open = r;
    });
    await h.clock.advance(15);
    let stopped = false;
    const stopping = h.loop.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).to.equal(false);
    open();
    await stopping;
    expect(h.at()).to.deep.equal([0, 15, 30]);
    await h.clock.advance(60);
    expect(h.at()).to.deep.equal([0, 15, 30]);
    expect(h.clock.sleepers).to.equal(0);
    expect(() => h.loop.setPool(REF, POLICY)).to.throw(/stopped/);
  });

  it("pools run independently: each on its own period", async () => {
    const h = harness();
    h.loop.setPool(REF, POLICY);
    const slow: PoolRef = { namespace: "vision", name: "slow" };
    h.loop.setPool(slow, pool({ minReplicas: 1, syncPeriod: "30s" }));
    await h.clock.advance(60);
    const of = (name: string) =>
      h.sink.decisions.filter((d) => d.pool.name === name).map((d) => d.at - T0);
    expect(of("yolo-detect")).to.deep.equal([0, 15, 30, 45, 60]);
    expect(of("slow")).to.deep.equal([0, 30, 60]);
    await h.loop.stop();
  });

  it("replicas still loading a model count as starting (never idle)", async () => {
    const h = harness();
    h.metrics.loading = 1;
    h.loop.setPool(REF, POLICY);
    await settle();
    const r = h.sink.decisions[0]!.snapshot.replicas;
    expect(r.ready).to.deep.equal({ spot: 0, onDemand: 1 });
    expect(r.starting).to.deep.equal({ spot: 0, onDemand: 1 });
    await h.loop.stop();
  });
});

describe("loop: schedules wake the pool", () => {
  // Starting 7 s after midnight with phase 7 puts the 15 s ticks at 7, 22, 37, …: no
  // boundary is on them.
  // Schedule "10 0 * * *" UTC for 5 minutes, lead = coldStart 90 s + nodeProvisioning 0 s:
  // pre-warm at 00:08:30 (510 s), start at 600 s, end at 900 s.
  const scheduled = pool({
    minReplicas: 1,
    maxReplicas: 10,
    syncPeriod: "15s",
    schedules: [
      { name: "morning", cron: "10 0 * * *", timezone: "UTC", duration: "5m", minReplicas: 5 },
    ],
  });

  it("wakes at the pre-warm point, the start and the end, between periods", async () => {
    const h = harness("none", T0 + 7, () => 7);
    h.loop.setPool(REF, scheduled);
    await h.clock.advance(1000);
    const off = h.at().filter((t) => (t - 7) % 15 !== 0);
    expect(off).to.deep.equal([510, 600, 900]);
    const prewarm = h.sink.decisions.find((d) => d.at - T0 === 510)!;
    expect(totalOf(prewarm.decision.desired)).to.equal(5);
    expect(prewarm.decision.reason).to.match(/schedule morning starts in 90 s/);
    await h.loop.stop();
  });

  it("registers each schedule with the cron port in its zone; a trigger wakes the pool", async () => {
    const h = harness();
    h.loop.setPool(REF, scheduled);
    expect(h.scheduler.jobs.map((j) => [j.expression, j.timeZone])).to.deep.equal([
      ["10 0 * * *", "UTC"],
    ]);
    await h.clock.advance(5);
    h.scheduler.fire("10 0 * * *");
    await settle();
    expect(h.at()).to.deep.equal([0, 5]);
    await h.loop.removePool(REF);
    expect(h.scheduler.jobs.every((j) => j.stopped)).to.equal(true);
    await h.loop.stop();
  });

  it("a changed pool re-registers its schedules", async () => {
    const h = harness();
    h.loop.setPool(REF, scheduled);
    h.loop.setPool(REF, POLICY);
    await settle();
    expect(h.scheduler.jobs.map((j) => j.stopped)).to.deep.equal([true]);
    await h.loop.stop();
  });
});

describe("loop: countLoadingAsStarting", () => {
  const counts = (ready: [number, number], starting: [number, number]) => ({
    ready: { spot: ready[0], onDemand: ready[1] },
    starting: { spot: starting[0], onDemand: starting[1] },
    pending: { spot: 0, onDemand: 0 },
    oldestPendingSpotSeconds: 0,
  });
  const rows = [
    {
      name: "none loading: unchanged",
      c: counts([1, 2], [0, 0]),
      loading: 0,
      want: counts([1, 2], [0, 0]),
    },
    {
      name: "one loading, counted ready: moves one, on-demand first",
      c: counts([1, 2], [0, 0]),
      loading: 1,
      want: counts([1, 1], [0, 1]),
    },
    {
      name: "already counted starting by the cluster: unchanged",
      c: counts([1, 2], [0, 1]),
      loading: 1,
      want: counts([1, 2], [0, 1]),
    },
    {
      name: "more loading than on-demand ready: spot next",
      c: counts([2, 1], [0, 0]),
      loading: 2,
      want: counts([1, 0], [1, 1]),
    },
    {
      name: "never more than are ready",
      c: counts([0, 1], [0, 0]),
      loading: 5,
      want: counts([0, 0], [0, 1]),
    },
  ];
  for (const r of rows) {
    it(r.name, () => {
      expect(countLoadingAsStarting(r.c, r.loading)).to.deep.equal(r.want);
    });
  }
});
