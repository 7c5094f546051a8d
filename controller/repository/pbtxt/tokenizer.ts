/**
 * Tokenizer for the protobuf text format (the syntax of Triton's `config.pbtxt`).
 *
 * Follows the grammar Google's parsers accept: `#` comments to end of line, identifiers,
 * decimal / hex / octal integers, floats with exponents and an optional `f` suffix,
 * single- or double-quoted strings with C escapes, and the punctuation
 * `{ } [ ] < > : , ; -`. A leading minus is its own token, as in Google's tokenizer.
 */

/** The kinds of token the text format has. */
export const TokenKind = {
  Identifier: "identifier",
  Integer: "integer",
  Float: "float",
  String: "string",
  Symbol: "symbol",
  End: "end",
} as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

/** One token with its 1-based position. */
export interface Token {
  readonly kind: TokenKind;
  /** The source text of the token (for strings: with quotes, undecoded). */
  readonly text: string;
  readonly line: number;
  readonly col: number;
}

/** A lexical error: an unterminated string, a stray character. */
export class TokenizeError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(message);
    this.name = "TokenizeError";
  }
}

/** How much of a token a message shows: a 128 KB name is cut, saying how long it was. */
const MAX_SHOWN = 64;

/** `text`, or its first {@link MAX_SHOWN} characters and `... (N characters)`. */
export function clipped(text: string): string {
  return text.length <= MAX_SHOWN
    ? text
    : `${text.slice(0, MAX_SHOWN)}... (${text.length} characters)`;
}

/** `"text"`, or `"<first MAX_SHOWN characters>"... (N characters)`. */
export function quoted(text: string): string {
  return text.length <= MAX_SHOWN
    ? `"${text}"`
    : `"${text.slice(0, MAX_SHOWN)}"... (${text.length} characters)`;
}

const SYMBOLS = new Set(["{", "}", "[", "]", "<", ">", ":", ",", ";", "-", "/"]);

function isIdentStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
}
function isIdentPart(c: string): boolean {
  return isIdentStart(c) || (c >= "0" && c <= "9");
}
function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

/**
 * Reads the tokens of `text` one at a time, so a parser holds only the one it looks at
 * and stops reading at its first syntax error.
 */
export class Lexer {
  private i: number;
  private line = 1;
  private lineStart: number;

  constructor(private readonly text: string) {
    // A byte-order mark is skipped at the start of the file only (columns count from after it).
    this.i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    this.lineStart = this.i;
  }

  /** The next token; an `End` token (again and again) once the text is used up. Throws `TokenizeError`. */
  next(): Token {
    const text = this.text;
    const n = text.length;
    let i = this.i;
    let line = this.line;
    let lineStart = this.lineStart;
    const emit = (kind: TokenKind, start: number, col: number): Token => {
      this.i = i;
      this.line = line;
      this.lineStart = lineStart;
      return { kind, text: text.slice(start, i), line, col };
    };
    while (i < n) {
      const c = text[i]!;
      if (c === "\n") {
        i++;
        line++;
        lineStart = i;
        continue;
      }
      if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
        i++;
        continue;
      }
      const col = i - lineStart + 1;
      if (c === "#") {
        while (i < n && text[i] !== "\n") i++;
        continue;
      }
      if (isIdentStart(c)) {
        const start = i;
        while (i < n && isIdentPart(text[i]!)) i++;
        return emit(TokenKind.Identifier, start, col);
      }
      if (isDigit(c) || (c === "." && i + 1 < n && isDigit(text[i + 1]!))) {
        const start = i;
        let isFloat = false;
        if (c === "0" && (text[i + 1] === "x" || text[i + 1] === "X")) {
          i += 2;
          while (i < n && /[0-9a-fA-F]/.test(text[i]!)) i++;
        } else {
          while (i < n && isDigit(text[i]!)) i++;
          if (text[i] === ".") {
            isFloat = true;
            i++;
            while (i < n && isDigit(text[i]!)) i++;
          }
          if (text[i] === "e" || text[i] === "E") {
            const save = i;
            i++;
            if (text[i] === "+" || text[i] === "-") i++;
            if (i < n && isDigit(text[i]!)) {
              isFloat = true;
              while (i < n && isDigit(text[i]!)) i++;
            } else {
              i = save;
            }
          }
          if (text[i] === "f" || text[i] === "F") {
            isFloat = true;
            i++;
          }
        }
        if (i < n && isIdentPart(text[i]!)) {
          throw new TokenizeError(
            `malformed number ${quoted(text.slice(start, i + 1))}`,
            line,
            col,
          );
        }
        return emit(isFloat ? TokenKind.Float : TokenKind.Integer, start, col);
      }
      if (c === '"' || c === "'") {
        const start = i;
        i++;
        while (i < n && text[i] !== c) {
          if (text[i] === "\n")
            throw new TokenizeError(
              "string literal is not terminated before the end of the line",
              line,
              col,
            );
          if (text[i] === "\\") {
            const e = text[i + 1];
            if (e === "\n" || e === "\r") {
              // Google's tokenizer has no line continuation: a string ends on its own line.
              throw new TokenizeError(
                `a backslash cannot continue a string onto the next line; end the string with ${c} on this line and start another on the next (adjacent strings are joined)`,
                line,
                i - lineStart + 1,
              );
            }
            i++;
          }
          i++;
        }
        if (i >= n) throw new TokenizeError("string literal is not terminated", line, col);
        i++;
        return emit(TokenKind.String, start, col);
      }
      if (SYMBOLS.has(c)) {
        const start = i;
        i++;
        return emit(TokenKind.Symbol, start, col);
      }
      const whole = String.fromCodePoint(text.codePointAt(i)!);
      throw new TokenizeError(`unexpected character ${JSON.stringify(whole)}`, line, col);
    }
    return emit(TokenKind.End, i, i - lineStart + 1);
  }
}

const ENCODER = new TextEncoder();
const SIMPLE_ESCAPES: ReadonlyMap<string, number> = new Map([
  ["n", 10],
  ["t", 9],
  ["r", 13],
  ["a", 7],
  ["b", 8],
  ["f", 12],
  ["v", 11],
  ["\\", 92],
  ["'", 39],
  ['"', 34],
  ["?", 63],
]);
const HEX_DIGIT = /^[0-9a-fA-F]$/;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const HEX8 = /^[0-9a-fA-F]{8}$/;

/** A growable byte array: appends are amortized O(1) per byte. */
class ByteBuffer {
  private bytes: Uint8Array;
  private length = 0;
  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(16, capacity));
  }
  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
  push(b: number): void {
    this.reserve(1);
    this.bytes[this.length++] = b;
  }
  /** Appends `text` as UTF-8 (a lone surrogate becomes U+FFFD, as TextEncoder does). */
  pushText(text: string): void {
    this.reserve(text.length * 3);
    this.length += ENCODER.encodeInto(text, this.bytes.subarray(this.length)).written;
  }
  result(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/**
 * Decodes a quoted string token's contents (C escapes: \n \t \r \a \b \f \v \\ \' \" \?,
 * octal \ooo, hex \xHH, \uXXXX, \UXXXXXXXX) into bytes. Throws on a bad escape.
 *
 * The text between escapes is encoded a run at a time into one growing buffer, so the
 * work is linear in the length of the string.
 */
export function unescapeBytes(quoted: string): Uint8Array {
  const body = quoted.slice(1, -1);
  let next = body.indexOf("\\");
  if (next < 0) return ENCODER.encode(body);
  const out = new ByteBuffer(body.length);
  let i = 0;
  while (i < body.length) {
    if (next < 0) next = body.length;
    if (next > i) {
      out.pushText(body.slice(i, next));
      i = next;
      continue;
    }
    const e = body[i + 1];
    if (e === undefined) throw new Error("string ends with a lone backslash");
    const simple = SIMPLE_ESCAPES.get(e);
    if (simple !== undefined) {
      out.push(simple);
      i += 2;
    } else if (e >= "0" && e <= "7") {
      let j = i + 1;
      let v = 0;
      while (j < body.length && j < i + 4 && body[j]! >= "0" && body[j]! <= "7") {
        v = v * 8 + Number(body[j]);
        j++;
      }
      if (v > 255) throw new Error(`octal escape \\${body.slice(i + 1, j)} is out of range`);
      out.push(v);
      i = j;
    } else if (e === "x" || e === "X") {
      let j = i + 2;
      while (j < body.length && j < i + 4 && HEX_DIGIT.test(body[j]!)) j++;
      if (j === i + 2) throw new Error("\\x escape needs hex digits");
      out.push(Number.parseInt(body.slice(i + 2, j), 16));
      i = j;
    } else if (e === "u" || e === "U") {
      const len = e === "u" ? 4 : 8;
      const hex = body.slice(i + 2, i + 2 + len);
      if (!(len === 4 ? HEX4 : HEX8).test(hex)) {
        throw new Error(`\\${e} escape needs ${len} hex digits`);
      }
      const cp = Number.parseInt(hex, 16);
      if (cp > 0x10ffff) throw new Error(`\\${e}${hex} is not a Unicode code point`);
      out.pushText(String.fromCodePoint(cp));
      i += 2 + len;
    } else {
      throw new Error(`invalid escape sequence \\${e}`);
    }
    next = body.indexOf("\\", i);
  }
  return out.result();
}
