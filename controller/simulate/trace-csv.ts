/**
 * Recorded arrival traces: {@link parseTraceCsv} reads a CSV of request timestamps (one
 * request per row) or of per-interval counts or rates into an {@link ArrivalSource}, from
 * text or streamed ({@link TraceCsvParser}, {@link readTraceCsv}). The source contract
 * lives in arrivals.ts, the count and rate sources in arrival-sources.ts; this file adds
 * the timestamp parsing (ISO-8601 or seconds, without a Date or a regular expression per
 * row in the common shapes) and the source over recorded times.
 */

import { InputError, moreProblems, type Problem } from "../diagnostics/problem.js";
import { isDecimal, parseNumber } from "../util/number.js";
import { CountsSource, PoissonSource } from "./arrival-sources.js";
import { type ArrivalSource, MAX_TRACE_REQUESTS, MAX_TRACE_SECONDS } from "./arrivals.js";
import { splitCsvLine } from "./csv.js";
import { TableSegments } from "./intensity.js";
import { createRng, type Rng } from "./rng.js";

/** Header names (lower case, any `(unit)` suffix dropped) of the time column, by preference. */
export const TRACE_TIME_COLUMNS = ["timestamp", "time", "ts", "datetime", "date", "t"] as const;
/** Header names of a per-interval request count column. */
export const TRACE_COUNT_COLUMNS = ["count", "requests", "arrivals", "n"] as const;
/** Header names of a per-interval rate column (requests per second). */
export const TRACE_RATE_COLUMNS = ["rate", "rps", "qps"] as const;
/** Header name of the column saying which model of the pool a request is for. */
export const TRACE_MODEL_COLUMN = "model";

/**
 * The `model` column of a trace of one request per row: which pool model each request is
 * for (a pool of several models; `simulate` checks the names against the pool).
 */
export interface TraceModels {
  /** The trace's file, as named. */
  readonly file: string;
  /** Model names in order of first appearance; `labels` index into this. */
  readonly names: readonly string[];
  /** Where each name first appears (line and column of its cell), for problems. */
  readonly firstSeen: readonly { readonly line: number; readonly col: number }[];
  /** The model of each arrival, in the order the source delivers them. */
  readonly labels: Uint8Array;
}

/** A recorded trace, with its `model` column when it has one. */
export type RecordedTrace = ArrivalSource & {
  readonly models?: TraceModels;
  /** The requests for the `models.names[label]` model alone (a trace with a `model` column). */
  only?(label: number): ArrivalSource;
};

/** The most model names a trace's `model` column may hold. */
const MAX_TRACE_MODELS = 255;

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:([Zz])|([+-])(\d{2}):?(\d{2})?)?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A parsed timestamp: whole seconds (exact integer) + fraction, or an error. */
interface Instant {
  whole: number;
  frac: number;
  iso: boolean;
}

/** Two decimal digits of s at i as a number, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
let cachedDay = -1;
let cachedDayEpoch = 0;

/**
 * The common shape `YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|±HH[:]MM]` without a regular expression
 * or a Date per row (a log's rows share their day). False for anything else, including
 * invalid fields, which the regular expression path then reports.
 */
function parseIsoFast(s: string, out: Instant): boolean {
  const n = s.length;
  if (n < 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const sep = s.charCodeAt(10);
  if ((sep !== 84 && sep !== 116 && sep !== 32) || s.charCodeAt(13) !== 58) return false;
  if (s.charCodeAt(16) !== 58) return false;
  const y1 = twoDigits(s, 0);
  const y2 = twoDigits(s, 2);
  const mo = twoDigits(s, 5);
  const d = twoDigits(s, 8);
  const h = twoDigits(s, 11);
  const mi = twoDigits(s, 14);
  const sec = twoDigits(s, 17);
  if ((y1 | y2 | mo | d | h | mi | sec) < 0) return false;
  const y = y1 * 100 + y2;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const dim = mo === 2 && leap ? 29 : (DAYS_IN_MONTH[mo - 1] ?? 0);
  if (mo < 1 || mo > 12 || d < 1 || d > dim || h > 23 || mi > 59 || sec > 60) return false;
  let i = 19;
  let frac = 0;
  let c = s.charCodeAt(i);
  if (c === 46 || c === 44) {
    const from = ++i;
    let digits = 0;
    while (i < n) {
      const v = s.charCodeAt(i) - 48;
      if (v < 0 || v > 9) break;
      if (i - from < 15) digits = digits * 10 + v;
      i++;
    }
    if (i === from) return false;
    frac = digits / POW10[Math.min(15, i - from)]!;
    c = s.charCodeAt(i);
  }
  let offset = 0;
  if (c === 90 || c === 122) {
    i++;
  } else if (c === 43 || c === 45) {
    const oh = twoDigits(s, i + 1);
    i += 3;
    if (s.charCodeAt(i) === 58) i++;
    let om = 0;
    if (i < n) {
      om = twoDigits(s, i);
      i += 2;
    }
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return false;
    offset = (c === 45 ? -1 : 1) * (oh * 3600 + om * 60);
  }
  if (i !== n) return false;
  const day = (y * 100 + mo) * 100 + d;
  if (day !== cachedDay) {
    cachedDayEpoch = Date.UTC(y, mo - 1, d) / 1000;
    cachedDay = day;
  }
  out.whole = cachedDayEpoch + h * 3600 + mi * 60 + sec - offset;
  out.frac = frac;
  out.iso = true;
  return true;
}

/**
 * Plain `digits[.digits]` seconds, split exactly into whole seconds and fraction (epoch
 * seconds with microseconds keep them). False for anything else (signs, exponents).
 */
function parseSecondsFast(s: string, out: Instant): boolean {
  const n = s.length;
  let whole = 0;
  let i = 0;
  for (; i < n; i++) {
    const v = s.charCodeAt(i) - 48;
    if (v < 0 || v > 9) break;
    whole = whole * 10 + v;
  }
  if (i === 0 || i > 15) return false;
  let frac = 0;
  if (i < n) {
    if (s.charCodeAt(i) !== 46) return false;
    const from = ++i;
    let digits = 0;
    for (; i < n; i++) {
      const v = s.charCodeAt(i) - 48;
      if (v < 0 || v > 9) return false;
      if (i - from < 15) digits = digits * 10 + v;
    }
    frac = digits / POW10[Math.min(15, i - from)]!;
  }
  out.whole = whole;
  out.frac = frac;
  out.iso = false;
  return true;
}

function parseInstant(text: string, out: Instant): string | undefined {
  const s = text.trim();
  if (parseIsoFast(s, out) || parseSecondsFast(s, out)) return undefined;
  if (isDecimal(s)) {
    const r = parseNumber(s, { min: 0 });
    if (!r.ok) return `timestamp in seconds ${r.message}`;
    const dot = s.indexOf(".");
    if (dot >= 0 && !/[eE]/.test(s)) {
      out.whole = Number(s.slice(0, dot) || "0");
      out.frac = Number(`0${s.slice(dot)}`);
    } else {
      const v = Number(s);
      out.whole = Math.floor(v);
      out.frac = v - out.whole;
    }
    out.iso = false;
    return undefined;
  }
  const m = ISO_RE.exec(s);
  if (m === null) {
    return `timestamp ${JSON.stringify(s)} is neither ISO-8601 (e.g. 2024-05-01T12:00:00.250Z) nor a number of seconds`;
  }
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = Number(m[4] ?? 0);
  const mi = Number(m[5] ?? 0);
  const sec = Number(m[6] ?? 0);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const dim = mo === 2 && leap ? 29 : (DAYS_IN_MONTH[mo - 1] ?? 0);
  if (mo < 1 || mo > 12 || d < 1 || d > dim || h > 23 || mi > 59 || sec > 60) {
    return `timestamp ${JSON.stringify(s)} is not a valid date and time`;
  }
  let offset = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11] ?? 0);
    if (oh > 23 || om > 59) return `timestamp ${JSON.stringify(s)} has an invalid UTC offset`;
    offset = (m[9] === "-" ? -1 : 1) * (oh * 3600 + om * 60);
  }
  out.whole = Date.UTC(y, mo - 1, d, h, mi, sec) / 1000 - offset;
  out.frac = m[7] === undefined ? 0 : Number(`0.${m[7]}`);
  out.iso = true;
  return undefined;
}

/** The 1-based column of the field {@link fieldOf} found last. */
let fieldCol = 0;

/** The index-th comma-separated field of a line without quotes (undefined if it has fewer). */
function fieldOf(line: string, index: number): string | undefined {
  let start = 0;
  for (let i = 0; i < index; i++) {
    const comma = line.indexOf(",", start);
    if (comma < 0) {
      fieldCol = line.length + 1;
      return undefined;
    }
    start = comma + 1;
  }
  const end = line.indexOf(",", start);
  fieldCol = start + 1;
  return end < 0 ? line.slice(start) : line.slice(start, end);
}

/** A growable Float64Array. */
class F64List {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

const MAX_PROBLEMS = 50;

function headerKey(h: string): string {
  return h
    .trim()
    .toLowerCase()
    .replace(/\s*[([].*$/, "");
}

/** The longest line a trace CSV may have, in characters (1 Mi): a guard for binary input. */
export const MAX_TRACE_LINE = 1 << 20;

/**
 * Reads a CSV trace. Two shapes:
 *
 * - One request per row: the time column is the header named one of
 *   {@link TRACE_TIME_COLUMNS} (first match), or the first column when there is no header
 *   or no such name; other columns are ignored. Times are ISO-8601 (`2024-05-01T12:00:00Z`,
 *   with or without fractional seconds, `Z` or `±hh:mm`; no zone means UTC, so there is no
 *   daylight-saving jump) or numbers of seconds (one kind per file). A header column named
 *   `model` says which pool model each request is for ({@link TraceModels}; a pool of
 *   several models; not read in per-interval traces, whose counts add up over models).
 *   Rows may be in any
 *   order (they are sorted). When every time is a whole second and some repeat (a log with
 *   1 s resolution), each is spread uniformly over its second (seeded), so a second's
 *   requests do not arrive as one artificial burst. Duration: last time + the mean gap
 *   (+1 s for spread whole seconds).
 * - Per-interval counts: a header with a time column and a {@link TRACE_COUNT_COLUMNS}
 *   column (whole numbers), or a {@link TRACE_RATE_COLUMNS} column (requests per second).
 *   The interval is the most common gap between consecutive times; a row covers
 *   [time, time + interval) (cut at the next row), and missing rows mean no requests.
 *   Counts are kept exactly (arrivals spread like a Poisson process given its count);
 *   rates give a Poisson process at that rate. Rows with the same time add up.
 *
 * Times are shifted so the first is 0. Blank lines and lines starting with `#` are skipped.
 * `seed` seeds the placement of arrivals inside count intervals and whole seconds (the
 * same seed gives the same arrivals; the file's name plays no part).
 *
 * Limits: a trace may span at most {@link MAX_TRACE_SECONDS} (31 days) and hold at most
 * {@link MAX_TRACE_REQUESTS} requests (rows, counts, or rate × interval); a line may be at
 * most {@link MAX_TRACE_LINE} characters.
 *
 * This is a thin wrapper over {@link TraceCsvParser} for text already in memory; use the
 * parser (or {@link readTraceCsv}) to read a file or stdin as a stream.
 *
 * @throws InputError with `file:line:col: message` for every bad row (the first 50).
 */
export function parseTraceCsv(text: string, file: string, seed = 0): RecordedTrace {
  const parser = new TraceCsvParser(file, seed);
  parser.push(text);
  return parser.end();
}

/**
 * Reads a CSV trace from a stream of chunks (a file's or stdin's `Readable`, which is
 * async-iterable; strings, or bytes decoded as UTF-8), as {@link parseTraceCsv} reads
 * text.
 *
 * @throws InputError as {@link parseTraceCsv}.
 */
export async function readTraceCsv(
  chunks: AsyncIterable<string | Uint8Array>,
  file: string,
  seed = 0,
): Promise<RecordedTrace> {
  const parser = new TraceCsvParser(file, seed);
  const decoder = new TextDecoder("utf-8");
  for await (const chunk of chunks) {
    parser.push(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
  }
  parser.push(decoder.decode());
  return parser.end();
}

/**
 * A push parser for CSV traces (the format: {@link parseTraceCsv}): `push` text in chunks
 * of any size, cut anywhere (even inside a line or a `\r\n`), then `end()` for the source.
 *
 * Memory: the unfinished line (at most {@link MAX_TRACE_LINE} characters), at most 50
 * problems, and what the trace model keeps — 8 bytes per request for timestamp traces (the
 * sorted times), 16 bytes per row for count or rate traces — never the file's text.
 */
export class TraceCsvParser {
  private readonly file: string;
  private readonly seed: number;
  private readonly problems: Problem[] = [];
  private more = 0;
  /** The start of a line not yet ended by a newline. */
  private carry = "";
  /** The current line is over MAX_TRACE_LINE: drop it up to its newline. */
  private skipping = false;
  private started = false;
  private ended = false;
  private lineNo = 0;

  private timeCol = 0;
  private valueCol = -1;
  /** The `model` column (-1: none), the names seen, where, and each row's. */
  private modelCol = -1;
  private readonly modelIndex = new Map<string, number>();
  private readonly modelSeen: { line: number; col: number }[] = [];
  private modelLabels = new Uint8Array(1024);
  private valueKind: "count" | "rate" | undefined;
  private headerLine = 0;
  private first = true;

  private readonly inst: Instant = { whole: 0, frac: 0, iso: false };
  private base = Number.NaN;
  private isoFile: boolean | undefined;
  private kindLine = 0;
  private allWhole = true;
  private readonly times = new F64List();
  private readonly values = new F64List();
  /** The earliest and latest times (relative to the first row's) and where they are. */
  private earliest = { t: Number.POSITIVE_INFINITY, line: 0, col: 0 };
  private latest = { t: Number.NEGATIVE_INFINITY, line: 0, col: 0 };
  private total = 0;

  /**
   * @param file the name problems are reported under.
   * @param seed seeds the placement of arrivals (see {@link parseTraceCsv}).
   */
  constructor(file: string, seed = 0) {
    this.file = file;
    this.seed = seed;
  }

  /** Characters of an unfinished line held, at most {@link MAX_TRACE_LINE}. */
  get bufferedChars(): number {
    return this.carry.length;
  }

  /** Reads the next piece of text. */
  push(chunk: string): void {
    if (this.ended) throw new Error("TraceCsvParser.push after end()");
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let pos = 0;
    for (;;) {
      const nl = text.indexOf("\n", pos);
      if (nl < 0) break;
      if (this.skipping) {
        // The newline that ends a line already reported as too long.
        this.skipping = false;
      } else if (this.carry.length + (nl - pos) > MAX_TRACE_LINE) {
        this.tooLong();
        this.carry = "";
      } else {
        this.line(text.slice(pos, nl));
      }
      pos = nl + 1;
    }
    if (pos < text.length && !this.skipping) {
      this.carry += text.slice(pos);
      if (this.carry.length > MAX_TRACE_LINE) {
        this.tooLong();
        this.carry = "";
        this.skipping = true;
      }
    }
  }

  /** Reports the line being read as too long (it is skipped; it still counts as a line). */
  private tooLong(): void {
    this.report(
      ++this.lineNo,
      1,
      `line longer than ${MAX_TRACE_LINE} characters: not a CSV trace (binary data?)`,
    );
  }

  /** The end of the text: checks the whole trace and returns its source. */
  end(): RecordedTrace {
    if (this.ended) throw new Error("TraceCsvParser.end called twice");
    if (!this.skipping) this.line("");
    this.ended = true;
    this.carry = "";
    const { file, times, values, valueKind, earliest, latest, total, problems } = this;
    if (latest.t - earliest.t > MAX_TRACE_SECONDS) {
      const [from, to] = latest.line > earliest.line ? [earliest, latest] : [latest, earliest];
      this.report(
        to.line,
        to.col,
        `this time is ${latest.t - earliest.t} s from line ${from.line}'s; a trace may span at most ${MAX_TRACE_SECONDS} s (31 days)`,
      );
    }
    if (valueKind === "count" && total > MAX_TRACE_REQUESTS) {
      this.report(
        0,
        0,
        `the counts add up to ${total} requests; at most ${MAX_TRACE_REQUESTS} are simulated`,
      );
    }
    if (problems.length === 0 && times.length === 0) {
      this.report(this.headerLine, this.headerLine > 0 ? 1 : 0, "the trace has no rows");
    }
    if (this.more > 0) {
      problems.push(moreProblems(file, this.more));
    }
    if (problems.length > 0) throw new InputError(problems, `cannot read trace ${file}`);

    const root = createRng(this.seed).fork("csv");
    if (valueKind === undefined && this.modelCol >= 0) {
      const labels = this.modelLabels.subarray(0, times.length);
      const source = createTimestampsSource(file, times, this.allWhole, root, labels);
      const models: TraceModels = {
        file,
        names: [...this.modelIndex.keys()],
        firstSeen: this.modelSeen,
        labels: source.labels!,
      };
      return Object.assign(source, { models });
    }
    if (valueKind === undefined) return createTimestampsSource(file, times, this.allWhole, root);
    return createIntervalSource(file, times, values, valueKind, root);
  }

  private report(line: number, col: number, message: string): void {
    if (this.problems.length < MAX_PROBLEMS) {
      this.problems.push({ file: this.file, line, col, path: "", message });
    } else {
      this.more++;
    }
  }

  /** One line of text, without its newline; `carry` holds what came before it. */
  private line(piece: string): void {
    let line = this.carry === "" ? piece : this.carry + piece;
    this.carry = "";
    const lineNo = ++this.lineNo;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;

    if (this.first) {
      this.first = false;
      if (this.header(line, lineNo)) return;
    }
    const { timeCol, valueCol, valueKind, inst } = this;

    // The time (and count) cells: found by commas alone unless the line has quotes.
    let raw: string | undefined;
    let rawCol: number;
    let rv: string | undefined;
    let rvCol = 0;
    if (line.includes('"')) {
      const { fields, cols } = splitCsvLine(line);
      raw = fields[timeCol];
      rawCol = cols[timeCol] ?? line.length + 1;
      if (valueKind !== undefined) {
        rv = fields[valueCol];
        rvCol = cols[valueCol] ?? line.length + 1;
      }
    } else {
      raw = fieldOf(line, timeCol);
      rawCol = fieldCol;
      if (valueKind !== undefined) {
        rv = fieldOf(line, valueCol);
        rvCol = fieldCol;
      }
    }
    if (raw === undefined || raw.trim() === "") {
      this.report(lineNo, rawCol, `missing timestamp in column ${timeCol + 1}`);
      return;
    }
    const err = parseInstant(raw, inst);
    if (err !== undefined) {
      this.report(lineNo, rawCol, err);
      return;
    }
    if (this.isoFile === undefined) {
      this.isoFile = inst.iso;
      this.kindLine = lineNo;
    } else if (this.isoFile !== inst.iso) {
      this.report(
        lineNo,
        rawCol,
        `timestamp ${JSON.stringify(raw.trim())} is ${inst.iso ? "ISO-8601" : "a number of seconds"} but line ${this.kindLine} is ${this.isoFile ? "ISO-8601" : "a number of seconds"}: use one kind per file`,
      );
      return;
    }
    if (Number.isNaN(this.base)) this.base = inst.whole;
    let value = 0;
    if (valueKind !== undefined) {
      const r = parseNumber(rv ?? "", {
        min: 0,
        max: MAX_TRACE_REQUESTS,
        integer: valueKind === "count",
      });
      if (!r.ok) {
        this.report(
          lineNo,
          rvCol,
          `${valueKind === "count" ? "count" : "rate (per second)"} ${r.message}`,
        );
        return;
      }
      value = r.value;
      this.values.push(value);
    }
    let model = -1;
    if (this.modelCol >= 0) {
      model = this.modelOf(line, lineNo);
      if (model < 0) return;
    }
    if (inst.frac !== 0) this.allWhole = false;
    const t = inst.whole - this.base + inst.frac;
    if (t < this.earliest.t) this.earliest = { t, line: lineNo, col: rawCol };
    if (t > this.latest.t) this.latest = { t, line: lineNo, col: rawCol };
    this.total += valueKind === undefined ? 1 : value;
    if (valueKind === undefined && this.total > MAX_TRACE_REQUESTS) {
      if (this.total === MAX_TRACE_REQUESTS + 1) {
        this.report(
          lineNo,
          1,
          `more than ${MAX_TRACE_REQUESTS} requests; at most that many are simulated`,
        );
      }
      return;
    }
    if (model >= 0) {
      const n = this.times.length;
      if (n === this.modelLabels.length) {
        const bigger = new Uint8Array(n * 2);
        bigger.set(this.modelLabels);
        this.modelLabels = bigger;
      }
      this.modelLabels[n] = model;
    }
    this.times.push(t);
  }

  /** The index of the row's model (its `model` cell), or -1 after reporting a problem. */
  private modelOf(line: string, lineNo: number): number {
    let cell: string | undefined;
    let col: number;
    if (line.includes('"')) {
      const { fields, cols } = splitCsvLine(line);
      cell = fields[this.modelCol];
      col = cols[this.modelCol] ?? line.length + 1;
    } else {
      cell = fieldOf(line, this.modelCol);
      col = fieldCol;
    }
    const name = cell?.trim() ?? "";
    if (name === "") {
      this.report(lineNo, col, `missing model name in column ${this.modelCol + 1} (model)`);
      return -1;
    }
    let index = this.modelIndex.get(name);
    if (index === undefined) {
      if (this.modelIndex.size >= MAX_TRACE_MODELS) {
        this.report(
          lineNo,
          col,
          `model ${JSON.stringify(name)}: a trace may name at most ${MAX_TRACE_MODELS} models`,
        );
        return -1;
      }
      index = this.modelIndex.size;
      this.modelIndex.set(name, index);
      this.modelSeen.push({ line: lineNo, col });
    }
    return index;
  }

  /**
   * Reads the first line as a header when it is one: it names a known column, or does not
   * start like a time (a digit, a sign or a dot). Returns whether it was a header; a first
   * row of data is left for the row parser to accept or report.
   */
  private header(line: string, lineNo: number): boolean {
    const { fields } = splitCsvLine(line);
    const keys = fields.map(headerKey);
    const named = keys.some(
      (k) =>
        (TRACE_TIME_COLUMNS as readonly string[]).includes(k) ||
        (TRACE_COUNT_COLUMNS as readonly string[]).includes(k) ||
        (TRACE_RATE_COLUMNS as readonly string[]).includes(k),
    );
    if (!named && /^\s*[-+.\d]/.test(fields[0] ?? "")) return false;
    this.headerLine = lineNo;
    const pick = (names: readonly string[]): number => {
      for (const n of names) {
        const i = keys.indexOf(n);
        if (i >= 0) return i;
      }
      return -1;
    };
    this.timeCol = Math.max(0, pick(TRACE_TIME_COLUMNS));
    this.valueCol = pick(TRACE_COUNT_COLUMNS);
    if (this.valueCol >= 0) this.valueKind = "count";
    else {
      this.valueCol = pick(TRACE_RATE_COLUMNS);
      if (this.valueCol >= 0) this.valueKind = "rate";
    }
    // Read in a trace of one request per row only: per-interval counts (or rates) of every
    // model add up, as they always have, and simulate splits them by --mix.
    this.modelCol = this.valueKind === undefined ? keys.indexOf(TRACE_MODEL_COLUMN) : -1;
    return true;
  }
}

/** Recorded arrival times, sorted, shifted to start at 0. */
class TimestampSource implements ArrivalSource {
  readonly name: string;
  readonly durationSeconds: number;
  /** Each arrival's model (a trace with a `model` column), in delivery order. */
  labels: Uint8Array | undefined;

  /** The arrivals labelled `label` alone, over the same duration. */
  only(label: number): TimestampSource {
    const labels = this.labels;
    if (labels === undefined) return this;
    let n = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i] === label) n++;
    const times = new Float64Array(n);
    let k = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i] === label) times[k++] = this.times[i]!;
    return new TimestampSource(this.name, times, this.durationSeconds);
  }
  private readonly times: Float64Array;
  private i = 0;
  private readonly peaks = new Map<number, number>();

  constructor(name: string, times: Float64Array, duration: number) {
    this.name = name;
    this.times = times;
    this.durationSeconds = duration;
  }

  reset(): void {
    this.i = 0;
  }

  /** Index of the first time ≥ t. */
  private lowerBound(t: number): number {
    const a = this.times;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  fill(buf: Float64Array, until: number): number {
    const from = this.i;
    if (from >= this.times.length) return 0;
    let to = Math.min(from + buf.length, this.times.length);
    if (this.times[to - 1]! >= until) to = Math.max(from, this.lowerBound(until));
    buf.set(this.times.subarray(from, to));
    this.i = to;
    return to - from;
  }

  rateBetween(t0: number, t1: number): number {
    if (!(t1 > t0)) throw new RangeError(`rateBetween needs t1 > t0. Received: [${t0}, ${t1})`);
    return (this.lowerBound(t1) - this.lowerBound(t0)) / (t1 - t0);
  }

  peakRate(windowSeconds: number): number {
    const w = windowSeconds > 0 ? windowSeconds : 0.001;
    const cached = this.peaks.get(w);
    if (cached !== undefined) return cached;
    const a = this.times;
    let best = 0;
    if (w >= this.durationSeconds) {
      best = a.length;
    } else {
      // The busiest window can be taken to start at an arrival.
      let j = 0;
      for (let i = 0; i < a.length; i++) {
        const end = a[i]! + w;
        if (j < i) j = i;
        while (j < a.length && a[j]! < end) j++;
        if (j - i > best) best = j - i;
      }
    }
    this.peaks.set(w, best / w);
    return best / w;
  }
}

function createTimestampsSource(
  file: string,
  list: F64List,
  allWhole: boolean,
  root: Rng,
  models?: Uint8Array,
): TimestampSource {
  let t: Float64Array = list.toArray();
  let labels: Uint8Array | undefined = models?.slice();
  let sorted = true;
  for (let i = 1; i < t.length; i++) {
    if (t[i]! < t[i - 1]!) {
      sorted = false;
      break;
    }
  }
  if (!sorted) {
    if (labels) [t, labels] = sortWithLabels(t, labels);
    else t.sort();
  }
  const first = t[0]!;
  let repeats = false;
  for (let i = 0; i < t.length; i++) {
    t[i] = t[i]! - first;
    if (i > 0 && t[i] === t[i - 1]) repeats = true;
  }
  const n = t.length;
  const last = t[n - 1]!;
  let duration: number;
  if (allWhole && repeats) {
    const rng = root.fork("spread");
    for (let i = 0; i < n; i++) t[i] = t[i]! + rng.next();
    if (labels) [t, labels] = sortWithLabels(t, labels);
    else t.sort();
    duration = last + 1;
  } else {
    duration = n > 1 && last > 0 ? last + last / (n - 1) : last + 1;
  }
  const source = new TimestampSource(file, t, duration);
  if (labels) source.labels = labels;
  return source;
}

/** `times` sorted ascending with `labels` moved along (equal times keep their order). */
function sortWithLabels(times: Float64Array, labels: Uint8Array): [Float64Array, Uint8Array] {
  const order = Uint32Array.from({ length: times.length }, (_, i) => i).sort(
    (a, b) => times[a]! - times[b]! || a - b,
  );
  const t = new Float64Array(times.length);
  const l = new Uint8Array(times.length);
  for (let k = 0; k < order.length; k++) {
    t[k] = times[order[k]!]!;
    l[k] = labels[order[k]!]!;
  }
  return [t, l];
}

function createIntervalSource(
  file: string,
  timeList: F64List,
  valueList: F64List,
  kind: "count" | "rate",
  root: Rng,
): ArrivalSource {
  // Rows in time order (the file's order among equal times), without an object per row.
  const n = timeList.length;
  const times = timeList.data;
  const amounts0 = valueList.data;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = times[i]! >= times[i - 1]!;
  const order = sorted
    ? undefined
    : Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => times[a]! - times[b]! || a - b);
  // Rows with the same time add up.
  const ts: number[] = [];
  const vs: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = order === undefined ? k : order[k]!;
    const t = times[i]!;
    const v = amounts0[i]!;
    if (ts.length > 0 && ts[ts.length - 1] === t) vs[vs.length - 1]! += v;
    else {
      ts.push(t);
      vs.push(v);
    }
  }
  if (ts.length < 2) {
    throw new InputError(
      [
        {
          file,
          line: 0,
          col: 0,
          path: "",
          message: `per-interval ${kind}s need at least two different times to infer the interval`,
        },
      ],
      `cannot read trace ${file}`,
    );
  }
  // The interval: the most common gap (to the microsecond), the smaller on a tie.
  const gaps = new Map<number, number>();
  for (let i = 1; i < ts.length; i++) {
    const g = Math.round((ts[i]! - ts[i - 1]!) * 1e6) / 1e6;
    gaps.set(g, (gaps.get(g) ?? 0) + 1);
  }
  let interval = Number.POSITIVE_INFINITY;
  let votes = 0;
  for (const [g, c] of gaps) {
    if (c > votes || (c === votes && g < interval)) {
      interval = g;
      votes = c;
    }
  }
  const t0 = ts[0]!;
  const bounds: number[] = [0];
  const amounts: number[] = [];
  for (let i = 0; i < ts.length; i++) {
    const start = ts[i]! - t0;
    const end = Math.min(start + interval, i + 1 < ts.length ? ts[i + 1]! - t0 : start + interval);
    if (start > bounds[bounds.length - 1]!) {
      amounts.push(0);
      bounds.push(start);
    }
    amounts.push(vs[i]!);
    bounds.push(end);
  }
  const b = Float64Array.from(bounds);
  const a = Float64Array.from(amounts);
  if (kind === "count") {
    if (a.every((c) => c === 0)) {
      throw new InputError(
        [
          {
            file,
            line: 0,
            col: 0,
            path: "",
            message: "the trace has no requests (every count is 0)",
          },
        ],
        `cannot read trace ${file}`,
      );
    }
    return new CountsSource(file, b, a, root);
  }
  let expected = 0;
  for (let i = 0; i < a.length; i++) expected += a[i]! * (b[i + 1]! - b[i]!);
  if (expected > MAX_TRACE_REQUESTS) {
    throw new InputError(
      [
        {
          file,
          line: 0,
          col: 0,
          path: "",
          message: `the rates give about ${expected.toPrecision(3)} requests (rate × interval); at most ${MAX_TRACE_REQUESTS} are simulated`,
        },
      ],
      `cannot read trace ${file}`,
    );
  }
  return new PoissonSource(file, b[b.length - 1]!, () => new TableSegments(b, a), root);
}
