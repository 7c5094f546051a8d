import { type Policy, type PolicyModel, SPOT_NOTICE_SECONDS } from "../policy/index.js";
import type { ClusterSettings } from "./cluster.js";
import type { PipelineSettings } from "./observe.js";
import type { LatencyProfile } from "./profile.js";
import type { BatcherSettings, ServiceTime } from "./replica.js";

/**
 * From a Policy to the simulator's settings: the batcher of the simulated model, its
 * compute time, the cluster's times and prices, the metrics pipeline. Defaults here are
 * assumptions, stated where they are set, and every one can be overridden.
 */

/** The pool model a simulation runs: by name, or the first. */
export function simulatedModel(policy: Policy, name?: string): PolicyModel {
  const models = policy.spec.models;
  if (name === undefined) return models[0]!;
  const m = models.find((x) => x.name === name);
  if (!m) {
    throw new Error(
      `pool ${policy.metadata.name} has no model "${name}"; models: ${models.map((x) => x.name).join(", ")}`,
    );
  }
  return m;
}

/**
 * What a simulation of `policy` runs, as the name reports show: `name` alone, or every
 * model of the pool (their names joined by `+`) when none is named and it has several.
 */
export function simulatedModels(policy: Policy, name?: string): string {
  if (name !== undefined || policy.spec.models.length === 1) {
    return simulatedModel(policy, name).name;
  }
  return policy.spec.models.map((m) => m.name).join("+");
}

/** The dynamic batcher of a pool model, in seconds. */
export function batcherSettings(model: PolicyModel): BatcherSettings {
  const b = model.batching;
  const q = b?.queue;
  return {
    maxBatchSize: model.maxBatchSize,
    preferredBatchSizes: b ? [...b.preferredBatchSizes] : [],
    maxQueueDelaySeconds: b ? b.maxQueueDelayMicroseconds / 1e6 : 0,
    instances: model.instances,
    maxQueueSize: q ? q.maxQueueSize : 0,
    queueTimeoutSeconds: q && q.timeoutAction === "REJECT" ? q.timeoutMicroseconds / 1e6 : 0,
  };
}

/**
 * Creates the function giving the compute time of a batch of n in seconds. Model instances
 * share one GPU: while k of them compute at once, each batch takes about k times as long
 * (the GPU interleaves their kernels), so extra instances overlap work without adding GPU
 * throughput. The factor is taken at the batch's start (an approximation of processor
 * sharing).
 */
export function createServiceTime(profile: LatencyProfile): ServiceTime {
  return (n, concurrent) => (profile.computeMs(n) * concurrent) / 1000;
}

/**
 * Cluster defaults. Node provisioning: the pool's `scaling.nodeProvisioning` (default 2 min,
 * typical GPU node boot plus driver setup on managed node pools), 30 s more for Spot (an
 * assumption: the Spot request is placed and filled first); an empty node lingers
 * the pool's `scaling.history.nodeLinger` (default 10 min, cluster-autoscaler's
 * scale-down-unneeded-time), the same time the scaler's scale-down that pays counts; Spot reclaims at 0.02 per
 * node-hour (an assumption) with the provider's notice; 95% of Spot requests fulfilled.
 */
export function clusterSettings(
  policy: Policy,
  overrides: Partial<ClusterSettings> = {},
): ClusterSettings {
  const cap = policy.spec.capacity;
  const cost = policy.spec.cost;
  return {
    nodeProvisionSeconds: {
      spot: policy.spec.scaling.nodeProvisioningSeconds + 30,
      onDemand: policy.spec.scaling.nodeProvisioningSeconds,
    },
    coldStartSeconds: policy.spec.scaling.coldStartSeconds,
    nodeIdleRemovalSeconds: policy.spec.scaling.history.nodeLingerSeconds,
    spotInterruptionsPerHour: cap.spot.enabled ? 0.02 : 0,
    spotNoticeSeconds: SPOT_NOTICE_SECONDS[cap.provider] ?? 120,
    spotAvailability: 0.95,
    gpusPerReplica: cap.gpu.count,
    pricePerGpuHour: { spot: cost.spotPerGpuHour, onDemand: cost.onDemandPerGpuHour },
    ...overrides,
  };
}

/**
 * The metrics pipeline: 15 s scrapes, 1 min rate window, 15 s until visible (scrape →
 * Prometheus → adapter or KEDA), the common defaults.
 */
export function pipelineSettings(overrides: Partial<PipelineSettings> = {}): PipelineSettings {
  return { scrapeIntervalSeconds: 15, rateWindowSeconds: 60, delaySeconds: 15, ...overrides };
}
