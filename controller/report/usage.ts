/**
 * What a cost report is computed from: a pool's measured use over a period, whatever its
 * source (a simulation, Prometheus, an OpenCost export). Each source's adapter produces a
 * {@link UsageLedger}; the report (pure) turns ledgers and prices into rows.
 *
 * Units are in the names: hours, seconds since the Unix epoch, counts. Nothing here is
 * money: prices are applied by the report, so one ledger can be priced two ways (the
 * pool's `spec.cost` or an OpenCost export).
 */

/** Spot or on-demand GPU capacity. The spelling matches the pool's `spec.capacity`. */
export type LedgerCapacityType = "spot" | "onDemand";

/**
 * One model's use of one capacity type in one bucket of time (a day unless the source says
 * otherwise). A replica serves every model of its pool, so a source splits a replica's
 * GPU-hours over models by each model's share of compute time (or of requests when it has
 * no compute time); the split is the source's to document. A pool with one model has one
 * row per capacity type and bucket.
 */
export interface UsageBucket {
  /** The ModelPool's name (`metadata.name`). */
  readonly pool: string;
  /**
   * The pool's namespace, when known (live sources, and a simulation of a pool file that
   * names one); "" otherwise.
   */
  readonly namespace: string;
  /** The model's name as Triton reports it (`model` label). */
  readonly model: string;
  readonly capacityType: LedgerCapacityType;
  /** The GPU type (e.g. `nvidia-tesla-t4`), to price pools of different GPUs apart. */
  readonly gpuType: string;
  /** Bucket start, Unix seconds (UTC). */
  readonly start: number;
  /** Bucket length in seconds (86,400 for a day; the last bucket may be shorter). */
  readonly seconds: number;
  /** GPU-hours allocated: GPUs of replicas that existed (starting or ready) × hours. */
  readonly gpuHours: number;
  /** GPU-hours busy computing (from compute time or GPU utilization); ≤ gpuHours. */
  readonly busyGpuHours: number;
  /** Inferences requested (served + rejected + failed). */
  readonly requests: number;
  /** Requests served within the pool's latency SLO. */
  readonly requestsWithinSlo: number;
  /**
   * False when the source could not measure `requestsWithinSlo` (e.g. no latency summary
   * in Prometheus): the report then leaves these requests out of SLO attainment instead of
   * counting them as misses. @default true
   */
  readonly sloMeasured?: boolean;
}

/**
 * One change of the desired replica count and the GPU-hours it caused: from `at` until the
 * count fell back to `from` or below (or the period ended), the extra replicas' hours.
 */
export interface ScaleEventUse {
  readonly pool: string;
  readonly namespace: string;
  /** Unix seconds. */
  readonly at: number;
  readonly from: number;
  readonly to: number;
  readonly capacityType: LedgerCapacityType;
  readonly gpuType: string;
  /** GPU-hours of the replicas this event added (0 for a scale-down). */
  readonly addedGpuHours: number;
  /** The decision's reason, as the scaler wrote it. */
  readonly reason: string;
}

/** Where a ledger's numbers came from, printed under every report. */
export type LedgerSource = "simulation" | "prometheus" | "opencost";

/** A pool's (or fleet's) use over a period. */
export interface UsageLedger {
  readonly source: LedgerSource;
  /** Period start and end, Unix seconds. */
  readonly from: number;
  readonly to: number;
  readonly buckets: readonly UsageBucket[];
  readonly scaleEvents: readonly ScaleEventUse[];
  /** What the source could not measure and how the report should read it (printed). */
  readonly notes: readonly string[];
}
