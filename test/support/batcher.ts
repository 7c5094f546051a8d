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
