/**
 * The scaling core: pure, deterministic scaling algorithms behind one {@link Scaler}
 * interface (HPA and KEDA baselines, tritonscale), the HPA behavior they share, cron
 * schedules and the Spot / on-demand split.
 */
export * from "./behavior.js";
export * from "./fallback.js";
export * from "./history.js";
export * from "./hpa.js";
export * from "./keda.js";
export * from "./registry.js";
export * from "./samples.js";
export * from "./schedule.js";
export * from "./spot.js";
export * from "./tritonscale.js";
export * from "./types.js";
export * from "./window.js";
