/**
 * The Prometheus {@link MetricsSource} (`spec.monitoring.source: prometheus`), for clusters
 * whose network policy lets only Prometheus reach the pods: every sync period, two instant
 * queries on `spec.monitoring.prometheusAddress`'s HTTP API (`/api/v1/query`):
 *
 *   {__name__=~"nv_inference_request_success|…|nv_gpu_utilization|up",
 *    namespace="<ns>", tritonscale_dev_pool="<pool>"}
 *   timestamp(up{namespace="<ns>", tritonscale_dev_pool="<pool>"})
 *
 * (the pool label as the rendered ServiceMonitor/PodMonitor copies it, kube/render/labels.ts).
 * The raw counters, not rates: replicas (the `pod` label the ServiceMonitor/PodMonitor
 * adds) and counter resets stay visible per series, and scaling/window.ts makes the rates
 * exactly as for the direct scrape. The second query gives each pod's last scrape time,
 * which becomes the replica's `t` (on the caller's clock: `now` less the sample's age).
 *
 * Per pod: `up` 0 → `unreachable` (no series); up, but a pool model has no series yet
 * (Triton exports a model's series once it is loaded) → `loading`; otherwise `ready`.
 * Replicas are keyed by pod name: a container restart in the same pod shows as a counter
 * reset, a replaced pod as a new replica. Prometheus down, a non-success answer or a
 * timeout rejects the round (every signal missing).
 */
import { PROM_POOL_LABEL } from "../kube/render/labels.js";
import type { MetricsSource } from "../loop/ports.js";
import type { Policy } from "../policy/index.js";
import type { PoolScrape, ReplicaScrape } from "../scaling/samples.js";
import { promApiCall, promNumber, promString as q } from "./prometheus-api.js";
import { poolModelNames } from "./scrape-source.js";
import { TRITON_METRICS, TritonSampleBuilder } from "./triton-metrics.js";

/** Options of {@link createPrometheusSource}. */
export interface PrometheusSourceOptions {
  /**
   * Prometheus's base URL. @default the pool's `spec.monitoring.prometheusAddress`
   */
  readonly address?: string;
  /** Time allowed for each query, milliseconds. @default 5000 */
  readonly timeoutMs?: number;
}

/** The two queries of one round for `policy` (exported for tests and docs). */
export function prometheusQueries(policy: Policy): {
  readonly series: string;
  readonly scrapeTimes: string;
} {
  const sel = `namespace=${q(policy.metadata.namespace)},${PROM_POOL_LABEL}=${q(policy.metadata.name)}`;
  return {
    series: `{__name__=~${q([...TRITON_METRICS, "up"].join("|"))},${sel}}`,
    scrapeTimes: `timestamp(up{${sel}})`,
  };
}

/** One sample of an instant vector, as Prometheus's HTTP API answers it. */
export interface VectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

/**
 * One instant query on Prometheus's HTTP API: the vector it answers. Rejects with a
 * message naming Prometheus and the query when it is down, slow, or answers anything but
 * a vector.
 */
export function instantQuery(
  base: string,
  expr: string,
  timeoutMs: number,
): Promise<VectorSample[]> {
  return promApiCall<VectorSample>(base, "query", { query: expr }, "vector", { timeoutMs });
}

/** Creates the Prometheus-API source. */
export function createPrometheusSource(options: PrometheusSourceOptions = {}): MetricsSource {
  const timeoutMs = options.timeoutMs ?? 5000;
  return {
    async collect(policy: Policy, now: number): Promise<PoolScrape> {
      const base = options.address ?? policy.spec.monitoring.prometheusAddress;
      const queries = prometheusQueries(policy);
      const t0 = performance.now();
      const [series, times] = await Promise.all([
        instantQuery(base, queries.series, timeoutMs),
        instantQuery(base, queries.scrapeTimes, timeoutMs),
      ]);
      const pods = new Map<string, { up: boolean; builder: TritonSampleBuilder; age: number }>();
      const podOf = (m: Readonly<Record<string, string>>) => m.pod ?? m.instance ?? "";
      // `up` first: only pods Prometheus currently scrapes are replicas.
      for (const s of series) {
        if (s.metric.__name__ !== "up") continue;
        pods.set(podOf(s.metric), {
          up: promNumber(s.value[1]) === 1,
          builder: new TritonSampleBuilder(),
          age: 0,
        });
      }
      for (const s of times) {
        const p = pods.get(podOf(s.metric));
        if (p) p.age = Math.max(0, s.value[0] - promNumber(s.value[1]));
      }
      for (const s of series) {
        const name = s.metric.__name__ ?? "";
        if (name === "up") continue;
        pods.get(podOf(s.metric))?.builder.add(name, s.metric, promNumber(s.value[1]));
      }
      const wanted = poolModelNames(policy);
      const replicas: ReplicaScrape[] = [...pods.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([pod, p]) => {
          const t = now - p.age;
          if (!p.up) return { replica: pod, t, phase: "unreachable", models: [] };
          const models = p.builder.samples();
          const loaded = new Set(models.map((m) => m.model));
          const phase = wanted.every((m) => loaded.has(m)) ? "ready" : "loading";
          const gpu = p.builder.gpuUtilization();
          return gpu === undefined
            ? { replica: pod, t, phase, models }
            : { replica: pod, t, phase, models, gpuUtilization: gpu };
        });
      return { t: now + (performance.now() - t0) / 1000, replicas };
    },
  };
}
