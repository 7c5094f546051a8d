import { type Capacity, capacityAtSlo } from "./capacity.js";
import type { LatencyProfile } from "./profile.js";
import type { BatcherSettings } from "./replica.js";
import { createServiceTime } from "./setup.js";

/**
 * Offline batching tuner: searches max_batch_size, preferred_batch_size,
 * max_queue_delay_microseconds and the instance count for the highest throughput per
 * GPU with p99 inside the SLO, using the batcher model (Model Analyzer needs a live GPU
 * and never tunes the queue delay).
 */

/** One configuration tried, and what one replica sustains with it. */
export interface TuneCandidate {
  readonly maxBatchSize: number;
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueueDelayMicroseconds: number;
  readonly instances: number;
  readonly capacity: Capacity;
}

/** What to search. */
export interface TuneInput {
  readonly profile: LatencyProfile;
  readonly sloMs: number;
  /** Largest max_batch_size to try. @default the profile's largest measured batch, else 64 */
  readonly maxBatchLimit?: number;
  /** Instance counts to try. @default [1, 2] */
  readonly instances?: readonly number[];
  readonly seed?: number;
}

/** Queue delays tried, in microseconds (those at or above the SLO are skipped). */
export const QUEUE_DELAYS_US = [0, 100, 250, 500, 1000, 2000, 4000, 8000, 16000] as const;

/**
 * Every candidate, recommended first: the simplest of those within 1% of the best
 * throughput per GPU, then the rest by throughput.
 */
export function tuneBatching(input: TuneInput): TuneCandidate[] {
  const limit = input.maxBatchLimit ?? input.profile.maxBatch ?? 64;
  const sizes = [1, 2, 4, 8, 16, 32, 64, 128].filter((b) => b <= limit);
  const service = createServiceTime(input.profile);
  const sloSeconds = input.sloMs / 1000;
  const out: TuneCandidate[] = [];
  for (const maxBatchSize of sizes) {
    const preferredOptions: number[][] =
      maxBatchSize >= 4 ? [[], [maxBatchSize / 2, maxBatchSize]] : [[]];
    for (const preferredBatchSizes of preferredOptions) {
      for (const delay of QUEUE_DELAYS_US) {
        if (delay / 1000 >= input.sloMs / 2) continue;
        if (maxBatchSize === 1 && delay > 0) continue;
        for (const instances of input.instances ?? [1, 2]) {
          const batcher: BatcherSettings = {
            maxBatchSize,
            preferredBatchSizes,
            maxQueueDelaySeconds: delay / 1e6,
            instances,
            maxQueueSize: 0,
            queueTimeoutSeconds: 0,
          };
          const capacity = capacityAtSlo(batcher, service, sloSeconds, {
            requests: 20_000,
            iterations: 12,
            seed: input.seed ?? 1,
          });
          out.push({
            maxBatchSize,
            preferredBatchSizes,
            maxQueueDelayMicroseconds: delay,
            instances,
            capacity,
          });
        }
      }
    }
  }
  out.sort(
    (a, b) =>
      b.capacity.requestsPerSecond - a.capacity.requestsPerSecond ||
      a.capacity.p99Ms - b.capacity.p99Ms ||
      a.maxQueueDelayMicroseconds - b.maxQueueDelayMicroseconds,
  );
  // Capacities within 1% of the best are the same within the model's noise: of those,
  // recommend the simplest (fewest instances, smallest batch, no preferred sizes, least
  // delay), which also keeps latency at light load lowest.
  const best = out[0]?.capacity.requestsPerSecond ?? 0;
  const near = out.filter((c) => c.capacity.requestsPerSecond >= best * (1 - NEAR_BEST));
  near.sort(
    (a, b) =>
      a.instances - b.instances ||
      a.maxBatchSize - b.maxBatchSize ||
      a.preferredBatchSizes.length - b.preferredBatchSizes.length ||
      a.maxQueueDelayMicroseconds - b.maxQueueDelayMicroseconds,
  );
  return [...near, ...out.filter((c) => !near.includes(c))];
}

/** Relative capacity difference below which two configurations count as equally good. */
export const NEAR_BEST = 0.01;
