import type { Policy, PolicyModel } from "../policy/index.js";
import { capacityAtSlo, capacityCurve, spreadsRoundRobin } from "./capacity.js";
import { equalShares, type ModelShares, mixedCapacity } from "./pool-mix.js";
import { chooseProfile } from "./pool-profile.js";
import type { LatencyProfile } from "./profile.js";
import { batcherSettings, createServiceTime } from "./setup.js";

/**
 * Per-replica capacity at the SLO for a live pool, computed exactly as `simulate` computes
 * it (simulate/compare.ts): each model's dynamic batcher from the policy, its compute time
 * from a latency profile, and the bisection of simulate/capacity.ts (seed 1, simulate's
 * default). Each model's profile is its own `spec.models[].profile`; without one, simulate's
 * documented default, DEFAULT_PROFILE (`linear:a=4,b=2.2`, an assumed YOLOv8s on a T4), as
 * simulate/pool-profile.ts chooses for every command. A pool of several models is sized by
 * the mix of its requests (pool-mix.ts): C_mix = 1 / Σ (w_i / C_i).
 */

/**
 * Where a pool model's latency profile comes from.
 * @default the model's `spec.models[].profile`, else DEFAULT_PROFILE ({@link poolProfileOf})
 */
export type ProfileOf = (policy: Policy, model: PolicyModel) => LatencyProfile;

/** The capacity a pool's scaler is created with. */
export interface PoolCapacity {
  /** Requests per second one replica sustains at the SLO, per model (0: cannot meet it). */
  readonly perModel: Readonly<Record<string, number>>;
  /**
   * What the scaler divides demand by: the capacity for the mix of `shares`,
   * 1 / Σ (w_i / C_i) (pool-mix.ts); a single model's own capacity.
   */
  readonly perReplica: number;
  /** Which profile each model used, for reasons and status. */
  readonly profiles: Readonly<Record<string, string>>;
  /** The models' shares `perReplica` was mixed for. @default equal shares */
  readonly shares?: ModelShares;
  /**
   * Per-replica capacity when n replicas share round-robin arrivals, at n − 1, mixed as
   * `perReplica` is (simulate/capacity.ts `capacityCurve`); element 0 is `perReplica`.
   * Absent: every n counts as one.
   */
  readonly byReplicas?: readonly number[];
}

/** The default: each model's own profile, else simulate's default profile. */
export const poolProfileOf: ProfileOf = (policy, model) => chooseProfile(policy, model).profile;

/** One model's capacity per replica at the pool's SLO, with `profile` (pure; a few hundred ms). */
export function modelCapacity(policy: Policy, model: PolicyModel, profile: LatencyProfile): number {
  const sloSeconds = policy.spec.slo.latencyP99Ms / 1000;
  return capacityAtSlo(batcherSettings(model), createServiceTime(profile), sloSeconds, { seed: 1 })
    .requestsPerSecond;
}

/**
 * One model's per-replica capacity at the pool's SLO when n replicas share round-robin
 * arrivals, n = 1..min(maxReplicas, 32), at n − 1 (pure; a few hundred ms per point searched).
 */
export function modelCapacityCurve(
  policy: Policy,
  model: PolicyModel,
  profile: LatencyProfile,
): readonly number[] {
  const sloSeconds = policy.spec.slo.latencyP99Ms / 1000;
  const batcher = batcherSettings(model);
  const service = createServiceTime(profile);
  const single = capacityAtSlo(batcher, service, sloSeconds, { seed: 1 });
  // A random share per replica (a plain Service) sustains one replica's capacity, whatever n.
  if (!spreadsRoundRobin(policy)) return [single.requestsPerSecond];
  return (
    capacityCurve(single, batcher, service, sloSeconds, policy.spec.scaling.maxReplicas, {
      seed: 1,
    }).byReplicas ?? [single.requestsPerSecond]
  );
}

/**
 * The per-n mix of the models' curves (pool-mix.ts, each n on its own), as long as the shortest;
 * undefined when a model has none.
 */
export function mixedCurve(
  curves: Readonly<Record<string, readonly number[]>>,
  shares: Readonly<Record<string, number>>,
): readonly number[] | undefined {
  const lists = Object.values(curves);
  if (lists.length === 0) return undefined;
  let length = Number.POSITIVE_INFINITY;
  for (const c of lists) length = Math.min(length, c.length);
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    const at: Record<string, number> = {};
    for (const [m, c] of Object.entries(curves)) at[m] = c[i]!;
    out.push(mixedCapacity(at, shares));
  }
  return out;
}

/**
 * Computes a pool's capacity per replica at its SLO (pure; a few hundred ms per model): each
 * model's, and the mix of `shares` (default: equal shares).
 */
export function poolCapacity(
  policy: Policy,
  profileOf: ProfileOf = poolProfileOf,
  shares: ModelShares = equalShares(policy.spec.models.map((m) => m.name)),
): PoolCapacity {
  return mixedPoolCapacity(policy, shares, (model) => {
    const profile = profileOf(policy, model);
    return { curve: modelCapacityCurve(policy, model, profile), profile: profile.name };
  });
}

/** One model's capacity curve (element 0: one replica's capacity) and its profile's name. */
export interface ModelCurve {
  readonly curve: readonly number[];
  readonly profile: string;
}

/**
 * A pool's capacity from each model's curve (`curveOf`, which may remember them): per
 * model, the mix of `shares`, and the mixed curve over replicas.
 */
export function mixedPoolCapacity(
  policy: Policy,
  shares: ModelShares,
  curveOf: (model: PolicyModel) => ModelCurve,
): PoolCapacity {
  const perModel: Record<string, number> = {};
  const curves: Record<string, readonly number[]> = {};
  const profiles: Record<string, string> = {};
  for (const model of policy.spec.models) {
    const c = curveOf(model);
    perModel[model.name] = c.curve[0]!;
    curves[model.name] = c.curve;
    profiles[model.name] = c.profile;
  }
  const byReplicas = mixedCurve(curves, shares.shares);
  return {
    perModel,
    perReplica: mixedCapacity(perModel, shares.shares),
    profiles,
    shares,
    ...(byReplicas === undefined ? {} : { byReplicas }),
  };
}
