import type { LoadBalancing, Policy } from "../policy/index.js";
import { createScaler } from "../scaling/registry.js";
import type { ByCapacity, Scaler } from "../scaling/types.js";
import type { ArrivalSource } from "./arrivals.js";
import {
  type BoundSearch,
  BoundSearches,
  metTarget,
  PEAK_WINDOW_SECONDS,
  type ProbeResult,
  staticControl,
} from "./bounds.js";
import { type Capacity, capacityAtSlo, capacityCurve, spreadsRoundRobin } from "./capacity.js";
import type { ClusterSettings } from "./cluster.js";
import { type Control, type SimulationResult, SimulationRun, type TimelineRow } from "./engine.js";
import { LatencyHistogram } from "./histogram.js";
import { createShareSplit, equalModelShares, type ModelSplit } from "./model-split.js";
import type { HostedModel } from "./multi-replica.js";
import type { PipelineSettings } from "./observe.js";
import { type ModelCurve, mixedPoolCapacity } from "./pool-capacity.js";
import { equalShares, type ModelShares } from "./pool-mix.js";
import { chooseProfile } from "./pool-profile.js";
import type { LatencyProfile } from "./profile.js";
import { createRng } from "./rng.js";
import {
  batcherSettings,
  clusterSettings,
  createServiceTime,
  pipelineSettings,
  simulatedModel,
} from "./setup.js";

/**
 * Runs a policy's pool through the same trace under several controls: scalers from the
 * registry (the baselines, `fallback`, `tritonscale`), `static:N`, `static-peak` (enough
 * replicas for the peak minute, all the time) and the bounds `best-static`, `oracle` and
 * `lead-oracle` (bounds.ts) — and returns one row each, with whether it met the pool's SLO
 * target (`spec.slo.targetAttainment`, or `sloTarget`). Requests are routed as the pool
 * says (`spec.scaling.loadBalancing`: round robin, or a random replica per request).
 */

/** What to compare. */
export interface ComparisonInput {
  readonly policy: Policy;
  /** Replayed from the start (`reset`) for every row and every probe of a bound. */
  readonly trace: ArrivalSource;
  /** The model's latency profile (a pool of one model, or `model`). */
  readonly profile: LatencyProfile;
  /**
   * For a pool of several models simulated together: each model's profile, by name.
   * @default each model's own (pool-profile.ts chooseProfile: its spec.models[].profile,
   * else the default)
   */
  readonly profiles?: Readonly<Record<string, LatencyProfile>>;
  /**
   * For a pool of several models simulated together: which model each request is for.
   * @default equal shares (model-split.ts), seeded with `seed`
   */
  readonly split?: ModelSplit;
  /**
   * Row names: registry scalers (`hpa-gpu`, `keda-queue`, `fallback`, `tritonscale`),
   * `static:N`, `static-peak`, and the bounds `best-static`, `oracle`, `lead-oracle`.
   */
  readonly controls: readonly string[];
  readonly seed: number;
  /**
   * Simulate only this pool model: its traffic alone on replicas that serve it alone (the
   * other models' requests and GPU time are left out). @default every model of the pool,
   * each replica hosting all of them (one model: that model)
   */
  readonly model?: string;
  readonly cluster?: Partial<ClusterSettings>;
  readonly pipeline?: Partial<PipelineSettings>;
  /**
   * Share of requests within the SLO a row must reach to meet the target, in (0, 1].
   * @default the pool's spec.slo.targetAttainment
   */
  readonly sloTarget?: number;
  /**
   * Seconds at the start of the trace that every run replays (scalers learn from them) but
   * nothing measures. @default 0
   */
  readonly warmupSeconds?: number;
  /**
   * With a pool routed at random: the client connections requests come over, each pinned
   * to a replica (SimulationInput.connections). @default 0, a replica per request
   */
  readonly connections?: number;
  /**
   * With `connections`: seconds after which a connection reconnects
   * (SimulationInput.connectionMaxAgeSeconds). @default Infinity, never
   */
  readonly connectionMaxAgeSeconds?: number;
  /** Most simulations one bound's search runs. @default 10 */
  readonly maxProbes?: number;
  /** Called per run with that run's timeline rows, when given. */
  readonly timeline?: {
    readonly intervalSeconds: number;
    write(name: string, row: TimelineRow): void;
  };
  readonly onProgress?: (name: string, fraction: number) => void;
  /**
   * The model's per-replica capacity at the SLO, when the caller already has it (many
   * comparisons of one model, as `tune --scaling` runs). @default computed here
   */
  readonly capacity?: Capacity;
  /**
   * Record each row's use per bucket of this many seconds and its desired-replica changes
   * (the rows' `usage`, for cost reports; see SimulationInput.usageBucketSeconds).
   * @default none
   */
  readonly usageBucketSeconds?: number;
}

/** One row of the comparison. */
export interface ComparisonRow extends SimulationResult {
  readonly name: string;
  /** Whether its SLO attainment reached the comparison's target. */
  readonly metSloTarget: boolean;
  /** For a bound (`best-static`, `oracle`, `lead-oracle`): how its search found it. */
  readonly search?: BoundSearch;
}

/** One model of a pool of several: its capacity per replica alone, and its share of the trace. */
export interface ModelCapacity {
  readonly model: string;
  readonly capacity: Capacity;
  /** Its share of the trace's requests (the split's). */
  readonly share: number;
  /** Its latency profile's name. */
  readonly profile: string;
}

/** The comparison, and the per-replica capacity every sized control used. */
export interface Comparison {
  /**
   * Per replica at the SLO: the model's; for a pool of several models, the mix of the
   * trace's shares, 1 / Σ (w_i / C_i) (pool-mix.ts), its `requestsPerSecond` what static-peak
   * and the bounds size with (its `p99Ms` and `meanBatch` are the heaviest-share model's).
   */
  readonly capacity: Capacity;
  /**
   * How every row's requests were spread over the ready replicas: the pool's
   * `spec.scaling.loadBalancing` (see SimulationInput.loadBalancing).
   */
  readonly loadBalancing: LoadBalancing;
  /** Client connections pinned to replicas (random routing; 0: a replica per request). */
  readonly connections: number;
  /** Seconds after which a pinned connection reconnects (Infinity: never). */
  readonly connectionMaxAgeSeconds: number;
  /** For a pool of several models: each model's capacity and share. */
  readonly models?: readonly ModelCapacity[];
  /** The SLO attainment target the rows were checked against. */
  readonly sloTarget: number;
  /** Seconds replayed before measuring. */
  readonly warmupSeconds: number;
  readonly rows: readonly ComparisonRow[];
}

/** The rows that are bounds: a bound that misses the target is not a bound. */
export const BOUNDS = ["best-static", "oracle", "lead-oracle"] as const;

/** How often (simulated seconds) a search's probe checks whether it can still meet the target. */
const STOP_CHECK_SECONDS = 300;

/** Runs every control on the trace (replayed from the start each time). */
export function compare(input: ComparisonInput): Comparison {
  const { policy } = input;
  if (input.model === undefined && policy.spec.models.length > 1) {
    checkComparison(input);
    return compareModels(input);
  }
  const model = simulatedModel(policy, input.model);
  const batcher = batcherSettings(model);
  const service = createServiceTime(input.profile);
  const sloSeconds = policy.spec.slo.latencyP99Ms / 1000;
  checkComparison(input);
  const single =
    input.capacity ?? capacityAtSlo(batcher, service, sloSeconds, { seed: input.seed });
  // The curve only for tritonscale, the one control that reads it, and only where the
  // pool's requests are spread round-robin.
  const capacity =
    single.byReplicas !== undefined ||
    !input.controls.includes("tritonscale") ||
    !spreadsRoundRobin(policy)
      ? single
      : capacityCurve(single, batcher, service, sloSeconds, policy.spec.scaling.maxReplicas, {
          seed: input.seed,
        });
  if (capacity.requestsPerSecond <= 0) {
    throw new Error(
      `model ${model.name} cannot meet the ${policy.spec.slo.latencyP99Ms} ms p99 SLO even at light load (p99 ${capacity.p99Ms.toFixed(1)} ms): raise the SLO, lower maxQueueDelayMicroseconds or use a faster profile`,
    );
  }
  return runComparison(input, { batcher, service }, capacity, undefined);
}

/** Checks the SLO target and the warmup of a comparison (RangeError naming the value). */
function checkComparison(input: ComparisonInput): void {
  const target = input.sloTarget ?? input.policy.spec.slo.targetAttainment;
  if (!(target > 0 && target <= 1)) {
    throw new RangeError(`the SLO target must be in (0, 1], e.g. 0.995. Received: ${target}`);
  }
  const warmup = input.warmupSeconds ?? 0;
  if (!(warmup >= 0 && warmup < input.trace.durationSeconds)) {
    throw new RangeError(
      `the warmup must be at least 0 s and shorter than the trace (${input.trace.durationSeconds} s). Received: ${warmup}`,
    );
  }
}

/** What the runs of a comparison simulate: one model's batcher, or several models sharing replicas. */
interface Hosting {
  readonly batcher: HostedModel["batcher"];
  readonly service: HostedModel["service"];
  readonly models?: readonly HostedModel[];
  readonly split?: ModelSplit;
  /** A scaler for a mix of the models' shares (several models). */
  readonly scalerFor?: (name: string, shares: ModelShares) => Scaler;
}

/**
 * A pool of several models, every replica hosting all of them (multi-replica.ts): each
 * model's capacity alone (its batcher and profile), the mix of the trace's shares for the
 * sized controls, and scalers that follow the observed mix as the live loop's do.
 */
function compareModels(input: ComparisonInput): Comparison {
  const { policy } = input;
  const sloSeconds = policy.spec.slo.latencyP99Ms / 1000;
  const names = policy.spec.models.map((m) => m.name);
  const split = input.split ?? createShareSplit(names, equalModelShares(names), input.seed);
  const hosted: HostedModel[] = [];
  const curves = new Map<string, ModelCurve>();
  const singles: ModelCapacity[] = [];
  const curveWanted = input.controls.includes("tritonscale") && spreadsRoundRobin(policy);
  for (const m of policy.spec.models) {
    const profile = input.profiles?.[m.name] ?? chooseProfile(policy, m).profile;
    const batcher = batcherSettings(m);
    const service = createServiceTime(profile);
    hosted.push({ name: m.name, batcher, service });
    const key = JSON.stringify([
      policy.spec.slo.latencyP99Ms,
      policy.spec.scaling.maxReplicas,
      curveWanted,
      batcher,
      profile.name,
      profile.definition ?? null,
      input.seed,
    ]);
    let known = modelMemo.get(key);
    if (known === undefined) {
      const single = capacityAtSlo(batcher, service, sloSeconds, { seed: input.seed });
      const curve =
        curveWanted && single.requestsPerSecond > 0
          ? (capacityCurve(single, batcher, service, sloSeconds, policy.spec.scaling.maxReplicas, {
              seed: input.seed,
            }).byReplicas ?? [single.requestsPerSecond])
          : [single.requestsPerSecond];
      known = { single, curve };
      // Profiles without a definition (a function) may share a name: only defined ones repeat.
      if (profile.definition !== undefined) {
        if (modelMemo.size >= 256) modelMemo.clear();
        modelMemo.set(key, known);
      }
    }
    const { single, curve } = known;
    if (single.requestsPerSecond <= 0) {
      throw new Error(
        `model ${m.name} cannot meet the ${policy.spec.slo.latencyP99Ms} ms p99 SLO even at light load (p99 ${single.p99Ms.toFixed(1)} ms): raise the SLO, lower its maxQueueDelayMicroseconds or give it a faster profile`,
      );
    }
    curves.set(m.name, { curve, profile: profile.name });
    singles.push({
      model: m.name,
      capacity: single,
      share: split.shares[m.name] ?? 0,
      profile: profile.name,
    });
  }
  const mixed = (shares: ModelShares) =>
    mixedPoolCapacity(policy, shares, (m) => curves.get(m.name)!);
  // Sized controls (static-peak, the bounds, the warm start) size for the trace's own mix.
  const traceMix = mixed({ shares: split.shares, from: "traffic" });
  const heaviest = [...singles].sort((a, b) => b.share - a.share)[0]!.capacity;
  const capacity: Capacity = {
    requestsPerSecond: traceMix.perReplica,
    p99Ms: heaviest.p99Ms,
    meanBatch: heaviest.meanBatch,
    saturationRequestsPerSecond: mixedSaturation(singles, split.shares),
    ...(traceMix.byReplicas === undefined || !curveWanted
      ? {}
      : { byReplicas: traceMix.byReplicas }),
  };
  const scalerFor = (name: string, shares: ModelShares): Scaler => {
    const c = mixed(shares);
    return createScaler(name, policy, {
      capacityPerReplica: c.perReplica,
      ...(c.byReplicas === undefined || !curveWanted ? {} : { capacityByReplicas: c.byReplicas }),
    });
  };
  const first = hosted[0]!;
  return runComparison(
    input,
    { batcher: first.batcher, service: first.service, models: hosted, split, scalerFor },
    capacity,
    singles,
  );
}

/**
 * Each model's capacity alone and its curve, by what they depend on (the SLO, maxReplicas,
 * whether the curve is wanted, the batcher, the profile's definition, the seed): many
 * comparisons of one pool (`tune --scaling`, whose candidates change only scaling knobs)
 * search each model once.
 */
const modelMemo = new Map<string, { single: Capacity; curve: readonly number[] }>();

/** The most a replica executes at all for the mix: 1 / Σ (w_i / saturation_i). */
function mixedSaturation(
  models: readonly ModelCapacity[],
  shares: Readonly<Record<string, number>>,
): number {
  let time = 0;
  for (const m of models) {
    const w = shares[m.model] ?? 0;
    if (w > 0) time += w / m.capacity.saturationRequestsPerSecond;
  }
  return time > 0 ? 1 / time : 0;
}

/** Runs every control of `input` on the hosting's replicas, sized with `capacity`. */
function runComparison(
  input: ComparisonInput,
  hosting: Hosting,
  capacity: Capacity,
  models: readonly ModelCapacity[] | undefined,
): Comparison {
  const { policy } = input;
  const { batcher, service } = hosting;
  const sloSeconds = policy.spec.slo.latencyP99Ms / 1000;
  const target = input.sloTarget ?? policy.spec.slo.targetAttainment;
  const warmup = input.warmupSeconds ?? 0;
  const perReplica = capacity.requestsPerSecond;
  const loadBalancing = policy.spec.scaling.loadBalancing;
  const connections = input.connections ?? 0;
  const connectionMaxAgeSeconds = input.connectionMaxAgeSeconds ?? Number.POSITIVE_INFINITY;
  const baseCluster = clusterSettings(policy, input.cluster);
  const pipeline = pipelineSettings(input.pipeline);
  const sized = (rate: number) => Math.ceil(rate / perReplica - 1e-9);

  /** Arrivals of the whole trace (warmup included), once a run has counted them. */
  let traceArrivals: number | undefined;
  /**
   * One run of the trace; with `record`, its timeline and progress are reported. With
   * `stopPastTarget` (a search's probe) it stops once more requests have missed the SLO than
   * the target allows of the whole trace: it cannot meet the target any more (`stopped`).
   */
  const run = (
    name: string,
    control: Control,
    cluster: ClusterSettings,
    record: boolean,
    stopPastTarget = false,
  ): ProbeResult => {
    input.trace.reset();
    const timeline = record ? input.timeline : undefined;
    const onProgress = input.onProgress;
    const sim = new SimulationRun({
      arrivals: input.trace,
      batcher,
      service,
      ...(hosting.models ? { models: hosting.models, split: hosting.split! } : {}),
      cluster,
      pipeline,
      sloSeconds,
      control,
      random: createRng(input.seed).fork(name),
      loadBalancing,
      ...(connections > 0 ? { connections, connectionMaxAgeSeconds } : {}),
      histogram: () => new LatencyHistogram(),
      ...(warmup > 0 ? { measureFromSeconds: warmup } : {}),
      ...(input.usageBucketSeconds === undefined
        ? {}
        : { usageBucketSeconds: input.usageBucketSeconds }),
      ...(timeline
        ? {
            timeline: {
              intervalSeconds: timeline.intervalSeconds,
              write: (row: TimelineRow) => timeline.write(name, row),
            },
          }
        : {}),
      ...(onProgress ? { onProgress: (f: number) => onProgress(name, f) } : {}),
    });
    const duration = input.trace.durationSeconds;
    const allowed =
      stopPastTarget && traceArrivals !== undefined ? (1 - target) * traceArrivals : undefined;
    if (allowed === undefined) sim.advanceTo(duration);
    else {
      for (let t = STOP_CHECK_SECONDS; ; t += STOP_CHECK_SECONDS) {
        sim.advanceTo(Math.min(t, duration));
        if (sim.ended) break;
        if (sim.missed > allowed) return { ...sim.finish(), stopped: true };
      }
    }
    traceArrivals = sim.requests;
    return sim.finish();
  };
  const bounds = new BoundSearches({
    policy,
    trace: input.trace,
    perReplica,
    target,
    cluster: baseCluster,
    probe: (name, control, cluster, complete) => run(name, control, cluster, false, !complete),
    ...(input.maxProbes === undefined ? {} : { maxProbes: input.maxProbes }),
  });

  const rows: ComparisonRow[] = [];
  const push = (name: string, result: SimulationResult, search?: BoundSearch) =>
    rows.push({
      name,
      ...result,
      metSloTarget: metTarget(result, target),
      ...(search ? { search } : {}),
    });
  for (const name of input.controls) {
    if (name === "best-static" || name === "oracle" || name === "lead-oracle") {
      const b =
        name === "best-static"
          ? bounds.bestStatic()
          : name === "oracle"
            ? bounds.oracle()
            : bounds.leadOracle();
      // The chosen probe again, for its timeline (the probes record none).
      const result = input.timeline ? run(name, b.control, b.cluster, true) : b.result;
      push(name, result, b.search);
      continue;
    }
    let control: Control;
    if (name === "static-peak") {
      control = staticControl(Math.max(1, sized(input.trace.peakRate(PEAK_WINDOW_SECONDS))));
    } else if (name.startsWith("static:")) {
      const n = Number(name.slice("static:".length));
      if (!Number.isInteger(n) || n < 0)
        throw new Error(`"${name}": static:N needs a whole number of replicas, e.g. static:3`);
      control = staticControl(n);
    } else {
      const scalerFor = hosting.scalerFor;
      // A pool of several models: the live loop's start, equal shares until traffic is seen.
      const startMix = equalShares(policy.spec.models.map((m) => m.name));
      const scaler = scalerFor
        ? scalerFor(name, startMix)
        : createScaler(name, policy, {
            capacityPerReplica: perReplica,
            ...(capacity.byReplicas === undefined
              ? {}
              : { capacityByReplicas: capacity.byReplicas }),
          });
      // Every scaler starts warm, sized for the first minute's load, so the comparison
      // is about following the load rather than the start-up transient.
      const s = policy.spec.scaling;
      // At least one: the HPA cannot scale a target that sits at zero.
      const warm = Math.min(
        s.maxReplicas,
        Math.max(1, s.minReplicas, sized(input.trace.rateBetween(0, PEAK_WINDOW_SECONDS))),
      );
      const initial: ByCapacity = { spot: 0, onDemand: warm };
      control = {
        kind: "scaler",
        scaler,
        initial,
        ...(scalerFor
          ? {
              mix: {
                models: policy.spec.models.map((m) => ({
                  entry: m.name,
                  detector: `${m.name}-detector`,
                })),
                initial: startMix,
                rebind: (shares: ModelShares) => scalerFor(name, shares),
              },
            }
          : {}),
      };
    }
    push(name, run(name, control, baseCluster, true));
  }
  return {
    capacity,
    loadBalancing,
    connections,
    connectionMaxAgeSeconds,
    ...(models ? { models } : {}),
    sloTarget: target,
    warmupSeconds: warmup,
    rows,
  };
}
