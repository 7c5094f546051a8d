import type { ModelCounters, PoolScrape, ReplicaScrape } from "./samples.js";
import type { LoadSnapshot, Signal } from "./types.js";

/**
 * The one module that turns raw scrapes (samples.ts) into the load signals of a
 * {@link LoadSnapshot}: the live loop (loop/) and the simulator's metrics pipeline
 * (simulate/observe.ts) both feed it {@link PoolScrape} rounds, so what is deployed is what
 * is simulated. Deterministic and without a clock: time is in the rounds, `now` is passed.
 *
 * A series is one model version on one replica (replica × model × version). Over the rate
 * window, from the start round F (the newest round at least `rateWindowSeconds` older than
 * the latest round L, else the oldest kept) to L, each series' counters are walked sample
 * by sample as Prometheus' `increase()` does, without its extrapolation:
 *
 * - a step up adds its difference; a step down is a reset (restart, model reload), and the
 *   new value is the increase since the reset;
 * - a series seen for the first time (a new replica, a model loaded) contributes from its
 *   second sample on: its first value holds requests from before anyone looked;
 * - a series that vanished (model unloaded, pod gone) keeps what it added while it was
 *   there and adds nothing after: never read as a drop to 0;
 * - an unreachable replica has no samples in that round (missing, not 0); the pool's
 *   gauges carry its last known values, and every signal fed by replicas is as old as
 *   that replica's last sample, so a pool with a dark replica goes stale and the scaler
 *   holds instead of deciding on part of the pool;
 * - a counter missing from a sample (`--metrics-config counter_latencies=false` drops the
 *   durations) is skipped; a signal with no pair of samples to difference is missing.
 *
 * The pool's value sums the series; rates divide by the window's span L.t − F.t:
 *
 * - arrival rate: Δ front arrivals / span when the round has a front (samples.ts
 *   {@link PoolScrape.front}: where requests arrive, even while no replica is ready), else
 *   Σ Δ(request_success + request_failure) / span over the entry models (the names clients
 *   call; a rejected request is demand too);
 * - the rest is read from each model's detector (an ensemble's `<name>-detector` where a
 *   replica exports it, else the model itself), as the rendered recording rules do;
 * - queue delay per request: Σ Δqueue_duration_us / Σ Δrequest_success, in ms;
 * - compute per batch: Σ Δcompute_infer_duration_us / Σ Δrequest_success, in ms. Triton
 *   charges every request of a batch the batch's compute time, so this is the mean batch
 *   time weighted by the requests in it (Δcompute / Δexec_count would be batch time × batch
 *   size);
 * - batch size: Σ Δinference_count / Σ Δexec_count (Triton's own definition);
 * - pending: Σ pending_request_count of the replicas (ready or loading) + the front's;
 *   inflight likewise, where a source reports it;
 * - GPU utilization: the mean over replicas ready in L that export it (a loading pod's GPU
 *   says nothing about serving).
 *
 * A ratio pairs numerator and denominator from the same samples, so a series lacking one of
 * them does not skew the other. Each signal's age is `now` minus the time of the oldest
 * newest-sample behind it: L.t, or an unreachable replica's last sample when older.
 *
 * Worked example (window 60 s, rounds at 0, 15, 30, 45, 60 s, read at 75 s, no front):
 * - replica a serves model m throughout: success 1000 → 1600, queue 50 000 → 3 050 000 µs,
 *   compute 8 000 → 6 008 000 µs, inferences 1000 → 1600, executions 250 → 400;
 * - replica b appears at 30 s with success 40 and reaches 340 at 60 s;
 * - replica c's Triton restarted at 40 s in the same pod: success 900 at 0, 15 and 30 s,
 *   then 30 at 45 s (a reset) and 90 at 60 s.
 *
 * Δsuccess: a 600; b 300 (its first 40 came before anyone looked); c 0 + 0 + 30 + 60 = 90.
 * Arrival rate = (600 + 300 + 90) / 60 s = 16.5 req/s. Only a exports durations here, so
 * queue delay = 3 000 000 µs / 600 / 1000 = 5 ms per request and compute per batch =
 * 6 000 000 µs / 600 / 1000 = 10 ms; batch size = 600 / 150 = 4. Every signal is
 * 75 − 60 = 15 s old. Had c been unreachable at 60 s, c would add 30, not 90, pending would
 * carry c's value from 45 s, and every signal would be 75 − 45 = 30 s old.
 */

/** How the window reads rounds. */
export interface WindowSettings {
  /** Seconds the rates are averaged over, like Prometheus' `rate(x[w])`. */
  readonly rateWindowSeconds: number;
  /**
   * The pool's models, to tell the series apart as the rendered recording rules do
   * (kube/render/prometheus.ts): answers of the entry models are arrivals; queue, compute,
   * batches and pending come from each model's detector. @default every series counts for
   * everything (one model per replica, as in the simulator)
   */
  readonly models?: readonly WindowModel[];
}

/** One pool model as the window reads its series. */
export interface WindowModel {
  /** The name clients call (Triton's `model` label); its answered requests are arrivals. */
  readonly entry: string;
  /**
   * The model that batches on the GPU when it has a name of its own (an ensemble's
   * `<name>-detector`). On a replica that exports it, it alone gives the model's queue,
   * compute, batches and pending (not the ensemble's per-request "batches", not the Python
   * pre/postprocess models); on a replica that does not, the entry's series do.
   */
  readonly detector?: string;
}

/** The load signals of a snapshot: what the window can say about a pool's load. */
export type LoadSignals = Pick<
  LoadSnapshot,
  | "arrivalRate"
  | "pending"
  | "inflight"
  | "queueDelayMs"
  | "computeMsPerBatch"
  | "batchSize"
  | "gpuUtilization"
>;

/** What the window reads at one instant. */
export interface WindowReading {
  readonly signals: LoadSignals;
  /**
   * Replicas of the latest round whose models are still loading: starting, never idle,
   * whatever the cluster's readiness says (the loop counts them as starting).
   */
  readonly loadingReplicas: number;
  /** Replicas of the latest round whose scrape failed. */
  readonly unreachableReplicas: number;
  /**
   * Of those, the ones scraped before (dark): the rates lack their share since their last
   * sample, an underestimate until they go stale, so the scaler must not scale down on them
   * (LoadSnapshot.darkReplicas).
   */
  readonly darkReplicas: number;
  /**
   * Batches the detectors executed over the window (Σ Δexec_count, the denominator of
   * `batchSize`): how much evidence `computeMsPerBatch` and `batchSize` rest on. 0 when the
   * window has no pair of samples.
   */
  readonly executedBatches: number;
}

/** A counter of {@link ModelCounters} read from one sample. */
type CounterOf = (c: ModelCounters) => number | undefined;

const answered: CounterOf = (c) =>
  c.requestSuccess === undefined ? undefined : c.requestSuccess + (c.requestFailure ?? 0);
const success: CounterOf = (c) => c.requestSuccess;
const queueUs: CounterOf = (c) => c.queueDurationUs;
const computeUs: CounterOf = (c) => c.computeInferDurationUs;
const inferences: CounterOf = (c) => c.inferenceCount;
const executions: CounterOf = (c) => c.execCount;

/** One sample of a series: the round's time and the model's counters. */
interface SeriesPoint {
  readonly t: number;
  readonly counters: ModelCounters;
}

/** A series' samples within the window, oldest first, and what it counts for. */
interface Series {
  readonly points: SeriesPoint[];
  /** Its answers are arrivals. */
  entry: boolean;
  /** Its queue, compute and batches are the pool's. */
  detector: boolean;
}

/**
 * The increase of a counter (or of a numerator and denominator pair) over a series'
 * samples, `increase()`-like: a step down is a reset and counts the new value.
 * `pairs` is how many consecutive samples could be differenced.
 */
function increase(
  points: readonly SeriesPoint[],
  num: CounterOf,
  den?: CounterOf,
): { num: number; den: number; pairs: number } {
  let n = 0;
  let d = 0;
  let pairs = 0;
  let prevN: number | undefined;
  let prevD: number | undefined;
  for (const p of points) {
    const vn = num(p.counters);
    const vd = den ? den(p.counters) : 0;
    if (vn === undefined || vd === undefined || !Number.isFinite(vn) || !Number.isFinite(vd)) {
      continue;
    }
    if (prevN !== undefined && prevD !== undefined) {
      n += vn >= prevN ? vn - prevN : vn;
      d += vd >= prevD ? vd - prevD : vd;
      pairs++;
    }
    prevN = vn;
    prevD = vd;
  }
  return { num: n, den: d, pairs };
}

/** `increase()` of one counter's successive values (the front's arrivals). */
function increaseOf(values: readonly number[]): { inc: number; pairs: number } {
  let inc = 0;
  let pairs = 0;
  for (let i = 1; i < values.length; i++) {
    const prev = values[i - 1]!;
    const v = values[i]!;
    inc += v >= prev ? v - prev : v;
    pairs++;
  }
  return { inc, pairs };
}

/**
 * Recent rounds of one pool and the last reachable scrape of each replica still listed.
 * Memory is fixed: the rounds of one rate window plus the one before it, and one scrape per
 * listed replica.
 */
export class SignalWindow {
  private rounds: PoolScrape[] = [];
  /** The last scrape in which each replica of the latest round was reachable. */
  private readonly lastReachable = new Map<string, ReplicaScrape>();

  constructor(readonly settings: WindowSettings) {
    if (!(settings.rateWindowSeconds > 0)) {
      throw new Error(
        `rate window must be a positive number of seconds. Received: ${settings.rateWindowSeconds}`,
      );
    }
  }

  /** Rounds kept (for tests of the fixed memory). */
  get size(): number {
    return this.rounds.length;
  }

  /**
   * Adds a round. Rounds come in time order; one not newer than the latest is ignored
   * (returns false), so a source's repeated or late answer cannot rewind the window.
   */
  record(scrape: PoolScrape): boolean {
    const last = this.rounds.at(-1);
    if (last !== undefined && !(scrape.t > last.t)) return false;
    const listed = new Set<string>();
    for (const r of scrape.replicas) {
      listed.add(r.replica);
      if (r.phase !== "unreachable") this.lastReachable.set(r.replica, r);
    }
    for (const id of [...this.lastReachable.keys()]) {
      if (!listed.has(id)) this.lastReachable.delete(id);
    }
    this.rounds.push(scrape);
    // Keep the newest round at least one window old (the start) and everything after it.
    const startBy = scrape.t - this.settings.rateWindowSeconds;
    let start = 0;
    for (let i = this.rounds.length - 1; i >= 0; i--) {
      if (this.rounds[i]!.t <= startBy) {
        start = i;
        break;
      }
    }
    if (start > 0) this.rounds = this.rounds.slice(start);
    return true;
  }

  /** The models of a replica's scrape that are detectors; undefined: every model is. */
  private detectorsOf(r: ReplicaScrape): ReadonlySet<string> | undefined {
    const models = this.settings.models;
    if (models === undefined) return undefined;
    const present = new Set(r.models.map((m) => m.model));
    const out = new Set<string>();
    for (const m of models) {
      out.add(m.detector !== undefined && present.has(m.detector) ? m.detector : m.entry);
    }
    return out;
  }

  /**
   * The signals as of `at` (seconds on the rounds' clock), from the rounds recorded so far.
   * A round stamped after `at` (a source's own clock a little ahead) reads as 0 s old.
   */
  read(at: number): WindowReading {
    const latestT = this.rounds.at(-1)?.t;
    const now = latestT !== undefined && latestT > at ? latestT : at;
    const latest = this.rounds.at(-1);
    if (latest === undefined) {
      return {
        signals: {},
        loadingReplicas: 0,
        unreachableReplicas: 0,
        darkReplicas: 0,
        executedBatches: 0,
      };
    }
    const first = this.rounds[0]!;
    const span = latest.t - first.t;
    const out: { -readonly [K in keyof LoadSignals]: LoadSignals[K] } = {};

    // Gauges of the latest round, carrying an unreachable replica's last known values.
    let asOf = latest.t;
    let replicaData = false;
    let pending = 0;
    let hasPending = false;
    let inflight = 0;
    let hasInflight = false;
    let gpuSum = 0;
    let gpuN = 0;
    let loading = 0;
    let unreachable = 0;
    let dark = 0;
    for (const r of latest.replicas) {
      if (r.phase === "loading") loading++;
      if (r.phase === "unreachable") unreachable++;
      const known = r.phase === "unreachable" ? this.lastReachable.get(r.replica) : r;
      if (known === undefined) continue;
      if (r.phase === "unreachable") dark++;
      replicaData = true;
      if (known.t < asOf) asOf = known.t;
      const detectors = this.detectorsOf(known);
      for (const m of known.models) {
        if (detectors !== undefined && !detectors.has(m.model)) continue;
        if (m.pendingRequests !== undefined) {
          pending += m.pendingRequests;
          hasPending = true;
        }
        if (m.inflightRequests !== undefined) {
          inflight += m.inflightRequests;
          hasInflight = true;
        }
      }
      if (r.phase === "ready" && r.gpuUtilization !== undefined) {
        gpuSum += r.gpuUtilization;
        gpuN++;
      }
    }
    const replicaSignal = (value: number): Signal => ({ value, ageSeconds: now - asOf });
    const front = latest.front;
    if (front !== undefined) {
      pending += front.pending;
      hasPending = true;
    }
    if (hasPending) {
      out.pending = { value: pending, ageSeconds: now - (replicaData ? asOf : latest.t) };
    }
    if (hasInflight) out.inflight = replicaSignal(inflight);
    if (gpuN > 0) out.gpuUtilization = replicaSignal(gpuSum / gpuN);

    if (span <= 0) {
      return {
        signals: out,
        loadingReplicas: loading,
        unreachableReplicas: unreachable,
        darkReplicas: dark,
        executedBatches: 0,
      };
    }

    // Counters over the window, per series.
    const series = new Map<string, Series>();
    const entries = this.settings.models
      ? new Set(this.settings.models.map((m) => m.entry))
      : undefined;
    for (const round of this.rounds) {
      for (const r of round.replicas) {
        if (r.phase === "unreachable") continue;
        const detectors = this.detectorsOf(r);
        for (const m of r.models) {
          const key = `${r.replica}\u0000${m.model}\u0000${m.version}`;
          let s = series.get(key);
          if (s === undefined) {
            s = { points: [], entry: false, detector: false };
            series.set(key, s);
          }
          // What a series counts for is read from its latest round.
          s.entry = entries === undefined || entries.has(m.model);
          s.detector = detectors === undefined || detectors.has(m.model);
          s.points.push({ t: round.t, counters: m.counters });
        }
      }
    }
    let arrivals = 0;
    let arrivalPairs = 0;
    let queue = 0;
    let queueRequests = 0;
    let compute = 0;
    let computeRequests = 0;
    let inferred = 0;
    let executed = 0;
    for (const s of series.values()) {
      if (s.entry) {
        const a = increase(s.points, answered);
        arrivals += a.num;
        arrivalPairs += a.pairs;
      }
      if (!s.detector) continue;
      const q = increase(s.points, queueUs, success);
      queue += q.num;
      queueRequests += q.den;
      const c = increase(s.points, computeUs, success);
      compute += c.num;
      computeRequests += c.den;
      const b = increase(s.points, inferences, executions);
      inferred += b.num;
      executed += b.den;
    }

    if (front !== undefined) {
      const frontRounds = this.rounds.filter((r) => r.front !== undefined);
      const f = increaseOf(frontRounds.map((r) => r.front!.arrivals));
      const frontSpan = latest.t - frontRounds[0]!.t;
      if (f.pairs > 0 && frontSpan > 0) {
        out.arrivalRate = { value: f.inc / frontSpan, ageSeconds: now - latest.t };
      }
    } else if (arrivalPairs > 0) {
      out.arrivalRate = replicaSignal(arrivals / span);
    }
    if (queueRequests > 0) out.queueDelayMs = replicaSignal(queue / queueRequests / 1000);
    if (computeRequests > 0) {
      out.computeMsPerBatch = replicaSignal(compute / computeRequests / 1000);
    }
    if (executed > 0) out.batchSize = replicaSignal(inferred / executed);
    return {
      signals: out,
      loadingReplicas: loading,
      unreachableReplicas: unreachable,
      darkReplicas: dark,
      executedBatches: executed,
    };
  }
}
