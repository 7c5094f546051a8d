import {
  addCounters,
  type BatcherSettings,
  type CompletionSink,
  type Evicted,
  Replica,
  type ReplicaCounters,
  type ServiceTime,
  zeroCounters,
} from "./replica.js";

/**
 * A Triton replica that hosts every model of a pool of several: one dynamic batcher per
 * model (replica.ts, each with its model's batching settings and compute time), all on the
 * replica's one GPU. Batches launch in time order across the models, and a batch that
 * starts while k − 1 others compute (of any model on the replica) takes k times as long
 * (setup.ts createServiceTime's factor, counted over every model's instances), so the
 * models share the GPU's throughput as one model's instances do.
 *
 * Which model a request is for travels beside it, never inside the routing: the load
 * balancer hands this replica requests by time as it does a single model's
 * ({@link enqueue}, {@link enqueueEvery}), and the replica reads each request's model from
 * the {@link RequestModels} the run fills alongside the arrivals.
 */

/**
 * The model (index into the pool's models) of the requests being routed: `chunk[i]` is the
 * model of the i-th arrival of the chunk the run is routing (its arrivals buffer, index for
 * index), `one` the model of the single request handed over by a one-by-one route (the front's
 * retries).
 */
export interface RequestModels {
  chunk: Uint8Array;
  one: number;
}

/** A replica's requests handed back on a reclaim, with each request's model. */
export interface EvictedByModel extends Evicted {
  /** The model index of each origin. */
  readonly models: Uint8Array;
}

/** One model of a replica: its batcher settings and compute time. */
export interface HostedModel {
  readonly name: string;
  readonly batcher: BatcherSettings;
  readonly service: ServiceTime;
}

export class MultiReplica {
  /** One batcher per model, in the pool's order. */
  readonly batchers: readonly Replica[];
  /** Next planned start per batcher (Infinity: none before the last `advance` bound). */
  private readonly plans: Float64Array;
  private killTime = Number.POSITIVE_INFINITY;

  constructor(
    models: readonly HostedModel[],
    sinks: readonly CompletionSink[],
    private readonly labels: RequestModels,
    startTime: number,
  ) {
    this.batchers = models.map((m, i) => new Replica(m.batcher, m.service, sinks[i]!, startTime));
    this.plans = new Float64Array(models.length);
  }

  /** Time after which the replica is gone (Spot reclaim), for every model's batcher. */
  get killAt(): number {
    return this.killTime;
  }

  set killAt(t: number) {
    this.killTime = t;
    for (const b of this.batchers) b.killAt = t;
  }

  /** Requests waiting in every model's queue. */
  get queued(): number {
    let n = 0;
    for (const b of this.batchers) n += b.queued;
    return n;
  }

  /** The sum of the models' counters (each model's: `batchers[i].counters`). */
  get counters(): ReplicaCounters {
    let t = zeroCounters();
    for (const b of this.batchers) t = addCounters(t, b.counters);
    return t;
  }

  /** GPU busy seconds of every model's batches (overlaps counted once, see Replica). */
  get gpuBusySeconds(): number {
    let s = 0;
    for (const b of this.batchers) s += b.gpuBusySeconds;
    return s;
  }

  /** Requests executing at t, over every model. */
  inflightAt(t: number): number {
    let n = 0;
    for (const b of this.batchers) n += b.inflightAt(t);
    return n;
  }

  /** Queues the request the router hands over one by one; its model is `labels.one`. */
  enqueue(enqueueTime: number, origin: number): boolean {
    return this.batchers[this.labels.one]!.enqueue(enqueueTime, origin);
  }

  /** Queues `buf[from]`, `buf[from + stride]`, … (below `to`), each with its model `labels.chunk[i]`. */
  enqueueEvery(buf: Float64Array, from: number, to: number, stride: number): void {
    const models = this.labels.chunk;
    const batchers = this.batchers;
    for (let i = from; i < to; i += stride) batchers[models[i]!]!.enqueue(buf[i]!, buf[i]!);
  }

  /**
   * Runs every model's batcher until `tEnd`, launching the batches in time order across the
   * models (ties: the pool's first model first), each with the batches of the other models
   * computing at its start counted as sharing the GPU.
   */
  advance(tEnd: number): void {
    const batchers = this.batchers;
    const plans = this.plans;
    const m = batchers.length;
    for (let i = 0; i < m; i++) plans[i] = batchers[i]!.planNext(tEnd);
    for (;;) {
      let best = -1;
      let at = tEnd;
      for (let i = 0; i < m; i++) {
        if (plans[i]! < at) {
          at = plans[i]!;
          best = i;
        }
      }
      if (best < 0) return;
      // Every batch launched so far started at or before `at`: one still running at `at`
      // computes beside this one, for the part of it that it overlaps.
      const b = batchers[best]!;
      const solo = b.plannedSoloSeconds();
      let others = 0;
      for (let i = 0; i < m; i++) if (i !== best) others += batchers[i]!.overlapAt(at, solo);
      b.launchPlanned(others);
      plans[best] = b.planNext(tEnd);
    }
  }

  /** Removes every request not served by `killAt`, every model's, with their models. */
  evict(): EvictedByModel {
    const parts = this.batchers.map((b) => b.evict());
    let count = 0;
    for (const p of parts) count += p.count;
    const origins = new Float64Array(count);
    const models = new Uint8Array(count);
    let k = 0;
    parts.forEach((p, i) => {
      origins.set(p.origins.subarray(0, p.count), k);
      models.fill(i, k, k + p.count);
      k += p.count;
    });
    return { origins, count, models };
  }

  /** Whether every model's queue is served and every instance idle at t. */
  idleAt(t: number): boolean {
    for (const b of this.batchers) if (!b.idleAt(t)) return false;
    return true;
  }

  /** GPU busy seconds up to t, every model's. */
  gpuBusySecondsUpTo(t: number): number {
    let s = 0;
    for (const b of this.batchers) s += b.gpuBusySecondsUpTo(t);
    return s;
  }

  /** Instance busy seconds up to t, every model's (GPU utilization, as Replica's). */
  busySecondsUpTo(t: number): number {
    let s = 0;
    for (const b of this.batchers) s += b.busySecondsUpTo(t);
    return s;
  }
}

/** A replica of the simulated pool: one model's batcher, or several sharing a GPU. */
export type PoolReplica = Replica | MultiReplica;
