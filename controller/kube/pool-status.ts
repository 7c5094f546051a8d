/**
 * A ModelPool's `status`, written through the status subresource: `observedGeneration`,
 * the conditions `Valid`, `Applied`, `MetricsFresh` and `ScalerReady`, the scaler's last
 * decision, when it last changed the replicas and each model's capacity per replica. The
 * schema is `modelPoolStatusSchema` (install/crd.ts); this module builds values of it and
 * sends them (a JSON merge patch of `status`, so it needs `patch` on `modelpools/status`).
 *
 * Writes, per pool: at once when something a person or a tool waits for changes (a
 * condition's status, the desired or observed replicas, active/held, the generation);
 * otherwise (a new reason text, new capacity figures) at most every 30 s, with the latest
 * values. One write per pool in flight; a newer status replaces a queued one. Only while
 * `canWrite()` (the leader); a new leader writes its first decision at once.
 */
import {
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import type { Problem } from "../diagnostics/problem.js";
import {
  type Clock,
  type DecisionSink,
  type PoolDecision,
  type PoolRef,
  poolKey,
} from "../loop/ports.js";
import { API_GROUP } from "../policy/schema.js";
import { formatNumber, totalOf } from "../scaling/types.js";
import { DEFAULT_PROFILE } from "../simulate/profile.js";
import type { EventRecorder } from "./events.js";
import type { ModelPoolCondition, ModelPoolStatus } from "./install/crd.js";
import { MODELPOOL_PLURAL, MODELPOOL_VERSION } from "./install/names.js";
import type { PoolHandler, PoolObjectMeta } from "./pool-source.js";
import { isNotFound } from "./retry.js";

/** The condition types the controller writes. */
export const CONDITION_TYPES = ["Valid", "Applied", "MetricsFresh", "ScalerReady"] as const;
/** One of {@link CONDITION_TYPES}. */
export type ConditionType = (typeof CONDITION_TYPES)[number];

/** A condition as a part of the controller states it; the time is added when it changes. */
export interface ConditionUpdate {
  readonly type: ConditionType;
  readonly status: "True" | "False" | "Unknown";
  /** One CamelCase word, e.g. `InvalidSpec`. */
  readonly reason: string;
  /** For humans; may be empty. */
  readonly message: string;
}

/** metav1.Time: RFC 3339 in UTC, whole seconds. */
export function formatTime(seconds: number): string {
  return `${new Date(Math.floor(seconds) * 1000).toISOString().slice(0, 19)}Z`;
}

/** Longest condition message and decision reason written (the schema allows more). */
const MAX_MESSAGE = 1024;

function clip(s: string, max = MAX_MESSAGE): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * `conditions` with `updates` set: `lastTransitionTime` changes only when a condition's
 * status changes (a new reason or message alone keeps it), conditions not named keep
 * their place, new ones follow in {@link CONDITION_TYPES} order.
 */
export function setConditions(
  conditions: readonly ModelPoolCondition[],
  updates: readonly ConditionUpdate[],
  now: string,
  generation?: number,
): ModelPoolCondition[] {
  const out = conditions.map((c) => ({ ...c }));
  for (const u of updates) {
    const i = out.findIndex((c) => c.type === u.type);
    const before = i >= 0 ? out[i] : undefined;
    const next: ModelPoolCondition = {
      type: u.type,
      status: u.status,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
      lastTransitionTime:
        before !== undefined && before.status === u.status ? before.lastTransitionTime : now,
      reason: u.reason,
      message: clip(u.message),
    };
    if (i >= 0) out[i] = next;
    else out.push(next);
  }
  const rank = (t: string) => {
    const r = (CONDITION_TYPES as readonly string[]).indexOf(t);
    return r < 0 ? CONDITION_TYPES.length : r;
  };
  return out.sort((a, b) => rank(a.type) - rank(b.type));
}

/** `Valid=False` for a pool the loader refused: the fields and what would be valid. */
export function invalidCondition(problems: readonly Problem[]): ConditionUpdate {
  const shown = problems.slice(0, 5).map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : "";
  return {
    type: "Valid",
    status: "False",
    reason: "InvalidSpec",
    message: `${shown.join("; ")}${more}; nothing was applied, the last valid spec keeps running`,
  };
}

/** The `MetricsFresh` condition a decision implies. */
export function metricsFreshCondition(d: PoolDecision): ConditionUpdate {
  if (d.decision.held) {
    return {
      type: "MetricsFresh",
      status: "False",
      reason: "MetricsStale",
      message: d.decision.reason,
    };
  }
  const s = d.snapshot;
  let oldest: number | undefined;
  for (const x of [s.arrivalRate, s.pending, s.queueDelayMs, s.computeMsPerBatch, s.batchSize]) {
    if (x !== undefined && (oldest === undefined || x.ageSeconds > oldest)) oldest = x.ageSeconds;
  }
  return {
    type: "MetricsFresh",
    status: "True",
    reason: "MetricsFresh",
    message: oldest === undefined ? "" : `oldest signal ${formatNumber(oldest)} s old`,
  };
}

/** The status fields a decision sets (all but conditions, generation and lastScaleTime). */
export function decisionStatus(d: PoolDecision): ModelPoolStatus {
  const r = d.snapshot.replicas;
  const desired = d.decision.desired;
  return {
    replicas: totalOf(r.ready) + totalOf(r.starting) + totalOf(r.pending),
    readyReplicas: totalOf(r.ready),
    desiredReplicas: totalOf(desired),
    decision: {
      desired: { spot: desired.spot, onDemand: desired.onDemand },
      active: d.decision.active,
      held: d.decision.held,
      reason: clip(d.decision.reason),
      scaler: d.scaler,
      decidedAt: formatTime(d.at),
    },
    capacity: Object.entries(d.capacityPerReplica)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([model, rps]) => {
        const profile = d.profiles?.[model];
        const share = d.mix?.shares[model];
        return {
          model,
          requestsPerSecondPerReplica: Math.round(rps * 1000) / 1000,
          ...(share === undefined ? {} : { trafficShare: Math.round(share * 1000) / 1000 }),
          ...(profile === undefined
            ? {}
            : { profile: clip(profile, 256), profileSource: profileSourceOf(profile) }),
        };
      }),
    ...(d.mix === undefined
      ? {}
      : {
          capacityMix: {
            requestsPerSecondPerReplica: Math.round(d.mix.perReplica * 1000) / 1000,
            sharesFrom: d.mix.from,
            ...(d.mix.byReplicas === undefined
              ? {}
              : {
                  requestsPerSecondByReplicas: d.mix.byReplicas
                    .slice(0, 64)
                    .map((c) => (Number.isFinite(c) ? Math.round(c * 1000) / 1000 : 0)),
                }),
          },
        }),
  };
}

/**
 * Where a model's capacity came from, by the profile name the loop published: the
 * documented default's name (DEFAULT_PROFILE, `yolov8s-t4-fp16 (assumed: ...)`, with the
 * live correction's ` ×f` after it) or else the pool's own `spec.models[].profile`.
 */
export function profileSourceOf(profile: string): "pool" | "default" {
  return profile.startsWith(DEFAULT_PROFILE.name) ? "default" : "pool";
}

/** Whether the decision changed the desired replicas (of either capacity type). */
export function changesReplicas(d: PoolDecision): boolean {
  return (
    d.previous.spot !== d.decision.desired.spot ||
    d.previous.onDemand !== d.decision.desired.onDemand
  );
}

/** The message of the Event for a decision that changes replicas. */
export function scaleEventMessage(d: PoolDecision): string {
  const from = totalOf(d.previous);
  const to = totalOf(d.decision.desired);
  const split = (c: { spot: number; onDemand: number }) =>
    `spot ${c.spot}, on-demand ${c.onDemand}`;
  return clip(
    `desired replicas ${from} → ${to} (${split(d.previous)} → ${split(d.decision.desired)}): ${d.decision.reason}`,
  );
}

/** The `Applied` condition after applying a pool's objects: how many, or the first error. */
export function appliedCondition(
  result: { readonly objects: number } | { readonly error: string },
): ConditionUpdate {
  return "error" in result
    ? { type: "Applied", status: "False", reason: "ApplyFailed", message: result.error }
    : {
        type: "Applied",
        status: "True",
        reason: "Applied",
        message: `${result.objects} object${result.objects === 1 ? "" : "s"} applied`,
      };
}

/**
 * A {@link PoolHandler} that keeps the writer's status in step with the pool source
 * (`Valid` and `observedGeneration` on add and change; `Valid=False` and a Warning Event
 * for an invalid pool; forgotten when removed), then hands each callback to `next`.
 */
export function withStatusReporting(
  writer: ModelPoolStatusWriter,
  next: PoolHandler,
  onError: (pool: PoolRef, error: unknown) => void = () => undefined,
): PoolHandler {
  const background = (pool: PoolRef, p: Promise<void>) => {
    p.catch((e: unknown) => onError(pool, e));
  };
  return {
    added(pool, policy, meta) {
      background(pool, writer.track(pool, meta));
      next.added(pool, policy, meta);
    },
    changed(pool, policy, meta) {
      background(pool, writer.track(pool, meta));
      next.changed(pool, policy, meta);
    },
    invalid(pool, problems, meta) {
      background(pool, writer.invalid(pool, problems, meta));
      next.invalid(pool, problems, meta);
    },
    removed(pool) {
      writer.forget(pool);
      next.removed(pool);
    },
  };
}

/** Writes a pool's status; rejects with the API error (status code in `code`). */
export interface StatusClient {
  patchStatus(pool: PoolRef, status: ModelPoolStatus): Promise<void>;
}

/** A {@link StatusClient} through the API server: a JSON merge patch of `status`. */
export function createKubeStatusClient(kc: KubeConfig): StatusClient {
  const api = kc.makeApiClient(CustomObjectsApi);
  const options = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  return {
    async patchStatus(pool, status) {
      await api.patchNamespacedCustomObjectStatus(
        {
          group: API_GROUP,
          version: MODELPOOL_VERSION,
          namespace: pool.namespace,
          plural: MODELPOOL_PLURAL,
          name: pool.name,
          body: { status },
          fieldManager: "tritonscale",
        },
        options,
      );
    },
  };
}

/** What the status writer takes from a pool's object (absent for pools from files). */
export type PoolMetaForStatus = Pick<PoolObjectMeta, "generation" | "uid" | "status">;

/** Options of {@link ModelPoolStatusWriter}. */
export interface StatusWriterOptions {
  readonly client: StatusClient;
  readonly clock: Clock;
  /** Records the Events of scale decisions and invalid pools; none when absent. */
  readonly events?: EventRecorder;
  /** Whether this replica may write now (the leader). @default always */
  readonly canWrite?: () => boolean;
  /** Seconds between writes that only refresh figures. @default 30 */
  readonly refreshSeconds?: number;
  /** Told of each failed write (for logs); the next decision tries again. */
  readonly onError?: (pool: PoolRef, error: unknown) => void;
}

/** What the writer holds for one pool. */
interface PoolState {
  readonly ref: PoolRef;
  status: ModelPoolStatus;
  generation: number | undefined;
  /** metadata.uid, for the pool's Events. */
  uid: string | undefined;
  /** The last status written, as JSON, and its "significant" part. */
  written: string | undefined;
  writtenKey: string | undefined;
  writtenAt: number;
  inFlight: Promise<void> | undefined;
  queued: boolean;
}

/** What must be written at once when it changes. */
function significantKey(s: ModelPoolStatus): string {
  return JSON.stringify([
    s.observedGeneration,
    s.replicas,
    s.readyReplicas,
    s.desiredReplicas,
    s.decision?.desired,
    s.decision?.active,
    s.decision?.held,
    s.lastScaleTime,
    (s.conditions ?? []).map((c) => [c.type, c.status, c.reason]),
  ]);
}

/**
 * Keeps each pool's status and writes it (see the module comment); the loop's
 * {@link DecisionSink} for status. The pool sources' callbacks tell it of pools
 * ({@link track}, {@link invalid}, {@link forget}); the apply and KEDA parts set their
 * conditions with {@link setCondition}.
 */
export class ModelPoolStatusWriter implements DecisionSink {
  private readonly pools = new Map<string, PoolState>();
  /** Writes sent, and failed, so far. */
  readonly stats = { writes: 0, failures: 0 };

  constructor(private readonly options: StatusWriterOptions) {}

  /**
   * A valid pool was added or changed: `Valid=True`, `observedGeneration`. `meta.status` is
   * the status the object carries (a previous leader's), so transition times survive a
   * change of leader; `meta.uid` goes into the pool's Events (`kubectl describe` finds
   * Events by the object's uid).
   */
  track(pool: PoolRef, meta: PoolMetaForStatus = {}): Promise<void> {
    const s = this.state(pool, meta);
    this.update(
      s,
      {
        ...(s.generation === undefined ? {} : { observedGeneration: s.generation }),
      },
      [{ type: "Valid", status: "True", reason: "SpecValid", message: "" }],
    );
    return this.flush(pool, true);
  }

  /** The pool's spec was refused: `Valid=False` with the fields, and a Warning Event. */
  async invalid(
    pool: PoolRef,
    problems: readonly Problem[],
    meta: PoolMetaForStatus = {},
  ): Promise<void> {
    const s = this.state(pool, meta);
    const condition = invalidCondition(problems);
    this.update(s, s.generation === undefined ? {} : { observedGeneration: s.generation }, [
      condition,
    ]);
    await Promise.all([
      this.flush(pool, true),
      this.options.canWrite?.() === false
        ? undefined
        : this.options.events?.record(
            pool,
            { uid: s.uid },
            "Warning",
            "InvalidSpec",
            condition.message,
          ),
    ]);
  }

  /** Sets one condition (e.g. `Applied` after an apply, `ScalerReady` from the KEDA server). */
  setCondition(pool: PoolRef, update: ConditionUpdate): Promise<void> {
    const s = this.pools.get(poolKey(pool));
    if (s === undefined) return Promise.resolve();
    this.update(s, {}, [update]);
    return this.flush(pool, false);
  }

  /**
   * Writes every pool's status again now (if this replica may write): call it when this
   * replica starts leading, since another leader may have written in between and an
   * invalid pool gets no decision that would write it.
   */
  resync(): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const s of this.pools.values()) {
      s.written = undefined;
      s.writtenKey = undefined;
      writes.push(this.flush(s.ref, true));
    }
    return Promise.all(writes).then(() => undefined);
  }

  /** The pool is gone: nothing more is written for it. */
  forget(pool: PoolRef): void {
    this.pools.delete(poolKey(pool));
  }

  /** The status the writer holds for a pool (what it wrote or will write). */
  statusOf(pool: PoolRef): ModelPoolStatus | undefined {
    return this.pools.get(poolKey(pool))?.status;
  }

  /** Takes a decision: status fields, `MetricsFresh`, `ScalerReady`, and a scale Event. */
  async publish(d: PoolDecision): Promise<void> {
    const s = this.pools.get(poolKey(d.pool));
    if (s === undefined) return;
    const scaled = changesReplicas(d);
    const fields: ModelPoolStatus = {
      ...decisionStatus(d),
      ...(scaled ? { lastScaleTime: formatTime(d.at) } : {}),
    };
    this.update(s, fields, [
      metricsFreshCondition(d),
      { type: "ScalerReady", status: "True", reason: "Deciding", message: `scaler ${d.scaler}` },
    ]);
    const writing = this.flush(d.pool, false);
    if (scaled && this.options.canWrite?.() !== false) {
      await this.options.events?.record(
        d.pool,
        { uid: s.uid },
        "Normal",
        "Scaled",
        scaleEventMessage(d),
      );
    }
    await writing;
  }

  private state(pool: PoolRef, meta: PoolMetaForStatus): PoolState {
    const key = poolKey(pool);
    let s = this.pools.get(key);
    if (s === undefined) {
      const conditions = (meta.status as { conditions?: unknown } | undefined)?.conditions;
      s = {
        ref: { namespace: pool.namespace, name: pool.name },
        status: Array.isArray(conditions) ? { conditions: conditions.filter(isCondition) } : {},
        generation: undefined,
        uid: undefined,
        written: undefined,
        writtenKey: undefined,
        writtenAt: Number.NEGATIVE_INFINITY,
        inFlight: undefined,
        queued: false,
      };
      this.pools.set(key, s);
    }
    s.generation = meta.generation;
    if (meta.uid !== undefined) s.uid = meta.uid;
    return s;
  }

  private update(s: PoolState, fields: ModelPoolStatus, conditions: readonly ConditionUpdate[]) {
    const now = formatTime(this.options.clock.now());
    s.status = {
      ...s.status,
      ...fields,
      conditions: setConditions(s.status.conditions ?? [], conditions, now, s.generation),
    };
  }

  /** Writes the pool's status if it is due (see the module comment). */
  private flush(pool: PoolRef, force: boolean): Promise<void> {
    const s = this.pools.get(poolKey(pool));
    if (s === undefined || this.options.canWrite?.() === false) return Promise.resolve();
    const text = JSON.stringify(s.status);
    if (text === s.written) return s.inFlight ?? Promise.resolve();
    const significant = force || significantKey(s.status) !== s.writtenKey;
    const refresh = this.options.refreshSeconds ?? 30;
    if (!significant && this.options.clock.now() - s.writtenAt < refresh) {
      return s.inFlight ?? Promise.resolve();
    }
    if (s.inFlight !== undefined) {
      s.queued = true;
      return s.inFlight;
    }
    s.inFlight = this.write(pool, s);
    return s.inFlight;
  }

  private async write(pool: PoolRef, s: PoolState): Promise<void> {
    try {
      do {
        s.queued = false;
        // A write queued behind one in flight is sent only while this replica still may.
        if (this.options.canWrite?.() === false) return;
        const status = s.status;
        const text = JSON.stringify(status);
        this.stats.writes++;
        try {
          await this.options.client.patchStatus(pool, status);
          s.written = text;
          s.writtenKey = significantKey(status);
          s.writtenAt = this.options.clock.now();
        } catch (e) {
          this.stats.failures++;
          // 404: the pool was deleted; the informer will say so.
          if (!isNotFound(e)) this.options.onError?.(pool, e);
          return;
        }
      } while (s.queued && this.pools.get(poolKey(pool)) === s);
    } finally {
      s.inFlight = undefined;
    }
  }
}

function isCondition(c: unknown): c is ModelPoolCondition {
  const x = c as Partial<ModelPoolCondition> | null;
  return (
    typeof x === "object" &&
    x !== null &&
    typeof x.type === "string" &&
    (x.status === "True" || x.status === "False" || x.status === "Unknown") &&
    typeof x.lastTransitionTime === "string" &&
    typeof x.reason === "string" &&
    typeof x.message === "string"
  );
}
