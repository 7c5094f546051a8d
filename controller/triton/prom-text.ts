/**
 * A streaming parser of the Prometheus text exposition format 0.0.4, what Triton serves on
 * `:8002/metrics`. It agrees with what Prometheus 2.x itself accepts when it scrapes
 * (textparse's `PromParser`), checked against Debian's `prometheus` by
 * test/integration/prom-text-prometheus.test.ts:
 *
 * - a line is blank, a comment (`#…`), `# HELP name text`, `# TYPE name type`, or a sample
 *   `name[{label="value",…}] value [timestamp]`; lines end in `\n` (a `\r` is not a
 *   separator: `1\r` is not a number, as for Prometheus);
 * - names: metric `[a-zA-Z_:][a-zA-Z0-9_:]*`, label `[a-zA-Z_][a-zA-Z0-9_]*`, a label name
 *   at most once per sample; a trailing comma inside the braces is allowed;
 * - label values are double-quoted; `\\`, `\"` and `\n` are unescaped, any other escape is
 *   kept as written (Prometheus does the same); a raw newline inside a value is kept too
 *   (the format says to escape it, but Prometheus accepts it, so the record spans lines);
 * - values as Go's `strconv.ParseFloat` reads them in decimal (`1`, `-1.5e3`, `.5`, `NaN`,
 *   `+Inf`, `-inf`, `Infinity`, any case), out of range (`1e999`) being an error; hex
 *   floats and `_` separators are refused, as Prometheus refuses them;
 * - an optional timestamp: milliseconds since the epoch, digits only;
 * - `# TYPE` takes counter, gauge, histogram, summary or untyped.
 *
 * Exemplars and the OpenMetrics format are not part of 0.0.4 and are errors.
 *
 * The parser never throws on bad input: the first error stops it and is returned as a
 * {@link Problem} with the line and column of the offending character (Prometheus, too,
 * rejects a scrape at its first error). It allocates only the strings it hands out, and
 * none for series the handler does not `want`. The work is linear in the input however
 * it is chunked (an unclosed quote is searched for once per chunk).
 */
import type { Problem } from "../diagnostics/problem.js";

/** The metric types `# TYPE` may name. */
export const METRIC_TYPES = ["counter", "gauge", "histogram", "summary", "untyped"] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

/** What the parser hands out, in text order. Only `sample` is required. */
export interface PromTextHandler {
  /**
   * One sample. `labels` is a fresh array of name/value pairs, flat and in text order
   * (`[n0, v0, n1, v1, …]`), unescaped. `timestampMs` is undefined when absent.
   */
  sample(name: string, labels: string[], value: number, timestampMs: number | undefined): void;
  /**
   * Whether `sample` wants the series of this metric name; the others are checked as fully
   * but not handed out (no strings copied). @default every name
   */
  want?(name: string): boolean;
  /** `# HELP name text`, the text unescaped (`\\` and `\n`). */
  help?(name: string, text: string): void;
  /** `# TYPE name type`. */
  type?(name: string, type: MetricType): void;
}

const NL = 10;
const SPACE = 32;
const TAB = 9;
const HASH = 35;
const QUOTE = 34;
const BACKSLASH = 92;
const LBRACE = 123;
const RBRACE = 125;
const COMMA = 44;
const EQUALS = 61;

// Character classes by code unit: bit 1 may start a label name, bit 2 continue one, bit 4
// may start a metric name, bit 8 continue one.
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const alpha = /[a-zA-Z_]/.test(ch);
  const digit = /[0-9]/.test(ch);
  CLASS[c] =
    (alpha ? 1 : 0) |
    (alpha || digit ? 2 : 0) |
    (alpha || ch === ":" ? 4 : 0) |
    (alpha || digit || ch === ":" ? 8 : 0);
}
const isClass = (c: number, bit: number): boolean => c < 128 && (CLASS[c]! & bit) !== 0;

/** Longest timestamp Go's ParseInt(…, 10, 64) takes without overflow checks: 18 digits. */
const SAFE_TS_DIGITS = 18;

/** A parse failure at an index of the text being parsed. */
class Fail {
  constructor(
    readonly at: number,
    readonly message: string,
    readonly path = "",
  ) {}
}

/** What one line of input did, for {@link parseLine}. */
function describe(c: number | undefined): string {
  if (c === undefined || Number.isNaN(c)) return "end of input";
  if (c === NL) return "end of line";
  if (c === SPACE) return "a space";
  if (c === TAB) return "a tab";
  if (c < 32 || c === 127) return `control character U+${c.toString(16).padStart(4, "0")}`;
  return JSON.stringify(String.fromCharCode(c));
}

/**
 * Reads a value token (`start` to `end`) as Prometheus does: Go's ParseFloat, decimal only.
 * Returns undefined when it is not a number.
 */
export function parsePromValue(s: string, start = 0, end = s.length): number | undefined {
  if (start >= end) return undefined;
  let i = start;
  let c = s.charCodeAt(i);
  let signed = false;
  if (c === 43 /* + */ || c === 45 /* - */) {
    signed = true;
    i++;
    if (i >= end) return undefined;
    c = s.charCodeAt(i);
  }
  // Specials: inf / infinity (signed or not), nan (unsigned), in any case.
  if ((c | 32) === 105 /* i */ || (c | 32) === 110 /* n */) {
    const word = s.slice(i, end).toLowerCase();
    if (word === "inf" || word === "infinity")
      return s.charCodeAt(start) === 45 ? -Infinity : Infinity;
    if (word === "nan" && !signed) return Number.NaN;
    return undefined;
  }
  const intEnd = skipDigits(s, i, end);
  let digits = intEnd - i;
  i = intEnd;
  if (i < end && s.charCodeAt(i) === 46 /* . */) {
    const fracEnd = skipDigits(s, i + 1, end);
    digits += fracEnd - i - 1;
    i = fracEnd;
  }
  if (digits === 0) return undefined;
  if (i < end && (s.charCodeAt(i) | 32) === 101 /* e */) {
    i++;
    if (i < end && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) i++;
    const expEnd = skipDigits(s, i, end);
    if (expEnd === i) return undefined;
    i = expEnd;
  }
  if (i !== end) return undefined;
  if (intEnd === end && end - start <= 15) {
    // Whole numbers (most counters): no string to convert.
    let v = 0;
    for (let k = signed ? start + 1 : start; k < end; k++) v = v * 10 + (s.charCodeAt(k) - 48);
    return s.charCodeAt(start) === 45 ? -v : v;
  }
  const v = Number(start === 0 && end === s.length ? s : s.slice(start, end));
  // Go's ParseFloat reports overflow (1e999) as an error, which fails the scrape.
  return Number.isFinite(v) ? v : undefined;
}

/** Unescapes a label value between `start` and `end` (the quotes excluded). */
function unescapeLabel(s: string, start: number, end: number): string {
  let out = "";
  let from = start;
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) !== BACKSLASH) continue;
    const n = s.charCodeAt(i + 1);
    const rep = n === BACKSLASH ? "\\" : n === QUOTE ? '"' : n === 110 /* n */ ? "\n" : undefined;
    if (rep !== undefined) {
      out += s.slice(from, i) + rep;
      from = i + 2;
    }
    i++;
  }
  return out + s.slice(from, end);
}

/** Unescapes HELP text: `\\` and `\n`; any other escape is kept as written. */
function unescapeHelp(s: string): string {
  if (s.indexOf("\\") < 0) return s;
  return s.replace(/\\([\\n])/g, (_m, c: string) => (c === "n" ? "\n" : "\\"));
}

function skipBlanks(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== SPACE && c !== TAB) break;
    i++;
  }
  return i;
}

function skipDigits(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  return i;
}

/** The end of a value token: the next blank, `{` or the line's end. */
function skipValue(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === SPACE || c === TAB || c === LBRACE) break;
    i++;
  }
  return i;
}

/**
 * Parses one record (`start` to `end`, the newline excluded: a line, or more when a label
 * value holds raw newlines) into `h`; returns a {@link Fail} for garbage, or {@link OPEN}
 * when the record runs past the text so far (`st` says where to resume). The record's end
 * is left in `st.end`.
 */
function parseLine(
  s: string,
  start: number,
  end: number,
  h: PromTextHandler,
  st: ScanState,
): Fail | undefined {
  st.end = end;
  let i = skipBlanks(s, start, end);
  if (i === end) return undefined;
  let c = s.charCodeAt(i);
  if (c === HASH) return parseComment(s, i, end, h);
  // Prometheus takes blanks before a name as part of it, and then refuses the name.
  if (i !== start)
    return new Fail(start, "a sample line must start with its metric name, not a blank");
  if (!isClass(c, 4))
    return new Fail(i, `expected a metric name, a comment or a blank line, got ${describe(c)}`);
  i++;
  while (i < end && isClass(s.charCodeAt(i), 8)) i++;
  const name = s.slice(start, i);
  // Unwanted series are checked as fully, but their labels are not copied out.
  const keep = h.want === undefined || h.want(name);
  i = skipBlanks(s, i, end);
  const labels: string[] = [];
  let nl = 0;
  let many: Set<string> | undefined;
  // The next backslash of the text, found once per text and moved on past each line: a
  // line without one has no escapes, so its label values end at the next quote.
  if (st.backslash < i) {
    const b = s.indexOf("\\", i);
    st.backslash = b < 0 ? Number.POSITIVE_INFINITY : b;
  }
  let noEscapes = st.backslash >= end;
  if (i < end && s.charCodeAt(i) === LBRACE) {
    i++;
    for (;;) {
      i = skipBlanks(s, i, end);
      c = i < end ? s.charCodeAt(i) : NL;
      if (c === RBRACE) {
        i++;
        break;
      }
      if (!isClass(c, 1))
        return new Fail(i, `expected a label name or "}", got ${describe(c)}`, name);
      const ln = i;
      i++;
      while (i < end && isClass(s.charCodeAt(i), 2)) i++;
      const len = i - ln;
      if (len === 8 && s.startsWith("__name__", ln))
        return new Fail(
          ln,
          "label __name__ is the metric name: it cannot be given again as a label",
          name,
        );
      // Duplicates by position, so that unwanted samples copy no strings; past
      // MANY_LABELS a set of names, so that a sample with thousands stays linear.
      if (nl < MANY_LABELS) {
        promTextWork.labelComparisons += nl;
        for (let k = 0; k < 2 * nl; k += 2) {
          const a = labelPos[k]!;
          if (labelPos[k + 1]! - a === len && sameText(s, a, ln, len))
            return new Fail(
              ln,
              `label ${s.slice(ln, i)} appears twice (a label name at most once per sample)`,
              name,
            );
        }
        labelPos[2 * nl] = ln;
        labelPos[2 * nl + 1] = i;
        if (nl === MANY_LABELS - 1) {
          many = new Set();
          for (let k = 0; k < 2 * MANY_LABELS; k += 2)
            many.add(s.slice(labelPos[k]!, labelPos[k + 1]!));
        }
      } else {
        const n = s.slice(ln, i);
        if (many!.has(n))
          return new Fail(
            ln,
            `label ${n} appears twice (a label name at most once per sample)`,
            name,
          );
        many!.add(n);
      }
      nl++;
      const labelEnd = i;
      i = skipBlanks(s, i, end);
      c = i < end ? s.charCodeAt(i) : NL;
      if (c !== EQUALS)
        return new Fail(
          i,
          `expected "=" after label name ${s.slice(ln, labelEnd)}, got ${describe(c)}`,
          name,
        );
      i = skipBlanks(s, i + 1, end);
      c = i < end ? s.charCodeAt(i) : NL;
      if (c !== QUOTE)
        return new Fail(
          i,
          `expected a double-quoted value of label ${s.slice(ln, labelEnd)}, got ${describe(c)}`,
          name,
        );
      const vs = i + 1;
      let escaped = false;
      i = vs;
      if (noEscapes) {
        // No backslash on this line: the value ends at the next quote (a native search).
        const q = s.indexOf('"', vs);
        if (q >= 0 && q < end) i = q;
      }
      for (;;) {
        // Prometheus lets a label value hold raw newlines: the search goes past the line.
        if (i >= s.length) {
          st.open = new Fail(
            vs - 1,
            `unterminated value of label ${s.slice(ln, labelEnd)}: no closing '"' before the end of the text`,
            name,
          );
          st.resumeAt = i;
          return OPEN;
        }
        c = s.charCodeAt(i);
        if (c === QUOTE) break;
        if (c === BACKSLASH) {
          escaped = true;
          i++;
        }
        i++;
      }
      if (i > end) {
        // The value spanned lines: the record now ends at the first newline after it.
        const e = s.indexOf("\n", i);
        if (e < 0 && !st.final) {
          st.resumeAt = -1;
          return OPEN;
        }
        end = e < 0 ? s.length : e;
        st.end = end;
        noEscapes = st.backslash >= end;
      }
      if (keep)
        labels.push(s.slice(ln, labelEnd), escaped ? unescapeLabel(s, vs, i) : s.slice(vs, i));
      i = skipBlanks(s, i + 1, end);
      c = i < end ? s.charCodeAt(i) : NL;
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c === RBRACE) {
        i++;
        break;
      }
      return new Fail(
        i,
        `expected "," or "}" after the value of label ${s.slice(ln, labelEnd)}, got ${describe(c)}`,
        name,
      );
    }
    i = skipBlanks(s, i, end);
  }
  const vs = i;
  i = skipValue(s, i, end);
  if (vs === i)
    return new Fail(
      i,
      `expected a value after ${name}, got ${describe(i < end ? s.charCodeAt(i) : NL)}`,
      name,
    );
  const value = parsePromValue(s, vs, i);
  if (value === undefined)
    return new Fail(
      vs,
      `${JSON.stringify(s.slice(vs, i))} is not a number (valid: a decimal such as 12 or -1.5e3, NaN, +Inf, -Inf)`,
      name,
    );
  i = skipBlanks(s, i, end);
  let ts: number | undefined;
  if (i < end) {
    const ts0 = i;
    i = skipDigits(s, i, end);
    if (i === ts0 || (i < end && s.charCodeAt(i) !== SPACE && s.charCodeAt(i) !== TAB))
      return new Fail(
        ts0,
        `expected a timestamp (integer milliseconds) or the end of the line after the value, got ${JSON.stringify(s.slice(ts0, Math.min(end, ts0 + 20)))}`,
        name,
      );
    if (i - ts0 > SAFE_TS_DIGITS) {
      const t = BigInt(s.slice(ts0, i));
      if (t > 9223372036854775807n)
        return new Fail(ts0, "timestamp out of range (int64 milliseconds)", name);
    }
    ts = Number(s.slice(ts0, i));
    i = skipBlanks(s, i, end);
    if (i < end)
      return new Fail(
        i,
        `expected the end of the line after the timestamp, got ${describe(s.charCodeAt(i))}`,
        name,
      );
  }
  if (keep) h.sample(name, labels, value, ts);
  return undefined;
}

/** What {@link parseLine} remembers over the lines of one text. */
interface ScanState {
  /** Index of the next backslash at or after the current line (Infinity: none). */
  backslash: number;
  /** Whether the text is complete (no more chunks). */
  final: boolean;
  /** The end of the record just parsed (past the line's end when a label value spanned lines). */
  end: number;
  /** After {@link OPEN}: where the search for a closing quote resumes (-1: a newline is awaited). */
  resumeAt: number;
  /** After {@link OPEN} from an unclosed label value: the problem it is when the text ends. */
  open?: Fail;
}

/** A record runs past the text so far: more input is needed. */
const OPEN = new Fail(-1, "more input needed");

/**
 * Work the parser did, for tests that check it stays linear without timing it: label-name
 * comparisons of the duplicate check (at most 120 per sample, whatever its label count).
 */
export const promTextWork = { labelComparisons: 0 };

/** Label names compared pairwise up to this many per sample; a set beyond. */
const MANY_LABELS = 16;

/** Start and end of the first label names of the current sample (reused: no allocation). */
const labelPos = new Int32Array(2 * MANY_LABELS);

/** Whether `s` has the same `len` characters at `a` as at `b`. */
function sameText(s: string, a: number, b: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (s.charCodeAt(a + k) !== s.charCodeAt(b + k)) return false;
  return true;
}

function parseComment(s: string, i: number, end: number, h: PromTextHandler): Fail | undefined {
  // `#` then blanks then HELP or TYPE then at least one blank: metadata; anything else is a comment.
  let j = i + 1;
  const afterHash = j;
  j = skipBlanks(s, j, end);
  if (j === afterHash || end - j < 5) return undefined;
  const kw = s.slice(j, j + 4);
  if (kw !== "HELP" && kw !== "TYPE") return undefined;
  const k = j + 4;
  const b = s.charCodeAt(k);
  if (b !== SPACE && b !== TAB) return undefined;
  j = skipBlanks(s, k, end);
  const ns = j;
  if (j >= end || !isClass(s.charCodeAt(j), 4))
    return new Fail(
      j,
      `expected a metric name after # ${kw}, got ${describe(j < end ? s.charCodeAt(j) : NL)}`,
    );
  j++;
  while (j < end && isClass(s.charCodeAt(j), 8)) j++;
  const name = s.slice(ns, j);
  // Prometheus takes the rest of the line after the name, less its first character (the
  // separating blank, but it drops whatever is there: `# HELP a{ x` has the text " x").
  const text = j < end ? s.slice(j + 1, end) : "";
  if (kw === "HELP") {
    h.help?.(name, unescapeHelp(text));
    return undefined;
  }
  if (!(METRIC_TYPES as readonly string[]).includes(text))
    return new Fail(
      Math.min(j + 1, end),
      `invalid metric type ${JSON.stringify(text)} (valid: ${METRIC_TYPES.join(", ")}, after exactly one blank)`,
      name,
    );
  h.type?.(name, text as MetricType);
  return undefined;
}

/**
 * Parses a whole text; returns undefined when it is valid, or the first problem. `file` names
 * the input in the problem (e.g. the scrape URL).
 */
export function parsePromText(
  text: string,
  h: PromTextHandler,
  file = "<metrics>",
): Problem | undefined {
  const p = new PromTextParser(h, file);
  return p.write(text) ?? p.end();
}

/**
 * The streaming form: feed chunks as they arrive (`write`), then `end()`. Lines are parsed
 * as soon as they are complete, so a large response is never held whole; line and column
 * numbers count across chunks. After the first problem, further input is ignored and the
 * same problem is returned.
 */
export class PromTextParser {
  private rest = "";
  private line = 1;
  private problem: Problem | undefined;
  /**
   * While a label value of the pending record is unclosed: the index in `rest` where the
   * search for its closing quote resumes (so each chunk is searched once); -1 otherwise.
   */
  private quoteFrom = -1;

  constructor(
    private readonly h: PromTextHandler,
    private readonly file = "<metrics>",
  ) {}

  /** Parses every complete record of `chunk` (with what was left of the previous one). */
  write(chunk: string): Problem | undefined {
    if (this.problem) return this.problem;
    if (this.quoteFrom >= 0) {
      const s = this.rest + chunk;
      let i = this.quoteFrom;
      while (i < s.length) {
        const c = s.charCodeAt(i);
        if (c === QUOTE) break;
        i += c === BACKSLASH ? 2 : 1;
      }
      this.rest = s;
      if (i >= s.length) {
        this.quoteFrom = i;
        return undefined;
      }
      this.quoteFrom = -1;
      this.rest = "";
      return this.drain(s, false);
    }
    if (this.rest.length > 0 && chunk.indexOf("\n") < 0) {
      // No record can end in this chunk: keep it without scanning the rest again.
      this.rest += chunk;
      return undefined;
    }
    const s = this.rest.length > 0 ? this.rest + chunk : chunk;
    this.rest = "";
    return this.drain(s, false);
  }

  /** Parses the last record (which may lack its newline); returns the problem, if any. */
  end(): Problem | undefined {
    if (this.problem) return this.problem;
    const s = this.rest;
    this.rest = "";
    this.quoteFrom = -1;
    return s.length === 0 ? undefined : this.drain(s, true);
  }

  private drain(s: string, final: boolean): Problem | undefined {
    const st: ScanState = { backslash: -1, final, end: 0, resumeAt: -1 };
    let start = 0;
    while (start < s.length) {
      let nl = s.indexOf("\n", start);
      if (nl < 0) {
        if (!final) break;
        nl = s.length;
      }
      const f = parseLine(s, start, nl, this.h, st);
      if (f === OPEN) {
        if (final) return this.fail(s, start, st.open ?? f);
        this.rest = s.slice(start);
        this.quoteFrom = st.resumeAt < 0 ? -1 : st.resumeAt - start;
        return undefined;
      }
      if (f) return this.fail(s, start, f);
      this.line++;
      if (st.end !== nl)
        for (let k = nl; k >= 0 && k < st.end; k = s.indexOf("\n", k + 1)) this.line++;
      start = st.end + 1;
    }
    this.rest = start >= s.length ? "" : s.slice(start);
    return undefined;
  }

  private fail(s: string, recordStart: number, f: Fail): Problem {
    // A record may span lines (raw newlines in a label value): count them up to the fault.
    let line = this.line;
    let lineStart = recordStart;
    for (let k = s.indexOf("\n", recordStart); k >= 0 && k < f.at; k = s.indexOf("\n", k + 1)) {
      line++;
      lineStart = k + 1;
    }
    this.problem = {
      file: this.file,
      line,
      col: f.at - lineStart + 1,
      path: f.path,
      message: f.message,
    };
    return this.problem;
  }
}

/** A sample with its labels as an object, for callers that want the whole text at once. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs?: number;
}

/** Parses a whole text into samples; a problem instead when it is not valid. */
export function parsePromSamples(
  text: string,
  file = "<metrics>",
): { readonly samples: PromSample[]; readonly problem?: Problem } {
  const samples: PromSample[] = [];
  const problem = parsePromText(
    text,
    {
      sample(name, labels, value, timestampMs) {
        const o: Record<string, string> = {};
        for (let k = 0; k < labels.length; k += 2) o[labels[k]!] = labels[k + 1]!;
        samples.push(
          timestampMs === undefined
            ? { name, labels: o, value }
            : { name, labels: o, value, timestampMs },
        );
      },
    },
    file,
  );
  return problem ? { samples, problem } : { samples };
}
