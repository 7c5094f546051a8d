/**
 * The one parser for numbers written by people: trace cells, profile values, synthetic trace
 * parameters and command-line flags all go through {@link parseNumber}, so every input
 * accepts the same spellings and rejects the same things with the same words.
 *
 * Accepted: an optional sign, decimal digits with an optional fraction, and an optional
 * exponent (`42`, `-1`, `+0.5`, `.5`, `1.`, `2.5e3`, `1E-3`), with spaces around it.
 * Rejected: empty text, hexadecimal, octal or binary literals (`0x10`), `Infinity`, `inf`,
 * `NaN`, separators (`1_000`, `1,000`), units, and any value that is not finite once read
 * (`1e309`): a number too large for a double is an error, never `Infinity`.
 */

/**
 * Limits a parsed number must respect. Every limit is optional; the message on a failure
 * names all of them, so it says what would be valid.
 */
export interface NumberBounds {
  /** The smallest valid value (inclusive). */
  readonly min?: number;
  /** The value must be greater than this (exclusive), e.g. 0 for "> 0". */
  readonly greaterThan?: number;
  /** The largest valid value (inclusive). */
  readonly max?: number;
  /**
   * The value must be a whole number (and a safe integer, |v| ≤ 2⁵³ − 1, so it is exact).
   * @default false
   */
  readonly integer?: boolean;
}

/** What {@link parseNumber} found: the value, or a message saying what would be valid. */
export type ParsedNumber =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly message: string };

/** The decimal grammar (after trimming); `Number()` alone would take `0x10` and `Infinity`. */
const DECIMAL_RE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** Whether `text` (trimmed) is written as a decimal number, whatever its value. */
export function isDecimal(text: string): boolean {
  return DECIMAL_RE.test(text.trim());
}

/** Longest received text quoted back in a message. */
const ECHO_LIMIT = 40;

/**
 * How the received text is quoted in a message: as written when it is a plain decimal
 * (`(got -1)`), otherwise as a JSON string (invisible characters escaped, long text cut).
 */
function echo(text: string): string {
  const t = text.trim();
  if (DECIMAL_RE.test(t) && t.length <= ECHO_LIMIT) return t;
  const cut = t.length > ECHO_LIMIT ? `${t.slice(0, ECHO_LIMIT)}…` : t;
  return JSON.stringify(cut);
}

/**
 * The valid range in words, e.g. `> 0`, `>= 1`, `from 0 to 1`, `> 0 and <= 20`; empty
 * without limits. (Give `min` or `greaterThan`, not both.)
 */
export function describeBounds(bounds: NumberBounds): string {
  const { min, greaterThan, max } = bounds;
  if (min !== undefined && max !== undefined) return `from ${min} to ${max}`;
  const low =
    greaterThan !== undefined ? `> ${greaterThan}` : min !== undefined ? `>= ${min}` : undefined;
  if (low !== undefined && max !== undefined) return `${low} and <= ${max}`;
  return low ?? (max !== undefined ? `<= ${max}` : "");
}

/** `a number`, `a whole number`, followed by the range, for messages. */
function validText(bounds: NumberBounds, kind: string): string {
  const range = describeBounds(bounds);
  return range === "" ? kind : `${kind} ${range}`;
}

/**
 * Parses a decimal number from text and checks it against `bounds`.
 *
 * Messages start with `must be` so a caller can prefix what was read (`--top: `,
 * `rate: `, a CSV column name) and end with what was received:
 * - not a number: `must be a number > 0 (got "fast")`;
 * - not finite: `must be a finite number > 0 (got 1e309)`;
 * - not whole: `must be a whole number >= 1 (got 2.5)`;
 * - out of range: `must be > 0 (got -1)`, `must be from 0 to 1 (got 2)`.
 *
 * Examples: `parseNumber("-1", { greaterThan: 0 })` → `{ ok: false, message: "must be > 0
 * (got -1)" }`; `parseNumber(" 5 ", { integer: true, min: 1 })` → `{ ok: true, value: 5 }`.
 * For a command-line flag: `const r = parseNumber(value, { integer: true, min: 1 }); if
 * (!r.ok) usage(\`--top ${r.message}\`)`.
 */
export function parseNumber(text: string, bounds: NumberBounds = {}): ParsedNumber {
  const t = text.trim();
  if (!DECIMAL_RE.test(t)) {
    const kind = bounds.integer === true ? "a whole number" : "a number";
    return { ok: false, message: `must be ${validText(bounds, kind)} (got ${echo(text)})` };
  }
  const value = Number(t);
  const checked = checkNumber(value, bounds, text);
  // -0 reads as 0: no caller wants a signed zero.
  return checked.ok && value === 0 ? { ok: true, value: 0 } : checked;
}

/**
 * Checks a number already read (e.g. a duration string, in seconds) against `bounds`, with
 * the messages of {@link parseNumber}; `received` is the text to quote back. A value that
 * is not finite always fails.
 */
export function checkNumber(value: number, bounds: NumberBounds, received: string): ParsedNumber {
  const whole = bounds.integer === true;
  const got = `(got ${echo(received)})`;
  if (!Number.isFinite(value)) {
    const kind = whole ? "a whole number" : "a finite number";
    return { ok: false, message: `must be ${validText(bounds, kind)} ${got}` };
  }
  if (whole && !Number.isInteger(value)) {
    return { ok: false, message: `must be ${validText(bounds, "a whole number")} ${got}` };
  }
  if (whole && !Number.isSafeInteger(value)) {
    return {
      ok: false,
      message: `must be ${validText(bounds, "a whole number")} of at most 15 digits ${got}`,
    };
  }
  const { min, greaterThan, max } = bounds;
  if (
    (min !== undefined && !(value >= min)) ||
    (greaterThan !== undefined && !(value > greaterThan)) ||
    (max !== undefined && !(value <= max))
  ) {
    const range = describeBounds(bounds);
    return { ok: false, message: `must be ${whole ? `a whole number ${range}` : range} ${got}` };
  }
  return { ok: true, value };
}
