import { expect } from "chai";
import { formatDuration, isDuration, parseDuration } from "../../controller/policy/duration.js";

describe("parseDuration", () => {
  const valid: { name: string; text: string; seconds: number }[] = [
    { name: "seconds", text: "90s", seconds: 90 },
    { name: "minutes", text: "10m", seconds: 600 },
    { name: "hours", text: "2h", seconds: 7200 },
    { name: "milliseconds", text: "500ms", seconds: 0.5 },
    { name: "hours and minutes", text: "1h30m", seconds: 5400 },
    { name: "every unit", text: "1h2m3s4ms", seconds: 3723.004 },
    { name: "fraction", text: "1.5s", seconds: 1.5 },
    { name: "fraction of an hour is exact", text: "0.1h", seconds: 360 },
    { name: "zero with a unit", text: "0s", seconds: 0 },
    { name: "bare zero", text: "0", seconds: 0 },
    { name: "terms in any order add up (like Go)", text: "30m1h", seconds: 5400 },
    { name: "minutes then milliseconds", text: "1m500ms", seconds: 60.5 },
  ];
  for (const c of valid) {
    it(`reads ${c.name}: ${c.text}`, () => {
      expect(isDuration(c.text)).to.equal(true);
      expect(parseDuration(c.text)).to.equal(c.seconds);
    });
  }

  const invalid: { name: string; text: string }[] = [
    { name: "empty", text: "" },
    { name: "no unit", text: "90" },
    { name: "negative", text: "-5s" },
    { name: "unknown unit", text: "1d" },
    { name: "words", text: "10 minutes" },
    { name: "space between terms", text: "1h 30m" },
    { name: "uppercase unit", text: "10M" },
    { name: "microseconds are not supported", text: "10us" },
    { name: "dangling dot", text: "1.s" },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name}: ${JSON.stringify(c.text)}`, () => {
      expect(isDuration(c.text)).to.equal(false);
      expect(() => parseDuration(c.text)).to.throw(
        RangeError,
        `invalid duration ${JSON.stringify(c.text)}`,
      );
    });
  }
});

describe("formatDuration", () => {
  const cases: { name: string; seconds: number; text: string }[] = [
    { name: "zero", seconds: 0, text: "0s" },
    { name: "milliseconds", seconds: 0.5, text: "500ms" },
    { name: "hours and minutes", seconds: 5400, text: "1h30m" },
    { name: "every unit", seconds: 3723.004, text: "1h2m3s4ms" },
    { name: "whole minutes", seconds: 600, text: "10m" },
  ];
  for (const c of cases) {
    it(`formats ${c.name}: ${c.seconds} → ${c.text}, and reads it back`, () => {
      expect(formatDuration(c.seconds)).to.equal(c.text);
      expect(parseDuration(formatDuration(c.seconds))).to.equal(c.seconds);
    });
  }

  it("rejects negative seconds, naming the value", () => {
    expect(() => formatDuration(-5)).to.throw(RangeError, "Received: -5");
  });
});
