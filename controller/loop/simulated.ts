import type { Policy } from "../policy/index.js";
import type { ByCapacity } from "../scaling/types.js";
import type { SimulationRun } from "../simulate/engine.js";
import {
  type ClusterPort,
  type DecisionSink,
  type MetricsSource,
  type PoolDecision,
  type PoolRef,
  poolKey,
} from "./ports.js";

/**
 * The in-memory edge: a simulated pool (simulate/engine.ts {@link SimulationRun}) behind the
 * loop's ports, for `demo` and tests. Each port first advances the simulation to the time
 * it is asked about (the loop's clock minus `epoch`, the clock time of the run's start), so
 * the simulated cluster and Triton replicas move exactly as far as the loop's clock, however
 * fast that runs:
 *
 * - {@link MetricsSource}: one scrape round of the replicas' Triton counters, as
 *   simulate/observe.ts records them (the simulated front door included);
 * - {@link ClusterPort}: the cluster's replica counts;
 * - an actuator ({@link DecisionSink}): applies each decision's desired replicas to the
 *   simulated cluster as they are, an ideal actuator; `demo` moves the cluster with
 *   {@link SimulatedPorts.actuate} instead, to where KEDA and the HPA would land
 *   (keda/landing.ts).
 */

/** The three ports of one simulated pool. */
export interface SimulatedPorts {
  readonly metrics: MetricsSource;
  readonly cluster: ClusterPort;
  /** Applies each decision's desired replicas to the simulated cluster. */
  readonly actuator: DecisionSink;
  /** Sets the simulated Deployments' replicas at `at` (the loop's clock), for `reason`. */
  actuate(at: number, replicas: ByCapacity, reason: string): void;
}

/**
 * Ports over `run`, the simulation of the pool `pool`; `epoch`: the clock's time at the
 * run's time 0 (a number, or read at each call, for a caller that starts the run later).
 * `untilSeconds`: the run is never advanced past this simulated time (`demo --duration`: a
 * reconcile that comes late on a busy machine must not run the simulation beyond it).
 */
export function createSimulatedPorts(
  run: SimulationRun,
  pool: PoolRef,
  epoch: number | (() => number),
  untilSeconds = Number.POSITIVE_INFINITY,
): SimulatedPorts {
  const epochOf = typeof epoch === "number" ? () => epoch : epoch;
  const key = poolKey(pool);
  const check = (policy: Policy): void => {
    const asked = poolKey({ namespace: policy.metadata.namespace, name: policy.metadata.name });
    if (asked !== key) throw new Error(`the simulated cluster runs pool ${key} only, not ${asked}`);
  };
  const advance = (now: number): void => {
    run.advanceTo(Math.min(now - epochOf(), untilSeconds));
  };
  return {
    metrics: {
      async collect(policy, now) {
        check(policy);
        advance(now);
        return run.scrape(epochOf());
      },
    },
    cluster: {
      async replicas(policy, now) {
        check(policy);
        advance(now);
        return run.replicaCounts();
      },
    },
    actuator: {
      publish(d: PoolDecision) {
        if (poolKey(d.pool) !== key) return;
        advance(d.at);
        run.reconcile(d.decision.desired, d.decision.reason);
      },
    },
    actuate(at, replicas, reason) {
      advance(at);
      run.reconcile(replicas, reason);
    },
  };
}
