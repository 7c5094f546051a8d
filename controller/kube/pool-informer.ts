/**
 * ModelPool custom resources as a {@link PoolSource}: one informer (list, then watch) per
 * namespace, or one for all namespaces, with @kubernetes/client-node's `makeInformer`.
 *
 * Each informer is kept running by kube/informer-restart.ts: restarted after every error with
 * an exponential backoff, never after {@link ModelPoolInformer.stop}.
 */
import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
} from "@kubernetes/client-node";
import type { Clock, PoolRef } from "../loop/ports.js";
import { type ParseOptions, parseModelPoolObject } from "../policy/index.js";
import { API_GROUP } from "../policy/schema.js";
import { type BackoffOptions, InformerRestarter } from "./informer-restart.js";
import { MODELPOOL_PLURAL, MODELPOOL_VERSION } from "./install/names.js";
import {
  type PoolHandler,
  type PoolObjectMeta,
  type PoolSource,
  PoolTracker,
} from "./pool-source.js";

/** The part of the client's informer the source uses (a fake in unit tests). */
export interface InformerLike {
  on(verb: "add" | "update" | "delete", cb: (obj: KubernetesObject) => void): void;
  on(verb: "error", cb: (err?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Makes the informer of one namespace (`undefined`: all namespaces). */
export type InformerFactory = (namespace: string | undefined) => InformerLike;

/** The API path of ModelPools in `namespace`, or in all namespaces. */
export function modelPoolPath(namespace?: string): string {
  const base = `/apis/${API_GROUP}/${MODELPOOL_VERSION}`;
  return namespace === undefined
    ? `${base}/${MODELPOOL_PLURAL}`
    : `${base}/namespaces/${namespace}/${MODELPOOL_PLURAL}`;
}

/** The client's informer on ModelPools, listing through the custom objects API. */
export function createModelPoolInformerFactory(kc: KubeConfig): InformerFactory {
  const api = kc.makeApiClient(CustomObjectsApi);
  const version = MODELPOOL_VERSION;
  return (namespace) => {
    const list = (): Promise<KubernetesListObject<KubernetesObject>> =>
      namespace === undefined
        ? api.listClusterCustomObject({ group: API_GROUP, version, plural: MODELPOOL_PLURAL })
        : api.listNamespacedCustomObject({
            group: API_GROUP,
            version,
            namespace,
            plural: MODELPOOL_PLURAL,
          });
    return makeInformer(kc, modelPoolPath(namespace), list);
  };
}

/** Options of {@link ModelPoolInformer}. */
export interface ModelPoolInformerOptions {
  /** Makes each namespace's informer; see {@link createModelPoolInformerFactory}. */
  readonly createInformer: InformerFactory;
  /** Namespaces to watch. @default all namespaces (one informer) */
  readonly namespaces?: readonly string[];
  /** Hears of every pool. */
  readonly handler: PoolHandler;
  /** For the backoff's sleeps. */
  readonly clock: Clock;
  /**
   * Backoff between restarts, in seconds: a wait drawn from [0, min(max, initial × 2^n))
   * ("full jitter", kube/retry.ts), so that watches that failed together do not come back
   * together. @default initial 1, max 60
   */
  readonly backoff?: BackoffOptions;
  /** For the jitter. @default Math.random */
  readonly random?: () => number;
  /** Passed to the policy loader (e.g. the template names that exist). */
  readonly parseOptions?: ParseOptions;
  /** Told of each error that restarts an informer, with the delay before the restart. */
  readonly onRestart?: (
    namespace: string | undefined,
    error: unknown,
    delaySeconds: number,
  ) => void;
}

/** One namespace's informer and what keeps it running. */
interface Watched {
  readonly namespace: string | undefined;
  readonly informer: InformerLike;
  readonly restarter: InformerRestarter;
}

/** ModelPool custom resources, watched with restarts; see the module comment. */
export class ModelPoolInformer implements PoolSource {
  private readonly tracker: PoolTracker;
  private readonly watched: Watched[] = [];
  private stopped = false;

  constructor(private readonly options: ModelPoolInformerOptions) {
    this.tracker = new PoolTracker(options.handler);
  }

  /** Restarts so far, per namespace (`*` for all namespaces). */
  restarts(): Record<string, number> {
    return Object.fromEntries(this.watched.map((w) => [w.namespace ?? "*", w.restarter.restarts]));
  }

  /**
   * Starts every namespace's informer; resolves once each has listed (every ModelPool that
   * exists has been reported), or on `stop()`.
   */
  async start(): Promise<void> {
    const namespaces = this.options.namespaces?.length ? this.options.namespaces : [undefined];
    for (const namespace of namespaces) {
      const informer = this.options.createInformer(namespace);
      informer.on("add", (o) => this.seen(o));
      informer.on("update", (o) => this.seen(o));
      informer.on("delete", (o) => this.gone(o));
      const restarter = new InformerRestarter(informer, {
        clock: this.options.clock,
        ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
        ...(this.options.random ? { random: this.options.random } : {}),
        onRestart: (error, delay) => this.options.onRestart?.(namespace, error, delay),
      });
      this.watched.push({ namespace, informer, restarter });
    }
    await Promise.all(this.watched.map((w) => w.restarter.start()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.watched.map((w) => w.restarter.stop()));
  }

  private seen(obj: KubernetesObject): void {
    if (this.stopped) return;
    const ref = refOf(obj);
    if (ref === undefined) return;
    const meta: PoolObjectMeta = {
      origin: `modelpool ${ref.namespace}/${ref.name}`,
      ...(obj.metadata?.uid === undefined ? {} : { uid: obj.metadata.uid }),
      ...(obj.metadata?.generation === undefined ? {} : { generation: obj.metadata.generation }),
      ...(obj.metadata?.resourceVersion === undefined
        ? {}
        : { resourceVersion: obj.metadata.resourceVersion }),
      ...((obj as { status?: unknown }).status === undefined
        ? {}
        : { status: (obj as { status?: unknown }).status }),
    };
    const result = parseModelPoolObject(obj, meta.origin, this.options.parseOptions);
    this.tracker.update(ref, result, meta);
  }

  private gone(obj: KubernetesObject): void {
    if (this.stopped) return;
    const ref = refOf(obj);
    if (ref !== undefined) this.tracker.remove(ref);
  }
}

function refOf(obj: KubernetesObject): PoolRef | undefined {
  const name = obj.metadata?.name;
  if (name === undefined || name === "") return undefined;
  return { namespace: obj.metadata?.namespace ?? "default", name };
}
