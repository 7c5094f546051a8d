import type { ClusterSettings } from "../../controller/simulate/cluster.js";
import type { BatcherSettings } from "../../controller/simulate/replica.js";

/**
 * A dynamic batcher for simulator tests: the example pool's (examples/yolov8-pool.yaml's
 * YOLOv8s: max batch 8, preferred 4 and 8, 2 ms queue delay, 2 instances, no queue policy),
 * with `changes` on top.
 */
export function testBatcher(changes: Partial<BatcherSettings> = {}): BatcherSettings {
  return {
    maxBatchSize: 8,
    preferredBatchSizes: [4, 8],
    maxQueueDelaySeconds: 0.002,
    instances: 2,
    maxQueueSize: 0,
    queueTimeoutSeconds: 0,
    ...changes,
  };
}

/**
 * A simulated cluster for simulator tests: the default GPU node times (150 s Spot, 120 s
 * on-demand), a 60 s cold start, 10 min node linger, no Spot reclaims (120 s notice when
 * there are), every Spot request filled, one GPU a replica at 0.2 / 0.5 per GPU-hour,
 * with `changes` on top.
 */
export function testCluster(changes: Partial<ClusterSettings> = {}): ClusterSettings {
  return {
    nodeProvisionSeconds: { spot: 150, onDemand: 120 },
    coldStartSeconds: 60,
    nodeIdleRemovalSeconds: 600,
    spotInterruptionsPerHour: 0,
    spotNoticeSeconds: 120,
    spotAvailability: 1,
    gpusPerReplica: 1,
    pricePerGpuHour: { spot: 0.2, onDemand: 0.5 },
    ...changes,
  };
}
