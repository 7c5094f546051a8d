import { expect } from "chai";
import { DEFAULT_DEMO_TRACE } from "../../controller/cli/demo.js";
import { createAcceleratedClock } from "../../controller/loop/clock.js";
import { ControlLoop, type LoopEvent } from "../../controller/loop/loop.js";
import { createSimulatedPorts } from "../../controller/loop/simulated.js";
import { totalOf } from "../../controller/scaling/types.js";
import { DEFAULT_START_EPOCH } from "../../controller/simulate/engine.js";
import { poolCapacity } from "../../controller/simulate/pool-capacity.js";
import { createPoolRun } from "../../controller/simulate/pool-run.js";
import { parseTraceSpec } from "../../controller/simulate/trace.js";
import { minimalPool } from "../support/pools.js";
import { ManualClock, PHASE_ZERO, RecordingSink } from "./support.js";

/**
 * The in-memory edge (loop/simulated.ts): the simulator's cluster and Triton replicas
 * behind the loop's ports, and the actuator that applies decisions to them, driven by the
 * real ControlLoop on a manual clock.
 */

const T0 = DEFAULT_START_EPOCH;
const POLICY = minimalPool({ scaling: { minReplicas: 1, maxReplicas: 8, syncPeriod: "15s" } });
const REF = { namespace: POLICY.metadata.namespace, name: POLICY.metadata.name };
const CAPACITY = poolCapacity(POLICY);

function setup(trace: string) {
  const run = createPoolRun(POLICY, parseTraceSpec(trace, 5), {
    seed: 5,
    repeat: true,
    capacityPerReplica: CAPACITY.perReplica,
  });
  const clock = new ManualClock(T0);
  const ports = createSimulatedPorts(run, REF, T0);
  const sink = new RecordingSink();
  const events: LoopEvent[] = [];
  const loop = new ControlLoop(
    {
      metrics: ports.metrics,
      cluster: ports.cluster,
      sinks: [ports.actuator, sink],
      clock,
    },
    { capacityOf: () => CAPACITY, phaseOf: PHASE_ZERO, onEvent: (e) => events.push(e) },
  );
  return { run, clock, ports, sink, events, loop };
}

describe("loop/simulated: a simulated pool behind the loop's ports", () => {
  it("scales the simulated cluster up with the load and back down, as decided", async function () {
    this.timeout(120_000);
    // demo's default: a 2 h cycle from a trough at t = 0 to 1,200 req/s at 1 h.
    const h = setup(DEFAULT_DEMO_TRACE);
    h.loop.setPool(REF, POLICY);
    await h.clock.advance(60 * 60);
    const up = h.sink.decisions.at(-1)!;
    expect(h.events).to.deep.equal([]);
    expect(totalOf(up.decision.desired)).to.be.at.least(4);
    // The actuator applied each decision: the cluster runs what was last decided.
    const counts = h.run.replicaCounts();
    const running = totalOf(counts.ready) + totalOf(counts.starting) + totalOf(counts.pending);
    expect(running).to.equal(totalOf(up.decision.desired));
    // The window read the simulated Triton counters: the rate the trace sent.
    expect(up.snapshot.arrivalRate?.value).to.be.within(1000, 1400);
    await h.clock.advance(60 * 60);
    const down = h.sink.decisions.at(-1)!;
    expect(totalOf(down.decision.desired)).to.be.below(totalOf(up.decision.desired));
    expect(h.run.time).to.equal(7200);
    await h.loop.stop();
    const result = h.run.finish();
    expect(result.sloAttainment).to.be.above(0.99);
  });

  it("scrapes under the pool model's name, stamped on the loop's clock", async () => {
    const h = setup("synthetic:poisson:rate=100:duration=10m");
    const first = await h.ports.metrics.collect(POLICY, T0 + 30);
    const round = await h.ports.metrics.collect(POLICY, T0 + 90.5);
    expect(first.t).to.equal(T0 + 30);
    expect(round.t).to.equal(T0 + 90);
    expect(round.replicas[0]!.models[0]!.model).to.equal(POLICY.spec.models[0]!.name);
    expect(h.run.time).to.equal(90);
    expect((await h.ports.cluster.replicas(POLICY, T0 + 100)).ready).to.deep.equal({
      spot: 0,
      onDemand: 1,
    });
  });

  it("refuses another pool's questions", async () => {
    const h = setup("synthetic:poisson:rate=100:duration=10m");
    const other = minimalPool();
    const renamed = { ...other, metadata: { ...other.metadata, name: "other" } };
    let error: unknown;
    await h.ports.metrics.collect(renamed, T0).catch((e: unknown) => {
      error = e;
    });
    expect(String(error)).to.match(/runs pool vision\/yolo only, not vision\/other/);
  });
});

describe("createAcceleratedClock", () => {
  const rows = [
    { name: "speed 60: a wall second is a simulated minute", speed: 60, wall: 1, expected: 1060 },
    { name: "speed 1: real time", speed: 1, wall: 2.5, expected: 1002.5 },
    { name: "speed 0.5: slowed down", speed: 0.5, wall: 4, expected: 1002 },
  ];
  for (const r of rows) {
    it(r.name, () => {
      let wall = 500;
      const clock = createAcceleratedClock(r.speed, {
        startSeconds: 1000,
        wallSeconds: () => wall,
      });
      expect(clock.now()).to.equal(1000);
      wall += r.wall;
      expect(clock.now()).to.equal(r.expected);
    });
  }

  const bad = [0, -1, Number.NaN, Number.POSITIVE_INFINITY];
  for (const speed of bad) {
    it(`refuses speed ${speed}`, () => {
      expect(() => createAcceleratedClock(speed)).to.throw(RangeError, /speed/);
    });
  }

  it("starts at the wall clock's time by default, and an aborted sleep ends at once", async () => {
    const clock = createAcceleratedClock(1000, { wallSeconds: () => 42 });
    expect(clock.now()).to.equal(42);
    const abort = new AbortController();
    const sleeping = clock.sleep(3600 * 1000, abort.signal);
    abort.abort();
    await sleeping;
    await clock.sleep(1, abort.signal);
  });
});
