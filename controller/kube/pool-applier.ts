import type { Clock, PoolRef } from "../loop/ports.js";
import { poolKey } from "../loop/ports.js";
import { API_VERSION, KIND, type Policy } from "../policy/index.js";
import {
  type ApplyReport,
  ApplyStopped,
  applyPool,
  deletePoolObjects,
  type ObjectClient,
  type PoolOwner,
} from "./apply.js";
import type { PoolObjectMeta } from "./pool-source.js";
import { backoffMs } from "./retry.js";

/** One structured log line: level, message, fields (the controller writes them as JSON). */
export type Log = (level: "info" | "warn" | "error", msg: string, fields?: object) => void;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Applies pools when this replica acts: one apply at a time per pool, the latest policy
 * winning (a change during an apply is applied right after it), again for every pool when
 * the replica becomes the leader. An apply that failed for good (its calls' own retries
 * used up, e.g. a long API server outage) is tried again after a backoff on the clock
 * (full jitter, below 2 s, 4 s … 5 min), until it succeeds or the pool changes or goes:
 * the informer does not tell of an unchanged pool again, so nothing else would. An apply
 * stops between two writes when the replica stops leading.
 */
export class PoolApplier {
  private readonly pools = new Map<
    string,
    { ref: PoolRef; policy: Policy; meta: PoolObjectMeta }
  >();
  private readonly running = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  /** Pools whose apply failed: how many times in a row, and the pending retry. */
  private readonly failures = new Map<string, { count: number; timer: AbortController }>();
  private stopped = false;

  constructor(
    private readonly client: ObjectClient,
    private readonly options: {
      readonly dryRun: boolean;
      readonly canAct: () => boolean;
      readonly clock: Clock;
      readonly log: Log;
      readonly onApplied: (ref: PoolRef, r: ApplyReport | { error: string }) => void;
    },
  ) {}

  set(ref: PoolRef, policy: Policy, meta: PoolObjectMeta): void {
    this.pools.set(poolKey(ref), { ref, policy, meta });
    this.cancelRetry(poolKey(ref));
    this.schedule(ref);
  }

  async remove(ref: PoolRef, deleteObjects: boolean): Promise<void> {
    const key = poolKey(ref);
    const entry = this.pools.get(key);
    this.pools.delete(key);
    this.cancelRetry(key);
    await this.running.get(key);
    if (!deleteObjects || entry === undefined || !this.options.canAct() || this.options.dryRun) {
      return;
    }
    try {
      const pruned = await deletePoolObjects(this.client, this.ownerOf(entry));
      this.options.log("info", "pruned", { pool: key, pruned: pruned.length });
    } catch (e) {
      this.options.log("error", "prune failed", { pool: key, error: errorText(e) });
    }
  }

  /** Every pool again (this replica just became the leader). */
  resync(): void {
    for (const { ref } of this.pools.values()) {
      this.cancelRetry(poolKey(ref));
      this.schedule(ref);
    }
  }

  /** No more applies, nor retries (shutdown); {@link idle} then waits for the last one. */
  stop(): void {
    this.stopped = true;
    for (const key of [...this.failures.keys()]) this.cancelRetry(key);
  }

  private cancelRetry(key: string): void {
    this.failures.get(key)?.timer.abort();
    this.failures.delete(key);
  }

  /** Tries a failed pool again after a backoff (see the class comment). */
  private retryLater(ref: PoolRef): void {
    const key = poolKey(ref);
    const previous = this.failures.get(key);
    previous?.timer.abort();
    const count = (previous?.count ?? 0) + 1;
    const timer = new AbortController();
    this.failures.set(key, { count, timer });
    const seconds = Math.max(
      1,
      backoffMs(count, { baseDelayMs: 1000, maxDelayMs: 300_000 }) / 1000,
    );
    this.options.log("info", "apply retry scheduled", {
      pool: key,
      retryInSeconds: Math.round(seconds * 10) / 10,
      failures: count,
    });
    void this.options.clock.sleep(seconds, timer.signal).then(() => {
      if (timer.signal.aborted || this.stopped || !this.pools.has(key)) return;
      this.schedule(ref);
    });
  }

  /** Resolves when no apply is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  private ownerOf(entry: { policy: Policy; meta: PoolObjectMeta }): PoolOwner {
    return {
      apiVersion: API_VERSION,
      kind: KIND,
      name: entry.policy.metadata.name,
      namespace: entry.policy.metadata.namespace,
      ...(entry.meta.uid === undefined ? {} : { uid: entry.meta.uid }),
    };
  }

  private schedule(ref: PoolRef): void {
    const key = poolKey(ref);
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    const run = (async () => {
      do {
        this.dirty.delete(key);
        await this.applyOnce(key);
      } while (this.dirty.has(key));
    })().finally(() => this.running.delete(key));
    this.running.set(key, run);
  }

  private async applyOnce(key: string): Promise<void> {
    const entry = this.pools.get(key);
    if (entry === undefined || !this.options.canAct()) return;
    if (this.options.dryRun) {
      this.options.log("info", "dry run: not applied", { pool: key });
      return;
    }
    try {
      const report = await applyPool(this.client, entry.policy, this.ownerOf(entry), {
        mayWrite: this.options.canAct,
      });
      this.cancelRetry(key);
      // A newer policy came in meanwhile: its apply, next, is what the status reports.
      const stale = this.dirty.has(key);
      this.options.log("info", "applied", {
        pool: key,
        applied: report.applied.length,
        pruned: report.pruned.map((o) => `${o.kind} ${o.namespace ?? ""}/${o.name}`),
      });
      if (!stale) this.options.onApplied(entry.ref, report);
    } catch (e) {
      if (e instanceof ApplyStopped) {
        // Leadership lost mid-apply: the next leader applies (and this replica again, if
        // it leads again: resync).
        this.options.log("info", "apply stopped: not the leader", { pool: key });
        return;
      }
      this.options.log("error", "apply failed", { pool: key, error: errorText(e) });
      if (!this.dirty.has(key)) this.options.onApplied(entry.ref, { error: errorText(e) });
      // A change while this apply ran is applied right away anyway (dirty).
      if (!this.dirty.has(key) && !this.stopped) this.retryLater(entry.ref);
    }
  }
}
