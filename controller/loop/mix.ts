/**
 * The mix of a pool of several models (shares, C_mix = 1 / Σ (w_i / C_i), per-model
 * windows): one implementation, in the pure core (simulate/pool-mix.ts), so that the live
 * loop and `simulate` weigh a pool's models the same way.
 */
export * from "../simulate/pool-mix.js";
