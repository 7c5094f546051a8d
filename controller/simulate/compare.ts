import type { LoadBalancing, Policy } from "../policy/index.js";
import { createScaler } from "../scaling/registry.js";
import type { ByCapacity } from "../scaling/types.js";
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
import type { PipelineSettings } from "./observe.js";
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
  readonly profile: LatencyProfile;
  /**
   * Row names: registry scalers (`hpa-gpu`, `keda-queue`, `fallback`, `tritonscale`),
   * `static:N`, `static-peak`, and the bounds `best-static`, `oracle`, `lead-oracle`.
   */
  readonly controls: readonly string[];
  readonly seed: number;
  /** Which pool model to simulate. @default the first */
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

/** The comparison, and the per-replica capacity every sized control used. */
export interface Comparison {
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
  const model = simulatedModel(policy, input.model);
  const batcher = batcherSettings(model);
  const service = createServiceTime(input.profile);
  const sloSeconds = policy.spec.slo.latencyP99Ms / 1000;
  const target = input.sloTarget ?? policy.spec.slo.targetAttainment;
  if (!(target > 0 && target <= 1)) {
    throw new RangeError(`the SLO target must be in (0, 1], e.g. 0.995. Received: ${target}`);
  }
  const warmup = input.warmupSeconds ?? 0;
  if (!(warmup >= 0 && warmup < input.trace.durationSeconds)) {
    throw new RangeError(
      `the warmup must be at least 0 s and shorter than the trace (${input.trace.durationSeconds} s). Received: ${warmup}`,
    );
  }
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
      const scaler = createScaler(name, policy, {
        capacityPerReplica: perReplica,
        ...(capacity.byReplicas === undefined ? {} : { capacityByReplicas: capacity.byReplicas }),
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
      control = { kind: "scaler", scaler, initial };
    }
    push(name, run(name, control, baseCluster, true));
  }
  return {
    capacity,
    loadBalancing,
    connections,
    connectionMaxAgeSeconds,
    sloTarget: target,
    warmupSeconds: warmup,
    rows,
  };
}
