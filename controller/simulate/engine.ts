import type { ReplicaScrape } from "../scaling/samples.js";
import type { ByCapacity, Scaler } from "../scaling/types.js";
import type { ArrivalSource } from "./arrivals.js";
import { Cluster, type ClusterSettings } from "./cluster.js";
import { Pipeline, type PipelineSettings } from "./observe.js";
import type { BatcherSettings, CompletionSink, ServiceTime } from "./replica.js";
import type { Rng } from "./rng.js";

/**
 * The discrete-event simulation of a Triton pool: arrivals → load balancer → each
 * replica's dynamic batcher → GPU; pods and nodes with provisioning, cold starts and Spot
 * reclaims; a metrics pipeline; and a controller that runs a Scaler (the same code the
 * live controller runs) at its own period. Deterministic for a seed.
 *
 * Time moves in steps (1 s by default): lifecycles and control act at step boundaries,
 * requests at their exact times within a step.
 */

/** A latency distribution that keeps fixed memory (see histogram.ts). */
export interface LatencyRecorder {
  record(ms: number): void;
  quantile(q: number): number;
  readonly count: number;
  readonly max: number;
}

/** Who decides the replica count. */
export type Control =
  /** A Scaler, run every `scaler.periodSeconds` on what the pipeline shows. */
  | {
      readonly kind: "scaler";
      /** Created for the simulated pool's policy. */
      readonly scaler: Scaler;
      readonly initial: ByCapacity;
    }
  /** A replica count for every moment, ready at once (static pools and the oracle bound). */
  | {
      readonly kind: "schedule";
      readonly replicasAt: (t: number) => number;
      readonly periodSeconds: number;
    };

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
  readonly batcher: BatcherSettings;
  readonly service: ServiceTime;
  readonly cluster: ClusterSettings;
  readonly pipeline: PipelineSettings;
  readonly sloSeconds: number;
  readonly control: Control;
  /** Seeds the cluster's randomness (Spot reclaims and availability). */
  readonly random: Rng;
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
}

/** What a run measured. */
export interface SimulationResult {
  readonly requests: number;
  readonly served: number;
  readonly rejected: number;
  readonly failed: number;
  /** Share of all requests served within the SLO (rejected and failed count as misses). */
  readonly sloAttainment: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanQueueWaitMs: number;
  readonly gpuHours: number;
  readonly spotGpuHours: number;
  readonly cost: number;
  readonly scaleEvents: number;
  readonly durationSeconds: number;
}

const CHUNK = 4096;

/** The model name of the simulated replicas' series (one model per simulated pool). */
const SIMULATED_MODEL = "model";

/** 2026-01-05T00:00:00Z, a Monday: where simulated time starts unless told otherwise. */
export const DEFAULT_START_EPOCH = Date.UTC(2026, 0, 5) / 1000;

/** Runs one simulation to the end of the arrivals (then lets queued requests finish). */
export function simulate(input: SimulationInput): SimulationResult {
  const step = input.stepSeconds ?? 1;
  const epoch = input.startEpochSeconds ?? DEFAULT_START_EPOCH;
  const frontTimeout = input.frontTimeoutSeconds ?? 30;
  const slo = input.sloSeconds;
  const hist = input.histogram();
  let intervalHist = input.timeline ? input.histogram() : undefined;
  let served = 0;
  let withinSlo = 0;
  const sink: CompletionSink = {
    complete(latency: number): void {
      served++;
      if (latency <= slo) withinSlo++;
      const ms = latency * 1000;
      hist.record(ms);
      if (intervalHist) intervalHist.record(ms);
    },
  };

  // Requests waiting at the front (no ready replica yet), and retries from reclaimed pods.
  let frontOrigins = new Float64Array(1024);
  let frontHead = 0;
  let frontTail = 0;
  let failed = 0;
  const pushFront = (origin: number): void => {
    if (frontTail === frontOrigins.length) {
      const live = frontOrigins.subarray(frontHead, frontTail);
      const grown = new Float64Array(Math.max(1024, live.length * 2));
      grown.set(live);
      frontOrigins = grown;
      frontTail = live.length;
      frontHead = 0;
    }
    frontOrigins[frontTail++] = origin;
  };

  const cluster = new Cluster(
    input.cluster,
    input.batcher,
    input.service,
    sink,
    input.random,
    (origins, count) => {
      for (let i = 0; i < count; i++) pushFront(origins[i]!);
    },
  );
  const pipeline = new Pipeline(input.pipeline);
  const control = input.control;
  let scalerState: unknown;
  let reason = "";
  let desired = 0;
  if (control.kind === "scaler") {
    scalerState = control.scaler.initialState(control.initial);
    cluster.startReady(0, control.initial.spot, "spot");
    cluster.startReady(0, control.initial.onDemand, "onDemand");
    desired = control.initial.spot + control.initial.onDemand;
  } else {
    desired = control.replicasAt(0);
    cluster.startReady(0, desired, input.scheduleCapacity ?? "onDemand");
  }
  const period = control.kind === "scaler" ? control.scaler.periodSeconds : control.periodSeconds;

  let arrivals = 0;
  let rr = 0;
  const buf = new Float64Array(CHUNK);
  const ready = cluster.ready;
  const route = (enqueueAt: number, origin: number): void => {
    const n = ready.length;
    if (n === 0) {
      pushFront(origin);
      return;
    }
    if (rr >= n) rr = 0;
    ready[rr++]!.enqueue(enqueueAt, origin);
  };

  // One scrape round: each serving replica's Triton series (a draining one still answers
  // its queue; its GPU is no longer the pool's, as the HPA averages Ready pods only), and
  // the front door (see observe.ts).
  const gpuPrev = new WeakMap<object, { busy: number; t: number }>();
  const replicaIds = new WeakMap<object, string>();
  let nextReplicaId = 1;
  const scrape = (t: number): void => {
    const readySet = new Set<object>(ready);
    const replicas: ReplicaScrape[] = [];
    for (const r of cluster.serving) {
      let id = replicaIds.get(r);
      if (id === undefined) {
        id = `replica-${nextReplicaId++}`;
        replicaIds.set(r, id);
      }
      let gpuUtilization: number | undefined;
      if (readySet.has(r)) {
        const busy = r.busySecondsUpTo(t);
        const prev = gpuPrev.get(r);
        // Busy time of all instances; the GPU reads 100% whenever any of them computes.
        if (prev && t > prev.t) gpuUtilization = Math.min(1, (busy - prev.busy) / (t - prev.t));
        gpuPrev.set(r, { busy, t });
      }
      const c = r.counters;
      replicas.push({
        replica: id,
        t,
        phase: "ready",
        ...(gpuUtilization === undefined ? {} : { gpuUtilization }),
        models: [
          {
            model: SIMULATED_MODEL,
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
          },
        ],
      });
    }
    pipeline.record({ t, replicas, front: { arrivals, pending: frontTail - frontHead } });
  };

  const duration = input.arrivals.durationSeconds;
  const scrapeEvery = input.pipeline.scrapeIntervalSeconds;
  let nextScrape = scrapeEvery;
  let nextControl = period;
  const tl = input.timeline;
  let nextRow = tl ? tl.intervalSeconds : Number.POSITIVE_INFINITY;
  let rowArrivals = 0;
  let rowServed = 0;
  let rowRejected = 0;
  let rowFailed = 0;
  let progressAt = 0;

  for (let t = 0; t < duration; t += step) {
    const tNext = Math.min(t + step, duration);
    if (t >= nextControl) {
      nextControl += period;
      let target: ByCapacity;
      if (control.kind === "scaler") {
        const snap = pipeline.snapshot(t, {
          ready: cluster.count("ready"),
          starting: cluster.count("starting"),
          pending: cluster.count("pending"),
          oldestPendingSpotSeconds: cluster.oldestPendingSpotSeconds(t),
        });
        const d = control.scaler.decide({ ...snap, now: epoch + t }, scalerState);
        scalerState = d.state;
        reason = d.reason;
        target = d.desired;
      } else {
        const n = control.replicasAt(t);
        target =
          input.scheduleCapacity === "spot" ? { spot: n, onDemand: 0 } : { spot: 0, onDemand: n };
      }
      desired = target.spot + target.onDemand;
      cluster.reconcile(t, target);
    }
    cluster.tick(t);

    // The front: retries and requests that waited for a replica.
    while (frontHead < frontTail) {
      const origin = frontOrigins[frontHead]!;
      if (t - origin > frontTimeout) {
        frontHead++;
        failed++;
        continue;
      }
      if (ready.length === 0) break;
      frontHead++;
      route(t, origin);
    }
    if (frontHead === frontTail) frontHead = frontTail = 0;

    for (;;) {
      const n = input.arrivals.fill(buf, tNext);
      arrivals += n;
      for (let i = 0; i < n; i++) route(buf[i]!, buf[i]!);
      if (n < CHUNK) break;
    }
    const serving = cluster.serving;
    for (let i = 0; i < serving.length; i++) serving[i]!.advance(tNext);

    if (tNext >= nextScrape) {
      scrape(tNext);
      nextScrape += scrapeEvery;
    }
    if (tl && tNext >= nextRow) {
      const totals = cluster.totals();
      const usage = cluster.usage(tNext);
      const r = cluster.count("ready");
      const starting = cluster.count("starting");
      const pend = cluster.count("pending");
      let queued = frontTail - frontHead;
      for (const rep of serving) queued += rep.queued;
      tl.write({
        t: tNext,
        arrivalsPerSecond: (arrivals - rowArrivals) / tl.intervalSeconds,
        served: served - rowServed,
        rejected: totals.rejected - rowRejected,
        failed: failed - rowFailed,
        readySpot: r.spot,
        readyOnDemand: r.onDemand,
        starting: starting.spot + starting.onDemand,
        pending: pend.spot + pend.onDemand,
        desired,
        queued,
        p99Ms: intervalHist && intervalHist.count > 0 ? intervalHist.quantile(0.99) : 0,
        cost: usage.cost,
        reason,
      });
      rowArrivals = arrivals;
      rowServed = served;
      rowRejected = totals.rejected;
      rowFailed = failed;
      intervalHist = input.histogram();
      nextRow += tl.intervalSeconds;
    }
    if (input.onProgress && tNext - progressAt >= duration / 100) {
      progressAt = tNext;
      input.onProgress(tNext / duration);
    }
  }

  // The trace is over: bill up to its end, let queued requests finish, fail the rest.
  const usage = cluster.usage(duration);
  for (const r of cluster.serving) {
    r.advance(Number.POSITIVE_INFINITY);
    // A reclaimed replica's work after its kill time has nowhere left to go.
    failed += r.evict().count;
  }
  failed += frontTail - frontHead;
  const totals = cluster.totals();
  const requests = arrivals;
  return {
    requests,
    served,
    rejected: totals.rejected,
    failed,
    sloAttainment: requests > 0 ? withinSlo / requests : 1,
    p50Ms: hist.count > 0 ? hist.quantile(0.5) : 0,
    p95Ms: hist.count > 0 ? hist.quantile(0.95) : 0,
    p99Ms: hist.count > 0 ? hist.quantile(0.99) : 0,
    maxMs: hist.count > 0 ? hist.max : 0,
    meanQueueWaitMs: totals.completed > 0 ? (totals.queueSeconds / totals.completed) * 1000 : 0,
    gpuHours: (usage.gpuSeconds.spot + usage.gpuSeconds.onDemand) / 3600,
    spotGpuHours: usage.gpuSeconds.spot / 3600,
    cost: usage.cost,
    scaleEvents: cluster.scaleEvents,
    durationSeconds: duration,
  };
}
