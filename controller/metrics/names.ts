/**
 * The controller's Prometheus metrics as data: names, types, labels and meanings. One
 * table drives the prom-client registry (metrics/registry.ts), the README's table (a test
 * compares them) and the prometheus-adapter rule that serves `desired` to the HPA
 * (kube/render/prometheus.ts). No prom-client import here, so render can read the names
 * without loading the client.
 */

/** Label naming the pool's namespace. */
export const NAMESPACE_LABEL = "namespace";
/** Label naming the pool (the ModelPool's name). */
export const POOL_LABEL = "pool";
/** Label naming a Deployment's capacity type, as the pods' `tritonscale.dev/capacity-type`. */
export const CAPACITY_TYPE_LABEL = "capacity_type";

/** `capacity_type` label values: the pods' capacity-type label values, not the TypeScript keys. */
export const CAPACITY_TYPE_VALUES = { spot: "spot", onDemand: "on-demand" } as const;

/**
 * Decision classes of `tritonscale_decisions_total{reason_class}`: a fixed set, so the
 * label's cardinality is bounded whatever the scalers write in their reasons (see
 * metrics/reason-class.ts for how a decision is classed).
 */
export const REASON_CLASSES = [
  "held",
  "scale-to-zero",
  "schedule",
  "scale-up",
  "scale-down",
  "rebalance",
  "steady",
] as const;
/** One decision class. */
export type ReasonClass = (typeof REASON_CLASSES)[number];

/** `signal` label values of `tritonscale_signal_age_seconds`: the LoadSnapshot's signals. */
export const SIGNALS = [
  "arrival_rate",
  "pending",
  "inflight",
  "queue_delay",
  "compute_per_batch",
  "batch_size",
  "gpu_utilization",
] as const;
/** One signal name. */
export type SignalName = (typeof SIGNALS)[number];

/** KEDA external scaler methods (`method` label); anything else is counted as `other`. */
export const KEDA_METHODS = [
  "IsActive",
  "StreamIsActive",
  "GetMetricSpec",
  "GetMetrics",
  "StreamMetricSpec",
  "other",
] as const;
/** One KEDA method label value. */
export type KedaMethod = (typeof KEDA_METHODS)[number];

/** `operation` label values of `tritonscale_history_operations_total`. */
export const HISTORY_OPERATIONS = ["load", "save", "rebuild"] as const;
/** `result` label values of `tritonscale_history_operations_total`. */
export const HISTORY_RESULTS = ["ok", "absent", "rejected", "error"] as const;

/**
 * Distinct `term` label values `tritonscale_scaler_term` keeps; terms with later new names
 * are not exported (scalers name a fixed set; this bounds a bug).
 */
export const MAX_SCALER_TERMS = 64;

/** Prometheus metric types used here. */
export type MetricType = "gauge" | "counter" | "histogram";

/** One metric of the controller. */
export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly string[];
  /** HELP text; the README's "meaning" column. */
  readonly help: string;
}

const PC = [NAMESPACE_LABEL, POOL_LABEL, CAPACITY_TYPE_LABEL] as const;
const P = [NAMESPACE_LABEL, POOL_LABEL] as const;

/** Every metric of the controller, by a short key. Names are prefixed `tritonscale_`. */
export const METRICS = {
  desiredReplicas: {
    name: "tritonscale_desired_replicas",
    type: "gauge",
    labels: PC,
    help: "Replicas the last decision wants for the pool's Deployment of this capacity type (what KEDA and the HPA are told).",
  },
  readyReplicas: {
    name: "tritonscale_ready_replicas",
    type: "gauge",
    labels: PC,
    help: "Replicas serving traffic, as the last decision saw them.",
  },
  startingReplicas: {
    name: "tritonscale_starting_replicas",
    type: "gauge",
    labels: PC,
    help: "Replicas scheduled and starting (image pull, model load, warm-up), as the last decision saw them.",
  },
  pendingReplicas: {
    name: "tritonscale_pending_replicas",
    type: "gauge",
    labels: PC,
    help: "Replicas waiting for a GPU node, as the last decision saw them.",
  },
  active: {
    name: "tritonscale_active",
    type: "gauge",
    labels: P,
    help: "1 when the last decision wants the pool to have replicas (KEDA's IsActive), else 0.",
  },
  held: {
    name: "tritonscale_held",
    type: "gauge",
    labels: P,
    help: "1 when missing or stale signals made the last decision hold instead of deciding, else 0.",
  },
  decisions: {
    name: "tritonscale_decisions_total",
    type: "counter",
    labels: [...P, "reason_class"],
    help: "Decisions, by class: held, scale-to-zero, schedule, scale-up, scale-down, rebalance, steady.",
  },
  scaleEvents: {
    name: "tritonscale_scale_events_total",
    type: "counter",
    labels: [...PC, "direction"],
    help: "Decisions that changed a Deployment's desired replicas, by direction (up, down).",
  },
  lastDecision: {
    name: "tritonscale_last_decision_timestamp_seconds",
    type: "gauge",
    labels: P,
    help: "Time of the pool's last decision on the loop's clock (Unix seconds live).",
  },
  arrivalRate: {
    name: "tritonscale_arrival_rate_requests_per_second",
    type: "gauge",
    labels: P,
    help: "Requests per second arriving at the pool over the rate window; absent while the signal is missing.",
  },
  pendingRequests: {
    name: "tritonscale_pending_requests",
    type: "gauge",
    labels: P,
    help: "Requests waiting in the pool's batcher queues; absent while the signal is missing.",
  },
  queueDelay: {
    name: "tritonscale_queue_delay_seconds",
    type: "gauge",
    labels: P,
    help: "Mean time a request waited in a batcher queue over the rate window; absent while the signal is missing.",
  },
  batchSize: {
    name: "tritonscale_batch_size",
    type: "gauge",
    labels: P,
    help: "Batch fill: mean batch size executed over the rate window (inferences per execution); absent while the signal is missing.",
  },
  capacityAtSlo: {
    name: "tritonscale_capacity_at_slo_requests_per_second",
    type: "gauge",
    labels: [...P, "model"],
    help: "Requests per second one replica sustains with p99 latency inside the SLO, per model, as the scaler used it.",
  },
  headroom: {
    name: "tritonscale_headroom_requests_per_second",
    type: "gauge",
    labels: P,
    help: "Ready replicas x what each sustains at the SLO as the scaler plans (the capacity for the pool's mix of models, at that many replicas when the pool spreads requests round-robin; the smallest per-model capacity where no mix is known), minus the arrival rate (negative: past capacity); absent while the arrival rate is missing.",
  },
  signalAge: {
    name: "tritonscale_signal_age_seconds",
    type: "gauge",
    labels: [...P, "signal"],
    help: "Age of the newest sample behind each signal of the last decision; +Inf while the signal is missing.",
  },
  scalerTerm: {
    name: "tritonscale_scaler_term",
    type: "gauge",
    labels: [...P, "term"],
    help: "A named number behind the last decision (its terms, e.g. leadHeadroom, keepAliveSeconds), as the reason quotes it; absent when the last decision did not use that term.",
  },
  historyOperations: {
    name: "tritonscale_history_operations_total",
    type: "counter",
    labels: ["operation", "source", "result"],
    help: "Loads, saves and rebuilds of the scalers' learned histories, by source (configmap, file, prometheus) and result (ok, absent, rejected, error).",
  },
  kedaRequests: {
    name: "tritonscale_keda_requests_total",
    type: "counter",
    labels: ["method", "code"],
    help: "KEDA external scaler calls answered, by method and gRPC status code.",
  },
  kedaRequestDuration: {
    name: "tritonscale_keda_request_duration_seconds",
    type: "histogram",
    labels: ["method"],
    help: "Time to answer a KEDA external scaler call (for streams, time to the first message), by method.",
  },
  reconcileErrors: {
    name: "tritonscale_reconcile_errors_total",
    type: "counter",
    labels: ["kind"],
    help: "Reconciles of a pool that failed, by kind of failure.",
  },
  applyErrors: {
    name: "tritonscale_apply_errors_total",
    type: "counter",
    labels: ["kind"],
    help: "Server-side applies that failed, by Kubernetes kind of the object.",
  },
  leader: {
    name: "tritonscale_leader",
    type: "gauge",
    labels: [],
    help: "1 when this instance acts (holds the Lease, or runs without leader election), else 0.",
  },
  buildInfo: {
    name: "tritonscale_build_info",
    type: "gauge",
    labels: ["version"],
    help: "Always 1; the version label names the running tritonscale.",
  },
} as const satisfies Record<string, MetricDef>;

/** The keys of {@link METRICS}. */
export type MetricKey = keyof typeof METRICS;

/**
 * Histogram buckets of `tritonscale_keda_request_duration_seconds`: KEDA's calls are answered
 * from memory (target p99 < 1 ms), so the buckets start at 100 µs.
 */
export const KEDA_DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
] as const;
