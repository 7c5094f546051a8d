import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { expect } from "chai";
import { reuseConnections } from "../../controller/kube/connections.js";
import { createAcceleratedClock } from "../../controller/loop/clock.js";
import { certsUnavailable, makeTestCerts } from "../support/certs.js";
import { startController, tritonPod } from "../support/controller-harness.js";
import { type FakeKube, startFakeKube } from "../support/fake-kube/index.js";
import { poolDocument } from "../support/pools.js";
import { TritonStandin } from "../support/triton-standin.js";
import { until } from "../support/until.js";

/**
 * Connections to the API server (kube/connections.ts): @kubernetes/client-node 1.4.0 opens
 * one per request; the controller's KubeConfig reuses them. Counted on the server's side:
 * the fake API server's accepted TCP connections, and a TLS server's handshakes.
 */

async function reads(kc: KubeConfig, n: number, parallel = false): Promise<void> {
  const api = kc.makeApiClient(CoreV1Api);
  if (parallel) {
    await Promise.all(Array.from({ length: n }, () => api.listNamespace()));
    return;
  }
  for (let i = 0; i < n; i++) await api.listNamespace();
}

describe("integration: connections to the API server", function () {
  this.timeout(60_000);
  let fake: FakeKube;
  beforeEach(async () => {
    fake = await startFakeKube();
  });
  afterEach(async () => {
    await fake.close();
  });

  it("client-node 1.4.0 alone: one connection per request (what reuseConnections works around)", async () => {
    await reads(fake.kubeConfig(), 20);
    expect(fake.connections).to.equal(20);
  });

  it("reuseConnections: 20 requests in a row over one connection, 8 at once over at most 8, kept for the next 8", async () => {
    const kc = reuseConnections(fake.kubeConfig());
    await reads(kc, 20);
    expect(fake.connections).to.equal(1);
    await reads(kc, 8, true);
    const burst = fake.connections;
    expect(burst).to.be.at.most(1 + 8);
    await reads(kc, 8, true);
    expect(fake.connections, "the second burst reuses the first's").to.equal(burst);
    expect(reuseConnections(kc), "wrapping twice is a no-op").to.equal(kc);
  });

  it("tritonscale controller: applies, status writes and watches over a few connections (regression: one per request)", async () => {
    const clock = createAcceleratedClock(60);
    const triton = new TritonStandin({ models: [{ name: "yolov8s" }], name: "yolo-triton-a" });
    await triton.start();
    triton.setLive(true, () => clock.now());
    const doc = poolDocument({ scaling: { minReplicas: 1, maxReplicas: 6 } });
    doc.metadata = { name: "yolo", namespace: "vision", uid: "uid-yolo" };
    fake.seed(doc);
    fake.seed(tritonPod("yolo-triton-a", { creationTimestamp: "2026-01-01T00:00:00Z" }));
    const c = await startController({
      kubeConfig: fake.kubeConfig("vision"),
      clock,
      tritonEndpoint: () => triton.endpoint(),
    });
    try {
      const requests = () => fake.requests.filter((r) => r.verb !== "watch").length;
      await until(
        () => /"msg":"applied"/.test(c.io.out()) && requests() >= 30,
        30,
        "the pool applied and 30 requests made",
      );
      const watches = fake.requests.filter((r) => r.verb === "watch").length;
      // Each watch holds its own connection while it runs; everything else shares a few.
      expect(fake.connections, `${requests()} requests, ${watches} watches`).to.be.at.most(
        watches + 4,
      );
      expect(fake.connections).to.be.below(requests() / 3);
    } finally {
      c.stop.abort();
      await c.exit;
      await triton.stop();
    }
  });
});

describe("integration: connections to an API server over TLS", function () {
  this.timeout(60_000);

  it("reuseConnections: one TLS handshake for 10 requests, with the cluster's CA (regression: 10)", async function () {
    const why = certsUnavailable();
    if (why !== undefined) this.skip();
    const certs = makeTestCerts();
    let handshakes = 0;
    const server = createHttpsServer(
      { cert: certs.serverCert, key: certs.serverKey },
      (_req, res) => {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(
          JSON.stringify({ apiVersion: "v1", kind: "NamespaceList", metadata: {}, items: [] }),
        );
      },
    );
    server.on("secureConnection", () => {
      handshakes++;
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const config = (): KubeConfig => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [
          {
            name: "tls",
            server: `https://127.0.0.1:${port}`,
            caData: certs.caCert.toString("base64"),
            skipTLSVerify: false,
          },
        ],
        users: [{ name: "u", token: "t" }],
        contexts: [{ name: "tls", cluster: "tls", user: "u" }],
        currentContext: "tls",
      });
      return kc;
    };
    try {
      await reads(config(), 10);
      expect(handshakes, "client-node alone").to.equal(10);
      handshakes = 0;
      await reads(reuseConnections(config()), 10);
      expect(handshakes).to.equal(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
