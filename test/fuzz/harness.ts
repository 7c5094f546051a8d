/**
 * The fuzz loop shared by CI (test/fuzz/fuzz.test.ts) and `npm run fuzz`
 * (scripts/fuzz.ts): generate input `i` of a seeded run, check every invariant, set known
 * defects aside, and shrink a failing input to a minimal reproducer.
 */

import { type KnownDefect, knownDefectOf, skippedAsKnown } from "./known-defects.js";
import { type MutateOptions, mutatedInput } from "./mutate.js";
import { checkInput, type Failure, type Target } from "./targets.js";

/** Options of one run over one target. */
export interface FuzzOptions extends MutateOptions {
  /** The run's seed: input `i` depends only on (seed, i). */
  readonly seed: number;
  /** Inputs to try, from `first` (default 0). */
  readonly iterations: number;
  readonly first?: number;
  /** Set the known defects aside (the default); false reports them too. */
  readonly filterKnown?: boolean;
  /** Called before each input, e.g. to record progress for a watchdog. */
  readonly onInput?: (index: number, text: string) => void;
  /** Called after each input with its wall-clock milliseconds. */
  readonly onDone?: (index: number, text: string, ms: number) => void;
}

/** A failing input. */
export interface Found {
  readonly target: string;
  readonly index: number;
  readonly text: string;
  readonly steps: readonly string[];
  readonly failure: Failure;
}

/** What a run saw. */
export interface FuzzReport {
  readonly inputs: number;
  /** Inputs the parser accepted (the rest were rejected with problems or failed). */
  readonly accepted: number;
  /** Failures outside the known defects. */
  readonly failures: Found[];
  /** Inputs set aside per known defect (not run, or failing as that defect). */
  readonly known: Map<string, number>;
}

/** Runs `target` on `options.iterations` mutated inputs. Never throws for a parser's sake. */
export function fuzzTarget(
  target: Target,
  seeds: readonly string[],
  options: FuzzOptions,
): FuzzReport {
  const filter = options.filterKnown ?? true;
  const failures: Found[] = [];
  const known = new Map<string, number>();
  const count = (d: KnownDefect): void => {
    known.set(d.name, (known.get(d.name) ?? 0) + 1);
  };
  let accepted = 0;
  const first = options.first ?? 0;
  for (let index = first; index < first + options.iterations; index++) {
    const { text, steps } = mutatedInput(options.seed, index, seeds, target.grammar, options);
    if (filter) {
      const skip = skippedAsKnown(target.name, text);
      if (skip !== undefined) {
        count(skip);
        continue;
      }
    }
    options.onInput?.(index, text);
    const t0 = performance.now();
    const { failure, outcome } = checkInput(target, text);
    options.onDone?.(index, text, performance.now() - t0);
    if (outcome?.ok) accepted++;
    if (failure === undefined) continue;
    const defect = filter ? knownDefectOf(target.name, text, failure) : undefined;
    if (defect !== undefined) {
      count(defect);
      continue;
    }
    failures.push({ target: target.name, index, text, steps, failure });
  }
  return { inputs: options.iterations, accepted, failures, known };
}

/** Whether two failures are the same bug, for shrinking: same kind, same error name. */
export function sameFailure(a: Failure, b: Failure): boolean {
  if (a.kind !== b.kind) return false;
  const head = (f: Failure): string =>
    f.kind === "threw" ? f.message.split(":")[0]! : (f.message.split(/[0-9"(]/)[0] ?? "");
  return head(a) === head(b);
}

/**
 * Shrinks `text` while `stillFails` holds (delta debugging over characters, after a pass
 * over lines), trying at most `maxTries` candidates.
 */
export function minimize(
  text: string,
  stillFails: (candidate: string) => boolean,
  maxTries = 3000,
): string {
  let tries = 0;
  const attempt = (c: string): boolean => {
    tries++;
    return stillFails(c);
  };
  const ddmin = (units: string[]): string[] => {
    let n = 2;
    let cur = units;
    while (cur.length >= 2 && tries < maxTries) {
      const size = Math.ceil(cur.length / n);
      let reduced = false;
      for (let start = 0; start < cur.length && tries < maxTries; start += size) {
        const candidate = [...cur.slice(0, start), ...cur.slice(start + size)];
        if (attempt(candidate.join(""))) {
          cur = candidate;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
      if (!reduced) {
        if (n >= cur.length) break;
        n = Math.min(cur.length, n * 2);
      }
    }
    return cur;
  };
  const lines = text.split(/(?<=\n)/);
  let best = lines.length > 1 ? ddmin(lines).join("") : text;
  best = ddmin([...best]).join("");
  return best;
}

/** Shrinks a found input to a minimal one failing the same way. */
export function shrink(target: Target, found: Found, maxTries = 3000): string {
  return minimize(
    found.text,
    (c) => {
      const { failure } = checkInput(target, c);
      return failure !== undefined && sameFailure(failure, found.failure);
    },
    maxTries,
  );
}

/** An input quoted for a report: JSON, shortened in the middle when long. */
export function quote(text: string, max = 400): string {
  // Invisible and non-ASCII characters escaped, so a reproducer can be copied exactly.
  const j = JSON.stringify(text).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  if (j.length <= max) return j;
  return `${j.slice(0, max / 2)} …(${text.length} characters)… ${j.slice(-max / 2)}`;
}
