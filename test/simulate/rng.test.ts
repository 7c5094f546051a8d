import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expect } from "chai";
import { createRng, logFactorial, type Rng } from "../../controller/simulate/rng.js";
import { packageRoot } from "../../controller/util/package-root.js";

/** createRng(1)'s first three draws × 2³². */
const GOLDEN_SEED_1: number[] = [251805251, 1845171264, 1906725973];

function draws(rng: Rng, n: number, f: (r: Rng) => number = (r) => r.next()): number[] {
  return Array.from({ length: n }, () => f(rng));
}

function moments(xs: readonly number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, variance };
}

describe("createRng", () => {
  it("gives the same sequence for the same seed", () => {
    expect(draws(createRng(42), 100)).to.deep.equal(draws(createRng(42), 100));
  });

  it("gives a fixed sequence across runs and machines (golden values)", () => {
    // Pure 32-bit integer arithmetic: these must never change, or every seeded simulation
    // result in reports and golden files would silently change with it.
    const first = draws(createRng(1), 3).map((x) => Math.round(x * 2 ** 32));
    expect(first).to.deep.equal(GOLDEN_SEED_1);
  });

  const distinct: { name: string; a: number; b: number }[] = [
    { name: "neighbouring integers", a: 1, b: 2 },
    { name: "an integer and a fraction", a: 1, b: 1.5 },
    { name: "zero and a negative", a: 0, b: -1 },
    { name: "large seeds", a: 2 ** 40, b: 2 ** 40 + 1 },
  ];
  for (const c of distinct) {
    it(`gives different sequences for ${c.name}`, () => {
      expect(draws(createRng(c.a), 4)).not.to.deep.equal(draws(createRng(c.b), 4));
    });
  }

  it("treats -0 and 0 as the same seed", () => {
    expect(draws(createRng(-0), 5)).to.deep.equal(draws(createRng(0), 5));
  });

  it("rejects NaN and infinite seeds, naming the value", () => {
    expect(() => createRng(Number.NaN)).to.throw(RangeError, "Received: NaN");
    expect(() => createRng(Number.POSITIVE_INFINITY)).to.throw(RangeError, "Infinity");
  });
});

describe("Rng.fork", () => {
  it("does not depend on what the parent has drawn", () => {
    const a = createRng(7);
    const b = createRng(7);
    draws(b, 1000);
    expect(draws(a.fork("arrivals"), 20)).to.deep.equal(draws(b.fork("arrivals"), 20));
  });

  it("gives different streams for different labels, and for nested forks", () => {
    const r = createRng(7);
    const x = draws(r.fork("a"), 10);
    expect(draws(r.fork("b"), 10)).not.to.deep.equal(x);
    expect(draws(r.fork("a").fork("a"), 10)).not.to.deep.equal(x);
    expect(draws(r, 10)).not.to.deep.equal(x);
  });

  it("gives uncorrelated streams", () => {
    const n = 50_000;
    const x = draws(createRng(3).fork("x"), n);
    const y = draws(createRng(3).fork("y"), n);
    let sxy = 0;
    for (let i = 0; i < n; i++) sxy += (x[i]! - 0.5) * (y[i]! - 0.5);
    const corr = sxy / n / (1 / 12);
    // Standard error of a correlation near 0 is 1/√n ≈ 0.0045.
    expect(Math.abs(corr)).to.be.below(0.025);
  });
});

describe("Rng distributions", () => {
  const n = 100_000;

  it("next() is in [0, 1) with mean 1/2 and variance 1/12", () => {
    const xs = draws(createRng(11), n);
    expect(Math.min(...xs)).to.be.at.least(0);
    expect(Math.max(...xs)).to.be.below(1);
    const m = moments(xs);
    expect(m.mean).to.be.closeTo(0.5, 0.005);
    expect(m.variance).to.be.closeTo(1 / 12, 0.002);
  });

  it("next() is uniform over 20 bins (chi-square)", () => {
    const bins = new Array<number>(20).fill(0);
    for (const x of draws(createRng(12), n)) bins[Math.floor(x * 20)]!++;
    const e = n / 20;
    const chi2 = bins.reduce((a, o) => a + (o - e) ** 2 / e, 0);
    // 19 degrees of freedom: the 99.9th percentile is 43.8.
    expect(chi2).to.be.below(43.8);
  });

  const exps: { name: string; rate: number }[] = [
    { name: "rate 1", rate: 1 },
    { name: "rate 250", rate: 250 },
    { name: "rate 0.01", rate: 0.01 },
  ];
  for (const c of exps) {
    it(`exponential(${c.rate}) has mean and sd 1/rate (${c.name})`, () => {
      const m = moments(draws(createRng(13), n, (r) => r.exponential(c.rate)));
      expect(m.mean * c.rate).to.be.closeTo(1, 0.02);
      expect(Math.sqrt(m.variance) * c.rate).to.be.closeTo(1, 0.03);
    });
  }

  it("exponential(1) follows the exponential distribution, tail included (Kolmogorov–Smirnov)", () => {
    const m = 400_000;
    const xs = Float64Array.from(draws(createRng(19), m, (r) => r.exponential(1))).sort();
    let ks = 0;
    for (let i = 0; i < m; i++) {
      const cdf = 1 - Math.exp(-xs[i]!);
      ks = Math.max(ks, Math.abs(cdf - i / m), Math.abs(cdf - (i + 1) / m));
    }
    // The 1% critical value is 1.63/√n.
    expect(ks).to.be.below(1.63 / Math.sqrt(m));
    // Beyond the ziggurat's base layer (R ≈ 7.697): P = e^−7.697 ≈ 4.5e-4.
    const tail = xs.filter((x) => x > 7.69711747013105).length / m;
    expect(tail).to.be.closeTo(Math.exp(-7.69711747013105), 5 * Math.sqrt(4.5e-4 / m));
    // Deep tail: P(X > 10) = e^−10 ≈ 4.5e-5, so about 18 of them.
    expect(xs.filter((x) => x > 10).length).to.be.within(5, 40);
  });

  it("exponential(0) is Infinity", () => {
    expect(createRng(1).exponential(0)).to.equal(Number.POSITIVE_INFINITY);
  });

  it("normal() has mean 0, variance 1 and light tails", () => {
    const xs = draws(createRng(14), n, (r) => r.normal());
    const m = moments(xs);
    expect(m.mean).to.be.closeTo(0, 0.015);
    expect(m.variance).to.be.closeTo(1, 0.02);
    const beyond2 = xs.filter((x) => Math.abs(x) > 2).length / n;
    expect(beyond2).to.be.closeTo(0.0455, 0.004);
  });

  const poissons: { name: string; mean: number }[] = [
    { name: "small (Knuth)", mean: 0.5 },
    { name: "medium (Knuth)", mean: 3 },
    { name: "just below the switch", mean: 9.9 },
    { name: "at the switch (PTRS)", mean: 10 },
    { name: "large (PTRS)", mean: 57.3 },
    { name: "very large (PTRS)", mean: 5000 },
  ];
  for (const c of poissons) {
    it(`poisson(${c.mean}) has mean = variance = ${c.mean}, ${c.name}`, () => {
      const m = moments(draws(createRng(15), 60_000, (r) => r.poisson(c.mean)));
      // Standard error of the mean is √(mean/n); allow about 5 of them.
      expect(m.mean).to.be.closeTo(c.mean, 5 * Math.sqrt(c.mean / 60_000) + 1e-9);
      expect(m.variance / c.mean).to.be.closeTo(1, 0.04);
    });
  }

  it("poisson(10) matches the probability mass function", () => {
    const counts = new Map<number, number>();
    const m = 200_000;
    for (const k of draws(createRng(16), m, (r) => r.poisson(10))) {
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const k of [5, 8, 10, 12, 15]) {
      const p = Math.exp(-10 + k * Math.log(10) - logFactorial(k));
      const se = Math.sqrt((p * (1 - p)) / m);
      expect((counts.get(k) ?? 0) / m, `P(K=${k})`).to.be.closeTo(p, 5 * se);
    }
  });

  it("poisson of 0 or less is 0, and always a whole number", () => {
    const r = createRng(17);
    expect(r.poisson(0)).to.equal(0);
    expect(r.poisson(-3)).to.equal(0);
    for (const x of draws(r, 1000, (q) => q.poisson(123.4)))
      expect(Number.isInteger(x)).to.equal(true);
  });

  it("int(n) covers [0, n) evenly", () => {
    const bins = new Array<number>(7).fill(0);
    for (const k of draws(createRng(18), 70_000, (r) => r.int(7))) bins[k]!++;
    for (const b of bins) expect(b).to.be.closeTo(10_000, 500);
  });
});

describe("logFactorial", () => {
  const cases: { name: string; k: number }[] = [
    { name: "0! = 1", k: 0 },
    { name: "table", k: 20 },
    { name: "last table entry", k: 255 },
    { name: "Stirling", k: 256 },
    { name: "Stirling, large", k: 5000 },
  ];
  for (const c of cases) {
    it(`ln(${c.k}!) (${c.name})`, () => {
      let exact = 0;
      for (let i = 2; i <= c.k; i++) exact += Math.log(i);
      expect(logFactorial(c.k)).to.be.closeTo(exact, 1e-9 * Math.max(1, exact));
    });
  }
});

describe("one random number generator", () => {
  // Regression (issue 7): capacity.ts had its own generator (mulberry32) beside rng.ts.
  it("no source file but rng.ts draws random numbers by itself", () => {
    const controller = join(packageRoot, "controller");
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith(".ts") && path !== join(controller, "simulate", "rng.ts")) {
          // Math.random is unseeded; Math.imul is the core of every small hand-made PRNG.
          if (/Math\.random\s*\(|Math\.imul\s*\(/.test(readFileSync(path, "utf8"))) {
            offenders.push(relative(packageRoot, path));
          }
        }
      }
    };
    walk(controller);
    expect(offenders, "use createRng from controller/simulate/rng.ts").to.deep.equal([]);
  });
});
