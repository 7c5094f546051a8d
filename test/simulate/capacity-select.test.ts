import { expect } from "chai";
import fc from "fast-check";
import { kthSmallest } from "../../controller/simulate/capacity.js";

/**
 * The capacity search reads its probe's quantile with a quickselect instead of a sort
 * (issue 9, simulator speed): the same value as the sorted array's, for any input.
 */
describe("capacity: kthSmallest is the sorted array's k-th value", () => {
  const cases: { name: string; values: number[] }[] = [
    { name: "one value", values: [3] },
    { name: "sorted", values: [1, 2, 3, 4, 5, 6, 7, 8] },
    { name: "reversed", values: [8, 7, 6, 5, 4, 3, 2, 1] },
    { name: "all equal", values: [2, 2, 2, 2, 2, 2] },
    { name: "many duplicates around the pivot", values: [5, 1, 5, 5, 9, 5, 0, 5, 5, 2, 5] },
    { name: "infinities", values: [Number.POSITIVE_INFINITY, 1, Number.NEGATIVE_INFINITY, 0.5] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const sorted = Float64Array.from(c.values).sort();
      for (let k = 0; k < c.values.length; k++) {
        expect(kthSmallest(Float64Array.from(c.values), k), `k = ${k}`).to.equal(sorted[k]);
      }
    });
  }
  it("random arrays, random k (duplicates likely)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.double({ noNaN: true, min: 0 })), {
          minLength: 1,
          maxLength: 300,
        }),
        fc.nat(),
        (values, kRaw) => {
          const k = kRaw % values.length;
          const sorted = Float64Array.from(values).sort();
          expect(kthSmallest(Float64Array.from(values), k)).to.equal(sorted[k]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
