/**
 * The one parser of numbers written as text (traces, profiles, synthetic specs, command
 * lines). It accepts decimal notation only and never a non-finite value: `1e309`, `inf`,
 * `NaN`, an empty string, hex or trailing garbage are refused with a message saying what
 * is valid.
 */

/** Bounds a number must satisfy; every one is optional. */
export interface NumberBounds {
  /** Smallest value allowed (inclusive). */
  readonly min?: number;
  /** Largest value allowed (inclusive). */
  readonly max?: number;
  /** A value must be strictly greater than this. */
  readonly greaterThan?: number;
  /** Only whole numbers. */
  readonly integer?: boolean;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses a decimal number (`12`, `-0.5`, `1e3`) and checks it against `bounds`. Returns the
 * value, or a message such as `must be > 0 (got -1)`.
 */
export function parseNumber(
  text: string,
  bounds: NumberBounds = {},
): { readonly value: number } | { readonly message: string } {
  const t = text.trim();
  const shown = t.length > 40 ? `${t.slice(0, 40)}…` : t;
  const kind = bounds.integer ? "a whole number" : "a number";
  if (!DECIMAL.test(t)) return { message: `must be ${kind} (got "${shown}")` };
  const value = Number(t);
  if (!Number.isFinite(value)) return { message: `must be a finite number (got "${shown}")` };
  return checkNumber(value, bounds, shown);
}

/** Checks a number already parsed (e.g. by YAML) against `bounds`. */
export function checkNumber(
  value: number,
  bounds: NumberBounds,
  shown: string = String(value),
): { readonly value: number } | { readonly message: string } {
  if (!Number.isFinite(value)) return { message: `must be a finite number (got ${shown})` };
  if (bounds.integer && !Number.isSafeInteger(value)) {
    return { message: `must be a whole number (got ${shown})` };
  }
  if (bounds.greaterThan !== undefined && !(value > bounds.greaterThan)) {
    return { message: `must be > ${bounds.greaterThan} (got ${shown})` };
  }
  if (bounds.min !== undefined && value < bounds.min) {
    return { message: `must be >= ${bounds.min} (got ${shown})` };
  }
  if (bounds.max !== undefined && value > bounds.max) {
    return { message: `must be <= ${bounds.max} (got ${shown})` };
  }
  return { value };
}
