import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { loadModelPool } from "../../controller/policy/index.js";
import { rampsUp } from "../../controller/scaling/tritonscale.js";
import { compare } from "../../controller/simulate/compare.js";
import { chooseProfile } from "../../controller/simulate/pool-profile.js";
import { simulatedModel } from "../../controller/simulate/setup.js";
import { parseTraceSpec } from "../../controller/simulate/trace.js";
import { projectRoot } from "../support/reference.js";

/**
 * A ramp or a step (tritonscale.ts `rampsUp`): a rise of 1.3× within the trend window drops
 * the trend as a surge, unless each half of the window made a quarter of the rise and 3 in 4
 * of the steps go up. Samples every 15 s over a 120 s window; hand-worked rises.
 */
const at = (rates: readonly number[]) => rates.map((rate, i) => ({ at: i * 15, rate }));

describe("scaling/tritonscale: a ramp is not a surge", () => {
  const rows: { name: string; rates: number[]; now: number; expected: boolean }[] = [
    // 100 → 200 linearly: the middle (t = 60) is at 150, half of the rise each side.
    {
      name: "linear 100 → 200: a ramp",
      rates: [100, 112.5, 125, 137.5, 150, 162.5, 175, 187.5],
      now: 200,
      expected: true,
    },
    // ×4 exponentially: the middle at ×2 = 200, a third of the rise (100 of 300) before it.
    {
      name: "exponential ×4 (100 → 400): a ramp",
      rates: [100, 119, 141, 168, 200, 238, 283, 336],
      now: 400,
      expected: true,
    },
    // A step to 200 at t = 90: nothing before the middle.
    {
      name: "a step in the second half: a surge",
      rates: [100, 100, 100, 100, 100, 100, 200, 200],
      now: 200,
      expected: false,
    },
    // A step to 200 at t = 30, level since: nothing after the middle.
    {
      name: "a step in the first half, levelled: a surge",
      rates: [100, 100, 200, 200, 200, 200, 200, 200],
      now: 200,
      expected: false,
    },
    // Both halves rose (50 and 40 of 90) but only 4 of 8 steps go up: noise read as a level.
    {
      name: "a zig-zag rise, half the steps up: a surge (noise around a stepped level reads so)",
      rates: [100, 130, 120, 160, 150, 190, 170, 200],
      now: 190,
      expected: false,
    },
    { name: "flat: no rise", rates: [100, 100, 100, 100, 100], now: 100, expected: false },
    { name: "falling: no rise", rates: [200, 180, 160, 140, 120], now: 100, expected: false },
    { name: "one sample: unknown, not a ramp", rates: [100], now: 200, expected: false },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const kept = at(r.rates);
      expect(rampsUp(kept, r.rates.length * 15, r.now)).to.equal(r.expected);
    });
  }

  it("a fast diurnal (the example pool, ×4 peak every hour) keeps its trend on the way up: ≥ 90% within the SLO (regression: 60.63%, the ramp read as a surge)", function () {
    this.timeout(60_000);
    const file = join(projectRoot, "examples", "yolov8-pool.yaml");
    const policy = loadModelPool(readFileSync(file, "utf8"), file);
    const trace = parseTraceSpec(
      "synthetic:diurnal:mean=300:peakToMean=4:period=1h:duration=1h",
      1,
    );
    const profile = chooseProfile(policy, simulatedModel(policy), undefined).profile;
    const r = compare({ policy, trace, profile, controls: ["tritonscale"], seed: 1 });
    expect(r.rows[0]!.sloAttainment).to.be.at.least(0.9);
  });
});
