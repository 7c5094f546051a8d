/**
 * Keeps an informer running. @kubernetes/client-node's informer re-lists by itself after
 * 410 Gone, but stops for good on any other error (a dropped connection, a 500, a list
 * that failed) and only tells its `error` listeners; its `stop()` tells them too, with an
 * AbortError. So: every error while running restarts the informer after an exponential
 * backoff with full jitter (a wait drawn below 1 s, 2 s, 4 s … up to 60 s, kube/retry.ts's
 * `backoffMs`; the count starts over once the informer ran for 60 s without error), and an
 * error after {@link InformerRestarter.stop} is ignored. Used by the ModelPool source and
 * by the pool pods' informers alike.
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
  /** Restarts so far (for tests and metrics). */
  restarts = 0;

  constructor(
    private readonly informer: StartableInformer,
    private readonly options: InformerRestarterOptions,
  ) {
    this.startedAt = options.clock.now();
    informer.on("error", (e) => void this.failed(e));
  }

  /** Starts the informer; a failure to start is restarted like any other error. */
  async start(): Promise<void> {
    this.startedAt = this.options.clock.now();
    await this.informer.start().catch((e: unknown) => this.failed(e));
  }

  /** Stops restarting, then stops the informer (whose AbortError is then ignored). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.informer.stop();
  }

  private async failed(error: unknown): Promise<void> {
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
    await this.informer.start().catch((e: unknown) => this.failed(e));
  }
}
