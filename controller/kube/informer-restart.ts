/**
 * Keeps an informer running. @kubernetes/client-node's informer re-lists by itself after
 * 410 Gone, but stops for good on any other error (a dropped connection, a 500, a list
 * that failed) and only tells its `error` listeners; its `stop()` tells them too, with an
 * AbortError. So: every error while running restarts the informer after an exponential
 * backoff with full jitter (a wait drawn below 1 s, 2 s, 4 s … up to 60 s, kube/retry.ts's
 * `backoffMs`; the count starts over once the informer ran for 60 s without error), and an
 * error after {@link InformerRestarter.stop} is ignored. Used by the ModelPool source and
 * by the pool pods' informers alike.
 *
 * The client's `start()` resolves even when its list failed (it only tells the `error`
 * listeners), so {@link InformerRestarter.start} resolves only once a start completed with
 * no error reported during it, i.e. the informer has listed: a controller that says it has
 * synced must have seen the objects that exist, not an empty cache.
 */
import type { Clock } from "../loop/ports.js";
import { backoffMs } from "./retry.js";

/** The part of the client's informer a restarter drives. */
export interface StartableInformer {
  start(): Promise<void>;
  stop(): Promise<void>;
  on(verb: "error", cb: (err?: unknown) => void): void;
}

/** Backoff between restarts. */
export interface BackoffOptions {
  /** @default 1 */
  readonly initialSeconds?: number;
  /** The longest wait, and how long a run without error resets the count. @default 60 */
  readonly maxSeconds?: number;
}

/** Options of {@link InformerRestarter}. */
export interface InformerRestarterOptions {
  /** For the backoff's sleeps. */
  readonly clock: Clock;
  readonly backoff?: BackoffOptions;
  /** For the jitter. @default Math.random */
  readonly random?: () => number;
  /** Told of each error that restarts the informer, with the delay before the restart. */
  readonly onRestart?: (error: unknown, delaySeconds: number) => void;
}

/** Starts an informer and restarts it after each error until stopped. */
export class InformerRestarter {
  private attempts = 0;
  private startedAt: number;
  private restarting = false;
  private stopped = false;
  private readonly abort = new AbortController();
  /** Errors reported so far (a start with none reported during it has listed). */
  private errors = 0;
  private markListed: () => void = () => undefined;
  private readonly listedOnce: Promise<void>;
  /** Restarts so far (for tests and metrics). */
  restarts = 0;
  /** Whether the informer has listed once (a start completed with no error). */
  listed = false;

  constructor(
    private readonly informer: StartableInformer,
    private readonly options: InformerRestarterOptions,
  ) {
    this.startedAt = options.clock.now();
    this.listedOnce = new Promise<void>((resolve) => {
      this.markListed = resolve;
    });
    informer.on("error", (e) => void this.failed(e));
  }

  /**
   * Starts the informer; a failure to start is restarted like any other error. Resolves
   * once the informer has listed (after as many restarts as that takes), or on `stop()`.
   */
  async start(): Promise<void> {
    this.startedAt = this.options.clock.now();
    await this.attempt();
    await this.listedOnce;
  }

  /** Stops restarting, then stops the informer (whose AbortError is then ignored). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.markListed();
    await this.informer.stop();
  }

  /** One start of the informer: listed when no error was reported while it ran. */
  private async attempt(): Promise<void> {
    const before = this.errors;
    await this.informer.start().catch((e: unknown) => this.failed(e));
    if (this.errors === before && !this.stopped && !this.listed) {
      this.listed = true;
      this.markListed();
    }
  }

  private async failed(error: unknown): Promise<void> {
    this.errors++;
    // stop() aborts the watch, and the informer reports that as an error: not a failure.
    if (this.stopped || this.restarting) return;
    const { clock } = this.options;
    const resetAfter = this.options.backoff?.maxSeconds ?? 60;
    if (clock.now() - this.startedAt >= resetAfter) this.attempts = 0;
    const delay =
      backoffMs(this.attempts, {
        baseDelayMs: (this.options.backoff?.initialSeconds ?? 1) * 1000,
        maxDelayMs: resetAfter * 1000,
        ...(this.options.random ? { random: this.options.random } : {}),
      }) / 1000;
    this.attempts++;
    this.restarting = true;
    this.options.onRestart?.(error, delay);
    await clock.sleep(delay, this.abort.signal);
    // Cleared before start(): a start that fails at once reports its error again.
    this.restarting = false;
    if (this.stopped) return;
    this.startedAt = clock.now();
    this.restarts++;
    await this.attempt();
  }
}
