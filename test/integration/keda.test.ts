import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { createInputReader } from "../../controller/cli/read-input.js";
import {
  type KedaRpc,
  type KedaServer,
  METRIC_NAME,
  startKedaServer,
} from "../../controller/keda/server.js";
import { KedaTargets } from "../../controller/keda/targets.js";
import { type KedaTls, readKedaTls } from "../../controller/keda/tls.js";
import { certsUnavailable, makeTestCerts, type TestCerts } from "../support/certs.js";
import { type DecisionSpec, poolDecision } from "../support/decisions.js";
import { KedaStandin, type StandinTls } from "../support/keda-standin.js";
import { pool } from "../support/pools.js";
import { referenceDir, requireReference } from "../support/reference.js";

/**
 * The KEDA external scaler over real gRPC on loopback, driven by the KEDA stand-in (a client
 * on KEDA's upstream externalscaler.proto making KEDA's calls).
 */

const SPOT = { namespace: "vision", name: "yolo-triton-spot" };
const ON_DEMAND = { namespace: "vision", name: "yolo-triton-ondemand" };

/** The gRPC status code of a rejected promise. */
async function codeOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code: number; details: string };
    return { code: err.code, details: err.details };
  }
  throw new Error("expected the call to fail");
}

interface Running {
  targets: KedaTargets;
  server: KedaServer;
  keda: KedaStandin;
  calls: { rpc: KedaRpc; code: number }[];
}

async function start(tls?: KedaTls, clientTls?: StandinTls): Promise<Running> {
  const targets = new KedaTargets();
  targets.setPool(pool("eks", "keda"));
  const calls: Running["calls"] = [];
  const server = await startKedaServer({
    targets,
    port: 0,
    host: "127.0.0.1",
    ...(tls === undefined ? {} : { tls }),
    onCall: (rpc, code) => calls.push({ rpc, code }),
  });
  // The test certificate names localhost (an IP is no TLS server name, RFC 6066).
  const keda = new KedaStandin(
    referenceDir,
    `127.0.0.1:${server.port}`,
    clientTls === undefined ? undefined : { ...clientTls, serverName: "localhost" },
  );
  return { targets, server, keda, calls };
}

async function stop(r: Running | undefined): Promise<void> {
  r?.keda.close();
  await r?.server.close();
}

describe("KEDA external scaler over gRPC, with the KEDA stand-in", () => {
  let r: Running;
  before(function () {
    requireReference(this, "keda");
  });
  beforeEach(async () => {
    r = await start();
  });
  afterEach(() => stop(r));

  interface Row {
    readonly name: string;
    readonly decision: DecisionSpec;
    readonly spot: { value: number; active: boolean };
    readonly onDemand: { value: number; active: boolean };
  }
  const ROWS: readonly Row[] = [
    {
      name: "scale up",
      decision: { desired: { spot: 5, onDemand: 1 }, ready: { spot: 2, onDemand: 1 } },
      spot: { value: 5, active: true },
      onDemand: { value: 1, active: true },
    },
    {
      name: "scale down",
      decision: { desired: { spot: 1, onDemand: 1 }, ready: { spot: 6, onDemand: 1 } },
      spot: { value: 1, active: true },
      onDemand: { value: 1, active: true },
    },
    {
      name: "idle, to zero (both fields 0, so the int fallback reads 0 too)",
      decision: { desired: { spot: 0, onDemand: 0 }, active: false, pendingRequests: 0 },
      spot: { value: 0, active: false },
      onDemand: { value: 0, active: false },
    },
    {
      name: "held (metrics stale): not below what runs",
      decision: { desired: { spot: 1, onDemand: 1 }, held: true, ready: { spot: 4, onDemand: 1 } },
      spot: { value: 4, active: true },
      onDemand: { value: 1, active: true },
    },
    {
      name: "a model still loading while the decision says 0: active, 1",
      decision: {
        desired: { spot: 0, onDemand: 0 },
        active: false,
        starting: { spot: 0, onDemand: 1 },
      },
      spot: { value: 0, active: false },
      onDemand: { value: 1, active: true },
    },
  ];
  for (const row of ROWS) {
    it(`a poll answers the decision: ${row.name}`, async () => {
      r.targets.publish(poolDecision(row.decision));
      for (const [ref, want] of [
        [SPOT, row.spot],
        [ON_DEMAND, row.onDemand],
      ] as const) {
        const p = await r.keda.poll(ref);
        expect({ value: p.value, active: p.active }, ref.name).to.deep.equal(want);
        expect(p.metricName).to.equal(METRIC_NAME);
        expect(p.target).to.equal(1);
        expect(p.raw.spec).to.deep.include({ targetSize: "1", targetSizeFloat: 1 });
        expect(p.raw.metric).to.deep.include({
          metricValue: String(want.value),
          metricValueFloat: want.value,
        });
      }
    });
  }

  it("before the pool's first decision: UNAVAILABLE for IsActive and GetMetrics; the spec is known", async () => {
    expect(await r.keda.getMetricSpec(SPOT)).to.have.lengthOf(1);
    const a = await codeOf(r.keda.isActive(SPOT));
    expect(a.code).to.equal(status.UNAVAILABLE);
    expect(a.details).to.contain("no decision yet");
    expect((await codeOf(r.keda.getMetrics(SPOT, METRIC_NAME))).code).to.equal(status.UNAVAILABLE);
  });

  it("an unknown ScaledObject: NOT_FOUND naming it and the known ones; nothing changes", async () => {
    r.targets.publish(poolDecision({ desired: { spot: 2, onDemand: 1 } }));
    const before = await r.keda.poll(SPOT);
    const unknown = { namespace: "vision", name: "yolo-triton-spto" };
    for (const call of [
      r.keda.isActive(unknown),
      r.keda.getMetricSpec(unknown),
      r.keda.getMetrics(unknown, METRIC_NAME),
    ]) {
      const e = await codeOf(call);
      expect(e.code).to.equal(status.NOT_FOUND);
      expect(e.details).to.equal(
        'unknown ScaledObject vision/yolo-triton-spto; known: vision/yolo-triton-spot, vision/yolo-triton-ondemand; did you mean "vision/yolo-triton-spot"?',
      );
    }
    const s = r.keda.streamIsActive(unknown);
    expect((await s.ended).code).to.equal(status.NOT_FOUND);
    expect(await r.keda.poll(SPOT)).to.deep.equal(before);
    expect(r.targets.targets()).to.have.lengthOf(2);
  });

  it("GetMetrics for a metric name other than the spec's: NOT_FOUND naming both", async () => {
    r.targets.publish(poolDecision({ desired: { spot: 2, onDemand: 1 } }));
    const e = await codeOf(r.keda.getMetrics(SPOT, "s0-tritonscale-desired-replicas"));
    expect(e.code).to.equal(status.NOT_FOUND);
    expect(e.details).to.contain('has no metric "s0-tritonscale-desired-replicas"');
  });

  it("StreamIsActive: the current activity at once, then a push on every change to every open stream", async () => {
    r.targets.publish(poolDecision({ desired: { spot: 2, onDemand: 1 } }));
    const a = r.keda.streamIsActive(SPOT);
    const b = r.keda.streamIsActive(SPOT);
    const other = r.keda.streamIsActive(ON_DEMAND);
    expect([await a.nth(1), await b.nth(1), await other.nth(1)]).to.deep.equal([true, true, true]);
    // No change of activity (2 → 3 replicas): nothing pushed; the next push is the change.
    r.targets.publish(poolDecision({ desired: { spot: 3, onDemand: 1 } }));
    r.targets.publish(poolDecision({ desired: { spot: 0, onDemand: 1 } }));
    expect([await a.nth(2), await b.nth(2)]).to.deep.equal([false, false]);
    r.targets.publish(poolDecision({ desired: { spot: 4, onDemand: 1 } }));
    expect([await a.nth(3), await b.nth(3)]).to.deep.equal([true, true]);
    r.targets.publish(poolDecision({ desired: { spot: 0, onDemand: 0 }, active: false }));
    expect(await other.nth(2)).to.equal(false);
    expect(await a.nth(4)).to.equal(false);
    expect(a.results).to.deep.equal([true, false, true, false]);
    expect(other.results).to.deep.equal([true, false]);
    a.cancel();
    b.cancel();
    other.cancel();
  });

  it("a stream opened before the first decision gets it when it comes", async () => {
    const s = r.keda.streamIsActive(ON_DEMAND);
    // The stream is registered once GetMetricSpec, sent after it on the same channel, returns.
    await r.keda.getMetricSpec(ON_DEMAND);
    await r.keda.getMetricSpec(ON_DEMAND);
    r.targets.publish(poolDecision({ desired: { spot: 0, onDemand: 1 } }));
    expect(await s.nth(1)).to.equal(true);
    s.cancel();
  });

  it("a removed pool ends its streams with NOT_FOUND; closing the server ends the others with UNAVAILABLE", async () => {
    r.targets.publish(poolDecision({ desired: { spot: 2, onDemand: 1 } }));
    const s = r.keda.streamIsActive(SPOT);
    await s.nth(1);
    r.targets.removePool({ namespace: "vision", name: "yolo" });
    const ended = await s.ended;
    expect(ended.code).to.equal(status.NOT_FOUND);
    expect(ended.details).to.contain("its pool vision/yolo was removed");

    r.targets.setPool(pool("eks", "keda"));
    r.targets.publish(poolDecision({ desired: { spot: 2, onDemand: 1 } }));
    const t = r.keda.streamIsActive(ON_DEMAND);
    await t.nth(1);
    await r.server.close();
    const closed = await t.ended;
    expect(closed.code).to.equal(status.UNAVAILABLE);
    expect(closed.details).to.contain("shutting down");
  });

  it("StreamMetricSpec: UNIMPLEMENTED, so KEDA polls GetMetricSpec", async () => {
    const s = await r.keda.streamMetricSpec(SPOT);
    expect(s.code).to.equal(status.UNIMPLEMENTED);
  });

  it("reports every finished call with its status (request metrics)", async () => {
    r.targets.publish(poolDecision({ desired: { spot: 2, onDemand: 1 } }));
    await r.keda.poll(SPOT);
    await codeOf(r.keda.isActive({ namespace: "x", name: "y" }));
    expect(r.calls).to.deep.equal([
      { rpc: "GetMetricSpec", code: status.OK },
      { rpc: "GetMetrics", code: status.OK },
      { rpc: "IsActive", code: status.OK },
      { rpc: "IsActive", code: status.NOT_FOUND },
    ]);
  });
});

describe("KEDA external scaler: TLS and mutual TLS", () => {
  let certs: TestCerts;
  let r: Running | undefined;
  before(function () {
    requireReference(this, "keda");
    const why = certsUnavailable();
    if (why !== undefined) {
      console.warn(`    skipped: ${why}: no X.509 certificates can be made for the TLS tests`);
      this.skip();
    }
    certs = makeTestCerts();
  });
  afterEach(async () => {
    await stop(r);
    r = undefined;
  });

  const serverTls = (mutual: boolean): KedaTls => ({
    cert: certs.serverCert,
    key: certs.serverKey,
    ...(mutual ? { clientCa: certs.caCert } : {}),
  });

  it("TLS: KEDA with the CA (caCert) polls", async () => {
    r = await start(serverTls(false), { caCert: certs.caCert });
    r.targets.publish(poolDecision({ desired: { spot: 3, onDemand: 1 } }));
    expect((await r.keda.poll(SPOT)).value).to.equal(3);
  });

  it("TLS: a plaintext client gets no answer", async () => {
    r = await start(serverTls(false));
    r.targets.publish(poolDecision({ desired: { spot: 3, onDemand: 1 } }));
    expect((await codeOf(r.keda.isActive(SPOT))).code).to.equal(status.UNAVAILABLE);
  });

  it("mutual TLS: KEDA with its client certificate (tlsClientCert, tlsClientKey) polls", async () => {
    r = await start(serverTls(true), {
      caCert: certs.caCert,
      clientCert: certs.clientCert,
      clientKey: certs.clientKey,
    });
    r.targets.publish(poolDecision({ desired: { spot: 3, onDemand: 1 } }));
    expect((await r.keda.poll(SPOT)).active).to.equal(true);
  });

  it("mutual TLS: a client without a certificate is refused", async () => {
    r = await start(serverTls(true), { caCert: certs.caCert });
    r.targets.publish(poolDecision({ desired: { spot: 3, onDemand: 1 } }));
    expect((await codeOf(r.keda.isActive(SPOT))).code).to.equal(status.UNAVAILABLE);
    expect(r.calls).to.deep.equal([]);
  });

  it("mutual TLS: a client certificate from another CA is refused", async () => {
    r = await start(serverTls(true), {
      caCert: certs.caCert,
      clientCert: certs.strangerCert,
      clientKey: certs.strangerKey,
    });
    r.targets.publish(poolDecision({ desired: { spot: 3, onDemand: 1 } }));
    expect((await codeOf(r.keda.isActive(SPOT))).code).to.equal(status.UNAVAILABLE);
    expect(r.calls).to.deep.equal([]);
  });

  it("renewed certificates serve new connections without a restart", async () => {
    r = await start(serverTls(false), { caCert: certs.otherCaCert });
    r.targets.publish(poolDecision({ desired: { spot: 3, onDemand: 1 } }));
    // KEDA trusts only the new CA: the old certificate is refused.
    expect((await codeOf(r.keda.isActive(SPOT))).code).to.equal(status.UNAVAILABLE);
    r.server.updateTls({ cert: certs.renewedServerCert, key: certs.renewedServerKey });
    const renewed = new KedaStandin(referenceDir, `127.0.0.1:${r.server.port}`, {
      caCert: certs.otherCaCert,
      serverName: "localhost",
    });
    try {
      expect(await renewed.isActive(SPOT)).to.equal(true);
    } finally {
      renewed.close();
    }
  });

  it("mutual TLS: a renewed client CA admits its clients; turning mutual TLS off while serving is refused", async () => {
    r = await start(serverTls(true), {
      caCert: certs.caCert,
      clientCert: certs.strangerCert,
      clientKey: certs.strangerKey,
    });
    r.targets.publish(poolDecision({ desired: { spot: 3, onDemand: 1 } }));
    expect((await codeOf(r.keda.isActive(SPOT))).code).to.equal(status.UNAVAILABLE);
    r.server.updateTls({ ...serverTls(true), clientCa: certs.otherCaCert });
    const again = new KedaStandin(referenceDir, `127.0.0.1:${r.server.port}`, {
      caCert: certs.caCert,
      clientCert: certs.strangerCert,
      clientKey: certs.strangerKey,
      serverName: "localhost",
    });
    try {
      expect(await again.isActive(SPOT)).to.equal(true);
    } finally {
      again.close();
    }
    expect(() => r!.server.updateTls(serverTls(false))).to.throw(
      /cannot turn mutual TLS off while serving: restart without --client-ca/,
    );
  });

  it("readKedaTls reads --tls-cert/--tls-key/--client-ca through the input reader; bad ones are problems", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tritonscale-tls-"));
    const reader = createInputReader();
    try {
      writeFileSync(join(dir, "tls.crt"), certs.serverCert);
      writeFileSync(join(dir, "tls.key"), certs.serverKey);
      writeFileSync(join(dir, "ca.crt"), certs.caCert);
      writeFileSync(join(dir, "empty.crt"), "not a certificate\n");
      const r = await readKedaTls(
        {
          tlsCert: join(dir, "tls.crt"),
          tlsKey: join(dir, "tls.key"),
          clientCa: join(dir, "ca.crt"),
        },
        reader,
      );
      expect(r.ok && r.tls?.clientCa?.equals(certs.caCert)).to.equal(true);
      expect(await readKedaTls({}, reader)).to.deep.equal({ ok: true, tls: undefined });
      const cases: { name: string; files: Parameters<typeof readKedaTls>[0]; want: string[] }[] = [
        {
          name: "cert without key",
          files: { tlsCert: join(dir, "tls.crt") },
          want: ["--tls-cert: needs --tls-key too (they go together)"],
        },
        {
          name: "client CA alone",
          files: { clientCa: join(dir, "ca.crt") },
          want: ["--client-ca: needs --tls-cert and --tls-key (mutual TLS is TLS first)"],
        },
        {
          name: "a missing key file and a CA file that is no PEM",
          files: {
            tlsCert: join(dir, "tls.crt"),
            tlsKey: join(dir, "nope.key"),
            clientCa: join(dir, "empty.crt"),
          },
          want: [
            `${join(dir, "nope.key")}: cannot read: no such file or directory`,
            `${join(dir, "empty.crt")}: not PEM: expected CA certificates ("-----BEGIN ...")`,
          ],
        },
      ];
      for (const c of cases) {
        const got = await readKedaTls(c.files, reader);
        expect(got.ok, c.name).to.equal(false);
        const messages = got.ok ? [] : got.problems.map((p) => `${p.file || p.path}: ${p.message}`);
        expect(messages, c.name).to.deep.equal(c.want);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
