/**
 * "Did you mean" suggestions for misspelled keys and enum names.
 *
 * The work is bounded whatever the input: a word longer than {@link MAX_SUGGEST_LENGTH}
 * gets no suggestion (nobody mistypes a 16 KB key for a 10-letter one), candidates whose
 * length alone rules them out are skipped without a comparison, and each comparison stops
 * as soon as every cell of a row exceeds the edit limit.
 */

/** Words (and candidates) longer than this many characters are never compared. */
const MAX_SUGGEST_LENGTH = 64;

/** Counts the edit-distance comparisons made, so tests can check the work is bounded. */
export const suggestWork = { comparisons: 0 };

/**
 * Optimal-string-alignment edit distance (Levenshtein with adjacent transpositions).
 * With `limit`, returns `limit + 1` as soon as the distance is known to exceed it.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  const m = a.length;
  const n = b.length;
  if (Math.abs(m - n) > limit) return limit + 1;
  // Three rows, reused: no allocation per row (one did-you-mean per unknown field adds up).
  if (rows[0]!.length < n + 1) rows = [0, 1, 2].map(() => new Int32Array(2 * (n + 1)));
  let prev2 = rows[0]!;
  let prev = rows[1]!;
  let cur = rows[2]!;
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, prev2[j - 2]! + 1);
      }
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    const spare = prev2;
    prev2 = prev;
    prev = cur;
    cur = spare;
  }
  return prev[n]!;
}

/** The rows {@link editDistance} works in, grown to the longest `b` compared so far. */
let rows: Int32Array[] = [0, 1, 2].map(() => new Int32Array(2 * (MAX_SUGGEST_LENGTH + 1)));

/**
 * The candidate closest to `word`, if it is close enough to be a likely typo: at most
 * a third of the word's length in edits (and at least one), compared case-insensitively.
 * Words and candidates longer than {@link MAX_SUGGEST_LENGTH} are not compared.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length === 0 || word.length > MAX_SUGGEST_LENGTH) return undefined;
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestD = limit + 1;
  for (const c of candidates) {
    if (c.length > MAX_SUGGEST_LENGTH || Math.abs(c.length - w.length) >= bestD) continue;
    suggestWork.comparisons++;
    const d = editDistance(w, c.toLowerCase(), bestD - 1);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= limit ? best : undefined;
}

/** `; did you mean "x"?` when a close candidate exists, else the empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined ? "" : `; did you mean "${c}"?`;
}

/** A did-you-mean function that stops suggesting once its work budget is spent. */
export type Suggester = (word: string, candidates: Iterable<string>) => string;

/**
 * A {@link didYouMean} with a budget of `maxComparisons` for everything asked of it, for a
 * checker that may meet any number of misspellings in one file (20,000 unknown fields, or
 * one name looked up among 200,000 tensors): once the budget is spent, and for a question
 * it cannot finish within it, it suggests nothing. Small inputs never reach the budget.
 */
export function createSuggester(maxComparisons = 10_000): Suggester {
  let used = 0;
  return (word, candidates) => {
    if (used >= maxComparisons) return "";
    const before = suggestWork.comparisons;
    let cut = false;
    function* bounded(): Generator<string> {
      for (const c of candidates) {
        if (used + suggestWork.comparisons - before >= maxComparisons) {
          cut = true;
          return;
        }
        yield c;
      }
    }
    const hint = didYouMean(word, bounded());
    used += suggestWork.comparisons - before;
    return cut ? "" : hint;
  };
}
