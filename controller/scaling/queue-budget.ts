import type { Policy } from "../policy/index.js";
import { TRITONSCALE_TUNING } from "./tritonscale.js";

/**
 * Mean queue time per request (ms) the pool aims to stay under: the share of the latency
 * SLO past which the tritonscale scaler treats Ready replicas as past their capacity
 * (TRITONSCALE_TUNING.queueDelaySloShare, 0.5), and at least the longest
 * maxQueueDelayMicroseconds of the models, since a lightly loaded batcher waits that long
 * on purpose. Example: SLO 85 ms, max queue delay 2 ms → 42.5 ms.
 */
export function queueTimeBudgetMs(policy: Policy): number {
  const batchingMs = policy.spec.models.reduce(
    (most, m) => Math.max(most, (m.batching?.maxQueueDelayMicroseconds ?? 0) / 1000),
    0,
  );
  return Math.max(TRITONSCALE_TUNING.queueDelaySloShare * policy.spec.slo.latencyP99Ms, batchingMs);
}
