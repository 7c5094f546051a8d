/**
 * Exponential backoff with jitter for retrying calls to the API server (a watch that
 * failed, a write that got 429/5xx/timeout).
 */

/** Options of {@link backoffSeconds}. */
export interface BackoffOptions {
  /** Delay before the first retry, in seconds. @default 1 */
  readonly initialSeconds?: number;
  /** Growth per failed attempt. @default 2 */
  readonly factor?: number;
  /** The longest delay, in seconds. @default 60 */
  readonly maxSeconds?: number;
  /**
   * Fraction of the delay drawn at random, so that replicas and watches that failed
   * together do not retry together. @default 0.5 (a delay d becomes d × [0.5, 1))
   */
  readonly jitter?: number;
}

/**
 * The delay before retry number `attempt` (0 for the first): `initial × factor^attempt`,
 * capped at `max`, then reduced by up to `jitter` of itself.
 *
 * @example with the defaults and random() = 0.5: 0.75 s, 1.5 s, 3 s, …, 45 s from attempt 6 on
 */
export function backoffSeconds(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialSeconds ?? 1;
  const factor = options.factor ?? 2;
  const max = options.maxSeconds ?? 60;
  const jitter = options.jitter ?? 0.5;
  const base = Math.min(max, initial * factor ** Math.max(0, attempt));
  return base * (1 - jitter * random());
}
