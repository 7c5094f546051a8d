import type { Policy, ScalerName } from "../policy/index.js";
import { createFallbackScaler } from "./fallback.js";
import { createHpaScaler, HPA_GPU } from "./hpa.js";
import { createKedaScaler, KEDA_QUEUE } from "./keda.js";
import { createTritonscaleScaler } from "./tritonscale.js";
import type { Scaler, ScalerFactory, ScalerOptions } from "./types.js";

/**
 * Every scaling algorithm by name: the two baselines, the rendered fallback trigger and
 * tritonscale. Adding one is one
 * file, one test, its name in policy's `SCALERS` and one entry here. The names are the
 * policy's: an entry missing or not in `SCALERS` is a compile error. The entries' order is
 * the order of reports (baselines first).
 */
export const scalers = {
  /** Kubernetes HPA on mean GPU utilization of Ready replicas, target 0.70, HPA defaults. */
  "hpa-gpu": (policy) => createHpaScaler(policy, HPA_GPU),
  /** KEDA ScaledObject on pending requests, 4 per replica, activation above 0, KEDA defaults. */
  "keda-queue": (policy) => createKedaScaler(policy, KEDA_QUEUE),
  /**
   * The pool's rendered KEDA prometheus trigger on queue time, with the external trigger
   * down: what the pool does while the controller is unreachable (scale-ups only).
   */
  fallback: (policy) => createFallbackScaler(policy),
  /** tritonscale's capacity model at the SLO (needs options.capacityPerReplica). */
  tritonscale: (policy, options) => createTritonscaleScaler(policy, options),
} satisfies Record<ScalerName, ScalerFactory>;

/** Whether `name` is a registered scaler (one a ModelPool may name). */
export function isScalerName(name: string): name is ScalerName {
  return Object.hasOwn(scalers, name);
}

/**
 * Creates the scaler registered as `name`, bound to a pool's policy. Throws for an unknown
 * name, listing the valid ones:
 * `unknown scaler "hpa": must be one of "hpa-gpu", "keda-queue", "fallback", "tritonscale"`.
 * A changed pool gets a new scaler; pass it the old one's last state.
 */
export function createScaler(name: string, policy: Policy, options: ScalerOptions = {}): Scaler {
  if (!isScalerName(name)) {
    const valid = Object.keys(scalers)
      .map((s) => JSON.stringify(s))
      .join(", ");
    throw new Error(`unknown scaler ${JSON.stringify(name)}: must be one of ${valid}`);
  }
  return scalers[name](policy, options);
}
