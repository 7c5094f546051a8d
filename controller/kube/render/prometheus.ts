import type { IMetricSpec } from "kubernetes-models/autoscaling/v2";
import { stringify } from "yaml";
import {
  CAPACITY_TYPE_LABEL,
  CAPACITY_TYPE_VALUES,
  METRICS,
  POOL_LABEL as METRICS_POOL_LABEL,
  NAMESPACE_LABEL,
} from "../../metrics/names.js";
import { formatDuration, type Policy } from "../../policy/index.js";
import { HPA_GPU } from "../../scaling/hpa.js";
import { KEDA_QUEUE } from "../../scaling/keda.js";
import { queueTimeBudgetMs } from "../../scaling/queue-budget.js";
import type { CapacityType } from "../../scaling/types.js";
import { PROM_CAPACITY_LABEL, PROM_POOL_LABEL } from "./labels.js";

/**
 * What Prometheus, KEDA and prometheus-adapter compute for a pool (pure: no I/O):
 *
 * - recording rules of the derived series (request rate, queue time per request, batch
 *   size, pending per replica, GPU utilization), one rule group per pool, every selector
 *   filtered to the pool's namespace and `tritonscale_dev_pool`;
 * - the KEDA prometheus trigger that backs up the external scaler;
 * - prometheus-adapter rules (custom Pods metrics and an External metric) and the
 *   autoscaling/v2 `metrics:` entries that read them.
 *
 * Every expression is checked with lezer-promql when it is rendered (promql.ts); how
 * prometheus-adapter fills the rules' templates is emulated in the tests
 * (test/support/prometheus-adapter.ts).
 *
 * Metric names are Triton's (server docs/user_guide/metrics.md, core src/metrics.cc) and
 * dcgm-exporter's. Series carry `namespace`, `pod`, `service` and `tritonscale_dev_pool`
 * after the ServiceMonitor's relabeling (podTargetLabels copies the pool label).
 */

// ---------------------------------------------------------------------------------------
// Recorded series

/**
 * Names of the recorded series, `level:metric:operation` as Prometheus' naming guide has it.
 * Level `pod` series carry `namespace`, `pod`, `tritonscale_dev_pool`; level `pool` series
 * carry `namespace`, `tritonscale_dev_pool`.
 */
export const RECORDED = {
  /**
   * Requests per second arriving at a pod: rate of nv_inference_request_success +
   * nv_inference_request_failure of the pool's models (the names clients call; for an
   * ensemble template that is the ensemble, so its composing models are not counted again).
   */
  podRequestRate: "pod:tritonscale_requests:rate",
  /** Successful requests per second of the detectors (the GPU models that batch). */
  podDetectorRequestRate: "pod:tritonscale_detector_requests:rate",
  /** Microseconds of queueing per second at the detectors (rate of nv_inference_queue_duration_us). */
  podDetectorQueueRate: "pod:tritonscale_detector_queue_us:rate",
  /** Inferences per second at the detectors (rate of nv_inference_count; a batch of n counts n). */
  podDetectorInferenceRate: "pod:tritonscale_detector_inferences:rate",
  /** Batch executions per second at the detectors (rate of nv_inference_exec_count). */
  podDetectorExecutionRate: "pod:tritonscale_detector_executions:rate",
  /** Requests waiting at a pod's detectors (nv_inference_pending_request_count). */
  podPending: "pod:tritonscale_pending_requests:sum",
  /** Mean time a request waited in a pod's detector queues, in milliseconds (0 when idle). */
  podQueueTimeMs: "pod:tritonscale_queue_time_ms:ratio",
  /** Mean executed batch size at a pod's detectors (0 when nothing executed). */
  podBatchSize: "pod:tritonscale_batch_size:ratio",
  /** A pod's GPU utilization, 0..1 (Triton's nv_gpu_utilization or DCGM_FI_DEV_GPU_UTIL / 100). */
  podGpuUtilization: "pod:tritonscale_gpu_utilization:avg",
  /** Requests per second arriving at the pool. */
  poolRequestRate: "pool:tritonscale_requests:rate",
  /** Mean time a request waited in the pool's detector queues, in milliseconds (0 when idle). */
  poolQueueTimeMs: "pool:tritonscale_queue_time_ms:ratio",
  /** Mean executed batch size over the pool (0 when nothing executed). */
  poolBatchSize: "pool:tritonscale_batch_size:ratio",
  /** Triton pods serving: pods whose last scrape succeeded with a detector loaded. */
  poolReplicas: "pool:tritonscale_replicas:count",
  /** Requests waiting at the pool's detectors. */
  poolPending: "pool:tritonscale_pending_requests:sum",
  /** Requests waiting per serving replica. */
  poolPendingPerReplica: "pool:tritonscale_pending_per_replica:ratio",
  /** Mean GPU utilization of the pool's pods, 0..1. */
  poolGpuUtilization: "pool:tritonscale_gpu_utilization:avg",
} as const;

/** One recorded series' rule. */
export interface RecordingRule {
  /** Name of the recorded series (see {@link RECORDED}). */
  readonly record: string;
  /** PromQL expression evaluated every group interval. */
  readonly expr: string;
  /** Labels added to the recorded series. @default none */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A Prometheus rule group (a `groups:` entry of a rule file or PrometheusRule). */
export interface RuleGroup {
  /** Group name, unique in the Prometheus: `tritonscale.<namespace>.<pool>`. */
  readonly name: string;
  /** Evaluation interval as a Prometheus duration. @default Prometheus' evaluation_interval */
  readonly interval?: string;
  /** Rules, evaluated in order: later rules read what earlier ones recorded at the same instant. */
  readonly rules: readonly RecordingRule[];
}

const POD_BY = `namespace, pod, ${PROM_POOL_LABEL}`;
const POOL_BY = `namespace, ${PROM_POOL_LABEL}`;

/** A PromQL string literal (double-quoted; Go escapes, which JSON's agree with for ASCII). */
function promString(s: string): string {
  return JSON.stringify(s);
}

/** A regular expression matching exactly one of `values` (RE2, anchored by PromQL). */
function alternation(values: readonly string[]): string {
  return values.map((v) => v.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&")).join("|");
}

/** A selector body: the pool's namespace and pool label, then `extra` matchers. */
function poolMatchers(policy: Policy, ...extra: string[]): string {
  return [
    `namespace=${promString(policy.metadata.namespace)}`,
    `${PROM_POOL_LABEL}=${promString(policy.metadata.name)}`,
    ...extra,
  ].join(",");
}

/**
 * The rate window: four scrape intervals, so a rate always spans at least a few samples
 * (Prometheus' rule of thumb) and still follows load within a minute at the 15 s default.
 */
export function rateWindow(policy: Policy): string {
  return formatDuration(4 * policy.spec.monitoring.scrapeIntervalSeconds);
}

/**
 * The series of the pool's detectors: the model that batches on the GPU. Without knowing
 * the template kind, both namings are tried per pod: an ensemble template's detector is
 * `<model>-detector` (repository/render.ts roleModelName), any other template's detector
 * is `<model>` itself. `<model>-detector` wins where it exists (`or on(namespace, pod,
 * model)` after renaming it to `<model>`), so an ensemble's own near-zero queue time and
 * per-request "batches" never dilute the detector's, and its Python pre/postprocess
 * models are left out.
 *
 * `inner` wraps a selector, e.g. `(s) => \`rate(${s}[1m])\``.
 */
function detectorSeries(policy: Policy, metric: string, inner: (sel: string) => string): string {
  const names = policy.spec.models.map((m) => m.name);
  const detectors = promString(alternation(names.map((n) => `${n}-detector`)));
  const entries = promString(alternation(names));
  const det = inner(`${metric}{${poolMatchers(policy, `model=~${detectors}`)}}`);
  const own = inner(`${metric}{${poolMatchers(policy, `model=~${entries}`)}}`);
  return `label_replace(${det}, "model", "$1", "model", "(.+)-detector") or on(namespace, pod, model) ${own}`;
}

/** `a / b`, or 0 where b is 0 (an idle pod has no mean), never NaN. */
function ratioOrZero(a: string, b: string): string {
  return `${a} / (${b} > 0) or ${b} == 0`;
}

/**
 * A pod's GPU utilization (0..1) from dcgm-exporter, keyed by the Triton pod.
 *
 * dcgm-exporter labels a GPU with the pod holding it only with its Kubernetes mapping on
 * (DCGM_EXPORTER_KUBERNETES, the default in the GPU Operator), as `pod`/`namespace`
 * (`pod_name`/`pod_namespace` with `--use-old-namespace`). Scraped with honorLabels false
 * (prometheus-operator's default), Prometheus renames clashing ones to
 * `exported_pod`/`exported_namespace` and `pod`/`namespace` become the *exporter's* pod.
 * Joining on those is why GPU metrics sit in Prometheus while the custom metrics API
 * returns nothing for the workload (dcgm-exporter #42, prometheus-adapter #644). So each
 * variant is moved onto `pod`/`namespace` with label_replace:
 *   1. `exported_pod`/`exported_namespace` (honorLabels false, the usual case);
 *   2. `pod_name`/`pod_namespace` (`--use-old-namespace`, any honorLabels);
 *   3. `pod`/`namespace` as scraped (honorLabels true).
 * GPUs held by no pod, and the exporter's own pod, find no Triton pod in the join. The
 * join (`group_left`) keeps only pods that are Triton targets of this pool and adds the
 * pool label from Triton's `up` series (a pod is a target whether or not a model has
 * loaded). Several GPUs of one pod are averaged.
 */
function dcgmGpuUtilization(policy: Policy): string {
  const ns = promString(policy.metadata.namespace);
  const metric = "DCGM_FI_DEV_GPU_UTIL";
  const moved = (nsLabel: string, podLabel: string) =>
    `label_replace(label_replace(${metric}{${nsLabel}=${ns},${podLabel}!=""}, "namespace", "$1", "${nsLabel}", "(.+)"), "pod", "$1", "${podLabel}", "(.+)")`;
  const asScraped = `${metric}{namespace=${ns},pod!="",exported_pod="",pod_name=""}`;
  const byPod = `avg by (namespace, pod) (${moved("exported_namespace", "exported_pod")} or ${moved("pod_namespace", "pod_name")} or ${asScraped})`;
  const tritonPods = `group by (${POD_BY}) (up{${poolMatchers(policy)}})`;
  return `${byPod} / 100 * on(namespace, pod) group_left(${PROM_POOL_LABEL}) ${tritonPods}`;
}

/**
 * The recording rules of a pool: one group `tritonscale.<namespace>.<pool>`, evaluated
 * every scrape interval, rates over {@link rateWindow}. See {@link RECORDED} for what each
 * series means. Definitions:
 *
 * - Request rate counts success + failure at the models clients call: arrivals, including
 *   those the server rejected (a rejected request is demand too).
 * - Queue time per request = Δnv_inference_queue_duration_us / Δnv_inference_request_success
 *   / 1000. The denominator is requests, not nv_inference_count: Triton adds a request's
 *   queue time once however large its batch, and both the queue time and the success
 *   count include response-cache hits while nv_inference_count excludes them.
 * - Batch size = Δnv_inference_count / Δnv_inference_exec_count (Triton's own definition).
 * - Pending per replica = Σ nv_inference_pending_request_count / replicas, where replicas
 *   counts pods with a pending-count series: Triton creates it when the detector loads,
 *   and a failed scrape marks it stale at once, so a pod counts only while it serves.
 *   (`count(up)` would count pods still loading the model.)
 * - GPU utilization from Triton's nv_gpu_utilization (0..1) or dcgm-exporter's
 *   DCGM_FI_DEV_GPU_UTIL (percent, divided by 100), per `spec.monitoring.gpuUtilization`.
 *
 * Worked example (rate window 1m): pod a serves 30 req/s queueing 180 000 µs/s in
 * 7.5 batches/s with 6 pending, pod b 10 req/s, 20 000 µs/s, 5 batches/s, 2 pending →
 * pool 40 req/s, queue time (180 000 + 20 000) / 40 / 1000 = 5 ms, batch 40 / 12.5 = 3.2,
 * pending per replica 8 / 2 = 4.
 */
export function buildRecordingRules(policy: Policy): RuleGroup[] {
  const w = rateWindow(policy);
  const rate = (sel: string) => `rate(${sel}[${w}])`;
  const gauge = (sel: string) => sel;
  const podSum = (metric: string, inner: (sel: string) => string) =>
    `sum by (${POD_BY}) (${detectorSeries(policy, metric, inner)})`;
  const rec = (name: string) => `${name}{${poolMatchers(policy)}}`;
  const poolSum = (name: string) => `sum by (${POOL_BY}) (${rec(name)})`;
  const entries = promString(alternation(policy.spec.models.map((m) => m.name)));

  const gpu =
    policy.spec.monitoring.gpuUtilization === "dcgm"
      ? dcgmGpuUtilization(policy)
      : `avg by (${POD_BY}) (nv_gpu_utilization{${poolMatchers(policy)}})`;

  const rules: RecordingRule[] = [
    {
      record: RECORDED.podRequestRate,
      expr: `sum by (${POD_BY}) (${rate(`{__name__=~"nv_inference_request_(success|failure)",${poolMatchers(policy, `model=~${entries}`)}}`)})`,
    },
    {
      record: RECORDED.podDetectorRequestRate,
      expr: podSum("nv_inference_request_success", rate),
    },
    {
      record: RECORDED.podDetectorQueueRate,
      expr: podSum("nv_inference_queue_duration_us", rate),
    },
    { record: RECORDED.podDetectorInferenceRate, expr: podSum("nv_inference_count", rate) },
    { record: RECORDED.podDetectorExecutionRate, expr: podSum("nv_inference_exec_count", rate) },
    { record: RECORDED.podPending, expr: podSum("nv_inference_pending_request_count", gauge) },
    {
      record: RECORDED.podQueueTimeMs,
      expr: ratioOrZero(
        `${rec(RECORDED.podDetectorQueueRate)} / 1000`,
        rec(RECORDED.podDetectorRequestRate),
      ),
    },
    {
      record: RECORDED.podBatchSize,
      expr: ratioOrZero(
        rec(RECORDED.podDetectorInferenceRate),
        rec(RECORDED.podDetectorExecutionRate),
      ),
    },
    { record: RECORDED.podGpuUtilization, expr: gpu },
    { record: RECORDED.poolRequestRate, expr: poolSum(RECORDED.podRequestRate) },
    {
      record: RECORDED.poolQueueTimeMs,
      expr: ratioOrZero(
        `${poolSum(RECORDED.podDetectorQueueRate)} / 1000`,
        poolSum(RECORDED.podDetectorRequestRate),
      ),
    },
    {
      record: RECORDED.poolBatchSize,
      expr: ratioOrZero(
        poolSum(RECORDED.podDetectorInferenceRate),
        poolSum(RECORDED.podDetectorExecutionRate),
      ),
    },
    { record: RECORDED.poolReplicas, expr: `count by (${POOL_BY}) (${rec(RECORDED.podPending)})` },
    { record: RECORDED.poolPending, expr: poolSum(RECORDED.podPending) },
    {
      record: RECORDED.poolPendingPerReplica,
      expr: `${rec(RECORDED.poolPending)} / ${rec(RECORDED.poolReplicas)}`,
    },
    {
      record: RECORDED.poolGpuUtilization,
      expr: `avg by (${POOL_BY}) (${rec(RECORDED.podGpuUtilization)})`,
    },
  ];
  return [
    {
      name: `tritonscale.${policy.metadata.namespace}.${policy.metadata.name}`,
      interval: formatDuration(policy.spec.monitoring.scrapeIntervalSeconds),
      rules,
    },
  ];
}

/** A Prometheus rule file (`groups: [...]`), for `rule_files:` or `promtool check rules`. */
export function formatRuleFile(groups: readonly RuleGroup[]): string {
  const doc = {
    groups: groups.map((g) => ({
      name: g.name,
      ...(g.interval === undefined ? {} : { interval: g.interval }),
      rules: g.rules.map((r) => ({
        record: r.record,
        expr: r.expr,
        ...(r.labels === undefined ? {} : { labels: { ...r.labels } }),
      })),
    })),
  };
  return stringify(doc, { lineWidth: 0 });
}

// ---------------------------------------------------------------------------------------
// Targets shared by KEDA and the HPA

export { queueTimeBudgetMs } from "../../scaling/queue-budget.js";

/**
 * Pending requests per replica the HPA aims for (engine hpa): half a full batch per
 * detector instance, summed over the models (at least 1) — a replica with more than that
 * waiting beyond the batch it executes is falling behind. The `keda-queue` baseline uses
 * its fixed 4 (KEDA_QUEUE). Example: one model, maxBatchSize 16, 1 instance → 8.
 */
export function pendingPerReplicaTarget(policy: Policy): number {
  if (policy.spec.scaling.scaler === "keda-queue") return KEDA_QUEUE.threshold;
  const perReplica = policy.spec.models.reduce(
    (acc, m) => acc + (m.instances * Math.max(1, m.maxBatchSize)) / 2,
    0,
  );
  return Math.max(1, perReplica);
}

/** A number as KEDA metadata or a Kubernetes quantity: plain decimal, at most 3 decimals. */
function decimal(x: number): string {
  if (!Number.isFinite(x) || x < 0) {
    throw new RangeError(`a target must be a finite number >= 0. Received: ${x}`);
  }
  return String(Math.round(x * 1000) / 1000);
}

// ---------------------------------------------------------------------------------------
// KEDA

/** Metadata of a KEDA `prometheus` trigger; every value is a string, as KEDA reads them. */
export type KedaPrometheusMetadata = {
  /** Prometheus' URL (`spec.monitoring.prometheusAddress`). */
  readonly serverAddress: string;
  /** PromQL returning exactly one sample: the pool's queue pressure (see {@link kedaPrometheusTrigger}). */
  readonly query: string;
  /** Target per replica (AverageValue): the queue-time budget in ms. */
  readonly threshold: string;
  /** Active when the value is above this: "0", so any queueing keeps the pool active. */
  readonly activationThreshold: string;
  /** "false": an empty result is an error, never read as 0 (KEDA 5009 / 3064). */
  readonly ignoreNullValues: "false";
};

/**
 * The prometheus trigger beside tritonscale's external scaler (metricType AverageValue),
 * so a pool still scales up when the controller is unreachable (KEDA's `fallback` never
 * fires for a failing external scaler, KEDA 8056).
 *
 * Query: ready replicas × the pool's mean queue time per request (ms), one sample (`sum`,
 * as KEDA rejects several). With AverageValue the HPA wants ceil(value / threshold) =
 * ceil(R × q / budget): the HPA's proportional rule on queue time, with the budget of
 * {@link queueTimeBudgetMs}. Below the budget it proposes fewer replicas than run, and
 * the HPA takes the largest proposal, so the external trigger decides; past the budget
 * (where the tritonscale scaler itself sees the replicas past capacity) it pushes up.
 * While the external trigger fails the HPA does not scale down at all, so this trigger
 * can only hold or add — the safe side.
 *
 * Worked example: SLO 85 ms → threshold 42.5. 3 replicas queueing 60 ms → 180 →
 * ceil(180 / 42.5) = 5 replicas. Healthy at 3 ms → 9 → 1, the external trigger's count wins.
 *
 * `ignoreNullValues: "false"`: with KEDA's default (true) a lost target or broken
 * pipeline returns an empty vector, read as 0 → "scale down / to zero" (KEDA 5009). Here
 * it is an error, and an erroring trigger neither activates nor deactivates. At zero
 * replicas there is nothing to measure, so the trigger errors there by design; activation
 * from zero is the external scaler's job. An idle pool reads 0 (queue time 0 when no
 * requests), not NaN.
 *
 * With `capacityType`, the query is for one Deployment of a pool split into Spot and
 * on-demand: the pool's queue time × that Deployment's serving pods (Triton targets up
 * with the copied capacity-type label), so each ScaledObject asks for its own share
 * instead of both asking for the whole pool.
 */
export function kedaPrometheusTrigger(
  policy: Policy,
  capacityType?: "spot" | "on-demand",
): KedaPrometheusMetadata {
  const sel = `{${poolMatchers(policy)}}`;
  const replicas =
    capacityType === undefined
      ? `sum(${RECORDED.poolReplicas}${sel})`
      : `count(up{${poolMatchers(policy, `${PROM_CAPACITY_LABEL}=${promString(capacityType)}`)}} == 1)`;
  return {
    serverAddress: policy.spec.monitoring.prometheusAddress,
    query: `sum(${RECORDED.poolQueueTimeMs}${sel}) * ${replicas}`,
    threshold: decimal(queueTimeBudgetMs(policy)),
    activationThreshold: "0",
    ignoreNullValues: "false",
  };
}

// ---------------------------------------------------------------------------------------
// prometheus-adapter

/** `resources.overrides` value: the Kubernetes group-resource a Prometheus label names. */
export interface AdapterResourceOverride {
  /** API group; omitted for the core group. */
  readonly group?: string;
  /** Resource, e.g. `pod`, `namespace`. */
  readonly resource: string;
}

/** One prometheus-adapter discovery rule (docs/config.md). */
export interface AdapterRule {
  /** Series query (as for `/api/v1/series`) that discovers the series this rule serves. */
  readonly seriesQuery: string;
  /** Association: which labels name which Kubernetes resources. */
  readonly resources: {
    /** Prometheus label → group-resource. */
    readonly overrides: Readonly<Record<string, AdapterResourceOverride>>;
  };
  /** Naming: the API name (`as`) of series matching `matches`. */
  readonly name: { readonly matches: string; readonly as: string };
  /** Go template (delimiters `<<` `>>`) of the query for one API request. */
  readonly metricsQuery: string;
}

/** The part of prometheus-adapter's config file tritonscale writes. */
export interface AdapterConfig {
  /** Custom metrics (custom.metrics.k8s.io), here Pods metrics. */
  readonly rules: readonly AdapterRule[];
  /** External metrics (external.metrics.k8s.io). */
  readonly externalRules: readonly AdapterRule[];
}

/** Names of the metrics in the Kubernetes metrics APIs, as HPAs ask for them. */
export const ADAPTER_METRICS = {
  /** Pods metric: a pod's mean queue time per request, ms. */
  queueTimeMs: "tritonscale_queue_time_ms",
  /** Pods metric: a pod's GPU utilization, 0..1. */
  gpuUtilization: "tritonscale_gpu_utilization",
  /** External metric: the pool's pending requests per serving replica (select the pool by label). */
  pendingPerReplica: "tritonscale_pending_per_replica",
  /**
   * External metric: the controller's decision for one Deployment, its
   * `tritonscale_desired_replicas` gauge (select `pool` and `capacity_type` by label).
   */
  desiredReplicas: METRICS.desiredReplicas.name,
} as const;

const POD_RESOURCES = {
  overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } },
} as const;

function exact(series: string): string {
  return `^${series.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&")}$`;
}

/**
 * prometheus-adapter rules serving the recorded series:
 * - Pods metrics {@link ADAPTER_METRICS}.queueTimeMs and .gpuUtilization, from the `pod`
 *   level series. Both carry the Triton pod's own `namespace`/`pod` whatever the GPU
 *   source (the recording rule maps DCGM's labels), so `namespace`→namespace and
 *   `pod`→pod is right for both.
 * - External metric .pendingPerReplica from the `pool` level series, namespaced (the
 *   adapter adds the HPA's namespace); the HPA selects the pool with
 *   `tritonscale_dev_pool: <pool>`.
 *
 * - External metric .desiredReplicas from the controller's own `/metrics`
 *   (metrics/names.ts): `tritonscale_desired_replicas{namespace, pool, capacity_type}`, the
 *   same decision the KEDA external scaler answers with. The controller labels the series
 *   with the pool's namespace (Prometheus keeps it with `honorLabels: true` on the
 *   controller's scrape), so the adapter's `namespace` matcher selects the HPA's pools.
 *   Only the acting instance counts (`and on(instance) tritonscale_leader == 1`): a
 *   follower's or a former leader's last gauge never outvotes the leader's.
 *
 * The rules name series, not pools (the pool comes from the request: the HPA's pods, or
 * its metric selector), so every pool yields the same rules: merging several pools'
 * configs needs only dropping duplicates, and rules never clash.
 */
export function buildAdapterRules(_policy: Policy): AdapterConfig {
  const podRule = (series: string, as: string): AdapterRule => ({
    seriesQuery: `${series}{namespace!="",pod!="",${PROM_POOL_LABEL}!=""}`,
    resources: POD_RESOURCES,
    name: { matches: exact(series), as },
    metricsQuery: "max by (<<.GroupBy>>) (<<.Series>>{<<.LabelMatchers>>})",
  });
  return {
    rules: [
      podRule(RECORDED.podQueueTimeMs, ADAPTER_METRICS.queueTimeMs),
      podRule(RECORDED.podGpuUtilization, ADAPTER_METRICS.gpuUtilization),
    ],
    externalRules: [
      {
        seriesQuery: `${RECORDED.poolPendingPerReplica}{namespace!="",${PROM_POOL_LABEL}!=""}`,
        resources: { overrides: { namespace: { resource: "namespace" } } },
        name: {
          matches: exact(RECORDED.poolPendingPerReplica),
          as: ADAPTER_METRICS.pendingPerReplica,
        },
        // The adapter passes no GroupBy for external metrics: group by the pool explicitly.
        metricsQuery: `max by (${POOL_BY}) (<<.Series>>{<<.LabelMatchers>>})`,
      },
      {
        seriesQuery: `${METRICS.desiredReplicas.name}{${DESIRED_BY.map((l) => `${l}!=""`).join(",")}}`,
        resources: { overrides: { [NAMESPACE_LABEL]: { resource: "namespace" } } },
        name: {
          matches: exact(METRICS.desiredReplicas.name),
          as: ADAPTER_METRICS.desiredReplicas,
        },
        metricsQuery: `max by (${DESIRED_BY.join(", ")}) (<<.Series>>{<<.LabelMatchers>>} and on(instance) (${METRICS.leader.name} == 1))`,
      },
    ],
  };
}

/** Labels of the controller's `desired` series, which its External rule groups by. */
const DESIRED_BY = [NAMESPACE_LABEL, METRICS_POOL_LABEL, CAPACITY_TYPE_LABEL] as const;

/** prometheus-adapter's config file (`--config`): `rules:` and `externalRules:`. */
export function formatAdapterConfig(config: AdapterConfig): string {
  const rule = (r: AdapterRule) => ({
    seriesQuery: r.seriesQuery,
    resources: {
      overrides: Object.fromEntries(
        Object.entries(r.resources.overrides).map(([label, o]) => [
          label,
          o.group === undefined
            ? { resource: o.resource }
            : { group: o.group, resource: o.resource },
        ]),
      ),
    },
    name: { matches: r.name.matches, as: r.name.as },
    metricsQuery: r.metricsQuery,
  });
  return stringify(
    { rules: config.rules.map(rule), externalRules: config.externalRules.map(rule) },
    { lineWidth: 0 },
  );
}

/**
 * The autoscaling/v2 `metrics:` of one Deployment's HPA (engine hpa), read from the
 * adapter metrics of {@link buildAdapterRules}, by `spec.scaling.scaler`:
 * - `tritonscale`: External {@link ADAPTER_METRICS}.desiredReplicas for this Deployment
 *   (selector `pool`, `capacity_type`), target AverageValue 1 — the controller's decision,
 *   the same KEDA's external trigger gets — and, as KEDA's fallback trigger does, Pods queue
 *   time, target AverageValue {@link queueTimeBudgetMs} ms, which pushes up only past the
 *   budget and keeps the HPA scaling on queue time while the controller is down (a failing
 *   metric blocks scale-down, never scale-up). The HPA follows the larger.
 * - `keda-queue`: External pending per replica, target Value 4 (the baseline's threshold).
 * - `hpa-gpu`: Pods GPU utilization, target AverageValue 0.7 (the baseline's target).
 *
 * Why AverageValue 1 lands on the decision: for an External AverageValue target the HPA
 * wants ceil(value / target) = ceil(desired / 1) = desired, unless
 * |value / (target × current) − 1| ≤ its tolerance (0.1), when it keeps `current`. Worked
 * numbers: current 3, desired 5 → 5/3 = 1.67 → 5. Below 10 replicas any change of one
 * replica is past 10%, so the HPA follows exactly; from 10 it may stay up to 10% off:
 * current 10, desired 11 → 1.1 → keeps 10; current 20 keeps 18..22. Kubernetes ≥ 1.33
 * with the HPAConfigurableTolerance gate takes a per-direction `tolerance` in the
 * behavior, which closes that gap.
 */
export function hpaMetricSpecs(policy: Policy, capacityType: CapacityType): IMetricSpec[] {
  const pending: IMetricSpec = {
    type: "External",
    external: {
      metric: {
        name: ADAPTER_METRICS.pendingPerReplica,
        selector: { matchLabels: { [PROM_POOL_LABEL]: policy.metadata.name } },
      },
      target: { type: "Value", value: decimal(pendingPerReplicaTarget(policy)) },
    },
  };
  const desired: IMetricSpec = {
    type: "External",
    external: {
      metric: {
        name: ADAPTER_METRICS.desiredReplicas,
        selector: {
          matchLabels: {
            [METRICS_POOL_LABEL]: policy.metadata.name,
            [CAPACITY_TYPE_LABEL]: CAPACITY_TYPE_VALUES[capacityType],
          },
        },
      },
      target: { type: "AverageValue", averageValue: "1" },
    },
  };
  const pods = (name: string, target: number): IMetricSpec => ({
    type: "Pods",
    pods: { metric: { name }, target: { type: "AverageValue", averageValue: decimal(target) } },
  });
  switch (policy.spec.scaling.scaler) {
    case "hpa-gpu":
      return [pods(ADAPTER_METRICS.gpuUtilization, HPA_GPU.target)];
    case "keda-queue":
      return [pending];
    case "tritonscale":
      return [desired, pods(ADAPTER_METRICS.queueTimeMs, queueTimeBudgetMs(policy))];
  }
}
