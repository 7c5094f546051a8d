/**
 * The bounded fuzz run of CI: for every parser, 20,000 mutated inputs of its seeds (the
 * reference Triton configs, the example pools, the repository templates, trace and
 * profile CSVs), with a fixed seed so a failure is replayed exactly by
 * `npm run fuzz -- --target <name> --seed <seed> --index <i>`.
 *
 * Every input must be parsed, or rejected with the project's input error and a problem
 * with a line and column; deterministic work stays within a linear budget (no timings
 * here: `npm run fuzz` and `npm run bench` measure time). Inputs are capped at 8 KB so the
 * run stays within a couple of minutes; `npm run fuzz` goes to 1 MB.
 */

import { expect } from "chai";
import { onCI } from "../support/reference.js";
import { type FuzzReport, fuzzTarget, quote } from "./harness.js";
import { KNOWN_DEFECTS } from "./known-defects.js";
import { TARGETS } from "./targets.js";

/** The fixed seed of the CI run. */
const CI_SEED = 20_260_701;
/** Inputs per parser. */
const CI_ITERATIONS = 20_000;
const CI_LIMITS = { maxLength: 8192, maxRepeat: 1024 } as const;

describe("fuzz: parsers keep their invariants on mutated inputs", function () {
  // 20,000 inputs of the slowest parser take about 30 s of CPU on an idle core.
  this.timeout(300_000);

  for (const target of TARGETS) {
    it(`${target.name}: ${CI_ITERATIONS.toLocaleString("en")} inputs parse or fail with positioned problems`, () => {
      const seeds = target.seeds();
      if (seeds.missing.length > 0) {
        const msg = `${seeds.missing.join(", ")} absent: fuzzing ${target.name} from the ${seeds.texts.length} seeds in this repository only`;
        if (onCI) throw new Error(msg);
        console.warn(`      note: ${msg}`);
      }
      expect(seeds.texts.length, "seeds").to.be.greaterThan(0);
      const report: FuzzReport = fuzzTarget(target, seeds.texts, {
        seed: CI_SEED,
        iterations: CI_ITERATIONS,
        ...CI_LIMITS,
      });
      const lines = report.failures
        .slice(0, 10)
        .map(
          (f) =>
            `#${f.index} (${f.steps.join("+")}): ${f.failure.kind}: ${f.failure.message}\n    input ${quote(f.text, 240)}\n    replay: npm run fuzz -- --target ${target.name} --seed ${CI_SEED} --index ${f.index}`,
        );
      expect(
        report.failures.length,
        `${report.failures.length} of ${report.inputs} inputs broke an invariant:\n  ${lines.join("\n  ")}`,
      ).to.equal(0);
      // The run must exercise both sides: some inputs accepted, most rejected.
      if (target.name !== "cron") expect(report.accepted, "inputs accepted").to.be.greaterThan(0);
      const set = [...report.known].map(([name, n]) => `${n} × ${name}`);
      if (set.length > 0) console.log(`      set aside as KNOWN_DEFECTS: ${set.join("; ")}`);
    });
  }

  it("KNOWN_DEFECTS entries are well-formed (the lead empties the list after the fixes)", () => {
    for (const d of KNOWN_DEFECTS) {
      expect(TARGETS.map((t) => t.name)).to.include(d.target);
      expect(d.skip !== undefined || d.covers !== undefined, d.name).to.equal(true);
    }
  });
});
