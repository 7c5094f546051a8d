import { formatNumber, readSignal, type Signal } from "../scaling/types.js";
import type { LatencyProfile } from "../simulate/profile.js";

/**
 * Live correction of a latency profile from what the GPUs are observed to do (pure, no
 * clock). A profile is a measurement on some GPU, or the default assumption; the pool's
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
 * The profile predicts `computeMs(n̄) × share`, where `share` is the number of model
 * instances computing at once on the GPU as the simulator models it (simulate/setup.ts:
 * k instances computing together each take k times as long): per replica, Little's law gives
 * the instances busy on average, L = batches per second per ready replica × observed batch
 * time, and share = L clamped to [1, instances] (1 with one instance, the default).
 *
 * The ratio r = observed / predicted, clamped to [minFactor, maxFactor] so one wild reading
 * moves the factor little, enters an exponentially weighted mean of logarithms (a ratio
 * and its inverse weigh the same): ln F ← (1 − w)·ln F + w·ln r, F starting at 1. F stays
 * within [minFactor, maxFactor] (0.5×–2× by default): beyond that the profile is wrong, not
 * drifting, and wants a new measurement (tune --write), not a silent correction.
 *
 * An observation is used only when both signals are present and fresh (not older than the
 * pool's staleAfter), the window holds at least `minBatches` batches and the batch size is
 * at least 1; otherwise F stays as it is (no data is not evidence of a change).
 *
 * The capacity is recomputed (a bisection, a few hundred ms) only when F moved a whole step
 * (1/16 of a doubling, 4.4%) away from the factor it was last computed with, which is then
 * set to the nearest step 2^(k/16): the scaler sees a stable capacity while F wanders inside
 * a step, and at most 33 distinct capacities exist per profile (memoized by the loop).
 *
 * Known biases, both small and bounded by the clamp: the observed time is the infer phase
 * only (Triton's compute input and output copies are not in compute_infer_duration_us,
 * while a measured profile includes them), which reads a little fast; and the
 * request-weighted batch time exceeds the time of the mean batch when batch sizes vary
 * (Σn·t(n)/Σn ≥ t(n̄) for a time that grows with n), which reads a little slow, i.e. errs
 * towards more replicas.
 *
 * Worked example (profile linear:a=4,b=2.2, one instance, w = 0.2): the window shows batches
 * of n̄ = 6 taking 21.5 ms where the profile predicts 4 + 2.2 × 6 = 17.2 ms, r = 1.25.
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
}

/** The defaults of {@link CorrectionSettings}. */
export const DEFAULT_CORRECTION: CorrectionSettings = {
  weight: 0.2,
  minFactor: 0.5,
  maxFactor: 2,
  minBatches: 100,
  stepsPerDoubling: 16,
};

/** What the correction remembers between observations. */
export interface CorrectionState {
  /** The weighted mean of observed / predicted, within [minFactor, maxFactor]; 1 at first. */
  readonly factor: number;
  /** The factor the capacity was last computed with: a step 2^(k/steps); 1 at first. */
  readonly applied: number;
  /** Observations used so far. */
  readonly observations: number;
}

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
  /** Batches executed per second per ready replica, for the instances' sharing. */
  readonly batchesPerSecondPerReplica?: number;
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
  /** Model instances per GPU (`spec.models[].instances`). */
  readonly instances: number;
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
  const perReplica = observation.batchesPerSecondPerReplica;
  const busy =
    perReplica !== undefined && Number.isFinite(perReplica) ? (perReplica * ms.value) / 1000 : 1;
  const share = Math.min(Math.max(1, model.instances), Math.max(1, busy));
  const predicted = model.profile.computeMs(n.value) * share;
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
    state: { factor, applied, observations: state.observations + 1 },
    used: true,
    why: `observed ${formatNumber(ms.value)} ms per batch of ${formatNumber(n.value)} / predicted ${formatNumber(predicted)} ms = ${formatNumber(ratio)}; factor ${formatNumber(factor)}, applied ${formatNumber(applied)}`,
  };
}
