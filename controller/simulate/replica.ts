/**
 * One Triton replica's dynamic batcher and model instances, as batcher.md describes them:
 * each instance runs one batch at a time; when an instance is free the batcher takes the
 * queued requests in arrival order and sends the largest preferred batch it can form (or
 * max_batch_size); when it cannot form one it waits, as long as no request has waited
 * max_queue_delay_microseconds, for arrivals that complete one, then sends what it has.
 * The queue policy rejects at max_queue_size and times requests out.
 *
 * This is the simulator's hot loop: requests are two float slots in a ring buffer, and
 * nothing is allocated per request or per batch.
 */

/** How a replica batches, in the units the hot loop uses (seconds). */
export interface BatcherSettings {
  /** Triton max_batch_size; 0 (no batching) behaves as 1. */
  readonly maxBatchSize: number;
  /** Preferred batch sizes, ascending (may be empty). */
  readonly preferredBatchSizes: readonly number[];
  /** max_queue_delay_microseconds, in seconds. */
  readonly maxQueueDelaySeconds: number;
  /** Model instances per replica (instance_group count), each running one batch at a time. */
  readonly instances: number;
  /** default_queue_policy.max_queue_size; 0 is unbounded. */
  readonly maxQueueSize: number;
  /** Queue timeout in seconds with timeout_action REJECT; 0 is none. */
  readonly queueTimeoutSeconds: number;
}

/**
 * Compute time of a batch of `n` requests on one instance, in seconds, when `concurrent`
 * instances of the replica (this one included) are computing at its start.
 */
export type ServiceTime = (n: number, concurrent: number) => number;

/** Where completed requests' latencies go (seconds from first arrival to response). */
export interface CompletionSink {
  complete(latencySeconds: number): void;
  /**
   * A whole batch at once, when given (the simulator's hot path; `complete` is then not
   * called): `latencies[0, n)` in seconds, in the order `complete` would have been called.
   * The array is the replica's scratch space, reused for the next batch: the sink may
   * overwrite it, and must not keep it.
   */
  completeBatch?(latencies: Float64Array, n: number): void;
}

/** Cumulative counters, as Triton's /metrics would expose them (never reset). */
export interface ReplicaCounters {
  /** nv_inference_count: requests executed. */
  completed: number;
  /** nv_inference_exec_count: batches executed. */
  batches: number;
  /** nv_inference_queue_duration_us, in seconds: summed queue time of executed requests. */
  queueSeconds: number;
  /** Summed compute time of executed batches, in seconds (GPU busy time). */
  computeSeconds: number;
  /**
   * Compute time as Triton's nv_inference_compute_infer_duration_us counts it, in seconds:
   * every request of a batch is charged the batch's time (a batch of n adds n × its time).
   */
  computeRequestSeconds: number;
  /** Requests rejected by the queue policy (queue full or timed out). */
  rejected: number;
}

/** Counters of nothing executed yet. */
export function zeroCounters(): ReplicaCounters {
  return {
    completed: 0,
    batches: 0,
    queueSeconds: 0,
    computeSeconds: 0,
    computeRequestSeconds: 0,
    rejected: 0,
  };
}

/** The sum of two replicas' counters. */
export function addCounters(a: ReplicaCounters, b: ReplicaCounters): ReplicaCounters {
  return {
    completed: a.completed + b.completed,
    batches: a.batches + b.batches,
    queueSeconds: a.queueSeconds + b.queueSeconds,
    computeSeconds: a.computeSeconds + b.computeSeconds,
    computeRequestSeconds: a.computeRequestSeconds + b.computeRequestSeconds,
    rejected: a.rejected + b.rejected,
  };
}

/** Requests handed back because the replica was killed before serving them. */
export interface Evicted {
  /** First-arrival times (for latency). */
  readonly origins: Float64Array;
  readonly count: number;
}

export class Replica {
  private enq: Float64Array;
  private orig: Float64Array;
  private mask: number;
  private head = 0;
  private tail = 0;
  /** When each instance is next free. */
  readonly free: Float64Array;
  /**
   * GPU busy seconds of executed batches: each batch's compute time over the number of
   * instances computing when it started (they share the GPU, see setup.ts
   * createServiceTime), so overlapping instances count the GPU's time once. For cost
   * reports' busy GPU-hours; Triton's counters stay in {@link counters}.
   */
  gpuBusySeconds = 0;
  /** Per instance: 1 / the instances computing when its last batch started. */
  private readonly gpuShare: Float64Array;
  readonly counters: ReplicaCounters = zeroCounters();
  /** Time after which the replica is gone (Spot reclaim); batches ending later are lost. */
  killAt = Number.POSITIVE_INFINITY;
  private readonly maxB: number;
  private readonly preferred: Int32Array;
  /** One batch's latencies, for {@link CompletionSink.completeBatch}. */
  private readonly latencies: Float64Array;

  constructor(
    readonly settings: BatcherSettings,
    private readonly service: ServiceTime,
    private readonly sink: CompletionSink,
    startTime: number,
  ) {
    const cap = 1024;
    this.enq = new Float64Array(cap);
    this.orig = new Float64Array(cap);
    this.mask = cap - 1;
    this.free = new Float64Array(Math.max(1, settings.instances)).fill(startTime);
    this.gpuShare = new Float64Array(this.free.length).fill(1);
    this.maxB = Math.max(1, settings.maxBatchSize);
    this.latencies = new Float64Array(this.maxB);
    this.preferred = Int32Array.from(
      settings.preferredBatchSizes.filter((p) => p >= 1 && p <= this.maxB),
    ).sort();
  }

  /** Requests waiting in the queue (nv_inference_pending_request_count). */
  get queued(): number {
    return this.tail - this.head;
  }

  /** Requests executing at time t. */
  inflightAt(t: number): number {
    let busy = 0;
    for (let i = 0; i < this.free.length; i++) if (this.free[i]! > t) busy++;
    return busy;
  }

  /**
   * Queues a request that reaches this replica at `enqueueTime` and first arrived at
   * `origin`. Returns false when the queue policy rejects it (queue full).
   */
  enqueue(enqueueTime: number, origin: number): boolean {
    const max = this.settings.maxQueueSize;
    if (max > 0 && this.tail - this.head >= max) {
      this.counters.rejected++;
      return false;
    }
    if (this.tail - this.head > this.mask) this.grow();
    const i = this.tail & this.mask;
    this.enq[i] = enqueueTime;
    this.orig[i] = origin;
    this.tail++;
    return true;
  }

  /**
   * Queues `buf[from]`, `buf[from + stride]`, … (below `to`), each arriving and first
   * arriving at its time: what calling {@link enqueue}(t, t) for each of them does, in
   * that order (the load balancer's round robin over a chunk of arrivals).
   */
  enqueueEvery(buf: Float64Array, from: number, to: number, stride: number): void {
    const max = this.settings.maxQueueSize;
    let tail = this.tail;
    const need = Math.ceil((to - from) / stride);
    if (max > 0 || tail - this.head + need > this.mask + 1) {
      for (let i = from; i < to; i += stride) this.enqueue(buf[i]!, buf[i]!);
      return;
    }
    const enq = this.enq;
    const orig = this.orig;
    const mask = this.mask;
    for (let i = from; i < to; i += stride) {
      const t = buf[i]!;
      const k = tail & mask;
      enq[k] = t;
      orig[k] = t;
      tail++;
    }
    this.tail = tail;
  }

  private grow(): void {
    const n = this.tail - this.head;
    const cap = (this.mask + 1) * 2;
    const enq = new Float64Array(cap);
    const orig = new Float64Array(cap);
    for (let k = 0; k < n; k++) {
      const i = (this.head + k) & this.mask;
      enq[k] = this.enq[i]!;
      orig[k] = this.orig[i]!;
    }
    this.enq = enq;
    this.orig = orig;
    this.mask = cap - 1;
    this.head = 0;
    this.tail = n;
  }

  /**
   * Runs the batcher until `tEnd`: every batch whose start is decided before `tEnd` with
   * the requests queued so far. A batch waiting for arrivals after `tEnd` is left for the
   * next call, so the caller must enqueue all arrivals before `tEnd` first.
   */
  advance(tEnd: number): void {
    const free = this.free;
    const nInst = free.length;
    const maxB = this.maxB;
    const delay = this.settings.maxQueueDelaySeconds;
    const timeout = this.settings.queueTimeoutSeconds;
    const enq = this.enq;
    const orig = this.orig;
    const mask = this.mask;
    const killAt = this.killAt;
    const counters = this.counters;
    const service = this.service;
    const tail = this.tail;
    let head = this.head;
    // The counters in locals, written back once: a double stored in an object's field
    // may be boxed anew. (Summed in the same order, so to the same bits.)
    let completed = counters.completed;
    let batches = counters.batches;
    let rejected = counters.rejected;
    let queueSeconds = counters.queueSeconds;
    let computeSeconds = counters.computeSeconds;
    let computeRequestSeconds = counters.computeRequestSeconds;
    let gpuBusySeconds = this.gpuBusySeconds;
    const gpuShare = this.gpuShare;
    // One loop, one launch site: every time stays a local double (a double passed to a
    // call that is not inlined is boxed, once per batch).
    while (tail > head) {
      let inst = 0;
      let f = free[0]!;
      for (let i = 1; i < nInst; i++) {
        if (free[i]! < f) {
          f = free[i]!;
          inst = i;
        }
      }
      const oldest = enq[head & mask]!;
      const s0 = f > oldest ? f : oldest;
      if (s0 >= tEnd) break;
      if (timeout > 0 && s0 - oldest > timeout) {
        head++;
        rejected++;
        continue;
      }
      const size = tail - head;
      // Requests already queued at s0 (queue order is enqueue order), up to maxB.
      let k = 1;
      const limit = size < maxB ? size : maxB;
      while (k < limit && enq[(head + k) & mask]! <= s0) k++;
      let start = s0;
      let n = k;
      if (k >= maxB) {
        n = maxB;
      } else {
        const pref = this.largestPreferredAtMost(k);
        if (pref > 0) {
          n = pref;
        } else {
          const deadline = oldest + delay;
          if (delay > 0 && deadline > s0) {
            // Wait for the arrival that completes the next sendable size, or the deadline.
            const want = this.smallestPreferredAbove(k);
            const at = want <= size ? enq[(head + want - 1) & mask]! : Number.POSITIVE_INFINITY;
            if (at <= deadline) {
              if (at >= tEnd) break;
              start = at;
              n = want;
            } else {
              if (deadline >= tEnd) break;
              while (n < limit && enq[(head + n) & mask]! <= deadline) n++;
              start = deadline;
            }
          }
        }
      }
      // Launch n requests on instance inst at start.
      let concurrent = 1;
      for (let i = 0; i < nInst; i++) if (i !== inst && free[i]! > start) concurrent++;
      const c = service(n, concurrent);
      const done = start + c;
      if (done > killAt) {
        // Reclaimed mid-batch: the requests are not served here; the caller retries them.
        free[inst] = killAt;
        this.head = head;
        this.lost(n);
        head = this.head;
        continue;
      }
      free[inst] = done;
      batches++;
      completed += n;
      computeSeconds += c;
      computeRequestSeconds += c * n;
      gpuBusySeconds += c / concurrent;
      gpuShare[inst] = 1 / concurrent;
      let queueSum = 0;
      const sink = this.sink;
      if (sink.completeBatch) {
        // Latencies go through a typed array: passing each as a number to a call that is
        // not inlined would box it.
        const lat = this.latencies;
        for (let j = 0; j < n; j++) {
          const i = (head + j) & mask;
          queueSum += start - enq[i]!;
          lat[j] = done - orig[i]!;
        }
        sink.completeBatch(lat, n);
      } else {
        for (let j = 0; j < n; j++) queueSum += start - enq[(head + j) & mask]!;
        for (let j = 0; j < n; j++) sink.complete(done - orig[(head + j) & mask]!);
      }
      head += n;
      queueSeconds += queueSum;
    }
    this.head = head;
    counters.completed = completed;
    counters.batches = batches;
    counters.rejected = rejected;
    counters.queueSeconds = queueSeconds;
    counters.computeSeconds = computeSeconds;
    counters.computeRequestSeconds = computeRequestSeconds;
    this.gpuBusySeconds = gpuBusySeconds;
  }

  /** The batch {@link planNext} found: its start, size and instance. */
  private planStart = Number.POSITIVE_INFINITY;
  private planN = 0;
  private planInst = 0;

  /**
   * The start of the next batch this batcher would launch before `tEnd`, as {@link advance}
   * decides it (timed-out requests on the way are rejected), or Infinity when it launches
   * none before `tEnd`; the batch is kept for {@link launchPlanned}. For a replica that
   * hosts several models (multi-replica.ts), whose batchers share one GPU and launch in
   * time order across models: what this batcher decides depends on its own queue and
   * instances only, so a plan stays valid until this batcher launches it.
   * The decision is {@link advance}'s, written out twice on purpose: advance keeps it
   * inline in its one loop so that a single model's replica allocates nothing per batch
   * (the simulator-speed bench); the multi-model property test in
   * test/simulate/multi-model.test.ts holds the two to the same results.
   */
  planNext(tEnd: number): number {
    const free = this.free;
    const nInst = free.length;
    const maxB = this.maxB;
    const delay = this.settings.maxQueueDelaySeconds;
    const timeout = this.settings.queueTimeoutSeconds;
    const enq = this.enq;
    const mask = this.mask;
    const tail = this.tail;
    this.planStart = Number.POSITIVE_INFINITY;
    while (tail > this.head) {
      const head = this.head;
      let inst = 0;
      let f = free[0]!;
      for (let i = 1; i < nInst; i++) {
        if (free[i]! < f) {
          f = free[i]!;
          inst = i;
        }
      }
      const oldest = enq[head & mask]!;
      const s0 = f > oldest ? f : oldest;
      if (s0 >= tEnd) return this.planStart;
      if (timeout > 0 && s0 - oldest > timeout) {
        this.head++;
        this.counters.rejected++;
        continue;
      }
      const size = tail - head;
      let k = 1;
      const limit = size < maxB ? size : maxB;
      while (k < limit && enq[(head + k) & mask]! <= s0) k++;
      let start = s0;
      let n = k;
      if (k >= maxB) {
        n = maxB;
      } else {
        const pref = this.largestPreferredAtMost(k);
        if (pref > 0) {
          n = pref;
        } else {
          const deadline = oldest + delay;
          if (delay > 0 && deadline > s0) {
            const want = this.smallestPreferredAbove(k);
            const at = want <= size ? enq[(head + want - 1) & mask]! : Number.POSITIVE_INFINITY;
            if (at <= deadline) {
              if (at >= tEnd) return this.planStart;
              start = at;
              n = want;
            } else {
              if (deadline >= tEnd) return this.planStart;
              while (n < limit && enq[(head + n) & mask]! <= deadline) n++;
              start = deadline;
            }
          }
        }
      }
      this.planStart = start;
      this.planN = n;
      this.planInst = inst;
      return start;
    }
    return this.planStart;
  }

  /** Compute time of the planned batch alone on the GPU, in seconds ({@link planNext}). */
  plannedSoloSeconds(): number {
    return this.service(this.planN, 1);
  }

  /**
   * How much of a batch of `seconds` starting at t this batcher's running batches overlap,
   * in batches: each counts min(its time left, `seconds`) / `seconds` (1 when it runs at
   * least as long; see multi-replica.ts).
   */
  overlapAt(t: number, seconds: number): number {
    let overlap = 0;
    const free = this.free;
    for (let i = 0; i < free.length; i++) {
      const left = free[i]! - t;
      if (left > 0) overlap += left < seconds ? left / seconds : 1;
    }
    return overlap;
  }

  /**
   * Launches the batch {@link planNext} found, as {@link advance} launches one, with
   * `others` (batches, possibly fractional) of the replica's other models computing beside
   * it: they share the GPU, so setup.ts createServiceTime's factor counts them with this
   * batcher's own running instances.
   */
  launchPlanned(others: number): void {
    const start = this.planStart;
    if (!(start < Number.POSITIVE_INFINITY)) return;
    this.planStart = Number.POSITIVE_INFINITY;
    const n = this.planN;
    const inst = this.planInst;
    const free = this.free;
    const mask = this.mask;
    let concurrent = 1 + others;
    for (let i = 0; i < free.length; i++) if (i !== inst && free[i]! > start) concurrent++;
    const c = this.service(n, concurrent);
    const done = start + c;
    if (done > this.killAt) {
      free[inst] = this.killAt;
      this.lost(n);
      return;
    }
    free[inst] = done;
    const counters = this.counters;
    counters.batches++;
    counters.completed += n;
    counters.computeSeconds += c;
    counters.computeRequestSeconds += c * n;
    this.gpuBusySeconds += c / concurrent;
    this.gpuShare[inst] = 1 / concurrent;
    const head = this.head;
    let queueSum = 0;
    const sink = this.sink;
    if (sink.completeBatch) {
      const lat = this.latencies;
      for (let j = 0; j < n; j++) {
        const i = (head + j) & mask;
        queueSum += start - this.enq[i]!;
        lat[j] = done - this.orig[i]!;
      }
      sink.completeBatch(lat, n);
    } else {
      for (let j = 0; j < n; j++) queueSum += start - this.enq[(head + j) & mask]!;
      for (let j = 0; j < n; j++) sink.complete(done - this.orig[(head + j) & mask]!);
    }
    this.head = head + n;
    counters.queueSeconds += queueSum;
  }

  private largestPreferredAtMost(k: number): number {
    const p = this.preferred;
    for (let i = p.length - 1; i >= 0; i--) if (p[i]! <= k) return p[i]!;
    return 0;
  }

  private smallestPreferredAbove(k: number): number {
    const p = this.preferred;
    for (let i = 0; i < p.length; i++) if (p[i]! > k) return p[i]!;
    return this.maxB;
  }

  private lostOrigins: number[] = [];

  private lost(n: number): void {
    for (let j = 0; j < n; j++) this.lostOrigins.push(this.orig[(this.head + j) & this.mask]!);
    this.head += n;
  }

  /**
   * Removes every request not served by `killAt` (queued, or in a batch cut off by the
   * reclaim) and returns their first-arrival times, for the caller to retry elsewhere.
   */
  evict(): Evicted {
    const n = this.tail - this.head;
    const origins = new Float64Array(n + this.lostOrigins.length);
    let k = 0;
    for (const o of this.lostOrigins) origins[k++] = o;
    for (let j = 0; j < n; j++) origins[k++] = this.orig[(this.head + j) & this.mask]!;
    this.head = this.tail;
    this.lostOrigins = [];
    return { origins, count: k };
  }

  /** Whether every queued request has been served and every instance is idle at t. */
  idleAt(t: number): boolean {
    if (this.tail > this.head || this.lostOrigins.length > 0) return false;
    for (let i = 0; i < this.free.length; i++) if (this.free[i]! > t) return false;
    return true;
  }

  /** Seconds the instances have been busy up to t (GPU busy time), for utilization. */
  /** {@link gpuBusySeconds} up to time t: without the part of running batches after t. */
  gpuBusySecondsUpTo(t: number): number {
    let ahead = 0;
    const free = this.free;
    for (let i = 0; i < free.length; i++) {
      if (free[i]! > t) ahead += (free[i]! - t) * this.gpuShare[i]!;
    }
    return this.gpuBusySeconds - ahead;
  }

  busySecondsUpTo(t: number): number {
    let ahead = 0;
    for (let i = 0; i < this.free.length; i++) if (this.free[i]! > t) ahead += this.free[i]! - t;
    return this.counters.computeSeconds - ahead;
  }
}
