import type { Policy } from "../policy/index.js";

/**
 * The PromQL behind the Grafana dashboards (pure: strings only). Every query reads series
 * that something really exports, under the labels it really carries:
 *
 * - Triton's metrics (server docs/user_guide/metrics.md), scraped through the pool's
 *   ServiceMonitor/PodMonitor, which copies the pod labels `tritonscale.dev/pool` and
 *   `tritonscale.dev/capacity-type` onto every series as `tritonscale_dev_pool` and
 *   `tritonscale_dev_capacity_type`, beside `namespace` and `pod` (kube/render/labels.ts).
 * - tritonscale's controller metrics (metrics/names.ts), labelled `namespace`, `pool` and
 *   `capacity_type`, scraped with `honorLabels: true` (README, Controller metrics).
 * - dcgm-exporter's `DCGM_FI_DEV_*` fields (etc/default-counters.csv), for pools whose
 *   `spec.monitoring.gpuUtilization` is `dcgm`.
 * - Prometheus's own `up`, to keep only the pool's pods in the DCGM join.
 *
 * Template variables are written as Grafana interpolates them: `$namespace`, `$pool`,
 * `$model` (multi-value: a regex alternation, so it is always matched with `=~`),
 * `$__rate_interval`, `$__range` and `$__range_s`; {@link fillVariables} substitutes them
 * for a check outside Grafana.
 */

/** Label of the pool on Triton's series (the pod label, as Prometheus sanitizes it). */
export const TRITON_POOL_LABEL = "tritonscale_dev_pool";
/** Label of the capacity type on Triton's series. */
export const TRITON_CAPACITY_LABEL = "tritonscale_dev_capacity_type";

/** The Grafana variables a pool dashboard's queries use. */
export const VARIABLES = {
  namespace: "$namespace",
  pool: "$pool",
  model: "$model",
  rateInterval: "$__rate_interval",
  range: "$__range",
  rangeSeconds: "$__range_s",
  /** The data source variable, in Grafana's `${name}` form. */
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
  datasource: "${datasource}",
} as const;

const RI = VARIABLES.rateInterval;

/** A PromQL string literal (double-quoted; Go escapes, which JSON's agree with for ASCII). */
export function promString(s: string): string {
  return JSON.stringify(s);
}

/** A regular expression matching exactly one of `values` (RE2, anchored by PromQL). */
export function alternation(values: readonly string[]): string {
  return values.map((v) => v.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&")).join("|");
}

/** Where a query's pool comes from: the dashboard's variables, or one pool's literal names. */
export interface PoolScope {
  /** Matchers of Triton's series of the pool: namespace and pool label. */
  readonly triton: string;
  /** Matchers of the controller's series of the pool: namespace and pool. */
  readonly controller: string;
}

/** The scope of a pool dashboard: its variables. */
export const VARIABLE_SCOPE: PoolScope = {
  triton: `namespace="${VARIABLES.namespace}", ${TRITON_POOL_LABEL}="${VARIABLES.pool}"`,
  controller: `namespace="${VARIABLES.namespace}", pool="${VARIABLES.pool}"`,
};

/**
 * The scope of one pool by its names, for the fleet overview; `namespaces` (the fleet's
 * `$namespace` variable) also has to match, so the overview can be narrowed.
 */
export function literalScope(policy: Policy, namespaces?: string): PoolScope {
  const ns = promString(policy.metadata.namespace);
  const name = promString(policy.metadata.name);
  const narrow = namespaces === undefined ? "" : `, namespace=~"${namespaces}"`;
  return {
    triton: `namespace=${ns}, ${TRITON_POOL_LABEL}=${name}${narrow}`,
    controller: `namespace=${ns}, pool=${name}${narrow}`,
  };
}

/** `matchers` and more, joined into one selector body. */
function and(...matchers: string[]): string {
  return matchers.filter((m) => m !== "").join(", ");
}

/** The model filter of a pool dashboard: the `$model` variable. */
export const MODEL_MATCHER = `model=~"${VARIABLES.model}"`;

/**
 * The models clients call (the pool's model names): for an ensemble template that is the
 * ensemble, so its composing models are not counted again (as the recording rules count).
 */
export function entryModels(policy: Policy): string {
  return `model=~${promString(alternation(policy.spec.models.map((m) => m.name)))}`;
}

/**
 * A controller gauge as the acting instance publishes it: a follower (or a former leader)
 * may still export its last values, which must not count (`tritonscale_leader == 1`, as the
 * prometheus-adapter rule of `desired` does).
 */
export function acting(selector: string): string {
  return `(${selector} and on(instance) (tritonscale_leader == 1))`;
}

/** Triton metric rate by model. */
function rateByModel(metric: string, matchers: string): string {
  return `sum by (model) (rate(${metric}{${matchers}}[${RI}]))`;
}

// ---------------------------------------------------------------------------------------
// Traffic

/** Successful requests per second, by model. */
export function requestRate(scope: PoolScope, model = MODEL_MATCHER): string {
  return rateByModel("nv_inference_request_success", and(scope.triton, model));
}

/** Failed requests per second (every `reason`), by model. */
export function failureRate(scope: PoolScope, model = MODEL_MATCHER): string {
  return rateByModel("nv_inference_request_failure", and(scope.triton, model));
}

/** The arrival rate the controller measured (req/s). */
export function controllerArrivalRate(scope: PoolScope): string {
  return `max(${acting(`tritonscale_arrival_rate_requests_per_second{${scope.controller}}`)})`;
}

/**
 * Batch fill: mean executed batch size, by model = Δnv_inference_count / Δnv_inference_exec_count
 * (Triton's own definition; a batch of n counts n inferences and one execution).
 */
export function batchSize(scope: PoolScope): string {
  const m = and(scope.triton, MODEL_MATCHER);
  return `${rateByModel("nv_inference_count", m)} / ${rateByModel("nv_inference_exec_count", m)}`;
}

/** The batch size the controller measured. */
export function controllerBatchSize(scope: PoolScope): string {
  return `max(${acting(`tritonscale_batch_size{${scope.controller}}`)})`;
}

/**
 * Queue time per request (ms), by model = Δnv_inference_queue_duration_us /
 * Δnv_inference_request_success / 1000 (Triton adds a request's queue time once, however
 * large its batch).
 */
export function queueTimeMs(scope: PoolScope, model = MODEL_MATCHER): string {
  const m = and(scope.triton, model);
  return `${rateByModel("nv_inference_queue_duration_us", m)} / ${rateByModel("nv_inference_request_success", m)} / 1000`;
}

/** The queue delay the controller measured, in ms. */
export function controllerQueueTimeMs(scope: PoolScope): string {
  return `max(${acting(`tritonscale_queue_delay_seconds{${scope.controller}}`)}) * 1000`;
}

/** Requests waiting in the batchers (Triton's gauge), by model. */
export function pendingRequests(scope: PoolScope): string {
  return `sum by (model) (nv_inference_pending_request_count{${and(scope.triton, MODEL_MATCHER)}})`;
}

/** The pending requests the controller measured. */
export function controllerPendingRequests(scope: PoolScope): string {
  return `max(${acting(`tritonscale_pending_requests{${scope.controller}}`)})`;
}

// ---------------------------------------------------------------------------------------
// Capacity

/** The replica gauges of the controller, by `state` (their metric names). */
export const REPLICA_GAUGES = {
  ready: "tritonscale_ready_replicas",
  starting: "tritonscale_starting_replicas",
  pending: "tritonscale_pending_replicas",
  desired: "tritonscale_desired_replicas",
} as const;

/** One replica gauge by capacity type (`capacity_type` spot / on-demand). */
export function replicas(scope: PoolScope, state: keyof typeof REPLICA_GAUGES): string {
  return `max by (capacity_type) (${acting(`${REPLICA_GAUGES[state]}{${scope.controller}}`)})`;
}

/** One replica gauge summed over capacity types, by pool. */
export function replicasByPool(namespaces: string, state: keyof typeof REPLICA_GAUGES): string {
  return `sum by (namespace, pool) (${acting(`${REPLICA_GAUGES[state]}{namespace=~"${namespaces}"}`)})`;
}

/** Headroom at the SLO (req/s; negative: past capacity). */
export function headroom(scope: PoolScope): string {
  return `max(${acting(`tritonscale_headroom_requests_per_second{${scope.controller}}`)})`;
}

/** Requests per second one replica sustains at the SLO, by model. */
export function capacityAtSlo(scope: PoolScope): string {
  return `max by (model) (${acting(`tritonscale_capacity_at_slo_requests_per_second{${and(scope.controller, MODEL_MATCHER)}}`)})`;
}

/** Decisions per rate interval, by reason class. */
export function decisionsByClass(scope: PoolScope): string {
  return `sum by (reason_class) (increase(tritonscale_decisions_total{${scope.controller}}[${RI}]))`;
}

/** 1 while the last decision held for missing or stale signals. */
export function held(scope: PoolScope): string {
  return `max(${acting(`tritonscale_held{${scope.controller}}`)})`;
}

/** Held decisions per rate interval. */
export function heldDecisions(scope: PoolScope): string {
  return `sum(increase(tritonscale_decisions_total{${and(scope.controller, 'reason_class="held"')}}[${RI}]))`;
}

/** Age of each signal behind the last decision (s; +Inf while missing). */
export function signalAge(scope: PoolScope): string {
  return `max by (signal) (${acting(`tritonscale_signal_age_seconds{${scope.controller}}`)})`;
}

/** Scale events (changes of a Deployment's desired replicas) for annotations. */
export function scaleEvents(scope: PoolScope): string {
  return `sum by (capacity_type, direction) (increase(tritonscale_scale_events_total{${scope.controller}}[${RI}])) > 0`;
}

// ---------------------------------------------------------------------------------------
// Latency

/**
 * A quantile of Triton's request-time summary (`nv_inference_request_summary_us`, exported
 * with `--metrics-config summary_latencies=true`, which render sets), in ms, by model: the
 * worst pod's, since quantiles of several pods cannot be merged.
 */
export function latencyQuantileMs(scope: PoolScope, quantile: "0.5" | "0.99"): string {
  return `max by (model) (nv_inference_request_summary_us{${and(scope.triton, MODEL_MATCHER, `quantile="${quantile}"`)}}) / 1000`;
}

/** Mean request time inside Triton (ms), by model, from the cumulative counters. */
export function meanLatencyMs(scope: PoolScope, model = MODEL_MATCHER): string {
  const m = and(scope.triton, model);
  return `${rateByModel("nv_inference_request_duration_us", m)} / ${rateByModel("nv_inference_request_success", m)} / 1000`;
}

/** The worst pod's p99 over the pool's entry models (ms), for the fleet overview. */
export function poolP99Ms(policy: Policy, scope: PoolScope): string {
  return `max(nv_inference_request_summary_us{${and(scope.triton, entryModels(policy), 'quantile="0.99"')}}) / 1000`;
}

// ---------------------------------------------------------------------------------------
// GPU

/**
 * A dcgm-exporter field per Triton pod (`by` aggregates several GPUs of a pod).
 *
 * dcgm-exporter names the pod holding a GPU only with its Kubernetes mapping on, as
 * `pod`/`namespace` (`pod_name`/`pod_namespace` with `--use-old-namespace`). Scraped with
 * honorLabels false (prometheus-operator's default), Prometheus renames those to
 * `exported_pod`/`exported_namespace`, and `pod`/`namespace` become the exporter's own.
 * Each variant is moved onto `pod`/`namespace` (as the pool's recording rule does):
 *   1. `exported_pod`/`exported_namespace` (honorLabels false, the usual case);
 *   2. `pod_name`/`pod_namespace` (`--use-old-namespace`);
 *   3. `pod`/`namespace` as scraped (honorLabels true).
 * Only pods that are Triton targets of the pool remain (`and on(namespace, pod) up{...}`).
 */
export function dcgmByPod(
  scope: PoolScope,
  namespace: string,
  metric: string,
  by: "avg" | "sum",
): string {
  const moved = (nsLabel: string, podLabel: string) =>
    `label_replace(label_replace(${metric}{${nsLabel}="${namespace}", ${podLabel}!=""}, "namespace", "$1", "${nsLabel}", "(.+)"), "pod", "$1", "${podLabel}", "(.+)")`;
  const asScraped = `${metric}{namespace="${namespace}", pod!="", exported_pod="", pod_name=""}`;
  // Parenthesized: `and` binds looser than `/` and `*`, which callers apply to the result.
  return `(${by} by (namespace, pod) (${moved("exported_namespace", "exported_pod")} or ${moved("pod_namespace", "pod_name")} or ${asScraped}) and on(namespace, pod) up{${scope.triton}})`;
}

/** GPU utilization per pod, 0..1, from the source the pool names. */
export function gpuUtilization(policy: Policy, scope: PoolScope, namespace: string): string {
  return policy.spec.monitoring.gpuUtilization === "dcgm"
    ? `${dcgmByPod(scope, namespace, "DCGM_FI_DEV_GPU_UTIL", "avg")} / 100`
    : `avg by (namespace, pod) (nv_gpu_utilization{${scope.triton}})`;
}

/** GPU memory used per pod, bytes (DCGM reports MiB). */
export function gpuMemoryBytes(policy: Policy, scope: PoolScope, namespace: string): string {
  return policy.spec.monitoring.gpuUtilization === "dcgm"
    ? `${dcgmByPod(scope, namespace, "DCGM_FI_DEV_FB_USED", "sum")} * 1048576`
    : `sum by (namespace, pod) (nv_gpu_memory_used_bytes{${scope.triton}})`;
}

/** The pool's mean GPU utilization, 0..1, for the fleet overview. */
export function poolGpuUtilization(policy: Policy, scope: PoolScope): string {
  return `avg(${gpuUtilization(policy, scope, policy.metadata.namespace)})`;
}

// ---------------------------------------------------------------------------------------
// Cost

/** The pool's capacity types, as the controller labels them, with their price per GPU-hour. */
export function pricedCapacityTypes(
  policy: Policy,
): { readonly label: "spot" | "on-demand"; readonly perGpuHour: number }[] {
  const c = policy.spec.cost;
  const onDemand = { label: "on-demand" as const, perGpuHour: c.onDemandPerGpuHour };
  return policy.spec.capacity.spot.enabled
    ? [{ label: "spot" as const, perGpuHour: c.spotPerGpuHour }, onDemand]
    : [onDemand];
}

/**
 * GPUs allocated, by capacity type: replicas on a node (ready + starting; a pending one has
 * no node yet, so costs nothing) × GPUs per replica.
 */
export function gpusAllocated(policy: Policy, scope: PoolScope): string {
  const n = policy.spec.capacity.gpu.count;
  return `(${replicas(scope, "ready")} + ${replicas(scope, "starting")}) * ${n}`;
}

/** GPUs allocated of one capacity type (one unlabelled series). */
function gpusOf(policy: Policy, scope: PoolScope, label: string): string {
  const s = { ...scope, controller: and(scope.controller, `capacity_type="${label}"`) };
  return `sum(${gpusAllocated(policy, s)})`;
}

/**
 * Cost per hour at the pool's `spec.cost` prices: Σ over capacity types of GPUs allocated ×
 * price per GPU-hour. Example: 2 Spot + 1 on-demand T4 at 0.19 and 0.526 → 0.906 per hour.
 */
export function costPerHour(policy: Policy, scope: PoolScope): string {
  return pricedCapacityTypes(policy)
    .map((t) => `${gpusOf(policy, scope, t.label)} * ${t.perGpuHour}`)
    .join(" + ");
}

/** GPU-hours over the dashboard's range, by capacity type. */
export function gpuHoursOverRange(policy: Policy, scope: PoolScope): string {
  return `avg_over_time((${gpusAllocated(policy, scope)})[${VARIABLES.range}:]) * ${VARIABLES.rangeSeconds} / 3600`;
}

/** Cost over the dashboard's range. */
export function costOverRange(policy: Policy, scope: PoolScope): string {
  return `avg_over_time((${costPerHour(policy, scope)})[${VARIABLES.range}:]) * ${VARIABLES.rangeSeconds} / 3600`;
}

/**
 * Cost per 1,000 inferences: cost per second / requests served per second (at the models
 * clients call) × 1000. Example: 0.906 per hour at 50 req/s → 0.906 / 3600 / 50 × 1000 =
 * 0.00503.
 */
export function costPer1k(policy: Policy, scope: PoolScope): string {
  const served = `sum(rate(nv_inference_request_success{${and(scope.triton, entryModels(policy))}}[${RI}]))`;
  return `(${costPerHour(policy, scope)}) / 3600 / ${served} * 1000`;
}

// ---------------------------------------------------------------------------------------
// Checking outside Grafana

/** Values of the variables for {@link fillVariables}. */
export interface VariableValues {
  readonly namespace: string;
  readonly pool: string;
  /** Model names; substituted as Grafana does for a multi-value variable: `(a|b)`, escaped. */
  readonly models: readonly string[];
  /** `$__rate_interval`, e.g. `1m`. */
  readonly rateInterval: string;
  /** `$__range`, e.g. `1h`; `$__range_s` is its seconds. */
  readonly rangeSeconds: number;
}

/**
 * A dashboard query with its variables substituted as Grafana would, so that Prometheus
 * (or lezer-promql) can read it. `$1` of label_replace is not a variable and stays.
 */
export function fillVariables(expr: string, v: VariableValues): string {
  // Inside a PromQL string a regex backslash is written twice.
  const regex = alternation(v.models).replaceAll("\\", "\\\\");
  const models = v.models.length === 1 ? regex : `(${regex})`;
  return expr
    .replaceAll(VARIABLES.datasource, "prometheus")
    .replaceAll("$__rate_interval", v.rateInterval)
    .replaceAll("$__range_s", String(v.rangeSeconds))
    .replaceAll("$__range", `${v.rangeSeconds}s`)
    .replaceAll("$namespace", v.namespace)
    .replaceAll("$pool", v.pool)
    .replaceAll("$model", models);
}
