/**
 * KNOWN_DEFECTS: parser defects the fuzz and property tests find today, which other
 * branches fix. The runs set inputs of these classes aside so CI stays green until the
 * fixes land; every run prints how many inputs each entry set aside.
 *
 * >>> After merging the fixes, the lead deletes the entries (first section: the classes
 * >>> issue 7 lists; second section: defects this harness found, each with a named case in
 * >>> regressions.test.ts), leaving the list empty, so the runs check these classes too.
 * >>> Nothing else may be added here: a new defect gets a fix and a named regression case.
 */

import type { Failure } from "./targets.js";

/** A defect class the fuzz run tolerates for now. */
export interface KnownDefect {
  /** The class, as issue 7 names it. */
  readonly name: string;
  /** The target it shows in. */
  readonly target: string;
  /** Inputs not run at all, because they hang or abort the process today. */
  readonly skip?: (text: string) => boolean;
  /** Failures that are this defect. */
  readonly covers?: (text: string, failure: Failure) => boolean;
}

/** The deepest `[`/`{` nesting of a text, ignoring quotes (a cheap over-estimate). */
export function bracketDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123 || c === 60) {
      depth++;
      if (depth > max) max = depth;
    } else if ((c === 93 || c === 125 || c === 62) && depth > 0) depth--;
  }
  return max;
}

/** Whether the YAML text has both an anchor (`&x`) and an alias (`*x`). */
function hasAliases(text: string): boolean {
  return /&[^\s,[\]{}]/.test(text) && /\*[^\s,[\]{}*]/.test(text);
}

/** Whether a message names a non-finite number. */
const nonFinite = (message: string): boolean => /\b(NaN|Infinity)\b/.test(message);

/** Whether the text has a number literal beyond the doubles (1e309, 309 digits) or near their limit. */
const overflows = (t: string): boolean => /\d[eE]\+?\d{3,}|\d{300,}/.test(t);

export const KNOWN_DEFECTS: readonly KnownDefect[] = [
  // ======== Section 2: found by this harness, not in issue 7's list (see the report) ========
  {
    name: "profile CSV: leading blank lines are trimmed before parsing, so line numbers are too small",
    target: "profile",
    covers: (t, f) => f.kind === "bad-position" && /^[ \t\r]*\n/.test(t),
  },
  {
    name: "duration: an amount of 309 digits parses to Infinity (no non-finite check)",
    target: "duration",
    covers: (_t, f) => f.kind === "invariant" && f.message === "parseDuration gave Infinity",
  },
  {
    name: 'profile: a Model Analyzer "Instance Group" of 0 throws RangeError from createPiecewiseProfile',
    target: "profile",
    covers: (_t, f) => f.kind === "threw" && f.message.includes("a profile point needs batch > 0"),
  },
];

/** The known defect whose `skip` matches `text` for `target`, if any. */
export function skippedAsKnown(target: string, text: string): KnownDefect | undefined {
  return KNOWN_DEFECTS.find((d) => d.target === target && d.skip?.(text) === true);
}

/** The known defect `failure` is an instance of, if any. */
export function knownDefectOf(
  target: string,
  text: string,
  failure: Failure,
): KnownDefect | undefined {
  return KNOWN_DEFECTS.find((d) => d.target === target && d.covers?.(text, failure) === true);
}
