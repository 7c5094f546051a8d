/**
 * Where the controller's pools come from — ModelPool custom resources (pool-informer.ts)
 * or a folder of pool files (pool-files.ts) — and what either tells the rest of the
 * controller. Both load every pool through the same policy loader as `validate` and
 * `render` (`parseModelPoolObject`, `parseModelPool`): a pool the loader refuses is
 * reported with its problems and never applied.
 */
import type { Problem } from "../diagnostics/problem.js";
import { type PoolRef, poolKey } from "../loop/ports.js";
import type { Policy } from "../policy/index.js";

/** What the API server knows of a pool's object (absent for pool files). */
export interface PoolObjectMeta {
  /** `metadata.uid`, for owner references. */
  readonly uid?: string;
  /** `metadata.generation`: the spec version, for `status.observedGeneration`. */
  readonly generation?: number;
  /** `metadata.resourceVersion`. */
  readonly resourceVersion?: string;
  /** Where the pool was read from: `modelpool <ns>/<name>` or the file's path. */
  readonly origin: string;
  /**
   * The object's `status` as read (a previous leader's), so that condition transition times
   * survive a change of leader.
   */
  readonly status?: unknown;
}

/**
 * Callbacks of a pool source. `added` and `changed` carry the new valid policy; `changed`
 * fires only when the policy differs (a status write or a resync does not count). `invalid`
 * carries every problem the loader found: the pool's last valid policy, if any, keeps
 * running and nothing new is applied. `removed` fires when the resource is deleted or its
 * file is gone.
 */
export interface PoolHandler {
  added(pool: PoolRef, policy: Policy, meta: PoolObjectMeta): void;
  changed(pool: PoolRef, policy: Policy, meta: PoolObjectMeta): void;
  invalid(pool: PoolRef, problems: readonly Problem[], meta: PoolObjectMeta): void;
  removed(pool: PoolRef): void;
}

/** A running source of pools. */
export interface PoolSource {
  /** Starts watching; the handler hears of every pool that exists, then of changes. */
  start(): Promise<void>;
  /** Stops watching; no callback after it resolves. */
  stop(): Promise<void>;
}

/** A policy's content as text, for telling a real change from a repeat. */
export function policyFingerprint(policy: Policy): string {
  const { source: _source, ...rest } = policy;
  return JSON.stringify(rest);
}

/** Problems as text, for telling new problems from a repeat of the same ones. */
export function problemsFingerprint(problems: readonly Problem[]): string {
  return JSON.stringify(problems.map((p) => [p.path, p.message, p.line, p.col]));
}

/**
 * Remembers what a source last said of each pool and turns a load result into the one
 * callback that reports the news, or none when nothing changed: `added` for a pool's first
 * valid policy, `changed` for a different one (or the same one again after it was invalid
 * for a while), `invalid` for new problems.
 */
export class PoolTracker {
  private readonly seen = new Map<
    string,
    { readonly hadPolicy: boolean; readonly valid: boolean; readonly print: string }
  >();

  constructor(private readonly handler: PoolHandler) {}

  /** Reports the pool's current load result. */
  update(
    pool: PoolRef,
    result: { readonly policy?: Policy; readonly problems: readonly Problem[] },
    meta: PoolObjectMeta,
  ): void {
    const key = poolKey(pool);
    const before = this.seen.get(key);
    if (result.policy !== undefined && result.problems.length === 0) {
      // The generation too: a spec edit the loader reads as the same policy (a default
      // written out) still needs its observedGeneration in the status.
      const print = `${policyFingerprint(result.policy)}@${meta.generation ?? ""}`;
      if (before?.valid && before.print === print) return;
      this.seen.set(key, { hadPolicy: true, valid: true, print });
      if (before?.hadPolicy) this.handler.changed(pool, result.policy, meta);
      else this.handler.added(pool, result.policy, meta);
      return;
    }
    const print = problemsFingerprint(result.problems);
    if (before !== undefined && !before.valid && before.print === print) return;
    this.seen.set(key, { hadPolicy: before?.hadPolicy ?? false, valid: false, print });
    this.handler.invalid(pool, result.problems, meta);
  }

  /** Reports that the pool is gone. */
  remove(pool: PoolRef): void {
    if (this.seen.delete(poolKey(pool))) this.handler.removed(pool);
  }

  /** The pools known now, as `namespace/name`. */
  keys(): string[] {
    return [...this.seen.keys()];
  }
}
