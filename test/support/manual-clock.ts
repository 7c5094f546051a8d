import type { Clock } from "../../controller/loop/ports.js";

/** Lets every pending promise callback and I/O-free continuation run. */
export async function settle(rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/**
 * A {@link Clock} that moves only when told: `advance(s)` wakes the sleepers in time order,
 * letting each one's continuation run before the next wakes. Sleeps resolve on abort.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = 1_800_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(seconds: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = {
        at: this.t + Math.max(0, seconds),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((x) => x !== timer);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  /** Sleepers waiting now. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `seconds`, waking sleepers due on the way, in order. */
  async advance(seconds: number): Promise<void> {
    const end = this.t + seconds;
    await settle();
    for (;;) {
      let next: Timer | undefined;
      for (const x of this.timers) {
        if (
          x.at <= end &&
          (next === undefined || x.at < next.at || (x.at === next.at && x.seq < next.seq))
        )
          next = x;
      }
      if (next === undefined) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.resolve();
      await settle();
    }
    this.t = end;
    await settle();
  }
}
