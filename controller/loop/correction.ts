import { formatNumber, readSignal, type Signal } from "../scaling/types.js";
import { createScaledProfile, type LatencyProfile } from "../simulate/profile.js";
import { type BatcherSettings, Replica } from "../simulate/replica.js";
import { createRng } from "../simulate/rng.js";
import { createServiceTime } from "../simulate/setup.js";

/**
 * Live correction of a latency profile from what the GPUs are observed to do (pure and
 * deterministic: no clock, no I/O). A profile is a measurement on some GPU, or the default assumption; the pool's
 * replicas may run faster or slower (another GPU model, clocks, a changed model file). The
 * control loop feeds every reconcile's observation here and computes the capacity at the
 * SLO from the profile scaled by the correction factor, so the scaler divides demand by
 * what the replicas really sustain.
 *
 * One observation (scaling/window.ts over the rate window) gives:
 * - `computeMsPerBatch` = Σ Δcompute_infer_duration_us / Σ Δrequest_success: Triton charges
 *   every request of a batch the batch's time, so this is the mean batch time weighted by
 *   the requests in each batch;
 * - `batchSize` n̄ = Σ Δinference_count / Σ Δexec_count, the mean batch size;
 * - the batches executed, Σ Δexec_count (how much the two rest on).
 *
 * The profile predicts `computeMs(n̄) × κ`. κ turns the time of the mean batch into what
 * Triton's counters show, and comes from the batcher model simulate runs (simulate/replica.ts,
 * the pool model's dynamic batcher, the profile as corrected so far, the observed arrival
 * rate spread over the ready replicas as the pool's `spec.scaling.loadBalancing` says and
 * the simulator spreads it: round robin, each replica seeing every k-th request of a
 * Poisson stream; random, each a Poisson share, as one replica alone, {@link spreadReplicas}): κ = (request-weighted mean batch
 * time) / computeMs(mean batch) in that simulation. It holds two effects the plain profile does not:
 * - batch sizes vary, and a larger batch weighs more in a request-weighted mean, so
 *   Σn·t(n)/Σn ≥ t(n̄) (at 300 req/s on one instance of linear:a=4,b=2.2, max batch 16,
 *   delay 2 ms: 14.5 ms against t(3.6) = 12.0 ms, κ = 1.21);
 * - several instances on one GPU compute at the same time and each batch takes that many
 *   times as long (simulate/setup.ts); with two instances at 100 req/s, κ = 1.6.
 * Without κ a replica exactly as fast as its profile would read up to 1.6 times slow.
 *
 * The ratio r = observed / predicted (the factor this observation alone would give), clamped
 * to [minFactor, maxFactor] so one wild reading moves the factor little, enters an
 * exponentially weighted mean of logarithms (a ratio and its inverse weigh the same):
 * ln F ← (1 − w)·ln F + w·ln r, F starting at 1. F stays within [minFactor, maxFactor]
 * (0.5×–2× by default): beyond that the profile is wrong, not drifting, and wants a new
 * measurement (tune --write), not a silent correction.
 *
 * An observation is used only when both signals are present and fresh (not older than the
 * pool's staleAfter), the window holds at least `minBatches` batches, the batch size is at
 * least 1 and the arrival rate per ready replica is known; otherwise F stays as it is (no
 * data is not evidence of a change). κ's simulation (`probeRequests` requests, seed 1, 1 to
 * 20 ms) is deterministic, and is reused while the rate per replica stays within 5%, the
 * ready replicas the same and the factor within 1% of what it was simulated at.
 *
 * The capacity is recomputed (a bisection, a few hundred ms) only when F moved a whole step
 * (1/16 of a doubling, 4.4%) away from the factor it was last computed with, which is then
 * set to the nearest step 2^(k/16): the scaler sees a stable capacity while F wanders inside
 * a step, and at most 33 distinct capacities exist per profile (memoized by the loop).
 *
 * Known biases, bounded by the clamp: the observed time is the infer phase only (Triton's
 * compute input and output copies are not in compute_infer_duration_us, while a measured
 * profile includes them), which reads a little fast; and κ assumes Poisson arrivals spread
 * as the pool declares: a pool declared `roundRobin` whose requests in fact reach replicas at
 * random sees burstier streams, more uneven batches and a larger true κ, and reads slow
 * (more replicas: the safe side; at 200 req/s on each of 3 replicas, by about 7%), while
 * traffic steadier than Poisson (cameras at a fixed rate)
 * reads a little fast. Through the simulator's own pipeline it reads the truth within 5%
 * (test/loop/correction-sim.test.ts).
 *
 * Worked example (profile linear:a=4,b=2.2, w = 0.2; κ = 1, as for one instance whose
 * batches are all of one size, to keep the numbers plain): the window shows batches of
 * n̄ = 6 taking 21.5 ms where the profile predicts 4 + 2.2 × 6 = 17.2 ms, r = 1.25.
 * ln F = 0.8 × 0 + 0.2 × ln 1.25 = 0.0446, F = 1.046; log2 F = 0.064 ≥ 1/16, so the applied
 * factor becomes 2^(1/16) = 1.044 and the capacity is recomputed with every batch 4.4% slower.
 * The same reading again: F = 1.25^(1 − 0.8²) = 1.084, within a step of 1.044, which stays;
 * a third: F = 1.115, more than a step away, applied 2^(3/16) = 1.139 (the nearest step);
 * after ten, F = 1.25^(1 − 0.8¹⁰) = 1.220 and applied 2^(4/16) = 1.189; F nears 1.25 and
 * applied settles at 2^(5/16) = 1.242. A reading of r = 3 counts as 2.
 */

/** How the correction reads observations. */
export interface CorrectionSettings {
  /** Weight of each new observation in the mean of logarithms, in (0, 1]. @default 0.2 */
  readonly weight: number;
  /** The smallest factor (observations faster than this count as this). @default 0.5 */
  readonly minFactor: number;
  /** The largest factor. @default 2 */
  readonly maxFactor: number;
  /** Batches the window must hold for an observation to count. @default 100 */
  readonly minBatches: number;
  /** Steps of the applied factor per doubling. @default 16 */
  readonly stepsPerDoubling: number;
  /** Requests simulated to find κ (0: κ = 1, the plain profile). @default 20000 */
  readonly probeRequests: number;
}

/** The defaults of {@link CorrectionSettings}. */
export const DEFAULT_CORRECTION: CorrectionSettings = {
  weight: 0.2,
  minFactor: 0.5,
  maxFactor: 2,
  minBatches: 100,
  stepsPerDoubling: 16,
  probeRequests: 20_000,
};

/** What the correction remembers between observations. */
export interface CorrectionState {
  /** The weighted mean of observed / predicted, within [minFactor, maxFactor]; 1 at first. */
  readonly factor: number;
  /** The factor the capacity was last computed with: a step 2^(k/steps); 1 at first. */
  readonly applied: number;
  /** Observations used so far. */
  readonly observations: number;
  /** The last κ and what it was computed at, reused while the load and factor hold. */
  readonly kappa?: KappaMemo;
}

/** A κ and the rate per replica, replicas and factor it was simulated at. */
export interface KappaMemo {
  readonly value: number;
  readonly rate: number;
  readonly replicas: number;
  readonly factor: number;
}

/** κ is simulated again when the rate per replica moved by more than this fraction. */
const KAPPA_RATE_TOLERANCE = 0.05;
/** ... or the factor by more than this fraction. */
const KAPPA_FACTOR_TOLERANCE = 0.01;

/** The state before any observation: the profile as it is. */
export const INITIAL_CORRECTION: CorrectionState = { factor: 1, applied: 1, observations: 0 };

/** One reconcile's view of the batches, from the window and the cluster. */
export interface CorrectionObservation {
  /** Request-weighted mean compute time per batch, ms (window.ts). */
  readonly computeMsPerBatch?: Signal;
  /** Mean batch size (window.ts). */
  readonly batchSize?: Signal;
  /** Batches executed over the window (Σ Δexec_count). */
  readonly executedBatches: number;
  /** Requests per second arriving at each ready replica (the arrival rate / ready replicas). */
  readonly ratePerReplica?: number;
  /** Ready replicas the arrivals are spread over, round-robin. @default 1 */
  readonly readyReplicas?: number;
}

/** What one observation did. */
export interface CorrectionStep {
  readonly state: CorrectionState;
  /** Whether the observation was used. */
  readonly used: boolean;
  /** For logs: the ratio and the new factor, or why the observation was not used. */
  readonly why: string;
}

/** The model an observation is compared with. */
export interface CorrectionModel {
  /** The uncorrected profile. */
  readonly profile: LatencyProfile;
  /** The model's dynamic batcher (simulate/setup.ts `batcherSettings`), for κ. */
  readonly batcher: BatcherSettings;
}

/**
 * The replicas a pool's arrivals are spread over round-robin, for κ
 * ({@link CorrectionObservation.readyReplicas}): the ready replicas where the pool says a
 * proxy balances each request (`spec.scaling.loadBalancing: roundRobin`), else 1: with
 * `random` each replica gets a Poisson share, a stream like one replica's alone.
 */
export function spreadReplicas(
  policy: { readonly spec: { readonly scaling: { readonly loadBalancing: string } } },
  ready: number,
): number {
  return policy.spec.scaling.loadBalancing === "roundRobin" ? ready : 1;
}

/** Replicas beyond which round-robin arrivals are taken as this many (nearly even already). */
const MAX_SPREAD = 32;

/**
 * κ: Triton's request-weighted compute time per batch over the time of the mean batch, on
 * one replica of the batcher model receiving `rate` requests per second as every
 * `replicas`-th request of a Poisson stream (see the module comment). 1 when nothing was
 * batched.
 */
export function batchTimeSpread(
  batcher: BatcherSettings,
  profile: LatencyProfile,
  rate: number,
  requests: number,
  replicas = 1,
): number {
  if (!(rate > 0 && Number.isFinite(rate)) || requests <= 0) return 1;
  const replica = new Replica(
    { ...batcher, maxQueueSize: 0, queueTimeoutSeconds: 0 },
    createServiceTime(profile),
    { complete: () => {} },
    0,
  );
  const rng = createRng(1).fork("correction");
  const k = Math.min(MAX_SPREAD, Math.max(1, Math.round(replicas)));
  let t = 0;
  for (let i = 0; i < requests; i++) {
    for (let j = 0; j < k; j++) t += rng.exponential(rate * k);
    replica.enqueue(t, t);
    if ((i & 1023) === 1023) replica.advance(t);
  }
  replica.advance(Number.POSITIVE_INFINITY);
  const c = replica.counters;
  if (c.batches === 0 || c.completed === 0) return 1;
  const weighted = (c.computeRequestSeconds / c.completed) * 1000;
  const mean = profile.computeMs(c.completed / c.batches);
  return mean > 0 ? weighted / mean : 1;
}

/** The nearest step 2^(k/steps) to `factor`. */
export function stepOf(factor: number, stepsPerDoubling: number): number {
  return 2 ** (Math.round(Math.log2(factor) * stepsPerDoubling) / stepsPerDoubling);
}

/**
 * Folds one observation into the correction (see the module comment for the maths and a
 * worked example). Pure.
 */
export function observeCorrection(
  state: CorrectionState,
  observation: CorrectionObservation,
  model: CorrectionModel,
  staleAfterSeconds: number,
  settings: CorrectionSettings = DEFAULT_CORRECTION,
): CorrectionStep {
  const skip = (why: string): CorrectionStep => ({ state, used: false, why });
  const ms = readSignal("compute per batch", observation.computeMsPerBatch, staleAfterSeconds);
  if (!ms.ok) return skip(ms.why);
  const n = readSignal("batch size", observation.batchSize, staleAfterSeconds);
  if (!n.ok) return skip(n.why);
  if (observation.executedBatches < settings.minBatches) {
    return skip(
      `${formatNumber(observation.executedBatches)} batches in the window < ${settings.minBatches}`,
    );
  }
  if (!(n.value >= 1) || !(ms.value > 0)) {
    return skip(
      `no batch to compare (batch size ${formatNumber(n.value)}, ${formatNumber(ms.value)} ms)`,
    );
  }
  const rate = observation.ratePerReplica;
  if (rate === undefined || !(rate > 0 && Number.isFinite(rate))) {
    return skip("arrival rate per ready replica unknown");
  }
  const replicas = observation.readyReplicas ?? 1;
  const memo = state.kappa;
  const kappa =
    memo !== undefined &&
    memo.replicas === replicas &&
    Math.abs(Math.log(rate / memo.rate)) <= KAPPA_RATE_TOLERANCE &&
    Math.abs(Math.log(state.factor / memo.factor)) <= KAPPA_FACTOR_TOLERANCE
      ? memo.value
      : batchTimeSpread(
          model.batcher,
          createScaledProfile(model.profile, state.factor),
          rate,
          settings.probeRequests,
          replicas,
        );
  const kappaMemo: KappaMemo =
    memo !== undefined && kappa === memo.value
      ? memo
      : { value: kappa, rate, replicas, factor: state.factor };
  const predicted = model.profile.computeMs(n.value) * kappa;
  if (!(predicted > 0 && Number.isFinite(predicted))) {
    return skip(`the profile predicts ${predicted} ms for a batch of ${formatNumber(n.value)}`);
  }
  const ratio = ms.value / predicted;
  const bounded = Math.min(settings.maxFactor, Math.max(settings.minFactor, ratio));
  const w = settings.weight;
  const factor = Math.exp((1 - w) * Math.log(state.factor) + w * Math.log(bounded));
  const steps = settings.stepsPerDoubling;
  const moved = Math.abs(Math.log2(factor) - Math.log2(state.applied)) >= 1 / steps - 1e-12;
  const applied = moved ? stepOf(factor, steps) : state.applied;
  return {
    state: { factor, applied, observations: state.observations + 1, kappa: kappaMemo },
    used: true,
    why: `observed ${formatNumber(ms.value)} ms per batch of ${formatNumber(n.value)} / predicted ${formatNumber(predicted)} ms (κ ${formatNumber(kappa)}) = ${formatNumber(ratio)}; factor ${formatNumber(factor)}, applied ${formatNumber(applied)}`,
  };
}
