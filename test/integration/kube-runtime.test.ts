import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { expect } from "chai";
import { createKubeEdge } from "../../controller/kube/edge.js";
import { createKubeEventClient, EventRecorder } from "../../controller/kube/events.js";
import { LeaderElector } from "../../controller/kube/leader-election.js";
import {
  createKubeLeaseClient,
  type LeaseClient,
  type LeaseRecord,
} from "../../controller/kube/lease-client.js";
import { isMicroTime } from "../../controller/kube/micro-time.js";
import {
  createModelPoolInformerFactory,
  ModelPoolInformer,
} from "../../controller/kube/pool-informer.js";
import {
  createKubeStatusClient,
  ModelPoolStatusWriter,
  withStatusReporting,
} from "../../controller/kube/pool-status.js";
import { createSystemClock } from "../../controller/loop/clock.js";
import type { PoolDecision, PoolRef } from "../../controller/loop/ports.js";
import { type FakeKube, startFakeKube } from "../support/fake-kube/index.js";
import { ManualClock } from "../support/manual-clock.js";
import { poolDocument } from "../support/pools.js";
import { until } from "../support/until.js";

/**
 * The Kubernetes edge (leader election, ModelPool informer, status, Events) against the
 * fake API server over real HTTP, with the real @kubernetes/client-node.
 */

type Json = Record<string, unknown>;

const systemClock = createSystemClock();

/** A LeaseClient that counts requests in flight and can be cut off. */
function tracked(inner: LeaseClient): LeaseClient & { inFlight: number; down: boolean } {
  const t = {
    inFlight: 0,
    down: false,
    async run<T>(f: () => Promise<T>): Promise<T> {
      if (t.down) throw new Error("connect ECONNREFUSED (test)");
      t.inFlight++;
      try {
        return await f();
      } finally {
        t.inFlight--;
      }
    },
    get: () => t.run(() => inner.get()),
    create: (r: LeaseRecord) => t.run(() => inner.create(r)),
    update: (r: LeaseRecord, rv: string) => t.run(() => inner.update(r, rv)),
  };
  return t;
}

describe("Kubernetes edge against the fake API server", function () {
  this.timeout(30_000);
  let fake: FakeKube;
  /** Stops what a test started, even when it failed half-way. */
  let cleanups: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    fake = await startFakeKube();
    cleanups = [];
  });
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    await fake.close();
  });

  describe("leader election on a real Lease", () => {
    /** Moves the manual clock in steps, letting real requests finish after each. */
    async function run(
      clock: ManualClock,
      clients: readonly { inFlight: number }[],
      seconds: number,
      check: () => void = () => undefined,
    ) {
      for (let t = 0; t < seconds; t += 0.5) {
        await clock.advance(0.5);
        await until(() => clients.every((c) => c.inFlight === 0), 5, "lease requests");
        await clock.advance(0);
        check();
      }
    }

    it("acquires with six-digit MicroTimes the server accepts, hands over after a leader dies, never two at once", async () => {
      const clock = new ManualClock(Date.now() / 1000);
      const kc = fake.kubeConfig("tritonscale-system");
      const la = tracked(createKubeLeaseClient(kc, "tritonscale-system", "tritonscale-controller"));
      const lb = tracked(createKubeLeaseClient(kc, "tritonscale-system", "tritonscale-controller"));
      const a = new LeaderElector({ identity: "pod-a", client: la, clock, random: () => 0.5 });
      const b = new LeaderElector({ identity: "pod-b", client: lb, clock, random: () => 0.5 });
      cleanups.push(async () => {
        la.down = false;
        lb.down = false;
        await Promise.all([a.stop(), b.stop()]);
      });
      const never2 = () => expect(a.isLeader() && b.isLeader(), "two leaders").to.equal(false);
      a.start();
      await run(clock, [la, lb], 1);
      b.start();
      await run(clock, [la, lb], 6, never2);
      expect(a.isLeader()).to.equal(true);
      expect(b.isLeader()).to.equal(false);
      const stored = fake.get(
        "coordination.k8s.io/v1",
        "Lease",
        "tritonscale-system",
        "tritonscale-controller",
      )!;
      const spec = stored.spec as Json;
      expect(spec.holderIdentity).to.equal("pod-a");
      expect(isMicroTime(spec.renewTime), String(spec.renewTime)).to.equal(true);
      expect(isMicroTime(spec.acquireTime)).to.equal(true);
      expect(spec.leaseDurationSeconds).to.equal(15);
      const puts = fake.requests.filter((r) => r.resource === "leases" && r.verb === "update");
      expect(puts.length).to.be.greaterThan(1);
      expect(puts.every((r) => r.status === 200)).to.equal(true);

      // pod-a dies: its requests fail from now on.
      la.down = true;
      const diedAt = clock.now();
      await run(clock, [la, lb], 24, never2);
      expect(b.isLeader()).to.equal(true);
      expect(a.isLeader()).to.equal(false);
      const after = fake.get(
        "coordination.k8s.io/v1",
        "Lease",
        "tritonscale-system",
        "tritonscale-controller",
      )!;
      expect((after.spec as Json).holderIdentity).to.equal("pod-b");
      expect((after.spec as Json).leaseTransitions).to.equal(1);
      expect(clock.now() - diedAt).to.be.at.most(24.5);

      await b.stop();
      await a.stop();
      const released = fake.get(
        "coordination.k8s.io/v1",
        "Lease",
        "tritonscale-system",
        "tritonscale-controller",
      )!;
      expect(released.spec).to.deep.include({ holderIdentity: "", leaseDurationSeconds: 1 });
    });

    it("a 409 on renewal re-reads the Lease and renews; a 500 is retried", async () => {
      const clock = new ManualClock(Date.now() / 1000);
      const kc = fake.kubeConfig("tritonscale-system");
      const la = tracked(createKubeLeaseClient(kc, "tritonscale-system", "tritonscale-controller"));
      const stopped: string[] = [];
      const a = new LeaderElector({
        identity: "pod-a",
        client: la,
        clock,
        onStoppedLeading: (w) => stopped.push(w),
      });
      a.start();
      await run(clock, [la], 1);
      expect(a.isLeader()).to.equal(true);
      const conflict = fake.inject({
        status: 409,
        match: (r) => r.resource === "leases" && r.verb === "update",
      });
      const error = fake.inject({ status: 500, times: 2, match: (r) => r.resource === "leases" });
      await run(clock, [la], 8);
      expect(conflict.hits).to.equal(1);
      expect(error.hits).to.equal(2);
      expect(a.isLeader()).to.equal(true);
      expect(stopped).to.deep.equal([]);
      await a.stop();
    });

    it("the server refuses a Lease with the client's own Date serialization (3 digits), takes ours", async () => {
      const kc = fake.kubeConfig("vision");
      const api = kc.makeApiClient(CoordinationV1Api);
      const body = {
        metadata: { name: "dated", namespace: "vision" },
        spec: { holderIdentity: "x", renewTime: new Date(), leaseDurationSeconds: 15 },
      };
      const code = await api.createNamespacedLease({ namespace: "vision", body }).then(
        () => 0,
        (e: { code?: number }) => e.code,
      );
      expect(code).to.equal(400);
      const client = createKubeLeaseClient(kc, "vision", "ours");
      const w = await client.create({
        holderIdentity: "x",
        leaseDurationSeconds: 15,
        acquireTime: "2027-01-15T08:00:00.000000Z",
        renewTime: "2027-01-15T08:00:00.000000Z",
        leaseTransitions: 0,
      });
      expect(w.ok).to.equal(true);
      expect(
        await client.create({ ...(w.ok ? w.lease.record : ({} as LeaseRecord)) }),
      ).to.deep.equal({
        ok: false,
        conflict: true,
      });
    });
  });

  describe("ModelPool informer, status and Events", () => {
    function modelPool(name: string, spec: Json = {}): Json {
      const doc = poolDocument(spec);
      return { ...doc, metadata: { name, namespace: "vision" } };
    }

    function wiring() {
      const kc = fake.kubeConfig("vision");
      const log: string[] = [];
      const events = new EventRecorder({
        client: createKubeEventClient(kc),
        clock: systemClock,
        instance: "pod-a",
      });
      const writer = new ModelPoolStatusWriter({
        client: createKubeStatusClient(kc),
        clock: systemClock,
        events,
        onError: (_p, e) => log.push(`status error ${String(e)}`),
      });
      const handler = withStatusReporting(
        writer,
        {
          added: (p, policy) => log.push(`added ${p.name} max=${policy.spec.scaling.maxReplicas}`),
          changed: (p, policy) =>
            log.push(`changed ${p.name} max=${policy.spec.scaling.maxReplicas}`),
          invalid: (p, problems) =>
            log.push(`invalid ${p.name} ${problems.map((x) => x.path).join(",")}`),
          removed: (p) => log.push(`removed ${p.name}`),
        },
        (_p, e) => log.push(`status error ${String(e)}`),
      );
      const restarts: string[] = [];
      const informer = new ModelPoolInformer({
        createInformer: createModelPoolInformerFactory(kc),
        namespaces: ["vision"],
        handler,
        clock: systemClock,
        backoff: { initialSeconds: 0.05, maxSeconds: 0.4 },
        onRestart: (_ns, e) => restarts.push(String((e as Error)?.message ?? e)),
      });
      cleanups.push(() => informer.stop());
      return { kc, log, writer, events, informer, restarts };
    }

    const api = (kind: string) => ["tritonscale.dev/v1alpha1", kind, "vision"] as const;

    it("lists and watches ModelPools, ignores its own status writes, restarts after dropped watches and 500s", async () => {
      fake.seed(modelPool("yolo", { scaling: { maxReplicas: 6 } }));
      const { log, writer, informer, restarts } = wiring();
      await informer.start();
      await until(() => log.includes("added yolo max=6"), 5, "added");
      const ref: PoolRef = { namespace: "vision", name: "yolo" };
      await until(() => writer.stats.writes >= 1);
      await until(() => {
        const s = fake.get(...api("ModelPool"), "yolo")?.status as Json | undefined;
        return s?.observedGeneration === 1;
      });

      // A decision that scales: status and an Event, through the real client.
      const decision: PoolDecision = {
        pool: ref,
        at: Date.now() / 1000,
        scaler: "tritonscale",
        snapshot: {
          now: Date.now() / 1000,
          arrivalRate: { value: 150, ageSeconds: 3 },
          replicas: {
            ready: { spot: 1, onDemand: 1 },
            starting: { spot: 0, onDemand: 0 },
            pending: { spot: 0, onDemand: 0 },
            oldestPendingSpotSeconds: 0,
          },
        },
        decision: {
          desired: { spot: 2, onDemand: 1 },
          active: true,
          held: false,
          reason: "demand 150 req/s / (70 req/s × 0.7) → 3",
          state: {},
        },
        capacityPerReplica: { yolov8s: 70 },
        previous: { spot: 1, onDemand: 1 },
      };
      await writer.publish(decision);
      const status = fake.get(...api("ModelPool"), "yolo")!.status as Json;
      expect(status).to.deep.include({
        desiredReplicas: 3,
        readyReplicas: 2,
        observedGeneration: 1,
      });
      expect((status.decision as Json).desired).to.deep.equal({ spot: 2, onDemand: 1 });
      const events = fake.list("v1", "Event", "vision");
      expect(events.map((e) => [e.reason, e.type])).to.deep.equal([["Scaled", "Normal"]]);
      expect((events[0]!.involvedObject as Json).name).to.equal("yolo");
      const patches = fake.requests.filter((r) => r.subresource === "status");
      expect(
        patches.every(
          (r) => r.verb === "patch" && r.contentType?.startsWith("application/merge-patch+json"),
        ),
      ).to.equal(true);

      // Status writes come back as watch events: not a change of the pool.
      await new Promise((r) => setTimeout(r, 100));
      expect(log.filter((l) => l.startsWith("changed"))).to.deep.equal([]);

      // The watch is cut: the informer restarts and still sees changes.
      fake.dropWatches(undefined, { abrupt: true });
      fake.inject({
        status: 500,
        times: 2,
        match: (r) => r.resource === "modelpools" && r.verb !== "patch",
      });
      await until(() => restarts.length >= 1, 5, "a restart");
      fake.seed(modelPool("yolo", { scaling: { maxReplicas: 9 } }));
      await until(() => log.includes("changed yolo max=9"), 10, "changed after restart");

      await informer.stop();
      const n = restarts.length;
      await new Promise((r) => setTimeout(r, 300));
      expect(restarts.length, "stop() restarts nothing").to.equal(n);
      expect(fake.watchCount).to.equal(0);
    });

    it("an invalid ModelPool gets Valid=False naming the field and a Warning Event; nothing else is written", async () => {
      // Passes the CRD schema, fails the loader's cross-field rules.
      fake.seed(modelPool("bad", { scaling: { engine: "hpa", minReplicas: 0 } }));
      const { log, informer } = wiring();
      await informer.start();
      await until(() => log.some((l) => l.startsWith("invalid bad")), 5, "invalid");
      await until(() => fake.list("v1", "Event", "vision").length === 1, 5, "the Event");
      await until(
        () => fake.get(...api("ModelPool"), "bad")?.status !== undefined,
        5,
        "the status",
      );
      const status = fake.get(...api("ModelPool"), "bad")!.status as Json;
      const valid = (status.conditions as Json[]).find((c) => c.type === "Valid")!;
      expect(valid).to.deep.include({ status: "False", reason: "InvalidSpec" });
      expect(String(valid.message)).to.contain("spec.scaling.minReplicas");
      const ev = fake.list("v1", "Event", "vision")[0]!;
      expect(ev).to.deep.include({
        type: "Warning",
        reason: "InvalidSpec",
        message: valid.message,
      });
      const writes = fake.requests.filter((r) => !["get", "list", "watch"].includes(r.verb));
      expect(
        writes
          .map((r) => `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ""}`)
          .sort(),
      ).to.deep.equal(["create events", "patch modelpools/status"]);
      await informer.stop();
    });

    it("a repeated Event is one Event with a count (a merge patch the server takes)", async () => {
      const { events } = wiring();
      const ref: PoolRef = { namespace: "vision", name: "yolo" };
      await events.record(ref, {}, "Warning", "InvalidSpec", "same words");
      await events.record(ref, {}, "Warning", "InvalidSpec", "same words");
      await events.record(ref, {}, "Warning", "InvalidSpec", "same words");
      const all = fake.list("v1", "Event", "vision");
      expect(all.length).to.equal(1);
      expect(all[0]!.count).to.equal(3);
      expect(events.stats).to.deep.include({ created: 1, aggregated: 2, failed: 0 });
    });
  });

  describe("createKubeEdge", () => {
    it("two replicas: only the leader writes status and Events; after it stops, the other does", async () => {
      fake.seed({
        ...poolDocument({ scaling: { maxReplicas: 6 } }),
        metadata: { name: "yolo", namespace: "vision" },
      });
      const kc = fake.kubeConfig("tritonscale-system");
      const leadership: string[] = [];
      const errors: string[] = [];
      const edge = (identity: string) => {
        const pools: string[] = [];
        const e = createKubeEdge({
          kc,
          clock: systemClock,
          identity,
          leaseTiming: {
            leaseDurationSeconds: 3,
            renewDeadlineSeconds: 2,
            retryPeriodSeconds: 0.2,
          },
          namespaces: ["vision"],
          handler: {
            added: (p) => pools.push(`added ${p.name}`),
            changed: (p) => pools.push(`changed ${p.name}`),
            invalid: (p) => pools.push(`invalid ${p.name}`),
            removed: (p) => pools.push(`removed ${p.name}`),
          },
          onLeaderChange: (leader, why) => leadership.push(`${identity} ${leader} ${why}`),
          onError: (what, _p, err) => errors.push(`${identity} ${what}: ${String(err)}`),
        });
        cleanups.push(() => e.stop());
        return { e, pools };
      };
      const a = edge("pod-a");
      await a.e.start();
      await until(() => a.e.isLeader(), 5, "pod-a leads");
      const b = edge("pod-b");
      await b.e.start();
      await until(() => a.pools.length === 1 && b.pools.length === 1, 5, "both see the pool");
      const ref: PoolRef = { namespace: "vision", name: "yolo" };
      const d = (previous: number, desired: number): PoolDecision => ({
        pool: ref,
        at: Date.now() / 1000,
        scaler: "tritonscale",
        snapshot: {
          now: Date.now() / 1000,
          replicas: {
            ready: { spot: 0, onDemand: previous },
            starting: { spot: 0, onDemand: 0 },
            pending: { spot: 0, onDemand: 0 },
            oldestPendingSpotSeconds: 0,
          },
        },
        decision: {
          desired: { spot: 0, onDemand: desired },
          active: desired > 0,
          held: false,
          reason: `to ${desired}`,
          state: {},
        },
        capacityPerReplica: { yolov8s: 50 },
        previous: { spot: 0, onDemand: previous },
      });
      await Promise.all([a.e.status.publish(d(1, 2)), b.e.status.publish(d(1, 2))]);
      expect(a.e.status.stats.writes).to.be.greaterThan(0);
      expect(b.e.status.stats.writes, "the follower writes nothing").to.equal(0);
      expect(b.e.events.stats.created).to.equal(0);
      const scaled = fake.list("v1", "Event", "vision");
      expect(scaled.length).to.equal(1);
      const stored = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo")!;
      expect((scaled[0]!.involvedObject as Json).uid).to.equal((stored.metadata as Json).uid);

      await a.e.stop();
      expect(leadership).to.include("pod-a false released");
      await until(() => b.e.isLeader(), 5, "pod-b takes over");
      expect(leadership.at(-1)).to.equal("pod-b true acquired the Lease");
      await b.e.status.publish(d(2, 3));
      const status = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo")!
        .status as Json;
      expect(status.desiredReplicas).to.equal(3);
      expect(b.e.status.stats.writes).to.be.greaterThan(0);
      expect(errors).to.deep.equal([]);
    });

    it("kubectl describe shows the status the edge wrote and its Scaled Event", async function () {
      const kubectl = findOnPath("kubectl");
      if (kubectl === undefined) {
        console.log("      (skipped: kubectl is not installed; apt-get install kubernetes-client)");
        this.skip();
      }
      fake.seed({ ...poolDocument(), metadata: { name: "yolo", namespace: "vision" } });
      const e = createKubeEdge({
        kc: fake.kubeConfig("vision"),
        clock: systemClock,
        identity: "pod-a",
        leaderElect: false,
        namespaces: ["vision"],
        handler: { added: () => {}, changed: () => {}, invalid: () => {}, removed: () => {} },
      });
      cleanups.push(() => e.stop());
      await e.start();
      await until(() => e.status.statusOf({ namespace: "vision", name: "yolo" }) !== undefined);
      const now = Date.now() / 1000;
      await e.status.publish({
        pool: { namespace: "vision", name: "yolo" },
        at: now,
        scaler: "tritonscale",
        snapshot: {
          now,
          replicas: {
            ready: { spot: 0, onDemand: 1 },
            starting: { spot: 0, onDemand: 0 },
            pending: { spot: 0, onDemand: 0 },
            oldestPendingSpotSeconds: 0,
          },
        },
        decision: {
          desired: { spot: 2, onDemand: 1 },
          active: true,
          held: false,
          reason: "demand 150 req/s",
          state: {},
        },
        capacityPerReplica: { yolov8s: 70 },
        previous: { spot: 0, onDemand: 1 },
      });
      const dir = mkdtempSync(join(tmpdir(), "kube-edge-"));
      try {
        writeFileSync(join(dir, "kubeconfig"), fake.kubeConfigYaml("vision"));
        const out = await new Promise<string>((resolve) => {
          const c = spawn(kubectl!, [
            "--kubeconfig",
            join(dir, "kubeconfig"),
            "describe",
            "modelpool",
            "yolo",
            "-n",
            "vision",
          ]);
          let text = "";
          c.stdout.on("data", (d) => {
            text += d;
          });
          c.stderr.on("data", (d) => {
            text += d;
          });
          c.on("close", () => resolve(text));
        });
        expect(out).to.match(/Desired Replicas:\s+3/);
        expect(out).to.match(/Type:\s+ScalerReady/);
        expect(out).to.match(
          /Normal\s+Scaled\s+.*tritonscale\s+desired replicas 1 → 3 \(spot 0, on-demand 1 → spot 2, on-demand 1\): demand 150 req\/s/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}
