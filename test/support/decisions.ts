import type { PoolDecision } from "../../controller/loop/ports.js";
import type { ByCapacity } from "../../controller/scaling/types.js";

/** What a test says about one decision; everything else is quiet (0, not held). */
export interface DecisionSpec {
  readonly pool?: { namespace: string; name: string };
  readonly desired: ByCapacity;
  readonly active?: boolean;
  readonly held?: boolean;
  readonly ready?: ByCapacity;
  readonly starting?: ByCapacity;
  readonly pendingReplicas?: ByCapacity;
  /** Requests pending in the pool (the pending signal); absent: the signal is missing. */
  readonly pendingRequests?: number;
  readonly reason?: string;
  readonly at?: number;
}

const NONE: ByCapacity = { spot: 0, onDemand: 0 };

/** A {@link PoolDecision} for pool `vision/yolo` (by default) as the loop would publish it. */
export function poolDecision(s: DecisionSpec): PoolDecision {
  const at = s.at ?? 1000;
  const total = s.desired.spot + s.desired.onDemand;
  return {
    pool: s.pool ?? { namespace: "vision", name: "yolo" },
    at,
    scaler: "tritonscale",
    snapshot: {
      now: at,
      ...(s.pendingRequests === undefined
        ? {}
        : { pending: { value: s.pendingRequests, ageSeconds: 1 } }),
      replicas: {
        ready: s.ready ?? NONE,
        starting: s.starting ?? NONE,
        pending: s.pendingReplicas ?? NONE,
        oldestPendingSpotSeconds: 0,
      },
    },
    decision: {
      desired: s.desired,
      active: s.active ?? total > 0,
      held: s.held ?? false,
      reason: s.reason ?? "test decision",
      state: undefined,
    },
    capacityPerReplica: { yolov8s: 100 },
    previous: NONE,
  };
}
