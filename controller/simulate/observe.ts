import type { LoadSnapshot, ReplicaCounts, Signal } from "../scaling/types.js";

/**
 * What a real metrics pipeline would show the scaler: counters scraped every
 * `scrapeIntervalSeconds`, rates over `rateWindowSeconds`, visible only after
 * `delaySeconds` (scrape → Prometheus → adapter/KEDA). The simulator's truth is never
 * passed to a scaler directly.
 */

/** How the pipeline samples and delays. */
export interface PipelineSettings {
  /** Prometheus scrape interval (Triton /metrics, DCGM exporter). */
  readonly scrapeIntervalSeconds: number;
  /** The `rate(...[w])` window. */
  readonly rateWindowSeconds: number;
  /** Seconds from a scrape until a scaler can see it. */
  readonly delaySeconds: number;
}

/** One scrape of the pool: cumulative counters and gauges. */
export interface Scrape {
  readonly t: number;
  /** Requests that reached the pool's front (load balancer), cumulative. */
  readonly arrivals: number;
  /** Requests executed (Σ nv_inference_count). */
  readonly completed: number;
  /** Batches executed (Σ nv_inference_exec_count). */
  readonly batches: number;
  /** Σ queue seconds of executed requests. */
  readonly queueSeconds: number;
  /** Σ compute seconds of executed batches. */
  readonly computeSeconds: number;
  /** Requests waiting (Triton queues + the front buffer while no replica is ready). */
  readonly pending: number;
  /** Requests executing. */
  readonly inflight: number;
  /** Mean GPU utilization of ready replicas since the previous scrape, or undefined with none ready. */
  readonly gpuUtilization: number | undefined;
  /** Ready replicas when scraped; Triton's own series exist only when > 0. */
  readonly readyReplicas: number;
}

/** Keeps recent scrapes and turns them into LoadSnapshots. */
export class Pipeline {
  private readonly scrapes: Scrape[] = [];

  constructor(readonly settings: PipelineSettings) {}

  record(s: Scrape): void {
    this.scrapes.push(s);
    // Keep what the widest look-back needs.
    const keepAfter =
      s.t -
      this.settings.rateWindowSeconds -
      this.settings.delaySeconds -
      2 * this.settings.scrapeIntervalSeconds;
    let drop = 0;
    while (drop < this.scrapes.length - 2 && this.scrapes[drop]!.t < keepAfter) drop++;
    if (drop > 0) this.scrapes.splice(0, drop);
  }

  /** The snapshot a scaler sees at t, with the cluster's replica counts (always current). */
  snapshot(t: number, replicas: ReplicaCounts): LoadSnapshot {
    const visible = t - this.settings.delaySeconds;
    let last = -1;
    for (let i = this.scrapes.length - 1; i >= 0; i--) {
      if (this.scrapes[i]!.t <= visible) {
        last = i;
        break;
      }
    }
    const base: LoadSnapshot = { now: t, replicas };
    if (last < 0) return base;
    const latest = this.scrapes[last]!;
    const age = t - latest.t;
    const sig = (value: number): Signal => ({ value, ageSeconds: age });
    // The window's start: the newest scrape at least one window older (or the oldest kept).
    let first = 0;
    for (let i = last - 1; i >= 0; i--) {
      if (this.scrapes[i]!.t <= latest.t - this.settings.rateWindowSeconds) {
        first = i;
        break;
      }
    }
    const from = this.scrapes[first]!;
    const dt = latest.t - from.t;
    const out: { -readonly [K in keyof LoadSnapshot]: LoadSnapshot[K] } = { ...base };
    out.pending = sig(latest.pending);
    // Triton's series vanish with the last replica: those signals are then missing, not 0.
    if (latest.readyReplicas > 0) {
      out.inflight = sig(latest.inflight);
      if (latest.gpuUtilization !== undefined) out.gpuUtilization = sig(latest.gpuUtilization);
    }
    if (first < last && dt > 0) {
      out.arrivalRate = sig((latest.arrivals - from.arrivals) / dt);
      const done = latest.completed - from.completed;
      const batches = latest.batches - from.batches;
      if (done > 0)
        out.queueDelayMs = sig(((latest.queueSeconds - from.queueSeconds) / done) * 1000);
      if (batches > 0) {
        out.computeMsPerBatch = sig(
          ((latest.computeSeconds - from.computeSeconds) / batches) * 1000,
        );
        out.batchSize = sig(done / batches);
      }
    }
    return out;
  }
}
