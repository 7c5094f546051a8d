import { expect } from "chai";
import { describeBounds, type NumberBounds, parseNumber } from "../../controller/util/number.js";

describe("parseNumber", () => {
  const valid: { name: string; text: string; bounds?: NumberBounds; value: number }[] = [
    { name: "an integer", text: "42", value: 42 },
    { name: "a negative number", text: "-1.5", value: -1.5 },
    { name: "a plus sign", text: "+3", value: 3 },
    { name: "a leading dot", text: ".5", value: 0.5 },
    { name: "a trailing dot", text: "1.", value: 1 },
    { name: "an exponent", text: "2.5e3", value: 2500 },
    { name: "a negative exponent", text: "1E-3", value: 0.001 },
    { name: "spaces around", text: "  7 ", value: 7 },
    { name: "-0 as 0", text: "-0", value: 0 },
    { name: "the largest double", text: "1.7976931348623157e308", value: Number.MAX_VALUE },
    { name: "a whole number in range", text: "5", bounds: { integer: true, min: 1 }, value: 5 },
    { name: "a whole number as 1e3", text: "1e3", bounds: { integer: true }, value: 1000 },
    { name: "an inclusive max", text: "1", bounds: { min: 0, max: 1 }, value: 1 },
  ];
  for (const c of valid) {
    it(`reads ${c.name}: ${JSON.stringify(c.text)}`, () => {
      expect(parseNumber(c.text, c.bounds)).to.deep.equal({ ok: true, value: c.value });
    });
  }

  const invalid: { name: string; text: string; bounds?: NumberBounds; message: string }[] = [
    { name: "empty text", text: "", message: 'must be a number (got "")' },
    { name: "only spaces", text: "  ", message: 'must be a number (got "")' },
    {
      name: "a word",
      text: "fast",
      bounds: { greaterThan: 0 },
      message: 'must be a number > 0 (got "fast")',
    },
    { name: "hexadecimal", text: "0x10", message: 'must be a number (got "0x10")' },
    { name: "binary", text: "0b1", message: 'must be a number (got "0b1")' },
    { name: "Infinity", text: "Infinity", message: 'must be a number (got "Infinity")' },
    { name: "inf", text: "inf", message: 'must be a number (got "inf")' },
    { name: "NaN", text: "NaN", message: 'must be a number (got "NaN")' },
    { name: "a digit separator", text: "1_000", message: 'must be a number (got "1_000")' },
    { name: "a unit", text: "5ms", message: 'must be a number (got "5ms")' },
    {
      name: "an overflow to infinity",
      text: "1e309",
      message: "must be a finite number (got 1e309)",
    },
    {
      name: "a negative overflow, with bounds",
      text: "-1e309",
      bounds: { min: 0 },
      message: "must be a finite number >= 0 (got -1e309)",
    },
    {
      name: "a negative rate",
      text: "-1",
      bounds: { greaterThan: 0 },
      message: "must be > 0 (got -1)",
    },
    {
      name: "zero where > 0",
      text: "0",
      bounds: { greaterThan: 0 },
      message: "must be > 0 (got 0)",
    },
    { name: "below a min", text: "0.5", bounds: { min: 1 }, message: "must be >= 1 (got 0.5)" },
    {
      name: "above a max",
      text: "21",
      bounds: { min: 1, max: 20 },
      message: "must be from 1 to 20 (got 21)",
    },
    {
      name: "above a max with an exclusive min",
      text: "21",
      bounds: { greaterThan: 0, max: 20 },
      message: "must be > 0 and <= 20 (got 21)",
    },
    { name: "only a max", text: "3", bounds: { max: 2 }, message: "must be <= 2 (got 3)" },
    {
      name: "a fraction where whole",
      text: "2.5",
      bounds: { integer: true, min: 1 },
      message: "must be a whole number >= 1 (got 2.5)",
    },
    {
      name: "a whole number out of range",
      text: "0",
      bounds: { integer: true, min: 1 },
      message: "must be a whole number >= 1 (got 0)",
    },
    {
      name: "a whole number beyond 2^53",
      text: "1e20",
      bounds: { integer: true },
      message: "must be a whole number of at most 15 digits (got 1e20)",
    },
    {
      name: "control characters, escaped",
      text: "\u00001",
      message: 'must be a number (got "\\u00001")',
    },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name}: ${JSON.stringify(c.text)}`, () => {
      expect(parseNumber(c.text, c.bounds)).to.deep.equal({ ok: false, message: c.message });
    });
  }

  it("cuts a long received text in the message", () => {
    const r = parseNumber("x".repeat(100_000));
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.message.length).to.be.below(80);
  });

  it("describes bounds", () => {
    expect(describeBounds({})).to.equal("");
    expect(describeBounds({ min: 0 })).to.equal(">= 0");
    expect(describeBounds({ greaterThan: 0 })).to.equal("> 0");
    expect(describeBounds({ min: 0, max: 1 })).to.equal("from 0 to 1");
  });
});
