import type { Problem, SourcePos } from "../../diagnostics/problem.js";
import { createSuggester } from "../../diagnostics/suggest.js";
import { type FieldInfo, isInt64, type MessageInfo } from "./descriptor.js";
import { INT_RANGES } from "./schema.js";
import {
  clipped,
  Lexer,
  quoted,
  type Token,
  TokenizeError,
  TokenKind,
  unescapeBytes,
} from "./tokenizer.js";
import type { PbMessage, PbScalar, PbValue } from "./value.js";

/**
 * Where each field of a parsed message was written: keyed by path, e.g.
 * `dynamic_batching.preferred_batch_size[1]`, `input[0].dims`, `parameters["k"].string_value`.
 */
export type PositionIndex = ReadonlyMap<string, SourcePos>;

/** The result of parsing one text-format message: the value, where each field was, and every problem. */
export interface ParseResult {
  readonly message: PbMessage;
  readonly positions: PositionIndex;
  /** Empty when the text is valid for the schema. */
  readonly problems: readonly Problem[];
  /**
   * False when a syntax error stopped the parse: its problem is the last one, and the
   * message holds only what came before it.
   */
  readonly complete: boolean;
}

/**
 * Counts the positions moved from a map entry's placeholder path to its key, so tests can
 * check that parsing N map entries costs O(N), not O(N²).
 */
export const parseWork = { positionsRekeyed: 0 };

/**
 * The deepest nesting of messages (and of brackets in a skipped value) the parser follows.
 * Deeper input is a syntax error, so no input can exhaust the stack.
 */
export const MAX_DEPTH = 100;

/** Thrown inside the parser after a syntax error has been recorded: the rest is unreliable. */
class Abort extends Error {}

type Mutable = { [field: string]: PbValue | undefined };

// Maps, not object literals: a word such as `__proto__` or `constructor` must not find a
// property of Object.prototype.
const FLOAT_WORDS: ReadonlyMap<string, number> = new Map([
  ["inf", Number.POSITIVE_INFINITY],
  ["infinity", Number.POSITIVE_INFINITY],
  ["nan", Number.NaN],
]);
const BOOL_WORDS: ReadonlyMap<string, boolean> = new Map([
  ["true", true],
  ["t", true],
  ["True", true],
  ["false", false],
  ["f", false],
  ["False", false],
]);

/** Strict UTF-8 that keeps a leading U+FEFF: inside a string it is content, not a byte-order mark. */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function describeToken(t: Token): string {
  return t.kind === TokenKind.End ? "end of file" : quoted(t.text);
}

class Parser {
  /** The token under the cursor, once read. */
  private current: Token | undefined;
  readonly problems: Problem[] = [];
  /** Did-you-mean for this file, with a bounded amount of work however many names are wrong. */
  private readonly didYouMean = createSuggester();
  /** How many messages (or skipped brackets) enclose the current token. */
  private depth = 0;
  /** Where each field was written; while a map entry is parsed, that entry's own index (see parseMapEntry). */
  positions = new Map<string, SourcePos>();

  constructor(
    private readonly lexer: Lexer,
    private readonly file: string,
  ) {}

  /** The token under the cursor (read on demand: a lexical error surfaces where the parser gets to it). */
  private peek(): Token {
    this.current ??= this.lexer.next();
    return this.current;
  }
  private next(): Token {
    const t = this.peek();
    this.current = undefined;
    return t;
  }
  private isSymbol(text: string): boolean {
    const t = this.peek();
    return t.kind === TokenKind.Symbol && t.text === text;
  }
  private trySymbol(text: string): boolean {
    if (!this.isSymbol(text)) return false;
    this.next();
    return true;
  }

  private report(at: SourcePos, path: string, message: string): void {
    this.problems.push({ file: this.file, line: at.line, col: at.col, path, message });
  }
  /** Records a syntax error and abandons the parse. */
  private fail(at: SourcePos, path: string, message: string): never {
    this.report(at, path, message);
    throw new Abort(message);
  }
  private expectSymbol(text: string, path: string, what: string): Token {
    const t = this.peek();
    if (t.kind !== TokenKind.Symbol || t.text !== text) {
      this.fail(t, path, `expected "${text}" ${what}, found ${describeToken(t)}`);
    }
    return this.next();
  }

  /** Parses fields until `close` (or end of input at top level), into `target`. */
  parseBody(info: MessageInfo, path: string, close: string | null, target: Mutable): void {
    const seen = new Map<string, SourcePos>();
    const oneofSeen = new Map<string, string>();
    for (;;) {
      const t = this.peek();
      if (close !== null && t.kind === TokenKind.Symbol && t.text === close) {
        this.next();
        return;
      }
      if (t.kind === TokenKind.End) {
        if (close === null) return;
        this.fail(
          t,
          path,
          `expected "${close}" to close ${path || "the message"}, found end of file`,
        );
      }
      if (t.kind === TokenKind.Symbol && t.text === "[") {
        this.fail(
          t,
          path,
          "extensions and Any type URLs are not supported in a model configuration",
        );
      }
      if (t.kind !== TokenKind.Identifier) {
        this.fail(t, path, `expected a field name of ${info.fullName}, found ${describeToken(t)}`);
      }
      this.next();
      const field = info.byName.get(t.text);
      const name = field ? t.text : clipped(t.text);
      const fieldPath = path ? `${path}.${name}` : name;
      if (!field) {
        this.report(
          t,
          fieldPath,
          `unknown field ${quoted(t.text)} in ${info.fullName}${this.didYouMean(t.text, info.byName.keys())}`,
        );
        this.skipValue(fieldPath);
      } else {
        if (!field.repeated) {
          const first = seen.get(field.name);
          if (first) {
            this.report(
              t,
              fieldPath,
              `non-repeated field given twice (first at ${first.line}:${first.col})`,
            );
          } else {
            seen.set(field.name, t);
          }
        }
        if (field.oneof) {
          const other = oneofSeen.get(field.oneof);
          if (other !== undefined && other !== field.name) {
            this.report(
              t,
              fieldPath,
              `"${field.name}" and "${other}" are both members of oneof "${field.oneof}"; set only one`,
            );
          } else {
            oneofSeen.set(field.oneof, field.name);
          }
        }
        if (!this.positions.has(fieldPath))
          this.positions.set(fieldPath, { line: t.line, col: t.col });
        this.parseField(field, fieldPath, target);
      }
      if (!this.trySymbol(",")) this.trySymbol(";");
    }
  }

  private parseField(field: FieldInfo, path: string, target: Mutable): void {
    if (field.mapEntry) {
      this.trySymbol(":");
      const map = (target[field.name] as Mutable | undefined) ?? newMap();
      target[field.name] = map;
      this.forEachElement(path, () => this.parseMapEntry(field.mapEntry!, path, map));
      return;
    }
    if (field.kind === "message") {
      this.trySymbol(":");
      const info = field.message!;
      if (field.repeated) {
        this.parseRepeated(field.name, path, target, (elPath) =>
          this.parseMessageValue(info, elPath),
        );
      } else {
        target[field.name] = this.parseMessageValue(info, path);
      }
      return;
    }
    this.expectSymbol(":", path, `after scalar field "${field.name}"`);
    if (field.repeated) {
      this.parseRepeated(field.name, path, target, (elPath) => this.parseScalar(field, elPath));
    } else {
      const v = this.parseScalar(field, path);
      if (v !== undefined) target[field.name] = v;
    }
  }

  /**
   * Appends one element, or each of a `[a, b, ...]` list, to repeated field `name`,
   * recording each element's position as `path[i]`. An invalid element (its problem
   * already recorded) is left out.
   */
  private parseRepeated(
    name: string,
    path: string,
    target: Mutable,
    element: (elPath: string) => PbValue | undefined,
  ): void {
    const list = (target[name] as PbValue[] | undefined) ?? [];
    target[name] = list;
    let index = list.length;
    this.forEachElement(path, () => {
      const elPath = `${path}[${index++}]`;
      const at = this.peek();
      this.positions.set(elPath, { line: at.line, col: at.col });
      const v = element(elPath);
      if (v !== undefined) list.push(v);
    });
  }

  /** Runs `one` for a single element, or for each element of a `[a, b, ...]` list. */
  private forEachElement(path: string, one: () => void): void {
    if (!this.trySymbol("[")) {
      one();
      return;
    }
    if (this.trySymbol("]")) return;
    for (;;) {
      one();
      if (this.trySymbol("]")) return;
      this.expectSymbol(",", path, "between list elements");
    }
  }

  private parseMessageValue(info: MessageInfo, path: string): PbMessage {
    const open = this.peek();
    let close: string;
    if (this.trySymbol("{")) close = "}";
    else if (this.trySymbol("<")) close = ">";
    else
      this.fail(
        open,
        path,
        `expected "{" to start a ${info.fullName} message, found ${describeToken(open)}`,
      );
    this.enter(open, path);
    const msg: Mutable = {};
    this.parseBody(info, path, close, msg);
    this.depth--;
    return msg;
  }

  /** Counts one more level of nesting; past {@link MAX_DEPTH}, a syntax error at `at`. */
  private enter(at: Token, path: string): void {
    if (++this.depth > MAX_DEPTH) {
      this.fail(
        at,
        path,
        `messages are nested more than ${MAX_DEPTH} levels deep; a model configuration needs a handful`,
      );
    }
  }

  private parseMapEntry(entry: MessageInfo, path: string, map: Mutable): void {
    const at = this.peek();
    // The key may come after the value, so the entry's positions are recorded in an index
    // of their own under a placeholder path, then moved under the key: work in proportion
    // to the entry, not to everything parsed so far.
    const outer = this.positions;
    const inner = new Map<string, SourcePos>();
    this.positions = inner;
    const firstProblem = this.problems.length;
    let raw: PbMessage;
    try {
      raw = this.parseMessageValue(entry, `${path}[entry]`);
    } finally {
      this.positions = outer;
    }
    const keyField = entry.byName.get("key")!;
    const valueField = entry.byName.get("value")!;
    const keyValue = raw.key ?? (keyField.kind === "string" ? "" : isInt64(keyField.kind) ? 0n : 0);
    const key = String(keyValue);
    const keyPath = `${path}[${keyField.kind === "string" ? JSON.stringify(key) : key}]`;
    const valuePath = `${path}[entry].value`;
    // Problems inside the value name it by its key, as the positions do.
    for (let i = firstProblem; i < this.problems.length; i++) {
      const p = this.problems[i]!;
      if (
        p.path === valuePath ||
        p.path.startsWith(`${valuePath}.`) ||
        p.path.startsWith(`${valuePath}[`)
      )
        this.problems[i] = { ...p, path: `${keyPath}${p.path.slice(valuePath.length)}` };
    }
    if (Object.hasOwn(map, key)) {
      this.report(at, keyPath, `map key ${JSON.stringify(key)} given twice`);
      return;
    }
    parseWork.positionsRekeyed += inner.size;
    for (const [p, pos] of inner) {
      if (p.startsWith(valuePath)) outer.set(`${keyPath}${p.slice(valuePath.length)}`, pos);
    }
    this.positions.set(keyPath, { line: at.line, col: at.col });
    let value = raw.value;
    if (value === undefined) {
      value = valueField.kind === "message" ? {} : defaultScalar(valueField);
    }
    map[key] = value;
  }

  /** Parses one scalar (or enum) value; records a problem and returns undefined when invalid. */
  private parseScalar(field: FieldInfo, path: string): PbScalar | undefined {
    let t = this.peek();
    let negative = false;
    if (t.kind === TokenKind.Symbol && t.text === "-") {
      negative = true;
      this.next();
      t = this.peek();
    }
    if (t.kind === TokenKind.Symbol || t.kind === TokenKind.End) {
      this.fail(
        t,
        path,
        `expected a value for ${field.kind} field "${field.name}", found ${describeToken(t)}`,
      );
    }
    if (field.kind === "string" || field.kind === "bytes") {
      if (t.kind !== TokenKind.String || negative) {
        this.next();
        this.report(t, path, `expected a quoted string, found ${describeToken(t)}`);
        return undefined;
      }
      const parts: Uint8Array[] = [];
      while (this.peek().kind === TokenKind.String) {
        const s = this.next();
        try {
          parts.push(unescapeBytes(s.text));
        } catch (e) {
          this.report(s, path, (e as Error).message);
          return undefined;
        }
      }
      const bytes = concat(parts);
      if (field.kind === "bytes") return bytes;
      try {
        return UTF8.decode(bytes);
      } catch {
        this.report(t, path, "string is not valid UTF-8");
        return undefined;
      }
    }
    this.next();
    if (field.kind === "enum") return this.enumValue(field, t, negative, path);
    if (field.kind === "bool") {
      const v =
        t.kind === TokenKind.Identifier
          ? BOOL_WORDS.get(t.text)
          : t.kind === TokenKind.Integer && !negative && (t.text === "0" || t.text === "1")
            ? t.text === "1"
            : undefined;
      if (v === undefined) {
        this.report(
          t,
          path,
          `expected true or false, found ${negative ? "-" : ""}${describeToken(t)}`,
        );
      }
      return v;
    }
    if (field.kind === "float" || field.kind === "double") {
      let v: number | undefined;
      if (t.kind === TokenKind.Identifier) v = FLOAT_WORDS.get(t.text.toLowerCase());
      else if (t.kind === TokenKind.Float) v = Number(t.text.replace(/[fF]$/, ""));
      else if (t.kind === TokenKind.Integer) {
        const i = parseInteger(t.text);
        v = i === undefined ? undefined : Number(i);
      }
      if (v === undefined || (t.kind !== TokenKind.Identifier && Number.isNaN(v))) {
        this.report(
          t,
          path,
          `expected a number for ${field.kind} field "${field.name}", found ${describeToken(t)}`,
        );
        return undefined;
      }
      return negative ? -v : v;
    }
    const range = INT_RANGES[field.kind];
    if (!range) throw new Error(`unhandled scalar type ${field.kind} for ${path}`);
    if (t.kind !== TokenKind.Integer) {
      this.report(
        t,
        path,
        `expected an integer for ${field.kind} field "${field.name}", found ${negative ? "-" : ""}${describeToken(t)}`,
      );
      return undefined;
    }
    if (significantDigits(t.text) > MAX_INTEGER_DIGITS) {
      this.report(
        t,
        path,
        `${negative ? "-" : ""}${clipped(t.text)} is out of range for ${field.kind} (${range[0]}..${range[1]})`,
      );
      return undefined;
    }
    const abs = parseInteger(t.text);
    if (abs === undefined) {
      this.report(t, path, `malformed integer ${describeToken(t)}`);
      return undefined;
    }
    const v = negative ? -abs : abs;
    if (v < range[0] || v > range[1]) {
      this.report(t, path, `${v} is out of range for ${field.kind} (${range[0]}..${range[1]})`);
      return undefined;
    }
    return isInt64(field.kind) ? v : Number(v);
  }

  private enumValue(
    field: FieldInfo,
    t: Token,
    negative: boolean,
    path: string,
  ): string | undefined {
    const e = field.enumType!;
    if (t.kind === TokenKind.Identifier && !negative) {
      if (Object.hasOwn(e.values, t.text)) return t.text;
      this.report(
        t,
        path,
        `unknown ${e.name} value ${quoted(t.text)}${this.didYouMean(t.text, Object.keys(e.values))}; valid values: ${Object.keys(e.values).join(", ")}`,
      );
      return undefined;
    }
    if (t.kind === TokenKind.Integer) {
      const n = significantDigits(t.text) > MAX_INTEGER_DIGITS ? undefined : parseInteger(t.text);
      const num = n === undefined ? Number.NaN : Number(negative ? -n : n);
      const name = e.valuesById[num];
      if (name !== undefined) return name;
      this.report(
        t,
        path,
        `${negative ? "-" : ""}${clipped(t.text)} is not a number of any ${e.name} value`,
      );
      return undefined;
    }
    this.report(t, path, `expected a ${e.name} value name, found ${describeToken(t)}`);
    return undefined;
  }

  /** Skips the value of an unknown field (scalar, list or message), keeping the parse going. */
  private skipValue(path: string): void {
    this.trySymbol(":");
    const t = this.peek();
    if (t.kind === TokenKind.Symbol && (t.text === "{" || t.text === "<" || t.text === "[")) {
      this.skipBalanced(path);
      return;
    }
    if (this.trySymbol("-")) {
      this.next();
      return;
    }
    if (t.kind === TokenKind.String) {
      while (this.peek().kind === TokenKind.String) this.next();
      return;
    }
    if (t.kind === TokenKind.End || t.kind === TokenKind.Symbol) {
      this.fail(t, path, `expected a value, found ${describeToken(t)}`);
    }
    this.next();
  }

  private skipBalanced(path: string): void {
    const pairs: Record<string, string> = { "{": "}", "<": ">", "[": "]" };
    const stack: string[] = [];
    const outer = this.depth;
    do {
      const t = this.next();
      if (t.kind === TokenKind.End) this.fail(t, path, "unbalanced brackets: reached end of file");
      if (t.kind === TokenKind.Symbol && pairs[t.text]) {
        stack.push(pairs[t.text]!);
        this.enter(t, path);
      } else if (t.kind === TokenKind.Symbol && t.text === stack[stack.length - 1]) {
        stack.pop();
        this.depth--;
      }
    } while (stack.length > 0);
    this.depth = outer;
  }
}

/**
 * An empty map value. It has no prototype, so every key — `__proto__` and `constructor`
 * included — is an ordinary own property.
 */
function newMap(): Mutable {
  return Object.create(null) as Mutable;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * More digits than any 64-bit integer has in any base (22 octal digits): such a number is
 * out of range without converting it, which for a 1 MB number takes a while.
 */
const MAX_INTEGER_DIGITS = 22;

/** The digits of an integer token after its base prefix and leading zeros. */
function significantDigits(text: string): number {
  let i = text.startsWith("0x") || text.startsWith("0X") ? 2 : 0;
  while (i < text.length && text[i] === "0") i++;
  return text.length - i;
}

/** Decimal, hex (`0x1F`) or octal (`017`) integer text to a bigint; undefined if malformed. */
function parseInteger(text: string): bigint | undefined {
  try {
    if (/^0[xX][0-9a-fA-F]+$/.test(text)) return BigInt(text);
    if (/^0[0-7]+$/.test(text)) return BigInt(`0o${text.slice(1)}`);
    if (/^(0|[1-9][0-9]*)$/.test(text)) return BigInt(text);
  } catch {
    return undefined;
  }
  return undefined;
}

function defaultScalar(field: FieldInfo): PbScalar {
  if (field.kind === "string") return "";
  if (field.kind === "bytes") return new Uint8Array();
  if (field.kind === "bool") return false;
  if (field.kind === "enum") return field.enumType!.valuesById[0] ?? "";
  return isInt64(field.kind) ? 0n : 0;
}

/**
 * Parses protobuf text format against a message view, collecting every problem
 * (`file:line:col: path: message`) instead of stopping at the first. A syntax error ends
 * the parse (what follows it cannot be trusted), schema errors do not.
 */
export function parseTextFormat(info: MessageInfo, text: string, file: string): ParseResult {
  const parser = new Parser(new Lexer(text), file);
  const message: Mutable = {};
  let complete = true;
  try {
    parser.parseBody(info, "", null, message);
  } catch (e) {
    if (e instanceof TokenizeError) {
      // A lexical error is a syntax error like any other: it ends the parse.
      parser.problems.push({ file, line: e.line, col: e.col, path: "", message: e.message });
    } else if (!(e instanceof Abort)) {
      throw e;
    }
    complete = false;
  }
  return { message, positions: parser.positions, problems: parser.problems, complete };
}
