import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type LabelValues,
  Registry,
} from "prom-client";
import { type DecisionSink, type PoolDecision, type PoolRef, poolKey } from "../loop/ports.js";
import type { ByCapacity, CapacityType, LoadSnapshot, Signal } from "../scaling/types.js";
import { totalOf } from "../scaling/types.js";
import {
  CAPACITY_TYPE_LABEL,
  CAPACITY_TYPE_VALUES,
  HISTORY_OPERATIONS,
  HISTORY_RESULTS,
  KEDA_DURATION_BUCKETS,
  KEDA_METHODS,
  type KedaMethod,
  MAX_SCALER_TERMS,
  METRICS,
  type MetricDef,
  NAMESPACE_LABEL,
  POOL_LABEL,
  REASON_CLASSES,
  SIGNALS,
  type SignalName,
} from "./names.js";
import { classifyDecision } from "./reason-class.js";

/**
 * The controller's metrics on its own prom-client Registry (never the global default one,
 * which any library could also write to): a {@link DecisionSink} that turns each decision
 * into per-pool series, and hooks for the other parts (KEDA server, reconciler, leader
 * election). Names, types and labels: metrics/names.ts and the README's table.
 */

/** Options of {@link createControllerMetrics}. */
export interface ControllerMetricsOptions {
  /** Registry to register on. @default a new Registry of its own */
  readonly registry?: Registry;
  /** Also export Node's process metrics (`process_*`, `nodejs_*`). @default true */
  readonly processMetrics?: boolean;
  /** The `version` label of `tritonscale_build_info`. @default "unknown" */
  readonly version?: string;
  /**
   * Distinct `kind` values each error counter keeps; later new kinds are counted as
   * `other`, so a caller passing error messages cannot blow up the series count. @default 32
   */
  readonly maxErrorKinds?: number;
}

/** The controller's metrics: a DecisionSink plus recording hooks. */
export interface ControllerMetrics extends DecisionSink {
  /** The registry every metric is on (serve it with `registry.metrics()`). */
  readonly registry: Registry;
  /** Exports one decision of one pool (synchronous; never throws for a well-formed decision). */
  publish(d: PoolDecision): void;
  /** Drops every series of a pool that is gone (deleted ModelPool, removed file). */
  removePool(pool: PoolRef): void;
  /**
   * Counts one KEDA external scaler call and its latency. `method` outside the scaler's
   * methods counts as `other`; `code` is a gRPC status (number or name, e.g. 0 or `OK`).
   */
  observeKedaRequest(method: string, seconds: number, code?: number | string): void;
  /** Counts a failed reconcile, by kind (e.g. `load`, `render`, `scrape`, `status`). */
  recordReconcileError(kind: string): void;
  /** Counts a failed server-side apply, by the object's Kubernetes kind (e.g. `Deployment`). */
  recordApplyError(kind: string): void;
  /**
   * Counts one load, save or rebuild of a scaler's learned history (loop/history.ts), by
   * its source (`configmap`, `file`, `prometheus`) and result. Values outside the known
   * sets count as `other`.
   */
  recordHistory(operation: string, source: string, result: string): void;
  /**
   * Whether this instance acts: holds the Lease, or runs without leader election (call
   * `setLeader(true)` then, e.g. with `--pools DIR`). Starts at false. The HPA's adapter
   * rule reads `desired` only from an instance whose `tritonscale_leader` is 1.
   */
  setLeader(leader: boolean): void;
  /** The exposition text of the registry. */
  metrics(): Promise<string>;
}

/** gRPC status code names by number (grpc/doc/statuscodes.md). */
const GRPC_CODES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

/** A gRPC status as a bounded label value: its name, `UNKNOWN` for anything else. */
export function grpcCodeName(code: number | string): string {
  if (typeof code === "number") return GRPC_CODES[code] ?? "UNKNOWN";
  const upper = code.toUpperCase();
  return (GRPC_CODES as readonly string[]).includes(upper) ? upper : "UNKNOWN";
}

/** The snapshot's signals under their `signal` label values. */
const SIGNAL_FIELDS: Readonly<Record<SignalName, (s: LoadSnapshot) => Signal | undefined>> = {
  arrival_rate: (s) => s.arrivalRate,
  pending: (s) => s.pending,
  inflight: (s) => s.inflight,
  queue_delay: (s) => s.queueDelayMs,
  compute_per_batch: (s) => s.computeMsPerBatch,
  batch_size: (s) => s.batchSize,
  gpu_utilization: (s) => s.gpuUtilization,
};

const CAPACITY_TYPES: readonly CapacityType[] = ["spot", "onDemand"];

type Labels = LabelValues<string>;

function gauge(registry: Registry, def: MetricDef): Gauge<string> {
  return new Gauge({
    name: def.name,
    help: def.help,
    labelNames: def.labels,
    registers: [registry],
  });
}

function counter(registry: Registry, def: MetricDef): Counter<string> {
  return new Counter({
    name: def.name,
    help: def.help,
    labelNames: def.labels,
    registers: [registry],
  });
}

/** A finite signal value, or undefined for a missing (or non-finite) one. */
function signalValue(s: Signal | undefined): number | undefined {
  return s !== undefined && Number.isFinite(s.value) ? s.value : undefined;
}

/**
 * Keeps at most `max` distinct label values; later new ones map to `other`. Empty values map
 * to `unknown`, long ones are cut to 63 characters.
 */
function boundedValues(max: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    const v = value === "" ? "unknown" : value.slice(0, 63);
    if (seen.has(v)) return v;
    if (seen.size >= max) return "other";
    seen.add(v);
    return v;
  };
}

/**
 * What each of n Ready replicas sustains for the pool's mix, as the scaler plans: the
 * curve's point for n (its last beyond its end), else one replica's capacity; undefined
 * when that is not finite.
 */
function mixAt(mix: NonNullable<PoolDecision["mix"]>, n: number): number | undefined {
  const curve = mix.byReplicas;
  const c =
    curve === undefined || curve.length === 0 || n < 1
      ? mix.perReplica
      : curve[Math.min(n, curve.length) - 1]!;
  return Number.isFinite(c) ? c : undefined;
}

/**
 * Creates the controller's metrics on a registry of their own. Every series of a pool
 * carries `namespace` and `pool` (and `capacity_type` for replica counts); a Prometheus that
 * scrapes the controller keeps them with `honorLabels: true` (else its own target label
 * `namespace` renames ours to `exported_namespace`).
 *
 * Example: a decision for vision/yolo, desired {spot 2, onDemand 1}, previous {spot 1,
 * onDemand 1}, arrivals 150 req/s over 3 Ready at 60 req/s each → desired_replicas{…,
 * capacity_type="spot"} 2, decisions_total{…, reason_class="scale-up"} +1,
 * scale_events_total{…, capacity_type="spot", direction="up"} +1,
 * headroom_requests_per_second 3 × 60 − 150 = 30 (with a capacity curve that says 3
 * round-robin replicas sustain 70 each: 3 × 70 − 150 = 60).
 */
export function createControllerMetrics(options: ControllerMetricsOptions = {}): ControllerMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const maxKinds = options.maxErrorKinds ?? 32;

  const desired = gauge(registry, METRICS.desiredReplicas);
  const ready = gauge(registry, METRICS.readyReplicas);
  const starting = gauge(registry, METRICS.startingReplicas);
  const pending = gauge(registry, METRICS.pendingReplicas);
  const active = gauge(registry, METRICS.active);
  const held = gauge(registry, METRICS.held);
  const decisions = counter(registry, METRICS.decisions);
  const scaleEvents = counter(registry, METRICS.scaleEvents);
  const lastDecision = gauge(registry, METRICS.lastDecision);
  const arrivalRate = gauge(registry, METRICS.arrivalRate);
  const pendingRequests = gauge(registry, METRICS.pendingRequests);
  const queueDelay = gauge(registry, METRICS.queueDelay);
  const batchSize = gauge(registry, METRICS.batchSize);
  const capacityAtSlo = gauge(registry, METRICS.capacityAtSlo);
  const headroom = gauge(registry, METRICS.headroom);
  const signalAge = gauge(registry, METRICS.signalAge);
  const kedaRequests = counter(registry, METRICS.kedaRequests);
  const kedaDuration = new Histogram({
    name: METRICS.kedaRequestDuration.name,
    help: METRICS.kedaRequestDuration.help,
    labelNames: METRICS.kedaRequestDuration.labels,
    buckets: [...KEDA_DURATION_BUCKETS],
    registers: [registry],
  });
  const scalerTerm = gauge(registry, METRICS.scalerTerm);
  const historyOperations = counter(registry, METRICS.historyOperations);
  const reconcileErrors = counter(registry, METRICS.reconcileErrors);
  const applyErrors = counter(registry, METRICS.applyErrors);
  const leader = gauge(registry, METRICS.leader);
  const buildInfo = gauge(registry, METRICS.buildInfo);
  buildInfo.set({ version: options.version ?? "unknown" }, 1);
  leader.set(0);
  const reconcileKind = boundedValues(maxKinds);
  const applyKind = boundedValues(maxKinds);
  const historySource = boundedValues(8);
  /** Term names exported so far (at most MAX_SCALER_TERMS). */
  const termNames = new Set<string>();
  /** Terms with a series, per pool key (to drop the ones a decision no longer has). */
  const poolTerms = new Map<string, Set<string>>();

  /** Models with a capacity series, per pool key (to drop the ones a pool no longer has). */
  const pools = new Map<string, Set<string>>();

  const poolLabels = (p: PoolRef): Labels => ({
    [NAMESPACE_LABEL]: p.namespace,
    [POOL_LABEL]: p.name,
  });
  const typed = (p: PoolRef, t: CapacityType): Labels => ({
    ...poolLabels(p),
    [CAPACITY_TYPE_LABEL]: CAPACITY_TYPE_VALUES[t],
  });
  const setOrRemove = (g: Gauge<string>, labels: Labels, value: number | undefined) => {
    if (value === undefined) g.remove(labels);
    else g.set(labels, value);
  };

  function firstSight(p: PoolRef): Set<string> {
    const models = new Set<string>();
    pools.set(poolKey(p), models);
    // Counters start at 0, so rate() and increase() see the first event.
    for (const c of REASON_CLASSES) decisions.inc({ ...poolLabels(p), reason_class: c }, 0);
    for (const t of CAPACITY_TYPES) {
      for (const direction of ["up", "down"]) scaleEvents.inc({ ...typed(p, t), direction }, 0);
    }
    return models;
  }

  function publish(d: PoolDecision): void {
    const p = d.pool;
    const models = pools.get(poolKey(p)) ?? firstSight(p);
    const s = d.snapshot;
    const replicas = s.replicas;
    const count = (g: Gauge<string>, by: ByCapacity) => {
      for (const t of CAPACITY_TYPES) g.set(typed(p, t), by[t]);
    };
    count(desired, d.decision.desired);
    count(ready, replicas.ready);
    count(starting, replicas.starting);
    count(pending, replicas.pending);
    const pl = poolLabels(p);
    active.set(pl, d.decision.active ? 1 : 0);
    held.set(pl, d.decision.held ? 1 : 0);
    decisions.inc({ ...pl, reason_class: classifyDecision(d) });
    for (const t of CAPACITY_TYPES) {
      const delta = d.decision.desired[t] - d.previous[t];
      if (delta !== 0) scaleEvents.inc({ ...typed(p, t), direction: delta > 0 ? "up" : "down" });
    }
    lastDecision.set(pl, d.at);

    const arrival = signalValue(s.arrivalRate);
    setOrRemove(arrivalRate, pl, arrival);
    setOrRemove(pendingRequests, pl, signalValue(s.pending));
    const delayMs = signalValue(s.queueDelayMs);
    setOrRemove(queueDelay, pl, delayMs === undefined ? undefined : delayMs / 1000);
    setOrRemove(batchSize, pl, signalValue(s.batchSize));
    for (const signal of SIGNALS) {
      const sig = SIGNAL_FIELDS[signal](s);
      const age = signalValue(sig) === undefined ? Number.POSITIVE_INFINITY : sig!.ageSeconds;
      signalAge.set({ ...pl, signal }, age);
    }

    const capacities = Object.entries(d.capacityPerReplica).filter(([, c]) => Number.isFinite(c));
    const current = new Set(capacities.map(([model]) => model));
    for (const old of models) {
      if (!current.has(old)) capacityAtSlo.remove({ ...pl, model: old });
    }
    models.clear();
    let smallest: number | undefined;
    for (const [model, c] of capacities) {
      capacityAtSlo.set({ ...pl, model }, c);
      models.add(model);
      smallest = smallest === undefined ? c : Math.min(smallest, c);
    }
    const terms = poolTerms.get(poolKey(p)) ?? new Set<string>();
    poolTerms.set(poolKey(p), terms);
    const now = new Set<string>();
    for (const [term, value] of Object.entries(d.decision.terms ?? {})) {
      if (typeof value !== "number") continue;
      if (!termNames.has(term)) {
        if (termNames.size >= MAX_SCALER_TERMS) continue;
        termNames.add(term);
      }
      scalerTerm.set({ ...pl, term }, value);
      now.add(term);
    }
    for (const old of terms) if (!now.has(old)) scalerTerm.remove({ ...pl, term: old });
    poolTerms.set(poolKey(p), now);
    const readyN = totalOf(replicas.ready);
    const eachReady = d.mix === undefined ? smallest : mixAt(d.mix, readyN);
    setOrRemove(
      headroom,
      pl,
      arrival === undefined || eachReady === undefined ? undefined : readyN * eachReady - arrival,
    );
  }

  function removePool(p: PoolRef): void {
    const models = pools.get(poolKey(p));
    if (models === undefined) return;
    pools.delete(poolKey(p));
    const pl = poolLabels(p);
    for (const t of CAPACITY_TYPES) {
      for (const g of [desired, ready, starting, pending]) g.remove(typed(p, t));
      for (const direction of ["up", "down"]) scaleEvents.remove({ ...typed(p, t), direction });
    }
    for (const g of [active, held, lastDecision, arrivalRate, pendingRequests, queueDelay]) {
      g.remove(pl);
    }
    for (const g of [batchSize, headroom]) g.remove(pl);
    for (const c of REASON_CLASSES) decisions.remove({ ...pl, reason_class: c });
    for (const signal of SIGNALS) signalAge.remove({ ...pl, signal });
    for (const model of models) capacityAtSlo.remove({ ...pl, model });
    for (const term of poolTerms.get(poolKey(p)) ?? []) scalerTerm.remove({ ...pl, term });
    poolTerms.delete(poolKey(p));
  }

  function observeKedaRequest(method: string, seconds: number, code: number | string = 0): void {
    const m: KedaMethod = (KEDA_METHODS as readonly string[]).includes(method)
      ? (method as KedaMethod)
      : "other";
    kedaRequests.inc({ method: m, code: grpcCodeName(code) });
    if (Number.isFinite(seconds) && seconds >= 0) kedaDuration.observe({ method: m }, seconds);
  }

  return {
    registry,
    publish,
    removePool,
    observeKedaRequest,
    recordReconcileError: (kind) => reconcileErrors.inc({ kind: reconcileKind(kind) }),
    recordApplyError: (kind) => applyErrors.inc({ kind: applyKind(kind) }),
    recordHistory: (operation, source, result) =>
      historyOperations.inc({
        operation: (HISTORY_OPERATIONS as readonly string[]).includes(operation)
          ? operation
          : "other",
        source: historySource(source),
        result: (HISTORY_RESULTS as readonly string[]).includes(result) ? result : "other",
      }),
    setLeader: (isLeader) => leader.set(isLeader ? 1 : 0),
    metrics: () => registry.metrics(),
  };
}
