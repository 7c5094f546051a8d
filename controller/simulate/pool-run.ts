import type { Policy } from "../policy/index.js";
import type { ByCapacity } from "../scaling/types.js";
import type { ArrivalSource } from "./arrivals.js";
import { capacityAtSlo } from "./capacity.js";
import type { ClusterSettings } from "./cluster.js";
import { SimulationRun } from "./engine.js";
import { LatencyHistogram } from "./histogram.js";
import { createShareSplit, equalModelShares } from "./model-split.js";
import type { HostedModel } from "./multi-replica.js";
import { poolCapacity } from "./pool-capacity.js";
import { chooseProfile } from "./pool-profile.js";
import { DEFAULT_PROFILE, type LatencyProfile } from "./profile.js";
import { repeatArrivals } from "./repeat.js";
import { createRng } from "./rng.js";
import { batcherSettings, clusterSettings, createServiceTime, simulatedModel } from "./setup.js";

/**
 * A pool's simulated cluster and Triton replicas as one step-able run that something
 * outside decides for (an external control): what `demo` puts behind the live loop's
 * ports. Built from the policy exactly as `simulate` builds a run (setup.ts: the batcher
 * of the pool's model, its compute time from a latency profile, the cluster's times and
 * prices, and requests routed as the pool's `spec.scaling.loadBalancing` says), so the
 * replicas the loop sees batch and cold-start as the simulated ones do.
 */

/** Options of {@link createPoolRun}. */
export interface PoolRunOptions {
  /** Seeds the cluster's randomness (Spot reclaims and availability). @default 1 */
  readonly seed?: number;
  /** The model's latency profile. @default DEFAULT_PROFILE, the loop's default too */
  readonly profile?: LatencyProfile;
  /**
   * Which pool model the replicas serve, alone. @default every model of the pool, each
   * replica hosting all of them (multi-replica.ts), each request's model drawn from equal
   * shares (model-split.ts), each model with its own profile (pool-profile.ts)
   */
  readonly model?: string;
  /**
   * Replicas ready at the start. @default warm for the trace's first minute, as
   * `simulate` starts every scaler: enough for its mean rate at the SLO, at least
   * max(1, minReplicas), at most maxReplicas, on-demand
   */
  readonly initial?: ByCapacity;
  /** The Unix time the trace starts at (schedules, the live clock). @default the engine's */
  readonly startEpochSeconds?: number;
  readonly cluster?: Partial<ClusterSettings>;
  /**
   * The pool model's requests per second per replica at the SLO, for the warm start.
   * @default computed here (simulate/capacity.ts, seed 1), as the loop computes it
   */
  readonly capacityPerReplica?: number;
  /** Play the trace over and over, for as long as the run is advanced. @default false */
  readonly repeat?: boolean;
}

/** A run of the pool on `trace` (from its start), controlled from outside (`reconcile`). */
export function createPoolRun(
  policy: Policy,
  trace: ArrivalSource,
  options: PoolRunOptions = {},
): SimulationRun {
  const model = simulatedModel(policy, options.model);
  const batcher = batcherSettings(model);
  const service = createServiceTime(options.profile ?? DEFAULT_PROFILE);
  const seed = options.seed ?? 1;
  const names = policy.spec.models.map((m) => m.name);
  const together = options.model === undefined && names.length > 1;
  const models: HostedModel[] | undefined = together
    ? policy.spec.models.map((m) => ({
        name: m.name,
        batcher: batcherSettings(m),
        service: createServiceTime(chooseProfile(policy, m).profile),
      }))
    : undefined;
  const sloSeconds = policy.spec.slo.latencyP99Ms / 1000;
  const initial =
    options.initial ??
    warmStart(
      policy,
      trace,
      options.capacityPerReplica ??
        (together
          ? poolCapacity(policy).perReplica
          : capacityAtSlo(batcher, service, sloSeconds, { seed: 1 }).requestsPerSecond),
    );
  trace.reset();
  return new SimulationRun({
    arrivals: options.repeat ? repeatArrivals(trace) : trace,
    batcher,
    service,
    ...(models ? { models, split: createShareSplit(names, equalModelShares(names), seed) } : {}),
    cluster: clusterSettings(policy, options.cluster),
    sloSeconds,
    control: { kind: "external", initial },
    random: createRng(seed).fork("pool-run"),
    loadBalancing: policy.spec.scaling.loadBalancing,
    histogram: () => new LatencyHistogram(),
    modelName: model.name,
    ...(options.startEpochSeconds === undefined
      ? {}
      : { startEpochSeconds: options.startEpochSeconds }),
  });
}

/** `simulate`'s warm start (compare.ts): sized for the first minute's load. */
function warmStart(policy: Policy, trace: ArrivalSource, perReplica: number): ByCapacity {
  const s = policy.spec.scaling;
  let sized = 0;
  const rate = trace.rateBetween(0, Math.min(60, trace.durationSeconds));
  if (perReplica > 0) sized = Math.ceil(rate / perReplica - 1e-9);
  const warm = Math.min(s.maxReplicas, Math.max(1, s.minReplicas, sized));
  return { spot: 0, onDemand: warm };
}
