/**
 * Properties of the duration and cron grammars (controller/policy/duration.ts, cron.ts):
 * what is generated from the grammar parses to the value it was built from, the printer
 * and the reader agree, and any other text is rejected with the grammar's own error.
 */

import { expect } from "chai";
import fc from "fast-check";
import { CronError, parseCron } from "../../controller/policy/cron.js";
import {
  DURATION_UNITS,
  formatDuration,
  isDuration,
  parseDuration,
} from "../../controller/policy/duration.js";
import { check, expectInvariants, tokenSoup } from "./support.js";

const UNITS = Object.keys(DURATION_UNITS) as (keyof typeof DURATION_UNITS)[];

/** One `<amount><unit>` term, with its value in milliseconds. */
const term = fc
  .tuple(
    fc.integer({ min: 0, max: 100_000 }),
    fc.option(fc.integer({ min: 0, max: 999 }), { nil: undefined }),
    fc.constantFrom(...UNITS),
  )
  .map(([whole, frac, unit]) => {
    const amount = frac === undefined ? String(whole) : `${whole}.${String(frac).padStart(3, "0")}`;
    return { text: `${amount}${unit}`, ms: Number(amount) * DURATION_UNITS[unit] };
  });

describe("property: durations", () => {
  it("terms add up in any order: 1h30m = 90m = 5400s", () => {
    check(1000, fc.array(term, { minLength: 1, maxLength: 4 }), (terms) => {
      const text = terms.map((t) => t.text).join("");
      const ms = terms.reduce((s, t) => s + t.ms, 0);
      expect(isDuration(text), text).to.equal(true);
      expect(parseDuration(text), text).to.be.closeTo(ms / 1000, 1e-6 + (ms / 1000) * 1e-12);
    });
  });

  it("formatDuration prints what parseDuration reads back, to the millisecond", () => {
    check(1000, fc.integer({ min: 0, max: 10 ** 12 }), (ms) => {
      const text = formatDuration(ms / 1000);
      expect(isDuration(text), text).to.equal(true);
      expect(parseDuration(text), text).to.equal(ms / 1000);
    });
  });

  it("any other text is refused with a RangeError naming it, exactly when isDuration is false", () => {
    const soup = tokenSoup(
      ["1", "0", "90", ".", "5", "h", "m", "s", "ms", "us", "-", "+", "e3"],
      8,
    );
    check(2000, fc.oneof(soup, fc.string({ unit: "binary", maxLength: 12 })), (text) => {
      const t = text.replace(/\s/g, "");
      expectInvariants("duration", t);
      if (!isDuration(t)) expect(() => parseDuration(t)).to.throw(RangeError, JSON.stringify(t));
    });
  });
});

const FIELDS = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12 },
  // Day of week: 0-7, both 0 and 7 are Sunday (Vixie cron), so `1/1` runs to 7 = Sunday.
  { min: 0, max: 7 },
] as const;

/** One cron list item for a field (`*`, `n`, `a-b`, each optionally `/step`), with its values. */
function item(f: { min: number; max: number }): fc.Arbitrary<{ text: string; values: number[] }> {
  const value = fc.integer({ min: f.min, max: f.max });
  const step = fc.option(fc.integer({ min: 1, max: f.max + 2 }), { nil: undefined });
  return fc
    .tuple(fc.constantFrom("star", "one", "range"), value, value, step)
    .map(([kind, a, b, every]) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const from = kind === "star" ? f.min : lo;
      const to =
        kind === "range" || kind === "star" || every !== undefined
          ? kind === "range"
            ? hi
            : f.max
          : lo;
      const head = kind === "star" ? "*" : kind === "one" ? String(lo) : `${lo}-${hi}`;
      const values: number[] = [];
      for (let v = from; v <= to; v += every ?? 1) values.push(f.max === 7 ? v % 7 : v);
      return { text: every === undefined ? head : `${head}/${every}`, values };
    });
}

const expression = fc.tuple(
  ...FIELDS.map((f) => fc.array(item(f), { minLength: 1, maxLength: 3 })),
) as fc.Arbitrary<{ text: string; values: number[] }[][]>;

describe("property: cron expressions", () => {
  it("lists, ranges and steps select exactly the values they name", () => {
    check(1000, expression, (fields) => {
      const text = fields.map((items) => items.map((i) => i.text).join(",")).join(" ");
      const c = parseCron(text);
      const got = [c.minutes, c.hours, [...c.daysOfMonth], [...c.months], [...c.daysOfWeek]];
      fields.forEach((items, k) => {
        const want = [...new Set(items.flatMap((i) => i.values))].sort((a, b) => a - b);
        expect(
          [...got[k]!].sort((a, b) => a - b),
          `${text}: field ${k + 1}`,
        ).to.deep.equal(want);
      });
    });
  });

  it("a value out of its field's range is refused with a CronError naming the field", () => {
    const names = ["minute", "hour", "day-of-month", "month", "day-of-week"];
    check(
      500,
      fc.integer({ min: 0, max: 4 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 1000 }),
      (k, below, by) => {
        const f = FIELDS[k]!;
        const v = below ? f.min - by : f.max + by;
        if (v < 0) return;
        const parts = ["0", "0", "1", "1", "0"];
        parts[k] = String(v);
        expect(() => parseCron(parts.join(" "))).to.throw(CronError, names[k]!);
      },
    );
  });

  it("any other text is parsed or refused with a CronError, never another exception", () => {
    const soup = tokenSoup(
      ["*", "1", "0", "59", "-", "/", ",", "MON", "jan", "7", "60", "*/0", "L", "?", "@daily"],
      12,
    );
    check(2000, fc.oneof(soup, fc.string({ unit: "binary", maxLength: 20 })), (text) =>
      expectInvariants("cron", text),
    );
  });
});
