import type { Clock } from "./ports.js";

/**
 * The live clock: Unix seconds, sleeping on Node's timers. `demo` and tests inject their
 * own (accelerated, manual); the loop never reads time any other way.
 */
export function createSystemClock(): Clock {
  return createAcceleratedClock(1);
}

/** Options of {@link createAcceleratedClock}. */
export interface AcceleratedClockOptions {
  /** The clock's time at its start, seconds. @default the wall clock's (Unix time) at its start */
  readonly startSeconds?: number;
  /** Wall-clock seconds (tests inject their own). @default `Date.now() / 1000` */
  readonly wallSeconds?: () => number;
}

/**
 * A clock that runs `speed` times faster than the wall clock: simulated seconds = start +
 * speed × wall seconds since the clock was created. Sleeps end when the clock reaches
 * their time, so a loop on it ticks `speed` times as often as it would live.
 *
 * Example: speed 60 → a 15 s sync period passes every 0.25 s of wall time, a 2 h trace in
 * 2 min.
 */
export function createAcceleratedClock(
  speed: number,
  options: AcceleratedClockOptions = {},
): Clock {
  if (!(speed > 0 && Number.isFinite(speed))) {
    throw new RangeError(`a clock's speed must be a finite number > 0. Received: ${speed}`);
  }
  const wall = options.wallSeconds ?? (() => Date.now() / 1000);
  const wall0 = wall();
  const start = options.startSeconds ?? wall0;
  const now = (): number => start + speed * (wall() - wall0);
  return {
    now,
    sleep: (seconds, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) {
          resolve();
          return;
        }
        const timer = setTimeout(done, Math.max(0, (seconds / speed) * 1000));
        function done(): void {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          resolve();
        }
        signal?.addEventListener("abort", done, { once: true });
      }),
  };
}
