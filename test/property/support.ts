import { expect } from "chai";
import fc from "fast-check";
import { quote } from "../fuzz/harness.js";
import { knownDefectOf } from "../fuzz/known-defects.js";
import { checkInput, type Failure, targetNamed } from "../fuzz/targets.js";

/** fast-check settings of the property tests: a fixed seed, so CI runs are reproducible. */
export const PROPERTY_SEED = 7;

/** Runs a property with the project's fixed seed and `numRuns` cases. */
export function check<Ts extends [unknown, ...unknown[]]>(
  numRuns: number,
  ...args: [...arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> }, predicate: (...v: Ts) => void]
): void {
  const predicate = args.pop() as (...v: Ts) => void;
  const arbs = args as unknown as { [K in keyof Ts]: fc.Arbitrary<Ts[K]> };
  fc.assert(fc.property(...arbs, predicate), { seed: PROPERTY_SEED, numRuns });
}

/**
 * Fails unless `failure` is undefined or an instance of one of the known defects of
 * `target` (test/fuzz/known-defects.ts).
 */
export function expectNoFailure(target: string, text: string, failure: Failure | undefined): void {
  if (failure === undefined || knownDefectOf(target, text, failure) !== undefined) return;
  expect.fail(`${failure.kind}: ${failure.message}\ninput: ${quote(text, 500)}`);
}

/** Every fuzz invariant of `target` holds for `text` (or the failure is a known defect). */
export function expectInvariants(target: string, text: string): void {
  expectNoFailure(target, text, checkInput(targetNamed(target), text).failure);
}

/** Text made of a grammar's tokens separated by arbitrary whitespace. */
export function tokenSoup(tokens: readonly string[], maxLength = 40): fc.Arbitrary<string> {
  return fc
    .array(
      fc.tuple(
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...tokens) },
          { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) },
        ),
        fc.constantFrom(" ", "", "\n", "\t", "  ", "\r\n"),
      ),
      { maxLength },
    )
    .map((parts) => parts.map(([t, s]) => t + s).join(""));
}
