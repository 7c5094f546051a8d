import type { Policy } from "../policy/index.js";

/**
 * The scaling core's vocabulary: what a scaler sees (LoadSnapshot), what it says
 * (ScalingDecision) and the one interface every algorithm implements (Scaler). Pure: no
 * clock, no I/O. The live controller, the KEDA external scaler and the simulator all build
 * a LoadSnapshot and call the same `decide`.
 */

/** Where a replica runs: preemptible Spot capacity or on-demand. */
export type CapacityType = "spot" | "onDemand";

/** A count per capacity type. */
export interface ByCapacity {
  readonly spot: number;
  readonly onDemand: number;
}

/**
 * One observed metric: its value and how old the newest sample behind it is. A metric
 * the pipeline did not return is `undefined` in the snapshot (missing), which is not
 * the same as 0.
 */
export interface Signal {
  readonly value: number;
  /** Seconds since the newest sample behind `value` was scraped. */
  readonly ageSeconds: number;
}

/**
 * What a scaler sees for one pool at one instant, as a metrics pipeline would show it
 * (scraped, rate-windowed, delayed), never the simulator's ground truth.
 */
export interface LoadSnapshot {
  /** Seconds on the caller's clock (Unix time live, time since start in the simulator). */
  readonly now: number;
  /** Requests per second arriving at the pool, averaged over the rate window. */
  readonly arrivalRate?: Signal;
  /** Requests waiting in the batchers' queues, summed over ready replicas. */
  readonly pending?: Signal;
  /** Requests executing (in a batch on a GPU), summed over ready replicas. */
  readonly inflight?: Signal;
  /** Mean queue time per request over the rate window, in milliseconds. */
  readonly queueDelayMs?: Signal;
  /** Mean compute time per batch over the rate window, in milliseconds. */
  readonly computeMsPerBatch?: Signal;
  /** Mean batch size executed over the rate window (Δinference_count / Δexec_count). */
  readonly batchSize?: Signal;
  /** Mean GPU utilization of ready replicas, 0..1. */
  readonly gpuUtilization?: Signal;
  /** The pool's replicas, from the cluster (always known, never stale). */
  readonly replicas: ReplicaCounts;
  /**
   * Replicas whose metrics were read before but not in the latest round (a failed scrape):
   * the rates above lack their share since, so they read the pool as quieter than it is
   * (window.ts). A scaler must not scale down on that. @default 0
   */
  readonly darkReplicas?: number;
}

/** Replicas of a pool by lifecycle state and capacity type. */
export interface ReplicaCounts {
  /** Serving traffic. */
  readonly ready: ByCapacity;
  /** Scheduled on a node and starting (image pull, model load, warmup). */
  readonly starting: ByCapacity;
  /** Waiting for a GPU node. */
  readonly pending: ByCapacity;
  /** Seconds the oldest pending Spot replica has waited for a node (0 when none). */
  readonly oldestPendingSpotSeconds: number;
}

/** What a scaler decided, with its reason for humans and its state for the next call. */
export interface ScalingDecision<S = unknown> {
  /** Desired replicas by capacity type; spot + onDemand is the total. */
  readonly desired: ByCapacity;
  /** Whether the pool should have any replica (KEDA's IsActive). */
  readonly active: boolean;
  /**
   * True when missing or stale signals made the scaler hold its last decision instead
   * of deciding (exported as a metric; never scales down on no data).
   */
  readonly held: boolean;
  /** Why, for humans: e.g. `demand 184 req/s / (96 req/s × 0.7) → 3; scale-up limited to 4`. */
  readonly reason: string;
  /** The scaler's state to pass to the next `decide` call. */
  readonly state: S;
  /**
   * The named numbers behind the decision that the reason quotes, e.g.
   * `{ leadHeadroom: 1.42, keepAliveSeconds: 420 }`: exported by the controller as one gauge
   * per term, so every term a scaler adds is visible without parsing reasons. Names are
   * lowerCamelCase, stable across releases; a term that did not apply is left out.
   */
  readonly terms?: Readonly<Record<string, number>>;
}

/** Total desired replicas of a decision. */
export function totalOf(c: ByCapacity): number {
  return c.spot + c.onDemand;
}

/**
 * A scaling algorithm for one pool: pure and deterministic. The pool's policy is bound once,
 * when the scaler is created ({@link ScalerFactory}); time comes in the snapshot; memory
 * lives in the state it returns, which the caller passes back unchanged on the next call.
 * A changed pool gets a new scaler, created for the new policy, and the caller carries the
 * old scaler's last state over to it (the state holds no policy setting).
 */
export interface Scaler<S = unknown> {
  /** The row name in reports, e.g. `hpa-gpu`, `keda-queue`, `tritonscale`. */
  readonly name: string;
  /** Seconds between decisions (HPA 15 s, KEDA polling 30 s, the pool's syncPeriod). */
  readonly periodSeconds: number;
  /** The state before the first decision, given the replicas the pool starts with. */
  initialState(current: ByCapacity): S;
  /** Decides for the pool the scaler was created for, from one snapshot and the last state. */
  decide(snapshot: LoadSnapshot, state: S): ScalingDecision<S>;
  /**
   * What the scaler learned from the load it has seen, for a scaler that keeps a history
   * (absent for the stateless baselines). The controller saves it where the next leader
   * finds it, or rebuilds it from Prometheus on start; `simulate --warmup` fills it by
   * replaying the start of a trace.
   */
  readonly memory?: ScalerMemory<S>;
}

/** One past observation of a pool's arrival rate, e.g. a point of a Prometheus range query. */
export interface RatePoint {
  /** Seconds on the scaler's clock (Unix time live). */
  readonly at: number;
  /** Requests per second. */
  readonly rate: number;
}

/**
 * The learned part of a scaler's state, apart from its decision state (behavior windows,
 * panic, Spot bookkeeping), which a restart rebuilds in a few sync periods.
 */
export interface ScalerMemory<S> {
  /**
   * The learned history as compact text (at most 256 KiB, so it fits a ConfigMap or a
   * status field), versioned so that a newer controller can refuse an older format.
   */
  save(state: S): string;
  /**
   * `state` with its history replaced by what `saved` holds, or a reason it cannot be
   * used (unknown version, corrupt, for another pool's settings); never throws.
   */
  restore(
    state: S,
    saved: string,
  ): { readonly ok: true; readonly state: S } | { readonly ok: false; readonly why: string };
  /** `state` after learning from past arrival-rate points (oldest first, any spacing). */
  learn(state: S, points: readonly RatePoint[]): S;
  /**
   * Like {@link restore}, but keeping what `state` itself learned after the end of `saved`:
   * for a replica that has been learning live (a follower) and takes over from the one that
   * saved. Absent: {@link restore}.
   */
  merge?(
    state: S,
    saved: string,
  ): { readonly ok: true; readonly state: S } | { readonly ok: false; readonly why: string };
}

/** What a scaler may be told besides the policy when it is created. */
export interface ScalerOptions {
  /**
   * Requests per second one replica sustains with p99 latency inside the SLO, from the
   * batching profile (see simulate/capacity). Required by the `tritonscale` scaler.
   */
  readonly capacityPerReplica?: number;
  /**
   * Requests per second each replica sustains within the SLO when the arrivals are spread
   * round-robin over n replicas, at index n − 1 (simulate/capacity.ts `capacityCurve`):
   * every n-th request of a Poisson stream is steadier than the stream, so it rises with n.
   * Beyond its end the last value holds. Absent: `capacityPerReplica` whatever n.
   */
  readonly capacityByReplicas?: readonly number[];
}

/** Creates a scaler bound to one pool's policy (settings the algorithm reads come from it). */
export type ScalerFactory = (policy: Policy, options: ScalerOptions) => Scaler;

/** A signal as a scaler may use it: a fresh value, or why there is none. */
export type SignalReading =
  | { readonly ok: true; readonly value: number; readonly ageSeconds: number }
  | { readonly ok: false; readonly why: string };

/**
 * Reads a signal for deciding: usable only when present, finite and not older than
 * `staleAfterSeconds` (the policy's `scaling.staleAfterSeconds`). `why` is a phrase for a
 * decision's reason, e.g. `arrival rate missing` or
 * `arrival rate stale (62 s old > staleAfter 45 s)`.
 */
export function readSignal(
  label: string,
  signal: Signal | undefined,
  staleAfterSeconds: number,
): SignalReading {
  if (signal === undefined) return { ok: false, why: `${label} missing` };
  if (!Number.isFinite(signal.value)) {
    return { ok: false, why: `${label} missing (value ${signal.value})` };
  }
  if (signal.ageSeconds > staleAfterSeconds) {
    return {
      ok: false,
      why: `${label} stale (${formatNumber(signal.ageSeconds)} s old > staleAfter ${formatNumber(staleAfterSeconds)} s)`,
    };
  }
  return { ok: true, value: signal.value, ageSeconds: signal.ageSeconds };
}

/** A number for a reason: integers as is, others with at most 2 decimals (`0.7`, `12.35`). */
export function formatNumber(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return String(Math.round(x * 100) / 100);
}
