import type { LoadBalancing } from "../policy/index.js";
import type { PoolScrape, ReplicaScrape } from "../scaling/samples.js";
import type { ByCapacity, ReplicaCounts, Scaler } from "../scaling/types.js";
import type { WindowModel } from "../scaling/window.js";
import type { ArrivalSource } from "./arrivals.js";
import { Cluster, type ClusterSettings, type Usage } from "./cluster.js";
import type { ModelSplit } from "./model-split.js";
import {
  type HostedModel,
  MultiReplica,
  type PoolReplica,
  type RequestModels,
} from "./multi-replica.js";
import { Pipeline, type PipelineSettings } from "./observe.js";
import { type ModelShares, observedShares } from "./pool-mix.js";
import {
  type BatcherSettings,
  type CompletionSink,
  Replica,
  type ReplicaCounters,
  type ServiceTime,
} from "./replica.js";
import type { Rng } from "./rng.js";

/**
 * The discrete-event simulation of a Triton pool: arrivals → load balancer (round robin, or
 * a uniformly random ready replica per request: {@link SimulationInput.loadBalancing}) →
 * each replica's dynamic batcher → GPU; pods and nodes with provisioning, cold starts and Spot
 * reclaims; a metrics pipeline; and a controller that runs a Scaler (the same code the
 * live controller runs) at its own period. Deterministic for a seed.
 *
 * Time moves in steps (1 s by default): lifecycles and control act at step boundaries,
 * requests at their exact times within a step.
 */

/** A latency distribution that keeps fixed memory (see histogram.ts). */
export interface LatencyRecorder {
  record(ms: number): void;
  /**
   * `record(values[i] * scale)` for each of `values[0, n)`, in order, when the recorder
   * has a faster way.
   */
  recordAll?(values: Float64Array, n: number, scale: number): void;
  quantile(q: number): number;
  readonly count: number;
  readonly max: number;
}

/** Records `seconds[0, n)` × 1000 (ms) in order, in one call when the recorder can. */
function recordAll(recorder: LatencyRecorder, seconds: Float64Array, n: number): void {
  if (recorder.recordAll) recorder.recordAll(seconds, n, 1000);
  else for (let i = 0; i < n; i++) recorder.record(seconds[i]! * 1000);
}

/** Who decides the replica count. */
export type Control =
  /** A Scaler, run every `scaler.periodSeconds` on what the pipeline shows. */
  | {
      readonly kind: "scaler";
      /** Created for the simulated pool's policy. */
      readonly scaler: Scaler;
      readonly initial: ByCapacity;
      /**
       * For a pool of several models: the scaler is re-created for the mix of the models'
       * observed arrivals, as the live loop does (loop.ts, pool-mix.ts).
       */
      readonly mix?: ScalerMix;
    }
  /** A replica count for every moment, ready at once (static pools and the oracle bound). */
  | {
      readonly kind: "schedule";
      readonly replicasAt: (t: number) => number;
      readonly periodSeconds: number;
    };

/**
 * How a scaler control follows the mix of a pool of several models, as the live loop does:
 * at every decision the models' shares of the arrivals are read from per-model windows of
 * the same metrics pipeline ({@link observedShares}); when they changed, the scaler is
 * re-created with the capacity for the new mix ({@link rebind}; the same algorithm, so its
 * state carries over).
 */
export interface ScalerMix {
  /** The pool's models, as the live loop's windows tell their series apart. */
  readonly models: readonly WindowModel[];
  /** The mix the control's scaler was created for (the live loop starts with equal shares). */
  readonly initial: ModelShares;
  /** The scaler for a new mix; undefined keeps the one in force (and its mix). */
  rebind(shares: ModelShares): Scaler | undefined;
}

/** What became of a run's requests (all of them, or one model's). */
export interface RequestOutcome {
  readonly requests: number;
  readonly served: number;
  readonly rejected: number;
  readonly failed: number;
  /** Share of the requests served within the SLO (rejected and failed count as misses). */
  readonly sloAttainment: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
}

/** What a run measured of one model of a pool of several. */
export interface ModelResult extends RequestOutcome {
  readonly model: string;
}

/** One row of the timeline, per interval. */
export interface TimelineRow {
  readonly t: number;
  readonly arrivalsPerSecond: number;
  readonly served: number;
  readonly rejected: number;
  readonly failed: number;
  readonly readySpot: number;
  readonly readyOnDemand: number;
  readonly starting: number;
  readonly pending: number;
  readonly desired: number;
  readonly queued: number;
  readonly p99Ms: number;
  readonly cost: number;
  readonly reason: string;
}

/** Everything a run needs. */
export interface SimulationInput {
  /** Where arrivals come from; a run reads only the times (`fill`) and the length. */
  readonly arrivals: Pick<ArrivalSource, "durationSeconds" | "fill">;
  /** The replicas' batcher, for a pool of one model (ignored with `models`). */
  readonly batcher: BatcherSettings;
  /** The batches' compute time, for a pool of one model (ignored with `models`). */
  readonly service: ServiceTime;
  /**
   * A pool of several models: every replica hosts all of them, one batcher each on one GPU
   * (multi-replica.ts), and `split` says which model each arrival is for. The result then
   * has one {@link ModelResult} per model. @default one model, `batcher` and `service`
   */
  readonly models?: readonly HostedModel[];
  /** Which model each arrival is for (required with `models`). */
  readonly split?: ModelSplit;
  readonly cluster: ClusterSettings;
  readonly pipeline: PipelineSettings;
  readonly sloSeconds: number;
  readonly control: Control;
  /**
   * Seeds the cluster's randomness (Spot reclaims and availability) and, with `random`
   * load balancing, the choice of replica (its own stream, `fork("routing")`, so routing
   * never shifts the cluster's draws).
   */
  readonly random: Rng;
  /**
   * How requests are spread over the ready replicas, as the pool's
   * `spec.scaling.loadBalancing` says they are (runs built from a pool pass it; compare.ts,
   * pool-run.ts): `roundRobin`, each request to the next ready replica in turn (a proxy
   * balancing every request: Envoy, an Istio or Gateway API route); `random`, each request
   * to a uniformly random ready replica (a plain Service: kube-proxy picks a replica per
   * connection; modelled per request, the best case of that, where every replica gets a
   * Poisson share of a Poisson stream). @default "roundRobin"
   */
  readonly loadBalancing?: LoadBalancing;
  /**
   * With `random` load balancing, the client connections requests come over (`simulate
   * --connections`): each is pinned to the ready replica chosen uniformly at random when it
   * connects (kube-proxy picks a replica per connection, and gRPC or HTTP/2 clients keep
   * theirs), each request takes one of them uniformly at random (clients of equal rate),
   * and a connection whose replica is no longer ready reconnects, to a random ready
   * replica, at its next request. Replicas that become ready later get traffic only from
   * connections that reconnect. 0: every request chooses a replica anew. @default 0
   */
  readonly connections?: number;
  /**
   * With `connections`: seconds after which a connection reconnects (to a uniformly random
   * ready replica) at its next request, as gRPC's MAX_CONNECTION_AGE makes clients do; the
   * only way replicas added by a scale-up get a share. @default Infinity (never: gRPC's
   * default)
   */
  readonly connectionMaxAgeSeconds?: number;
  readonly histogram: () => LatencyRecorder;
  /** Seconds a request waits at the front while no replica is ready before it fails. @default 30 */
  readonly frontTimeoutSeconds?: number;
  /** @default 1 */
  readonly stepSeconds?: number;
  /**
   * The wall-clock time (Unix seconds) the trace starts at, so cron schedules mean
   * something to a scaler. @default 2026-01-05T00:00:00Z, a Monday
   */
  readonly startEpochSeconds?: number;
  /** Capacity type of replicas a schedule control starts. @default "onDemand" */
  readonly scheduleCapacity?: "spot" | "onDemand";
  readonly timeline?: { readonly intervalSeconds: number; write(row: TimelineRow): void };
  readonly onProgress?: (fraction: number) => void;
  /**
   * Seconds of warmup (`simulate --warmup`): the run goes from the start, so scalers learn
   * from it, but measures only from here on. Measured requests are those not finished by
   * then (arrived after it, or still queued at it), so served + rejected + failed still
   * equals requests; GPU-hours, cost and scale events count from here; latency too.
   * @default 0
   */
  readonly measureFromSeconds?: number;
  /**
   * Record use per bucket of this many simulated seconds (buckets aligned to multiples of
   * it from the trace's start; 86,400 for days) and every change of the desired replicas,
   * from the start of measurement: the result's `usage`. Costs one look at the cluster per
   * bucket and one comparison per control period, nothing per request. @default none
   */
  readonly usageBucketSeconds?: number;
}

/**
 * One bucket of a run's measured use (`RunInput.usageBucketSeconds`), for cost reports:
 * GPU-seconds billed and busy by capacity type, requests and those within the SLO.
 */
export interface UsageBucketRecord {
  /** Simulated seconds since the start of the trace. */
  readonly start: number;
  readonly seconds: number;
  /** GPU-seconds of nodes billed (provisioning to removal). */
  readonly gpuSeconds: ByCapacity;
  /** GPU-seconds the GPUs computed (Replica.gpuBusySeconds × GPUs per replica). */
  readonly busyGpuSeconds: ByCapacity;
  /**
   * Requests: arrivals in the bucket (the first bucket after a warmup also counts those
   * still queued when measuring began, as {@link SimulationResult.requests} does).
   */
  readonly requests: number;
  /** Requests served within the SLO, counted when they complete. */
  readonly withinSlo: number;
}

/** A change of the desired replicas by capacity type, at simulated time `t`. */
export interface DesiredChange {
  readonly t: number;
  readonly from: ByCapacity;
  readonly to: ByCapacity;
  readonly reason: string;
}

/** What a run recorded for a cost report: its buckets and every change of the desired count. */
export interface RunUsage {
  readonly bucketSeconds: number;
  /** Desired replicas when measuring began. */
  readonly initial: ByCapacity;
  readonly buckets: readonly UsageBucketRecord[];
  readonly changes: readonly DesiredChange[];
  /** Simulated seconds measuring began and ended. */
  readonly from: number;
  readonly to: number;
}

/** What a run measured. */
export interface SimulationResult extends RequestOutcome {
  readonly maxMs: number;
  readonly meanQueueWaitMs: number;
  readonly gpuHours: number;
  readonly spotGpuHours: number;
  readonly cost: number;
  readonly scaleEvents: number;
  readonly durationSeconds: number;
  /** Buckets and desired changes, when the run was asked for them (`usageBucketSeconds`). */
  readonly usage?: RunUsage;
  /** Per model, for a pool of several (`SimulationInput.models`); the totals above count all. */
  readonly byModel?: readonly ModelResult[];
}

const CHUNK = 4096;

/** Cumulative figures at a bucket boundary. */
interface BucketMark {
  readonly t: number;
  readonly gpuSeconds: ByCapacity;
  readonly busy: ByCapacity;
  readonly requests: number;
  readonly withinSlo: number;
}

/** What a run had counted when its warmup ended (see `measureFromSeconds`). */
interface MeasureBase {
  readonly t: number;
  readonly served: number;
  readonly withinSlo: number;
  readonly failed: number;
  readonly rejected: number;
  readonly completed: number;
  readonly queueSeconds: number;
  readonly usage: Usage;
  readonly scaleEvents: number;
}

/** One model's tallies in a run of several (cumulative; the warmup's subtracted at the end). */
interface ModelTally {
  arrivals: number;
  served: number;
  withinSlo: number;
  failed: number;
  hist: LatencyRecorder;
  /** At the start of measurement. */
  base: { arrivals: number; served: number; withinSlo: number; failed: number; rejected: number };
}

const NO_BASE: MeasureBase = {
  t: 0,
  served: 0,
  withinSlo: 0,
  failed: 0,
  rejected: 0,
  completed: 0,
  queueSeconds: 0,
  usage: { gpuSeconds: { spot: 0, onDemand: 0 }, cost: 0 },
  scaleEvents: 0,
};

/** The model name of the simulated replicas' series (one model per simulated pool). */
const SIMULATED_MODEL = "model";

/** 2026-01-05T00:00:00Z, a Monday: where simulated time starts unless told otherwise. */
export const DEFAULT_START_EPOCH = Date.UTC(2026, 0, 5) / 1000;

/** Runs one simulation to the end of the arrivals (then lets queued requests finish). */
export function simulate(input: SimulationInput): SimulationResult {
  const run = new SimulationRun(input);
  run.advanceTo(input.arrivals.durationSeconds);
  return run.finish();
}

/**
 * Who decides the replica count of a {@link SimulationRun}: the engine's own
 * {@link Control}, run at its period as `simulate` does, or the caller, who calls
 * {@link SimulationRun.reconcile} (the live loop's actuator in `demo`).
 */
export type RunControl =
  | Control
  | {
      readonly kind: "external";
      /** Replicas ready at time 0. */
      readonly initial: ByCapacity;
    };

/** What a step-able run needs: {@link SimulationInput}, with its control open to the caller. */
export interface RunInput extends Omit<SimulationInput, "control" | "pipeline"> {
  readonly control: RunControl;
  /**
   * The engine's own metrics pipeline, which its scaler control reads (required then);
   * without it nothing is scraped unless the caller asks ({@link SimulationRun.scrape}).
   */
  readonly pipeline?: PipelineSettings;
  /**
   * The `model` label of the replicas' series (the pool model's name, so that a live
   * loop's window finds them). @default "model"
   */
  readonly modelName?: string;
}

/**
 * One simulation that moves when told: {@link advanceTo} runs whole steps up to a time,
 * and between steps the caller may read the cluster ({@link replicaCounts}), scrape the
 * replicas' Triton counters ({@link scrape}) and, with an external control, set the
 * desired replicas ({@link reconcile}). `simulate` is this run advanced to the end of its
 * arrivals in one call, so a run advanced in any chunks, or driven from outside with the
 * same decisions at the same times, gives the same result (test/simulate/step.test.ts).
 * The arrivals may be endless (`durationSeconds` Infinity): then the run lasts as long as
 * it is advanced.
 */
export class SimulationRun {
  /** Simulated seconds reached: every step before this time has run. */
  private now = 0;
  private readonly step: number;
  private readonly epoch: number;
  private readonly frontTimeout: number;
  private readonly duration: number;
  private hist: LatencyRecorder;
  /** Counts at the start of measurement (after the warmup), subtracted at the end. */
  private base: MeasureBase | undefined;
  /** When the warmup ends; Infinity without one, and once measuring. */
  private measureFrom: number;
  private intervalHist: LatencyRecorder | undefined;
  private served = 0;
  private withinSlo = 0;
  /** Requests waiting at the front (no ready replica yet), and retries from reclaimed pods. */
  private frontOrigins = new Float64Array(1024);
  /** The model of each request at the front, for a pool of several. */
  private frontModels: Uint8Array | undefined;
  private frontHead = 0;
  private frontTail = 0;
  private failed = 0;
  private readonly cluster: Cluster;
  private readonly pipeline: Pipeline | undefined;
  private scalerState: unknown;
  private lastReason = "";
  private desired = 0;
  private readonly period: number;
  private arrivals = 0;
  private rr = 0;
  /** The routing stream with `random` load balancing; undefined for round robin. */
  private readonly routeRng: Rng | undefined;
  /**
   * With pinned connections (`connections` > 0): the replica each is pinned to, undefined
   * until it connects (at its first request) or after its replica left the ready set.
   */
  private readonly conns: (PoolReplica | undefined)[] | undefined;
  /** When each connection connected (simulated seconds), with a finite maximum age. */
  private readonly connAt: Float64Array | undefined;
  private readonly connMaxAge: number;
  private readonly buf = new Float64Array(CHUNK);
  private readonly ready: PoolReplica[];
  /** For a pool of several models: per-model tallies, and the models of the requests being routed. */
  private readonly tallies: ModelTally[] | undefined;
  private readonly labels: RequestModels | undefined;
  /** The scaler in force (a scaler control's, re-created as the mix changes). */
  private scaler: Scaler | undefined;
  private shares: ModelShares | undefined;
  private readonly gpuPrev = new WeakMap<object, { busy: number; t: number }>();
  private readonly replicaIds = new WeakMap<object, string>();
  private nextReplicaId = 1;
  private readonly modelName: string;
  private readonly scrapeEvery: number;
  private nextScrape: number;
  private scrapeRounds = 0;
  private nextControl: number;
  private nextRow: number;
  private rowArrivals = 0;
  private rowServed = 0;
  private rowRejected = 0;
  private rowFailed = 0;
  private progressAt = 0;
  private finished = false;
  /** Desired replicas by capacity type, as last reconciled. */
  private desiredBy: ByCapacity = { spot: 0, onDemand: 0 };
  /** The usage being recorded, once measuring (undefined without `usageBucketSeconds`). */
  private usageRec:
    | {
        initial: ByCapacity;
        from: number;
        buckets: UsageBucketRecord[];
        changes: DesiredChange[];
        at: BucketMark;
        nextBucket: number;
      }
    | undefined;

  constructor(private readonly input: RunInput) {
    this.step = input.stepSeconds ?? 1;
    this.epoch = input.startEpochSeconds ?? DEFAULT_START_EPOCH;
    this.frontTimeout = input.frontTimeoutSeconds ?? 30;
    this.duration = input.arrivals.durationSeconds;
    this.modelName = input.modelName ?? SIMULATED_MODEL;
    this.hist = input.histogram();
    const from = input.measureFromSeconds ?? 0;
    this.measureFrom = from > 0 ? from : Number.POSITIVE_INFINITY;
    this.intervalHist = input.timeline ? input.histogram() : undefined;
    const slo = input.sloSeconds;
    const models = input.models;
    if (models !== undefined && (models.length === 0 || models.length > 255)) {
      throw new RangeError(`a simulated pool hosts 1 to 255 models. Received: ${models.length}`);
    }
    if (models !== undefined && input.split === undefined) {
      throw new Error("a simulation run of several models needs a split of the arrivals");
    }
    const sink: CompletionSink = {
      complete: (latency: number): void => {
        this.served++;
        if (latency <= slo) this.withinSlo++;
        const ms = latency * 1000;
        this.hist.record(ms);
        if (this.intervalHist) this.intervalHist.record(ms);
      },
      completeBatch: (latencies: Float64Array, n: number): void => {
        let within = 0;
        for (let j = 0; j < n; j++) if (latencies[j]! <= slo) within++;
        this.served += n;
        this.withinSlo += within;
        recordAll(this.hist, latencies, n);
        if (this.intervalHist) recordAll(this.intervalHist, latencies, n);
      },
    };
    let createReplica: (startTime: number) => PoolReplica;
    if (models === undefined) {
      this.tallies = undefined;
      this.labels = undefined;
      createReplica = (startTime) => new Replica(input.batcher, input.service, sink, startTime);
    } else {
      input.split!.reset();
      const tallies: ModelTally[] = models.map(() => ({
        arrivals: 0,
        served: 0,
        withinSlo: 0,
        failed: 0,
        hist: input.histogram(),
        base: { arrivals: 0, served: 0, withinSlo: 0, failed: 0, rejected: 0 },
      }));
      this.tallies = tallies;
      const labels: RequestModels = { chunk: new Uint8Array(CHUNK), one: 0 };
      this.labels = labels;
      this.frontModels = new Uint8Array(this.frontOrigins.length);
      const sinks = tallies.map(
        (m): CompletionSink => ({
          complete: (latency: number): void => {
            sink.complete(latency);
            m.served++;
            if (latency <= slo) m.withinSlo++;
            m.hist.record(latency * 1000);
          },
          completeBatch: (latencies: Float64Array, n: number): void => {
            let within = 0;
            for (let j = 0; j < n; j++) if (latencies[j]! <= slo) within++;
            m.served += n;
            m.withinSlo += within;
            recordAll(m.hist, latencies, n);
            sink.completeBatch!(latencies, n);
          },
        }),
      );
      createReplica = (startTime) => new MultiReplica(models, sinks, labels, startTime);
    }
    this.cluster = new Cluster(
      input.cluster,
      createReplica,
      input.random,
      (origins, count, _at, models) => {
        for (let i = 0; i < count; i++) this.pushFront(origins[i]!, models ? models[i]! : 0);
      },
    );
    this.ready = this.cluster.ready;
    const lb = input.loadBalancing ?? "roundRobin";
    if (lb !== "roundRobin" && lb !== "random") {
      throw new RangeError(
        `loadBalancing must be "random" or "roundRobin". Received: ${JSON.stringify(lb)}`,
      );
    }
    this.routeRng = lb === "random" ? input.random.fork("routing") : undefined;
    const connections = input.connections ?? 0;
    if (!(Number.isInteger(connections) && connections >= 0)) {
      throw new RangeError(
        `connections must be a whole number ≥ 0 (0: a replica per request). Received: ${connections}`,
      );
    }
    if (connections > 0 && lb !== "random") {
      throw new RangeError(
        `connections pin requests to replicas under random load balancing only; with ${lb} a proxy balances each request. Received: ${connections}`,
      );
    }
    this.conns = connections > 0 ? new Array<PoolReplica | undefined>(connections) : undefined;
    const maxAge = input.connectionMaxAgeSeconds ?? Number.POSITIVE_INFINITY;
    if (!(maxAge > 0)) {
      throw new RangeError(
        `connectionMaxAgeSeconds must be positive (Infinity: never). Received: ${maxAge}`,
      );
    }
    this.connMaxAge = maxAge;
    this.connAt =
      connections > 0 && Number.isFinite(maxAge) ? new Float64Array(connections) : undefined;
    const control = input.control;
    const mix = control.kind === "scaler" ? control.mix : undefined;
    this.pipeline = input.pipeline
      ? new Pipeline(input.pipeline, mix === undefined ? undefined : mix.models)
      : undefined;
    if (control.kind === "scaler") {
      this.scaler = control.scaler;
      this.shares = mix?.initial;
    }
    if (control.kind === "scaler" && this.pipeline === undefined) {
      throw new Error("a simulation run with a scaler control needs a metrics pipeline");
    }
    if (control.kind === "scaler" || control.kind === "external") {
      if (control.kind === "scaler")
        this.scalerState = control.scaler.initialState(control.initial);
      this.cluster.startReady(0, control.initial.spot, "spot");
      this.cluster.startReady(0, control.initial.onDemand, "onDemand");
      this.desired = control.initial.spot + control.initial.onDemand;
      this.desiredBy = { spot: control.initial.spot, onDemand: control.initial.onDemand };
    } else {
      this.desired = control.replicasAt(0);
      this.cluster.startReady(0, this.desired, input.scheduleCapacity ?? "onDemand");
      this.desiredBy =
        input.scheduleCapacity === "spot"
          ? { spot: this.desired, onDemand: 0 }
          : { spot: 0, onDemand: this.desired };
    }
    this.period =
      control.kind === "scaler"
        ? control.scaler.periodSeconds
        : control.kind === "schedule"
          ? control.periodSeconds
          : Number.POSITIVE_INFINITY;
    this.nextControl = this.period;
    // Only a scaler reads the pipeline: scrape rounds nobody reads would pile up in it for
    // the whole run (memory growing with the trace's length; an external control's caller
    // scrapes for itself).
    this.scrapeEvery =
      control.kind === "scaler"
        ? (input.pipeline?.scrapeIntervalSeconds ?? Number.POSITIVE_INFINITY)
        : Number.POSITIVE_INFINITY;
    this.nextScrape = this.scrapeEvery;
    this.nextRow = input.timeline ? input.timeline.intervalSeconds : Number.POSITIVE_INFINITY;
    if (input.usageBucketSeconds !== undefined) {
      if (!(input.usageBucketSeconds > 0)) {
        throw new RangeError(
          `usageBucketSeconds must be positive. Received: ${input.usageBucketSeconds}`,
        );
      }
      if (!Number.isFinite(this.measureFrom)) this.startRecording(0, 0);
    }
  }

  /** Simulated seconds since the start of the trace that the run has reached. */
  get time(): number {
    return this.now;
  }

  /** Whether the arrivals are over (a finite trace advanced to its end). */
  get ended(): boolean {
    return this.now >= this.duration;
  }

  /**
   * Scrape rounds the run took for its own scaler's pipeline (none for a schedule or an
   * external control: nobody would read them).
   */
  get pipelineScrapes(): number {
    return this.scrapeRounds;
  }

  /** Requests that arrived so far. */
  get requests(): number {
    return this.arrivals;
  }

  /**
   * Measured requests (after the warmup) that have already missed the SLO: rejected, failed,
   * or served past it. Those still queued may miss too, so this only grows: a search can
   * stop a run once it is past what the target allows.
   */
  get missed(): number {
    if (this.base === undefined && Number.isFinite(this.measureFrom)) return 0;
    const b = this.base ?? NO_BASE;
    const late = this.served - b.served - (this.withinSlo - b.withinSlo);
    return late + this.cluster.totals().rejected - b.rejected + this.failed - b.failed;
  }

  /**
   * Runs every whole step that ends at or before `until` (simulated seconds), and no
   * further than the end of the arrivals. A time inside a step stops before that step.
   */
  advanceTo(until: number): void {
    if (this.finished) throw new Error("the simulation run is finished");
    while (this.now < this.duration) {
      const tNext = Math.min(this.now + this.step, this.duration);
      if (tNext > until) return;
      this.runStep(tNext);
    }
  }

  /**
   * Sets the desired replicas now (an external control's actuation, as KEDA and the HPA
   * would apply a decision): the next step starts with the cluster reconciling to them.
   * `reason` is kept for the timeline.
   */
  reconcile(target: ByCapacity, reason = ""): void {
    if (this.input.control.kind !== "external") {
      throw new Error(`this simulation run is controlled by its own ${this.input.control.kind}`);
    }
    this.lastReason = reason;
    this.desired = target.spot + target.onDemand;
    this.noteDesired(this.now, target, reason);
    this.cluster.reconcile(this.now, target);
  }

  /** Replicas by lifecycle and capacity type now, as the cluster counts them. */
  replicaCounts(): ReplicaCounts {
    const c = this.cluster;
    return {
      ready: c.count("ready"),
      starting: c.count("starting"),
      pending: c.count("pending"),
      oldestPendingSpotSeconds: c.oldestPendingSpotSeconds(this.now),
    };
  }

  /**
   * One scrape round now: each serving replica's Triton series (a draining one still
   * answers its queue; its GPU is no longer the pool's, as the HPA averages Ready pods
   * only), and the front door (see observe.ts). Times are simulated seconds plus
   * `offset` (e.g. the clock time of the run's start, for a live loop). GPU utilization
   * is over the time since the previous round, so one reader should scrape a run.
   */
  scrape(offset = 0): PoolScrape {
    const t = this.now;
    const readySet = new Set<object>(this.ready);
    const replicas: ReplicaScrape[] = [];
    for (const r of this.cluster.serving) {
      let id = this.replicaIds.get(r);
      if (id === undefined) {
        id = `replica-${this.nextReplicaId++}`;
        this.replicaIds.set(r, id);
      }
      let gpuUtilization: number | undefined;
      if (readySet.has(r)) {
        const busy = r.busySecondsUpTo(t);
        const prev = this.gpuPrev.get(r);
        // Busy time of all instances; the GPU reads 100% whenever any of them computes.
        if (prev && t > prev.t) gpuUtilization = Math.min(1, (busy - prev.busy) / (t - prev.t));
        this.gpuPrev.set(r, { busy, t });
      }
      const hosted = this.input.models;
      replicas.push({
        replica: id,
        t: t + offset,
        phase: "ready",
        ...(gpuUtilization === undefined ? {} : { gpuUtilization }),
        models:
          "batchers" in r && hosted !== undefined
            ? r.batchers.map((b, i) => modelSample(hosted[i]!.name, b.counters, b, t))
            : [modelSample(this.modelName, r.counters, r, t)],
      });
    }
    return {
      t: t + offset,
      replicas,
      front: { arrivals: this.arrivals, pending: this.frontTail - this.frontHead },
    };
  }

  /**
   * Ends the run where it stands: bills up to now, lets queued requests finish, fails the
   * rest, and returns what it measured. The run cannot be advanced after this.
   */
  finish(): SimulationResult {
    if (this.finished) throw new Error("the simulation run is finished");
    this.finished = true;
    const duration = this.now;
    const cluster = this.cluster;
    const usage = cluster.usage(duration);
    // Busy time up to the end, before the queues are run dry past it.
    const busyAtEnd = this.usageRec ? cluster.busyGpuSeconds(duration) : undefined;
    const tallies = this.tallies;
    for (const r of cluster.serving) {
      r.advance(Number.POSITIVE_INFINITY);
      // A reclaimed replica's work after its kill time has nowhere left to go.
      const ev = r.evict();
      this.failed += ev.count;
      const evModels = (ev as { readonly models?: Uint8Array }).models;
      if (tallies && evModels) for (let i = 0; i < ev.count; i++) tallies[evModels[i]!]!.failed++;
    }
    this.failed += this.frontTail - this.frontHead;
    if (tallies) {
      for (let i = this.frontHead; i < this.frontTail; i++)
        tallies[this.frontModels![i]!]!.failed++;
    }
    const totals = cluster.totals();
    // Before the warmup ends (or without one) nothing is subtracted.
    const b = this.base ?? NO_BASE;
    const requests = this.arrivals - (b.served + b.rejected + b.failed);
    const hist = this.hist;
    const completed = totals.completed - b.completed;
    const spotSeconds = usage.gpuSeconds.spot - b.usage.gpuSeconds.spot;
    const onDemandSeconds = usage.gpuSeconds.onDemand - b.usage.gpuSeconds.onDemand;
    return {
      requests,
      served: this.served - b.served,
      rejected: totals.rejected - b.rejected,
      failed: this.failed - b.failed,
      sloAttainment: requests > 0 ? (this.withinSlo - b.withinSlo) / requests : 1,
      p50Ms: hist.count > 0 ? hist.quantile(0.5) : 0,
      p95Ms: hist.count > 0 ? hist.quantile(0.95) : 0,
      p99Ms: hist.count > 0 ? hist.quantile(0.99) : 0,
      maxMs: hist.count > 0 ? hist.max : 0,
      meanQueueWaitMs:
        completed > 0 ? ((totals.queueSeconds - b.queueSeconds) / completed) * 1000 : 0,
      gpuHours: (spotSeconds + onDemandSeconds) / 3600,
      spotGpuHours: spotSeconds / 3600,
      cost: usage.cost - b.usage.cost,
      scaleEvents: cluster.scaleEvents - b.scaleEvents,
      durationSeconds: duration - b.t,
      ...(this.usageRec && busyAtEnd ? { usage: this.closeUsage(duration, usage, busyAtEnd) } : {}),
      ...(tallies ? { byModel: this.modelResults(tallies) } : {}),
    };
  }

  /** Each model's measured figures (after the warmup), at the end of the run. */
  private modelResults(tallies: readonly ModelTally[]): ModelResult[] {
    const byModel = this.cluster.totalsByModel();
    return tallies.map((m, i) => {
      const b = m.base;
      const rejected = (byModel[i]?.rejected ?? 0) - b.rejected;
      const requests = m.arrivals - (b.served + b.rejected + b.failed);
      const hist = m.hist;
      return {
        model: this.input.models![i]!.name,
        requests,
        served: m.served - b.served,
        rejected,
        failed: m.failed - b.failed,
        sloAttainment: requests > 0 ? (m.withinSlo - b.withinSlo) / requests : 1,
        p50Ms: hist.count > 0 ? hist.quantile(0.5) : 0,
        p95Ms: hist.count > 0 ? hist.quantile(0.95) : 0,
        p99Ms: hist.count > 0 ? hist.quantile(0.99) : 0,
      };
    });
  }

  /** Starts recording use at t, with `finished` requests already out of the measure. */
  private startRecording(t: number, finished: number): void {
    const every = this.input.usageBucketSeconds!;
    this.usageRec = {
      initial: { ...this.desiredBy },
      from: t,
      buckets: [],
      changes: [],
      at: this.mark(t, finished),
      nextBucket: (Math.floor(t / every) + 1) * every,
    };
  }

  /** The cumulative figures a bucket is the difference of. */
  private mark(t: number, requests: number): BucketMark {
    return {
      t,
      gpuSeconds: this.cluster.usage(t).gpuSeconds,
      busy: this.cluster.busyGpuSeconds(t),
      requests,
      withinSlo: this.withinSlo,
    };
  }

  /** Closes the bucket that ends at `end.t`. */
  private closeBucket(end: BucketMark): void {
    const rec = this.usageRec!;
    const a = rec.at;
    const minus = (x: ByCapacity, y: ByCapacity): ByCapacity => ({
      spot: x.spot - y.spot,
      onDemand: x.onDemand - y.onDemand,
    });
    rec.buckets.push({
      start: a.t,
      seconds: end.t - a.t,
      gpuSeconds: minus(end.gpuSeconds, a.gpuSeconds),
      busyGpuSeconds: minus(end.busy, a.busy),
      requests: end.requests - a.requests,
      withinSlo: end.withinSlo - a.withinSlo,
    });
    rec.at = end;
  }

  /** The last bucket (up to `t`, queues drained) and the record. */
  private closeUsage(t: number, usage: Usage, busy: ByCapacity): RunUsage {
    const rec = this.usageRec!;
    this.closeBucket({
      t,
      gpuSeconds: usage.gpuSeconds,
      busy,
      requests: this.arrivals,
      withinSlo: this.withinSlo,
    });
    return {
      bucketSeconds: this.input.usageBucketSeconds!,
      initial: rec.initial,
      buckets: rec.buckets,
      changes: rec.changes,
      from: rec.from,
      to: t,
    };
  }

  /** Records a change of the desired replicas (once measuring). */
  private noteDesired(t: number, to: ByCapacity, reason: string): void {
    const from = this.desiredBy;
    if (from.spot === to.spot && from.onDemand === to.onDemand) return;
    this.desiredBy = { spot: to.spot, onDemand: to.onDemand };
    this.usageRec?.changes.push({ t, from, to: this.desiredBy, reason });
  }

  private pushFront(origin: number, model = 0): void {
    if (this.frontTail === this.frontOrigins.length) {
      const live = this.frontOrigins.subarray(this.frontHead, this.frontTail);
      const grown = new Float64Array(Math.max(1024, live.length * 2));
      grown.set(live);
      if (this.frontModels) {
        const models = new Uint8Array(grown.length);
        models.set(this.frontModels.subarray(this.frontHead, this.frontTail));
        this.frontModels = models;
      }
      this.frontOrigins = grown;
      this.frontTail = live.length;
      this.frontHead = 0;
    }
    if (this.frontModels) this.frontModels[this.frontTail] = model;
    this.frontOrigins[this.frontTail++] = origin;
  }

  private route(enqueueAt: number, origin: number): void {
    const ready = this.ready;
    const n = ready.length;
    if (n === 0) {
      this.pushFront(origin, this.labels ? this.labels.one : 0);
      return;
    }
    const rng = this.routeRng;
    if (rng !== undefined) {
      const conns = this.conns;
      if (conns === undefined) ready[rng.int(n)]!.enqueue(enqueueAt, origin);
      else this.pinned(conns, rng, n, enqueueAt).enqueue(enqueueAt, origin);
      return;
    }
    if (this.rr >= n) this.rr = 0;
    ready[this.rr++]!.enqueue(enqueueAt, origin);
  }

  /**
   * The replica of a request at `t` that takes a uniformly random connection: the one it is
   * pinned to, or (connecting now, or reconnecting past its maximum age) a uniformly random
   * one of the `n` > 0 ready.
   */
  private pinned(conns: (PoolReplica | undefined)[], rng: Rng, n: number, t: number): PoolReplica {
    const k = rng.int(conns.length);
    let r = conns[k];
    const at = this.connAt;
    if (r === undefined || (at !== undefined && t - at[k]! >= this.connMaxAge)) {
      r = this.ready[rng.int(n)]!;
      conns[k] = r;
      if (at !== undefined) at[k] = t;
    }
    return r;
  }

  /** Unpins the connections whose replica is no longer ready (they reconnect when next used). */
  private dropGoneConnections(conns: (PoolReplica | undefined)[]): void {
    const ready = new Set<PoolReplica>(this.ready);
    for (let k = 0; k < conns.length; k++) {
      const r = conns[k];
      if (r !== undefined && !ready.has(r)) conns[k] = undefined;
    }
  }

  /** Which model each of `buf[0, n)` is for (`labels.chunk`, read by the replicas), counted. */
  private label(buf: Float64Array, n: number): void {
    const models = this.labels!.chunk;
    this.input.split!.label(buf, n, models);
    const tallies = this.tallies!;
    for (let i = 0; i < n; i++) tallies[models[i]!]!.arrivals++;
  }

  /** The warmup is over at t: what was counted so far is not measured. */
  private startMeasuring(t: number): void {
    const totals = this.cluster.totals();
    this.base = {
      t,
      served: this.served,
      withinSlo: this.withinSlo,
      failed: this.failed,
      rejected: totals.rejected,
      completed: totals.completed,
      queueSeconds: totals.queueSeconds,
      usage: this.cluster.usage(t),
      scaleEvents: this.cluster.scaleEvents,
    };
    this.hist = this.input.histogram();
    if (this.tallies) {
      const byModel = this.cluster.totalsByModel();
      this.tallies.forEach((m, i) => {
        m.base = {
          arrivals: m.arrivals,
          served: m.served,
          withinSlo: m.withinSlo,
          failed: m.failed,
          rejected: byModel[i]?.rejected ?? 0,
        };
        m.hist = this.input.histogram();
      });
    }
    this.measureFrom = Number.POSITIVE_INFINITY;
    if (this.input.usageBucketSeconds !== undefined) {
      this.startRecording(t, this.served + totals.rejected + this.failed);
    }
  }

  /**
   * Routes `buf[0, n)` (n > 0) as {@link route}(t, t) would one by one. Round robin: the
   * ready replicas do not interact until they advance, so each takes its share of the
   * chunk in one call. Random: one draw per request, in arrival order.
   */
  private routeChunk(buf: Float64Array, n: number): void {
    const ready = this.ready;
    const replicas = ready.length;
    const labels = this.labels;
    if (replicas === 0) {
      for (let i = 0; i < n; i++) this.pushFront(buf[i]!, labels ? labels.chunk[i]! : 0);
      return;
    }
    const rng = this.routeRng;
    const conns = this.conns;
    // One request at a time (`enqueue`): a replica of several models reads its model from
    // `labels.one`.
    if (rng !== undefined && conns !== undefined) {
      for (let i = 0; i < n; i++) {
        const t = buf[i]!;
        if (labels) labels.one = labels.chunk[i]!;
        this.pinned(conns, rng, replicas, t).enqueue(t, t);
      }
      return;
    }
    if (rng !== undefined) {
      if (replicas === 1) {
        ready[0]!.enqueueEvery(buf, 0, n, 1);
        return;
      }
      for (let i = 0; i < n; i++) {
        const t = buf[i]!;
        if (labels) labels.one = labels.chunk[i]!;
        ready[rng.int(replicas)]!.enqueue(t, t);
      }
      return;
    }
    const first = this.rr >= replicas ? 0 : this.rr;
    for (let k = 0; k < replicas && k < n; k++)
      ready[(first + k) % replicas]!.enqueueEvery(buf, k, n, replicas);
    // Where one-by-one routing leaves the cursor: one past the last replica used.
    this.rr = ((first + n - 1) % replicas) + 1;
  }

  /** One step, [now, tNext): control, lifecycles, the front, arrivals, batching, scrape. */
  private runStep(tNext: number): void {
    const t = this.now;
    const input = this.input;
    if (t >= this.measureFrom) this.startMeasuring(t);
    const control = input.control;
    const cluster = this.cluster;
    if (t >= this.nextControl) {
      this.nextControl += this.period;
      let target: ByCapacity;
      if (control.kind === "scaler") {
        const snap = this.pipeline!.snapshot(t, this.replicaCounts());
        if (control.mix && this.shares) {
          const names = control.mix.models.map((m) => m.entry);
          const shares = observedShares(names, this.pipeline!.readModels(t), this.shares);
          if (shares !== this.shares) {
            const scaler = control.mix.rebind(shares);
            if (scaler) {
              this.scaler = scaler;
              this.shares = shares;
            }
          }
        }
        const d = this.scaler!.decide({ ...snap, now: this.epoch + t }, this.scalerState);
        this.scalerState = d.state;
        this.lastReason = d.reason;
        target = d.desired;
      } else if (control.kind === "schedule") {
        const n = control.replicasAt(t);
        target =
          input.scheduleCapacity === "spot" ? { spot: n, onDemand: 0 } : { spot: 0, onDemand: n };
      } else {
        throw new Error("unreachable: an external control never comes due");
      }
      this.desired = target.spot + target.onDemand;
      this.noteDesired(t, target, this.lastReason);
      cluster.reconcile(t, target);
    }
    cluster.tick(t);
    if (this.conns !== undefined && cluster.readyChanged) {
      cluster.readyChanged = false;
      this.dropGoneConnections(this.conns);
    }

    // The front: retries and requests that waited for a replica.
    const ready = this.ready;
    while (this.frontHead < this.frontTail) {
      const origin = this.frontOrigins[this.frontHead]!;
      if (t - origin > this.frontTimeout) {
        if (this.tallies) this.tallies[this.frontModels![this.frontHead]!]!.failed++;
        this.frontHead++;
        this.failed++;
        continue;
      }
      if (ready.length === 0) break;
      if (this.labels) this.labels.one = this.frontModels![this.frontHead]!;
      this.frontHead++;
      this.route(t, origin);
    }
    if (this.frontHead === this.frontTail) this.frontHead = this.frontTail = 0;

    const buf = this.buf;
    for (;;) {
      const n = input.arrivals.fill(buf, tNext);
      this.arrivals += n;
      if (n > 0 && this.labels) this.label(buf, n);
      if (n > 0) this.routeChunk(buf, n);
      if (n < CHUNK) break;
    }
    const serving = cluster.serving;
    for (let i = 0; i < serving.length; i++) serving[i]!.advance(tNext);
    this.now = tNext;

    if (tNext >= this.nextScrape) {
      this.scrapeRounds++;
      this.pipeline?.record(this.scrape());
      this.nextScrape += this.scrapeEvery;
    }
    const tl = input.timeline;
    if (tl && tNext >= this.nextRow) this.writeRow(tl, tNext);
    const rec = this.usageRec;
    // The last bucket closes in finish(), after the queues have drained.
    if (rec && tNext >= rec.nextBucket && tNext < this.duration) {
      this.closeBucket(this.mark(tNext, this.arrivals));
      rec.nextBucket += input.usageBucketSeconds!;
    }
    const duration = this.duration;
    if (
      input.onProgress &&
      Number.isFinite(duration) &&
      tNext - this.progressAt >= duration / 100
    ) {
      this.progressAt = tNext;
      input.onProgress(tNext / duration);
    }
  }

  private writeRow(tl: NonNullable<RunInput["timeline"]>, tNext: number): void {
    const cluster = this.cluster;
    const totals = cluster.totals();
    const usage = cluster.usage(tNext);
    const r = cluster.count("ready");
    const starting = cluster.count("starting");
    const pend = cluster.count("pending");
    let queued = this.frontTail - this.frontHead;
    for (const rep of cluster.serving) queued += rep.queued;
    tl.write({
      t: tNext,
      arrivalsPerSecond: (this.arrivals - this.rowArrivals) / tl.intervalSeconds,
      served: this.served - this.rowServed,
      rejected: totals.rejected - this.rowRejected,
      failed: this.failed - this.rowFailed,
      readySpot: r.spot,
      readyOnDemand: r.onDemand,
      starting: starting.spot + starting.onDemand,
      pending: pend.spot + pend.onDemand,
      desired: this.desired,
      queued,
      p99Ms:
        this.intervalHist && this.intervalHist.count > 0 ? this.intervalHist.quantile(0.99) : 0,
      cost: usage.cost,
      reason: this.lastReason,
    });
    this.rowArrivals = this.arrivals;
    this.rowServed = this.served;
    this.rowRejected = totals.rejected;
    this.rowFailed = this.failed;
    this.intervalHist = this.input.histogram();
    this.nextRow += tl.intervalSeconds;
  }
}

/** One model's series on a replica, as Triton's /metrics shows them. */
function modelSample(
  model: string,
  c: ReplicaCounters,
  r: { readonly queued: number; inflightAt(t: number): number },
  t: number,
) {
  return {
    model,
    version: "1",
    counters: {
      requestSuccess: c.completed,
      requestFailure: c.rejected,
      inferenceCount: c.completed,
      execCount: c.batches,
      queueDurationUs: c.queueSeconds * 1e6,
      computeInferDurationUs: c.computeRequestSeconds * 1e6,
    },
    pendingRequests: r.queued,
    inflightRequests: r.inflightAt(t),
  };
}
