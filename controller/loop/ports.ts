import type { Policy } from "../policy/index.js";
import type { PoolScrape } from "../scaling/samples.js";
import type { ByCapacity, LoadSnapshot, ReplicaCounts, ScalingDecision } from "../scaling/types.js";

/**
 * The control loop's ports: what it collects from (metrics, the cluster's replica counts),
 * what it tells (decisions) and its clock. Each has a real implementation at an edge
 * (triton/, kube/, keda/, metrics/) and an in-memory one (the simulator's cluster, for
 * `demo` and tests); the loop (loop/) imports none of them, they are injected.
 */

/** A pool's identity: the ModelPool's namespace and name. */
export interface PoolRef {
  readonly namespace: string;
  readonly name: string;
}

/** `namespace/name`, the key of a pool in maps and logs. */
export function poolKey(p: PoolRef): string {
  return `${p.namespace}/${p.name}`;
}

/** Where a pool's load comes from: Triton's pods scraped directly, or Prometheus's API. */
export interface MetricsSource {
  /**
   * One collection round for the pool: every replica known at `now`, with its phase and raw
   * counters (never rates: scaling/window.ts makes those). Resolves, never rejects, for an
   * unreachable replica (phase `unreachable`); rejects only when the source as a whole
   * failed (e.g. Prometheus down), which the loop treats as every signal missing.
   */
  collect(policy: Policy, now: number): Promise<PoolScrape>;
}

/** The pool's replicas as the cluster sees them (pods and their nodes). */
export interface ClusterPort {
  /** Replica counts by lifecycle and capacity type, for the snapshot. */
  replicas(policy: Policy, now: number): Promise<ReplicaCounts>;
}

/** One decision of the loop for one pool, as published to its consumers. */
export interface PoolDecision {
  readonly pool: PoolRef;
  /** Seconds on the loop's clock. */
  readonly at: number;
  /** The registered scaler that decided (`spec.scaling.scaler`). */
  readonly scaler: string;
  /** What the scaler saw. */
  readonly snapshot: LoadSnapshot;
  readonly decision: ScalingDecision;
  /**
   * Requests per second one replica sustains at the SLO, per model, as the scaler used it
   * (from the profile after the live correction, loop/correction.ts).
   */
  readonly capacityPerReplica: Readonly<Record<string, number>>;
  /**
   * The latency profile each model's capacity was computed from, with its live correction,
   * e.g. `linear:a=4,b=2.2 ×1.044`; the default profile's name says it is assumed
   * (`yolov8s-t4-fp16 (assumed: linear:a=4,b=2.2)`). Absent where a capacity was injected.
   */
  readonly profiles?: Readonly<Record<string, string>>;
  /**
   * What the scaler divided demand by: one replica's capacity for the pool's mix of models,
   * 1 / Σ (w_i / C_i) over the models' shares of the requests (simulate/pool-mix.ts), with the shares
   * and where they came from (`traffic` observed, or `equal` while none is seen). For one
   * model, its own capacity. Absent where a decision was made up outside the loop.
   */
  readonly mix?: {
    readonly perReplica: number;
    readonly shares: Readonly<Record<string, number>>;
    readonly from: "traffic" | "equal";
    /**
     * What each replica sustains for the mix when n replicas share round-robin arrivals,
     * at n − 1 (element 0 is `perReplica`; simulate/pool-capacity.ts `mixedCurve`), as the scaler
     * plans with it (`spec.scaling.loadBalancing: roundRobin`). Absent: every n counts as one.
     */
    readonly byReplicas?: readonly number[];
  };
  /** The desired replicas before this decision (for scale events). */
  readonly previous: ByCapacity;
}

/** Takes each decision (the KEDA server's answers, prom-client gauges, CR status, logs). */
export interface DecisionSink {
  publish(d: PoolDecision): void | Promise<void>;
}

/** The loop's clock: seconds (Unix time live; accelerated in `demo`; manual in tests). */
export interface Clock {
  now(): number;
  /** Resolves after `seconds` on this clock (or when aborted). */
  sleep(seconds: number, signal?: AbortSignal): Promise<void>;
}
