import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { stringify } from "yaml";
import { createAcceleratedClock } from "../../controller/loop/clock.js";
import type { Clock } from "../../controller/loop/ports.js";
import { samples } from "../metrics/support.js";
import {
  type Json,
  type RunningController,
  startController,
  tritonPod,
} from "../support/controller-harness.js";
import { type FakeKube, type RequestInfo, startFakeKube } from "../support/fake-kube/index.js";
import { createTestMemoryScaler, TEST_HISTORY_VERSION } from "../support/memory-scaler.js";
import { poolDocument } from "../support/pools.js";
import { TritonStandin } from "../support/triton-standin.js";
import { until } from "../support/until.js";

/**
 * A scaler's learned history survives a failover (issue 9 §2): two `tritonscale controller`
 * replicas with `--leader-elect` against the fake API server, each with a registered
 * scaler given the test history (test/support/memory-scaler.ts). The leader is stopped
 * (SIGTERM): it saves its history to the pool's ConfigMap before it releases the Lease; the
 * follower, on becoming the leader, restores it — its decisions then carry points older than
 * its own start — and its metrics show the terms and the history outcomes.
 */

const UID = "uid-pool-yolo";
const CM = "yolo-tritonscale-history";

function isConfigMapWrite(r: RequestInfo): boolean {
  return r.resource === "configmaps" && ["create", "update", "patch"].includes(r.verb);
}

describe("integration: the learned history across a controller failover", function () {
  this.timeout(90_000);
  let fake: FakeKube;
  let triton: TritonStandin;
  let clock: Clock;
  const running: RunningController[] = [];

  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.stop.abort();
      await r.exit;
    }
    await triton?.stop();
    await fake?.close();
  });

  /** The terms of the pool's last decision in a replica's /metrics. */
  async function terms(c: RunningController): Promise<Record<string, number>> {
    const s = samples(await (await fetch(`${c.metricsUrl}/metrics`)).text());
    const out: Record<string, number> = {};
    for (const [k, v] of s) {
      const m = /^tritonscale_scaler_term\{namespace="vision",pool="yolo",term="(\w+)"\}$/.exec(k);
      if (m) out[m[1]!] = Number(v);
    }
    return out;
  }

  async function historyCount(c: RunningController, labels: string): Promise<number> {
    const s = samples(await (await fetch(`${c.metricsUrl}/metrics`)).text());
    return Number(s.get(`tritonscale_history_operations_total{${labels}}`) ?? 0);
  }

  function logged(c: RunningController, msg: string): Json[] {
    return c.io
      .out()
      .split("\n")
      .filter((l) => l.includes(`"msg":${JSON.stringify(msg)}`))
      .map((l) => JSON.parse(l) as Json);
  }

  it("the new leader restores what the old one saved on SIGTERM, before the Lease was released", async () => {
    // Slow enough for a loaded machine: the leader's renew deadline is 2 s of wall time.
    clock = createAcceleratedClock(20);
    fake = await startFakeKube();
    triton = new TritonStandin({ models: [{ name: "yolov8s" }], name: "yolo-triton-a" });
    await triton.start();
    triton.setLive(true, () => clock.now());
    triton.setArrivalRate("yolov8s", 30);
    const doc = poolDocument({ scaling: { minReplicas: 1, maxReplicas: 6 } });
    fake.seed({ ...doc, metadata: { name: "yolo", namespace: "vision", uid: UID } });
    fake.seed(tritonPod("yolo-triton-a", { creationTimestamp: "2026-01-01T00:00:00Z" }));
    const arrivals: { r: RequestInfo; at: number }[] = [];
    fake.inject({
      times: Number.POSITIVE_INFINITY,
      match: (r) => {
        arrivals.push({ r, at: clock.now() });
        return false;
      },
    });
    const start = async (identity: string) => {
      const c = await startController({
        kubeConfig: fake.kubeConfig("vision", identity),
        clock,
        identity,
        args: ["--leader-elect"],
        tritonEndpoint: () => triton.endpoint(),
        leaseTiming: { leaseDurationSeconds: 60, renewDeadlineSeconds: 40, retryPeriodSeconds: 4 },
        createScaler: createTestMemoryScaler,
        // Saved only when stopping: the failover is what is tested.
        historySaveSeconds: 86_400,
      });
      running.push(c);
      return c;
    };

    const a = await start("a");
    await until(() => logged(a, "leading").length === 1, 20, "a to lead");
    let aTerms: Record<string, number> = {};
    await until(
      () => {
        void terms(a).then((t) => {
          aTerms = t;
        });
        return (aTerms.historyPoints ?? 0) >= 3;
      },
      30,
      "a to learn a few points",
    );
    const b = await start("b");
    const bStarted = clock.now();
    expect(aTerms.historyOldest).to.be.below(bStarted);
    // Nothing is stored yet: b finds no history.
    await until(() => logged(b, "history").length >= 1, 20, "b to try to load a history");
    expect(logged(b, "history")[0]).to.include({
      operation: "load",
      source: "configmap",
      result: "absent",
    });
    expect(logged(a, "history")[0]).to.include({ operation: "load", result: "absent" });
    await until(() => b.decisions().length >= 2, 20, "b to decide (and learn) as a follower");
    expect(fake.get("v1", "ConfigMap", "vision", CM), "nothing saved before the stop").to.equal(
      undefined,
    );

    // SIGTERM to a: it saves, then releases the Lease.
    a.stop.abort();
    expect(await a.exit).to.equal(0);
    const cm = fake.get("v1", "ConfigMap", "vision", CM);
    expect(cm, "a saved its history").not.to.equal(undefined);
    const text = (cm!.data as Json).history as string;
    expect(text.startsWith(`${TEST_HISTORY_VERSION}\n`)).to.equal(true);
    const saved = JSON.parse(text.split("\n")[1]!) as [number, number][];
    expect(saved.length).to.be.at.least(aTerms.historyPoints!);
    expect(((cm!.metadata as Json).ownerReferences as Json[])[0]!.uid).to.equal(UID);
    const aSave = arrivals.findIndex((x) => x.r.user === "a" && isConfigMapWrite(x.r));
    const aRelease = arrivals.findIndex(
      (x, i) => i > aSave && x.r.user === "a" && x.r.resource === "leases" && x.r.verb === "update",
    );
    expect(aSave, "a's save").to.be.at.least(0);
    expect(aRelease, "a's release of the Lease after its save").to.be.greaterThan(aSave);

    // b takes over and restores it: its history now starts where a's did, before b started.
    await until(() => logged(b, "leading").length === 1, 20, "b to take over");
    let bTerms: Record<string, number> = {};
    await until(
      () => {
        void terms(b).then((t) => {
          bTerms = t;
        });
        return bTerms.historyRestores === 1;
      },
      20,
      "b's decisions to carry the restored history",
    );
    expect(bTerms.historyOldest).to.equal(saved[0]![0]);
    // The decision log carries the terms too.
    expect(b.decisions().at(-1)!.terms?.historyRestores).to.equal(1);
    expect(bTerms.historyOldest).to.be.below(bStarted);
    expect(bTerms.historyPoints).to.be.at.least(saved.length);
    expect(await historyCount(b, 'operation="load",result="ok",source="configmap"')).to.equal(1);
    expect(await historyCount(b, 'operation="load",result="absent",source="configmap"')).to.equal(
      1,
    );
    // The follower never wrote the history while a led.
    const bWrites = arrivals.filter((x) => x.r.user === "b" && isConfigMapWrite(x.r));
    const bLeads = arrivals.findIndex(
      (x) => x.r.user === "b" && x.r.resource === "leases" && x.r.verb === "update",
    );
    expect(bWrites.every((x) => arrivals.indexOf(x) > bLeads)).to.equal(true);
  });

  it("--pools with --history-dir: a restarted controller continues from the file the last one saved on SIGTERM", async () => {
    clock = createAcceleratedClock(20);
    fake = await startFakeKube();
    triton = new TritonStandin({ models: [{ name: "yolov8s" }], name: "yolo-triton-a" });
    await triton.start();
    triton.setLive(true, () => clock.now());
    triton.setArrivalRate("yolov8s", 30);
    fake.seed(tritonPod("yolo-triton-a", { creationTimestamp: "2026-01-01T00:00:00Z" }));
    const dir = await mkdtemp(join(tmpdir(), "tritonscale-history-pools-"));
    try {
      await writeFile(
        join(dir, "yolo.yaml"),
        stringify(poolDocument({ scaling: { minReplicas: 1, maxReplicas: 6 } })),
      );
      const histories = join(dir, "histories");
      const start = async () => {
        const c = await startController({
          kubeConfig: fake.kubeConfig("vision"),
          clock,
          args: ["--pools", dir, "--history-dir", histories],
          tritonEndpoint: () => triton.endpoint(),
          createScaler: createTestMemoryScaler,
          historySaveSeconds: 86_400,
        });
        running.push(c);
        return c;
      };
      const first = await start();
      let t: Record<string, number> = {};
      await until(
        () => {
          void terms(first).then((x) => {
            t = x;
          });
          return (t.historyPoints ?? 0) >= 3;
        },
        30,
        "the first controller to learn a few points",
      );
      expect(logged(first, "history")[0]).to.include({
        operation: "load",
        source: "file",
        result: "absent",
      });
      first.stop.abort();
      expect(await first.exit).to.equal(0);
      running.splice(running.indexOf(first), 1);
      const text = await readFile(join(histories, "vision_yolo.history"), "utf8");
      const saved = JSON.parse(text.split("\n")[1]!) as [number, number][];
      expect(saved.length).to.be.at.least(t.historyPoints!);

      const restartedAt = clock.now();
      const second = await start();
      await until(
        () => {
          void terms(second).then((x) => {
            t = x;
          });
          return t.historyRestores === 1;
        },
        20,
        "the restarted controller to restore the file",
      );
      expect(t.historyOldest).to.equal(saved[0]![0]);
      expect(t.historyOldest).to.be.below(restartedAt);
      expect(logged(second, "history")[0]).to.include({
        operation: "load",
        source: "file",
        result: "ok",
      });
    } finally {
      for (const r of running.splice(0)) {
        r.stop.abort();
        await r.exit;
      }
      await rm(dir, { recursive: true, force: true });
    }
  });
});
