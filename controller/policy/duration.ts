/**
 * Durations in a ModelPool: Go / Kubernetes style strings (`90s`, `10m`, `1h30m`, `500ms`),
 * the same syntax as `metav1.Duration` and `time.ParseDuration` restricted to the units a
 * scaling policy needs. The policy keeps the string as written and exposes the value in
 * seconds beside it (`idleWindow: "10m"`, `idleWindowSeconds: 600`).
 */

/** The units a duration may use, with their length in milliseconds. */
export const DURATION_UNITS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;

/** A unit a duration may use: `h`, `m`, `s` or `ms`. */
export type DurationUnit = keyof typeof DURATION_UNITS;

/**
 * A duration string as written in a ModelPool, e.g. `"90s"`, `"10m"`, `"1h30m"`, `"500ms"`
 * or `"0"`. The template type only brands the string for the type checker;
 * {@link DURATION_PATTERN} is the real check.
 */
export type Duration = `${number}${DurationUnit}${string}` | "0";

/**
 * The regular expression (as JSON Schema `pattern` source) every duration matches: one or
 * more `<number><unit>` terms, e.g. `1h30m` or `1.5s`, or the bare `0`. No sign, no spaces.
 * A number has at most 15 digits before and 9 after the point, so every duration that
 * matches is a finite number of seconds (a 400-digit amount would be Infinity).
 */
export const DURATION_PATTERN = "^(?:0|(?:[0-9]{1,15}(?:\\.[0-9]{1,9})?(?:ms|h|m|s))+)$";

/** How to write a duration, for error messages. */
export const DURATION_HINT = 'a duration such as "90s", "10m", "1h30m" or "500ms"';

const durationRe = new RegExp(DURATION_PATTERN);
const termRe = /([0-9]{1,15}(?:\.[0-9]{1,9})?)(ms|h|m|s)/g;

/** Whether `text` is a valid duration string. */
export function isDuration(text: string): text is Duration {
  return durationRe.test(text);
}

/**
 * Parses a duration string into seconds (fractions allowed: `500ms` → 0.5), exact to the
 * microsecond. Terms add up in any order, like Go's `time.ParseDuration`: `1h30m` → 5400.
 *
 * @throws RangeError naming the received text when it is not a duration.
 */
export function parseDuration(text: string): number {
  if (!durationRe.test(text)) {
    throw new RangeError(`invalid duration ${JSON.stringify(text)}: expected ${DURATION_HINT}`);
  }
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(termRe)) {
    ms += Number(amount) * DURATION_UNITS[unit as DurationUnit];
  }
  // Round to whole microseconds so `0.1h` is 360 s, not 360.00000000000006 s.
  return Math.round(ms * 1000) / 1_000_000;
}

/**
 * Formats seconds as the shortest duration string that {@link parseDuration} reads back to
 * the same value (to the millisecond): 5400 → `1h30m`, 0.5 → `500ms`, 0 → `0s`.
 *
 * @throws RangeError for negative or non-finite input.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new RangeError(
      `a duration must be a finite number of seconds >= 0. Received: ${seconds}`,
    );
  }
  let ms = Math.round(seconds * 1000);
  if (ms === 0) return "0s";
  let out = "";
  for (const unit of ["h", "m", "s", "ms"] as const) {
    const size = DURATION_UNITS[unit];
    const n = Math.floor(ms / size);
    if (n > 0) {
      out += `${n}${unit}`;
      ms -= n * size;
    }
  }
  return out;
}
