/**
 * A {@link HistoryStore} on Kubernetes: one ConfigMap per pool, in the pool's namespace,
 * named `<pool>-tritonscale-history`, holding the scaler's saved history under the key
 * `history`. It is written by server-side apply with the field manager `tritonscale`,
 * carries the pool's labels (kube/render/labels.ts, component `scaler-history`) plus
 * {@link HISTORY_LABEL}, and is owned by the ModelPool (an owner reference, not blocking
 * deletion), so it goes with the pool. Pruning (apply.ts) leaves it alone: it is state the
 * controller keeps, not part of the pool's render.
 *
 * A history is at most {@link HISTORY_MAX_BYTES} (256 KiB), well inside a ConfigMap's 1 MiB;
 * a larger one is refused before it is sent. Calls are retried on conflicts and transient
 * failures (retry.ts, 3 tries), and their errors name the ConfigMap:
 * `saving the history of vision/yolo in ConfigMap vision/yolo-tritonscale-history: 403 Forbidden: …`.
 *
 * RBAC (install/rbac.ts): `get` to load; `patch`, and `create` for the first apply, to save.
 */
import {
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from "@kubernetes/client-node";
import { HISTORY_MAX_BYTES, type HistoryStore } from "../loop/history.js";
import type { PoolRef } from "../loop/ports.js";
import { API_VERSION, KIND } from "../policy/schema.js";
import { FIELD_MANAGER, poolNameLabels } from "./render/labels.js";
import { apiFailure, type RetryOptions, withRetries } from "./retry.js";

/** Suffix of a pool's history ConfigMap name: `<pool>-tritonscale-history`. */
export const HISTORY_CONFIGMAP_SUFFIX = "-tritonscale-history";

/** The ConfigMap key holding the history text. */
export const HISTORY_KEY = "history";

/**
 * Label marking a pool's history ConfigMap (value `"true"`): state kept by the controller,
 * which pruning never deletes (the ModelPool's deletion does, through the owner reference).
 */
export const HISTORY_LABEL = "tritonscale.dev/scaler-history";

/** The `app.kubernetes.io/component` of the history ConfigMap. */
export const HISTORY_COMPONENT = "scaler-history";

/** The name of the pool's history ConfigMap. */
export function historyConfigMapName(pool: string): string {
  return `${pool}${HISTORY_CONFIGMAP_SUFFIX}`;
}

/** The calls the store makes; `KubernetesObjectApi` has them. */
export type HistoryClient = Pick<KubernetesObjectApi, "read" | "patch">;

/** Options of {@link ConfigMapHistoryStore}. */
export interface ConfigMapHistoryOptions {
  readonly client: HistoryClient;
  /** Retries of each call. @default 3 tries, retry.ts's backoff */
  readonly retry?: RetryOptions;
}

/**
 * The history ConfigMap of a pool as applied: the pool's labels, {@link HISTORY_LABEL}, and
 * an owner reference to the ModelPool when its uid is known.
 */
export function buildHistoryConfigMap(
  pool: PoolRef,
  text: string,
  ownerUid: string | undefined,
): KubernetesObject & { data: Record<string, string> } {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: historyConfigMapName(pool.name),
      namespace: pool.namespace,
      labels: { ...poolNameLabels(pool.name, HISTORY_COMPONENT), [HISTORY_LABEL]: "true" },
      ...(ownerUid === undefined
        ? {}
        : {
            ownerReferences: [
              {
                apiVersion: API_VERSION,
                kind: KIND,
                name: pool.name,
                uid: ownerUid,
                controller: true,
                blockOwnerDeletion: false,
              },
            ],
          }),
    },
    data: { [HISTORY_KEY]: text },
  };
}

/** The {@link HistoryStore} on ConfigMaps (see the module comment). */
export class ConfigMapHistoryStore implements HistoryStore {
  readonly source = "configmap";
  private readonly owners = new Map<string, string>();

  constructor(private readonly options: ConfigMapHistoryOptions) {}

  /** Creates the store for a cluster. */
  static fromKubeConfig(kc: KubeConfig, retry?: RetryOptions): ConfigMapHistoryStore {
    return new ConfigMapHistoryStore({
      client: KubernetesObjectApi.makeApiClient(kc),
      ...(retry === undefined ? {} : { retry }),
    });
  }

  /**
   * The ModelPool's uid, for the owner reference of its history (from the pool informer);
   * undefined forgets it (a history saved then has no owner).
   */
  setOwner(pool: PoolRef, uid: string | undefined): void {
    const key = `${pool.namespace}/${pool.name}`;
    if (uid === undefined) this.owners.delete(key);
    else this.owners.set(key, uid);
  }

  async load(pool: PoolRef): Promise<string | undefined> {
    const ref = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: historyConfigMapName(pool.name), namespace: pool.namespace },
    };
    try {
      const cm = (await withRetries(
        `loading the history of ${pool.namespace}/${pool.name} from ConfigMap ${pool.namespace}/${ref.metadata.name}`,
        () => this.options.client.read(ref),
        this.retry(),
      )) as KubernetesObject & { data?: Record<string, string> };
      return cm.data?.[HISTORY_KEY];
    } catch (e) {
      if (apiFailure((e as { cause?: unknown }).cause ?? e).code === 404) return undefined;
      throw e;
    }
  }

  async save(pool: PoolRef, text: string): Promise<void> {
    const name = historyConfigMapName(pool.name);
    const where = `the history of ${pool.namespace}/${pool.name} in ConfigMap ${pool.namespace}/${name}`;
    const size = Buffer.byteLength(text, "utf8");
    if (size > HISTORY_MAX_BYTES) {
      throw new Error(
        `saving ${where}: ${size} bytes is more than the ${HISTORY_MAX_BYTES} a history may take`,
      );
    }
    const cm = buildHistoryConfigMap(pool, text, this.owners.get(`${pool.namespace}/${pool.name}`));
    await withRetries(
      `saving ${where}`,
      () =>
        this.options.client.patch(
          cm,
          undefined,
          undefined,
          FIELD_MANAGER,
          true,
          PatchStrategy.ServerSideApply,
        ),
      this.retry(),
    );
  }

  private retry(): RetryOptions {
    return { attempts: 3, timeoutMs: 10_000, ...this.options.retry };
  }
}
