import { type BatcherSettings, type CompletionSink, Replica, type ServiceTime } from "./replica.js";
import { createRng } from "./rng.js";

/**
 * Per-replica capacity at the SLO: the highest Poisson arrival rate one replica sustains
 * with its p99 latency inside the SLO, found by bisection on the batcher model (the same
 * Replica the simulator runs). The `tritonscale` scaler divides demand by it; `tune`
 * maximises it; the oracle and static-peak bounds size pools with it.
 */

/** What a capacity search found. */
export interface Capacity {
  /** Requests per second one replica sustains with p99 ≤ SLO (0 when even light load misses it). */
  readonly requestsPerSecond: number;
  /** p99 latency at that rate, in milliseconds. */
  readonly p99Ms: number;
  /** Mean batch size executed at that rate. */
  readonly meanBatch: number;
  /** The most a replica can execute at all: instances × maxBatch / compute(maxBatch). */
  readonly saturationRequestsPerSecond: number;
  /**
   * Per-replica capacity at the SLO when a Poisson stream is spread round-robin over n
   * replicas, at index n − 1 ({@link capacityCurve}); element 0 is `requestsPerSecond`.
   * Absent: not computed (every n counts as one).
   */
  readonly byReplicas?: readonly number[];
}

/** Options of the search. */
export interface CapacityOptions {
  /** Requests simulated per probe. @default 40000 */
  readonly requests?: number;
  /** Bisection steps. @default 16 */
  readonly iterations?: number;
  /** The latency quantile held to the SLO. @default 0.99 */
  readonly quantile?: number;
  /** Seed of the probe arrivals. @default 1 */
  readonly seed?: number;
  /**
   * Replicas a Poisson stream is spread over round-robin (as a round-robin load balancer
   * spreads it, and the simulator for a pool with `loadBalancing: roundRobin`): the probed replica receives every `replicas`-th
   * request, a steadier stream than Poisson at the same rate (Erlang-`replicas` gaps), so
   * it queues less. @default 1 (a Poisson stream, the most a replica can be asked to take)
   */
  readonly replicas?: number;
}

/** The latency quantile of one replica under Poisson load at `rate`, and its mean batch. */
export function probeReplica(
  batcher: BatcherSettings,
  service: ServiceTime,
  rate: number,
  requests: number,
  quantile: number,
  seed: number,
  replicas = 1,
): { quantileMs: number; meanBatch: number } {
  const latencies = new Float64Array(requests);
  let n = 0;
  const sink: CompletionSink = {
    complete(latency: number): void {
      latencies[n++] = latency;
    },
  };
  const replica = new Replica(
    { ...batcher, maxQueueSize: 0, queueTimeoutSeconds: 0 },
    service,
    sink,
    0,
  );
  const rng = createRng(seed).fork("probe");
  let t = 0;
  const k = Math.max(1, Math.floor(replicas));
  for (let i = 0; i < requests; i++) {
    // Every k-th request of a Poisson stream at k × rate: a sum of k exponential gaps.
    for (let j = 0; j < k; j++) t += rng.exponential(rate * k);
    replica.enqueue(t, t);
    // Keep the queue short: run the batcher behind the arrivals.
    if ((i & 1023) === 1023) replica.advance(t);
  }
  replica.advance(Number.POSITIVE_INFINITY);
  const q =
    n > 0 ? kthSmallest(latencies.subarray(0, n), Math.min(n - 1, Math.floor(quantile * n))) : 0;
  const c = replica.counters;
  return { quantileMs: q * 1000, meanBatch: c.batches > 0 ? c.completed / c.batches : 0 };
}

/**
 * The value at index `k` of `a` sorted ascending (a may hold no NaN), by quickselect:
 * O(n) on average where sorting is O(n log n). Reorders `a`.
 */
export function kthSmallest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    // Median of three as the pivot; Hoare partition.
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    // Now a[lo..j] ≤ pivot ≤ a[i..hi], and every a[j+1..i-1] equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Finds the per-replica capacity at the SLO for a batcher configuration. */
export function capacityAtSlo(
  batcher: BatcherSettings,
  service: ServiceTime,
  sloSeconds: number,
  options: CapacityOptions = {},
): Capacity {
  const requests = options.requests ?? 40_000;
  const iterations = options.iterations ?? 16;
  const quantile = options.quantile ?? 0.99;
  const seed = options.seed ?? 1;
  const replicas = options.replicas ?? 1;
  const maxB = Math.max(1, batcher.maxBatchSize);
  const saturation =
    (Math.max(1, batcher.instances) * maxB) / service(maxB, Math.max(1, batcher.instances));
  const sloMs = sloSeconds * 1000;
  let lo = 0;
  let hi = saturation;
  let best = { quantileMs: Number.POSITIVE_INFINITY, meanBatch: 0 };
  const light = probeReplica(
    batcher,
    service,
    saturation * 0.01,
    Math.min(requests, 5000),
    quantile,
    seed,
    replicas,
  );
  if (light.quantileMs > sloMs) {
    return {
      requestsPerSecond: 0,
      p99Ms: light.quantileMs,
      meanBatch: light.meanBatch,
      saturationRequestsPerSecond: saturation,
    };
  }
  for (let i = 0; i < iterations; i++) {
    const mid = (lo + hi) / 2;
    const probe = probeReplica(batcher, service, mid, requests, quantile, seed, replicas);
    if (probe.quantileMs <= sloMs) {
      lo = mid;
      best = probe;
    } else {
      hi = mid;
    }
  }
  if (lo === 0) best = light;
  return {
    requestsPerSecond: lo,
    p99Ms: best.quantileMs,
    meanBatch: best.meanBatch,
    saturationRequestsPerSecond: saturation,
  };
}

/** Spread counts {@link capacityCurve} searches at; the counts between are interpolated. */
export const CURVE_POINTS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32] as const;

/**
 * `capacity` with its {@link Capacity.byReplicas} curve for 1..min(upTo, 32) replicas: at
 * each of {@link CURVE_POINTS} a bisection like {@link capacityAtSlo}'s with the probed
 * replica receiving every n-th request of a Poisson stream (round-robin spreading, as a
 * round-robin load balancer does, and the simulator for a `roundRobin` pool), starting from the capacity at the
 * point before (a steadier stream never queues more); linear between points. Beyond the
 * curve's end the last value holds, an underestimate.
 *
 * Worked numbers (linear:a=20,b=12, max batch 16, 2 ms delay, 85 ms SLO): 14.2 req/s for
 * one replica, 23.9 each over 2, 30.5 over 4, 35.7 over 8: a batch of one takes 32 ms, so
 * a Poisson burst of two queues one behind the other, while every 8th request of a stream
 * arrives nearly evenly. With linear:a=4,b=2.2 the gain is smaller (352 → 372 → 395 req/s
 * at 1, 2, 8): batches absorb the bursts there.
 */
export function capacityCurve(
  capacity: Capacity,
  batcher: BatcherSettings,
  service: ServiceTime,
  sloSeconds: number,
  upTo: number,
  options: CapacityOptions = {},
): Capacity {
  const top = Math.max(1, Math.min(Math.floor(upTo), CURVE_POINTS[CURVE_POINTS.length - 1]!));
  const first = capacity.requestsPerSecond;
  const curve = [first];
  if (first <= 0 || top === 1) return { ...capacity, byReplicas: curve };
  const requests = options.requests ?? 40_000;
  const iterations = Math.min(12, options.iterations ?? 12);
  const quantile = options.quantile ?? 0.99;
  const seed = options.seed ?? 1;
  const sloMs = sloSeconds * 1000;
  let prevN = 1;
  let prev = first;
  for (const n of CURVE_POINTS) {
    if (n === 1) continue;
    const at = Math.min(n, top);
    let lo = prev;
    let hi = capacity.saturationRequestsPerSecond;
    for (let i = 0; i < iterations && hi - lo > 1e-6 * hi; i++) {
      const mid = (lo + hi) / 2;
      const probe = probeReplica(batcher, service, mid, requests, quantile, seed, at);
      if (probe.quantileMs <= sloMs) lo = mid;
      else hi = mid;
    }
    for (let k = prevN + 1; k <= at; k++) {
      curve.push(prev + ((lo - prev) * (k - prevN)) / (at - prevN));
    }
    prevN = at;
    prev = lo;
    if (at === top) break;
  }
  return { ...capacity, byReplicas: curve };
}

/**
 * Whether a pool's requests are spread round-robin over its replicas
 * (`spec.scaling.loadBalancing: roundRobin`), so that the capacity curve
 * ({@link capacityCurve}) applies. With `random` (the default, a plain Service) each
 * replica sees a Poisson share and one replica's capacity is what it sustains; the
 * simulator routes each pool the same way (engine.ts `loadBalancing`), and
 * test/simulate/routing.test.ts checks that both capacities hold there.
 */
export function spreadsRoundRobin(policy: {
  readonly spec: { readonly scaling: { readonly loadBalancing: string } };
}): boolean {
  return policy.spec.scaling.loadBalancing === "roundRobin";
}
