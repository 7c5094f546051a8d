import { didYouMean } from "../diagnostics/suggest.js";
import { buildScaledObject } from "../kube/render/scaling.js";
import { deploymentsOf } from "../kube/render/triton.js";
import { type DecisionSink, type PoolDecision, type PoolRef, poolKey } from "../loop/ports.js";
import type { Policy } from "../policy/index.js";
import type { CapacityType } from "../scaling/types.js";
import { answerFor, type ScaledObjectAnswer } from "./answer.js";

/** One ScaledObject the external scaler answers for, as `render` names it. */
export interface ScaledObjectTarget {
  /** The ScaledObject's namespace and name (KEDA's ScaledObjectRef). */
  readonly namespace: string;
  readonly name: string;
  readonly pool: PoolRef;
  readonly capacityType: CapacityType;
  /** The Deployment it scales (its scaleTargetRef). */
  readonly deployment: string;
}

/** Told about one ScaledObject's activity (a StreamIsActive call). */
export interface ActivityWatcher {
  /** The activity now (first when known, then on every change). */
  active(active: boolean): void;
  /** The ScaledObject is no longer served (its pool was removed or re-rendered without it). */
  gone(message: string): void;
}

/** What a lookup finds for a ScaledObjectRef. */
export type Lookup =
  | {
      readonly found: true;
      readonly target: ScaledObjectTarget;
      /** Undefined until the pool's first decision. */
      readonly answer: ScaledObjectAnswer | undefined;
    }
  | { readonly found: false; readonly message: string };

interface Entry {
  readonly target: ScaledObjectTarget;
  /** The pool's only ScaledObject: it carries the whole pool. */
  readonly solo: boolean;
  answer: ScaledObjectAnswer | undefined;
  readonly watchers: Set<ActivityWatcher>;
}

/** How many known ScaledObjects an error for an unknown one lists. */
const KNOWN_IN_MESSAGE = 8;

/** `namespace/name`, the key of a ScaledObject. */
export function scaledObjectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/**
 * The ScaledObjects of a pool, named by the same render code that writes them
 * (`buildScaledObject` over `deploymentsOf`): none unless the pool's engine is keda.
 */
export function scaledObjectTargets(policy: Policy): ScaledObjectTarget[] {
  if (policy.spec.scaling.engine !== "keda") return [];
  const pool = { namespace: policy.metadata.namespace, name: policy.metadata.name };
  return deploymentsOf(policy).map((d) => {
    const so = buildScaledObject(policy, d.name, d.type);
    return {
      namespace: so.metadata?.namespace ?? pool.namespace,
      name: so.metadata?.name ?? d.name,
      pool,
      capacityType: d.type,
      deployment: so.spec.scaleTargetRef.name,
    };
  });
}

/**
 * The external scaler's memory: which ScaledObject belongs to which pool and capacity type
 * (fed pools as they are added, changed and removed), and the last decision per pool
 * (a {@link DecisionSink}), from which every answer is computed once, when it is published.
 * Lookups are a map read: KEDA's calls never wait on a scrape or a decision.
 */
export class KedaTargets implements DecisionSink {
  readonly #entries = new Map<string, Entry>();
  /** ScaledObject keys per pool key. */
  readonly #byPool = new Map<string, readonly string[]>();
  readonly #decisions = new Map<string, PoolDecision>();

  /** Adds a pool, or updates one: its ScaledObjects are re-derived from the new policy. */
  setPool(policy: Policy): void {
    const pk = poolKey({ namespace: policy.metadata.namespace, name: policy.metadata.name });
    const targets = scaledObjectTargets(policy);
    const keys = targets.map((t) => scaledObjectKey(t.namespace, t.name));
    for (const old of this.#byPool.get(pk) ?? []) {
      if (!keys.includes(old)) this.#drop(old, `its pool ${pk} no longer renders it`);
    }
    for (const [i, target] of targets.entries()) {
      const key = keys[i]!;
      const before = this.#entries.get(key);
      const other = before === undefined ? undefined : poolKey(before.target.pool);
      if (other !== undefined && other !== pk) {
        throw new Error(
          `ScaledObject ${key} of pool ${pk} is already the ScaledObject of pool ${other}`,
        );
      }
      this.#entries.set(key, {
        target,
        solo: targets.length === 1,
        answer: before?.answer,
        watchers: before?.watchers ?? new Set(),
      });
    }
    this.#byPool.set(pk, keys);
    const d = this.#decisions.get(pk);
    if (d !== undefined) this.#answer(pk, d);
  }

  /** Removes a pool: its ScaledObjects become unknown and their streams end. */
  removePool(pool: PoolRef): void {
    const pk = poolKey(pool);
    for (const key of this.#byPool.get(pk) ?? []) this.#drop(key, `its pool ${pk} was removed`);
    this.#byPool.delete(pk);
    this.#decisions.delete(pk);
  }

  /** Keeps the pool's decision and recomputes its ScaledObjects' answers. */
  publish(d: PoolDecision): void {
    const pk = poolKey(d.pool);
    this.#decisions.set(pk, d);
    this.#answer(pk, d);
  }

  /** The last decision of a pool. */
  decisionOf(pool: PoolRef): PoolDecision | undefined {
    return this.#decisions.get(poolKey(pool));
  }

  /** Every ScaledObject served, in the order pools were added. */
  targets(): ScaledObjectTarget[] {
    return [...this.#entries.values()].map((e) => e.target);
  }

  /** The ScaledObject and its current answer, or a message naming it and the known ones. */
  lookup(namespace: string, name: string): Lookup {
    const e = this.#entries.get(scaledObjectKey(namespace, name));
    if (e === undefined) return { found: false, message: this.#unknown(namespace, name) };
    return { found: true, target: e.target, answer: e.answer };
  }

  /**
   * Watches a ScaledObject's activity: told the current one at once when known, then every
   * change. Returns the unsubscribe function, or undefined when the ScaledObject is unknown.
   */
  watch(namespace: string, name: string, w: ActivityWatcher): (() => void) | undefined {
    const e = this.#entries.get(scaledObjectKey(namespace, name));
    if (e === undefined) return undefined;
    e.watchers.add(w);
    if (e.answer !== undefined) w.active(e.answer.active);
    return () => e.watchers.delete(w);
  }

  #answer(pk: string, d: PoolDecision): void {
    for (const key of this.#byPool.get(pk) ?? []) {
      const e = this.#entries.get(key)!;
      const before = e.answer;
      e.answer = answerFor(e.target.capacityType, d, e.solo);
      if (before?.active !== e.answer.active) {
        for (const w of [...e.watchers]) w.active(e.answer.active);
      }
    }
  }

  #drop(key: string, why: string): void {
    const e = this.#entries.get(key);
    if (e === undefined) return;
    this.#entries.delete(key);
    for (const w of [...e.watchers]) w.gone(`ScaledObject ${key} is no longer served: ${why}`);
  }

  #unknown(namespace: string, name: string): string {
    const key = scaledObjectKey(namespace, name);
    if (this.#entries.size === 0) {
      return `unknown ScaledObject ${key}: this tritonscale controller serves no ScaledObject (no ModelPool with scaling.engine keda is loaded)`;
    }
    const keys = [...this.#entries.keys()];
    const mine = keys.filter((k) => k.startsWith(`${namespace}/`));
    const shown = [...mine, ...keys.filter((k) => !k.startsWith(`${namespace}/`))].slice(
      0,
      KNOWN_IN_MESSAGE,
    );
    const more = keys.length > shown.length ? `, … (${keys.length} in all)` : "";
    return `unknown ScaledObject ${key}; known: ${shown.join(", ")}${more}${didYouMean(key, keys)}`;
  }
}
