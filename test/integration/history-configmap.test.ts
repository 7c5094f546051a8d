import { KubernetesObjectApi } from "@kubernetes/client-node";
import { expect } from "chai";
import { applyPool, deletePoolObjects } from "../../controller/kube/apply.js";
import {
  buildHistoryConfigMap,
  ConfigMapHistoryStore,
  HISTORY_COMPONENT,
  HISTORY_KEY,
  HISTORY_LABEL,
  historyConfigMapName,
} from "../../controller/kube/history-configmap.js";
import { CONTROLLER_PERMISSIONS } from "../../controller/kube/install/rbac.js";
import { poolLabels } from "../../controller/kube/render/labels.js";
import { HISTORY_MAX_BYTES } from "../../controller/loop/history.js";
import type { PoolRef } from "../../controller/loop/ports.js";
import { type FakeKube, startFakeKube } from "../support/fake-kube/index.js";
import { minimalPool, poolDocument } from "../support/pools.js";

/**
 * The scaler history's ConfigMap store (controller/kube/history-configmap.ts) with the real
 * client against the fake API server: round trip, labels and owner, server-side apply by
 * `tritonscale`, never pruned, gone with its ModelPool, errors naming the ConfigMap, and only
 * verbs the controller's RBAC grants.
 */

const UID = "0b5d0c8e-0000-4000-8000-00000000abcd";
const POOL: PoolRef = { namespace: "vision", name: "yolo" };
const NAME = "yolo-tritonscale-history";
type Json = Record<string, unknown>;

describe("kube history ConfigMap: a pool's learned history in its namespace (fake API server)", () => {
  let fake: FakeKube;
  let store: ConfigMapHistoryStore;
  beforeEach(async () => {
    fake = await startFakeKube();
    store = ConfigMapHistoryStore.fromKubeConfig(fake.kubeConfig("vision"), {
      sleep: async () => undefined,
    });
  });
  afterEach(async () => {
    await fake.close();
  });

  const cm = () => fake.get("v1", "ConfigMap", "vision", NAME) as Json | undefined;

  it("loads nothing before a save; saves and loads back the same text; a save replaces it", async () => {
    expect(await store.load(POOL)).to.equal(undefined);
    const text = "tritonscale-history v1\n0 1 2 3 é ∞\n";
    store.setOwner(POOL, UID);
    await store.save(POOL, text);
    expect(await store.load(POOL)).to.equal(text);
    await store.save(POOL, "second");
    expect(await store.load(POOL)).to.equal("second");
    expect((cm()!.data as Json)[HISTORY_KEY]).to.equal("second");
  });

  it("is named <pool>-tritonscale-history, carries the pool's labels and the history label, is owned by the ModelPool, and applied by tritonscale", async () => {
    store.setOwner(POOL, UID);
    await store.save(POOL, "h");
    const meta = cm()!.metadata as Json;
    expect(historyConfigMapName("yolo")).to.equal(NAME);
    expect(meta.labels).to.deep.equal({
      ...poolLabels(minimalPool(), HISTORY_COMPONENT),
      [HISTORY_LABEL]: "true",
    });
    expect(meta.ownerReferences).to.deep.equal([
      {
        apiVersion: "tritonscale.dev/v1alpha1",
        kind: "ModelPool",
        name: "yolo",
        uid: UID,
        controller: true,
        blockOwnerDeletion: false,
      },
    ]);
    const managers = (meta.managedFields as Json[]).map((f) => `${f.manager} ${f.operation}`);
    expect(managers).to.deep.equal(["tritonscale Apply"]);
    const applies = fake.requests.filter((r) => r.resource === "configmaps" && r.verb === "patch");
    expect(
      applies.map((r) => [r.contentType, r.query.get("fieldManager"), r.query.get("force")]),
    ).to.deep.equal([["application/apply-patch+yaml", "tritonscale", "true"]]);
  });

  it("without a known owner uid it is saved without an owner reference", async () => {
    await store.save(POOL, "h");
    expect((cm()!.metadata as Json).ownerReferences).to.equal(undefined);
    expect(buildHistoryConfigMap(POOL, "h", undefined).metadata?.ownerReferences).to.equal(
      undefined,
    );
  });

  it("is never pruned: applying the pool again, or deleting a pool file's objects, keeps it", async () => {
    const policy = minimalPool();
    const owner = {
      apiVersion: "tritonscale.dev/v1alpha1",
      kind: "ModelPool",
      name: "yolo",
      namespace: "vision",
      uid: UID,
    };
    store.setOwner(POOL, UID);
    await store.save(POOL, "learned");
    const report = await applyPool(
      KubernetesObjectApi.makeApiClient(fake.kubeConfig("vision")),
      policy,
      owner,
    );
    expect(report.pruned).to.deep.equal([]);
    expect(cm(), "kept by a prune").not.to.equal(undefined);
    await deletePoolObjects(KubernetesObjectApi.makeApiClient(fake.kubeConfig("vision")), owner);
    expect(cm(), "kept when the pool's objects are removed").not.to.equal(undefined);
  });

  it("goes with its ModelPool (the owner reference)", async () => {
    const doc = poolDocument();
    fake.seed({ ...doc, metadata: { ...(doc.metadata as Json), uid: UID } });
    store.setOwner(POOL, UID);
    await store.save(POOL, "h");
    const api = KubernetesObjectApi.makeApiClient(fake.kubeConfig("vision"));
    await api.delete({
      apiVersion: "tritonscale.dev/v1alpha1",
      kind: "ModelPool",
      metadata: { name: "yolo", namespace: "vision" },
    });
    expect(cm()).to.equal(undefined);
  });

  it(`refuses a history over ${HISTORY_MAX_BYTES} bytes before sending anything`, async () => {
    const before = fake.requests.length;
    const err = await store.save(POOL, "x".repeat(HISTORY_MAX_BYTES + 1)).catch((e: Error) => e);
    expect((err as Error).message).to.equal(
      `saving the history of vision/yolo in ConfigMap vision/${NAME}: ${HISTORY_MAX_BYTES + 1} bytes is more than the ${HISTORY_MAX_BYTES} a history may take`,
    );
    expect(fake.requests.length).to.equal(before);
    // Exactly the limit fits.
    await store.save(POOL, "x".repeat(HISTORY_MAX_BYTES));
    expect(((await store.load(POOL)) ?? "").length).to.equal(HISTORY_MAX_BYTES);
  });

  const failures = [
    {
      name: "forbidden save",
      op: "save",
      status: 403,
      tries: 1,
      says: /^saving the history of vision\/yolo in ConfigMap vision\/yolo-tritonscale-history: 403 Forbidden/,
    },
    {
      name: "forbidden load",
      op: "load",
      status: 403,
      tries: 1,
      says: /^loading the history of vision\/yolo from ConfigMap vision\/yolo-tritonscale-history: 403 Forbidden/,
    },
    {
      name: "API server down (3 tries)",
      op: "load",
      status: 503,
      tries: 3,
      says: /503.*\(after 3 tries\)$/,
    },
  ] as const;
  for (const row of failures) {
    it(`a ${row.name} rejects with an error naming the ConfigMap`, async () => {
      const fault = fake.inject({
        match: (r) => r.resource === "configmaps",
        status: row.status,
        times: Number.POSITIVE_INFINITY,
      });
      const call = row.op === "save" ? store.save(POOL, "h") : store.load(POOL);
      const err = await call.then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.match(row.says);
      expect(fault.hits).to.equal(row.tries);
    });
  }

  it("uses only verbs the controller's RBAC grants on configmaps", async () => {
    store.setOwner(POOL, UID);
    await store.load(POOL);
    await store.save(POOL, "a");
    await store.save(POOL, "b");
    await store.load(POOL);
    const used = new Set(
      fake.requests.filter((r) => r.resource === "configmaps").map((r) => r.verb),
    );
    // An apply that creates the object is authorized as create as well as patch.
    used.add("create");
    const granted = new Set(
      CONTROLLER_PERMISSIONS.filter(
        (p) => p.apiGroup === "" && p.resources.includes("configmaps"),
      ).flatMap((p) => p.verbs),
    );
    expect([...used].sort()).to.deep.equal(["create", "get", "patch"]);
    for (const verb of used) expect(granted.has(verb), verb).to.equal(true);
  });
});
