import { expect } from "chai";
import {
  HISTOGRAM_MAX_MS,
  HISTOGRAM_MIN_MS,
  HISTOGRAM_RELATIVE_ERROR,
  LatencyHistogram,
} from "../../controller/simulate/histogram.js";
import { createRng, type Rng } from "../../controller/simulate/rng.js";

/** The nearest-rank q-quantile of sorted samples: rank ⌈q·n⌉, at least 1. */
function exactQuantile(sorted: Float64Array, q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

function histogramOf(xs: Iterable<number>): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const x of xs) h.record(x);
  return h;
}

const DISTRIBUTIONS: { name: string; draw: (r: Rng) => number }[] = [
  { name: "exponential, mean 20 ms", draw: (r) => r.exponential(1 / 20) },
  { name: "log-normal around 50 ms (heavy tail)", draw: (r) => 50 * Math.exp(0.8 * r.normal()) },
  { name: "uniform 5–6 ms (narrow)", draw: (r) => 5 + r.next() },
  { name: "microseconds to minutes", draw: (r) => 10 ** (-2.5 + 8 * r.next()) },
  { name: "batches: whole milliseconds", draw: (r) => 4 + 2 * (1 + r.int(16)) },
];

describe("LatencyHistogram quantiles", () => {
  const qs = [0, 0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1];
  for (const d of DISTRIBUTIONS) {
    it(`match exact quantiles within ${(HISTOGRAM_RELATIVE_ERROR * 100).toFixed(2)}%: ${d.name}`, () => {
      const rng = createRng(21);
      const xs = Float64Array.from({ length: 50_000 }, () => d.draw(rng));
      const h = histogramOf(xs);
      const sorted = xs.slice().sort();
      for (const q of qs) {
        const exact = exactQuantile(sorted, q);
        const got = h.quantile(q);
        expect(Math.abs(got - exact) / exact, `q=${q}: got ${got}, exact ${exact}`).to.be.at.most(
          HISTOGRAM_RELATIVE_ERROR * (1 + 1e-9),
        );
      }
      expect(h.quantile(0)).to.equal(sorted[0]);
      expect(h.quantile(1)).to.equal(sorted[sorted.length - 1]);
    });
  }

  it("keeps count, mean, min and max exact", () => {
    const xs = [3.25, 100, 0.5, 7, 7];
    const h = histogramOf(xs);
    expect(h.count).to.equal(5);
    expect(h.mean).to.equal(117.75 / 5);
    expect(h.min).to.equal(0.5);
    expect(h.max).to.equal(100);
  });

  it("reports a bucket's midpoint: 100.2 and 100.3 ms share [100, 100.5)", () => {
    const h = histogramOf([100.2, 100.3]);
    expect(h.quantile(0.5)).to.equal(100.25);
  });

  it("is empty-safe: NaN statistics, no throw", () => {
    const h = new LatencyHistogram();
    expect(h.count).to.equal(0);
    expect(h.mean).to.be.NaN;
    expect(h.max).to.be.NaN;
    expect(h.min).to.be.NaN;
    expect(h.quantile(0.99)).to.be.NaN;
    expect(h.fractionAtOrBelow(10)).to.be.NaN;
  });

  it("rejects a quantile outside [0, 1], naming it", () => {
    expect(() => new LatencyHistogram().quantile(99)).to.throw(RangeError, "Received: 99");
    expect(() => new LatencyHistogram().quantile(Number.NaN)).to.throw(RangeError);
  });

  const edges: { name: string; value: number }[] = [
    { name: "zero", value: 0 },
    { name: "below 1 µs", value: HISTOGRAM_MIN_MS / 3 },
    { name: "exactly the lowest bucket", value: HISTOGRAM_MIN_MS },
    { name: "just below the overflow", value: HISTOGRAM_MAX_MS * 0.999 },
    { name: "overflow (2 hours)", value: 7_200_000 },
    { name: "negative", value: -1 },
  ];
  for (const c of edges) {
    it(`keeps ${c.name} (${c.value} ms) with exact min/max and sane quantiles`, () => {
      const h = histogramOf([c.value, c.value, 10]);
      expect(h.count).to.equal(3);
      expect(h.min).to.equal(Math.min(c.value, 10));
      expect(h.max).to.equal(Math.max(c.value, 10));
      const mid = h.quantile(0.5);
      expect(mid).to.be.at.least(h.min).and.at.most(h.max);
    });
  }

  it("ignores NaN", () => {
    const h = histogramOf([1, Number.NaN, 2]);
    h.recordN(Number.NaN, 5);
    expect(h.count).to.equal(2);
    expect(h.mean).to.equal(1.5);
  });
});

describe("LatencyHistogram recordN, merge, reset", () => {
  it("recordN(x, n) equals n × record(x)", () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.recordN(12.5, 1000);
    a.recordN(80, 10);
    a.recordN(3, 0);
    for (let i = 0; i < 1000; i++) b.record(12.5);
    for (let i = 0; i < 10; i++) b.record(80);
    for (const q of [0.1, 0.5, 0.99, 0.995]) expect(a.quantile(q)).to.equal(b.quantile(q));
    expect(a.count).to.equal(b.count);
    expect(a.mean).to.equal(b.mean);
    expect(a.fractionAtOrBelow(50)).to.equal(b.fractionAtOrBelow(50));
  });

  it("merge equals recording everything in one", () => {
    const rng = createRng(22);
    const xs = Array.from({ length: 20_000 }, () => rng.exponential(0.1));
    const all = histogramOf(xs);
    const a = histogramOf(xs.slice(0, 7000));
    const b = histogramOf(xs.slice(7000));
    a.merge(b);
    expect(a.count).to.equal(all.count);
    expect(a.min).to.equal(all.min);
    expect(a.max).to.equal(all.max);
    expect(a.mean).to.be.closeTo(all.mean, 1e-9);
    for (const q of [0.5, 0.9, 0.99, 0.999]) expect(a.quantile(q)).to.equal(all.quantile(q));
    const empty = new LatencyHistogram();
    empty.merge(all);
    expect(empty.quantile(0.99)).to.equal(all.quantile(0.99));
  });

  it("reset forgets everything", () => {
    const h = histogramOf([1, 2, 3]);
    h.reset();
    expect(h.count).to.equal(0);
    h.record(5);
    expect(h.min).to.equal(5);
    expect(h.max).to.equal(5);
    expect(h.quantile(0.5)).to.equal(5);
  });
});

describe("LatencyHistogram.fractionAtOrBelow", () => {
  const rng = createRng(23);
  const xs = Float64Array.from({ length: 40_000 }, () => 30 * Math.exp(0.6 * rng.normal()));
  const sorted = xs.slice().sort();
  const h = histogramOf(xs);
  const n = xs.length;
  const countAtOrBelow = (t: number): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const thresholds = [5, 12.3, 25, 30, 33.3333, 50, 100, 150];
  for (const t of thresholds) {
    it(`is within the stated bound at ${t} ms: the share within one bucket (±1/128) of it`, () => {
      const exact = countAtOrBelow(t) / n;
      const near = (countAtOrBelow(t * (1 + 1 / 128)) - countAtOrBelow(t / (1 + 1 / 128))) / n;
      const got = h.fractionAtOrBelow(t);
      expect(Math.abs(got - exact), `got ${got}, exact ${exact}, bound ${near}`).to.be.at.most(
        near + 1e-12,
      );
      expect(Math.abs(got - exact)).to.be.below(0.002);
    });
  }

  it("is exact below the min and at or above the max", () => {
    expect(h.fractionAtOrBelow(sorted[0]! / 2)).to.equal(0);
    expect(h.fractionAtOrBelow(sorted[n - 1]!)).to.equal(1);
    expect(h.fractionAtOrBelow(1e9)).to.equal(1);
  });

  it("counts a bucket whole once the threshold reaches its top, in proportion inside it", () => {
    // 8 ms opens the bucket [8, 8.0625): at 8 the interpolation counts none of its samples
    // (within the bound: both lie within one bucket of the threshold), at its top all.
    const g = histogramOf([8, 8, 16, 16, 16, 32]);
    expect(g.fractionAtOrBelow(8)).to.be.within(0, 2 / 6);
    expect(g.fractionAtOrBelow(8.0625)).to.equal(2 / 6);
    expect(g.fractionAtOrBelow(20)).to.equal(5 / 6);
  });

  it("is non-decreasing in the threshold", () => {
    let prev = 0;
    for (let t = 1; t < 300; t += 0.37) {
      const f = h.fractionAtOrBelow(t);
      expect(f).to.be.at.least(prev);
      prev = f;
    }
  });
});
