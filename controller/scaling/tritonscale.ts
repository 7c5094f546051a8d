import type { Policy } from "../policy/index.js";
import {
  type Behavior,
  type BehaviorState,
  behaviorFromPolicy,
  INITIAL_BEHAVIOR_STATE,
  normalize,
  recordScaleEvent,
  seedRecommendation,
} from "./behavior.js";
import {
  addSample,
  clumpAt,
  continueWith,
  emptyHistory,
  formatHistory,
  gapQuantile,
  type History,
  type HistoryShape,
  historySeconds,
  historyShape,
  isSurge,
  learnPast,
  parseHistory,
  periodicForecast,
  raiseClump,
  riseQuantile,
  surgeLengthQuantile,
} from "./history.js";
import { scheduleFloor } from "./schedule.js";
import { INITIAL_SPOT_STATE, type SpotState, splitCapacity } from "./spot.js";
import {
  type ByCapacity,
  type LoadSnapshot,
  formatNumber as n,
  type RatePoint,
  readSignal,
  type Scaler,
  type ScalerMemory,
  type ScalerOptions,
  type ScalingDecision,
  totalOf,
} from "./types.js";

/**
 * tritonscale's scaler: replicas from a capacity model at the latency SLO.
 *
 * Each replica sustains C req/s with its p99 inside the SLO (options.capacityPerReplica,
 * from the batching profile); the pool plans to use a share U of it
 * (`scaling.targetUtilization`). Every sync period:
 *
 * 1. Demand. λ = measured arrival rate. A backlog corrects it: the Ready replicas' spare
 *    capacity max(0, R × C − λ) drains at most (spare × share × SLO) requests within
 *    `backlogSloShare` of the SLO; pending requests beyond that are drained over
 *    `backlogDrainSeconds` by adding excess / drainSeconds to demand. By default that is
 *    the larger of the sync period and L = coldStart + nodeProvisioning: capacity ordered now cannot drain it
 *    sooner, and sizing for a faster drain buys replicas that arrive after the backlog. When the mean queue delay exceeds `queueDelaySloShare` of the SLO, the Ready
 *    replicas are past their capacity whatever λ says: demand is at least one replica more
 *    than Ready, (R + 1) × C × U.
 * 2. Pre-warm from the trend: a least-squares slope of λ over the last `trendWindowSeconds`
 *    (at least 3 samples spanning half of it), only upward, projected L ahead
 *    (replicas ordered now are Ready then), adding at most `trendMaxGain` × max(λ, C × U).
 * 3. desired = ceil(demand / (C × U)); unchanged when within `scaling.tolerance` of the
 *    current count (as the HPA). With `options.capacityByReplicas` (3d, `spreadCapacity`),
 *    n replicas sharing round-robin arrivals each sustain C(n) ≥ C (a steadier stream than
 *    Poisson queues less; simulate/capacity.ts `capacityCurve`): desired is the least n with
 *    n × C(n) × U ≥ demand, and every other count of what replicas sustain uses C(n) too.
 * 4. Panic (Knative's): when desired ≥ `panicThreshold` × Ready (at least 1), for
 *    `panicHoldSeconds` since that last held: the scale-up stabilization window is skipped
 *    and nothing scales down.
 * 5. The policy's behavior (`scaling.scaleUp` / `scaleDown`, behavior.ts): stabilization
 *    windows (scale down only to the highest recommendation of the window), rate limits.
 * 6. Floors and ceiling, which win over rate limits (as the HPA's own min/max do):
 *    max(policy minReplicas, the schedules' minimum, including a schedule starting within
 *    L, and 1 unless zero is allowed), then maxReplicas. Zero is allowed only
 *    after a full `idleWindow` of observations with no arrivals, nothing pending, nothing
 *    inflight (when reported) and no replica starting or waiting for a node; a pool
 *    already at 0 stays there while nothing arrives or waits.
 * 7. Missing or stale arrival rate or pending count (older than `staleAfter`): hold the
 *    last decision (raised to a schedule's minimum, capped at maxReplicas), `held: true`;
 *    never down, never to zero, and the idle streak restarts. Before the signals go stale,
 *    a replica whose scrape fails after earlier ones succeeded (`darkReplicas`) leaves the
 *    rates short of its share: up is decided as usual, down and zero are not (nor is the
 *    pool idle).
 * 8. The Spot / on-demand split (spot.ts).
 *
 * Learned terms (history.ts; `scaling.history`, applied once the history holds `warmup`;
 * with an empty history the scaler decides exactly as above), each named in the reason and
 * in `terms`:
 * - 1b. Clumped arrivals (`clumpReplicas`): a mean queue delay above `clumpDelaySloShare`
 *   of the SLO and above (1 + `clumpDispersionMargin`) × what Poisson arrivals at the
 *   observed rate queue ({@link poissonQueueMs}), at 20–80% of the Ready replicas' planned
 *   capacity, calm for 2 min, learns
 *   Ready × (delay / budget)^(2/3) replicas, held while requests arrive.
 * - 2b. Lead headroom (`leadHeadroom`): the `leadQuantile` of the learned rise within L at
 *   this level, sized at the full capacity C. It replaces the trend at a level it was
 *   learned at, and on a jump (1.3× the oldest rate of the trend window).
 * - 2c. Recurring pattern (`periodSeconds`, `periodCorrelation`, `forecast`): the load one
 *   period ago over the next L, scaled to today's level, at C; only ever adds.
 * - 3b. A surge (1.3× the slow baseline) that 90% of past surges outlast by less than L is
 *   not chased (`surgeLengthSeconds`).
 * - 4b. Scale-down that pays (`downRise`): capacity for the `downQuantile` of the rise within
 *   nodeLinger + L stays.
 * - 6. Idle gaps (`keepAliveSeconds`, `preWarmSeconds`): keep-alive = their 99th percentile
 *   (with fewer than `minGaps`, the longest seen when it outlasts idleWindow); when their 5th
 *   percentile − L outlasts nodeLinger, zero at once and pre-warm from there.
 *
 * Worked example of 2b: C = 96, U = 0.7, L = 90 s; at 100 req/s the rate alone plans
 * 100 / 67.2 = 1.49 → 2. History saw 2× surges 90 s after 15% of its buckets: the 99.5th
 * percentile of the rise is the log₂/16 bin holding 2, read at its upper edge 2^(17/16) =
 * 2.09 → 208.85 req/s / 96 = 2.18 → 3 replicas, ready when the next surge comes.
 *
 * Worked example: C = 96 req/s at an 85 ms SLO, U = 0.7 → 67.2 req/s planned per replica;
 * sync 15 s; new capacity takes L = coldStart 90 s + nodeProvisioning 0 s (nodes to spare)
 * = 90 s; HPA-default behavior.
 * - Steady: λ = 184 req/s, 3 Ready, 10 pending. Spare (3 × 96 − 184) = 104 req/s drains
 *   104 × 0.5 × 0.085 = 4.42 requests within half the SLO; the other 5.58 over 90 s add
 *   0.06 req/s → 184.06 / 67.2 = 2.74 → 3 = current.
 * - Burst: λ = 400 req/s, 3 Ready, 120 pending. No spare: 120 / 90 s adds 1.33 req/s →
 *   401.33 / 67.2 = 5.97 → 6 ≥ 2 × 3 → panic. From 3 the behavior allows max(3 × 2, 3 + 4) = 7.
 * - Ramp: λ rose 100 → 220 req/s over the last 120 s (slope 1 req/s per s); L = 90 s
 *   adds 90 req/s → 310 / 67.2 = 4.61 → 5 replicas, where 220 alone would give 4.
 * - Quiet: from 1 replica with minReplicas 0 and idleWindow 10m, zero comes 600 s after the
 *   first observation of no arrivals / pending / inflight / starting; until then 1 stays.
 */

/** Tuning of the tritonscale scaler; every field has a default. */
export interface TritonscaleTuning {
  /** Share of the SLO within which Ready replicas should drain the queue. @default 0.5 */
  readonly backlogSloShare: number;
  /**
   * Seconds over which a backlog beyond that is drained by added capacity.
   * @default the larger of the pool's syncPeriod and coldStart + nodeProvisioning
   */
  readonly backlogDrainSeconds?: number;
  /** Mean queue delay above this share of the SLO floors demand at Ready + 1 replicas. @default 0.5 */
  readonly queueDelaySloShare: number;
  /** Panic when desired ≥ this × Ready replicas (Knative's 200%). @default 2 */
  readonly panicThreshold: number;
  /** Seconds panic lasts after its condition last held (Knative's stable window). @default 60 */
  readonly panicHoldSeconds: number;
  /** Seconds of arrival-rate samples the trend is fitted on. @default 120 */
  readonly trendWindowSeconds: number;
  /** Most the trend adds, as a multiple of max(λ, C × U). @default 1 */
  readonly trendMaxGain: number;
  /**
   * Mean queue delay, as a share of the SLO, that Poisson arrivals reach at about the
   * capacity at the SLO (simulated: 8.6 ms of 100 ms at 94% of it): a higher delay while the
   * rate is within the Ready replicas' planned capacity means clumped arrivals. @default 0.08
   */
  readonly clumpDelaySloShare: number;
  /**
   * Clumped arrivals are read only from a mean queue delay above (1 + this) × what Poisson
   * arrivals at the observed rate queue on the Ready replicas ({@link poissonQueueMs}): an
   * index of dispersion above 1 by more than the estimate's error (Poisson arrivals on the
   * example pool, routed at random, read 0.87–1.13 of it at 10–87% of the planned load;
   * 40-frame clumps 1.4–3.4 on 2–5 replicas). With no batch signals (compute time, batch
   * size) `clumpDelaySloShare` alone is the test. @default 0.35
   */
  readonly clumpDispersionMargin: number;
  /**
   * Mean queue delay, as a share of the SLO, that the replicas learned for clumped arrivals
   * should bring it to (simulated 40-image clumps: 4 replicas, 99.9% within the SLO, queue
   * 13 ms of 100 ms on average while busy; 3 replicas, 99.1%, 18 ms). @default 0.12
   */
  readonly clumpTargetSloShare: number;
  /** Quantile of surge lengths that must end before new capacity arrives to skip a scale-up. @default 0.9 */
  readonly surgeQuantile: number;
}

/** The defaults of {@link TritonscaleTuning}. */
export const TRITONSCALE_TUNING: TritonscaleTuning = {
  backlogSloShare: 0.5,
  queueDelaySloShare: 0.5,
  panicThreshold: 2,
  panicHoldSeconds: 60,
  trendWindowSeconds: 120,
  trendMaxGain: 1,
  clumpDelaySloShare: 0.08,
  clumpDispersionMargin: 0.35,
  clumpTargetSloShare: 0.12,
  surgeQuantile: 0.9,
};

/** The scaler's memory between decisions. */
export interface TritonscaleState {
  /** The last decided total (before the Spot split). */
  readonly total: number;
  readonly behavior: BehaviorState;
  readonly spot: SpotState;
  /** Arrival-rate samples of the trend window, oldest first. */
  readonly arrivals: readonly RatePoint[];
  /** Since when the pool has been observed idle without a break; undefined when not idle. */
  readonly idleSince?: number;
  /** Until when panic mode lasts. */
  readonly panicUntil?: number;
  /** When the pool was last past its planned capacity, backlogged or slow (seconds). */
  readonly strainedAt?: number;
  /** Since when no arrivals and nothing pending were seen (replicas may be starting). */
  readonly quietSince?: number;
  /** The learned history (history.ts); absent when `scaling.history.enabled` is false. */
  readonly history?: History;
}

/**
 * Creates the tritonscale scaler. Throws when `options.capacityPerReplica` is missing or not
 * a positive number: the capacity model has nothing to divide by.
 */
export function createTritonscaleScaler(
  policy: Policy,
  options: ScalerOptions,
  tuning: Partial<TritonscaleTuning> = {},
): Scaler<TritonscaleState> {
  const capacity = options.capacityPerReplica;
  if (capacity === undefined || !Number.isFinite(capacity) || capacity <= 0) {
    throw new Error(
      `tritonscale scaler needs options.capacityPerReplica > 0, the requests per second one replica sustains within the SLO (from the batching profile, see simulate/capacity). Received: ${capacity}`,
    );
  }
  const byReplicas = options.capacityByReplicas ?? [capacity];
  if (byReplicas.length === 0 || byReplicas.some((c) => !Number.isFinite(c) || c <= 0)) {
    throw new Error(
      `tritonscale scaler needs options.capacityByReplicas to hold positive numbers (requests per second per replica when n replicas share round-robin arrivals), or to be absent. Received: [${byReplicas.join(", ")}]`,
    );
  }
  // Element 0 is the one-replica capacity itself; a steadier stream never queues more, so
  // the curve is kept non-decreasing.
  const curve = [capacity];
  for (let i = 1; i < byReplicas.length; i++) curve.push(Math.max(curve[i - 1]!, byReplicas[i]!));
  const sc = policy.spec.scaling;
  const hs = sc.history;
  const shape = historyShape(
    hs.resolutionSeconds,
    hs.windowSeconds,
    sc.coldStartSeconds + sc.nodeProvisioningSeconds,
    hs.nodeLingerSeconds,
  );
  const bound: Bound = {
    policy,
    behavior: behaviorFromPolicy(policy),
    capacity,
    curve,
    tuning: { ...TRITONSCALE_TUNING, ...tuning },
    shape: hs.enabled ? shape : undefined,
  };
  const memory: ScalerMemory<TritonscaleState> = {
    save: (state) => formatHistory(state.history ?? emptyHistory(shape)),
    restore: (state, saved) => {
      if (!hs.enabled) {
        return { ok: false, why: "history disabled (spec.scaling.history.enabled: false)" };
      }
      const parsed = parseHistory(saved, shape);
      return parsed.ok ? { ok: true, state: { ...state, history: parsed.history } } : parsed;
    },
    merge: (state, saved) => {
      const restored = memory.restore(state, saved);
      if (!restored.ok || state.history === undefined) return restored;
      return {
        ok: true,
        state: { ...restored.state, history: continueWith(restored.state.history!, state.history) },
      };
    },
    learn: (state, points) =>
      state.history === undefined ? state : { ...state, history: learnPast(state.history, points) },
  };
  return {
    name: "tritonscale",
    periodSeconds: sc.syncPeriodSeconds,
    initialState: (current: ByCapacity): TritonscaleState => ({
      total: totalOf(current),
      behavior: INITIAL_BEHAVIOR_STATE,
      spot: INITIAL_SPOT_STATE,
      arrivals: [],
      ...(hs.enabled ? { history: emptyHistory(shape) } : {}),
    }),
    decide: (snapshot, state) => decideTritonscale(snapshot, state, bound),
    memory,
  };
}

/** What a tritonscale scaler is created with: its pool's policy and derived settings. */
interface Bound {
  readonly policy: Policy;
  /** The policy's `scaleUp` / `scaleDown`. */
  readonly behavior: Behavior;
  /** Requests per second one replica sustains within the SLO. */
  readonly capacity: number;
  /** Per-replica capacity when n replicas share round-robin arrivals, at n − 1 (non-decreasing). */
  readonly curve: readonly number[];
  readonly tuning: TritonscaleTuning;
  /** The history's shape, or undefined when the history is disabled. */
  readonly shape: HistoryShape | undefined;
}

function decideTritonscale(
  snapshot: LoadSnapshot,
  state: TritonscaleState,
  { policy, behavior, capacity, curve, tuning, shape }: Bound,
): ScalingDecision<TritonscaleState> {
  const sc = policy.spec.scaling;
  const now = snapshot.now;
  const current = state.total;
  const max = sc.maxReplicas;
  const stale = sc.staleAfterSeconds;
  // New capacity takes a node and a cold start: pre-warm by both.
  const lead = sc.coldStartSeconds + sc.nodeProvisioningSeconds;
  const schedule = scheduleFloor(sc.schedules, now, lead);
  const hardMin = Math.max(sc.minReplicas, schedule.minReplicas);
  const keptArrivals = state.arrivals.filter((s) => s.at > now - tuning.trendWindowSeconds);
  const parts: string[] = [];
  const terms: Record<string, number> = {};

  const finish = (
    total: number,
    held: boolean,
    next: Omit<TritonscaleState, "total" | "behavior" | "spot">,
    behaviorState: BehaviorState,
  ): ScalingDecision<TritonscaleState> => {
    const split = splitCapacity(total, policy, snapshot.replicas, state.spot);
    if (split.note !== "") parts.push(split.note);
    return {
      desired: split.desired,
      active: total > 0,
      held,
      reason: parts.join("; "),
      ...(Object.keys(terms).length > 0 ? { terms } : {}),
      state: {
        ...next,
        total,
        behavior: recordScaleEvent(behaviorState, behavior, now, current, total),
        spot: split.state,
      },
    };
  };

  // 7. No data: hold.
  const arrival = readSignal("arrival rate", snapshot.arrivalRate, stale);
  const pending = readSignal("pending requests", snapshot.pending, stale);
  if (!arrival.ok || !pending.ok) {
    const why = [arrival, pending].flatMap((r) => (r.ok ? [] : [r.why])).join(" and ");
    parts.push(`${why}: holding ${current} replicas (never scaling down or to zero without data)`);
    let total = current;
    if (total < hardMin) {
      total = hardMin;
      parts.push(
        schedule.minReplicas >= sc.minReplicas ? schedule.reason : `minReplicas ${sc.minReplicas}`,
      );
    }
    if (total > max) {
      total = max;
      parts.push(`capped at maxReplicas ${max}`);
    }
    if (total !== current) parts.push(`${current} → ${total}`);
    return finish(
      total,
      true,
      {
        arrivals: keptArrivals,
        ...(state.panicUntil === undefined ? {} : { panicUntil: state.panicUntil }),
        ...(state.history === undefined ? {} : { history: state.history }),
      },
      state.behavior,
    );
  }

  const perReplica = capacity * sc.targetUtilization;
  const sloMs = policy.spec.slo.latencyP99Ms;
  const lambda = Math.max(0, arrival.value);
  const queued = Math.max(0, pending.value);
  const ready = totalOf(snapshot.replicas.ready);
  const notReady = totalOf(snapshot.replicas.starting) + totalOf(snapshot.replicas.pending);
  const dark = snapshot.darkReplicas ?? 0;
  const hs = sc.history;

  // The history learns from every observation decided on (a held one leaves a gap); its
  // terms apply once it holds `history.warmup` (before that: the reactive model alone).
  let history =
    state.history === undefined || shape === undefined
      ? undefined
      : addSample(state.history, now, lambda);
  const learned =
    history !== undefined && historySeconds(history) >= hs.warmupSeconds && hs.warmupSeconds >= 0;

  // 1. Demand: arrivals, backlog, queue delay.
  const drainMs = tuning.backlogSloShare * sloMs;
  const poolAt = (k: number) => poolCapacity(curve, k);
  const drainable = (Math.max(0, poolAt(ready) - lambda) * drainMs) / 1000;
  const excess = Math.max(0, queued - drainable);
  const drainSeconds = tuning.backlogDrainSeconds ?? Math.max(sc.syncPeriodSeconds, lead);
  const backlogRate = excess / drainSeconds;
  let demand = lambda + backlogRate;
  let demandText = `arrivals ${n(lambda)} req/s`;
  if (backlogRate > 0) {
    demandText += ` + backlog: ${n(queued)} pending, ${n(excess)} beyond what ${ready} Ready drain in ${n(drainMs)} ms, over ${n(drainSeconds)} s = +${n(backlogRate)} req/s`;
  }
  const delay = readSignal("queue delay", snapshot.queueDelayMs, stale);
  const delayBudget = tuning.queueDelaySloShare * sloMs;
  let delayFloor = 0;
  const nextPlanned = poolAt(ready + 1) * sc.targetUtilization;
  if (delay.ok && delay.value > delayBudget && ready > 0 && demand < nextPlanned) {
    demand = nextPlanned;
    delayFloor = ready + 1;
    demandText += `; queue delay ${n(delay.value)} ms > ${n(delayBudget)} ms (${n(tuning.queueDelaySloShare * 100)}% of the ${n(sloMs)} ms SLO): Ready replicas are past capacity, planning ${ready + 1}`;
  }

  // 1b. Clumped arrivals, from the observed queueing: a mean queue delay above what Poisson
  // arrivals at the observed rate queue on the observed batches (by clumpDispersionMargin,
  // and above clumpDelaySloShare of the SLO) while the rate is well within the Ready
  // replicas' planned capacity and no backlog is left from a surge means the arrivals come
  // in clumps. A clump's wait falls about as Ready^(3/2) (simulated 40-image clumps:
  // 2 → 4 replicas took the mean wait from 20.9 to 7 ms), so Ready × (delay / target)^(2/3)
  // replicas (at most twice Ready per step) bring it to clumpTargetSloShare of the SLO:
  // learned (raised at once, halving each hour, growing with the square root of the rate)
  // and held whenever requests arrive.
  let clumpReplicas = 0;
  // A queue left over from a surge or an overload is no evidence of clumping: learn only
  // after CALM_SECONDS without either (the rate window still holds the drain).
  const strained =
    ready === 0 ||
    lambda > poolAt(ready) * sc.targetUtilization ||
    excess * 1000 > lambda * sloMs ||
    (delay.ok && delay.value > delayBudget);
  const strainedAt = strained ? now : state.strainedAt;
  const clumpBudget = tuning.clumpDelaySloShare * sloMs;
  const clumpTarget = tuning.clumpTargetSloShare * sloMs;
  // What Poisson arrivals at the observed rate would queue on the Ready replicas, from the
  // observed batches; clumps only where the delay clearly exceeds it.
  const batchMs = readSignal("compute time per batch", snapshot.computeMsPerBatch, stale);
  const batchSize = readSignal("batch size", snapshot.batchSize, stale);
  const poissonMs =
    batchMs.ok && batchSize.ok && ready > 0
      ? poissonQueueMs(lambda / ready, batchMs.value, batchSize.value, maxQueueDelayMs(policy))
      : undefined;
  const clumpGate =
    poissonMs === undefined
      ? clumpBudget
      : Math.max(clumpBudget, (1 + tuning.clumpDispersionMargin) * poissonMs);
  const clumpGateText =
    poissonMs === undefined
      ? `${n(clumpBudget)} ms (${n(tuning.clumpDelaySloShare * 100)}% of the SLO)`
      : `${n(clumpGate)} ms (the larger of ${n(clumpBudget)} ms, ${n(tuning.clumpDelaySloShare * 100)}% of the SLO, and ${n(1 + tuning.clumpDispersionMargin)} × ${n(poissonMs)} ms, what Poisson arrivals queue at ${n(lambda / ready)} req/s a replica)`;
  if (history !== undefined) {
    if (
      (strainedAt === undefined || now - strainedAt >= CALM_SECONDS) &&
      delay.ok &&
      delay.value > clumpGate &&
      ready > 0 &&
      lambda >= CLUMP_MIN_LOAD * poolAt(ready) * sc.targetUtilization &&
      lambda <= CLUMP_MAX_LOAD * poolAt(ready) * sc.targetUtilization
    ) {
      const needed = ready * (delay.value / clumpTarget) ** (2 / 3);
      history = raiseClump(history, now, Math.min(2 * ready, needed), lambda);
    }
    // Observed, not extrapolated: applies from the first evidence, warmup or not.
    if (lambda > 0) clumpReplicas = clumpAt(history, now, lambda);
  }

  // Idle streak and whether zero is allowed. With enough idle gaps seen, their histogram
  // sets the keep-alive (99th percentile) instead of idleWindow; when even the 5th
  // percentile gap outlasts node linger + L, zero pays at once and the pool is pre-warmed
  // L before that 5th percentile (Shahrad et al.'s hybrid histogram policy).
  const inflight = readSignal("inflight requests", snapshot.inflight, stale);
  const quiet = lambda === 0 && queued === 0 && (!inflight.ok || inflight.value === 0);
  const idleNow = quiet && notReady === 0 && dark === 0;
  const idleSince = idleNow ? (state.idleSince ?? now) : undefined;
  const idleFor = idleSince === undefined ? 0 : now - idleSince;
  const quietSince = quiet ? (state.quietSince ?? now) : undefined;
  const quietFor = quietSince === undefined ? 0 : now - quietSince;
  let keepAlive = sc.idleWindowSeconds;
  let keepAliveName = "idleWindow";
  let keepAliveText = `idleWindow ${n(sc.idleWindowSeconds)} s`;
  let preWarming = false;
  let zeroNow = idleNow && idleFor >= sc.idleWindowSeconds;
  if (learned && history !== undefined && history.gapCount > 0 && history.gapCount < hs.minGaps) {
    // Too few gaps to trust their histogram, enough to know gaps run longer than
    // idleWindow: going to zero inside a gap like those seen would cost a cold start.
    const tail = gapQuantile(history, 0.99) ?? 0;
    if (tail > keepAlive) {
      keepAlive = tail;
      terms.keepAliveSeconds = keepAlive;
      keepAliveName = `keep-alive (the longest of ${history.gapCount} idle gaps, above idleWindow)`;
      keepAliveText = `keep-alive ${n(keepAlive)} s (the longest of ${history.gapCount} idle gaps, above idleWindow ${n(sc.idleWindowSeconds)} s)`;
      zeroNow = idleNow && idleFor >= keepAlive;
    }
  } else if (learned && history !== undefined && history.gapCount >= hs.minGaps) {
    const tail = gapQuantile(history, 0.99) ?? keepAlive;
    const head = gapQuantile(history, 0.05, true) ?? 0;
    keepAlive = Math.max(sc.syncPeriodSeconds, tail);
    terms.keepAliveSeconds = keepAlive;
    keepAliveName = `keep-alive (99th percentile of ${history.gapCount} idle gaps)`;
    keepAliveText = `keep-alive ${n(keepAlive)} s (99th percentile of ${history.gapCount} idle gaps)`;
    const preWarmAt = head - lead;
    if (preWarmAt > hs.nodeLingerSeconds) {
      terms.preWarmSeconds = preWarmAt;
      preWarming = quiet && quietFor >= preWarmAt && quietFor < keepAlive;
      keepAliveText = `5th percentile idle gap ${n(head)} s − ${n(lead)} s lead > node linger ${n(hs.nodeLingerSeconds)} s: zero at once, pre-warm at ${n(preWarmAt)} s, keep-alive to ${n(keepAlive)} s`;
      zeroNow = idleNow && !preWarming;
    } else {
      zeroNow = idleNow && idleFor >= keepAlive;
    }
  }
  const zeroAllowed = ((current === 0 && quiet) || zeroNow) && !preWarming;

  // 2b. Learned headroom for the lead time: capacity ordered now serves from L on, so hold
  // it for the leadQuantile of how far demand rose within L above a level like this one.
  // 2c. A recurring pattern (autocorrelation ≥ minCorrelation at a period): pre-warm for
  // what the load did one period ago over the next L, scaled by today's level; only up.
  // Both are peaks, sized at the full capacity C at the SLO: the share 1 − U kept free for
  // noise around the planned rate is not needed again on top of a learned peak.
  let peak = 0;
  let peakText = "";
  let leadLearned = false;
  if (learned && history !== undefined && !zeroAllowed) {
    const q = hs.leadQuantile ?? policy.spec.slo.targetAttainment;
    const level = lambda;
    const rise = riseQuantile(history, "lead", level, q);
    // A jump within the trend window (1.3× the oldest rate in it) is a surge, not a ramp:
    // its slope says nothing of the next L. A ramp rises all along the window (at least a
    // quarter of the rise in each half: exponential growth ×4 has a third in the first, a
    // step all of it in one), and its slope is what the next L will do.
    const before = keptArrivals[0]?.rate;
    const jumped =
      before !== undefined && isSurge(lambda, before) && !rampsUp(keptArrivals, now, lambda);
    leadLearned = rise !== undefined && (rise.atLevel || jumped);
    if (rise !== undefined && rise.ratio > 1) {
      terms.leadHeadroom = round2(rise.ratio);
      const want = Math.max(level, 1) * rise.ratio + backlogRate;
      if (want > peak) {
        peak = want;
        peakText = `lead headroom: within ${n(lead)} s demand rose to ×${n(rise.ratio)} of ${n(level)} req/s at the ${n(q * 100)}th percentile (${rise.samples} samples) → ${n(want)} req/s`;
      }
    }
    const forecast = periodicForecast(
      history,
      lead + history.shape.resolutionSeconds,
      hs.minCorrelation,
    );
    if (forecast !== undefined) {
      terms.periodSeconds = forecast.periodSeconds;
      terms.periodCorrelation = round2(forecast.r);
      terms.forecast = round2(forecast.peak);
      const want = forecast.peak;
      if (want > peak) {
        peak = want;
        peakText = `recurring every ${n(forecast.periodSeconds)} s (r ${n(forecast.r)}): one period ago the next ${n(lead)} s reached ${n(forecast.peak / forecast.scale)} req/s, ×${n(forecast.scale)} for today's level → ${n(want)} req/s`;
      }
    }
  }

  // 2. Trend: project demand L ahead, only upward; the learned lead headroom replaces it
  // once it was learned at this level (it knows how demand rises here, the slope only
  // extrapolates) or the rate jumped (a surge); on a slow ramp to a level not seen enough,
  // the trend still applies.
  const arrivals = [...keptArrivals, { at: now, rate: lambda }];
  const slope = trendSlope(arrivals, tuning.trendWindowSeconds);
  let planned = demand;
  if (slope > 0 && !leadLearned) {
    const gain = Math.min(slope * lead, tuning.trendMaxGain * Math.max(lambda, perReplica));
    planned = demand + gain;
    demandText += `; rising ${n(slope)} req/s per s, +${n(gain)} req/s in the ${n(lead)} s new capacity takes`;
  }

  // 3. Replicas from the capacity model, with the tolerance, at targetUtilization. U stays
  // even where the lead headroom was learned: C is the rate at which p99 just meets the SLO
  // (99% within), so planning at the full C misses a 99.5% target at steady load; the
  // README's fleet example fell from 99.43% to 97.76% within the SLO when it did.
  const utilization = sc.targetUtilization;
  const reactive = Math.max(replicasFor(curve, planned, utilization), delayFloor);
  let raw = reactive;
  // 3d. n replicas sharing round-robin arrivals each sustain C(n) ≥ C (the curve).
  const per = perReplicaAt(curve, Math.max(1, reactive));
  const perText =
    per === capacity
      ? `${n(capacity)} req/s`
      : `${n(per)} req/s each of ${reactive} sharing round-robin arrivals`;
  if (per !== capacity) terms.spreadCapacity = round2(per);
  parts.push(
    `${demandText}; ${n(planned)} req/s / (${perText} × ${n(sc.targetUtilization)}) → ${reactive}`,
  );
  const byPeak = peak > 0 && replicasFor(curve, peak, 1) > reactive;
  if (byPeak) {
    raw = replicasFor(curve, peak, 1);
    parts.push(`${peakText}; ${n(peak)} req/s / ${n(perReplicaAt(curve, raw))} req/s → ${raw}`);
  }
  if (clumpReplicas > 0 && ceil(clumpReplicas) > raw) {
    raw = ceil(clumpReplicas);
    terms.clumpReplicas = round2(clumpReplicas);
    parts.push(
      `clumped arrivals: queue delay above ${clumpGateText} at ${n(CLUMP_MIN_LOAD * 100)}–${n(CLUMP_MAX_LOAD * 100)}% of planned capacity needed ${n(history?.clump ?? 0)} replicas at ${n(history?.clumpRate ?? 0)} req/s to bring it to ${n(clumpTarget)} ms; now ${n(clumpReplicas)} → ${raw}`,
    );
  }
  // The tolerance is for noise around the planned rate; a learned peak, already sized at the
  // full capacity, is not rounded away (that would be a miss at the peak).
  if (current > 0 && raw !== current && !(byPeak && raw > current)) {
    const ratio = byPeak ? peak / poolAt(current) : planned / (poolAt(current) * utilization);
    if (Math.abs(ratio - 1) <= sc.tolerance) {
      parts.push(
        `within tolerance ${n(sc.tolerance)} of ${current} (${n(ratio)}): keep ${current}`,
      );
      raw = current;
    }
  }

  // 3b. A surge that history says ends before new capacity could serve: capacity ordered
  // now would land after it, so no scale-up beyond the level before it is started.
  if (learned && history !== undefined && raw > current && isSurge(lambda, history.baseline)) {
    const length = surgeLengthQuantile(history, tuning.surgeQuantile);
    if (length !== undefined && length < lead) {
      const res = history.shape.resolutionSeconds;
      const startedAt =
        history.surgeStart >= 0
          ? (history.openIndex - history.closed + history.surgeStart) * res
          : now;
      const age = Math.max(0, now - startedAt);
      if (age <= length) {
        const before = Math.max(
          current,
          replicasFor(curve, history.baseline, sc.targetUtilization),
        );
        if (before < raw) {
          terms.surgeLengthSeconds = length;
          parts.push(
            `surge for ${n(age)} s (${n(lambda)} req/s over a ${n(history.baseline)} req/s baseline); ${n(tuning.surgeQuantile * 100)}% of the last surges lasted ≤ ${n(length)} s < the ${n(lead)} s new capacity takes: not starting a scale-up that lands after it, ${raw} → ${before}`,
          );
          raw = before;
        }
      }
    }
  }

  // 4. Panic.
  const panicNow = raw >= tuning.panicThreshold * Math.max(1, ready) && raw > 0;
  const panicUntil = panicNow ? now + tuning.panicHoldSeconds : state.panicUntil;
  const panicking = panicUntil !== undefined && now < panicUntil;
  let proposal = raw;
  if (panicking) {
    proposal = Math.max(raw, current);
    parts.push(
      panicNow
        ? `panic: ${raw} ≥ ${n(tuning.panicThreshold)} × ${Math.max(1, ready)} Ready, scaling up without stabilization and not down for ${n(tuning.panicHoldSeconds)} s`
        : `panic for ${n(panicUntil - now)} s more: not scaling down`,
    );
  }

  // 7b. Part of the pool unread: its rates are an underestimate, so up only.
  if (dark > 0 && proposal < current) {
    proposal = current;
    parts.push(
      `${dark} replicas' metrics unreadable since their last scrape: the rates cover part of the pool, not scaling down`,
    );
  }

  // 4b. Scale-down that pays: a removed replica's node is paid for node linger more, and
  // bringing capacity back takes L; if demand comes back within linger + L with more than
  // 1 − downQuantile probability (learned: the downQuantile rise within that time), the
  // saving is nil and the return costs SLO misses, so that capacity stays.
  if (
    learned &&
    history !== undefined &&
    proposal < current &&
    hs.downQuantile > 0 &&
    !zeroAllowed
  ) {
    const rise = riseQuantile(history, "down", lambda, hs.downQuantile);
    if (rise !== undefined) {
      const horizon = history.shape.downBuckets * history.shape.resolutionSeconds;
      terms.downRise = round2(rise.ratio);
      const want = Math.max(lambda, 1) * rise.ratio + backlogRate;
      const keep = Math.min(current, replicasFor(curve, want, 1));
      if (keep > proposal) {
        parts.push(
          `scale-down does not pay: within ${n(horizon)} s (node linger ${n(hs.nodeLingerSeconds)} s + ${n(lead)} s to come back) demand rose to ×${n(rise.ratio)} at the ${n(hs.downQuantile * 100)}th percentile → ${n(want)} req/s, keeping ${keep}`,
        );
        proposal = keep;
      }
    }
  }

  // 5. Behavior.
  const step = normalize(seedRecommendation(state.behavior, now, current), behavior, {
    now,
    current,
    desired: proposal,
    min: 0,
    max,
    bypassScaleUpWindow: panicking,
  });
  for (const note of step.notes) parts.push(note);

  // 6. Floors, then the ceiling.
  if (preWarming) {
    parts.push(
      `pre-warm: quiet for ${n(quietFor)} s, idle gaps end from ${n(terms.preWarmSeconds ?? 0)} s + ${n(lead)} s on, not zero`,
    );
  }
  let total = step.replicas;
  const floor = Math.max(hardMin, zeroAllowed ? 0 : 1);
  if (total < floor) {
    total = floor;
    if (schedule.minReplicas === floor && schedule.minReplicas > sc.minReplicas) {
      parts.push(schedule.reason);
    } else if (sc.minReplicas === floor) {
      parts.push(`minReplicas ${floor}`);
    } else if (preWarming) {
      parts.push("pre-warming 1 replica");
    } else {
      parts.push(
        idleNow
          ? `keeping 1 replica until idle for the whole ${keepAliveName} (${n(idleFor)} of ${n(keepAlive)} s)`
          : `keeping 1 replica: not idle (${describeActivity(lambda, queued, inflight.ok ? inflight.value : undefined, notReady)})`,
      );
    }
  }
  if (total > max) {
    total = max;
    parts.push(`capped at maxReplicas ${max}`);
  }
  if (total === 0 && current > 0) {
    parts.push(
      keepAliveName === "idleWindow"
        ? `idle for ${n(idleFor)} s ≥ idleWindow ${n(sc.idleWindowSeconds)} s: scaling to zero`
        : `idle for ${n(idleFor)} s, ${keepAliveText}: scaling to zero`,
    );
  }
  parts.push(total === current ? `keep ${total}` : `${current} → ${total}`);

  return finish(
    total,
    false,
    {
      arrivals,
      ...(idleSince === undefined ? {} : { idleSince }),
      ...(quietSince === undefined ? {} : { quietSince }),
      ...(strainedAt === undefined ? {} : { strainedAt }),
      ...(panicUntil === undefined ? {} : { panicUntil }),
      ...(history === undefined ? {} : { history }),
    },
    step.state,
  );
}

/** A term's value for `ScalingDecision.terms`: 2 decimals. */
function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * Clumping is learned only below this share of the Ready replicas' planned capacity, where
 * Poisson arrivals queue well under clumpDelaySloShare of the SLO (simulated: 6.6 ms of
 * 100 ms at 80%), so a slow queue there is the arrivals' doing, not the load's.
 */
const CLUMP_MAX_LOAD = 0.8;
/**
 * ... and only above this share: a queue seen while the rate window is mostly idle is the
 * tail of a busy spell, and a rate that low would scale the learned need up too far.
 */
const CLUMP_MIN_LOAD = 0.2;

/** Seconds after the pool was last strained before queueing counts as evidence of clumps. */
const CALM_SECONDS = 120;

/** Per-replica capacity when `k` replicas (at least 1) share round-robin arrivals. */
function perReplicaAt(curve: readonly number[], k: number): number {
  return curve[Math.min(Math.max(1, k), curve.length) - 1]!;
}

/** What `k` replicas sustain together within the SLO: k × C(k); 0 for none. */
function poolCapacity(curve: readonly number[], k: number): number {
  return k > 0 ? k * perReplicaAt(curve, k) : 0;
}

/**
 * The fewest replicas whose capacity, used to the share `u`, covers `rate`: the least n with
 * n × C(n) × u ≥ rate (0 for no rate). With one capacity C for every n that is
 * ceil(rate / (C × u)); with the curve 14.2, 23.9, 28.2, 30.5 req/s and u = 0.85, 60 req/s
 * needs 3 (3 × 28.2 × 0.85 = 71.9; 2 × 23.9 × 0.85 = 40.6 is short), where 14.2 alone
 * would say ceil(60 / 12.07) = 5.
 */
function replicasFor(curve: readonly number[], rate: number, u: number): number {
  if (!(rate > 0)) return 0;
  for (let k = 1; k <= curve.length; k++) {
    if (k * curve[k - 1]! * u >= rate - 1e-9) return k;
  }
  return Math.max(curve.length + 1, ceil(rate / (curve[curve.length - 1]! * u)));
}

/** ceil that ignores floating-point dust (3.0000000001 → 3). */
function ceil(x: number): number {
  return Math.ceil(x - 1e-9);
}

/**
 * Least-squares slope of the arrival rate (req/s per s) over the samples, or 0 with fewer
 * than 3 samples or a span under half the window.
 */
function trendSlope(samples: readonly RatePoint[], windowSeconds: number): number {
  if (samples.length < 3) return 0;
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  if (last.at - first.at < windowSeconds / 2) return 0;
  const mt = samples.reduce((a, s) => a + s.at, 0) / samples.length;
  const mr = samples.reduce((a, s) => a + s.rate, 0) / samples.length;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.at - mt) * (s.rate - mr);
    den += (s.at - mt) ** 2;
  }
  return den > 0 ? num / den : 0;
}

function describeActivity(
  lambda: number,
  queued: number,
  inflight: number | undefined,
  notReady: number,
): string {
  const out: string[] = [];
  if (lambda > 0) out.push(`arrivals ${n(lambda)} req/s`);
  if (queued > 0) out.push(`${n(queued)} pending`);
  if (inflight !== undefined && inflight > 0) out.push(`${n(inflight)} inflight`);
  if (notReady > 0) out.push(`${notReady} replicas starting`);
  return out.join(", ");
}

/**
 * Whether the rise over the trend window is a ramp, not a step: each half of the window
 * (split at the sample nearest to its middle) made at least a quarter of the rise from the
 * oldest sample to now. Exponential growth ×k over the window makes 1 / (√k + 1) of it in
 * the first half (×4: a third; ×16: a fifth, so a rise of more than ×9 in one window reads
 * as a step); a step makes all of it in one half, whether it still rises or has levelled.
 * And 3 in 4 of the successive samples (now included) go up: a level reached by a step,
 * read through noise, goes up about half the time.
 */
export function rampsUp(
  kept: readonly { readonly at: number; readonly rate: number }[],
  now: number,
  rate: number,
): boolean {
  const first = kept[0];
  if (first === undefined || kept.length < 2) return false;
  const middle = (first.at + now) / 2;
  let mid = first;
  for (const s of kept) if (Math.abs(s.at - middle) < Math.abs(mid.at - middle)) mid = s;
  const rise = rate - first.rate;
  if (!(rise > 0 && mid.rate - first.rate >= 0.25 * rise && rate - mid.rate >= 0.25 * rise)) {
    return false;
  }
  // And it rises step after step: at least 3 in 4 of the successive samples go up (noise
  // around a level reached by a step goes up about half the time).
  let ups = 0;
  let prev = first.rate;
  for (let i = 1; i <= kept.length; i++) {
    const v = i < kept.length ? kept[i]!.rate : rate;
    if (v > prev) ups++;
    prev = v;
  }
  return ups >= 0.75 * kept.length;
}

/** The largest `maxQueueDelayMicroseconds` of the pool's models, in milliseconds. */
function maxQueueDelayMs(policy: Policy): number {
  let us = 0;
  for (const m of policy.spec.models) us = Math.max(us, m.batching?.maxQueueDelayMicroseconds ?? 0);
  return us / 1000;
}

/**
 * Mean queue time, in milliseconds, of Poisson arrivals at `rate` req/s on one replica whose
 * batches take `batchMs` and hold `batchSize` requests on average, with the batcher's
 * `maxDelayMs`. The replica is busy a share u = min(1, rate × batchMs / batchSize) of the
 * time; a Poisson arrival sees that share (PASTA): finding it idle it waits up to the
 * batcher's delay, finding it busy the longer of that delay and the running batch's residual
 * (uniform over a near-constant batch time: E[max(D, U × S)] = S / 2 + D² / 2S). Measured
 * on the example pool (random routing, Poisson share per replica): the observed mean queue
 * delay is 0.87–1.13 of this at 10–87% of the planned load; 40-frame clumps read 1.4–3.4 of it.
 */
export function poissonQueueMs(
  rate: number,
  batchMs: number,
  batchSize: number,
  maxDelayMs: number,
): number {
  if (!(batchMs > 0) || !(rate > 0)) return maxDelayMs;
  const u = Math.min(1, (rate * batchMs) / Math.max(1, batchSize) / 1000);
  const busy = maxDelayMs >= batchMs ? maxDelayMs : batchMs / 2 + maxDelayMs ** 2 / (2 * batchMs);
  return (1 - u) * maxDelayMs + u * busy;
}
