/**
 * What the controller reads from Triton's `/metrics` text: per model version the raw
 * counters of a {@link ModelSample} and the pending-request gauge, and the replica's mean
 * GPU utilization. Metric names and labels are Triton's (shared/reference/triton/
 * metric-catalog.md). Used by the direct scrape (scrape-source.ts); the Prometheus source
 * reads the same names from Prometheus's API (prometheus-source.ts).
 */
import type { Problem } from "../diagnostics/problem.js";
import type { ModelCounters, ModelSample } from "../scaling/samples.js";
import { PromTextParser } from "./prom-text.js";

/** Triton's per-model counter names, by the {@link ModelCounters} field they fill. */
export const COUNTER_METRICS = {
  requestSuccess: "nv_inference_request_success",
  requestFailure: "nv_inference_request_failure",
  inferenceCount: "nv_inference_count",
  execCount: "nv_inference_exec_count",
  queueDurationUs: "nv_inference_queue_duration_us",
  computeInferDurationUs: "nv_inference_compute_infer_duration_us",
} as const satisfies Record<keyof ModelCounters, string>;

const COUNTER_FIELDS = Object.keys(COUNTER_METRICS) as (keyof ModelCounters)[];

/** The per-model gauge of requests waiting in the scheduler queue. */
export const PENDING_METRIC = "nv_inference_pending_request_count";
/** The per-GPU utilization gauge, 0..1, label `gpu_uuid`. */
export const GPU_UTILIZATION_METRIC = "nv_gpu_utilization";

/** Every metric name the controller reads. */
export const TRITON_METRICS: readonly string[] = [
  ...Object.values(COUNTER_METRICS),
  PENDING_METRIC,
  GPU_UTILIZATION_METRIC,
];

const FIELD_BY_METRIC = new Map<string, keyof ModelCounters | "pending">([
  ...Object.entries(COUNTER_METRICS).map(([f, m]) => [m, f as keyof ModelCounters] as const),
  [PENDING_METRIC, "pending"],
]);

type MutableSample = {
  model: string;
  version: string;
  counters: { -readonly [K in keyof ModelCounters]?: number };
  pendingRequests?: number;
};

/**
 * Accumulates Triton series into model samples. Series of one model version that differ in
 * other labels are summed: `reason` of request_failure, and `gpu_uuid` (older Tritons
 * labelled per-model series by GPU), `namespace` and `_<tag>` metric tags. Series without a
 * `model` label are ignored.
 */
export class TritonSampleBuilder {
  private readonly models = new Map<string, MutableSample>();
  private gpuSum = 0;
  private gpuCount = 0;

  /** Adds one series' value. `labels` is a flat name/value list or an object. */
  add(
    name: string,
    labels: readonly string[] | Readonly<Record<string, string>>,
    value: number,
  ): void {
    if (name === GPU_UTILIZATION_METRIC) {
      this.gpuSum += value;
      this.gpuCount++;
      return;
    }
    const field = FIELD_BY_METRIC.get(name);
    if (field === undefined) return;
    let model: string | undefined;
    let version = "";
    if (Array.isArray(labels)) {
      for (let k = 0; k < labels.length; k += 2) {
        if (labels[k] === "model") model = labels[k + 1];
        else if (labels[k] === "version") version = labels[k + 1]!;
      }
    } else {
      const o = labels as Readonly<Record<string, string>>;
      model = o.model;
      version = o.version ?? "";
    }
    if (model === undefined) return;
    const key = `${model}\u0000${version}`;
    let s = this.models.get(key);
    if (!s) {
      s = { model, version, counters: {} };
      this.models.set(key, s);
    }
    if (field === "pending") s.pendingRequests = (s.pendingRequests ?? 0) + value;
    else s.counters[field] = (s.counters[field] ?? 0) + value;
  }

  /** The model samples, sorted by model then version, counters in a fixed order. */
  samples(): ModelSample[] {
    return [...this.models.values()]
      .sort((a, b) => (a.model === b.model ? cmp(a.version, b.version) : cmp(a.model, b.model)))
      .map((s) => {
        const counters: MutableSample["counters"] = {};
        for (const f of COUNTER_FIELDS)
          if (s.counters[f] !== undefined) counters[f] = s.counters[f];
        return s.pendingRequests === undefined
          ? { model: s.model, version: s.version, counters }
          : { model: s.model, version: s.version, counters, pendingRequests: s.pendingRequests };
      });
  }

  /** Mean `nv_gpu_utilization` over the GPUs seen, or undefined when none. */
  gpuUtilization(): number | undefined {
    return this.gpuCount === 0 ? undefined : this.gpuSum / this.gpuCount;
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** What one Triton `/metrics` text holds for the controller. */
export interface TritonMetrics {
  readonly models: readonly ModelSample[];
  readonly gpuUtilization?: number;
}

/**
 * A streaming reader of one `/metrics` response: `write` chunks, then `end()` for the
 * result or the text's first problem.
 */
export class TritonMetricsReader {
  private readonly builder = new TritonSampleBuilder();
  private readonly parser: PromTextParser;

  constructor(file = "<metrics>") {
    const b = this.builder;
    this.parser = new PromTextParser(
      {
        sample(name, labels, value) {
          b.add(name, labels, value);
        },
      },
      file,
    );
  }

  /** Feeds a chunk; returns the problem once the text is known to be invalid. */
  write(chunk: string): Problem | undefined {
    return this.parser.write(chunk);
  }

  end(): { readonly metrics?: TritonMetrics; readonly problem?: Problem } {
    const problem = this.parser.end();
    if (problem) return { problem };
    const gpu = this.builder.gpuUtilization();
    const models = this.builder.samples();
    return { metrics: gpu === undefined ? { models } : { models, gpuUtilization: gpu } };
  }
}

/** Reads a whole `/metrics` text (see {@link TritonMetricsReader}). */
export function readTritonMetrics(
  text: string,
  file = "<metrics>",
): { readonly metrics?: TritonMetrics; readonly problem?: Problem } {
  const r = new TritonMetricsReader(file);
  const p = r.write(text);
  return p ? { problem: p } : r.end();
}
