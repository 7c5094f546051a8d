/**
 * A pool's capacity per replica at its SLO, per model and mixed: one implementation, in the
 * pure core (simulate/pool-capacity.ts), shared by the live loop and `simulate`.
 */
export * from "../simulate/pool-capacity.js";
