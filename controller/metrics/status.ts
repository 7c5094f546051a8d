import { type DecisionSink, type PoolDecision, type PoolRef, poolKey } from "../loop/ports.js";
import type { ByCapacity } from "../scaling/types.js";
import type { ReasonClass } from "./names.js";
import { classifyDecision } from "./reason-class.js";

/**
 * The last decision of every pool, as JSON for `GET /status` on the health port: what the
 * `--pools DIR` mode (no custom resources, so no status subresource) shows instead of a
 * ModelPool's status.
 */

/** One pool's entry in `/status`. */
export interface PoolStatus {
  readonly namespace: string;
  readonly name: string;
  /** Seconds on the loop's clock (Unix time live). */
  readonly at: number;
  readonly scaler: string;
  readonly desired: ByCapacity;
  readonly previous: ByCapacity;
  readonly active: boolean;
  readonly held: boolean;
  readonly reasonClass: ReasonClass;
  readonly reason: string;
  /** Replicas by lifecycle and capacity type, as the decision saw them. */
  readonly replicas: {
    readonly ready: ByCapacity;
    readonly starting: ByCapacity;
    readonly pending: ByCapacity;
  };
  /** Requests per second one replica sustains at the SLO, per model. */
  readonly capacityPerReplica: Readonly<Record<string, number>>;
  /**
   * What the scaler divided demand by: one replica's capacity for the models' mix,
   * 1 / Σ (share / capacity), the shares and where they came from (`traffic`, `equal`).
   */
  readonly mix?: PoolDecision["mix"];
}

/** The document `GET /status` answers. */
export interface StatusDocument {
  /** Pools sorted by namespace, then name. */
  readonly pools: readonly PoolStatus[];
}

/** A DecisionSink that keeps each pool's last decision. */
export interface StatusBoard extends DecisionSink {
  publish(d: PoolDecision): void;
  /** Forgets a pool that is gone. */
  removePool(pool: PoolRef): void;
  /** The `/status` document (plain data, safe to JSON.stringify). */
  status(): StatusDocument;
}

/** Creates an empty {@link StatusBoard}. */
export function createStatusBoard(): StatusBoard {
  const last = new Map<string, PoolStatus>();
  return {
    publish(d) {
      const r = d.snapshot.replicas;
      last.set(poolKey(d.pool), {
        namespace: d.pool.namespace,
        name: d.pool.name,
        at: d.at,
        scaler: d.scaler,
        desired: { spot: d.decision.desired.spot, onDemand: d.decision.desired.onDemand },
        previous: { spot: d.previous.spot, onDemand: d.previous.onDemand },
        active: d.decision.active,
        held: d.decision.held,
        reasonClass: classifyDecision(d),
        reason: d.decision.reason,
        replicas: { ready: { ...r.ready }, starting: { ...r.starting }, pending: { ...r.pending } },
        capacityPerReplica: { ...d.capacityPerReplica },
        ...(d.mix === undefined
          ? {}
          : {
              mix: {
                perReplica: d.mix.perReplica,
                shares: { ...d.mix.shares },
                from: d.mix.from,
                ...(d.mix.byReplicas === undefined ? {} : { byReplicas: [...d.mix.byReplicas] }),
              },
            }),
      });
    },
    removePool(pool) {
      last.delete(poolKey(pool));
    },
    status() {
      const key = (p: PoolStatus) => `${p.namespace}/${p.name}`;
      const pools = [...last.values()].sort((a, b) => (key(a) < key(b) ? -1 : 1));
      return { pools };
    },
  };
}
