/**
 * KNOWN_DEFECTS: defect classes the fuzz and property runs set aside while their fix is on
 * another branch; every run prints how many inputs each entry set aside. On main the list is
 * empty: every class found so far is fixed and has a named case in regressions.test.ts. A
 * new defect gets a fix and a named regression case, not an entry here.
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

export const KNOWN_DEFECTS: readonly KnownDefect[] = [];

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
