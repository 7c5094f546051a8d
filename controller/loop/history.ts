import type { Policy } from "../policy/index.js";
import type { RatePoint, ScalerMemory } from "../scaling/types.js";
import type { Clock, PoolRef } from "./ports.js";

/**
 * A scaler's learned history across controller restarts and failovers (issue 9 §2): the
 * loop's side of {@link ScalerMemory}. For each pool whose scaler has `memory`:
 *
 * - **Restore** on start (every replica: reading is allowed to followers) and again when
 *   this replica becomes the leader ({@link PoolHistory.begin}): the text the last leader
 *   saved ({@link HistoryStore}) goes through `memory.restore`. When nothing is stored, or
 *   `restore` says why it cannot use it, or the store cannot be read, the history is
 *   rebuilt on start with `memory.learn` from the last day of the pool's arrival rate in
 *   Prometheus ({@link RateHistory}, `spec.monitoring.prometheusAddress`). A failed query
 *   is reported and the pool starts cold (today's reactive behaviour).
 * - **Never blocks a decision**: reads and queries run beside the loop; what they bring is
 *   folded into the pool's state at its next reconcile (the loop is woken for it). The
 *   first decisions of a restart are made cold.
 * - **Save** only while this replica may write (the leader, not a dry run): every
 *   {@link DEFAULT_HISTORY_SAVE_SECONDS} on the loop's clock, and once more when the loop
 *   stops (SIGTERM: before the Lease is released). A follower learns live all along; when
 *   it becomes the leader it continues the last leader's save with what it saw itself
 *   after it (`memory.merge`), so a leader that loses the Lease without stopping loses no
 *   learning that its successor observed. A replica whose restore has not
 *   finished, or whose store could not be read, never saves (it would overwrite a longer
 *   history with a shorter one); the read is retried at the next save time instead.
 *
 * Every load, save and rebuild is reported as a {@link HistoryOutcome} (logs, and the
 * counter `tritonscale_history_operations_total`).
 */

/**
 * The most text one history may take: the {@link ScalerMemory.save} contract (256 KiB),
 * well inside a ConfigMap's 1 MiB.
 */
export const HISTORY_MAX_BYTES = 256 * 1024;

/**
 * Seconds between saves of a pool's history by the leader, on the loop's clock: 5 minutes,
 * so a crash loses at most 5 minutes of learning of a day-long history, at 12 writes an hour
 * per pool. @default 300
 */
export const DEFAULT_HISTORY_SAVE_SECONDS = 300;

/**
 * Longest wait for the last save when the loop stops, in wall-clock milliseconds: a hung
 * API server must not hold up the shutdown (the pod's grace period is 30 s by default).
 */
export const FINAL_SAVE_TIMEOUT_MS = 10_000;

/** How far back a rebuild from Prometheus reads: one day, the history's span. */
export const HISTORY_REBUILD_SECONDS = 86_400;

/** Where a pool's saved history is kept (a ConfigMap per pool, or a file per pool). */
export interface HistoryStore {
  /** The `source` label of outcomes, e.g. `configmap` or `file`. */
  readonly source: string;
  /** The text last saved for the pool, or undefined when none is; rejects when it cannot be read. */
  load(pool: PoolRef): Promise<string | undefined>;
  /**
   * Replaces the pool's saved history; rejects when it cannot be written (or is larger than
   * {@link HISTORY_MAX_BYTES}).
   */
  save(pool: PoolRef, text: string): Promise<void>;
}

/** Past arrival rates of a pool, for rebuilding a history that was not saved (Prometheus). */
export interface RateHistory {
  /** The `source` label of outcomes, e.g. `prometheus`. */
  readonly source: string;
  /**
   * The pool's arrival rate from `from` to `to` (seconds on the loop's clock, Unix time
   * live), oldest first; rejects when it cannot be read. Aborted with `signal`.
   */
  rates(policy: Policy, from: number, to: number, signal?: AbortSignal): Promise<RatePoint[]>;
}

/** What the loop keeps a history with: injected like its other ports. */
export interface HistoryPorts {
  /** Where histories are saved and restored from. @default none: nothing saved or restored */
  readonly store?: HistoryStore;
  /** Where a history is rebuilt from when none is stored. @default none: start cold */
  readonly rates?: RateHistory;
  /** Whether this replica may save now (the leader, not a dry run). @default always */
  readonly maySave?: () => boolean;
}

/** What one load, save or rebuild of a pool's history came to. */
export interface HistoryOutcome {
  readonly pool: PoolRef;
  /** Seconds on the loop's clock. */
  readonly at: number;
  readonly operation: "load" | "save" | "rebuild";
  /** The store's or the rate history's `source`. */
  readonly source: string;
  /**
   * `ok`: restored, saved, or learned from points; `absent`: nothing stored (load) or no
   * points (rebuild); `rejected`: the scaler's restore refused the text, or the text was too
   * large to save; `error`: the call failed.
   */
  readonly result: "ok" | "absent" | "rejected" | "error";
  /** Why, for `rejected` and `error`; what, for `ok` (bytes, points). */
  readonly detail?: string;
}

/** Options of {@link PoolHistory}. */
export interface PoolHistoryOptions {
  readonly ports: HistoryPorts;
  readonly clock: Clock;
  /** @default {@link DEFAULT_HISTORY_SAVE_SECONDS} */
  readonly saveEverySeconds?: number;
  /** Told of every outcome. */
  readonly onOutcome: (o: HistoryOutcome) => void;
  /** Asks the loop to reconcile the pool soon, to fold in what arrived. */
  readonly wake: () => void;
}

/** A transformation of the scaler's state waiting for the pool's next reconcile. */
type Pending =
  | {
      readonly kind: "restore";
      readonly text: string;
      readonly rebuildIfRejected: boolean;
      /** Keep what this replica learned after the save (`memory.merge`): a new leader. */
      readonly keepOwn: boolean;
    }
  | { readonly kind: "learn"; readonly points: readonly RatePoint[] };

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * One pool's history keeping (see the module comment). The loop calls {@link begin} when
 * the pool starts (or its scaler changes) and when this replica becomes the leader,
 * {@link fold} before each decision, {@link tick} after it, and {@link final} when it stops.
 */
export class PoolHistory {
  private pending: Pending[] = [];
  /** A load or rebuild in flight. */
  private busy = 0;
  /** Until a first load attempt finished: saving would overwrite a longer history. */
  private settled = false;
  /** The last load failed: read again before writing anything. */
  private loadFailed = false;
  private lastSave: number;
  private saving: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly ref: PoolRef,
    private readonly options: PoolHistoryOptions,
  ) {
    this.lastSave = options.clock.now();
  }

  /**
   * Reads the pool's saved history (and on `start`, rebuilds it from past rates when none is
   * usable); what comes back is folded in at the next reconcile.
   */
  begin(policy: Policy, why: "start" | "leader"): void {
    const { store, rates } = this.options.ports;
    if (store === undefined) {
      this.settled = true;
      if (why === "start" && rates !== undefined) this.rebuild(policy);
      return;
    }
    void this.load(policy, why === "start", why === "leader");
  }

  /**
   * The scaler's state with what arrived since the last reconcile folded in (a restored or
   * rebuilt history), through its `memory`.
   */
  fold<S>(memory: ScalerMemory<S>, state: S, policy: Policy): S {
    let s = state;
    for (const p of this.pending.splice(0)) {
      const at = this.options.clock.now();
      if (p.kind === "learn") {
        s = memory.learn(s, p.points);
        continue;
      }
      const merge = p.keepOwn ? memory.merge?.bind(memory) : undefined;
      const r = merge ? merge(s, p.text) : memory.restore(s, p.text);
      const source = this.options.ports.store?.source ?? "store";
      if (r.ok) {
        s = r.state;
        const detail = merge
          ? `${bytes(p.text)}, continued with what this replica learned after it`
          : bytes(p.text);
        this.report({ at, operation: "load", source, result: "ok", detail });
      } else {
        this.report({ at, operation: "load", source, result: "rejected", detail: r.why });
        if (p.rebuildIfRejected) this.rebuild(policy);
      }
    }
    return s;
  }

  /** After a decision: saves when the period has passed and this replica may save. */
  tick<S>(memory: ScalerMemory<S>, state: S): void {
    const now = this.options.clock.now();
    if (now - this.lastSave < (this.options.saveEverySeconds ?? DEFAULT_HISTORY_SAVE_SECONDS)) {
      return;
    }
    if (!this.maySave() || this.saving !== undefined || !this.quiet()) return;
    this.lastSave = now;
    if (this.loadFailed) {
      // Read again rather than overwrite what could not be read.
      void this.load(undefined, false, false);
      return;
    }
    if (!this.settled) return;
    this.saving = this.save(memory, state).finally(() => {
      this.saving = undefined;
    });
  }

  /**
   * When the loop stops: waits for a save in flight, then saves the last state once more
   * if this replica may (before the Lease is released); a read or rebuild in flight is
   * abandoned.
   */
  async final<S>(memory: ScalerMemory<S>, state: S, hasState: boolean): Promise<void> {
    this.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.report({
          at: this.options.clock.now(),
          operation: "save",
          source: this.options.ports.store?.source ?? "store",
          result: "error",
          detail: `no answer within ${FINAL_SAVE_TIMEOUT_MS} ms while stopping: not saved`,
        });
        resolve();
      }, FINAL_SAVE_TIMEOUT_MS);
    });
    const last = async () => {
      await this.saving;
      if (!hasState || !this.settled || this.loadFailed || !this.quiet() || !this.maySave()) {
        return;
      }
      await this.save(memory, state);
    };
    try {
      await Promise.race([last(), bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The pool is gone: abandons what is in flight, saves nothing more. */
  close(): void {
    this.abort.abort();
  }

  /**
   * Nothing read is in flight or waiting to be folded in: the state holds all there is, so
   * saving it loses nothing.
   */
  private quiet(): boolean {
    return this.busy === 0 && this.pending.length === 0;
  }

  private maySave(): boolean {
    return this.options.ports.store !== undefined && (this.options.ports.maySave?.() ?? true);
  }

  private report(o: Omit<HistoryOutcome, "pool">): void {
    this.options.onOutcome({ pool: this.ref, ...o });
  }

  private async load(
    policy: Policy | undefined,
    rebuild: boolean,
    keepOwn: boolean,
  ): Promise<void> {
    const store = this.options.ports.store!;
    this.busy++;
    try {
      let text: string | undefined;
      try {
        text = await store.load(this.ref);
      } catch (e) {
        if (this.abort.signal.aborted) return;
        this.loadFailed = true;
        this.report({
          at: this.options.clock.now(),
          operation: "load",
          source: store.source,
          result: "error",
          detail: message(e),
        });
        if (rebuild && policy !== undefined) this.rebuild(policy);
        return;
      }
      if (this.abort.signal.aborted) return;
      this.loadFailed = false;
      this.settled = true;
      if (text === undefined) {
        this.report({
          at: this.options.clock.now(),
          operation: "load",
          source: store.source,
          result: "absent",
        });
        if (rebuild && policy !== undefined) this.rebuild(policy);
        return;
      }
      this.pending.push({ kind: "restore", text, rebuildIfRejected: rebuild, keepOwn });
      this.options.wake();
    } finally {
      this.busy--;
    }
  }

  private rebuild(policy: Policy): void {
    const rates = this.options.ports.rates;
    if (rates === undefined) return;
    const to = this.options.clock.now();
    this.busy++;
    void (async () => {
      try {
        const points = await rates.rates(
          policy,
          to - HISTORY_REBUILD_SECONDS,
          to,
          this.abort.signal,
        );
        if (this.abort.signal.aborted) return;
        const at = this.options.clock.now();
        if (points.length === 0) {
          this.report({ at, operation: "rebuild", source: rates.source, result: "absent" });
          return;
        }
        this.pending.push({ kind: "learn", points });
        this.report({
          at,
          operation: "rebuild",
          source: rates.source,
          result: "ok",
          detail: `${points.length} points from ${points[0]!.at} to ${points[points.length - 1]!.at}`,
        });
        this.options.wake();
      } catch (e) {
        if (this.abort.signal.aborted) return;
        this.report({
          at: this.options.clock.now(),
          operation: "rebuild",
          source: rates.source,
          result: "error",
          detail: `${message(e)}; the pool starts with no history`,
        });
      } finally {
        this.busy--;
      }
    })();
  }

  private async save<S>(memory: ScalerMemory<S>, state: S): Promise<void> {
    const store = this.options.ports.store!;
    let text: string;
    try {
      text = memory.save(state);
    } catch (e) {
      this.report({
        at: this.options.clock.now(),
        operation: "save",
        source: store.source,
        result: "error",
        detail: `the scaler could not save its history: ${message(e)}`,
      });
      return;
    }
    const size = Buffer.byteLength(text, "utf8");
    if (size > HISTORY_MAX_BYTES) {
      this.report({
        at: this.options.clock.now(),
        operation: "save",
        source: store.source,
        result: "rejected",
        detail: `the history is ${size} bytes, more than the ${HISTORY_MAX_BYTES} a history may take: not saved`,
      });
      return;
    }
    try {
      await store.save(this.ref, text);
      this.report({
        at: this.options.clock.now(),
        operation: "save",
        source: store.source,
        result: "ok",
        detail: `${size} bytes`,
      });
    } catch (e) {
      this.report({
        at: this.options.clock.now(),
        operation: "save",
        source: store.source,
        result: "error",
        detail: message(e),
      });
    }
  }
}

function bytes(text: string): string {
  return `${Buffer.byteLength(text, "utf8")} bytes`;
}
