import type { Clock } from "../../controller/loop/ports.js";

/** The wall clock, for tests over real sockets: seconds since the epoch, timers. */
export const realClock: Clock = {
  now: () => Date.now() / 1000,
  sleep: (seconds, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const t = setTimeout(done, Math.max(0, seconds * 1000));
      function done() {
        signal?.removeEventListener("abort", done);
        clearTimeout(t);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/** Resolves once `cond()` holds, checking every 5 ms; rejects after `seconds`. */
export async function until(cond: () => boolean, seconds = 10, what = "condition"): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
