/**
 * Server-side apply of a pool's rendered objects, and pruning of the ones a new render no
 * longer has.
 *
 * - Every object `buildPool` renders is applied with one PATCH
 *   (`application/apply-patch+yaml`, `fieldManager=tritonscale`, `force=true`) through
 *   `KubernetesObjectApi.patch(..., PatchStrategy.ServerSideApply)` — the typed `patch*`
 *   methods of client-node 1.x send the wrong content type.
 * - Namespaced objects get an owner reference to the ModelPool (controller, blocking owner
 *   deletion), so deleting the pool deletes them. Cluster-scoped objects (the Karpenter
 *   NodePool) cannot have a namespaced owner: they carry the pool's labels plus
 *   {@link POOL_NAMESPACE_LABEL}.
 * - Prune: of the kinds in {@link PRUNABLE_KINDS} (every kind render can emit), an object is
 *   deleted only when it carries the pool's labels (`tritonscale.dev/pool`,
 *   `app.kubernetes.io/managed-by: tritonscale`, and for cluster-scoped ones the pool's
 *   namespace label), has fields applied by our field manager, is owned by this ModelPool
 *   (namespaced ones, when the pool has a uid), and is not in the new render. Nothing else
 *   is ever deleted. Pruning runs only after every apply succeeded.
 * - Retries (retry.ts): 409 → re-read and re-apply; 429/5xx/timeouts/dropped connections →
 *   exponential backoff with jitter; bounded. Errors name the object:
 *   `applying ScaledObject vision/yolo: 409 Conflict: …`.
 * - Apply is idempotent: applying the same render twice changes nothing (the API server
 *   keeps the resourceVersion of a no-op apply), so a restart mid-reconcile converges.
 * - Deployments carry no `spec.replicas` (render leaves it to the ScaledObject/HPA); apply
 *   refuses one that does, so the controller can never fight the autoscaler.
 */
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from "@kubernetes/client-node";
import { InputError, type Problem } from "../diagnostics/problem.js";
import { type Policy, parseModelPoolObject } from "../policy/index.js";
import { buildPool, type KubeObject } from "./render/index.js";
import { FIELD_MANAGER, POOL_LABEL } from "./render/labels.js";
import { type RetryOptions, type RetryStats, retryStats, withRetries } from "./retry.js";

/** Label on cluster-scoped objects naming the namespace of the pool they belong to. */
export const POOL_NAMESPACE_LABEL = "tritonscale.dev/pool-namespace";

/** The managed-by label every rendered object carries (render/labels.ts). */
const MANAGED_BY = "app.kubernetes.io/managed-by";

/** The ModelPool an applied object belongs to (owner references need its uid). */
export interface PoolOwner {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  /** metadata.uid of the ModelPool; without one (pools from files) there are no owner references. */
  readonly uid?: string;
}

/**
 * Every kind `buildPool` can emit, by apiVersion, kind and scope: the kinds pruning looks
 * at. A test checks that render emits nothing outside this list.
 */
export const PRUNABLE_KINDS: readonly {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespaced: boolean;
}[] = [
  { apiVersion: "karpenter.sh/v1", kind: "NodePool", namespaced: false },
  { apiVersion: "apps/v1", kind: "Deployment", namespaced: true },
  { apiVersion: "v1", kind: "Service", namespaced: true },
  { apiVersion: "policy/v1", kind: "PodDisruptionBudget", namespaced: true },
  { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", namespaced: true },
  { apiVersion: "monitoring.coreos.com/v1", kind: "PodMonitor", namespaced: true },
  { apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", namespaced: true },
  { apiVersion: "v1", kind: "ConfigMap", namespaced: true },
  { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", namespaced: true },
  { apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", namespaced: true },
  { apiVersion: "keda.sh/v1alpha1", kind: "TriggerAuthentication", namespaced: true },
];

/** The calls apply makes; `KubernetesObjectApi` has them. */
export type ObjectClient = Pick<KubernetesObjectApi, "patch" | "read" | "list" | "delete">;

/** A client for {@link applyPool} from a KubeConfig. */
export function createObjectClient(kc: KubeConfig): ObjectClient {
  return KubernetesObjectApi.makeApiClient(kc);
}

/** Options of {@link applyPool}. */
export interface ApplyOptions {
  /** Field manager. @default "tritonscale" */
  readonly fieldManager?: string;
  /** Retries of each call (attempts, backoff, jitter and sleep are injectable). */
  readonly retry?: RetryOptions;
  /** Skip pruning (e.g. a dry run of a partial render). @default false */
  readonly noPrune?: boolean;
}

/** One object applied or pruned. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** resourceVersion the API server answered (applied objects). */
  readonly resourceVersion?: string;
}

/** What {@link applyPool} did. */
export interface ApplyReport {
  readonly applied: readonly ObjectRef[];
  readonly pruned: readonly ObjectRef[];
  /** Calls, conflicts, transient failures and backoff over the whole apply. */
  readonly stats: RetryStats;
}

/** `Kind namespace/name` (or `Kind name` when cluster-scoped), for messages. */
export function describeObject(o: {
  kind?: string;
  metadata?: { namespace?: string; name?: string };
}): string {
  const m = o.metadata ?? {};
  return `${o.kind} ${m.namespace ? `${m.namespace}/` : ""}${m.name}`;
}

type Manifest = KubernetesObject & Record<string, unknown>;

/**
 * The objects to apply for a pool: the render as plain JSON, with owner references
 * (namespaced objects, when the owner has a uid) or the pool-namespace label
 * (cluster-scoped objects).
 */
export function buildApplySet(objects: readonly KubeObject[], owner: PoolOwner): Manifest[] {
  return objects.map((o) => {
    const json = JSON.parse(JSON.stringify(o.toJSON())) as Manifest;
    const meta = json.metadata ?? {};
    if (
      json.kind === "Deployment" &&
      (json.spec as { replicas?: unknown })?.replicas !== undefined
    ) {
      throw new Error(
        `${describeObject(json)} sets spec.replicas: a Deployment scaled by a ScaledObject or HPA must leave it out`,
      );
    }
    if (meta.namespace !== undefined) {
      if (owner.uid !== undefined) {
        meta.ownerReferences = [
          {
            apiVersion: owner.apiVersion,
            kind: owner.kind,
            name: owner.name,
            uid: owner.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ];
      }
    } else {
      meta.labels = { ...meta.labels, [POOL_NAMESPACE_LABEL]: owner.namespace };
    }
    json.metadata = meta;
    return json;
  });
}

const keyOf = (o: {
  apiVersion?: string;
  kind?: string;
  metadata?: KubernetesObject["metadata"];
}) => `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;

/**
 * Server-side applies every object of `policy`'s render, then prunes what the render no
 * longer has (see the module comment). Throws a {@link KubeCallError} naming the object
 * when a call fails for good; nothing is pruned then.
 */
export function applyPool(
  client: ObjectClient,
  policy: Policy,
  owner: PoolOwner,
  options: ApplyOptions = {},
): Promise<ApplyReport> {
  return applyRendered(client, policy, buildPool(policy), owner, options);
}

async function applyRendered(
  client: ObjectClient,
  policy: Policy,
  objects: readonly KubeObject[],
  owner: PoolOwner,
  options: ApplyOptions,
): Promise<ApplyReport> {
  const manifests = buildApplySet(objects, owner);
  const manager = options.fieldManager ?? FIELD_MANAGER;
  const stats = retryStats();
  const applied: ObjectRef[] = [];
  for (const m of manifests) {
    const action = `applying ${describeObject(m)}`;
    const result = await withRetries(
      action,
      () => client.patch(m, undefined, undefined, manager, true, PatchStrategy.ServerSideApply),
      options.retry,
      {
        stats,
        // Re-read, so the next try is made against the object as it is now (a forced apply
        // needs nothing from it, but a 404 or an error shows up here rather than later).
        onConflict: async () => {
          await client.read({
            apiVersion: m.apiVersion,
            kind: m.kind,
            metadata: { name: m.metadata!.name!, namespace: m.metadata!.namespace },
          } as never);
        },
      },
    );
    applied.push({
      apiVersion: m.apiVersion!,
      kind: m.kind!,
      ...(m.metadata?.namespace ? { namespace: m.metadata.namespace } : {}),
      name: m.metadata!.name!,
      ...(result.metadata?.resourceVersion
        ? { resourceVersion: result.metadata.resourceVersion }
        : {}),
    });
  }
  const pruned = options.noPrune
    ? []
    : await prunePool(
        client,
        policy,
        owner,
        new Set(manifests.map(keyOf)),
        manager,
        options,
        stats,
      );
  return { applied, pruned, stats };
}

/** Whether `o` was applied by `manager` (a managedFields entry of operation Apply). */
function appliedBy(o: KubernetesObject, manager: string): boolean {
  return (o.metadata?.managedFields ?? []).some(
    (f) => f.manager === manager && f.operation === "Apply",
  );
}

async function prunePool(
  client: ObjectClient,
  policy: Policy,
  owner: PoolOwner,
  keep: ReadonlySet<string>,
  manager: string,
  options: ApplyOptions,
  stats: RetryStats,
): Promise<ObjectRef[]> {
  const out: ObjectRef[] = [];
  const ns = policy.metadata.namespace;
  const base = `${POOL_LABEL}=${policy.metadata.name},${MANAGED_BY}=tritonscale`;
  for (const k of PRUNABLE_KINDS) {
    const selector = k.namespaced ? base : `${base},${POOL_NAMESPACE_LABEL}=${ns}`;
    let list: KubernetesListObject<KubernetesObject>;
    try {
      list = await withRetries(
        `listing ${k.kind} of pool ${ns}/${policy.metadata.name} for pruning`,
        () =>
          client.list(
            k.apiVersion,
            k.kind,
            k.namespaced ? ns : undefined,
            undefined,
            undefined,
            undefined,
            undefined,
            selector,
          ),
        options.retry,
        { stats },
      );
    } catch (err) {
      // A kind the cluster does not serve (no KEDA, no Karpenter) has nothing to prune.
      if (notServed(err)) continue;
      throw err;
    }
    for (const item of list.items) {
      const o = { ...item, apiVersion: k.apiVersion, kind: k.kind };
      if (keep.has(keyOf(o))) continue;
      if (!appliedBy(o, manager)) continue;
      if (k.namespaced) {
        if (o.metadata?.namespace !== ns) continue;
        if (owner.uid !== undefined) {
          const owned = (o.metadata?.ownerReferences ?? []).some((r) => r.uid === owner.uid);
          if (!owned) continue;
        }
      }
      const ref = {
        apiVersion: k.apiVersion,
        kind: k.kind,
        metadata: { name: o.metadata!.name!, ...(k.namespaced ? { namespace: ns } : {}) },
      };
      try {
        await withRetries(
          `pruning ${describeObject(ref)}`,
          () => client.delete(ref, undefined, undefined, undefined, undefined, "Background"),
          options.retry,
          { stats },
        );
      } catch (err) {
        // Already gone (deleted by someone else, or by garbage collection): pruned.
        if (!isNotFound(err)) throw err;
      }
      out.push({
        apiVersion: k.apiVersion,
        kind: k.kind,
        ...(k.namespaced ? { namespace: ns } : {}),
        name: o.metadata!.name!,
      });
    }
  }
  return out;
}

function isNotFound(err: unknown): boolean {
  return (err as { failure?: { code?: number } }).failure?.code === 404;
}

/** The API server does not serve the kind at all (discovery found no such group/kind). */
function notServed(err: unknown): boolean {
  if (isNotFound(err)) return true;
  const msg = String((err as { message?: unknown }).message ?? "");
  return /Unrecognized API version and kind|Failed to fetch resource metadata/.test(msg);
}

/** What {@link applyModelPool} did with a ModelPool custom resource. */
export type ModelPoolApply =
  | { readonly kind: "applied"; readonly policy: Policy; readonly report: ApplyReport }
  /** The pool failed validation: nothing was applied or pruned. */
  | { readonly kind: "invalid"; readonly problems: readonly Problem[] };

/**
 * Loads a ModelPool custom resource through the same loader as a file, and applies it.
 * An invalid pool (or one whose render is refused) applies nothing and returns its
 * problems, for the status condition and the Event.
 */
export async function applyModelPool(
  client: ObjectClient,
  resource: KubernetesObject,
  options: ApplyOptions = {},
): Promise<ModelPoolApply> {
  const meta = resource.metadata ?? {};
  const origin = `modelpool ${meta.namespace ?? ""}/${meta.name ?? ""}`;
  const result = parseModelPoolObject(resource, origin);
  if (!result.policy) return { kind: "invalid", problems: result.problems };
  const owner: PoolOwner = {
    apiVersion: resource.apiVersion ?? "tritonscale.dev/v1alpha1",
    kind: resource.kind ?? "ModelPool",
    name: result.policy.metadata.name,
    namespace: result.policy.metadata.namespace,
    ...(meta.uid ? { uid: meta.uid } : {}),
  };
  let objects: KubeObject[];
  try {
    objects = buildPool(result.policy);
  } catch (err) {
    if (err instanceof InputError) return { kind: "invalid", problems: err.problems };
    throw err;
  }
  const report = await applyRendered(client, result.policy, objects, owner, options);
  return { kind: "applied", policy: result.policy, report };
}
