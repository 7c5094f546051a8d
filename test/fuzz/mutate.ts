/**
 * Deterministic text mutations for the fuzz harness: the same (seed, index) always gives
 * the same input, so a failure found in a long run is replayed exactly by its number.
 *
 * Mutations work on UTF-16 text (the parsers take strings): character flips, insertions
 * of the target's structural characters, deletions, duplicated spans, splices between
 * seeds, huge repeats (long strings, many entries, deep nesting, aliases), invisible
 * characters and interesting numbers.
 */

/** A small seeded PRNG (mulberry32): fast, 32-bit state, good enough to drive mutations. */
export class FuzzRng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Small numbers often, large ones rarely: log-uniform in [1, max]. */
  logInt(max: number): number {
    return Math.max(1, Math.floor(Math.exp(this.next() * Math.log(max + 1))));
  }
}

/** The random generator for input `index` of a run seeded with `seed`. */
export function rngFor(seed: number, index: number): FuzzRng {
  // Mix the two so that neighbouring indexes get unrelated streams.
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return new FuzzRng(h ^ (h >>> 16));
}

/** Characters no one sees but every parser must handle. */
export const INVISIBLE = [
  "\u0000",
  "\uFEFF",
  "\u200B",
  "\u200D",
  "\u00A0",
  "\u2028",
  "\u2029",
  "\u0085",
  "\u202E",
  "\t",
  "\r",
  "\v",
  "\f",
  "\u001B",
  "\uD800", // a lone surrogate
  "\uDC00",
] as const;

/** Numbers that break arithmetic: overflow, underflow, signs, precision, other syntaxes. */
export const NUMBERS = [
  "0",
  "-0",
  "-1",
  "1e309",
  "-1e309",
  "1e-400",
  "NaN",
  "Infinity",
  "inf",
  ".nan",
  ".inf",
  "9007199254740993",
  "18446744073709551616",
  "0x7fffffff",
  "0777",
  "1.5",
  "1e3",
  "2147483648",
  "-9223372036854775809",
  "00",
  "1_000",
] as const;

/** Words and escapes that trip object-as-map code, BOM handling and escape decoding. */
export const TRICKY = [
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "\uFEFF",
  "\\\n",
  "\\",
  "\\u0000",
  "\\x",
  "\\777",
  "\\U0010FFFF",
  "\\uD800",
  "a b",
] as const;

/** What a target's text looks like, so mutations can produce plausible structure. */
export interface Grammar {
  /** Characters that carry structure: brackets, separators, quotes, comment starts. */
  readonly structural: string;
  /** Wraps `inner` in one level of nesting, e.g. `[` + inner + `]` or `a {` + inner + `}`. */
  readonly nest: readonly ((inner: string) => string)[];
  /** Building blocks for huge inputs: an entry that may be repeated many times. */
  readonly entries: readonly string[];
  /** Extra generators of whole inputs (e.g. YAML alias bombs), given a size hint. */
  readonly specials?: readonly ((rng: FuzzRng, size: number) => string)[];
}

/** Limits of one mutation step. */
export interface MutateOptions {
  /** Inputs are cut to at most this many UTF-16 units. */
  readonly maxLength: number;
  /** The largest repeat count of a huge-repeat mutation. */
  readonly maxRepeat: number;
}

function span(rng: FuzzRng, text: string): [number, number] {
  if (text.length === 0) return [0, 0];
  const a = rng.int(text.length);
  const len = rng.chance(0.7) ? rng.logInt(16) : rng.logInt(Math.max(1, text.length - a));
  return [a, Math.min(text.length, a + len)];
}

/** Start offsets of lines, for line-level mutations. */
function lineSpan(rng: FuzzRng, text: string): [number, number] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0 && starts.length < 10_000; i = text.indexOf("\n", i + 1))
    starts.push(i + 1);
  const k = rng.int(starts.length);
  const n = rng.chance(0.8) ? 1 : rng.logInt(8);
  const a = starts[k]!;
  const b = starts[k + n] ?? text.length;
  return [a, b];
}

type Mutator = (rng: FuzzRng, text: string, seeds: readonly string[]) => string;

/** One mutation operator per kind, each returning new text. */
export function mutators(grammar: Grammar, options: MutateOptions): Record<string, Mutator> {
  const printable = (rng: FuzzRng): string =>
    rng.chance(0.5)
      ? String.fromCharCode(rng.range(0x20, 0x7e))
      : rng.chance(0.5)
        ? grammar.structural[rng.int(grammar.structural.length)]!
        : String.fromCharCode(rng.int(0x10000));
  const repeat = (rng: FuzzRng, unit: string): number =>
    Math.max(
      1,
      Math.min(
        rng.logInt(options.maxRepeat),
        Math.floor(options.maxLength / Math.max(1, unit.length)),
      ),
    );
  return {
    flip: (rng, t) => {
      if (t.length === 0) return printable(rng);
      const i = rng.int(t.length);
      return t.slice(0, i) + printable(rng) + t.slice(i + 1);
    },
    insertStructural: (rng, t) => {
      const i = rng.int(t.length + 1);
      const n = rng.chance(0.8) ? 1 : rng.logInt(8);
      let s = "";
      for (let k = 0; k < n; k++) s += grammar.structural[rng.int(grammar.structural.length)];
      return t.slice(0, i) + s + t.slice(i);
    },
    delete: (rng, t) => {
      const [a, b] = rng.chance(0.5) ? span(rng, t) : lineSpan(rng, t);
      return t.slice(0, a) + t.slice(b);
    },
    duplicate: (rng, t) => {
      const [a, b] = rng.chance(0.5) ? span(rng, t) : lineSpan(rng, t);
      const at = rng.chance(0.5) ? b : rng.int(t.length + 1);
      return t.slice(0, at) + t.slice(a, b) + t.slice(at);
    },
    splice: (rng, t, seeds) => {
      const other = rng.pick(seeds);
      const [a, b] = rng.chance(0.5) ? span(rng, other) : lineSpan(rng, other);
      const [c, d] = rng.chance(0.5) ? span(rng, t) : lineSpan(rng, t);
      return t.slice(0, c) + other.slice(a, b) + (rng.chance(0.5) ? t.slice(d) : t.slice(c));
    },
    hugeRepeat: (rng, t) => {
      const [a, b] = rng.chance(0.5) ? span(rng, t) : lineSpan(rng, t);
      const unit = t.slice(a, b) || printable(rng);
      return t.slice(0, b) + unit.repeat(repeat(rng, unit)) + t.slice(b);
    },
    longToken: (rng, t) => {
      const i = rng.int(t.length + 1);
      const unit = rng.pick(["a", "x", "9", "_", "é", "\\", "'", "ab", "1."]);
      return t.slice(0, i) + unit.repeat(repeat(rng, unit)) + t.slice(i);
    },
    manyEntries: (rng, t) => {
      const entry = rng.pick(grammar.entries);
      const n = repeat(rng, entry);
      // Numbered entries: distinct keys exercise maps and duplicate checks alike.
      let s = "";
      for (let k = 0; k < n && s.length < options.maxLength; k++)
        s += entry.replaceAll("#N", String(rng.chance(0.9) ? k : 0));
      const at = rng.chance(0.5) ? t.length : lineSpan(rng, t)[0];
      return t.slice(0, at) + s + t.slice(at);
    },
    deepNesting: (rng, t) => {
      const wrap = rng.pick(grammar.nest);
      const depth = repeat(rng, "xx");
      const [a, b] = span(rng, t);
      let inner = t.slice(a, b);
      // Nest by string building, not recursion: the depth may be in the thousands.
      const sample = wrap("\u0001");
      const [open, close] = sample.split("\u0001") as [string, string];
      const closes = rng.chance(0.8) ? close.repeat(depth) : "";
      inner = open.repeat(depth) + inner + closes;
      return t.slice(0, a) + inner + t.slice(b);
    },
    invisible: (rng, t) => {
      const i = rng.chance(0.2) ? 0 : rng.int(t.length + 1);
      const n = rng.chance(0.9) ? 1 : rng.logInt(64);
      const c = rng.pick(INVISIBLE);
      return t.slice(0, i) + c.repeat(n) + t.slice(i);
    },
    number: (rng, t) => {
      const digits: number[] = [];
      for (let i = 0; i < t.length && digits.length < 4096; i++) {
        const c = t.charCodeAt(i);
        if (c >= 48 && c <= 57 && !(t.charCodeAt(i - 1) >= 48 && t.charCodeAt(i - 1) <= 57))
          digits.push(i);
      }
      if (digits.length === 0) return t + rng.pick(NUMBERS);
      const a = rng.pick(digits);
      let b = a;
      while (b < t.length && /[0-9.eE+-]/.test(t[b]!)) b++;
      return t.slice(0, a) + rng.pick(NUMBERS) + t.slice(b);
    },
    tricky: (rng, t) => {
      const word = rng.pick(TRICKY);
      if (rng.chance(0.5)) {
        // Replace (or, for invisible characters, prefix) a quoted string's content.
        const quotes: number[] = [];
        for (let i = t.indexOf('"'); i >= 0 && quotes.length < 4096; i = t.indexOf('"', i + 1))
          quotes.push(i);
        if (quotes.length > 0) {
          const a = rng.pick(quotes) + 1;
          const close = t.indexOf('"', a);
          const b = close < 0 ? a : close;
          const keep = word === "\uFEFF" ? t.slice(a, b) : "";
          return t.slice(0, a) + word + keep + t.slice(b);
        }
      }
      // Replace a key (`key:` at the start of a line, after indentation and `- `).
      const keys = [...t.matchAll(/^([ \t]*(?:- )?)([A-Za-z_][\w-]*)(?=[ \t]*[:{])/gm)].slice(
        0,
        4096,
      );
      if (keys.length === 0) return t + word;
      const m = rng.pick(keys);
      const at = m.index + m[1]!.length;
      return t.slice(0, at) + word + t.slice(at + m[2]!.length);
    },
    special: (rng, t) => {
      if (!grammar.specials || grammar.specials.length === 0) return t;
      return rng.pick(grammar.specials)(rng, Math.min(options.maxLength, options.maxRepeat * 4));
    },
  };
}

/** How often each mutation is chosen (weights). */
const WEIGHTS: Readonly<Record<string, number>> = {
  flip: 6,
  insertStructural: 6,
  delete: 5,
  duplicate: 4,
  splice: 4,
  hugeRepeat: 1,
  longToken: 1,
  manyEntries: 1,
  deepNesting: 1,
  invisible: 3,
  number: 3,
  tricky: 2,
  special: 1,
};

/**
 * Input `index` of a run: a seed from `seeds` with 1–4 stacked mutations, cut to
 * `maxLength`. Also returns the names of the mutations applied, for reports.
 */
export function mutatedInput(
  seed: number,
  index: number,
  seeds: readonly string[],
  grammar: Grammar,
  options: MutateOptions,
): { text: string; steps: string[] } {
  const rng = rngFor(seed, index);
  const ops = mutators(grammar, options);
  const names = Object.keys(WEIGHTS);
  const total = names.reduce((s, n) => s + WEIGHTS[n]!, 0);
  let text = rng.pick(seeds);
  const steps: string[] = [];
  const n = rng.range(1, 4);
  for (let k = 0; k < n; k++) {
    let r = rng.next() * total;
    let name = names[0]!;
    for (const candidate of names) {
      r -= WEIGHTS[candidate]!;
      if (r < 0) {
        name = candidate;
        break;
      }
    }
    text = ops[name]!(rng, text, seeds);
    if (text.length > options.maxLength) text = text.slice(0, options.maxLength);
    steps.push(name);
  }
  return { text, steps };
}
