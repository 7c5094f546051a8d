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
 *   is ever deleted, and a pool's scaler history ConfigMap (history-configmap.ts) never is.
 *   Pruning runs only after every apply succeeded.
 * - Retries (retry.ts): 409 → re-read and re-apply; 429/5xx/timeouts/dropped connections →
 *   exponential backoff with jitter; bounded. Errors name the object:
 *   `applying ScaledObject vision/yolo: 409 Conflict: …`.
 * - Apply is idempotent: applying the same render twice changes nothing (the API server
 *   keeps the resourceVersion of a no-op apply), so a restart mid-reconcile converges.
 * - Deployments carry no `spec.replicas` (render leaves it to the ScaledObject/HPA); apply
 *   refuses one that does, so the controller can never fight the autoscaler.
 *
 * Entry points: {@link applyModelPool} (a custom resource: load, render, apply; an invalid
 * pool applies nothing), {@link applyPool} (a loaded policy), {@link applyPools} (a full
 * reconcile of many pools, pruned with one list per kind), {@link deletePoolObjects} (a
 * pool that is gone).
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
import { HISTORY_LABEL } from "./history-configmap.js";
import { buildPool, type KubeObject } from "./render/index.js";
import { FIELD_MANAGER, POOL_LABEL } from "./render/labels.js";
import {
  isNotFound,
  type RetryOptions,
  type RetryStats,
  retryStats,
  withRetries,
} from "./retry.js";

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
  /**
   * Asked before every write (apply or prune); when it says false the apply stops with a
   * {@link ApplyStopped} error, so that a replica that lost the Lease mid-apply writes
   * nothing more. @default always true
   */
  readonly mayWrite?: () => boolean;
}

/** An apply stopped because {@link ApplyOptions.mayWrite} said no (e.g. leadership lost). */
export class ApplyStopped extends Error {
  constructor(action: string) {
    super(`${action}: stopped, this replica may no longer write (not the leader)`);
    this.name = "ApplyStopped";
  }
}

/**
 * Throws {@link ApplyStopped} when the replica may no longer write. Thrown inside a
 * {@link withRetries} call it is permanent (no retry); {@link stoppedCause} unwraps it.
 */
function checkMayWrite(options: ApplyOptions, action: string): void {
  if (options.mayWrite?.() === false) throw new ApplyStopped(action);
}

/** The {@link ApplyStopped} behind a failed call, so it is thrown as itself. */
function stoppedCause(err: unknown): unknown {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof ApplyStopped ? cause : err;
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
export async function applyPool(
  client: ObjectClient,
  policy: Policy,
  owner: PoolOwner,
  options: ApplyOptions = {},
): Promise<ApplyReport> {
  if (owner.name !== policy.metadata.name || owner.namespace !== policy.metadata.namespace) {
    throw new Error(
      `owner ${owner.namespace}/${owner.name} is not the pool ${policy.metadata.namespace}/${policy.metadata.name}`,
    );
  }
  return applyRendered(client, buildPool(policy), owner, options);
}

async function applyRendered(
  client: ObjectClient,
  objects: readonly KubeObject[],
  owner: PoolOwner,
  options: ApplyOptions,
): Promise<ApplyReport> {
  const stats = retryStats();
  const { applied, keep } = await applyObjects(client, objects, owner, options, stats);
  const pruned = options.noPrune ? [] : await pruneScope(client, [{ owner, keep }], options, stats);
  return { applied, pruned: pruned.map((p) => p.ref), stats };
}

/** Applies a pool's render; returns what was applied and the keys to keep when pruning. */
async function applyObjects(
  client: ObjectClient,
  objects: readonly KubeObject[],
  owner: PoolOwner,
  options: ApplyOptions,
  stats: RetryStats,
): Promise<{ applied: ObjectRef[]; keep: Set<string> }> {
  const manifests = buildApplySet(objects, owner);
  const manager = options.fieldManager ?? FIELD_MANAGER;
  const applied: ObjectRef[] = [];
  for (const m of manifests) {
    const action = `applying ${describeObject(m)}`;
    const result = await withRetries(
      action,
      () => {
        checkMayWrite(options, action);
        return client.patch(m, undefined, undefined, manager, true, PatchStrategy.ServerSideApply);
      },
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
    ).catch((err: unknown) => {
      throw stoppedCause(err);
    });
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
  return { applied, keep: new Set(manifests.map(keyOf)) };
}

/** One pool in a prune: its owner and the objects of its new render. */
interface PruneEntry {
  readonly owner: PoolOwner;
  readonly keep: ReadonlySet<string>;
}

/** Whether `o` was applied by `manager` (a managedFields entry of operation Apply). */
function appliedBy(o: KubernetesObject, manager: string): boolean {
  return (o.metadata?.managedFields ?? []).some(
    (f) => f.manager === manager && f.operation === "Apply",
  );
}

/**
 * Deletes, for the pools in `scope`, the objects of {@link PRUNABLE_KINDS} that belong to
 * the pool (labels, our field manager, owner) and are not in its `keep` set. One pool: the
 * lists are by the pool's labels in its namespace; several: one list per kind across all
 * namespaces, by the managed-by label, shared by every pool.
 */
async function pruneScope(
  client: ObjectClient,
  scope: readonly PruneEntry[],
  options: ApplyOptions,
  stats: RetryStats,
): Promise<{ pool: string; ref: ObjectRef }[]> {
  if (scope.length === 0) return [];
  const manager = options.fieldManager ?? FIELD_MANAGER;
  const byPool = new Map(scope.map((e) => [`${e.owner.namespace}/${e.owner.name}`, e]));
  const single = scope.length === 1 ? scope[0]!.owner : undefined;
  const out: { pool: string; ref: ObjectRef }[] = [];
  for (const k of PRUNABLE_KINDS) {
    let selector = `${MANAGED_BY}=tritonscale,${POOL_LABEL}`;
    if (single) {
      selector = `${POOL_LABEL}=${single.name},${MANAGED_BY}=tritonscale`;
      if (!k.namespaced) selector += `,${POOL_NAMESPACE_LABEL}=${single.namespace}`;
    }
    const where = single ? `pool ${single.namespace}/${single.name}` : `${scope.length} pools`;
    let list: KubernetesListObject<KubernetesObject>;
    try {
      list = await withRetries(
        `listing ${k.kind} of ${where} for pruning`,
        () =>
          client.list(
            k.apiVersion,
            k.kind,
            single && k.namespaced ? single.namespace : undefined,
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
      const labels = o.metadata?.labels ?? {};
      const poolNs = k.namespaced ? o.metadata?.namespace : labels[POOL_NAMESPACE_LABEL];
      const pool = `${poolNs}/${labels[POOL_LABEL]}`;
      const entry = byPool.get(pool);
      if (!entry || labels[MANAGED_BY] !== "tritonscale") continue;
      if (entry.keep.has(keyOf(o))) continue;
      // The scaler's saved history is the controller's state, not the render's.
      if (labels[HISTORY_LABEL] !== undefined) continue;
      if (!appliedBy(o, manager)) continue;
      if (k.namespaced && entry.owner.uid !== undefined) {
        const owned = (o.metadata?.ownerReferences ?? []).some((r) => r.uid === entry.owner.uid);
        if (!owned) continue;
      }
      const ref = {
        apiVersion: k.apiVersion,
        kind: k.kind,
        metadata: {
          name: o.metadata!.name!,
          ...(k.namespaced ? { namespace: o.metadata!.namespace! } : {}),
        },
      };
      try {
        const action = `pruning ${describeObject(ref)}`;
        await withRetries(
          action,
          () => {
            checkMayWrite(options, action);
            return client.delete(ref, undefined, undefined, undefined, undefined, "Background");
          },
          options.retry,
          { stats },
        );
      } catch (err) {
        // Already gone (deleted by someone else, or by garbage collection): pruned.
        if (!isNotFound(err)) throw stoppedCause(err);
      }
      out.push({
        pool,
        ref: {
          apiVersion: k.apiVersion,
          kind: k.kind,
          ...(k.namespaced ? { namespace: o.metadata!.namespace! } : {}),
          name: o.metadata!.name!,
        },
      });
    }
  }
  return out;
}

/**
 * Deletes every object of a pool that is gone (its ModelPool was deleted, or its file
 * removed): the same rules as pruning with an empty render. Namespaced objects with an
 * owner reference go by garbage collection anyway; this also catches the cluster-scoped
 * NodePool and objects of pools from files.
 */
export async function deletePoolObjects(
  client: ObjectClient,
  owner: PoolOwner,
  options: ApplyOptions = {},
): Promise<ObjectRef[]> {
  const pruned = await pruneScope(client, [{ owner, keep: new Set() }], options, retryStats());
  return pruned.map((p) => p.ref);
}

/** One pool of {@link applyPools}. */
export interface PoolToApply {
  readonly policy: Policy;
  readonly owner: PoolOwner;
}

/** What {@link applyPools} did with one pool: its report, or the error that stopped it. */
export type PoolOutcome =
  | { readonly ok: true; readonly report: ApplyReport }
  | { readonly ok: false; readonly error: Error };

/**
 * A full reconcile of many pools (e.g. at start-up): each pool's render is applied
 * (`concurrency` pools at a time), then the pools that applied completely are pruned
 * together, with one list per kind instead of one per kind and pool. A pool that fails
 * does not stop the others and is not pruned. Outcomes by `namespace/name`.
 */
export async function applyPools(
  client: ObjectClient,
  pools: readonly PoolToApply[],
  options: ApplyOptions & { readonly concurrency?: number } = {},
): Promise<Map<string, PoolOutcome>> {
  const outcomes = new Map<string, PoolOutcome>();
  const applied: { key: string; entry: PruneEntry; refs: ObjectRef[]; stats: RetryStats }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < pools.length) {
      const p = pools[next++]!;
      const key = `${p.owner.namespace}/${p.owner.name}`;
      const stats = retryStats();
      try {
        if (
          p.owner.name !== p.policy.metadata.name ||
          p.owner.namespace !== p.policy.metadata.namespace
        ) {
          throw new Error(
            `owner ${key} is not the pool ${p.policy.metadata.namespace}/${p.policy.metadata.name}`,
          );
        }
        const { applied: refs, keep } = await applyObjects(
          client,
          buildPool(p.policy),
          p.owner,
          options,
          stats,
        );
        applied.push({ key, entry: { owner: p.owner, keep }, refs, stats });
      } catch (err) {
        outcomes.set(key, { ok: false, error: err as Error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  const pruneStats = retryStats();
  const pruned = options.noPrune
    ? []
    : await pruneScope(
        client,
        applied.map((a) => a.entry),
        options,
        pruneStats,
      );
  for (const a of applied) {
    const mine = pruned.filter((p) => p.pool === a.key).map((p) => p.ref);
    outcomes.set(a.key, { ok: true, report: { applied: a.refs, pruned: mine, stats: a.stats } });
  }
  return outcomes;
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
  const report = await applyRendered(client, objects, owner, options);
  return { kind: "applied", policy: result.policy, report };
}
