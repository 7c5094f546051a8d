/**
 * How the HPA that KEDA creates turns the external scaler's answer into replicas, so the
 * answer can be chosen to land on the controller's decision.
 *
 * The tritonscale trigger has metricType AverageValue. KEDA hands the HPA an External
 * metric with target averageValue = targetSize, both converted to milli-units by truncation
 * (`int64(x * 1000)`, external_scaler.go: GetMetricTargetMili, GenerateMetricInMili). The
 * HPA (replica_calculator.go, GetExternalPerPodMetricReplicas) then computes, with c the
 * Deployment's status.replicas:
 *
 *   ratio   = usage / (target × c)
 *   desired = c                       when 1 − toleranceDown ≤ ratio ≤ 1 + toleranceUp
 *           = ceil(usage / target)    otherwise
 *
 * We answer targetSize = 1 and metricValue = D, the decision's replicas for that
 * Deployment, so ceil(usage / target) = ceil(D / 1) = D: whenever the HPA moves, it moves
 * to D. Examples: c = 4, D = 7 → ratio 1.75 → 7; c = 6, D = 2 → ratio 0.33 → 2.
 *
 * The tolerance (10% cluster-wide by default, `--horizontal-pod-autoscaler-tolerance`) is
 * where it can differ. Below 10 replicas a change of one is always more than 10% (c = 9,
 * D = 10 → ratio 1.111 > 1.1), so every decision lands. From 10 replicas up, a decision
 * with 0.9·c ≤ D ≤ 1.1·c leaves the HPA at c: it may sit up to ⌊c / 10⌋ replicas away
 * from the decision, either way (c = 10: D = 9 or 11 stays 10, since the ratios 0.9 and 1.1
 * are on the band's edges and the band is closed; c = 20: 18 … 22 stay 20; c = 100: 90 …
 * 110 stay 100). A changed metric value cannot close it: ceil(usage / target) = D needs
 * usage / target in (D − 1, D], and then the ratio is inside the band whenever D / c is.
 *
 * Where the cluster allows, the gap is closed by the HPA's own tolerance:
 * `behavior.scaleUp/scaleDown.tolerance` (Kubernetes ≥ 1.33, feature gate
 * HPAConfigurableTolerance; KEDA passes `advanced.horizontalPodAutoscalerConfig.behavior`
 * through), rendered from `spec.scaling.keda.hpaTolerance`. With 0 the band is ratio = 1
 * exactly, i.e. D = c, so the HPA lands on every decision (c = 100, D = 101 → ratio 1.01 →
 * 101). Our own decision already applies the pool's `scaling.tolerance`, so nothing flaps.
 * Without the feature gate the API server drops the field and the 10% gap stays.
 */

import { HPA_DEFAULT_TOLERANCE } from "../scaling/hpa.js";

/** The HPA's tolerance band, per direction (fractions: 0.1 is 10%). */
export interface HpaTolerance {
  readonly up: number;
  readonly down: number;
}

/** The cluster-wide default: 10% both ways. */
export const DEFAULT_HPA_TOLERANCE: HpaTolerance = {
  up: HPA_DEFAULT_TOLERANCE,
  down: HPA_DEFAULT_TOLERANCE,
};

/** One HPA evaluation of an External AverageValue metric served by KEDA. */
export interface HpaExternalInput {
  /** The Deployment's status.replicas (≥ 1: the HPA does not act at 0, KEDA does). */
  readonly current: number;
  /** The value the external scaler answered (GetMetrics). */
  readonly metricValue: number;
  /** The target it answered (GetMetricSpec). */
  readonly targetSize: number;
  /** @default DEFAULT_HPA_TOLERANCE */
  readonly tolerance?: HpaTolerance;
}

/**
 * The replicas the HPA proposes for one External AverageValue metric, with KEDA's
 * milli-unit truncation and the HPA's arithmetic (in float64, as Go does), before its
 * behavior (stabilization, rate limits) and min/max.
 */
export function hpaExternalReplicas(input: HpaExternalInput): number {
  if (!(Number.isInteger(input.current) && input.current >= 1)) {
    throw new RangeError(`current replicas must be an integer >= 1. Received: ${input.current}`);
  }
  const t = input.tolerance ?? DEFAULT_HPA_TOLERANCE;
  const usage = Math.trunc(input.metricValue * 1000);
  const target = Math.trunc(input.targetSize * 1000);
  const ratio = usage / (target * input.current);
  if (1 - t.down <= ratio && ratio <= 1 + t.up) return input.current;
  return Math.ceil(usage / target);
}
