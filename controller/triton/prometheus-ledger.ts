/**
 * A live pool's use over a period, read from Prometheus: the {@link UsageLedger} of the cost
 * report's `--prometheus URL --from-time --to-time` input. Every call goes through
 * prometheus-api.ts (timeout, bounded answer, `status` checked). What is read, and how:
 *
 * **GPU-hours allocated**, per capacity type, from the controller's gauges (metrics/names.ts)
 *
 *   max by (capacity_type) ((tritonscale_ready_replicas{namespace, pool}
 *                           + tritonscale_starting_replicas{namespace, pool})
 *                          and on(instance) (tritonscale_leader == 1))
 *
 * (a pending replica has no node yet and costs nothing; only the acting instance counts, as
 * on the dashboards) as a range query on a grid of `stepSeconds` ending at each bucket's
 * end. Each grid point stands for the step before it (the gauge's sample is at most a
 * scrape old), so the integral is Σ value × step × GPUs per replica. Worked: points 2, 2, 3
 * at a 15 s step, 1 GPU per replica → (2 + 2 + 3) × 15 s = 105 GPU-seconds = 0.02917 h.
 * A point missing between two present ones (the controller was not scraped, e.g. while it
 * restarted: PromQL drops a series at once when its target goes down) is a gap: up to
 * `maxGapSeconds` it holds the last value (the pods keep running without the controller),
 * longer it counts nothing; both are written in the notes with their GPU-hours. Before the
 * first point and after the last one nothing is counted (the pool did not exist yet, or
 * any more). Accuracy: a change counts from the first grid point after Prometheus scraped
 * it, about one step late on average; with a step at the scrape interval the error per
 * replica change is within one step's GPU-hours. The step defaults to the pool's scrape
 * interval, coarser past {@link MAX_GRID_POINTS} points; range queries ask for at most
 * {@link MAX_POINTS_PER_QUERY} points each (Prometheus refuses more than 11,000).
 *
 * **Requests** per model (the pool's model names, the ones clients call) and capacity type
 * (the `tritonscale_dev_capacity_type` label the ServiceMonitor/PodMonitor copies), per
 * bucket: `sum by (model, tritonscale_dev_capacity_type) (increase(
 * {__name__=~"nv_inference_request_(success|failure)", …}[<bucket>]))` at the bucket's end.
 * `increase` counts a counter reset as a restart from 0 and extrapolates to the bucket's
 * edges (error within one scrape's requests per series at each edge; a new pod's requests
 * before its first scrape are not counted).
 *
 * **Busy GPU-hours** per model from Triton's compute time. `nv_inference_compute_infer_
 * duration_us` adds a batch's compute time once per request of the batch, so the GPU's
 * busy time is that sum × executions / requests (exact while the batch size is constant
 * within a rate window): `rate(infer[W]) * rate(exec[W]) / rate(success[W])` by model and
 * capacity type, W = 4 scrape intervals (at least one step), on a grid of W ending at the
 * bucket's end, integrated as the gauges are (each point stands for the window before
 * it, so the windows tile the bucket). Composing models of an ensemble (`<model>-…`)
 * count for their model. Capped at the row's allocated GPU-hours (several model instances
 * on one GPU overlap; the note says when). Without compute-time counters (`--metrics-config
 * counter_latencies=false`), a bucket's busy time is the GPUs' utilization from the pool's
 * `spec.monitoring.gpuUtilization` source (`nv_gpu_utilization`, or dcgm-exporter's
 * `DCGM_FI_DEV_GPU_UTIL` mapped to the pool's pods as the dashboards map it), split over
 * models by requests, and the notes say so.
 *
 * **Requests within the SLO** from Triton's request summary (`nv_inference_request_summary_
 * us`, quantiles 0.5 … 0.999 over a 60 s sliding window, exported with `--metrics-config
 * summary_latencies=true`, which render sets). An estimate, said so in the notes: every
 * `attainmentStepSeconds` each pod's quantiles give the fraction of its requests within
 * `spec.slo.latencyP99Ms` ({@link fractionWithin}: linear between the quantiles that
 * bracket the SLO), weighted by the requests the pod served in that step (the summary's
 * `_count`); a row's requests within = that fraction over its bucket (over the period when
 * the bucket has no summary samples) × its served requests. Failed requests are never
 * within. Without the summary the bucket says `sloMeasured: false` and the notes say so.
 *
 * **Scale events** from `tritonscale_desired_replicas` (same grid): each change of a
 * capacity type's desired count is one event, `at` the first grid point showing it. A
 * scale-up from f to g is charged the allocated replicas between f and g (min(allocated,
 * g) − f, when positive) from that point's step until desired falls back to f or below
 * (or the range ends), so nested scale-ups never count a replica twice. Worked: desired 1
 * → 3 seen at t, 2 replicas allocated from t − step on, desired back to 1 ten 15 s steps
 * later: (min(2, 3) − 1) × 10 × 15 s = 150 replica-seconds (× GPUs per replica). The
 * reason is the decision classes (`tritonscale_decisions_total{reason_class}`) counted in
 * the window before the change: the reason's text is in the controller's log and the
 * pool's events, not in Prometheus.
 *
 * An empty answer for the pool's replica gauges is an error naming the query and what is
 * likely wrong (the controller is not scraped, another namespace or pool name, a range
 * before the pool existed), found out with two more queries.
 */
import { PROM_CAPACITY_LABEL, PROM_POOL_LABEL } from "../kube/render/labels.js";
import { CAPACITY_TYPE_VALUES } from "../metrics/names.js";
import { formatDuration, type Policy } from "../policy/index.js";
import { dcgmByPod } from "../report/dashboard-queries.js";
import type {
  LedgerCapacityType,
  ScaleEventUse,
  UsageBucket,
  UsageLedger,
} from "../report/usage.js";
import { promApiCall, promNumber, promString as q } from "./prometheus-api.js";

/** Options of {@link prometheusLedger}. */
export interface PrometheusLedgerOptions {
  /** Prometheus's base URL (the pool's `spec.monitoring.prometheusAddress` by default in the CLI). */
  readonly url: string;
  /** The pool, loaded. */
  readonly policy: Policy;
  /** The pool's namespace. @default policy.metadata.namespace */
  readonly namespace?: string;
  /** Period start, Unix seconds. */
  readonly from: number;
  /** Period end, Unix seconds (after `from`). */
  readonly to: number;
  /** Bucket length, seconds; buckets start at `from`, the last may be shorter. @default 86400 */
  readonly bucketSeconds?: number;
  /**
   * Grid of the replica gauges, seconds. @default the pool's scrape interval
   * (`spec.monitoring.scrapeInterval`), coarser when the period would have more than
   * {@link MAX_GRID_POINTS} points (30 days at 15 s: 26 s)
   */
  readonly stepSeconds?: number;
  /** Grid of the SLO estimate from the request summary, seconds. @default 60 (the summary's window) */
  readonly attainmentStepSeconds?: number;
  /** Longest gap in the replica gauges that holds the last value, seconds. @default 300 */
  readonly maxGapSeconds?: number;
  /** Time allowed for each query, milliseconds. @default 30000 */
  readonly timeoutMs?: number;
  /** Largest answer read per query, bytes. @default 64 MiB */
  readonly maxBytes?: number;
  readonly signal?: AbortSignal;
}

/** Most grid points of a period by default: a longer period gets a coarser step. */
export const MAX_GRID_POINTS = 100_000;

/** Most points one range query asks for (Prometheus refuses more than 11,000 per series). */
export const MAX_POINTS_PER_QUERY = 10_000;

interface MatrixSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly (readonly [number, string])[];
}

interface VectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

/** The PromQL of a ledger (exported for tests and docs). */
export interface LedgerQueries {
  /** GPU-carrying replicas (ready + starting) by capacity_type, acting instance only. */
  readonly allocated: string;
  /** Desired replicas by capacity_type, acting instance only. */
  readonly desired: string;
  /** Decisions per class over `window` before each point. */
  readonly decisions: (window: number) => string;
  /** Requests (success + failure) by model and capacity type over `window` seconds. */
  readonly requests: (window: number) => string;
  /** Successful requests by model and capacity type over `window` seconds. */
  readonly served: (window: number) => string;
  /** Busy GPU-seconds per second by model and capacity type, over the rate window. */
  readonly busyRate: string;
  /**
   * Busy GPUs by capacity type from GPU utilization (the pool's `spec.monitoring.
   * gpuUtilization` source), for when Triton's compute-time counters are absent.
   */
  readonly gpuBusy: string;
  /** The request summary's quantiles of the entry models, per pod. */
  readonly quantiles: string;
  /** Requests observed by the summary over `window` seconds, per pod and model. */
  readonly summaryCount: (window: number) => string;
}

/** A regular expression matching exactly one of `values` (RE2, anchored by PromQL). */
function alternation(values: readonly string[]): string {
  return values.map((v) => v.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&")).join("|");
}

const dur = (seconds: number): string => formatDuration(seconds);

/** The rate window of the busy-time subquery: 4 scrape intervals, at least one step. */
export function busyWindowSeconds(policy: Policy, stepSeconds: number): number {
  return Math.max(4 * policy.spec.monitoring.scrapeIntervalSeconds, stepSeconds);
}

/** The queries of {@link prometheusLedger} for `policy` in `namespace`. */
export function ledgerQueries(
  policy: Policy,
  namespace: string,
  busyWindow: number,
): LedgerQueries {
  const ctl = `namespace=${q(namespace)},pool=${q(policy.metadata.name)}`;
  const pods = `namespace=${q(namespace)},${PROM_POOL_LABEL}=${q(policy.metadata.name)}`;
  const entry = `${pods},model=~${q(alternation(policy.spec.models.map((m) => m.name)))}`;
  const acting = (e: string) => `((${e}) and on(instance) (tritonscale_leader == 1))`;
  const by = `model,${PROM_CAPACITY_LABEL}`;
  const w = dur(busyWindow);
  return {
    allocated: `max by (capacity_type) ${acting(`tritonscale_ready_replicas{${ctl}} + tritonscale_starting_replicas{${ctl}}`)}`,
    desired: `max by (capacity_type) ${acting(`tritonscale_desired_replicas{${ctl}}`)}`,
    decisions: (window) =>
      `sum by (reason_class) (increase(tritonscale_decisions_total{${ctl}}[${dur(window)}])) > 0`,
    requests: (window) =>
      `sum by (${by}) (increase({__name__=~"nv_inference_request_(success|failure)",${entry}}[${dur(window)}]))`,
    served: (window) =>
      `sum by (${by}) (increase(nv_inference_request_success{${entry}}[${dur(window)}]))`,
    // `or … * 0`: an idle window is 0, not absent (absent means no compute-time counters).
    busyRate: `sum by (${by}) ((rate(nv_inference_compute_infer_duration_us{${pods}}[${w}]) * rate(nv_inference_exec_count{${pods}}[${w}]) / (rate(nv_inference_request_success{${pods}}[${w}]) > 0)) or (rate(nv_inference_compute_infer_duration_us{${pods}}[${w}]) * 0)) / 1e6`,
    gpuBusy:
      policy.spec.monitoring.gpuUtilization === "dcgm"
        ? `sum by (${PROM_CAPACITY_LABEL}) (${dcgmByPod({ triton: pods, controller: ctl }, namespace, "DCGM_FI_DEV_GPU_UTIL", "avg")} / 100 * on(namespace, pod) group_left(${PROM_CAPACITY_LABEL}) max by (namespace, pod, ${PROM_CAPACITY_LABEL}) (up{${pods}})) * ${policy.spec.capacity.gpu.count}`
        : `sum by (${PROM_CAPACITY_LABEL}) (nv_gpu_utilization{${pods}})`,
    quantiles: `nv_inference_request_summary_us{${entry}}`,
    summaryCount: (window) =>
      `increase(nv_inference_request_summary_us_count{${entry}}[${dur(window)}])`,
  };
}

/**
 * The fraction of requests within `slo` (same unit as the latencies) from a summary's
 * quantiles: linear between the two quantiles whose latencies bracket `slo`; 1 at or above
 * the highest quantile's latency (the tail beyond it is taken as within: an error of at
 * most 1 − that quantile, 0.001 for Triton's 0.999); 0 below the lowest's (at most that
 * quantile, 0.5 for Triton's, counted as missed). Worked: p50 40 ms, p90 60 ms, p95 80 ms,
 * SLO 70 ms → 0.9 + (70 − 60) / (80 − 60) × 0.05 = 0.925. Undefined without a finite
 * quantile.
 */
export function fractionWithin(
  quantiles: readonly { readonly q: number; readonly latency: number }[],
  slo: number,
): number | undefined {
  const pts = quantiles
    .filter((p) => Number.isFinite(p.latency) && Number.isFinite(p.q))
    .sort((a, b) => a.q - b.q);
  if (pts.length === 0) return undefined;
  // A summary's quantiles may come out of order by their error bounds: keep them monotone.
  let max = -Infinity;
  const mono = pts.map((p) => {
    max = Math.max(max, p.latency);
    return { q: p.q, latency: max };
  });
  const top = mono[mono.length - 1]!;
  if (slo >= top.latency) return 1;
  if (slo < mono[0]!.latency) return 0;
  for (let i = mono.length - 1; i > 0; i--) {
    const lo = mono[i - 1]!;
    const hi = mono[i]!;
    if (slo >= lo.latency && slo < hi.latency) {
      return lo.q + ((slo - lo.latency) / (hi.latency - lo.latency)) * (hi.q - lo.q);
    }
  }
  return mono[0]!.q;
}

/** One point of a grid: its time and the seconds before it that it stands for. */
interface GridPoint {
  readonly t: number;
  readonly cover: number;
  readonly bucket: number;
}

/** A bucket of the period. */
interface Bucket {
  readonly start: number;
  readonly seconds: number;
}

/** The buckets of [from, to): `bucketSeconds` long from `from`, the last cut at `to`. */
export function ledgerBuckets(
  from: number,
  to: number,
  bucketSeconds: number,
): { start: number; seconds: number }[] {
  const out: Bucket[] = [];
  for (let s = from; s < to; s += bucketSeconds)
    out.push({ start: s, seconds: Math.min(bucketSeconds, to - s) });
  return out;
}

/**
 * The grid of [start, end) at `step`: points end, end − step, … down to above start; each
 * stands for the step before it, the first for what is left down to `start`.
 */
function grid(start: number, end: number, step: number, bucket: number): GridPoint[] {
  const k = Math.max(1, Math.ceil((end - start) / step - 1e-9));
  const pts: GridPoint[] = [];
  for (let i = k - 1; i >= 0; i--) {
    const t = end - i * step;
    pts.push({ t, cover: Math.min(step, t - start), bucket });
  }
  return pts;
}

const key = (t: number): number => Math.round(t * 1000);

const CT_OF: Record<string, LedgerCapacityType> = {
  [CAPACITY_TYPE_VALUES.spot]: "spot",
  [CAPACITY_TYPE_VALUES.onDemand]: "onDemand",
};

const iso = (t: number): string => new Date(t * 1000).toISOString().replace(".000Z", "Z");

/** Reads a pool's use over [from, to) from Prometheus. */
export async function prometheusLedger(options: PrometheusLedgerOptions): Promise<UsageLedger> {
  const { policy, url, from, to } = options;
  if (!Number.isFinite(from) || !Number.isFinite(to) || !(from < to)) {
    throw new RangeError(
      `the period must end after it starts (got from ${from} to ${to}, Unix seconds)`,
    );
  }
  const namespace = options.namespace ?? policy.metadata.namespace;
  const bucketSeconds = positive("bucketSeconds", options.bucketSeconds ?? 86_400);
  const step = positive(
    "stepSeconds",
    options.stepSeconds ??
      Math.max(
        policy.spec.monitoring.scrapeIntervalSeconds,
        Math.ceil((to - from) / MAX_GRID_POINTS),
      ),
  );
  const attainmentStep = positive("attainmentStepSeconds", options.attainmentStepSeconds ?? 60);
  const maxGap = options.maxGapSeconds ?? 300;
  const limits = {
    timeoutMs: options.timeoutMs ?? 30_000,
    maxBytes: options.maxBytes ?? 64 * 2 ** 20,
  };
  const busyWindow = busyWindowSeconds(policy, step);
  const Q = ledgerQueries(policy, namespace, busyWindow);
  const gpus = policy.spec.capacity.gpu.count;
  const gpuType = policy.spec.capacity.gpu.type;
  const pool = policy.metadata.name;
  const models = policy.spec.models.map((m) => m.name);
  const sloUs = policy.spec.slo.latencyP99Ms * 1000;
  const notes: string[] = [];

  const instant = (expr: string, at: number) =>
    promApiCall<VectorSample>(
      url,
      "query",
      { query: expr, time: String(at) },
      "vector",
      limits,
      options.signal,
    );

  /** A range query on the grid points of one bucket, in chunks Prometheus accepts. */
  const onGrid = async (expr: string, pts: readonly GridPoint[], s: number) => {
    const out = new Map<
      string,
      { metric: Readonly<Record<string, string>>; at: Map<number, number> }
    >();
    for (let i = 0; i < pts.length; i += MAX_POINTS_PER_QUERY) {
      const chunk = pts.slice(i, i + MAX_POINTS_PER_QUERY);
      const result = await promApiCall<MatrixSeries>(
        url,
        "query_range",
        {
          query: expr,
          start: String(chunk[0]!.t),
          end: String(chunk[chunk.length - 1]!.t),
          step: String(s),
        },
        "matrix",
        limits,
        options.signal,
      );
      const t0 = chunk[0]!.t;
      for (const series of result) {
        const id = JSON.stringify(Object.entries(series.metric).sort());
        let entry = out.get(id);
        if (!entry) {
          entry = { metric: series.metric, at: new Map() };
          out.set(id, entry);
        }
        for (const [t, v] of series.values) {
          // Snap to the grid: Prometheus answers start + i × step.
          const idx = Math.round((t - t0) / s);
          const p = chunk[idx];
          const n = promNumber(v);
          if (p !== undefined && Number.isFinite(n)) entry.at.set(key(p.t), n);
        }
      }
    }
    return [...out.values()];
  };

  const buckets = ledgerBuckets(from, to, bucketSeconds);
  const points: GridPoint[] = buckets.flatMap((b, i) =>
    grid(b.start, b.start + b.seconds, step, i),
  );

  // --- allocated replicas and desired replicas, on the grid --------------------------------
  const perBucketGrid = async (expr: string) => {
    const all = new Map<string, Map<number, number>>();
    for (const i of buckets.keys()) {
      const pts = points.filter((p) => p.bucket === i);
      for (const s of await onGrid(expr, pts, step)) {
        const ct = s.metric.capacity_type ?? "";
        const m = all.get(ct) ?? new Map<number, number>();
        for (const [k, v] of s.at) m.set(k, v);
        all.set(ct, m);
      }
    }
    return all;
  };
  const allocated = await perBucketGrid(Q.allocated);
  if (allocated.size === 0) {
    throw new Error(await emptyReplicasMessage());
  }
  // GPU-hours per bucket and capacity type, and the held / filled series for scale events.
  const gpuHours = new Map<string, number>(); // `${bucket}/${ct}`
  const allocatedFilled = new Map<LedgerCapacityType, Map<number, number>>();
  for (const [label, series] of allocated) {
    const ct = CT_OF[label];
    if (ct === undefined) {
      notes.push(
        `replica gauges with capacity_type ${JSON.stringify(label)} were left out (neither ${CAPACITY_TYPE_VALUES.spot} nor ${CAPACITY_TYPE_VALUES.onDemand})`,
      );
      continue;
    }
    const filled = fillGaps(series, points, maxGap);
    for (const g of filled.gaps) {
      const hours = (g.held * g.seconds * gpus) / 3600;
      notes.push(
        g.bridged
          ? `${label}: no replica gauges from ${iso(g.from)} to ${iso(g.from + g.seconds)} (${g.seconds} s; the controller was not scraped): the last value, ${g.held} replicas, was held (${round(hours)} GPU-hours)`
          : `${label}: no replica gauges from ${iso(g.from)} to ${iso(g.from + g.seconds)} (${g.seconds} s, longer than ${maxGap} s): counted as no replicas; pods that ran then are missing from the GPU-hours`,
      );
    }
    allocatedFilled.set(ct, filled.values);
    for (const p of points) {
      const v = filled.values.get(key(p.t));
      if (v === undefined) continue;
      const k = `${p.bucket}/${ct}`;
      gpuHours.set(k, (gpuHours.get(k) ?? 0) + (v * p.cover * gpus) / 3600);
    }
  }

  // --- Triton's counters, per bucket -------------------------------------------------------
  const ctOfTriton = (m: Readonly<Record<string, string>>): LedgerCapacityType | undefined => {
    const v = m[PROM_CAPACITY_LABEL];
    if (v === undefined) return undefined;
    return CT_OF[v];
  };
  const unlabelled = new Set<string>();
  const perBucket = async (exprOf: (window: number) => string) => {
    const out = new Map<string, number>(); // `${bucket}/${ct}/${model}`
    for (const [i, b] of buckets.entries()) {
      for (const s of await instant(exprOf(b.seconds), b.start + b.seconds)) {
        const v = promNumber(s.value[1]);
        if (!Number.isFinite(v)) continue;
        let ct = ctOfTriton(s.metric);
        if (ct === undefined) {
          unlabelled.add(s.metric[PROM_CAPACITY_LABEL] ?? "");
          ct = "onDemand";
        }
        const k = `${i}/${ct}/${s.metric.model ?? ""}`;
        out.set(k, (out.get(k) ?? 0) + v);
      }
    }
    return out;
  };
  const requests = await perBucket(Q.requests);
  const served = await perBucket(Q.served);
  // Busy: the rate on a grid of the rate window (each window the step before its point).
  const busyRaw = new Map<string, number>();
  const fromUtilization = new Set<number>();
  for (const [i, b] of buckets.entries()) {
    const pts = grid(b.start, b.start + b.seconds, busyWindow, i);
    const integrate = (s: { at: ReadonlyMap<number, number> }) =>
      pts.reduce((sec, p) => sec + (s.at.get(key(p.t)) ?? 0) * p.cover, 0);
    const compute = await onGrid(Q.busyRate, pts, busyWindow);
    for (const s of compute) {
      const c = ctOfTriton(s.metric) ?? "onDemand";
      const k = `${i}/${c}/${s.metric.model ?? ""}`;
      busyRaw.set(k, (busyRaw.get(k) ?? 0) + integrate(s));
    }
    if (compute.length > 0) continue;
    // No compute-time counters (`--metrics-config counter_latencies=false`): the GPUs'
    // utilization, split over the models by their requests.
    for (const s of await onGrid(Q.gpuBusy, pts, busyWindow)) {
      const c = ctOfTriton(s.metric) ?? "onDemand";
      const sec = integrate(s);
      const reqs = models.map((m) => requests.get(`${i}/${c}/${m}`) ?? 0);
      const total = reqs.reduce((x, y) => x + y, 0);
      for (const [j, m] of models.entries()) {
        const k = `${i}/${c}/${m}`;
        const share = total > 0 ? reqs[j]! / total : 1 / models.length;
        busyRaw.set(k, (busyRaw.get(k) ?? 0) + sec * share);
      }
      fromUtilization.add(i);
    }
  }
  if (fromUtilization.size > 0) {
    const metric =
      policy.spec.monitoring.gpuUtilization === "dcgm"
        ? "DCGM_FI_DEV_GPU_UTIL"
        : "nv_gpu_utilization";
    notes.push(
      `busy GPU-hours of ${fromUtilization.size} of ${buckets.length} bucket(s) come from ${metric} (the share of time a kernel ran, which overstates how full a GPU was), split over models by requests: Triton's compute-time counters were absent (--metrics-config counter_latencies=false?)`,
    );
  }
  // Composing models count for the pool model they belong to (`<model>-…`).
  const busy = new Map<string, number>();
  const strays = new Set<string>();
  for (const [k, sec] of busyRaw) {
    const [b, ct, model] = k.split("/") as [string, string, string];
    const owner = ownerModel(models, model);
    if (owner === undefined) {
      strays.add(model);
      continue;
    }
    const kk = `${b}/${ct}/${owner}`;
    busy.set(kk, (busy.get(kk) ?? 0) + sec);
  }
  if (unlabelled.size > 0) {
    notes.push(
      `Triton series without a known ${PROM_CAPACITY_LABEL} label (${[...unlabelled].map((v) => JSON.stringify(v)).join(", ")}) were counted as on-demand`,
    );
  }
  if (strays.size > 0) {
    notes.push(
      `compute time of models not in the pool (${[...strays].sort().join(", ")}) was left out of busy GPU-hours`,
    );
  }

  // --- SLO attainment from the request summary ----------------------------------------------
  const within = new Map<string, { n: number; nf: number }>(); // `${bucket}/${ct}/${model}`
  let summarySeen = false;
  for (const [i, b] of buckets.entries()) {
    const pts = grid(b.start, b.start + b.seconds, attainmentStep, i);
    const qs = await onGrid(Q.quantiles, pts, attainmentStep);
    if (qs.length === 0) continue;
    summarySeen = true;
    // Requests per step weigh the step's fraction; a window of at least 4 scrapes, so
    // increase() has samples (overlapping windows scale every weight alike).
    const countWindow = Math.max(attainmentStep, 4 * policy.spec.monitoring.scrapeIntervalSeconds);
    const counts = await onGrid(Q.summaryCount(countWindow), pts, attainmentStep);
    const podKey = (m: Readonly<Record<string, string>>) =>
      JSON.stringify(
        Object.entries(m)
          .filter(([k]) => k !== "quantile" && k !== "__name__")
          .sort(),
      );
    const quantilesOf = new Map<string, { q: number; at: Map<number, number> }[]>();
    for (const s of qs) {
      const qv = Number(s.metric.quantile);
      if (!Number.isFinite(qv)) continue;
      const k = podKey(s.metric);
      quantilesOf.set(k, [...(quantilesOf.get(k) ?? []), { q: qv, at: s.at }]);
    }
    for (const c of counts) {
      const qsOfPod = quantilesOf.get(podKey(c.metric)) ?? [];
      const ct = ctOfTriton(c.metric) ?? "onDemand";
      const k = `${i}/${ct}/${c.metric.model ?? ""}`;
      const acc = within.get(k) ?? { n: 0, nf: 0 };
      for (const p of pts) {
        const n = c.at.get(key(p.t));
        if (n === undefined || n <= 0) continue;
        const f = fractionWithin(
          qsOfPod.map((x) => ({ q: x.q, latency: x.at.get(key(p.t)) ?? Number.NaN })),
          sloUs,
        );
        if (f === undefined) continue;
        acc.n += n;
        acc.nf += n * f;
      }
      within.set(k, acc);
    }
  }
  if (summarySeen) {
    notes.push(
      `SLO attainment is estimated from Triton's request-time summary (nv_inference_request_summary_us, time inside Triton, network and client not included): every ${attainmentStep} s each pod's quantiles give the share of its requests within ${policy.spec.slo.latencyP99Ms} ms, linear between the quantiles around the SLO, weighted by its requests; the error is at most the gap between those quantiles`,
    );
  } else {
    notes.push(
      `SLO attainment was not measured (the report leaves it out): no nv_inference_request_summary_us series for ${namespace}/${pool}; render turns it on with --metrics-config=summary_latencies=true, which older manifests lack`,
    );
  }

  // --- rows ---------------------------------------------------------------------------------
  const periodFraction = (model: string): number | undefined => {
    let n = 0;
    let nf = 0;
    for (const [k, acc] of within)
      if (k.endsWith(`/${model}`)) {
        n += acc.n;
        nf += acc.nf;
      }
    return n > 0 ? nf / n : undefined;
  };
  const unmeasured = new Set<string>();
  const rows: UsageBucket[] = [];
  let capped = 0;
  let evenSplit = false;
  for (const [i, b] of buckets.entries()) {
    for (const ct of ["spot", "onDemand"] as const) {
      const hours = gpuHours.get(`${i}/${ct}`) ?? 0;
      const req = (m: string) => requests.get(`${i}/${ct}/${m}`) ?? 0;
      const bus = (m: string) => (busy.get(`${i}/${ct}/${m}`) ?? 0) / 3600;
      if (hours === 0 && models.every((m) => req(m) === 0)) continue;
      const totalBusy = models.reduce((s, m) => s + bus(m), 0);
      const totalReq = models.reduce((s, m) => s + req(m), 0);
      for (const model of models) {
        const share =
          totalBusy > 0
            ? bus(model) / totalBusy
            : totalReq > 0
              ? req(model) / totalReq
              : 1 / models.length;
        if (totalBusy === 0 && totalReq === 0 && models.length > 1 && hours > 0) evenSplit = true;
        const rowHours = hours * share;
        let rowBusy = bus(model);
        if (rowBusy > rowHours) {
          capped = Math.max(capped, rowBusy - rowHours);
          rowBusy = rowHours;
        }
        const ok = served.get(`${i}/${ct}/${model}`) ?? 0;
        const acc = within.get(`${i}/${ct}/${model}`);
        let fraction = acc !== undefined && acc.n > 0 ? acc.nf / acc.n : undefined;
        if (fraction === undefined && ok > 0) {
          fraction = periodFraction(model);
          if (fraction === undefined) unmeasured.add(model);
        }
        rows.push({
          pool,
          namespace,
          model,
          capacityType: ct,
          gpuType,
          start: b.start,
          seconds: b.seconds,
          gpuHours: rowHours,
          busyGpuHours: rowBusy,
          requests: req(model),
          requestsWithinSlo: Math.min(req(model), (fraction ?? 0) * ok),
          ...(fraction === undefined && ok > 0 ? { sloMeasured: false } : {}),
        });
      }
    }
  }
  if (summarySeen && unmeasured.size > 0) {
    notes.push(
      `no request-summary samples with requests for ${[...unmeasured].sort().join(", ")}: their SLO attainment is not measured (left out of it)`,
    );
  }
  notes.push(
    `GPU-hours: the controller's ready + starting replicas × ${gpus} GPU(s) on a ${step} s grid; requests: Prometheus's increase() per bucket (extrapolated to the bucket's edges); busy: the rate of compute time × executions / requests on a ${busyWindow} s grid`,
  );
  if (models.length > 1) {
    notes.push(
      "a capacity type's GPU-hours are split over models by their share of busy time (of requests without it)",
    );
  }
  if (evenSplit) {
    notes.push(
      "buckets without compute time or requests split their GPU-hours evenly over the models",
    );
  }
  if (capped > 0) {
    notes.push(
      `busy GPU-hours above the allocated ones (up to ${round(capped)} h in a row; model instances sharing a GPU overlap) were capped at the allocated`,
    );
  }

  // --- scale events -------------------------------------------------------------------------
  const desired = await perBucketGrid(Q.desired);
  const decisionWindow = Math.max(4 * step, 4 * policy.spec.monitoring.scrapeIntervalSeconds);
  const changes: { at: number; from: number; to: number; ct: LedgerCapacityType; added: number }[] =
    [];
  for (const [label, series] of desired) {
    const ct = CT_OF[label];
    if (ct === undefined) continue;
    const alloc = allocatedFilled.get(ct) ?? new Map<number, number>();
    const present = points.filter((p) => series.has(key(p.t)));
    for (let j = 1; j < present.length; j++) {
      const f = series.get(key(present[j - 1]!.t))!;
      const g = series.get(key(present[j]!.t))!;
      if (f === g) continue;
      let added = 0;
      if (g > f) {
        for (let m = j; m < present.length; m++) {
          const p = present[m]!;
          if (m > j && series.get(key(p.t))! <= f) break;
          const a = alloc.get(key(p.t)) ?? 0;
          added += Math.max(0, Math.min(a, g) - f) * p.cover;
        }
      }
      changes.push({ at: present[j]!.t, from: f, to: g, ct, added });
    }
  }
  const classes = await decisionClasses(new Set(changes.map((c) => key(c.at))));
  const scaleEvents: ScaleEventUse[] = changes.map((c) => ({
    pool,
    namespace,
    at: c.at,
    from: c.from,
    to: c.to,
    capacityType: c.ct,
    gpuType,
    addedGpuHours: (c.added * gpus) / 3600,
    reason: (classes.get(key(c.at)) ?? []).join(", ") || "unknown",
  }));
  scaleEvents.sort((a, b) => a.at - b.at || (a.capacityType < b.capacityType ? -1 : 1));
  if (scaleEvents.length > 0) {
    notes.push(
      `scale events: changes of tritonscale_desired_replicas on the ${step} s grid; their reason is the decision classes of the ${decisionWindow} s before (the reason's text is in the controller's log)`,
    );
  }
  return { source: "prometheus", from, to, buckets: rows, scaleEvents, notes };

  /** Decision classes counted in the window before each grid point of `at` (keys). */
  async function decisionClasses(at: ReadonlySet<number>): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    for (const i of buckets.keys()) {
      const inBucket = points.filter((p) => p.bucket === i);
      if (!inBucket.some((p) => at.has(key(p.t)))) continue;
      for (const s of await onGrid(Q.decisions(decisionWindow), inBucket, step)) {
        const cls = s.metric.reason_class ?? "";
        if (cls === "steady") continue;
        for (const k of s.at.keys()) if (at.has(k)) out.set(k, [...(out.get(k) ?? []), cls].sort());
      }
    }
    return out;
  }

  /** What an empty answer for the replica gauges means, found out with two more queries. */
  async function emptyReplicasMessage(): Promise<string> {
    const head = `no tritonscale_ready_replicas / tritonscale_starting_replicas (with tritonscale_leader == 1) for pool ${namespace}/${pool} in Prometheus at ${url} from ${iso(from)} to ${iso(to)} (query ${Q.allocated})`;
    const span = Math.max(1, Math.ceil(to - from));
    const known = await instant(
      `group by (namespace, pool) (last_over_time(tritonscale_ready_replicas[${dur(span)}]))`,
      to,
    );
    if (known.length === 0) {
      return `${head}: Prometheus has no tritonscale_ready_replicas at all in that range: the controller's /metrics is not scraped by this Prometheus (a ServiceMonitor for the controller, or a scrape job), or the range is outside Prometheus's retention`;
    }
    const names = known.map((s) => `${s.metric.namespace}/${s.metric.pool}`).sort();
    // At Prometheus's own "now" (no time given).
    const now = await promApiCall<VectorSample>(
      url,
      "query",
      {
        query: `max(timestamp(tritonscale_ready_replicas{namespace=${q(namespace)},pool=${q(pool)}}))`,
      },
      "vector",
      limits,
      options.signal,
    );
    const later =
      now.length > 0
        ? `; the pool has series now (last sample ${iso(promNumber(now[0]!.value[1]))}): the range is before the pool existed or before the controller managed it`
        : "";
    const sameName = names.filter((n) => n.endsWith(`/${pool}`));
    const hint =
      sameName.length > 0 && !sameName.includes(`${namespace}/${pool}`)
        ? ` (a pool named ${pool} is in another namespace: ${sameName.join(", ")}; pass its namespace)`
        : "";
    return `${head}: the controller exported these pools then: ${names.slice(0, 20).join(", ")}${names.length > 20 ? ", …" : ""}${hint}${later}`;
  }
}

/** The pool model a Triton model belongs to: itself, or the ensemble `m` of `m-…`. */
function ownerModel(models: readonly string[], model: string): string | undefined {
  if (models.includes(model)) return model;
  let best: string | undefined;
  for (const m of models)
    if (model.startsWith(`${m}-`) && (best === undefined || m.length > best.length)) best = m;
  return best;
}

/** A gap of a gauge's grid: where it starts, how long, and the value held (0: none). */
interface Gap {
  readonly from: number;
  readonly seconds: number;
  /** Whether the last value was held over the gap. */
  readonly bridged: boolean;
  readonly held: number;
}

/**
 * Fills missing grid points between present ones with the last value when the gap is at
 * most `maxGap` seconds; leading and trailing absence stays absent.
 */
function fillGaps(
  series: ReadonlyMap<number, number>,
  pts: readonly GridPoint[],
  maxGap: number,
): { values: Map<number, number>; gaps: Gap[] } {
  const values = new Map(series);
  const gaps: Gap[] = [];
  let last: { i: number; v: number } | undefined;
  for (let i = 0; i < pts.length; i++) {
    const v = series.get(key(pts[i]!.t));
    if (v === undefined) continue;
    if (last !== undefined && i > last.i + 1) {
      const missing = pts.slice(last.i + 1, i);
      const seconds = missing.reduce((s, p) => s + p.cover, 0);
      const start = missing[0]!.t - missing[0]!.cover;
      if (seconds <= maxGap) {
        for (const p of missing) values.set(key(p.t), last.v);
        gaps.push({ from: start, seconds, bridged: true, held: last.v });
      } else {
        gaps.push({ from: start, seconds, bridged: false, held: 0 });
      }
    }
    last = { i, v };
  }
  return { values, gaps };
}

function positive(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) {
    throw new RangeError(`${name} must be a positive number of seconds (got ${v})`);
  }
  return v;
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;
