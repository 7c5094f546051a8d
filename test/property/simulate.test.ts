/**
 * Properties of the simulator's input parsers: trace CSVs (controller/simulate/trace-csv.ts)
 * and latency profiles (controller/simulate/profile.ts).
 */

import { expect } from "chai";
import fc from "fast-check";
import { parseProfile } from "../../controller/simulate/profile.js";
import { parseTraceCsv } from "../../controller/simulate/trace-csv.js";
import { drain } from "../simulate/drain.js";
import { check, expectInvariants, tokenSoup } from "./support.js";

/** Seconds with at most microsecond digits, as a log writes them. */
const micros = fc.integer({ min: 0, max: 10 ** 12 }).map((us) => us / 1e6);

describe("property: trace CSVs", () => {
  it("one request per row: arrivals are the times shifted to start at 0", () => {
    check(300, fc.array(micros, { minLength: 1, maxLength: 50 }), fc.boolean(), (raw, header) => {
      const times = [...raw].sort((a, b) => a - b);
      const text = `${header ? "timestamp\n" : ""}${times.map((t) => t.toFixed(6)).join("\n")}\n`;
      const got = drain(parseTraceCsv(text, "trace.csv", 1));
      expect(got.length).to.equal(times.length);
      got.forEach((t, i) => {
        expect(t, `arrival ${i}`).to.be.closeTo(times[i]! - times[0]!, 1e-6);
      });
    });
  });

  it("per-interval counts: every counted request arrives once, inside its interval", () => {
    const rows = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 500 }), fc.nat(20)), {
      selector: ([t]) => t,
      minLength: 2,
      maxLength: 20,
    });
    check(300, rows, fc.integer({ min: 1, max: 300 }), (entries, step) => {
      const sorted = [...entries].sort((a, b) => a[0] - b[0]);
      const total = sorted.reduce((s, [, n]) => s + n, 0);
      const text = `time,count\n${sorted.map(([t, n]) => `${t * step},${n}`).join("\n")}\n`;
      let source: ReturnType<typeof parseTraceCsv>;
      try {
        source = parseTraceCsv(text, "trace.csv", 1);
      } catch (e) {
        // Only an all-zero trace may be refused.
        expect(total, String(e)).to.equal(0);
        return;
      }
      const got = drain(source);
      expect(got.length).to.equal(total);
      // Row i's requests arrive in [its time, the next row's time), shifted to start at 0.
      const first = sorted[0]![0] * step;
      sorted.forEach(([t, n], i) => {
        const from = t * step - first;
        const to = i + 1 < sorted.length ? sorted[i + 1]![0] * step - first : Infinity;
        const inside = got.filter((x) => x >= from && x < to).length;
        expect(inside, `row ${i} (time ${t * step})`).to.equal(n);
      });
      for (const t of got) expect(t).to.be.within(0, source.durationSeconds);
    });
  });

  const TOKENS = [
    "time",
    "count",
    "rate",
    "timestamp",
    ",",
    '"',
    "\n",
    "0",
    "1",
    "60",
    "-5",
    "1e309",
    "1.5",
    "2024-05-01T00:00:00Z",
    "+02:00",
    "#",
    "NaN",
    "Infinity",
  ];

  it("any token soup is a trace or problems with a line and column", () => {
    check(1500, tokenSoup(TOKENS, 30), (t) => expectInvariants("trace-csv", t));
  });
});

describe("property: latency profiles", () => {
  const ms = fc.integer({ min: 0, max: 10 ** 6 }).map((x) => x / 1000);

  it("linear:a,b gives a + b·n for every batch n", () => {
    check(500, ms, ms, fc.integer({ min: 1, max: 256 }), (a, b, maxBatch) => {
      const p = parseProfile(`linear:a=${a},b=${b}ms,maxBatch=${maxBatch}`, "--profile");
      for (const n of [1, 2, Math.ceil(maxBatch / 2), maxBatch]) {
        if (a + b * n === 0) continue;
        expect(p.computeMs(n), `n=${n}`).to.be.closeTo(a + b * n, 1e-9 * (1 + a + b * n));
      }
    });
  });

  const CSV_TOKENS = [
    "Concurrency",
    "Inferences/Second",
    "Server Compute Infer",
    "Server Compute Input (ms)",
    "Batch",
    "Model",
    "Instance Group",
    "Throughput (infer/sec)",
    "Max Batch Size",
    "1:GPU",
    "0:GPU",
    ",",
    "\n",
    "1",
    "0",
    "-1",
    "1e309",
    "linear:",
    "a=4",
    "b=",
    "maxBatch=0",
  ];

  it("any token soup is a profile or problems (with a line and column for CSVs)", () => {
    check(1500, tokenSoup(CSV_TOKENS, 30), (t) => expectInvariants("profile", t));
  });
});
