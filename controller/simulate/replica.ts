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
  readonly counters: ReplicaCounters = {
    completed: 0,
    batches: 0,
    queueSeconds: 0,
    computeSeconds: 0,
    computeRequestSeconds: 0,
    rejected: 0,
  };
  /** Time after which the replica is gone (Spot reclaim); batches ending later are lost. */
  killAt = Number.POSITIVE_INFINITY;
  private readonly maxB: number;
  private readonly preferred: Int32Array;

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
    this.maxB = Math.max(1, settings.maxBatchSize);
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
    const mask = this.mask;
    while (this.tail > this.head) {
      let inst = 0;
      let f = free[0]!;
      for (let i = 1; i < nInst; i++) {
        if (free[i]! < f) {
          f = free[i]!;
          inst = i;
        }
      }
      const oldest = enq[this.head & mask]!;
      const s0 = f > oldest ? f : oldest;
      if (s0 >= tEnd) return;
      if (timeout > 0 && s0 - oldest > timeout) {
        this.head++;
        this.counters.rejected++;
        continue;
      }
      const size = this.tail - this.head;
      // Requests already queued at s0 (queue order is enqueue order), up to maxB.
      let k = 1;
      const limit = size < maxB ? size : maxB;
      while (k < limit && enq[(this.head + k) & mask]! <= s0) k++;
      if (k >= maxB) {
        this.launch(inst, s0, maxB);
        continue;
      }
      const pref = this.largestPreferredAtMost(k);
      if (pref > 0) {
        this.launch(inst, s0, pref);
        continue;
      }
      const deadline = oldest + delay;
      if (delay <= 0 || deadline <= s0) {
        this.launch(inst, s0, k);
        continue;
      }
      // Wait for the arrival that completes the next sendable size, or the deadline.
      const want = this.smallestPreferredAbove(k);
      if (want <= size) {
        const at = enq[(this.head + want - 1) & mask]!;
        if (at <= deadline) {
          if (at >= tEnd) return;
          this.launch(inst, at, want);
          continue;
        }
      }
      if (deadline >= tEnd) return;
      let n = k;
      while (n < limit && enq[(this.head + n) & mask]! <= deadline) n++;
      this.launch(inst, deadline, n);
    }
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

  private launch(inst: number, start: number, n: number): void {
    let concurrent = 1;
    for (let i = 0; i < this.free.length; i++)
      if (i !== inst && this.free[i]! > start) concurrent++;
    const c = this.service(n, concurrent);
    const done = start + c;
    if (done > this.killAt) {
      // Reclaimed mid-batch: the requests are not served here; the caller retries them.
      this.free[inst] = this.killAt;
      this.lost(n);
      return;
    }
    this.free[inst] = done;
    const counters = this.counters;
    counters.batches++;
    counters.completed += n;
    counters.computeSeconds += c;
    counters.computeRequestSeconds += c * n;
    const mask = this.mask;
    const enq = this.enq;
    const orig = this.orig;
    const sink = this.sink;
    let queueSum = 0;
    for (let j = 0; j < n; j++) {
      const i = (this.head + j) & mask;
      queueSum += start - enq[i]!;
      sink.complete(done - orig[i]!);
    }
    this.head += n;
    counters.queueSeconds += queueSum;
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
  busySecondsUpTo(t: number): number {
    let ahead = 0;
    for (let i = 0; i < this.free.length; i++) if (this.free[i]! > t) ahead += this.free[i]! - t;
    return this.counters.computeSeconds - ahead;
  }
}
