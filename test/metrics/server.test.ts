import { request } from "node:http";
import { createServer } from "node:net";
import { expect } from "chai";
import { Gauge, Registry } from "prom-client";
import {
  type ControllerServers,
  type ControllerServersOptions,
  createControllerMetrics,
  createStatusBoard,
  type HealthOptions,
  startControllerServers,
} from "../../controller/metrics/index.js";
import { decision, samples } from "./support.js";

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request over real HTTP on loopback (a fresh connection, so no keep-alive reuse). */
function get(port: number, path: string, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A manual clock and health state the tests move by hand. */
function world() {
  const state = {
    now: 1000,
    lastTick: undefined as number | undefined,
    leader: true,
    synced: true,
  };
  const health: HealthOptions = {
    lastTick: () => state.lastTick,
    periodSeconds: 30,
    now: () => state.now,
    isLeader: () => state.leader,
    initialSyncDone: () => state.synced,
  };
  return { state, health };
}

describe("metrics: the HTTP servers (real HTTP on loopback)", () => {
  const open: ControllerServers[] = [];
  const start = async (
    o: Partial<ControllerServersOptions> & Pick<ControllerServersOptions, "health">,
  ) => {
    const s = await startControllerServers({
      registry: o.registry ?? createControllerMetrics({ processMetrics: false }).registry,
      host: "127.0.0.1",
      metricsPort: 0,
      healthPort: 0,
      ...o,
    });
    open.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  it("serves /metrics on the metrics port with the exposition content type", async () => {
    const metrics = createControllerMetrics({ processMetrics: false });
    metrics.publish(decision());
    const s = await start({ registry: metrics.registry, health: world().health });
    expect(s.metricsPort).not.to.equal(s.healthPort);
    const r = await get(s.metricsPort, "/metrics");
    expect(r.status).to.equal(200);
    expect(r.headers["content-type"]).to.match(/^text\/plain; version=0\.0\.4/);
    expect(
      samples(r.body).get(
        'tritonscale_desired_replicas{capacity_type="spot",namespace="vision",pool="yolo"}',
      ),
    ).to.equal("2");
    // Each port serves only its own paths.
    expect((await get(s.healthPort, "/metrics")).status).to.equal(404);
    expect((await get(s.metricsPort, "/healthz")).status).to.equal(404);
  });

  it("/healthz: alive while the loop ticks within 3 periods, 503 once it is wedged", async () => {
    const w = world();
    const s = await start({ health: w.health });
    const cases: readonly { name: string; now: number; lastTick?: number; want: number }[] = [
      { name: "before the first tick, just started", now: 1000, want: 200 },
      { name: "before the first tick, 91 s after start", now: 1091, want: 503 },
      { name: "ticked 89 s ago", now: 1200, lastTick: 1111, want: 200 },
      { name: "ticked 90 s ago (the limit)", now: 1200, lastTick: 1110, want: 200 },
      { name: "ticked 95 s ago", now: 1205, lastTick: 1110, want: 503 },
    ];
    for (const c of cases) {
      w.state.now = c.now;
      w.state.lastTick = c.lastTick;
      const r = await get(s.healthPort, "/healthz");
      expect(r.status, c.name).to.equal(c.want);
      if (c.want === 503)
        expect(r.body, c.name).to.match(/^loop wedged: last tick \d+ s ago > 3 × 30 s/);
    }
  });

  it("/readyz: ready only as the leader after the initial sync", async () => {
    const w = world();
    const s = await start({ health: w.health });
    const cases: readonly {
      name: string;
      leader: boolean;
      synced: boolean;
      want: number;
      body: RegExp;
    }[] = [
      { name: "leader, synced", leader: true, synced: true, want: 200, body: /^ok/ },
      { name: "follower", leader: false, synced: true, want: 503, body: /not the leader/ },
      {
        name: "leader, syncing",
        leader: true,
        synced: false,
        want: 503,
        body: /initial sync not done/,
      },
      {
        name: "follower, syncing",
        leader: false,
        synced: false,
        want: 503,
        body: /not the leader, initial sync not done/,
      },
    ];
    for (const c of cases) {
      w.state.leader = c.leader;
      w.state.synced = c.synced;
      const r = await get(s.healthPort, "/readyz");
      expect(r.status, c.name).to.equal(c.want);
      expect(r.body, c.name).to.match(c.body);
    }
  });

  it("/status: the last decision per pool as JSON when given, 404 otherwise", async () => {
    const board = createStatusBoard();
    board.publish(decision({ desired: { spot: 3, onDemand: 1 }, reason: "arrivals up" }));
    const withStatus = await start({ health: { ...world().health, status: board.status } });
    const r = await get(withStatus.healthPort, "/status");
    expect(r.status).to.equal(200);
    expect(r.headers["content-type"]).to.equal("application/json");
    const doc = JSON.parse(r.body) as {
      pools: { name: string; reason: string; reasonClass: string }[];
    };
    expect(doc.pools).to.have.length(1);
    expect(doc.pools[0]).to.deep.include({
      name: "yolo",
      reason: "arrivals up",
      reasonClass: "scale-up",
    });
    const without = await start({ health: world().health });
    expect((await get(without.healthPort, "/status")).status).to.equal(404);
  });

  it("answers 405 to other methods, 404 to other paths, HEAD without a body", async () => {
    const s = await start({ health: world().health });
    const post = await get(s.healthPort, "/healthz", "POST");
    expect(post.status).to.equal(405);
    expect(post.headers.allow).to.equal("GET, HEAD");
    const missing = await get(s.healthPort, "/nope");
    expect(missing.status).to.equal(404);
    expect(missing.body).to.contain("/healthz, /readyz, /status");
    const head = await get(s.healthPort, "/healthz", "HEAD");
    expect(head.status).to.equal(200);
    expect(head.body).to.equal("");
    expect((await get(s.metricsPort, "/metrics?x=1")).status).to.equal(200);
  });

  it("one port for both when metricsPort equals healthPort", async () => {
    const probe = createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, "127.0.0.1", () => resolve((probe.address() as { port: number }).port)),
    );
    await new Promise((resolve) => probe.close(resolve));
    const s = await start({ health: world().health, metricsPort: port, healthPort: port });
    expect(s.healthPort).to.equal(port);
    expect((await get(port, "/metrics")).status).to.equal(200);
    expect((await get(port, "/readyz")).status).to.equal(200);
  });

  it("a port in use rejects with EADDRINUSE", async () => {
    const first = await start({ health: world().health });
    let error: NodeJS.ErrnoException | undefined;
    try {
      await startControllerServers({
        registry: new Registry(),
        health: world().health,
        host: "127.0.0.1",
        metricsPort: 0,
        healthPort: first.healthPort,
      });
    } catch (e) {
      error = e as NodeJS.ErrnoException;
    }
    expect(error?.code).to.equal("EADDRINUSE");
  });

  it("rejects a period that is not > 0, naming it", async () => {
    for (const periodSeconds of [0, Number.NaN, -5]) {
      let error: Error | undefined;
      try {
        await start({ health: { ...world().health, periodSeconds } });
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message, String(periodSeconds)).to.match(
        /periodSeconds and wedgedAfterPeriods must be > 0\. Received: periodSeconds/,
      );
    }
  });

  it("a failing collector answers 500 with the reason, the server keeps serving", async () => {
    const registry = new Registry();
    new Gauge({
      name: "broken",
      help: "throws",
      registers: [registry],
      collect() {
        throw new Error("scrape exploded");
      },
    });
    const s = await start({ registry, health: world().health });
    const r = await get(s.metricsPort, "/metrics");
    expect(r.status).to.equal(500);
    expect(r.body).to.contain("scrape exploded");
    expect((await get(s.healthPort, "/healthz")).status).to.equal(200);
  });

  it("close(): stops accepting, finishes the request in flight with Connection: close, then resolves", async () => {
    // A collector that waits for the test: the request is in flight until released.
    let release: () => void = () => {};
    let entered: () => void = () => {};
    const inside = new Promise<void>((r) => {
      entered = r;
    });
    const registry = new Registry();
    new Gauge({
      name: "slow",
      help: "waits",
      registers: [registry],
      async collect() {
        entered();
        await new Promise<void>((r) => {
          release = r;
        });
        this.set(7);
      },
    });
    const s = await startControllerServers({
      registry,
      health: world().health,
      host: "127.0.0.1",
      metricsPort: 0,
      healthPort: 0,
    });
    const pending = get(s.metricsPort, "/metrics");
    await inside;
    let closed = false;
    const closing = s.close().then(() => {
      closed = true;
    });
    // New connections are refused at once.
    const refused = await get(s.metricsPort, "/metrics").then(
      () => "answered",
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(refused).to.equal("ECONNREFUSED");
    expect(closed).to.equal(false);
    release();
    const r = await pending;
    expect(r.status).to.equal(200);
    expect(r.body).to.contain("slow 7");
    expect(r.headers.connection).to.equal("close");
    await closing;
    expect(closed).to.equal(true);
    expect(await s.close()).to.equal(undefined);
  });
});
