import { expect } from "chai";
import { loadModelPool, type Policy } from "../../controller/policy/index.js";
import {
  type ByCapacity,
  type LoadSnapshot,
  type Scaler,
  type ScalingDecision,
  type Signal,
  totalOf,
} from "../../controller/scaling/index.js";
import type { LoadSignals } from "../../controller/scaling/window.js";

/** A valid ModelPool with the given `spec.scaling` and `spec.capacity`, loaded as a Policy. */
export function pool(scaling: object = {}, capacity: object = {}, slo: object = {}): Policy {
  const doc = {
    apiVersion: "tritonscale.dev/v1alpha1",
    kind: "ModelPool",
    metadata: { name: "yolo-detect", namespace: "vision" },
    spec: {
      models: [{ name: "yolov8s", template: "yolov8-onnx", imageSize: 640, classes: 80 }],
      slo: { latencyP99Ms: 85, ...slo },
      // The worked examples in these tests plan at 70% of capacity, with nodes to spare
      // (nodeProvisioning 0): new capacity takes the 90 s cold start.
      scaling: { targetUtilization: 0.7, nodeProvisioning: "0s", ...scaling },
      capacity,
    },
  };
  return loadModelPool(JSON.stringify(doc), "pool.yaml");
}

/** What one step of a scenario observes; replicas default to the previous decision, all Ready. */
export interface Observe {
  /** Seconds since the scenario's start (added to its epoch). */
  readonly t: number;
  /** Arrival rate, req/s; `null` for missing. */
  readonly arrival?: number | null;
  /** Pending requests; `null` for missing. */
  readonly pending?: number | null;
  readonly inflight?: number | null;
  readonly queueDelayMs?: number | null;
  /** Mean compute time per batch, ms (LoadSnapshot.computeMsPerBatch); `null` for missing. */
  readonly batchMs?: number | null;
  /** Mean batch size (LoadSnapshot.batchSize); `null` for missing. */
  readonly batchSize?: number | null;
  /** GPU utilization 0..1; `null` for missing. */
  readonly gpu?: number | null;
  /** Age of every signal, seconds. @default 5 */
  readonly age?: number;
  /** Ready replicas (on-demand unless `readyBy` is given). */
  readonly ready?: number;
  readonly readyBy?: ByCapacity;
  /** Replicas starting (on-demand). */
  readonly starting?: number;
  readonly startingBy?: ByCapacity;
  /** Replicas pending a node. */
  readonly pendingBy?: ByCapacity;
  readonly oldestPendingSpotSeconds?: number;
  /** Replicas whose metrics went unreadable (LoadSnapshot.darkReplicas). @default none */
  readonly dark?: number;
}

/** What a step expects. */
export interface Expect {
  readonly total?: number;
  readonly desired?: ByCapacity;
  readonly held?: boolean;
  readonly active?: boolean;
  /** Every pattern must match the reason. */
  readonly reason?: RegExp | readonly RegExp[];
  /** These terms, exactly (others may be there too); `null`: the term must be absent. */
  readonly terms?: Readonly<Record<string, number | null>>;
}

/** One step: what is observed and what the decision must be. */
export type Step = Observe & Expect;

function signal(v: number | null | undefined, age: number): Signal | undefined {
  return v === null || v === undefined ? undefined : { value: v, ageSeconds: age };
}

const zero: ByCapacity = { spot: 0, onDemand: 0 };

/** A snapshot at `epoch + o.t`; unset replica counts come from `previous` (all Ready). */
export function snapshotOf(o: Observe, previous: ByCapacity, epoch = 0): LoadSnapshot {
  const age = o.age ?? 5;
  const ready = o.readyBy ?? (o.ready !== undefined ? { spot: 0, onDemand: o.ready } : previous);
  const starting =
    o.startingBy ?? (o.starting !== undefined ? { spot: 0, onDemand: o.starting } : zero);
  const s: LoadSnapshot = {
    now: epoch + o.t,
    replicas: {
      ready,
      starting,
      pending: o.pendingBy ?? zero,
      oldestPendingSpotSeconds: o.oldestPendingSpotSeconds ?? 0,
    },
  };
  type SignalKey = keyof LoadSignals;
  const signals: { -readonly [K in SignalKey]?: Signal } = {};
  const add = (k: SignalKey, v: number | null | undefined) => {
    const sig = signal(v, age);
    if (sig !== undefined) signals[k] = sig;
  };
  add("arrivalRate", o.arrival);
  add("pending", o.pending);
  add("inflight", o.inflight);
  add("queueDelayMs", o.queueDelayMs);
  add("computeMsPerBatch", o.batchMs);
  add("batchSize", o.batchSize);
  add("gpuUtilization", o.gpu);
  return { ...s, ...signals, ...(o.dark === undefined ? {} : { darkReplicas: o.dark }) };
}

/**
 * Runs `steps` through a scaler, each snapshot built from the previous decision (as if the
 * cluster applied it at once), and checks each expectation; returns the decisions. `initial`
 * replaces the scaler's initial state (e.g. one that learned a history).
 */
export function runScenario<S>(
  scaler: Scaler<S>,
  policy: Policy,
  start: ByCapacity,
  steps: readonly Step[],
  epoch = 0,
  initial?: S,
): ScalingDecision<S>[] {
  let state = initial ?? scaler.initialState(start);
  let previous = start;
  const out: ScalingDecision<S>[] = [];
  for (const [i, step] of steps.entries()) {
    const d = scaler.decide(snapshotOf(step, previous, epoch), state);
    const where = `step ${i} (t=${step.t}): ${d.reason}`;
    if (step.total !== undefined) expect(totalOf(d.desired), where).to.equal(step.total);
    if (step.desired !== undefined) expect(d.desired, where).to.deep.equal(step.desired);
    if (step.held !== undefined) expect(d.held, where).to.equal(step.held);
    if (step.active !== undefined) expect(d.active, where).to.equal(step.active);
    const patterns =
      step.reason === undefined ? [] : Array.isArray(step.reason) ? step.reason : [step.reason];
    for (const p of patterns as RegExp[]) expect(d.reason, where).to.match(p);
    for (const [k, v] of Object.entries(step.terms ?? {})) {
      expect(d.terms?.[k], `${where}: term ${k}`).to.equal(v === null ? undefined : v);
    }
    expect(totalOf(d.desired), `${where}: never above maxReplicas`).to.be.at.most(
      policy.spec.scaling.maxReplicas,
    );
    out.push(d);
    state = d.state;
    previous = d.desired;
  }
  return out;
}

/** A sequence of steps every `period` seconds from `from` (inclusive) to `to` (exclusive). */
export function every(period: number, from: number, to: number, step: Omit<Step, "t">): Step[] {
  const out: Step[] = [];
  for (let t = from; t < to; t += period) out.push({ ...step, t });
  return out;
}
