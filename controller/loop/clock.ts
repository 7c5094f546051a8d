import type { Clock } from "./ports.js";

/**
 * The live clock: Unix seconds, sleeping on Node's timers. `demo` and tests inject their
 * own (accelerated, manual); the loop never reads time any other way.
 */
export function createSystemClock(): Clock {
  return {
    now: () => Date.now() / 1000,
    sleep: (seconds, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) {
          resolve();
          return;
        }
        const timer = setTimeout(done, Math.max(0, seconds * 1000));
        function done(): void {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          resolve();
        }
        signal?.addEventListener("abort", done, { once: true });
      }),
  };
}
