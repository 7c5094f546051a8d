import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { expect } from "chai";
import { stringify } from "yaml";
import { packageRoot } from "../../controller/util/package-root.js";
import { BUILTIN_RESOURCES, type FakeKube, startFakeKube } from "../support/fake-kube/index.js";
import { poolDocument } from "../support/pools.js";

/**
 * The fake API server (test/support/fake-kube) driven by the real @kubernetes/client-node
 * and kubectl: what it serves, and — one test each — that it refuses what a real API
 * server refuses, so a lenient fake cannot make the controller's scenarios pass.
 */

type Obj = KubernetesObject & Record<string, unknown>;

/** The HTTP status of a client-node ApiException (or of a fetch error). */
async function statusOf(
  p: Promise<unknown>,
): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: number; body?: unknown };
    const body = typeof err.body === "string" ? JSON.parse(err.body) : (err.body ?? {});
    return { code: err.code ?? -1, body: body as Record<string, unknown> };
  }
  throw new Error("expected the request to fail");
}

function configMap(
  name: string,
  labels: Record<string, string> = {},
  data: Record<string, string> = { k: "v" },
): Obj {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "vision", labels },
    data,
  };
}

/** A Lease whose renewTime is `renewTime` (a preformatted string, as the client sends it). */
function lease(name: string, renewTime: string): Obj {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace: "vision" },
    spec: { holderIdentity: "a", leaseDurationSeconds: 15, renewTime, acquireTime: renewTime },
  };
}

/** Waits (on real socket events, bounded) until `cond` holds. */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("fake Kubernetes API server (real client over loopback HTTP)", () => {
  let fake: FakeKube;
  let api: KubernetesObjectApi;
  beforeEach(async () => {
    fake = await startFakeKube();
    api = KubernetesObjectApi.makeApiClient(fake.kubeConfig("vision"));
  });
  afterEach(async () => {
    await fake.close();
  });

  describe("serves", () => {
    it("discovery: the groups and kinds tritonscale uses, ModelPool from the generated CRD", async () => {
      for (const [apiVersion, kind, namespaced] of [
        ["v1", "Pod", true],
        ["v1", "Event", true],
        ["apps/v1", "Deployment", true],
        ["autoscaling/v2", "HorizontalPodAutoscaler", true],
        ["keda.sh/v1alpha1", "ScaledObject", true],
        ["keda.sh/v1alpha1", "TriggerAuthentication", true],
        ["monitoring.coreos.com/v1", "PrometheusRule", true],
        ["karpenter.sh/v1", "NodePool", false],
        ["coordination.k8s.io/v1", "Lease", true],
        ["discovery.k8s.io/v1", "EndpointSlice", true],
        ["tritonscale.dev/v1alpha1", "ModelPool", true],
      ] as const) {
        const res = await fetch(
          `${fake.url}/${apiVersion.includes("/") ? "apis" : "api"}/${apiVersion}`,
        );
        const doc = (await res.json()) as { resources: { kind: string; namespaced: boolean }[] };
        const r = doc.resources.find((x) => x.kind === kind);
        expect(r, `${apiVersion} ${kind}`).to.not.equal(undefined);
        expect(r!.namespaced, kind).to.equal(namespaced);
      }
    });

    it("every served kind: create, read, list across namespaces, delete through the real client", async () => {
      for (const t of BUILTIN_RESOURCES.filter((x) => x.kind !== "CustomResourceDefinition")) {
        const apiVersion = t.group === "" ? t.version : `${t.group}/${t.version}`;
        const obj = {
          apiVersion,
          kind: t.kind,
          metadata: { name: "x", ...(t.namespaced ? { namespace: "vision" } : {}) },
        } as Obj;
        const name = `${apiVersion} ${t.kind}`;
        await api.create(obj);
        const read = await api.read<Obj>(obj as never);
        expect(read.metadata?.uid, name).to.be.a("string");
        const all = await api.list(apiVersion, t.kind);
        expect(
          all.items.map((i) => i.metadata?.name),
          name,
        ).to.deep.equal(["x"]);
        await api.delete(obj);
        expect(
          fake.get(apiVersion, t.kind, t.namespaced ? "vision" : undefined, "x"),
          name,
        ).to.equal(undefined);
      }
    });

    it("create, read, replace, list by label selector, delete", async () => {
      await api.create(configMap("a", { pool: "yolo", tier: "x" }));
      await api.create(configMap("b", { pool: "yolo" }));
      await api.create(configMap("c", { pool: "other" }));
      const read = await api.read<Obj>({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "a", namespace: "vision" },
      });
      expect(read.data).to.deep.equal({ k: "v" });
      const rows: { selector: string; names: string[] }[] = [
        { selector: "pool=yolo", names: ["a", "b"] },
        { selector: "pool!=yolo", names: ["c"] },
        { selector: "pool in (yolo,other),!tier", names: ["b", "c"] },
        { selector: "tier", names: ["a"] },
      ];
      for (const row of rows) {
        const list = await api.list(
          "v1",
          "ConfigMap",
          "vision",
          undefined,
          undefined,
          undefined,
          undefined,
          row.selector,
        );
        expect(
          list.items.map((i) => i.metadata?.name),
          row.selector,
        ).to.deep.equal(row.names);
      }
      await api.replace({ ...read, data: { k: "w" } });
      expect(fake.get("v1", "ConfigMap", "vision", "a")?.data).to.deep.equal({ k: "w" });
      await api.delete({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "a", namespace: "vision" },
      });
      expect(fake.get("v1", "ConfigMap", "vision", "a")).to.equal(undefined);
      expect(
        (
          await statusOf(
            api.read({
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name: "a", namespace: "vision" },
            }),
          )
        ).code,
      ).to.equal(404);
    });

    it("watch: an informer sees adds, updates and deletes, resumes after a dropped watch and re-lists after 410 Gone", async () => {
      const kc = fake.kubeConfig("vision");
      const core = kc.makeApiClient(CoreV1Api);
      const seen: string[] = [];
      const informer = makeInformer(
        kc,
        "/api/v1/namespaces/vision/configmaps",
        () => core.listNamespacedConfigMap({ namespace: "vision", labelSelector: "pool=yolo" }),
        "pool=yolo",
      );
      informer.on("add", (o) => seen.push(`add ${o.metadata?.name}`));
      informer.on("update", (o) =>
        seen.push(`update ${o.metadata?.name} ${JSON.stringify(o.data)}`),
      );
      informer.on("delete", (o) => seen.push(`delete ${o.metadata?.name}`));
      await api.create(configMap("before", { pool: "yolo" }));
      await informer.start();
      await until(() => fake.watchCount === 1, "the watch");
      await api.create(configMap("a", { pool: "yolo" }));
      await api.create(configMap("ignored", { pool: "other" }));
      await until(() => seen.length === 2, "two adds");
      fake.dropWatches();
      await until(() => fake.watchCount === 1, "the watch to resume");
      await api.patch(
        { ...configMap("a", { pool: "yolo" }), data: { k: "2" } },
        undefined,
        undefined,
        "t",
        true,
        PatchStrategy.ServerSideApply,
      );
      await until(() => seen.length === 3, "the update after the resumed watch");
      const lists = () => fake.requests.filter((r) => r.verb === "list").length;
      const listsBefore = lists();
      fake.compact();
      fake.dropWatches();
      await until(() => lists() > listsBefore && fake.watchCount === 1, "a re-list after 410");
      await api.delete({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "before", namespace: "vision" },
      });
      await until(() => seen.length === 4, "the delete");
      // Relabelled out of the selector: the watch says DELETED.
      await api.patch(
        { ...configMap("a", { pool: "other" }), data: { k: "2" } },
        undefined,
        undefined,
        "t",
        true,
        PatchStrategy.ServerSideApply,
      );
      await until(() => seen.length === 5, "the relabel");
      await informer.stop();
      expect(seen).to.deep.equal([
        "add before",
        "add a",
        'update a {"k":"2"}',
        "delete before",
        "delete a",
      ]);
      expect(fake.requests.some((r) => r.verb === "watch" && r.status === 200)).to.equal(true);
    });

    it("status subresource: /status writes only status, the main resource only the rest; generation counts spec changes", async () => {
      const created = await api.create<Obj>(poolDocument() as Obj);
      expect(created.metadata?.generation).to.equal(1);
      const url = `${fake.url}/apis/tritonscale.dev/v1alpha1/namespaces/vision/modelpools/yolo`;
      const put = (path: string, body: unknown) =>
        fetch(path, {
          method: "PUT",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
      const cur = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo")!;
      let res = await put(`${url}/status`, {
        ...cur,
        spec: { ...(cur.spec as object), slo: { latencyP99Ms: 1 } },
        status: { observedGeneration: 1 },
      });
      expect(res.status).to.equal(200);
      let now = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo")!;
      expect(now.status).to.deep.equal({ observedGeneration: 1 });
      expect((now.spec as { slo: unknown }).slo).to.deep.include({ latencyP99Ms: 85 });
      expect((now.metadata as { generation: number }).generation).to.equal(1);
      res = await put(url, {
        ...now,
        spec: { ...(now.spec as object), slo: { latencyP99Ms: 90 } },
        status: {},
      });
      expect(res.status).to.equal(200);
      now = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo")!;
      expect(now.status).to.deep.equal({ observedGeneration: 1 });
      expect((now.metadata as { generation: number }).generation).to.equal(2);
    });

    it("a /status write never bumps the generation, even of a seeded object stored without its CRD defaults", async () => {
      fake.seed(poolDocument());
      const url = `${fake.url}/apis/tritonscale.dev/v1alpha1/namespaces/vision/modelpools/yolo/status`;
      const res = await fetch(url, {
        method: "PATCH",
        headers: { "Content-Type": "application/merge-patch+json" },
        body: JSON.stringify({ status: { observedGeneration: 1 } }),
      });
      expect(res.status).to.equal(200);
      const now = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo")!;
      expect(now.status).to.deep.equal({ observedGeneration: 1 });
      expect((now.metadata as { generation: number }).generation).to.equal(1);
    });

    it("server-side apply of status (typed client with the apply content type): status only, checked against the CRD", async () => {
      await api.create(poolDocument() as Obj);
      const custom = fake.kubeConfig().makeApiClient(CustomObjectsApi);
      const applyStatus = (status: unknown) =>
        custom.patchNamespacedCustomObjectStatus(
          {
            group: "tritonscale.dev",
            version: "v1alpha1",
            namespace: "vision",
            plural: "modelpools",
            name: "yolo",
            body: {
              apiVersion: "tritonscale.dev/v1alpha1",
              kind: "ModelPool",
              metadata: { name: "yolo", namespace: "vision" },
              spec: { slo: { latencyP99Ms: 1 } },
              status,
            },
            fieldManager: "tritonscale",
            force: true,
          },
          setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
        );
      await applyStatus({ observedGeneration: 1, readyReplicas: 2 });
      const stored = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo")!;
      expect(stored.status).to.deep.equal({ observedGeneration: 1, readyReplicas: 2 });
      expect((stored.spec as { slo: unknown }).slo).to.deep.include({ latencyP99Ms: 85 });
      const meta = stored.metadata as {
        generation: number;
        managedFields: { manager: string; subresource?: string }[];
      };
      expect(meta.generation).to.equal(1);
      expect(meta.managedFields.map((m) => `${m.manager}/${m.subresource ?? ""}`)).to.include(
        "tritonscale/status",
      );
      const bad = await statusOf(applyStatus({ readyReplicas: -1 }));
      expect(bad.code).to.equal(422);
      expect(String(bad.body.message)).to.contain("status.readyReplicas");
    });

    it("server-side apply: managed fields per manager, conflicts without force, removal of fields no longer applied, no-op keeps the resourceVersion", async () => {
      const apply = (o: Obj, manager: string, force: boolean) =>
        api.patch<Obj>(o, undefined, undefined, manager, force, PatchStrategy.ServerSideApply);
      const first = await apply(
        configMap("a", { x: "1" }, { k: "v", drop: "me" }),
        "tritonscale",
        true,
      );
      const again = await apply(
        configMap("a", { x: "1" }, { k: "v", drop: "me" }),
        "tritonscale",
        true,
      );
      expect(again.metadata?.resourceVersion).to.equal(first.metadata?.resourceVersion);
      const conflict = await statusOf(apply(configMap("a", {}, { k: "other" }), "someone", false));
      expect(conflict.code).to.equal(409);
      expect(String(conflict.body.message)).to.contain('conflict with "tritonscale": .data.k');
      await apply({ ...configMap("a", {}, {}), data: { extra: "1" } }, "someone", false);
      const shrunk = await apply(configMap("a", { x: "1" }, { k: "v" }), "tritonscale", true);
      expect(shrunk.data).to.deep.equal({ k: "v", extra: "1" });
      const managers = (shrunk.metadata?.managedFields ?? []).map(
        (m) => `${m.manager}:${m.operation}`,
      );
      expect(managers).to.deep.equal(["tritonscale:Apply", "someone:Apply"]);
      const forced = await apply(configMap("a", {}, { k: "taken" }), "someone", true);
      // `someone` no longer applies `extra`: it is removed; `k` moved to `someone`.
      expect(forced.data).to.deep.equal({ k: "taken" });
      const ours = forced.metadata?.managedFields?.find((m) => m.manager === "tritonscale");
      expect(ours?.fieldsV1).to.deep.equal({ "f:metadata": { "f:labels": { "f:x": {} } } });
    });
  });

  it("re-applying a ModelPool unchanged is a no-op: the defaults the server filled in do not count as a change", async () => {
    const apply = () =>
      api.patch<Obj>(
        poolDocument() as Obj,
        undefined,
        undefined,
        "tritonscale",
        true,
        PatchStrategy.ServerSideApply,
      );
    const first = await apply();
    const second = await apply();
    expect(second.metadata?.resourceVersion).to.equal(first.metadata?.resourceVersion);
    expect(second.metadata?.generation).to.equal(1);
  });

  describe("faults", () => {
    it("the next N matching requests get the injected status (with Retry-After), then it serves again", async () => {
      const f = fake.inject({
        status: 429,
        times: 2,
        retryAfterSeconds: 3,
        match: (r) => r.verb === "create",
      });
      for (let i = 0; i < 2; i++) {
        const r = await statusOf(api.create(configMap("a")));
        expect(r.code).to.equal(429);
        expect(r.body.reason).to.equal("TooManyRequests");
      }
      await api.create(configMap("a"));
      expect(f.hits).to.equal(2);
      const ex = fake.requests.filter((r) => r.verb === "create").map((r) => r.status);
      expect(ex).to.deep.equal([429, 429, 201]);
    });

    it("a slow response waits delayMs; a 410 on a watch is an ERROR event", async () => {
      fake.inject({ delayMs: 50, match: (r) => r.verb === "list" });
      const t0 = Date.now();
      await api.list("v1", "ConfigMap", "vision");
      expect(Date.now() - t0).to.be.at.least(45);
      fake.inject({ status: 410, match: (r) => r.verb === "watch" });
      const res = await fetch(
        `${fake.url}/api/v1/namespaces/vision/configmaps?watch=true&resourceVersion=1`,
      );
      expect(res.status).to.equal(200);
      const ev = JSON.parse((await res.text()).trim()) as {
        type: string;
        object: { code: number };
      };
      expect(ev.type).to.equal("ERROR");
      expect(ev.object.code).to.equal(410);
    });

    it("a reset drops the connection without an answer; bookmarks reach watches that allow them", async () => {
      fake.inject({ reset: true, match: (r) => r.verb === "get" });
      const err = await fetch(`${fake.url}/api/v1/namespaces/vision/configmaps/a`).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).to.be.instanceOf(Error);
      expect(fake.requests.at(-1)?.status).to.equal(0);
      const res = await fetch(
        `${fake.url}/api/v1/namespaces/vision/configmaps?watch=true&allowWatchBookmarks=true`,
      );
      await until(() => fake.watchCount === 1, "the watch");
      await api.create(configMap("a"));
      fake.bookmark();
      fake.dropWatches();
      const lines = (await res.text())
        .trim()
        .split("\n")
        .map(
          (l) =>
            JSON.parse(l) as { type: string; object: { metadata: { resourceVersion: string } } },
        );
      expect(lines.map((l) => l.type)).to.deep.equal(["ADDED", "BOOKMARK"]);
      expect(lines[1]!.object.metadata.resourceVersion).to.equal(fake.resourceVersion);
    });
  });

  it("built-in admission: a Deployment's replicas default to 1 and its selector is immutable; a Service keeps its allocated clusterIP", async () => {
    const deployment = (app: string): Obj => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d", namespace: "vision" },
      spec: {
        selector: { matchLabels: { app } },
        template: {
          metadata: { labels: { app } },
          spec: { containers: [{ name: "c", image: "i" }] },
        },
      },
    });
    const apply = (o: Obj) =>
      api.patch<Obj>(o, undefined, undefined, "t", true, PatchStrategy.ServerSideApply);
    const d = await apply(deployment("a"));
    expect((d.spec as { replicas: number }).replicas).to.equal(1);
    const changed = await statusOf(apply(deployment("b")));
    expect(changed.code).to.equal(422);
    expect(String(changed.body.message)).to.contain("spec.selector");
    const svc = (clusterIP?: string): Obj => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "s", namespace: "vision" },
      spec: { ports: [{ port: 80 }], ...(clusterIP ? { clusterIP } : {}) },
    });
    const s1 = await apply(svc());
    const ip = (s1.spec as { clusterIP: string }).clusterIP;
    expect(ip).to.match(/^10\.96\./);
    const s2 = await apply(svc());
    expect((s2.spec as { clusterIP: string }).clusterIP).to.equal(ip);
    expect(s2.metadata?.resourceVersion).to.equal(s1.metadata?.resourceVersion);
    expect((await statusOf(apply(svc("10.0.0.9")))).code).to.equal(422);
  });

  describe("rejects what a real API server rejects", () => {
    it("an apply PATCH with the wrong content type: 415 (and the typed client's default json-patch type is refused)", async () => {
      const url = `${fake.url}/api/v1/namespaces/vision/configmaps/a?fieldManager=tritonscale&force=true`;
      const res = await fetch(url, {
        method: "PATCH",
        headers: { "Content-Type": "application/yaml" },
        body: stringify(configMap("a")),
      });
      expect(res.status).to.equal(415);
      expect(((await res.json()) as { reason: string }).reason).to.equal("UnsupportedMediaType");
      const core = fake.kubeConfig().makeApiClient(CoreV1Api);
      const typed = await statusOf(
        core.patchNamespacedConfigMap({
          name: "a",
          namespace: "vision",
          body: configMap("a"),
          fieldManager: "tritonscale",
          force: true,
        }),
      );
      expect(typed.code).to.be.oneOf([400, 415, 422]);
      expect(fake.get("v1", "ConfigMap", "vision", "a")).to.equal(undefined);
    });

    it("an update with a stale resourceVersion: 409 Conflict (a ConfigMap, and a Lease as leader election updates it)", async () => {
      const created = await api.create<Obj>(configMap("a"));
      await api.replace<Obj>({ ...created, data: { k: "newer" } });
      const stale = await statusOf(api.replace({ ...created, data: { k: "stale" } }));
      expect(stale.code).to.equal(409);
      expect(stale.body.reason).to.equal("Conflict");
      expect(fake.get("v1", "ConfigMap", "vision", "a")?.data).to.deep.equal({ k: "newer" });
      // Two candidates read the same Lease; the first renewal wins, the second gets 409.
      const l = await api.create<Obj>(lease("leader", "2026-01-02T03:04:05.000000Z"));
      const renew = (holder: string) => ({
        ...l,
        spec: {
          ...(l.spec as object),
          holderIdentity: holder,
          renewTime: "2026-01-02T03:04:09.000000Z",
        },
      });
      await api.replace(renew("b"));
      const second = await statusOf(api.replace(renew("c")));
      expect(second.code).to.equal(409);
      const stored = fake.get("coordination.k8s.io/v1", "Lease", "vision", "leader")!;
      expect((stored.spec as { holderIdentity: string }).holderIdentity).to.equal("b");
    });

    it("a Lease whose MicroTime has 3 fractional digits (a serialized Date): 400; 6 digits are accepted", async () => {
      const bad = await statusOf(api.create(lease("l", "2026-01-02T03:04:05.123Z")));
      expect(bad.code).to.equal(400);
      const coord = fake.kubeConfig().makeApiClient(CoordinationV1Api);
      const typed = await statusOf(
        coord.createNamespacedLease({
          namespace: "vision",
          body: { metadata: { name: "l" }, spec: { renewTime: new Date(0), holderIdentity: "a" } },
        }),
      );
      expect(typed.code, "the typed client serializes a Date with 3 digits").to.equal(400);
      expect(fake.get("coordination.k8s.io/v1", "Lease", "vision", "l")).to.equal(undefined);
      await api.create(lease("l", "2026-01-02T03:04:05.123456Z"));
      expect(fake.get("coordination.k8s.io/v1", "Lease", "vision", "l")).to.not.equal(undefined);
    });

    it("a ModelPool failing the generated CRD's openAPIV3Schema: 422 naming the field; a valid one is stored with its defaults", async () => {
      const bad = poolDocument({}, { imageSize: "big" }) as Obj;
      for (const strategy of ["create", "apply"] as const) {
        const p =
          strategy === "create"
            ? api.create(bad)
            : api.patch(
                bad,
                undefined,
                undefined,
                "tritonscale",
                true,
                PatchStrategy.ServerSideApply,
              );
        const r = await statusOf(p);
        expect(r.code, strategy).to.equal(422);
        expect(String(r.body.message)).to.contain("spec.models[0].imageSize");
      }
      const strict = await statusOf(
        fetch(
          `${fake.url}/apis/tritonscale.dev/v1alpha1/namespaces/vision/modelpools?fieldValidation=Strict`,
          {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(poolDocument({ surprise: 1 })),
          },
        ).then(async (res) => {
          if (res.status >= 400) throw { code: res.status, body: await res.text() };
        }),
      );
      expect(strict.code).to.equal(422);
      expect(String(strict.body.message)).to.contain("spec.surprise");
      expect(fake.list("tritonscale.dev/v1alpha1", "ModelPool")).to.have.length(0);
      await api.create(poolDocument() as Obj);
      const [stored] = fake.list("tritonscale.dev/v1alpha1", "ModelPool");
      // Stored with the schema's defaults filled in, as the API server does.
      expect((stored!.spec as { slo: unknown }).slo).to.deep.equal({
        latencyP99Ms: 85,
        targetAttainment: 0.995,
        window: "1m",
      });
    });
  });

  describe("kubectl", () => {
    const kubectl = process.env.KUBECTL ?? findOnPath("kubectl");
    it("round-trips a ModelPool with kubectl apply --server-side and get -o yaml (--validate=false: no /openapi)", async function () {
      if (kubectl === undefined) {
        console.log("      (skipped: kubectl is not installed; apt-get install kubernetes-client)");
        this.skip();
      }
      const dir = mkdtempSync(join(tmpdir(), "fake-kube-"));
      try {
        const config = join(dir, "kubeconfig");
        writeFileSync(config, fake.kubeConfigYaml("vision"));
        const pool = join(packageRoot, "examples", "yolov8-pool.yaml");
        const run = (args: string[]) => spawnAsync(kubectl!, ["--kubeconfig", config, ...args]);
        const applied = await run(["apply", "--server-side", "--validate=false", "-f", pool]);
        expect(applied.status, applied.stderr).to.equal(0);
        expect(applied.stdout).to.contain(
          "modelpool.tritonscale.dev/yolo-detect serverside-applied",
        );
        const got = await run(["get", "modelpool", "yolo-detect", "-n", "vision", "-o", "yaml"]);
        expect(got.status, got.stderr).to.equal(0);
        // (kubectl 1.20 has no --show-managed-fields: they are checked in the store)
        expect(got.stdout).to.contain("name: yolo-detect");
        expect(got.stdout).to.contain("latencyP99Ms: 85");
        const stored = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo-detect")!;
        expect((stored.spec as { slo: unknown }).slo).to.deep.include({ latencyP99Ms: 85 });
        const managers = (stored.metadata as { managedFields: { manager: string }[] })
          .managedFields;
        expect(managers.map((m) => m.manager)).to.deep.equal(["kubectl"]);
        const again = await run(["apply", "--server-side", "--validate=false", "-f", pool]);
        expect(again.status, again.stderr).to.equal(0);
        const after = fake.get("tritonscale.dev/v1alpha1", "ModelPool", "vision", "yolo-detect")!;
        expect(after.metadata).to.deep.include({
          resourceVersion: (stored.metadata as { resourceVersion: string }).resourceVersion,
        });
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

/** Runs a command without blocking the event loop (the fake server answers it). */
function spawnAsync(
  cmd: string,
  args: string[],
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill(), 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}
