import {
  CoreV1Api,
  type Informer,
  type KubeConfig,
  makeInformer,
  type ObjectCache,
  type V1Pod,
} from "@kubernetes/client-node";
import type { Clock, ClusterPort } from "../loop/ports.js";
import type { Policy } from "../policy/index.js";
import type { ReplicaCounts } from "../scaling/types.js";
import { type BackoffOptions, InformerRestarter } from "./informer-restart.js";
import { CAPACITY_LABEL, POOL_LABEL } from "./render/labels.js";

/**
 * The pool's Triton pods as the cluster shows them: replica counts for the scaler (the
 * {@link ClusterPort}) and the pods to scrape (the Triton edge's discovery). Read from one
 * pod informer per watched namespace (or one for the cluster), selecting on the pool label,
 * so a reconcile of 200 pools costs no API request.
 */

/** A Triton pod the scraper may reach. */
export interface TritonPod {
  /** Stable over the pod's life and new when it is replaced: `name/uid`. */
  readonly replica: string;
  readonly namespace: string;
  readonly name: string;
  /** The pod IP. */
  readonly host: string;
  /** Whether the pod is Ready (readiness probe on Triton's /v2/health/ready). */
  readonly ready: boolean;
  readonly capacityType: "spot" | "onDemand";
}

/** Triton's ports in the rendered pods (kube/render/triton.ts). */
export const TRITON_PORTS = { http: 8000, grpc: 8001, metrics: 8002 } as const;

type PodState = "ready" | "starting" | "pending" | "gone";

/**
 * Where a pod stands: `pending` until it is bound to a node (waiting for a GPU node: the
 * scheduler's PodScheduled condition is not True), `starting` from then until Ready (image
 * pull, model load, warmup), `ready` while its Ready condition is True, `gone` when it is
 * terminating or finished (its capacity is leaving; a Spot reclaim shows up here).
 */
export function podState(pod: V1Pod): PodState {
  if (pod.metadata?.deletionTimestamp !== undefined) return "gone";
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return "gone";
  const conditions = pod.status?.conditions ?? [];
  const isTrue = (type: string): boolean =>
    conditions.some((c) => c.type === type && c.status === "True");
  if (isTrue("Ready")) return "ready";
  if (!isTrue("PodScheduled") && pod.spec?.nodeName === undefined) return "pending";
  return "starting";
}

function capacityTypeOf(pod: V1Pod): "spot" | "onDemand" {
  return pod.metadata?.labels?.[CAPACITY_LABEL] === "spot" ? "spot" : "onDemand";
}

function seconds(t: Date | string | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/**
 * Replica counts of a pool's pods at `now` (Unix seconds). Pods of other pools are
 * ignored. Worked example: two Ready on-demand pods, one Spot pod bound to a node and
 * pulling its image, one Spot pod created 95 s ago and not yet scheduled → ready
 * {spot 0, onDemand 2}, starting {spot 1, onDemand 0}, pending {spot 1, onDemand 0},
 * oldestPendingSpotSeconds 95.
 */
export function replicaCountsOf(pods: readonly V1Pod[], now: number): ReplicaCounts {
  const ready = { spot: 0, onDemand: 0 };
  const starting = { spot: 0, onDemand: 0 };
  const pending = { spot: 0, onDemand: 0 };
  let oldestPendingSpotSeconds = 0;
  for (const pod of pods) {
    const state = podState(pod);
    const type = capacityTypeOf(pod);
    if (state === "ready") ready[type]++;
    else if (state === "starting") starting[type]++;
    else if (state === "pending") {
      pending[type]++;
      const created = seconds(pod.metadata?.creationTimestamp);
      if (type === "spot" && created !== undefined) {
        oldestPendingSpotSeconds = Math.max(oldestPendingSpotSeconds, Math.max(0, now - created));
      }
    }
  }
  return { ready, starting, pending, oldestPendingSpotSeconds };
}

/** The pods worth scraping: on a node, with an IP, not leaving (ready or still loading). */
export function tritonPodsOf(pods: readonly V1Pod[]): TritonPod[] {
  const out: TritonPod[] = [];
  for (const pod of pods) {
    const state = podState(pod);
    const host = pod.status?.podIP;
    const name = pod.metadata?.name;
    const namespace = pod.metadata?.namespace;
    if ((state !== "ready" && state !== "starting") || !host || !name || !namespace) continue;
    out.push({
      replica: `${name}/${pod.metadata?.uid ?? ""}`,
      namespace,
      name,
      host,
      ready: state === "ready",
      capacityType: capacityTypeOf(pod),
    });
  }
  return out;
}

/** Where to watch pods: every namespace, or the listed ones. */
export interface PodWatchOptions {
  /** Namespaces to watch; empty or absent: the whole cluster. */
  readonly namespaces?: readonly string[];
  /** For the restarts' backoff. */
  readonly clock: Clock;
  /** Told when an informer fails, with the delay before its restart. */
  readonly onError?: (namespace: string | undefined, error: unknown, delaySeconds: number) => void;
  /** Backoff between restarts. @default 1 s doubling to 60 s, full jitter */
  readonly backoff?: BackoffOptions;
}

type PodInformer = Informer<V1Pod> & ObjectCache<V1Pod>;

/**
 * The pods of every pool, kept current by informers (list, then watch), each restarted
 * after an error with backoff (kube/informer-restart.ts), never after `stop()`.
 */
export class PoolPods implements ClusterPort {
  private readonly informers: {
    namespace: string | undefined;
    informer: PodInformer;
    restarter: InformerRestarter;
  }[] = [];

  constructor(kc: KubeConfig, options: PodWatchOptions) {
    const api = kc.makeApiClient(CoreV1Api);
    const labelSelector = POOL_LABEL;
    const namespaces = options.namespaces?.length ? options.namespaces : [undefined];
    for (const namespace of namespaces) {
      const path =
        namespace === undefined ? "/api/v1/pods" : `/api/v1/namespaces/${namespace}/pods`;
      const list = () =>
        namespace === undefined
          ? api.listPodForAllNamespaces({ labelSelector })
          : api.listNamespacedPod({ namespace, labelSelector });
      const informer = makeInformer(kc, path, list, labelSelector) as PodInformer;
      const restarter = new InformerRestarter(informer, {
        clock: options.clock,
        ...(options.backoff ? { backoff: options.backoff } : {}),
        onRestart: (error, delay) => options.onError?.(namespace, error, delay),
      });
      this.informers.push({ namespace, informer, restarter });
    }
  }

  /**
   * Lists and starts watching; resolves once every informer has listed (or on `stop()`).
   * An informer whose list or watch fails is restarted with backoff.
   */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.restarter.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.restarter.stop()));
  }

  /** The pool's pods, from the informers' caches. */
  podsOf(policy: Policy): V1Pod[] {
    const ns = policy.metadata.namespace;
    const out: V1Pod[] = [];
    for (const { namespace, informer } of this.informers) {
      if (namespace !== undefined && namespace !== ns) continue;
      for (const pod of informer.list(ns)) {
        if (pod.metadata?.labels?.[POOL_LABEL] === policy.metadata.name) out.push(pod);
      }
    }
    return out;
  }

  async replicas(policy: Policy, now: number): Promise<ReplicaCounts> {
    return replicaCountsOf(this.podsOf(policy), now);
  }

  /** The pool's pods to scrape. */
  tritonPods(policy: Policy): TritonPod[] {
    return tritonPodsOf(this.podsOf(policy));
  }
}
