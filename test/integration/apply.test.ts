import { KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import { expect } from "chai";
import {
  type ApplyOptions,
  ApplyStopped,
  applyModelPool,
  applyPool,
  applyPools,
  deletePoolObjects,
  POOL_NAMESPACE_LABEL,
  type PoolOwner,
  PRUNABLE_KINDS,
} from "../../controller/kube/apply.js";
import { buildPool } from "../../controller/kube/render/index.js";
import type { Policy } from "../../controller/policy/index.js";
import { type FakeKube, startFakeKube } from "../support/fake-kube/index.js";
import { minimalPool, pool, poolDocument } from "../support/pools.js";

/**
 * Server-side apply and pruning of a pool's objects (controller/kube/apply.ts) with the
 * real @kubernetes/client-node against the fake API server over loopback HTTP. Backoff
 * sleeps are recorded, not slept; jitter is fixed.
 */

const OWNER_UID = "0b5d0c8e-0000-4000-8000-000000000001";

function ownerOf(policy: Policy, uid: string | undefined = OWNER_UID): PoolOwner {
  return {
    apiVersion: "tritonscale.dev/v1alpha1",
    kind: "ModelPool",
    name: policy.metadata.name,
    namespace: policy.metadata.namespace,
    ...(uid ? { uid } : {}),
  };
}

/** Retry options that record each backoff instead of sleeping; jitter fixed at 0.5. */
function recorded(extra: ApplyOptions["retry"] = {}): { options: ApplyOptions; sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    options: {
      retry: {
        random: () => 0.5,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        ...extra,
      },
    },
  };
}

/** `apiVersion/kind namespace/name` of every object a pool renders, sorted. */
function rendered(policy: Policy): string[] {
  return buildPool(policy)
    .map((o) => {
      const j = o.toJSON() as {
        apiVersion: string;
        kind: string;
        metadata: { name: string; namespace?: string };
      };
      return `${j.apiVersion}/${j.kind} ${j.metadata.namespace ? `${j.metadata.namespace}/` : ""}${j.metadata.name}`;
    })
    .sort();
}

describe("kube apply: server-side apply, owners, pruning, retries (fake API server)", () => {
  let fake: FakeKube;
  let api: KubernetesObjectApi;
  beforeEach(async () => {
    fake = await startFakeKube();
    api = KubernetesObjectApi.makeApiClient(fake.kubeConfig("vision"));
  });
  afterEach(async () => {
    await fake.close();
  });

  it("applies every rendered object with apply-patch+yaml, field manager tritonscale, force (the content-type guard)", async () => {
    const policy = pool("karpenter", "keda");
    const report = await applyPool(api, policy, ownerOf(policy));
    expect(fake.inventory()).to.deep.equal(rendered(policy));
    expect(report.applied).to.have.length(rendered(policy).length);
    const patches = fake.requests.filter((r) => r.verb === "patch");
    expect(patches).to.have.length(report.applied.length);
    for (const r of patches) {
      expect(r.contentType, r.path).to.equal("application/apply-patch+yaml");
      expect(r.query.get("fieldManager"), r.path).to.equal("tritonscale");
      expect(r.query.get("force"), r.path).to.equal("true");
    }
    // Every object is owned by the tritonscale Apply manager only.
    for (const k of PRUNABLE_KINDS) {
      for (const o of fake.list(k.apiVersion, k.kind)) {
        const managers = (o.metadata as { managedFields: { manager: string; operation: string }[] })
          .managedFields;
        expect(managers.map((m) => `${m.manager}/${m.operation}`)).to.deep.equal([
          "tritonscale/Apply",
        ]);
      }
    }
  });

  it("namespaced objects are owned by the ModelPool; the cluster-scoped NodePool carries the pool's labels only", async () => {
    const policy = pool("karpenter", "keda");
    await applyPool(api, policy, ownerOf(policy));
    const [np] = fake.list("karpenter.sh/v1", "NodePool");
    const npMeta = np!.metadata as { labels: Record<string, string>; ownerReferences?: unknown };
    expect(npMeta.ownerReferences).to.equal(undefined);
    expect(npMeta.labels).to.include({
      "tritonscale.dev/pool": "yolo",
      [POOL_NAMESPACE_LABEL]: "vision",
    });
    for (const k of PRUNABLE_KINDS.filter((x) => x.namespaced)) {
      for (const o of fake.list(k.apiVersion, k.kind, "vision")) {
        expect((o.metadata as { ownerReferences: unknown }).ownerReferences, k.kind).to.deep.equal([
          {
            apiVersion: "tritonscale.dev/v1alpha1",
            kind: "ModelPool",
            name: "yolo",
            uid: OWNER_UID,
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
      }
    }
  });

  it("no applied Deployment sets spec.replicas: the autoscaler's scaling survives every re-apply", async () => {
    for (const engine of ["keda", "hpa"] as const) {
      const p = pool("eks", engine);
      const policy = { ...p, metadata: { ...p.metadata, namespace: engine } } as Policy;
      await applyPool(api, policy, ownerOf(policy));
      for (const d of fake.list("apps/v1", "Deployment", engine)) {
        const fields = (d.metadata as { managedFields: { fieldsV1: { "f:spec": object } }[] })
          .managedFields[0]!.fieldsV1["f:spec"];
        expect(fields, engine).to.not.have.property("f:replicas");
        // The API server defaulted it to 1 on create; the autoscaler moves it (an update).
        expect((d.spec as { replicas: number }).replicas, engine).to.equal(1);
        const name = (d.metadata as { name: string }).name;
        await fetch(
          `${fake.url}/apis/apps/v1/namespaces/${engine}/deployments/${name}?fieldManager=keda`,
          {
            method: "PATCH",
            headers: { "Content-Type": "application/merge-patch+json" },
            body: JSON.stringify({ spec: { replicas: 5 } }),
          },
        );
      }
      await applyPool(api, policy, ownerOf(policy));
      for (const d of fake.list("apps/v1", "Deployment", engine)) {
        expect((d.spec as { replicas: number }).replicas, engine).to.equal(5);
      }
    }
  });

  it("re-applying the same render is a no-op: same objects, same resourceVersions, no writes", async () => {
    const policy = pool("karpenter", "keda");
    const first = await applyPool(api, policy, ownerOf(policy));
    const rv = fake.resourceVersion;
    const second = await applyPool(api, policy, ownerOf(policy));
    expect(fake.resourceVersion).to.equal(rv);
    expect(second.applied).to.deep.equal(first.applied);
    expect(second.pruned).to.deep.equal([]);
  });

  it("prunes only objects of this pool that the new render dropped, never anything else", async () => {
    const before = pool("karpenter", "keda");
    await applyPool(api, before, ownerOf(before));
    // Things that look like ours but are not (each must survive the prune):
    const labels = {
      "tritonscale.dev/pool": "yolo",
      "app.kubernetes.io/managed-by": "tritonscale",
    };
    const apply = (o: Record<string, unknown>) =>
      api.patch(
        o as never,
        undefined,
        undefined,
        "tritonscale",
        true,
        PatchStrategy.ServerSideApply,
      );
    // 1. labelled like ours, created by hand (no tritonscale apply)
    await api.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "hand-made", namespace: "vision", labels },
    } as never);
    // 2. applied by tritonscale, labelled like ours, but owned by another ModelPool
    await apply({
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      metadata: {
        name: "other-owner",
        namespace: "vision",
        labels,
        ownerReferences: [
          {
            apiVersion: "tritonscale.dev/v1alpha1",
            kind: "ModelPool",
            name: "yolo",
            uid: "another-uid",
          },
        ],
      },
      spec: { scaleTargetRef: { name: "x" } },
    });
    // 3. the same pool name in another namespace: its namespaced objects and its NodePool
    const elsewhere = minimalPool({ capacity: { provider: "karpenter" } });
    const elsewherePolicy = {
      ...elsewhere,
      metadata: { ...elsewhere.metadata, namespace: "other" },
    } as Policy;
    await applyPool(api, elsewherePolicy, { ...ownerOf(elsewherePolicy), uid: "uid-of-other-ns" });
    const survivors = fake.inventory().filter((x) => !rendered(before).includes(x));

    // The new render: no Spot (one Deployment fewer), HPA instead of KEDA, no Karpenter.
    const after = pool("eks", "hpa", { capacity: { provider: "eks", spot: { enabled: false } } });
    const report = await applyPool(api, after, ownerOf(after));
    const pruned = report.pruned.map((p) => `${p.kind} ${p.namespace ?? ""}/${p.name}`).sort();
    expect(pruned).to.deep.equal([
      "Deployment vision/yolo-triton-ondemand",
      "Deployment vision/yolo-triton-spot",
      "NodePool /vision-yolo-gpu",
      "ScaledObject vision/yolo-triton-ondemand",
      "ScaledObject vision/yolo-triton-spot",
    ]);
    expect(fake.inventory()).to.deep.equal([...rendered(after), ...survivors].sort());
  });

  it("500s for a while: backs off, then converges to the same objects", async () => {
    const policy = pool("karpenter", "keda");
    const { options, sleeps } = recorded();
    fake.inject({ status: 500, times: 4, match: (r) => r.verb === "patch" });
    const report = await applyPool(api, policy, ownerOf(policy), options);
    expect(sleeps).to.deep.equal([100, 200, 400, 800]);
    expect(report.stats.transient).to.equal(4);
    expect(fake.inventory()).to.deep.equal(rendered(policy));
  });

  it("409 Conflict: re-reads the object and re-applies at once (no backoff)", async () => {
    const policy = pool("karpenter", "keda");
    await applyPool(api, policy, ownerOf(policy));
    const { options, sleeps } = recorded();
    fake.requests.length = 0;
    fake.inject({ status: 409, match: (r) => r.verb === "patch" && r.resource === "deployments" });
    const report = await applyPool(api, policy, ownerOf(policy), options);
    expect(report.stats.conflicts).to.equal(1);
    expect(sleeps).to.deep.equal([]);
    const seq = fake.requests
      .filter((r) => r.resource === "deployments" && r.verb !== "list")
      .map((r) => `${r.verb} ${r.name} ${r.status}`);
    expect(seq.slice(0, 3)).to.deep.equal([
      "patch yolo-triton-spot 409",
      "get yolo-triton-spot 200",
      "patch yolo-triton-spot 200",
    ]);
  });

  it("429: exponential backoff with jitter, at least Retry-After; bounded, then an error naming the object and nothing pruned", async () => {
    const policy = pool("karpenter", "keda");
    const a = recorded();
    fake.inject({ status: 429, times: 3, match: (r) => r.verb === "patch" });
    await applyPool(api, policy, ownerOf(policy), a.options);
    expect(a.sleeps).to.deep.equal([100, 200, 400]);
    const b = recorded();
    fake.inject({ status: 429, times: 1, retryAfterSeconds: 2, match: (r) => r.verb === "patch" });
    await applyPool(api, policy, ownerOf(policy), b.options);
    expect(b.sleeps).to.deep.equal([2000]);
    const c = recorded({ attempts: 4 });
    fake.inject({ status: 429, times: Number.POSITIVE_INFINITY, match: (r) => r.verb === "patch" });
    let err: Error | undefined;
    await applyPool(api, policy, ownerOf(policy), c.options).catch((e: Error) => {
      err = e;
    });
    expect(err?.message).to.match(
      /^applying NodePool vision-yolo-gpu: 429 TooManyRequests: injected fault: .* \(after 4 tries\)$/,
    );
    expect(c.sleeps).to.deep.equal([100, 200, 400]);
    expect(fake.requests.filter((r) => r.verb === "delete")).to.deep.equal([]);
  });

  it("a call that does not answer in time is retried like a 5xx", async () => {
    const policy = minimalPool();
    const { options, sleeps } = recorded({ timeoutMs: 1000 });
    fake.inject({ delayMs: 3000, match: (r) => r.verb === "patch" });
    await applyPool(api, policy, ownerOf(policy), options);
    expect(sleeps).to.deep.equal([100]);
    expect(fake.inventory()).to.deep.equal(rendered(policy));
  });

  it("a dropped connection (no answer at all) is retried like a 5xx", async () => {
    const policy = minimalPool();
    const { options, sleeps } = recorded();
    fake.inject({ reset: true, times: 2, match: (r) => r.verb === "patch" });
    const report = await applyPool(api, policy, ownerOf(policy), options);
    expect(sleeps).to.deep.equal([100, 200]);
    expect(report.stats.transient).to.equal(2);
    expect(fake.inventory()).to.deep.equal(rendered(policy));
  });

  it("a permanent error is not retried and names the object and the server's answer", async () => {
    const policy = minimalPool();
    const { options, sleeps } = recorded();
    fake.inject({
      status: 422,
      message: "spec.template: Invalid value",
      match: (r) => r.resource === "deployments",
    });
    let err: Error | undefined;
    await applyPool(api, policy, ownerOf(policy), options).catch((e: Error) => {
      err = e;
    });
    expect(err?.message).to.equal(
      "applying Deployment vision/yolo-triton: 422 Invalid: spec.template: Invalid value",
    );
    expect(sleeps).to.deep.equal([]);
  });

  it("a restart mid-reconcile converges to the same objects as one clean reconcile", async () => {
    const policy = pool("karpenter", "keda");
    // The first reconcile dies at the Service (after the NodePool and the Deployments).
    fake.inject({
      status: 500,
      times: Number.POSITIVE_INFINITY,
      match: (r) => r.resource === "services",
    });
    const { options } = recorded({ attempts: 2 });
    await applyPool(api, policy, ownerOf(policy), options).then(
      () => expect.fail("the first reconcile should fail"),
      () => undefined,
    );
    expect(fake.inventory().length).to.be.within(1, rendered(policy).length - 1);
    fake.clearFaults();
    await applyPool(api, policy, ownerOf(policy), options);
    const restarted = fake
      .list("apps/v1", "Deployment", "vision")
      .map((d) => ({ ...d, metadata: undefined }));
    expect(fake.inventory()).to.deep.equal(rendered(policy));
    const clean = await startFakeKube();
    try {
      await applyPool(
        KubernetesObjectApi.makeApiClient(clean.kubeConfig()),
        policy,
        ownerOf(policy),
      );
      expect(clean.inventory()).to.deep.equal(fake.inventory());
      const cleanDeployments = clean
        .list("apps/v1", "Deployment", "vision")
        .map((d) => ({ ...d, metadata: undefined }));
      expect(restarted).to.deep.equal(cleanDeployments);
    } finally {
      await clean.close();
    }
  });

  it("mayWrite: an apply stops between two writes once the replica may no longer write (leadership lost), with no retry and nothing pruned", async () => {
    const policy = pool("karpenter", "keda");
    let allowed = 2;
    const { options, sleeps } = recorded();
    const error = await applyPool(api, policy, ownerOf(policy), {
      ...options,
      mayWrite: () => allowed-- > 0,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ApplyStopped);
    expect(String((error as Error).message)).to.match(/^applying \S+ \S+: stopped/);
    expect(fake.requests.filter((r) => r.verb === "patch")).to.have.length(2);
    expect(fake.requests.filter((r) => r.verb === "delete")).to.have.length(0);
    expect(sleeps).to.deep.equal([]);
  });

  it("applyPools: one reconcile of many pools prunes with one list per kind; a failing pool stops no other and is not pruned", async () => {
    const inNs = (ns: string, spot: boolean) => {
      const p = pool("karpenter", "keda", {
        capacity: { provider: "karpenter", spot: { enabled: spot, onDemandBase: 1 } },
      });
      return { ...p, metadata: { ...p.metadata, namespace: ns } } as Policy;
    };
    const owner = (p: Policy) => ({ ...ownerOf(p), uid: `uid-${p.metadata.namespace}` });
    for (const ns of ["vision", "team"])
      await applyPool(api, inNs(ns, true), owner(inNs(ns, true)));
    const before = fake.inventory();
    fake.requests.length = 0;
    fake.inject({
      status: 500,
      times: Number.POSITIVE_INFINITY,
      match: (r) => r.verb === "patch" && r.namespace === "team",
    });
    const { options } = recorded({ attempts: 2 });
    const pools = ["vision", "team"].map((ns) => ({
      policy: inNs(ns, false),
      owner: owner(inNs(ns, false)),
    }));
    const outcomes = await applyPools(api, pools, { ...options, concurrency: 2 });
    const vision = outcomes.get("vision/yolo");
    const team = outcomes.get("team/yolo");
    expect(vision?.ok).to.equal(true);
    expect(team?.ok).to.equal(false);
    if (team && !team.ok)
      expect(team.error.message).to.match(/^applying .* team\/yolo-triton.*: 500 InternalError/);
    if (vision?.ok) {
      expect(
        vision.report.pruned.map((r) => `${r.kind} ${r.namespace}/${r.name}`).sort(),
      ).to.deep.equal([
        "Deployment vision/yolo-triton-ondemand",
        "Deployment vision/yolo-triton-spot",
        "ScaledObject vision/yolo-triton-ondemand",
        "ScaledObject vision/yolo-triton-spot",
      ]);
    }
    expect(fake.requests.filter((r) => r.verb === "list")).to.have.length(PRUNABLE_KINDS.length);
    const teamNow = fake.inventory().filter((x) => x.includes(" team/"));
    expect(teamNow).to.deep.equal(before.filter((x) => x.includes(" team/")));
  });

  it("deletePoolObjects removes a gone pool's objects, its NodePool included, and nothing of other pools", async () => {
    const a = pool("karpenter", "keda");
    const other = { ...a, metadata: { ...a.metadata, namespace: "team" } } as Policy;
    await applyPool(api, a, ownerOf(a));
    await applyPool(api, other, { ...ownerOf(other), uid: "uid-team" });
    const others = fake.inventory().filter((x) => !rendered(a).includes(x));
    const deleted = await deletePoolObjects(api, ownerOf(a));
    expect(deleted).to.have.length(rendered(a).length);
    expect(fake.inventory()).to.deep.equal(others);
  });

  it("deleting the ModelPool: garbage collection takes the owned objects; the NodePool waits for deletePoolObjects", async () => {
    await api.create(poolDocument({ capacity: { provider: "karpenter" } }) as never);
    const stored = await api.read({
      apiVersion: "tritonscale.dev/v1alpha1",
      kind: "ModelPool",
      metadata: { name: "yolo", namespace: "vision" },
    } as never);
    const out = await applyModelPool(api, stored);
    expect(out.kind).to.equal("applied");
    await api.delete(stored);
    expect(fake.inventory()).to.deep.equal(["karpenter.sh/v1/NodePool vision-yolo-gpu"]);
    if (out.kind === "applied") {
      const owner = { ...ownerOf(out.policy), uid: stored.metadata!.uid! };
      await deletePoolObjects(api, owner);
    }
    expect(fake.inventory()).to.deep.equal([]);
  });

  it("an invalid ModelPool applies nothing and returns problems naming the field", async () => {
    const bad = {
      ...poolDocument({}, { imageSize: 650 }),
      metadata: { name: "yolo", namespace: "vision", uid: OWNER_UID },
    };
    const out = await applyModelPool(api, bad as never);
    expect(out.kind).to.equal("invalid");
    if (out.kind === "invalid") {
      expect(out.problems.map((p) => p.path)).to.include("spec.models[0].imageSize");
    }
    expect(fake.requests.filter((r) => r.verb !== "discovery")).to.deep.equal([]);
    expect(fake.inventory()).to.deep.equal([]);
  });

  it("a ModelPool as the API server stores it (CRD defaults filled, server metadata, status) loads and applies", async () => {
    const created = await api.create(
      poolDocument({ capacity: { provider: "karpenter" } }) as never,
    );
    const stored = await api.read(created as never);
    const out = await applyModelPool(api, stored);
    expect(out.kind, JSON.stringify(out.kind === "invalid" ? out.problems : [])).to.equal(
      "applied",
    );
    const [d] = fake.list("apps/v1", "Deployment", "vision");
    const uid = (
      fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo")!.metadata as {
        uid: string;
      }
    ).uid;
    expect(
      (d!.metadata as { ownerReferences: { uid: string }[] }).ownerReferences[0]!.uid,
    ).to.equal(uid);
  });

  it("a valid ModelPool resource is applied with owner references to its uid", async () => {
    const doc = {
      ...poolDocument(),
      metadata: { name: "yolo", namespace: "vision", uid: OWNER_UID },
    };
    const out = await applyModelPool(api, doc as never);
    expect(out.kind).to.equal("applied");
    const [d] = fake.list("apps/v1", "Deployment", "vision");
    expect(
      (d!.metadata as { ownerReferences: { uid: string }[] }).ownerReferences[0]!.uid,
    ).to.equal(OWNER_UID);
  });
});

describe("kube apply: PRUNABLE_KINDS covers every kind render emits", () => {
  const rows: { name: string; policy: () => Policy }[] = [
    { name: "keda engine, Spot, Karpenter", policy: () => pool("karpenter", "keda") },
    { name: "hpa engine, Spot, EKS", policy: () => pool("eks", "hpa") },
    { name: "minimal pool", policy: () => minimalPool() },
    { name: "PodMonitor", policy: () => minimalPool({ monitoring: { monitor: "PodMonitor" } }) },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const kinds = new Set(PRUNABLE_KINDS.map((k) => `${k.apiVersion}/${k.kind}`));
      for (const o of buildPool(row.policy())) {
        expect(kinds.has(`${o.apiVersion}/${o.kind}`), `${o.apiVersion}/${o.kind}`).to.equal(true);
        const namespaced =
          (o.toJSON() as { metadata: { namespace?: string } }).metadata.namespace !== undefined;
        const k = PRUNABLE_KINDS.find((x) => x.apiVersion === o.apiVersion && x.kind === o.kind)!;
        expect(k.namespaced, o.kind).to.equal(namespaced);
      }
    });
  }
});
