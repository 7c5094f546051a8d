import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { createAcceleratedClock } from "../../controller/loop/clock.js";
import type { Clock } from "../../controller/loop/ports.js";
import { certsUnavailable, makeTestCerts } from "../support/certs.js";
import {
  type Json,
  pollUntil,
  SPEED,
  startController,
  tritonPod,
} from "../support/controller-harness.js";
import { type FakeKube, startFakeKube } from "../support/fake-kube/index.js";
import { KedaStandin } from "../support/keda-standin.js";
import { poolDocument } from "../support/pools.js";
import { referenceDir, requireReference } from "../support/reference.js";
import { TritonStandin } from "../support/triton-standin.js";
import { until } from "../support/until.js";

/**
 * `tritonscale controller` end to end, against real parts over loopback: the fake
 * Kubernetes API server driven by the real client, a Triton stand-in serving Triton's
 * gRPC API and /metrics, and a KEDA stand-in polling the external scaler on KEDA's own
 * (upstream) proto. The controller runs on an accelerated clock (60×: a 15 s sync period
 * is 0.25 s of wall time), the stand-in's load model on the same clock; nothing sleeps
 * on the wall clock but the polling of `until`.
 */

const SO = { namespace: "vision", name: "yolo-triton" };

describe("integration: tritonscale controller against the fake API server, a Triton stand-in and a KEDA stand-in", function () {
  this.timeout(60_000);
  let fake: FakeKube;
  let triton: TritonStandin;
  let clock: Clock;

  beforeEach(async () => {
    fake = await startFakeKube();
    clock = createAcceleratedClock(SPEED);
    triton = new TritonStandin({ models: [{ name: "yolov8s" }], name: "yolo-triton-a" });
    await triton.start();
    triton.setLive(true, () => clock.now());
  });
  afterEach(async () => {
    await triton.stop();
    await fake.close();
  });

  /** Starts the controller; resolves with what a test needs to drive and stop it. */
  function start(args: readonly string[] = []) {
    return startController({
      kubeConfig: fake.kubeConfig("vision"),
      clock,
      tritonEndpoint: () => triton.endpoint(),
      args,
    });
  }

  it("applies the pool, scales 1 → N as load reaches Triton and back to 0 after the idle window; status, metrics and KEDA agree; SIGTERM exits 0", async function () {
    requireReference(this, "keda");
    fake.seed(
      poolDocument({
        scaling: {
          minReplicas: 0,
          maxReplicas: 6,
          idleWindow: "2m",
          scaleDown: { stabilizationWindow: "1m" },
        },
      }),
    );
    fake.seed(tritonPod("yolo-triton-a"));
    const c = await start();
    const keda = new KedaStandin(referenceDir, `127.0.0.1:${c.serving.grpcPort}`);
    try {
      // Applied with server-side apply, field manager tritonscale.
      await until(
        () => fake.get("keda.sh/v1alpha1", "ScaledObject", "vision", SO.name) !== undefined,
        10,
        "the ScaledObject applied",
      );
      const deployment = fake.get("apps/v1", "Deployment", "vision", "yolo-triton") as Json;
      const managers = ((deployment.metadata as Json).managedFields as Json[]).map(
        (m) => m.manager,
      );
      expect(managers).to.include("tritonscale");

      // Load beyond one replica: KEDA's poll lands on more replicas, and the pool is active.
      triton.setArrivalRate("yolov8s", 1200);
      let poll = await pollUntil(keda, SO, (p) => p.value >= 3, 10);
      expect(poll.value, "desired replicas answered to KEDA under 1200 req/s").to.be.at.least(3);
      expect(poll.active).to.equal(true);
      expect(poll.target).to.equal(1);

      // The same decision in /metrics and in the ModelPool's status.
      const metrics = await (
        await fetch(`http://127.0.0.1:${c.serving.metricsPort}/metrics`)
      ).text();
      expect(metrics).to.match(/tritonscale_desired_replicas\{[^}]*pool="yolo"[^}]*\} [3-6]/);
      await until(
        () => {
          const s = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo")?.status as
            | Json
            | undefined;
          const conditions = (s?.conditions ?? []) as Json[];
          return (
            conditions.some((x) => x.type === "Applied" && x.status === "True") &&
            conditions.some((x) => x.type === "Valid" && x.status === "True") &&
            s?.decision !== undefined
          );
        },
        10,
        "status with Valid, Applied and the decision",
      );

      // No load: back to zero only after the idle window (2 min = 2 s of wall time here).
      triton.setArrivalRate("yolov8s", 0);
      poll = await pollUntil(keda, SO, (p) => !p.active && p.value === 0, 20);
      expect(poll.active, "inactive after the idle window").to.equal(false);
      expect(poll.value).to.equal(0);

      const decisions = c.decisions();
      expect(decisions.length).to.be.greaterThan(3);
      expect(decisions.every((d) => d.pool === "vision/yolo")).to.equal(true);
    } finally {
      keda.close();
      c.stop.abort();
    }
    expect(await c.exit).to.equal(0);
    expect(c.io.out()).to.contain('"msg":"stopped"');
  });

  it("scales 0 → N from the front door: with no replica, Triton exports nothing; the pool's frontDoor counter (queried on Prometheus) brings it up", async function () {
    requireReference(this, "keda");
    // A Prometheus stand-in answering the pool's frontDoor query: a counter of requests
    // at the ingress growing by 300 per second of the controller's clock once load starts.
    let loadFrom: number | undefined;
    const queries: string[] = [];
    const prom = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      queries.push(url.searchParams.get("query") ?? "");
      const t = clock.now();
      const count = loadFrom === undefined ? 0 : 300 * Math.max(0, t - loadFrom);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          status: "success",
          data: { resultType: "vector", result: [{ metric: {}, value: [t, String(count)] }] },
        }),
      );
    });
    await new Promise<void>((r) => prom.listen(0, "127.0.0.1", r));
    const port = (prom.address() as AddressInfo).port;
    const requests = 'sum(envoy_cluster_upstream_rq_total{envoy_cluster_name="vision_yolo"})';
    fake.seed(
      poolDocument({
        scaling: { minReplicas: 0, maxReplicas: 6, idleWindow: "2m" },
        monitoring: { prometheusAddress: `http://127.0.0.1:${port}`, frontDoor: { requests } },
      }),
    );
    const c = await start();
    const keda = new KedaStandin(referenceDir, `127.0.0.1:${c.serving.grpcPort}`);
    try {
      // No pod, no load: inactive, 0 (the pool stays at zero).
      let poll = await pollUntil(keda, SO, () => true, 10);
      await new Promise((r) => setTimeout(r, 500)); // two sync periods on the 60× clock
      poll = await pollUntil(keda, SO, () => true, 10);
      expect(poll.active).to.equal(false);
      expect(poll.value).to.equal(0);
      // Requests reach the front door: active, and at least one replica, before any pod runs.
      loadFrom = clock.now();
      poll = await pollUntil(keda, SO, (p) => p.active && p.value >= 1, 10);
      expect(poll.active, "active from the front door's arrivals").to.equal(true);
      expect(poll.value).to.be.at.least(1);
      expect(queries).to.include(requests);
    } finally {
      keda.close();
      c.stop.abort();
      prom.close();
    }
    expect(await c.exit).to.equal(0);
  });

  it("--tls-cert/--tls-key: KEDA polls over TLS, and a renewed certificate in the same files is served without a restart", async function () {
    requireReference(this, "keda");
    const why = certsUnavailable();
    if (why !== undefined) {
      console.warn(`    skipped: ${why}: no X.509 certificates can be made for the TLS test`);
      this.skip();
    }
    const certs = makeTestCerts();
    const dir = mkdtempSync(join(tmpdir(), "tritonscale-tls-"));
    const cert = join(dir, "tls.crt");
    const key = join(dir, "tls.key");
    writeFileSync(cert, certs.serverCert);
    writeFileSync(key, certs.serverKey);
    fake.seed(poolDocument({ scaling: { minReplicas: 1, maxReplicas: 4 } }));
    fake.seed(tritonPod("yolo-triton-a"));
    const c = await start(["--tls-cert", cert, "--tls-key", key]);
    const address = `127.0.0.1:${c.serving.grpcPort}`;
    const trusting = (caCert: Buffer) =>
      new KedaStandin(referenceDir, address, { caCert, serverName: "localhost" });
    const first = trusting(certs.caCert);
    const renewedClient = trusting(certs.otherCaCert);
    try {
      const poll = await pollUntil(first, SO, (p) => p.value >= 1, 10);
      expect(poll.value).to.be.at.least(1);
      // cert-manager renews: new files, signed by another CA. A client trusting only that
      // CA gets through once the controller re-read them (60 s of clock: 1 s of wall time).
      writeFileSync(cert, certs.renewedServerCert);
      writeFileSync(key, certs.renewedServerKey);
      const renewed = await pollUntil(renewedClient, SO, (p) => p.value >= 1, 10);
      expect(renewed.value).to.be.at.least(1);
      expect(c.io.out()).to.contain('"msg":"TLS certificate reloaded"');
    } finally {
      first.close();
      renewedClient.close();
      c.stop.abort();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await c.exit).to.equal(0);
  });

  it("an invalid ModelPool applies nothing and says which field, in its status and the log", async () => {
    fake.seed(poolDocument({ scaling: { minReplicas: 5, maxReplicas: 2 } }));
    const c = await start();
    try {
      await until(
        () => {
          const s = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo")?.status as
            | Json
            | undefined;
          return ((s?.conditions ?? []) as Json[]).some(
            (x) => x.type === "Valid" && x.status === "False",
          );
        },
        10,
        "Valid=False",
      );
      expect(c.io.out()).to.contain("invalid pool: nothing applied");
      expect(c.io.out()).to.contain("minReplicas");
      expect(fake.get("apps/v1", "Deployment", "vision", "yolo-triton")).to.equal(undefined);
    } finally {
      c.stop.abort();
    }
    expect(await c.exit).to.equal(0);
  });
});
