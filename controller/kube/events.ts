/**
 * Events (core/v1) on ModelPools: scale decisions that change replicas (`Normal Scaled`)
 * and pools the loader refused (`Warning InvalidSpec`), as `kubectl describe modelpool`
 * shows them.
 *
 * Repeats and floods are handled the way client-go's EventCorrelator does, with these
 * numbers:
 * - Aggregation: an Event with the same pool, type, reason and message as one recorded in
 *   the last 10 minutes is not created again: the existing Event's `count` and
 *   `lastTimestamp` are patched (so an invalid pool re-read on every resync is one Event
 *   with a count, not a stream).
 * - Rate limit: a token bucket per pool, 25 Events at once and one more per minute
 *   (client-go: 25, one per 5 minutes; a pool that scales once a minute keeps all of its
 *   scale Events here). An Event over the limit is dropped and counted in `dropped`; the
 *   decision is in the status, the logs and the metrics all the same.
 */
import {
  CoreV1Api,
  type CoreV1Event,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { type Clock, type PoolRef, poolKey } from "../loop/ports.js";
import { API_VERSION, KIND } from "../policy/schema.js";

/** Writes Events; rejects with the API error. */
export interface EventClient {
  create(namespace: string, event: CoreV1Event): Promise<void>;
  /** Patches an Event's `count` and `lastTimestamp` (a JSON merge patch). */
  patch(
    namespace: string,
    name: string,
    change: { readonly count: number; readonly lastTimestamp: string },
  ): Promise<void>;
}

/** An {@link EventClient} through the API server. */
export function createKubeEventClient(kc: KubeConfig): EventClient {
  const api = kc.makeApiClient(CoreV1Api);
  const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  return {
    async create(namespace, body) {
      await api.createNamespacedEvent({ namespace, body });
    },
    async patch(namespace, name, change) {
      await api.patchNamespacedEvent({ name, namespace, body: change }, merge);
    },
  };
}

/** Options of {@link EventRecorder}. */
export interface EventRecorderOptions {
  readonly client: EventClient;
  readonly clock: Clock;
  /** This replica (pod name), in `source.host` and `reportingInstance`. */
  readonly instance: string;
  /** Events a pool may get at once. @default 25 */
  readonly burst?: number;
  /** Seconds to earn one more Event. @default 60 */
  readonly refillSeconds?: number;
  /** Seconds within which a repeat is counted on the first Event. @default 600 */
  readonly aggregateSeconds?: number;
  /** Told of each failed write (for logs). */
  readonly onError?: (pool: PoolRef, error: unknown) => void;
}

/** The Event reporting component. */
export const EVENT_COMPONENT = "tritonscale";

/** metav1.Time: RFC 3339 in UTC, whole seconds. */
function time(seconds: number): string {
  return `${new Date(Math.floor(seconds) * 1000).toISOString().slice(0, 19)}Z`;
}

/** Records Events on ModelPools with aggregation and a rate limit; see the module comment. */
export class EventRecorder {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly recent = new Map<string, { name: string; count: number; at: number }>();
  private seq = 0;
  /** Events created, repeats patched, and Events dropped by the rate limit. */
  readonly stats = { created: 0, aggregated: 0, dropped: 0, failed: 0 };

  constructor(private readonly options: EventRecorderOptions) {}

  /** Records one Event on the pool (never rejects; failures go to `onError`). */
  async record(
    pool: PoolRef,
    involved: { readonly uid?: string | undefined },
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void> {
    const now = this.options.clock.now();
    this.prune(now);
    const key = JSON.stringify([pool.namespace, pool.name, type, reason, message]);
    const seen = this.recent.get(key);
    if (!this.take(pool, now)) {
      this.stats.dropped++;
      return;
    }
    try {
      if (seen !== undefined) {
        seen.count++;
        seen.at = now;
        this.stats.aggregated++;
        await this.options.client.patch(pool.namespace, seen.name, {
          count: seen.count,
          lastTimestamp: time(now),
        });
        return;
      }
      const name = `${pool.name}.${(BigInt(Math.round(now * 1e6)) * 1000n + BigInt(this.seq++ % 1000)).toString(16)}`;
      this.recent.set(key, { name, count: 1, at: now });
      this.stats.created++;
      await this.options.client.create(
        pool.namespace,
        buildEvent(pool, involved, type, reason, message, name, now, this.options.instance),
      );
    } catch (e) {
      this.stats.failed++;
      // A failed create leaves nothing to patch: the next repeat creates the Event.
      if (seen === undefined) this.recent.delete(key);
      this.options.onError?.(pool, e);
    }
  }

  /** Takes a token from the pool's bucket, if one is left. */
  private take(pool: PoolRef, now: number): boolean {
    const burst = this.options.burst ?? 25;
    const refill = this.options.refillSeconds ?? 60;
    const key = poolKey(pool);
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + (now - b.at) / refill);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens--;
    return true;
  }

  /** Forgets Events older than the aggregation window (memory stays bounded). */
  private prune(now: number): void {
    const window = this.options.aggregateSeconds ?? 600;
    for (const [k, v] of this.recent) if (now - v.at > window) this.recent.delete(k);
  }
}

/** A core/v1 Event on a ModelPool. */
export function buildEvent(
  pool: PoolRef,
  involved: { readonly uid?: string | undefined },
  type: "Normal" | "Warning",
  reason: string,
  message: string,
  name: string,
  now: number,
  instance: string,
): CoreV1Event {
  const t = time(now) as unknown as Date;
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name, namespace: pool.namespace },
    involvedObject: {
      apiVersion: API_VERSION,
      kind: KIND,
      namespace: pool.namespace,
      name: pool.name,
      ...(involved.uid === undefined ? {} : { uid: involved.uid }),
    },
    type,
    reason,
    message: message.length > 1024 ? `${message.slice(0, 1023)}…` : message,
    count: 1,
    firstTimestamp: t,
    lastTimestamp: t,
    source: { component: EVENT_COMPONENT, host: instance },
    reportingComponent: EVENT_COMPONENT,
    reportingInstance: instance,
    action: reason === "Scaled" ? "Scale" : "Validate",
  };
}
