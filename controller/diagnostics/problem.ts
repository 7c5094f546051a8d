/**
 * A problem found in user input: one line of a report that names the file, the place
 * and the field, and says what would be valid.
 *
 * Every loader and checker in tritonscale collects all of its problems and returns them
 * together, instead of stopping at the first one.
 */
export interface Problem {
  /** The file the problem is in, as the user named it. */
  readonly file: string;
  /** 1-based line of the offending token, or 0 when the input has no positions. */
  readonly line: number;
  /** 1-based column of the offending token, or 0 when the input has no positions. */
  readonly col: number;
  /** Dotted path of the field, e.g. `spec.models[0].imageSize` or `dynamic_batching.max_queue_delay_microseconds`. */
  readonly path: string;
  /** What is wrong and what would be valid. */
  readonly message: string;
  /** For lint findings: the name of the rule that fired, e.g. `dynamic-batching-max-batch-size`. */
  readonly rule?: string;
  /**
   * A line that sums up problems left out (`and 12 more problems`): sorted after every
   * other problem of its file. Made by {@link moreProblems}.
   */
  readonly summary?: true;
}

/** The closing line of a file's problems when a reader stops collecting them after a cap. */
export function moreProblems(file: string, more: number): Problem {
  return {
    file,
    line: 0,
    col: 0,
    path: "",
    message: `and ${more} more problem${more === 1 ? "" : "s"}`,
    summary: true,
  };
}

/**
 * Escapes what a terminal would not show, or would show misleadingly, as `\uXXXX`:
 * control characters (a binary file's bytes), format characters (zero-width spaces,
 * byte-order marks, bidirectional overrides), line and paragraph separators, and lone
 * surrogates. Printable text, tabs included, is unchanged.
 */
export function escapeInvisible(s: string): string {
  return s.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

// Control characters but tab (Cc), format characters (Cf), line and paragraph separators
// (Zl, Zp), and surrogates not in a pair (Cs: with the u flag, a pair is one code point).
const INVISIBLE = /(?!\t)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/** A position in a text file, both 1-based. */
export interface SourcePos {
  readonly line: number;
  readonly col: number;
}

/**
 * Formats a problem as `file:line:col: path: message` (or `file:line:col: rule: message`
 * for lint findings, where the path is part of the message).
 */
export function formatProblem(p: Problem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.col}` : p.file;
  const text =
    p.rule !== undefined
      ? `${where}: ${p.rule}: ${p.path ? `${p.path}: ` : ""}${p.message}`
      : `${where}: ${p.path ? `${p.path}: ` : ""}${p.message}`;
  return escapeInvisible(text);
}

/**
 * Orders problems by file, then line, then column, keeping the order of equal ones; a
 * file's summary line (`and N more problems`) comes after its other problems.
 */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort(
      (a, b) =>
        a.p.file.localeCompare(b.p.file) ||
        (a.p.summary ? 1 : 0) - (b.p.summary ? 1 : 0) ||
        a.p.line - b.p.line ||
        a.p.col - b.p.col ||
        a.i - b.i,
    )
    .map(({ p }) => p);
}

/**
 * Thrown when input is rejected; carries every problem found so a command can print
 * them all and exit non-zero without writing anything.
 */
export class InputError extends Error {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[], summary?: string) {
    const sorted = sortProblems(problems);
    super(
      `${summary ?? `${sorted.length} problem${sorted.length === 1 ? "" : "s"}`}:\n${sorted
        .map(formatProblem)
        .join("\n")}`,
    );
    this.name = "InputError";
    this.problems = sorted;
  }
}
