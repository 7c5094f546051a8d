import { createHash } from "node:crypto";
import { type PoolRef, poolKey } from "./ports.js";

/**
 * When in its sync period each pool reconciles: pools added together (every ModelPool at
 * start, 200 of them) must not all collect, decide and write their status in the same
 * instant every period. Each pool gets a phase in [0, period) from a hash of
 * `namespace/name` (the first 32 bits of its SHA-256), and reconciles on the grid phase + k × period of the
 * clock's seconds, so the pools' reconciles spread evenly over the period, and the same
 * pool lands on the same points of every replica and after every restart (deterministic,
 * nothing remembered).
 *
 * A new pool reconciles once at once (KEDA and `/readyz` wait for its first decision),
 * then at the first grid point at least half a period later, so its first two rounds are
 * not a moment apart. A reconcile that comes late (a slow scrape) skips the grid points it
 * missed rather than catching up in a burst.
 *
 * Worked example: period 15 s, `vision/yolo` hashes to 0xCAB7B1B0 = 0.7919 of 2^32 →
 * phase 11.878 s. Added at t = 1000: reconciles at 1000; the next grid point, 1001.878
 * (11.878 + 66 × 15), is less than half a period away, so it goes on at 1016.878,
 * 1031.878, 1046.878, …
 */

/** The first 32 bits of the SHA-256 of a string (UTF-8), as an unsigned integer. */
function hash32(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0);
}

/** The pool's phase in [0, periodSeconds): where in each period it reconciles. */
export function poolPhase(pool: PoolRef, periodSeconds: number): number {
  return (hash32(poolKey(pool)) / 2 ** 32) * periodSeconds;
}

/**
 * The first grid point phase + k × period strictly after `now` and at least `minGap`
 * seconds after it.
 */
export function nextPhaseTick(
  now: number,
  periodSeconds: number,
  phase: number,
  minGap = 0,
): number {
  const after = now + minGap;
  const k = Math.floor((after - phase) / periodSeconds) + 1;
  let t = phase + k * periodSeconds;
  // Floating point: never a point at or before `after`, never a whole period beyond.
  if (t <= after) t += periodSeconds;
  if (t - periodSeconds > after) t -= periodSeconds;
  return t;
}
