import type { Policy } from "../policy/index.js";
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
 *   simulated cluster, as KEDA and the HPA would apply them to the Deployments.
 */

/** The three ports of one simulated pool. */
export interface SimulatedPorts {
  readonly metrics: MetricsSource;
  readonly cluster: ClusterPort;
  /** Applies each decision of the pool to the simulated cluster. */
  readonly actuator: DecisionSink;
}

/**
 * Ports over `run`, the simulation of the pool `pool`; `epoch`: the clock's time at the
 * run's time 0 (a number, or read at each call, for a caller that starts the run later).
 */
export function createSimulatedPorts(
  run: SimulationRun,
  pool: PoolRef,
  epoch: number | (() => number),
): SimulatedPorts {
  const epochOf = typeof epoch === "number" ? () => epoch : epoch;
  const key = poolKey(pool);
  const check = (policy: Policy): void => {
    const asked = poolKey({ namespace: policy.metadata.namespace, name: policy.metadata.name });
    if (asked !== key) throw new Error(`the simulated cluster runs pool ${key} only, not ${asked}`);
  };
  const advance = (now: number): void => {
    run.advanceTo(now - epochOf());
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
  };
}
