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

/** Slot of each metric in a model's accumulator: the counters in field order, then pending. */
const SLOT_BY_METRIC = new Map<string, number>([
  ...Object.values(COUNTER_METRICS).map((m, i) => [m, i] as const),
  [PENDING_METRIC, 6],
]);
const PENDING_SLOT = 6;

// The slot of a metric name, found by length then equality: a Map would hash every name the
// parser slices out of the text, most of which the controller does not read.
const SLOTS_BY_LENGTH: (readonly [string, number][] | undefined)[] = [];
for (const [m, slot] of [...SLOT_BY_METRIC, [GPU_UTILIZATION_METRIC, -1] as const]) {
  const list = (SLOTS_BY_LENGTH[m.length] ?? []) as [string, number][];
  list.push([m, slot]);
  SLOTS_BY_LENGTH[m.length] = list;
}

/** The slot of `name` (-1: GPU utilization), or undefined when the controller does not read it. */
function slotOf(name: string): number | undefined {
  const list = SLOTS_BY_LENGTH[name.length];
  if (list === undefined) return undefined;
  for (const [m, slot] of list) if (m === name) return slot;
  return undefined;
}

interface Accumulator {
  readonly model: string;
  readonly version: string;
  /** Sums by slot; NaN-free "absent" is tracked in `seen`. */
  readonly sums: Float64Array;
  /** Bit i set: slot i was seen. */
  seen: number;
}

/**
 * Accumulates Triton series into model samples. Series of one model version that differ in
 * other labels are summed: `reason` of request_failure, and `gpu_uuid` (older Tritons
 * labelled per-model series by GPU), `namespace` and `_<tag>` metric tags. Series without a
 * `model` label are ignored.
 */
export class TritonSampleBuilder {
  /** By model, then by version. */
  private readonly models = new Map<string, Map<string, Accumulator>>();
  private gpuSum = 0;
  private gpuCount = 0;
  // The parser hands out one string per run of a family's samples: look its slot up once.
  private lastName = "";
  private lastSlot: number | undefined;

  /** Whether {@link add} reads series of this metric name (a parser's `want`). */
  static wants(name: string): boolean {
    return slotOf(name) !== undefined;
  }

  /** Adds one series' value. `labels` is a flat name/value list or an object. */
  add(
    name: string,
    labels: readonly string[] | Readonly<Record<string, string>>,
    value: number,
  ): void {
    if (name !== this.lastName) {
      this.lastName = name;
      this.lastSlot = slotOf(name);
    }
    const slot = this.lastSlot;
    if (slot === undefined) return;
    if (slot < 0) {
      this.gpuSum += value;
      this.gpuCount++;
      return;
    }
    let model: string | undefined;
    let version = "";
    if (Array.isArray(labels)) {
      for (let k = 0; k < labels.length; k += 2) {
        const l = labels[k];
        if (l === "model") model = labels[k + 1];
        else if (l === "version") version = labels[k + 1]!;
      }
    } else {
      const o = labels as Readonly<Record<string, string>>;
      model = o.model;
      version = o.version ?? "";
    }
    if (model === undefined) return;
    let versions = this.models.get(model);
    if (!versions) {
      versions = new Map();
      this.models.set(model, versions);
    }
    let a = versions.get(version);
    if (!a) {
      a = { model, version, sums: new Float64Array(7), seen: 0 };
      versions.set(version, a);
    }
    a.sums[slot]! += value;
    a.seen |= 1 << slot;
  }

  /** The model samples, sorted by model then version, counters in a fixed order. */
  samples(): ModelSample[] {
    const all: Accumulator[] = [];
    for (const versions of this.models.values()) for (const a of versions.values()) all.push(a);
    return all
      .sort((a, b) => (a.model === b.model ? cmp(a.version, b.version) : cmp(a.model, b.model)))
      .map((a) => {
        const counters: { -readonly [K in keyof ModelCounters]?: number } = {};
        COUNTER_FIELDS.forEach((f, i) => {
          if (a.seen & (1 << i)) counters[f] = a.sums[i]!;
        });
        return a.seen & (1 << PENDING_SLOT)
          ? { model: a.model, version: a.version, counters, pendingRequests: a.sums[PENDING_SLOT]! }
          : { model: a.model, version: a.version, counters };
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
        want: TritonSampleBuilder.wants,
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
