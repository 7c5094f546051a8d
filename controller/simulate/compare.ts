import type { Policy } from "../policy/index.js";
import { createScaler } from "../scaling/registry.js";
import type { ByCapacity } from "../scaling/types.js";
import type { ArrivalSource } from "./arrivals.js";
import { type Capacity, capacityAtSlo } from "./capacity.js";
import type { ClusterSettings } from "./cluster.js";
import { type Control, type SimulationResult, simulate, type TimelineRow } from "./engine.js";
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
 * registry, `static:N`, and the two bounds — `static-peak` (enough replicas for the peak,
 * all the time) and `oracle` (the fewest whole replicas that hold the SLO at each
 * moment's load, with no provisioning or cold start) — and returns one row each.
 */

/** What to compare. */
export interface ComparisonInput {
  readonly policy: Policy;
  /** Replayed from the start (`reset`) for every row; its rates size the two bounds. */
  readonly trace: ArrivalSource;
  readonly profile: LatencyProfile;
  /** Row names: registry scalers (`hpa-gpu`, `keda-queue`, `tritonscale`), `static:N`, `static-peak`, `oracle`. */
  readonly controls: readonly string[];
  readonly seed: number;
  /** Which pool model to simulate. @default the first */
  readonly model?: string;
  readonly cluster?: Partial<ClusterSettings>;
  readonly pipeline?: Partial<PipelineSettings>;
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
}

/** One row of the comparison. */
export interface ComparisonRow extends SimulationResult {
  readonly name: string;
}

/** The comparison, and the per-replica capacity every sized control used. */
export interface Comparison {
  readonly capacity: Capacity;
  readonly rows: readonly ComparisonRow[];
}

/** The window static-peak's peak rate is read over, and warm starts are sized for. */
const PEAK_WINDOW_SECONDS = 60;
/** The oracle re-sizes this often, for the highest rate it will see before the next time. */
const ORACLE_PERIOD_SECONDS = 5;

/** Runs every control on the trace (replayed from the start each time). */
export function compare(input: ComparisonInput): Comparison {
  const { policy } = input;
  const model = simulatedModel(policy, input.model);
  const batcher = batcherSettings(model);
  const service = createServiceTime(input.profile);
  const sloSeconds = policy.spec.slo.latencyP99Ms / 1000;
  const capacity =
    input.capacity ?? capacityAtSlo(batcher, service, sloSeconds, { seed: input.seed });
  if (capacity.requestsPerSecond <= 0) {
    throw new Error(
      `model ${model.name} cannot meet the ${policy.spec.slo.latencyP99Ms} ms p99 SLO even at light load (p99 ${capacity.p99Ms.toFixed(1)} ms): raise the SLO, lower maxQueueDelayMicroseconds or use a faster profile`,
    );
  }
  const perReplica = capacity.requestsPerSecond;
  const baseCluster = clusterSettings(policy, input.cluster);
  const pipeline = pipelineSettings(input.pipeline);
  const rows: ComparisonRow[] = [];
  for (const name of input.controls) {
    input.trace.reset();
    let control: Control;
    let cluster = baseCluster;
    const sized = (rate: number) => Math.ceil(rate / perReplica - 1e-9);
    if (name === "static-peak") {
      const n = Math.max(1, sized(input.trace.peakRate(PEAK_WINDOW_SECONDS)));
      control = { kind: "schedule", replicasAt: () => n, periodSeconds: PEAK_WINDOW_SECONDS };
    } else if (name === "oracle") {
      const trace = input.trace;
      control = {
        kind: "schedule",
        // The highest one-second rate before the next re-size: "each moment's load".
        replicasAt: (t) => {
          let peak = 0;
          for (let k = 0; k < ORACLE_PERIOD_SECONDS; k++)
            peak = Math.max(peak, trace.rateBetween(t + k, t + k + 1));
          return sized(peak);
        },
        periodSeconds: ORACLE_PERIOD_SECONDS,
      };
      // Perfect foresight: capacity appears and disappears the moment it is asked for.
      cluster = {
        ...baseCluster,
        nodeProvisionSeconds: { spot: 0, onDemand: 0 },
        coldStartSeconds: 0,
        nodeIdleRemovalSeconds: 0,
      };
    } else if (name.startsWith("static:")) {
      const n = Number(name.slice("static:".length));
      if (!Number.isInteger(n) || n < 0)
        throw new Error(`"${name}": static:N needs a whole number of replicas, e.g. static:3`);
      control = { kind: "schedule", replicasAt: () => n, periodSeconds: PEAK_WINDOW_SECONDS };
    } else {
      const scaler = createScaler(name, policy, { capacityPerReplica: perReplica });
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
    const rng = createRng(input.seed).fork(name);
    const timeline = input.timeline;
    const result = simulate({
      arrivals: input.trace,
      batcher,
      service,
      cluster,
      pipeline,
      sloSeconds,
      control,
      random: rng,
      histogram: () => new LatencyHistogram(),
      ...(timeline
        ? {
            timeline: {
              intervalSeconds: timeline.intervalSeconds,
              write: (row: TimelineRow) => timeline.write(name, row),
            },
          }
        : {}),
      ...(input.onProgress ? { onProgress: (f: number) => input.onProgress?.(name, f) } : {}),
    });
    rows.push({ name, ...result });
  }
  return { capacity, rows };
}
