import type { PoolDecision } from "../loop/ports.js";
import { type CapacityType, formatNumber, totalOf } from "../scaling/types.js";

/**
 * What the external scaler tells KEDA about one ScaledObject, computed once per decision
 * (never per request, never waiting for a scrape): whether it is active (IsActive,
 * StreamIsActive) and the metric value (GetMetrics), which is the replicas its Deployment
 * should run, against a target of 1 per replica (GetMetricSpec). controller/keda/hpa.ts
 * shows why the HPA then lands on those replicas, and how far its tolerance lets it stray.
 */
export interface ScaledObjectAnswer {
  /** IsActive: whether the Deployment should have any replica. */
  readonly active: boolean;
  /** GetMetrics: the Deployment's desired replicas (an integer ≥ 0). */
  readonly replicas: number;
  /** The decision held its last value (missing or stale metrics). */
  readonly held: boolean;
  /** Why, for logs: the decision's reason and any safety floor applied here. */
  readonly reason: string;
}

/** The metric target per replica (GetMetricSpec's targetSize): one replica per unit. */
export const TARGET_PER_REPLICA = 1;

/**
 * The answer for the ScaledObject of capacity type `type` in the decision's pool. `solo`
 * says it is the pool's only ScaledObject (Spot disabled): it then carries the whole pool.
 *
 * The decision is answered as it is, except for two safety floors, so that a scaler bug or
 * a race can never make KEDA drop capacity that the design's safety rules keep:
 * - a held decision (metrics missing or stale) never answers fewer replicas than the
 *   Deployment runs now (ready + starting + pending for a node): no data never scales down;
 * - while anything is in flight in the pool (requests pending, replicas starting or
 *   loading a model, or waiting for a node) or the decision says active, the pool never
 *   answers 0 replicas and inactive everywhere: the on-demand ScaledObject answers at
 *   least 1.
 *
 * Example: held, desired Spot 0 / on-demand 2, Spot running 3 ready → Spot answers 3
 * (active), on-demand 2; not held, desired 0 / 0 with 4 requests pending → on-demand 1.
 */
export function answerFor(type: CapacityType, d: PoolDecision, solo: boolean): ScaledObjectAnswer {
  const r = d.snapshot.replicas;
  const own = (c: { spot: number; onDemand: number }) => (solo ? totalOf(c) : c[type]);
  const desired = own(d.decision.desired);
  const running = own(r.ready) + own(r.starting) + own(r.pending);
  const notes: string[] = [];
  let replicas = desired;
  if (d.decision.held && running > replicas) {
    replicas = running;
    notes.push(`held: not below the ${running} replica(s) running`);
  }
  const pendingRequests = d.snapshot.pending?.value ?? 0;
  const inFlight =
    pendingRequests > 0 || totalOf(r.starting) > 0 || totalOf(r.pending) > 0 || d.decision.active;
  if (inFlight && replicas === 0 && type === "onDemand") {
    // Zero everywhere? The other ScaledObject's answer follows the same rules.
    const other = solo ? 0 : otherReplicas(d);
    if (other === 0) {
      replicas = 1;
      notes.push(`pool busy (${busyText(d)}): at least 1`);
    }
  }
  const reason = [d.decision.reason, ...notes].join("; ");
  return { active: replicas > 0, replicas, held: d.decision.held, reason };
}

/** The Spot ScaledObject's replicas before the pool-wide floor (held floor included). */
function otherReplicas(d: PoolDecision): number {
  const r = d.snapshot.replicas;
  const running = r.ready.spot + r.starting.spot + r.pending.spot;
  return d.decision.held ? Math.max(d.decision.desired.spot, running) : d.decision.desired.spot;
}

function busyText(d: PoolDecision): string {
  const r = d.snapshot.replicas;
  const parts: string[] = [];
  const pending = d.snapshot.pending?.value ?? 0;
  if (pending > 0) parts.push(`${formatNumber(pending)} request(s) pending`);
  if (totalOf(r.starting) > 0) parts.push(`${totalOf(r.starting)} replica(s) starting`);
  if (totalOf(r.pending) > 0) parts.push(`${totalOf(r.pending)} replica(s) waiting for a node`);
  if (parts.length === 0) parts.push("decided active");
  return parts.join(", ");
}
