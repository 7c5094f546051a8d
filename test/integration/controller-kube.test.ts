import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubernetesObjectApi } from "@kubernetes/client-node";
import { expect } from "chai";
import { stringify } from "yaml";
import { applyPool } from "../../controller/kube/apply.js";
import {
  CONTROLLER_NAMESPACE,
  LEADER_ELECTION_LEASE,
} from "../../controller/kube/install/names.js";
import { buildPool } from "../../controller/kube/render/index.js";
import { createAcceleratedClock } from "../../controller/loop/clock.js";
import type { Clock } from "../../controller/loop/ports.js";
import { loadModelPool } from "../../controller/policy/index.js";
import {
  type Json,
  poolStatus,
  type RunningController,
  startController,
  tritonPod,
} from "../support/controller-harness.js";
import { type FakeKube, type RequestInfo, startFakeKube } from "../support/fake-kube/index.js";
import { KedaStandin } from "../support/keda-standin.js";
import { poolDocument } from "../support/pools.js";
import { referenceDir, requireReference } from "../support/reference.js";
import { TritonStandin } from "../support/triton-standin.js";
import { until } from "../support/until.js";

/**
 * `tritonscale controller` end to end on the Kubernetes side (issue 8 §8): the real command
 * against the fake API server (driven by the real client), with faults injected: an API
 * server that fails for a while, a restart in the middle of an apply, a leader that dies
 * and one that is stopped, a ModelPool deleted. Each controller runs on an accelerated
 * clock and talks to the fake with its own bearer token (its identity), so the fake's
 * request log tells which instance made each call. Nothing sleeps on the wall clock but
 * the polling of `until`.
 */

/** A ModelPool named `name` in vision (poolDocument with its name), with a fixed uid. */
function pool(name: string, spec: Record<string, unknown> = {}): Json {
  const doc = poolDocument({ scaling: { minReplicas: 1, maxReplicas: 6 }, ...spec });
  doc.metadata = { name, namespace: "vision", uid: `uid-pool-${name}` };
  return doc;
}

/** `apiVersion/Kind namespace/name` of every object `render` makes of a pool document. */
function renderedKeys(doc: Json): string[] {
  const { uid: _uid, ...metadata } = doc.metadata as Json;
  const policy = loadModelPool(stringify({ ...doc, metadata }), "pool.yaml");
  return buildPool(policy)
    .map((o) => {
      const j = o.toJSON() as { apiVersion: string; kind: string; metadata: Json };
      const ns = j.metadata.namespace === undefined ? "" : `${j.metadata.namespace}/`;
      return `${j.apiVersion}/${j.kind} ${ns}${j.metadata.name}`;
    })
    .sort();
}

/** Looks up an inventory line's object. */
function objectOf(fake: FakeKube, line: string): Json | undefined {
  const [avk, ref] = line.split(" ") as [string, string];
  const cut = avk.lastIndexOf("/");
  const [ns, name] = ref.includes("/") ? ref.split("/") : [undefined, ref];
  return fake.get(avk.slice(0, cut), avk.slice(cut + 1), ns, name!);
}

/**
 * Objects that are records of what happened, not state a run converges to: Events, Leases,
 * and the scalers' learned histories (the pools' `<pool>-tritonscale-history` ConfigMaps).
 */
const HISTORY =
  /^(v1\/Event|events\.k8s\.io\/v1\/Event|coordination\.k8s\.io\/v1\/Lease) |^v1\/ConfigMap \S+-tritonscale-history$/;

/**
 * The fake's objects, comparable between two runs: without what the API server fills in
 * per write (resourceVersion, managedFields and their times, uid, creationTimestamp,
 * allocated clusterIPs), the ModelPools' status, and Events and Leases.
 */
function normalizedInventory(fake: FakeKube): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const line of fake.inventory()) {
    if (HISTORY.test(line)) continue;
    const o = objectOf(fake, line)!;
    const meta = o.metadata as Json;
    for (const k of ["resourceVersion", "managedFields", "creationTimestamp", "uid"])
      delete meta[k];
    if (o.kind === "ModelPool") delete o.status;
    if (o.kind === "Service") {
      delete (o.spec as Json).clusterIP;
      delete (o.spec as Json).clusterIPs;
    }
    out[line] = o;
  }
  return out;
}

function statusOf(fake: FakeKube, name: string): Json | undefined {
  return poolStatus(fake, "vision", name);
}

function condition(status: Json | undefined, type: string): Json | undefined {
  return ((status?.conditions ?? []) as Json[]).find((c) => c.type === type);
}

/**
 * The pool's status converged: it describes the pool's current generation, it is Valid and
 * Applied, and it carries a decision.
 */
function converged(fake: FakeKube, name: string): boolean {
  const o = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", name);
  const s = o?.status as Json | undefined;
  return (
    s !== undefined &&
    s.observedGeneration === (o!.metadata as Json).generation &&
    condition(s, "Valid")?.status === "True" &&
    condition(s, "Applied")?.status === "True" &&
    condition(s, "Applied")?.observedGeneration === s.observedGeneration &&
    s.decision !== undefined
  );
}

/** Waits until every pool of `names` {@link converged}; a timeout shows their status. */
async function untilConverged(
  fake: FakeKube,
  names: readonly string[],
  seconds: number,
  what: string,
  also: () => boolean = () => true,
): Promise<void> {
  await until(() => names.every((n) => converged(fake, n)) && also(), seconds, what).catch(
    (e: Error) => {
      const o = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", names[0]!);
      throw new Error(
        `${e.message}; ${names[0]} has generation ${(o?.metadata as Json | undefined)?.generation} and status ${JSON.stringify(o?.status)}`,
      );
    },
  );
}

/** Writes: what only an acting replica may do (the Lease aside). */
function isWrite(r: RequestInfo): boolean {
  return (
    ["create", "update", "patch", "delete", "deletecollection"].includes(r.verb) &&
    r.resource !== "leases"
  );
}

/** A controller the test started, as `identity`, and its JSON log. */
interface Running extends RunningController {
  readonly identity: string;
  /** Lines of the JSON log with this `msg`, parsed. */
  logged(msg: string): Json[];
}

describe("integration: tritonscale controller on the Kubernetes side — outages, restarts, leader election, deletion", function () {
  this.timeout(90_000);
  let fake: FakeKube;
  let triton: TritonStandin;
  let clock: Clock;
  const running: Running[] = [];

  async function setUp(speed: number): Promise<void> {
    fake = await startFakeKube();
    clock = createAcceleratedClock(speed);
    triton = new TritonStandin({ models: [{ name: "yolov8s" }], name: "yolo-triton-a" });
    await triton.start();
    triton.setLive(true, () => clock.now());
  }

  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.stop.abort();
      await r.exit;
    }
    await triton?.stop();
    await fake?.close();
  });

  /**
   * Starts `tritonscale controller` as `identity`, which is also its bearer token: the
   * fake's request log tells the instances apart by it.
   */
  async function start(
    identity: string,
    args: readonly string[] = [],
    leaseTiming?: Parameters<typeof startController>[0]["leaseTiming"],
  ): Promise<Running> {
    const c = await startController({
      kubeConfig: fake.kubeConfig("vision", identity),
      clock,
      identity,
      args,
      tritonEndpoint: () => triton.endpoint(),
      ...(leaseTiming === undefined ? {} : { leaseTiming }),
    });
    const r: Running = {
      ...c,
      identity,
      logged: (msg) =>
        c.io
          .out()
          .split("\n")
          .filter((l) => l.includes(`"msg":${JSON.stringify(msg)}`))
          .map((l) => JSON.parse(l) as Json),
    };
    running.push(r);
    return r;
  }

  it("the API server fails for a while (500s, 429 with Retry-After, dropped watches, 410 Gone) → nothing lost: every pool applied, changed and added ones too, and the status converges", async () => {
    await setUp(60);
    fake.seed(pool("yolo"));
    fake.seed(pool("edge"));
    fake.seed(tritonPod("yolo-triton-a", { creationTimestamp: "2026-01-01T00:00:00Z" }));
    const writes = (r: RequestInfo) => isWrite(r);
    // Writes fail from the start: two 429s asking to wait a second, then 500s. Reads work,
    // so the informers see the pools once and have nothing new to say later.
    const throttled = fake.inject({ match: writes, status: 429, retryAfterSeconds: 1, times: 2 });
    const failing = fake.inject({ match: writes, status: 500, times: Number.POSITIVE_INFINITY });
    const c = await start("controller-0");

    // Both pools' applies give up after their calls' own retries.
    await until(() => c.logged("apply failed").length >= 2, 30, "both applies to give up");
    expect(throttled.hits).to.equal(2);
    expect(failing.hits).to.be.greaterThan(5);

    // Then the whole API server goes: every call fails, the watches break, and the history
    // is compacted (a resuming watch gets 410 Gone). Meanwhile a pool changes and one is added.
    const outage = fake.inject({ status: 500, times: Number.POSITIVE_INFINITY });
    fake.dropWatches(undefined, { abrupt: true });
    fake.compact();
    const edge2 = pool("edge", { scaling: { minReplicas: 1, maxReplicas: 9 } });
    const edgeStored = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "edge")!;
    fake.seed({
      ...edge2,
      metadata: { ...(edgeStored.metadata as Json), generation: 2 },
    });
    fake.seed(pool("added"));
    await until(
      () => c.logged("watching ModelPools failed").length >= 2 && outage.hits > 20,
      20,
      "the ModelPool informer to fail and retry during the outage",
    );
    expect(fake.list("keda.sh/v1alpha1", "ScaledObject")).to.have.length(0);

    // The API server recovers.
    fake.clearFaults();
    const expected = [
      ...renderedKeys(pool("yolo")),
      ...renderedKeys(edge2),
      ...renderedKeys(pool("added")),
    ];
    await until(
      () => expected.every((k) => objectOf(fake, k) !== undefined),
      30,
      "every object of the three pools applied",
    );
    await untilConverged(
      fake,
      ["edge", "yolo", "added"],
      30,
      "the status of the three pools to converge",
    );
    expect(statusOf(fake, "edge")!.observedGeneration).to.equal(2);
    // The change made during the outage is what is applied.
    const so = fake
      .list("keda.sh/v1alpha1", "ScaledObject", "vision")
      .filter((o) => ((o.metadata as Json).labels as Json)["tritonscale.dev/pool"] === "edge");
    expect(so.map((o) => (o.spec as Json).maxReplicaCount)).to.deep.equal([9]);
    // Nothing else was made: the pools' objects are exactly their renders.
    const managed = fake
      .inventory()
      .filter((l) => !HISTORY.test(l) && !/\/(ModelPool|Pod) /.test(l));
    expect(managed).to.deep.equal([...expected].sort());
  });

  it("a pool changed while it is being applied: its status says Applied at the new generation only once the new render is applied", async () => {
    await setUp(60);
    fake.seed(pool("yolo"));
    fake.seed(tritonPod("yolo-triton-a", { creationTimestamp: "2026-01-01T00:00:00Z" }));
    const isApply = (r: RequestInfo) =>
      r.contentType?.startsWith("application/apply-patch") ?? false;
    let arrived = false;
    let changed = false;
    // The first apply's first PATCH is slow; once the pool changed, every PATCH is a bit slow.
    fake.inject({
      match: (r) => {
        if (!isApply(r)) return false;
        arrived = true;
        return true;
      },
      delayMs: 800,
    });
    fake.inject({
      match: (r) => isApply(r) && changed,
      delayMs: 150,
      times: Number.POSITIVE_INFINITY,
    });
    await start("controller-0");
    await until(() => arrived, 10, "the first PATCH");
    const stored = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo")!;
    fake.seed({
      ...pool("yolo", { scaling: { minReplicas: 1, maxReplicas: 8 } }),
      metadata: { ...(stored.metadata as Json), generation: 2 },
    });
    changed = true;
    const wrong: string[] = [];
    await until(
      () => {
        const s = statusOf(fake, "yolo");
        const applied = condition(s, "Applied");
        if (applied?.status === "True" && applied.observedGeneration === 2) {
          const so = fake.get("keda.sh/v1alpha1", "ScaledObject", "vision", "yolo-triton");
          const max = (so?.spec as Json | undefined)?.maxReplicaCount;
          if (max !== 8) wrong.push(`Applied=True at generation 2 with maxReplicaCount ${max}`);
        }
        return converged(fake, "yolo") && s?.observedGeneration === 2;
      },
      20,
      "the change applied",
    );
    expect(wrong, "status ahead of what is applied").to.deep.equal([]);
    const so = fake.get("keda.sh/v1alpha1", "ScaledObject", "vision", "yolo-triton")!;
    expect((so.spec as Json).maxReplicaCount).to.equal(8);
  });

  /**
   * A clean run and a run whose first instance dies at its third PATCH, then a second
   * instance: the same objects in the end. `previous`, when given, is a render of the pool
   * applied before either run starts (the pool then changed to `current`: what the new
   * render drops must be pruned).
   */
  async function restartMidApply(current: Json, previous?: Json): Promise<void> {
    // Someone else's object carrying the pool's label: not tritonscale's, never pruned.
    const foreign: Json = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "yolo-notes",
        namespace: "vision",
        labels: { "tritonscale.dev/pool": "yolo", "app.kubernetes.io/managed-by": "tritonscale" },
      },
      data: { owner: "a human" },
    };
    const seedAll = async () => {
      if (previous !== undefined) {
        const { uid: _uid, ...metadata } = previous.metadata as Json;
        const policy = loadModelPool(stringify({ ...previous, metadata }), "pool.yaml");
        const api = KubernetesObjectApi.makeApiClient(fake.kubeConfig("vision", "setup"));
        await applyPool(api, policy, {
          apiVersion: "tritonscale.dev/v1alpha1",
          kind: "ModelPool",
          name: "yolo",
          namespace: "vision",
          uid: "uid-pool-yolo",
        });
      }
      fake.seed(current);
      fake.seed(tritonPod("yolo-triton-a", { creationTimestamp: "2026-01-01T00:00:00Z" }));
      fake.seed(foreign);
    };

    // The clean run.
    await setUp(60);
    await seedAll();
    const clean = await start("clean");
    await untilConverged(fake, ["yolo"], 20, "the clean run to converge");
    clean.stop.abort();
    expect(await clean.exit).to.equal(0);
    const want = normalizedInventory(fake);
    expect(Object.keys(want)).to.include("v1/ConfigMap vision/yolo-notes");
    await triton.stop();
    await fake.close();
    running.splice(0);

    // The interrupted run: the third PATCH of the first instance hangs, and while it does
    // the instance dies: every call it makes from then on is lost, as with a killed pod.
    await setUp(60);
    await seedAll();
    let patches = 0;
    let third = false;
    fake.inject({
      match: (r) => {
        if (r.user !== "first" || !r.contentType?.startsWith("application/apply-patch")) {
          return false;
        }
        patches++;
        if (patches === 3) third = true;
        return patches === 3;
      },
      delayMs: 500,
      reset: true,
    });
    const first = await start("first");
    await until(() => third, 20, "the third PATCH");
    fake.inject({ match: (r) => r.user === "first", reset: true, times: Number.POSITIVE_INFINITY });
    first.stop.abort();
    expect(
      renderedKeys(current).filter((k) => objectOf(fake, k) !== undefined),
      "objects applied before the restart",
    ).to.have.length.at.least(2);

    const second = await start("second");
    await untilConverged(fake, ["yolo"], 20, "the restarted run to converge");
    await until(() => second.logged("applied").length >= 1, 10, "the apply");
    expect(normalizedInventory(fake)).to.deep.equal(want);
    if (previous === undefined) expect(second.logged("applied")[0]!.pruned).to.deep.equal([]);
    expect(await first.exit).to.equal(0);
  }

  it("a restart in the middle of an apply ends with exactly the objects of a clean run, pruning nothing that must stay", async () => {
    await restartMidApply(pool("yolo"));
  });

  it("a restart in the middle of the apply of a changed pool (KEDA → HPA): the same objects as a clean run, the dropped ScaledObject pruned in both", async () => {
    const hpa = pool("yolo", { scaling: { engine: "hpa", minReplicas: 1, maxReplicas: 6 } });
    await restartMidApply(hpa, pool("yolo"));
    expect(fake.list("keda.sh/v1alpha1", "ScaledObject", "vision")).to.deep.equal([]);
    expect(
      fake
        .list("autoscaling/v2", "HorizontalPodAutoscaler", "vision")
        .map((o) => (o.metadata as Json).name),
    ).to.have.length(1);
  });

  it("leader election: only the leader writes; a leader cut off from the Lease stops acting and the other takes over within leaseDuration + retryPeriod; a SIGTERM releases the Lease at once", async () => {
    // client-go's timing at 5×: the 5 s between the leader's renew deadline and the
    // follower's takeover are 1 s of wall time, far above a loaded machine's hiccups.
    const speed = 5;
    await setUp(speed);
    const timing = { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 };
    fake.seed(pool("yolo"));
    fake.seed(tritonPod("yolo-triton-a", { creationTimestamp: "2026-01-01T00:00:00Z" }));
    // Every request as it arrives, with the clock's time (a rule that never matches).
    const arrivals: { at: number; r: RequestInfo }[] = [];
    fake.inject({
      times: Number.POSITIVE_INFINITY,
      match: (r) => {
        arrivals.push({ at: clock.now(), r });
        return false;
      },
    });
    const lease = () =>
      fake.get("coordination.k8s.io/v1", "Lease", CONTROLLER_NAMESPACE, LEADER_ELECTION_LEASE)
        ?.spec as Json | undefined;
    const args = ["--leader-elect"];
    const a = await start("a", args, timing);
    await until(() => a.logged("leading").length === 1, 10, "a to lead");
    const b = await start("b", args, timing);

    // Who is ready (and says it leads) over time, from the outside.
    const samples: {
      at: number;
      ready: Record<string, boolean>;
      leader: Record<string, boolean>;
    }[] = [];
    let sampling = true;
    const probe = async (r: Running) => {
      const ready = (await fetch(`${r.healthUrl}/readyz`)).status === 200;
      const text = await (await fetch(`${r.metricsUrl}/metrics`)).text();
      return { ready, leader: /^tritonscale_leader(\{[^}]*\})? 1$/m.test(text) };
    };
    const sampler = (async () => {
      while (sampling) {
        const at = clock.now();
        const [pa, pb] = await Promise.all([probe(a), probe(b)]);
        samples.push({
          at,
          ready: { a: pa.ready, b: pb.ready },
          leader: { a: pa.leader, b: pb.leader },
        });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    try {
      await untilConverged(fake, ["yolo"], 20, "the leader to apply and write status");
      await until(() => samples.some((s) => s.ready.a), 10, "a ready");
      expect(lease()?.holderIdentity).to.equal("a");
      expect(
        arrivals.filter((x) => x.r.user === "b" && isWrite(x.r)),
        "writes by the follower",
      ).to.deep.equal([]);

      // a is cut off from the Lease (its other calls still work: the strongest case, a
      // leader that could go on writing) and the pool changes.
      // Its last acquisition or renewal (a create or an update of the Lease).
      const lastRenewal = Math.max(
        ...arrivals
          .filter(
            (x) =>
              x.r.user === "a" &&
              x.r.resource === "leases" &&
              (x.r.verb === "update" || x.r.verb === "create"),
          )
          .map((x) => x.at),
      );
      const cutAt = clock.now();
      fake.inject({
        match: (r) => r.user === "a" && r.resource === "leases",
        status: 500,
        times: Number.POSITIVE_INFINITY,
      });
      // Once a's renew deadline passed, it stops acting; the pool changes before b takes
      // over: a, which hears of it, must not apply it.
      await until(() => a.logged("not leading").length === 1, 20, "a to stop leading");
      expect(b.logged("leading"), "b leading already").to.deep.equal([]);
      const stored = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo")!;
      fake.seed({
        ...pool("yolo", { scaling: { minReplicas: 1, maxReplicas: 8 } }),
        metadata: { ...(stored.metadata as Json), generation: 2 },
      });
      await until(() => b.logged("leading").length === 1, 20, "b to take over");
      const takeover = Math.min(
        ...arrivals
          .filter(
            (x) =>
              x.r.user === "b" &&
              x.r.resource === "leases" &&
              x.r.verb === "update" &&
              x.at > cutAt,
          )
          .map((x) => x.at),
      );
      expect(lease()?.holderIdentity).to.equal("b");
      // From a's last renewal that went through (an upper bound of it: the last one sent).
      const bound = timing.leaseDurationSeconds + timing.retryPeriodSeconds;
      const leaseCalls = arrivals
        .filter((x) => x.r.resource === "leases")
        .map((x) => `${x.r.user} ${x.r.verb} ${(x.at - cutAt).toFixed(2)}`)
        .join("; ");
      expect(
        takeover - lastRenewal,
        `takeover after the leader's last renewal, clock s (Lease calls, time from the cut: ${leaseCalls})`,
      ).to.be.at.most(bound + 0.5);
      expect(a.logged("not leading").length, "a stopped leading").to.equal(1);

      // b applies the changed pool and writes its status.
      await untilConverged(
        fake,
        ["yolo"],
        20,
        "b to apply the change and write status",
        () => statusOf(fake, "yolo")!.observedGeneration === 2,
      );
      await until(() => b.logged("applied").length >= 1, 10, "b's apply");
      expect(a.logged("applied"), "a applied only the first generation").to.have.length(1);
      const so = fake.get("keda.sh/v1alpha1", "ScaledObject", "vision", "yolo-triton") as Json;
      expect((so.spec as Json).maxReplicaCount).to.equal(8);

      // Never two acting: in the order the API server got them, every write of a comes
      // before every write of b, and a's last one before its renew deadline.
      const writers = arrivals.filter((x) => isWrite(x.r)).map((x) => x.r.user);
      const runs = writers.filter((w, i) => i === 0 || writers[i - 1] !== w);
      expect(runs, "the writers in turn").to.deep.equal(["a", "b"]);
      const lastOfA = Math.max(
        ...arrivals.filter((x) => x.r.user === "a" && isWrite(x.r)).map((x) => x.at),
      );
      expect(lastOfA - lastRenewal, "a's last write after its last renewal, clock s").to.be.below(
        // (plus what a request sent just before the deadline may take to arrive)
        timing.renewDeadlineSeconds + 0.3,
      );
      const firstOfB = Math.min(
        ...arrivals.filter((x) => x.r.user === "b" && isWrite(x.r)).map((x) => x.at),
      );
      expect(firstOfB).to.be.at.least(takeover);

      // From the outside: never both ready, never both saying they lead.
      expect(samples.filter((s) => s.ready.a && s.ready.b)).to.deep.equal([]);
      expect(samples.filter((s) => s.leader.a && s.leader.b)).to.deep.equal([]);
      expect(samples.some((s) => s.ready.b && s.leader.b)).to.equal(true);
    } finally {
      sampling = false;
      await sampler;
    }

    // A graceful stop of b releases the Lease before it exits.
    b.stop.abort();
    expect(await b.exit).to.equal(0);
    expect(lease()?.holderIdentity).to.equal("");
    expect(lease()?.leaseDurationSeconds).to.equal(1);
    // Once a reaches the Lease again, it takes the released Lease at its next try, within
    // one retryPeriod (plus the polling's and a loaded machine's slack), without waiting out
    // a lease duration.
    const releasedAt = clock.now();
    fake.clearFaults();
    await until(() => lease()?.holderIdentity === "a", 10, "a to take the released Lease");
    expect(clock.now() - releasedAt).to.be.below(timing.retryPeriodSeconds + 2);
    await until(() => a.logged("leading").length === 2, 10, "a to lead again");
  });

  it("a deleted ModelPool: its objects go (owner references, and the cluster-scoped NodePool by its labels), and nothing is decided, answered or exported for it any more", async function () {
    requireReference(this, "keda");
    await setUp(60);
    const doc = pool("yolo", { capacity: { provider: "karpenter" } });
    fake.seed(doc);
    fake.seed(pool("other"));
    fake.seed(tritonPod("yolo-triton-a", { creationTimestamp: "2026-01-01T00:00:00Z" }));
    const c = await start("controller-0");
    const keda = new KedaStandin(referenceDir, `127.0.0.1:${c.serving.grpcPort}`);
    const ref = { namespace: "vision", name: "yolo-triton" };
    try {
      const keys = renderedKeys(doc);
      expect(keys.some((k) => k.startsWith("karpenter.sh/v1/NodePool "))).to.equal(true);
      await untilConverged(fake, ["yolo", "other"], 20, "both pools applied");
      expect(keys.every((k) => objectOf(fake, k) !== undefined)).to.equal(true);
      const end = Date.now() + 10_000;
      for (;;) {
        const ok = await keda.poll(ref).then(
          () => true,
          () => false,
        );
        if (ok) break;
        if (Date.now() > end) throw new Error("timed out waiting for KEDA's first answer");
        await new Promise((r) => setTimeout(r, 25));
      }
      const metricsText = async () => (await fetch(`${c.metricsUrl}/metrics`)).text();
      expect(await metricsText()).to.match(/pool="yolo"/);

      // kubectl delete modelpool yolo.
      const url = `${fake.url}/apis/tritonscale.dev/v1alpha1/namespaces/vision/modelpools/yolo`;
      expect((await fetch(url, { method: "DELETE" })).status).to.equal(200);

      await until(() => c.logged("pruned").length === 1, 20, "the pool's objects pruned");
      await until(
        () => keys.every((k) => objectOf(fake, k) === undefined),
        20,
        "every object of the pool gone",
      );
      expect(c.logged("pruned")[0]!.pruned, "the NodePool, by its labels").to.equal(1);
      // The other pool keeps everything.
      expect(renderedKeys(pool("other")).every((k) => objectOf(fake, k) !== undefined)).to.equal(
        true,
      );

      // KEDA gets NOT_FOUND for the ScaledObject; no series of the pool; no more decisions.
      const error = await keda.poll(ref).then(
        () => undefined,
        (e: unknown) => e as { code?: number; details?: string },
      );
      expect(error?.code, "gRPC status of a poll for the deleted pool's ScaledObject").to.equal(5);
      expect(await metricsText()).to.not.match(/pool="yolo"/);
      expect(await metricsText()).to.match(/pool="other"/);
      const decisionsOf = () => c.logged("decision").filter((d) => d.pool === "vision/yolo").length;
      const before = decisionsOf();
      const others = c.logged("decision").filter((d) => d.pool === "vision/other").length;
      await until(
        () => c.logged("decision").filter((d) => d.pool === "vision/other").length >= others + 3,
        10,
        "three more decisions for the other pool",
      );
      expect(decisionsOf(), "decisions for the deleted pool").to.equal(before);
      // Its status is not written again (it is gone): no write to it after the delete.
      const afterDelete = fake.requests.findIndex(
        (r) => r.verb === "delete" && r.resource === "modelpools",
      );
      expect(
        fake.requests
          .slice(afterDelete + 1)
          .filter((r) => r.resource === "modelpools" && r.name === "yolo" && r.status !== 404),
      ).to.deep.equal([]);
    } finally {
      keda.close();
    }
  });

  const unlisted: readonly {
    readonly name: string;
    readonly resource: string;
    readonly pools: "files" | "resources";
  }[] = [
    {
      name: "--pools DIR, the pods' list failing: not ready and no decision until the pods are listed (regression: ready at once, deciding on an empty pod cache)",
      resource: "pods",
      pools: "files",
    },
    {
      name: "ModelPool resources without --leader-elect, their list failing: not ready until the pools are listed (regression: ready with no pool known)",
      resource: "modelpools",
      pools: "resources",
    },
  ];
  for (const row of unlisted) {
    it(`/readyz: ${row.name}`, async () => {
      await setUp(60);
      fake.seed(tritonPod("yolo-triton-a", { creationTimestamp: "2026-01-01T00:00:00Z" }));
      const dir = await mkdtemp(join(tmpdir(), "tritonscale-readyz-"));
      try {
        const doc = pool("yolo");
        if (row.pools === "files") {
          const { uid: _uid, ...metadata } = doc.metadata as Json;
          await writeFile(join(dir, "yolo.yaml"), stringify({ ...doc, metadata }));
        } else fake.seed(doc);
        const fault = fake.inject({
          status: 500,
          times: Number.POSITIVE_INFINITY,
          match: (r) => r.verb === "list" && r.resource === row.resource,
        });
        const c = await start("controller-0", row.pools === "files" ? ["--pools", dir] : []);
        const readyz = async () => {
          const r = await fetch(`${c.healthUrl}/readyz`);
          return { status: r.status, text: await r.text() };
        };
        // Two restarts of the informer (backoff on the clock, 60× here) have failed.
        await until(() => fault.hits >= 3, 20, "three failed lists");
        expect(await readyz()).to.deep.equal({
          status: 503,
          text: "not ready: initial sync not done\n",
        });
        expect(c.logged("decision"), "decisions before the list").to.deep.equal([]);
        fake.clearFaults();
        const end = Date.now() + 20_000;
        let last = await readyz();
        while (last.status !== 200 && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 20));
          last = await readyz();
        }
        expect(last, "ready once listed").to.deep.equal({ status: 200, text: "ok\n" });
        const first = c.logged("decision")[0];
        expect(first?.ready, "the first decision saw the listed pod").to.deep.equal({
          spot: 0,
          onDemand: 1,
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
