import { createServer, type Server } from "node:net";
import { expect } from "chai";
import { type ServeOptions, type Serving, startServing } from "../../controller/cli/serve.js";
import type { LoopEvent } from "../../controller/loop/loop.js";
import { DEFAULT_START_EPOCH } from "../../controller/simulate/engine.js";
import type { PoolCapacity } from "../../controller/simulate/pool-capacity.js";
import {
  FakeCluster,
  FakeMetrics,
  ManualClock,
  PHASE_ZERO,
  RecordingSink,
} from "../loop/support.js";
import { pool } from "../scaling/support.js";

/**
 * cli/serve.ts, the wiring `controller` and `demo` share, over real HTTP and gRPC on
 * loopback with in-memory ports and a manual clock: every decision reaches the KEDA
 * answers, the metrics, /status and the extra sinks; pools come and go; readiness; a taken
 * port; the shutdown order.
 */

const T0 = DEFAULT_START_EPOCH;
const POLICY = pool({ minReplicas: 1, maxReplicas: 10, syncPeriod: "15s" });
const REF = { namespace: "vision", name: "yolo-detect" };
const CAPACITY = (): PoolCapacity => ({
  perModel: { yolov8s: 96 },
  perReplica: 96,
  profiles: { yolov8s: "test" },
});

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
}

interface World {
  readonly clock: ManualClock;
  readonly sink: RecordingSink;
  readonly events: LoopEvent[];
  readonly serving: Serving;
}

const open: Serving[] = [];

async function start(options: Partial<ServeOptions> = {}): Promise<World> {
  const clock = new ManualClock(T0);
  const sink = new RecordingSink();
  const events: LoopEvent[] = [];
  const serving = await startServing({
    metrics: new FakeMetrics(T0 - 60),
    cluster: new FakeCluster(),
    clock,
    sinks: [sink],
    host: "127.0.0.1",
    metricsPort: 0,
    healthPort: 0,
    grpcPort: 0,
    onEvent: (e) => events.push(e),
    ...options,
    loop: { capacityOf: CAPACITY, phaseOf: PHASE_ZERO, ...options.loop },
  });
  open.push(serving);
  return { clock, sink, events, serving };
}

describe("cli/serve: the controller's shared wiring", () => {
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  it("publishes each decision to KEDA's answers, /metrics, /status and the extra sinks", async () => {
    const w = await start();
    expect(w.serving.setPool(POLICY)).to.equal(true);
    w.serving.markSynced();
    await w.clock.advance(30);
    expect(w.sink.decisions).to.have.length(3);
    const last = w.sink.decisions.at(-1)!;
    const [target] = w.serving.keda.targets();
    const lookup = w.serving.keda.lookup(target!.namespace, target!.name);
    expect(lookup.found && lookup.answer?.replicas).to.equal(
      last.decision.desired.spot + last.decision.desired.onDemand,
    );
    const metrics = await get(w.serving.metricsPort, "/metrics");
    expect(metrics.text).to.match(
      /^tritonscale_desired_replicas\{namespace="vision",pool="yolo-detect",capacity_type="on-demand"\} \d/m,
    );
    expect(metrics.text).to.match(/^tritonscale_leader 1$/m);
    const status = JSON.parse((await get(w.serving.healthPort, "/status")).text);
    expect(status.pools.map((p: { name: string }) => p.name)).to.deep.equal(["yolo-detect"]);
    expect((await get(w.serving.healthPort, "/readyz")).status).to.equal(200);
    expect((await get(w.serving.healthPort, "/healthz")).status).to.equal(200);
    expect(w.serving.grpcPort).to.be.greaterThan(0);
  });

  it("is ready only once synced and every pool has decided", async () => {
    const metrics = new FakeMetrics(T0 - 60);
    let release!: () => void;
    metrics.gate = new Promise<void>((r) => {
      release = r;
    });
    const w = await start({ metrics });
    expect((await get(w.serving.healthPort, "/readyz")).text).to.match(/initial sync not done/);
    w.serving.setPool(POLICY);
    w.serving.markSynced();
    // The first collect hangs: the pool has not decided yet.
    await w.clock.advance(0);
    expect((await get(w.serving.healthPort, "/readyz")).status).to.equal(503);
    metrics.gate = undefined;
    release();
    await w.clock.advance(0);
    expect((await get(w.serving.healthPort, "/readyz")).status).to.equal(200);
  });

  it("is not wedged while it runs no pool, however long", async () => {
    const w = await start({ periodSeconds: 15 });
    await w.clock.advance(3600);
    expect((await get(w.serving.healthPort, "/healthz")).status).to.equal(200);
  });

  it("a pool the loop cannot run is rejected whole: no ScaledObject served, an error counted", async () => {
    const w = await start({
      loop: {
        capacityOf: () => {
          throw new Error("model yolov8s cannot meet the 85 ms p99 SLO");
        },
      },
    });
    expect(w.serving.setPool(POLICY)).to.equal(false);
    expect(w.serving.keda.targets()).to.deep.equal([]);
    expect(w.events.map((e) => e.kind)).to.deep.equal(["pool-rejected"]);
    const metrics = await get(w.serving.metricsPort, "/metrics");
    expect(metrics.text).to.match(/^tritonscale_reconcile_errors_total\{kind="pool"\} 1$/m);
  });

  it("a removed pool is no longer decided, answered, exported or shown", async () => {
    const w = await start();
    w.serving.setPool(POLICY);
    await w.clock.advance(15);
    const [target] = w.serving.keda.targets();
    await w.serving.removePool(REF);
    const decided = w.sink.decisions.length;
    await w.clock.advance(60);
    expect(w.sink.decisions).to.have.length(decided);
    expect(w.serving.keda.lookup(target!.namespace, target!.name).found).to.equal(false);
    expect((await get(w.serving.metricsPort, "/metrics")).text).not.to.match(
      /tritonscale_desired_replicas\{/,
    );
    expect(JSON.parse((await get(w.serving.healthPort, "/status")).text)).to.deep.equal({
      pools: [],
    });
  });

  it("a taken port fails the start, naming the address", async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      let error: unknown;
      await start({ grpcPort: port }).catch((e: unknown) => {
        error = e;
      });
      expect(String(error)).to.match(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
    } finally {
      taken.close();
    }
  });

  it("closes in order: not ready at once, the reconcile in progress finishes, then the servers", async () => {
    const metrics = new FakeMetrics(T0 - 60);
    let release!: () => void;
    const w = await start({ metrics });
    w.serving.setPool(POLICY);
    w.serving.markSynced();
    await w.clock.advance(0);
    expect((await get(w.serving.healthPort, "/readyz")).status).to.equal(200);
    // The next collect hangs until released: a reconcile in progress.
    metrics.gate = new Promise<void>((r) => {
      release = r;
    });
    await w.clock.advance(15);
    const before = w.sink.decisions.length;
    const closing = w.serving.close();
    expect(w.serving.close()).to.equal(closing);
    const ready = await get(w.serving.healthPort, "/readyz");
    expect(ready.status).to.equal(503);
    release();
    await closing;
    expect(w.sink.decisions).to.have.length(before + 1);
    let refused = false;
    await fetch(`http://127.0.0.1:${w.serving.metricsPort}/metrics`).catch(() => {
      refused = true;
    });
    expect(refused).to.equal(true);
  });
});
