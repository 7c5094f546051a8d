/**
 * What a metrics source hands the counter-windowing module (scaling/window.ts): raw scrapes,
 * cumulative counters and gauges as Triton exports them, per replica and per model version.
 * The live Triton edge (controller/triton/, scraping each pod's `:8002/metrics`), the
 * Prometheus-API source and the simulator's metrics pipeline all produce this shape, and one
 * module turns it into the rates of a {@link LoadSnapshot} (scaling/types.ts), so what is
 * deployed is what is simulated.
 *
 * Units are Triton's: durations in microseconds, counts as counted. Nothing here is a rate.
 */

/**
 * Cumulative counters of one model version on one replica (Triton's per-model series; see
 * shared/reference/triton/metrics.md). A counter that is missing from the scrape is
 * `undefined`, never 0 (e.g. `--metrics-config counter_latencies=false` removes the
 * duration counters).
 */
export interface ModelCounters {
  /** `nv_inference_request_success`: requests answered successfully. */
  readonly requestSuccess?: number;
  /** `nv_inference_request_failure`, summed over its `reason` label. */
  readonly requestFailure?: number;
  /** `nv_inference_count`: inferences performed (a request of batch 4 counts 4). */
  readonly inferenceCount?: number;
  /** `nv_inference_exec_count`: batches executed. */
  readonly execCount?: number;
  /** `nv_inference_queue_duration_us`: Σ queue time of answered requests, µs. */
  readonly queueDurationUs?: number;
  /** `nv_inference_compute_infer_duration_us`: Σ model execution time of answered requests, µs. */
  readonly computeInferDurationUs?: number;
}

/** One model version's series on one replica at one scrape. */
export interface ModelSample {
  /** The model's name in the repository (Triton's `model` label). */
  readonly model: string;
  /** The version (Triton's `version` label), e.g. `"1"`. */
  readonly version: string;
  readonly counters: ModelCounters;
  /**
   * `nv_inference_pending_request_count`: requests waiting in this model's scheduler queue
   * (a gauge; the leading signal, since the counters move only when responses complete).
   */
  readonly pendingRequests?: number;
  /**
   * Requests executing on the model's instances (a gauge). Triton's `/metrics` does not
   * export it, so the live sources leave it out (missing); the simulator knows it.
   */
  readonly inflightRequests?: number;
}

/** Where a replica stands, as far as serving is concerned. */
export type ReplicaPhase =
  /** Scraped, and every model of the pool is ready (gRPC ModelReady). */
  | "ready"
  /** Running but a model is still loading, or the server is not ready yet: starting, never idle. */
  | "loading"
  /** The scrape failed (refused, timed out, unparsable): its series are missing, not 0. */
  | "unreachable";

/** One scrape of one replica (a Triton pod). */
export interface ReplicaScrape {
  /**
   * The replica's identity, stable over its life and new when it restarts (e.g. the pod's
   * uid, or `name/uid`); counters of a new identity start from scratch.
   */
  readonly replica: string;
  /** Seconds on the caller's clock when the scrape was taken. */
  readonly t: number;
  readonly phase: ReplicaPhase;
  /** `nv_gpu_utilization` averaged over the replica's GPUs, 0..1, when exported. */
  readonly gpuUtilization?: number;
  /** Per model version; empty when unreachable. */
  readonly models: readonly ModelSample[];
}

/**
 * The pool's front door: a load balancer or activator that every request passes and that
 * holds requests while no replica can take them (the simulator's front buffer; live, an
 * ingress or activator exporting these two numbers). When a round has one, the pool's
 * arrival rate is counted here, where requests arrive, instead of from Triton's answers.
 */
export interface FrontSample {
  /** Requests that reached the front, cumulative (a counter). */
  readonly arrivals: number;
  /** Requests the front holds because no replica can take them yet (a gauge). */
  readonly pending: number;
}

/** One collection round for a pool: every replica the source knows of at that moment. */
export interface PoolScrape {
  /** Seconds on the caller's clock when the round finished. */
  readonly t: number;
  readonly replicas: readonly ReplicaScrape[];
  /** The pool's front door, when the source sees one (the simulator does; Triton alone does not). */
  readonly front?: FrontSample;
}
