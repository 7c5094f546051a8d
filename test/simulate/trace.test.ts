import { expect } from "chai";
import { InputError } from "../../controller/diagnostics/problem.js";
import { parseTraceSpec, SYNTHETIC_KINDS } from "../../controller/simulate/trace.js";
import { drain } from "./drain.js";

function countIn(times: Float64Array, t0: number, t1: number): number {
  let n = 0;
  for (const t of times) if (t >= t0 && t < t1) n++;
  return n;
}

/** |observed − expected| within k standard deviations of a Poisson count (and at least 1). */
function poissonClose(observed: number, expected: number, k = 5): void {
  expect(Math.abs(observed - expected), `observed ${observed}, expected ${expected}`).to.be.at.most(
    k * Math.sqrt(Math.max(expected, 1)) + 1,
  );
}

const SPECS: { name: string; spec: string }[] = [
  { name: "poisson", spec: "synthetic:poisson:rate=300:duration=2m" },
  { name: "steady deterministic", spec: "synthetic:steady:rate=37:duration=90s" },
  { name: "steady poisson", spec: "synthetic:steady:rate=37:duration=90s:mode=poisson" },
  { name: "diurnal (short period)", spec: "synthetic:diurnal:mean=50:period=10m" },
  { name: "bursts", spec: "synthetic:bursts:base=5:burst=400:length=5s:gap=20s:duration=5m" },
  { name: "onoff periodic", spec: "synthetic:onoff:cameras=40:fps=5:on=30s:off=30s:duration=5m" },
  {
    name: "onoff periodic without jitter",
    spec: "synthetic:onoff:cameras=40:fps=5:on=30s:off=30s:jitter=0:duration=5m",
  },
  {
    name: "onoff periodic, many cameras, full jitter",
    spec: "synthetic:onoff:cameras=3000:fps=2:on=20s:off=10s:jitter=1:duration=1m",
  },
  {
    name: "onoff poisson",
    spec: "synthetic:onoff:cameras=40:fps=5:on=30s:off=30s:mode=poisson:duration=5m",
  },
];

describe("ArrivalSource contract, every synthetic kind", () => {
  for (const c of SPECS) {
    describe(c.name, () => {
      let whole: Float64Array = new Float64Array(0);
      before(() => {
        whole = drain(parseTraceSpec(c.spec, 1));
      });

      it("produces non-decreasing times in [0, duration)", () => {
        const d = parseTraceSpec(c.spec, 1).durationSeconds;
        expect(whole.length).to.be.greaterThan(100);
        expect(whole[0]).to.be.at.least(0);
        expect(whole[whole.length - 1]).to.be.below(d);
        for (let i = 1; i < whole.length; i++) {
          if (whole[i]! < whole[i - 1]!)
            expect.fail(`time ${i} goes back: ${whole[i - 1]} → ${whole[i]}`);
        }
      });

      it("gives the same times however the reads are chunked", () => {
        const small = drain(parseTraceSpec(c.spec, 1), { size: 7, step: 0.37 });
        expect(small).to.deep.equal(whole);
        const odd = drain(parseTraceSpec(c.spec, 1), { size: 1, step: 13 });
        expect(odd).to.deep.equal(whole);
      });

      it("stops at until and resumes without losing an arrival", () => {
        const src = parseTraceSpec(c.spec, 1);
        const buf = new Float64Array(1 << 20);
        const a = src.fill(buf, 30);
        const first = buf.slice(0, a);
        expect(first.every((t) => t < 30)).to.equal(true);
        expect(src.fill(buf, 20)).to.equal(0); // going back returns nothing
        const b = src.fill(buf, Number.POSITIVE_INFINITY);
        expect([...first, ...buf.slice(0, b)]).to.deep.equal([...whole]);
      });

      it("repeats exactly after reset, and rate queries do not disturb fill", () => {
        const src = parseTraceSpec(c.spec, 1);
        drain(src, { until: 40 });
        src.reset();
        const buf = new Float64Array(64);
        const n = src.fill(buf, 10);
        src.rateBetween(0, 60);
        src.peakRate(5);
        const rest = drain(src);
        expect([...buf.slice(0, n), ...rest]).to.deep.equal([...whole]);
      });

      it("depends on the seed", () => {
        const other = drain(parseTraceSpec(c.spec, 2));
        if (c.name === "steady deterministic") expect(other).to.deep.equal(whole);
        else expect(other).not.to.deep.equal(whole);
      });

      it("delivers about rateBetween(0, duration) × duration arrivals", () => {
        const src = parseTraceSpec(c.spec, 1);
        const d = src.durationSeconds;
        poissonClose(whole.length, src.rateBetween(0, d) * d);
      });

      it("has peakRate ≥ the mean rate, and peakRate(0) ≥ peakRate(w)", () => {
        const src = parseTraceSpec(c.spec, 1);
        const d = src.durationSeconds;
        const mean = src.rateBetween(0, d);
        expect(src.peakRate(10)).to.be.at.least(mean * (1 - 1e-9));
        expect(src.peakRate(0)).to.be.at.least(src.peakRate(10) * (1 - 1e-9));
        expect(src.peakRate(d * 2)).to.be.closeTo((mean * d) / (d * 2), 1e-9 * mean);
      });
    });
  }
});

describe("synthetic:poisson", () => {
  const rate = 1000;
  const src = parseTraceSpec(`synthetic:poisson:rate=${rate}:duration=100`, 99);
  let times: Float64Array = new Float64Array(0);
  before(() => {
    times = drain(src);
  });

  it("has the requested mean rate", () => {
    poissonClose(times.length, rate * 100);
    expect(src.rateBetween(0, 100)).to.equal(rate);
    expect(src.rateBetween(50, 150)).to.equal(rate / 2); // time past the end counts as 0
    expect(src.peakRate(1)).to.equal(rate);
  });

  it("has exponential gaps (mean, coefficient of variation, Kolmogorov–Smirnov)", () => {
    const gaps = new Float64Array(times.length - 1);
    for (let i = 1; i < times.length; i++) gaps[i - 1] = times[i]! - times[i - 1]!;
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / gaps.length);
    expect(mean * rate).to.be.closeTo(1, 0.02);
    expect(sd / mean).to.be.closeTo(1, 0.02);
    gaps.sort();
    let ks = 0;
    for (let i = 0; i < gaps.length; i++) {
      const cdf = 1 - Math.exp(-rate * gaps[i]!);
      ks = Math.max(ks, Math.abs(cdf - i / gaps.length), Math.abs(cdf - (i + 1) / gaps.length));
    }
    // The 1% critical value of the KS statistic is 1.63/√n.
    expect(ks).to.be.below(1.63 / Math.sqrt(gaps.length));
  });

  it("has independent counts per second (variance = mean)", () => {
    const counts = new Array<number>(100).fill(0);
    for (const t of times) counts[Math.floor(t)]!++;
    const m = counts.reduce((a, b) => a + b, 0) / 100;
    const v = counts.reduce((a, b) => a + (b - m) ** 2, 0) / 99;
    expect(v / m).to.be.within(0.6, 1.5);
  });
});

describe("synthetic:steady", () => {
  it("deterministic: exactly every 1/rate seconds from 0", () => {
    const times = drain(parseTraceSpec("synthetic:steady:rate=4:duration=10s", 1));
    expect(times.length).to.equal(40);
    times.forEach((t, i) => {
      expect(t).to.equal(i / 4);
    });
  });
});

describe("synthetic:diurnal", () => {
  const spec = "synthetic:diurnal:mean=20:peakToMean=3:period=24h";
  const src = parseTraceSpec(spec, 5);
  const day = 86_400;

  it("lasts one period by default, peaks at period/2 by default", () => {
    expect(src.durationSeconds).to.equal(day);
    expect(src.rateBetween(day / 2 - 60, day / 2 + 60)).to.be.greaterThan(
      src.rateBetween(day / 2 - 3 * 3600, day / 2 - 3 * 3600 + 120),
    );
  });

  it("has the requested mean and peak / mean ≈ 3", () => {
    const mean = src.rateBetween(0, day);
    expect(mean).to.be.closeTo(20, 20 * 1e-6);
    expect(src.peakRate(60) / mean).to.be.closeTo(3, 0.01);
    expect(src.peakRate(0) / mean).to.be.closeTo(3, 0.01);
  });

  it("delivers arrivals following the rate, hour by hour", () => {
    const times = drain(parseTraceSpec(spec, 5));
    poissonClose(times.length, 20 * day);
    for (let h = 0; h < 24; h += 3) {
      const expected = src.rateBetween(h * 3600, (h + 1) * 3600) * 3600;
      poissonClose(countIn(times, h * 3600, (h + 1) * 3600), expected);
    }
    const peakHour = countIn(times, day / 2 - 1800, day / 2 + 1800);
    expect(peakHour / (20 * 3600)).to.be.within(2.7, 3.1);
  });

  it("honours phase, duration and other peak ratios", () => {
    const s = parseTraceSpec(
      "synthetic:diurnal:mean=10:peakToMean=5:period=1h:phase=10m:duration=2h",
      1,
    );
    expect(s.durationSeconds).to.equal(7200);
    expect(s.peakRate(0) / s.rateBetween(0, 3600)).to.be.closeTo(5, 0.05);
    expect(s.rateBetween(590, 610)).to.be.closeTo(s.peakRate(0), 0.1);
    expect(s.rateBetween(4190, 4210)).to.be.closeTo(s.peakRate(0), 0.1);
    const flat = parseTraceSpec("synthetic:diurnal:mean=10:peakToMean=1:period=1h", 1);
    expect(flat.peakRate(0)).to.be.closeTo(10, 1e-6);
  });
});

describe("synthetic:bursts", () => {
  const spec = "synthetic:bursts:base=0:burst=500:length=10s:gap=1m:duration=1h";

  it("is idle between bursts when base=0, and bursts at the burst rate", () => {
    const src = parseTraceSpec(spec, 3);
    const times = drain(parseTraceSpec(spec, 3));
    expect(src.peakRate(0)).to.equal(500);
    expect(src.peakRate(10)).to.be.closeTo(500, 1e-9);
    // Every arrival lies in a burst: the intensity just around it is the burst rate.
    let outside = 0;
    for (let i = 0; i < times.length; i += 97) {
      const t = times[i]!;
      if (src.rateBetween(Math.max(0, t - 1e-7), t + 1e-7) === 0) outside++;
    }
    expect(outside).to.equal(0);
    // About a seventh of the time is burst: 10 s bursts, 60 s mean gaps.
    const mean = src.rateBetween(0, 3600);
    expect(mean).to.be.within(500 * (10 / 70) * 0.5, 500 * (10 / 70) * 1.6);
    poissonClose(times.length, mean * 3600);
  });

  it("gaps=fixed: the first burst at `gap`, then one every gap + length, as a cron schedule knows", () => {
    const src = parseTraceSpec(
      "synthetic:bursts:burst=600:length=20m:gap=40m:gaps=fixed:duration=3h",
      1,
    );
    const minute = (m: number) => src.rateBetween(m * 60, m * 60 + 60);
    expect([minute(0), minute(39), minute(40), minute(59), minute(60)]).to.deep.equal([
      0, 0, 600, 600, 0,
    ]);
    expect([minute(99), minute(100), minute(119), minute(120)]).to.deep.equal([0, 600, 600, 0]);
    expect(src.rateBetween(0, 3 * 3600)).to.be.closeTo(200, 1e-9);
  });
});

describe("synthetic:onoff", () => {
  it("periodic: cameras always on send exactly fps frames each, on fixed phases", () => {
    const src = parseTraceSpec("synthetic:onoff:cameras=3:fps=10:off=0:jitter=0:duration=10s", 4);
    const times = drain(src);
    expect(times.length).to.equal(300);
    expect(src.rateBetween(0, 10)).to.equal(30);
    const phases = new Set([...times].map((t) => Math.round((t % 0.1) * 1e6)));
    expect(phases.size).to.equal(3);
  });

  it("periodic with jitter: frames stay within a jitter of their slot", () => {
    const times = drain(
      parseTraceSpec("synthetic:onoff:cameras=1:fps=10:off=0:jitter=0.5:duration=10s", 4),
    );
    expect(times.length).to.be.within(99, 100);
    for (let i = 1; i < times.length; i++) {
      expect(times[i]! - times[i - 1]!).to.be.within(0.05 - 1e-9, 0.15 + 1e-9);
    }
  });

  it("about half of the cameras are on when on = off, and the count follows the intensity", () => {
    const spec = "synthetic:onoff:cameras=200:fps=5:on=1m:off=1m:duration=2h";
    const src = parseTraceSpec(spec, 8);
    const mean = src.rateBetween(0, 7200);
    expect(mean).to.be.within(200 * 5 * 0.4, 200 * 5 * 0.6);
    expect(src.peakRate(0)).to.be.at.most(1000);
    const times = drain(parseTraceSpec(spec, 8));
    // Periodic frames are much less variable than Poisson: within 1% over 10-minute windows.
    for (let t = 0; t < 7200; t += 600) {
      const expected = src.rateBetween(t, t + 600) * 600;
      expect(countIn(times, t, t + 600)).to.be.closeTo(expected, expected * 0.01 + 10);
    }
  });

  it("poisson mode follows the same on/off intensity as periodic mode", () => {
    const a = parseTraceSpec("synthetic:onoff:cameras=50:fps=10:duration=30m", 6);
    const b = parseTraceSpec("synthetic:onoff:cameras=50:fps=10:duration=30m:mode=poisson", 6);
    expect(a.rateBetween(0, 1800)).to.equal(b.rateBetween(0, 1800));
    expect(a.peakRate(60)).to.equal(b.peakRate(60));
  });
});

describe("rateBetween and peakRate", () => {
  it("rejects an empty or reversed range", () => {
    const src = parseTraceSpec("synthetic:poisson:rate=1", 1);
    expect(() => src.rateBetween(5, 5)).to.throw(RangeError, "t1 > t0");
    expect(() => src.rateBetween(5, 4)).to.throw(RangeError);
  });

  it("answers out-of-order queries the same as in-order ones", () => {
    const spec = "synthetic:bursts:base=1:burst=100:length=5s:gap=30s:duration=10m";
    const a = parseTraceSpec(spec, 1);
    const b = parseTraceSpec(spec, 1);
    const forward = [0, 60, 120, 300, 540].map((t) => a.rateBetween(t, t + 60));
    const backward = [540, 300, 120, 60, 0].map((t) => b.rateBetween(t, t + 60)).reverse();
    expect(backward).to.deep.equal(forward);
  });
});

describe("parseTraceSpec errors", () => {
  const cases: { name: string; spec: string; messages: string[]; count?: number }[] = [
    {
      name: "not synthetic",
      spec: "trace.csv",
      messages: ["expected synthetic:KIND:key=value", "poisson, steady, diurnal, bursts, onoff"],
    },
    {
      name: "unknown kind, with a suggestion",
      spec: "synthetic:diurnl:mean=5",
      messages: ['unknown kind "diurnl"; did you mean "diurnal"?', "valid kinds: poisson, steady"],
    },
    {
      name: "unknown key, with the valid keys",
      spec: "synthetic:poisson:rat=5",
      messages: [
        'rat: unknown key for poisson; did you mean "rate"?',
        "valid keys: rate, duration",
      ],
    },
    {
      name: "missing required key",
      spec: "synthetic:poisson:duration=10m",
      messages: ["rate: missing: mean arrivals per second"],
    },
    {
      name: "bad number",
      spec: "synthetic:poisson:rate=fast",
      messages: ['rate: must be a number > 0 (got "fast")'],
    },
    {
      name: "zero where positive is required",
      spec: "synthetic:poisson:rate=0",
      messages: ["rate: must be > 0 (got 0)"],
    },
    {
      name: "bad duration",
      spec: "synthetic:poisson:rate=5:duration=1d",
      messages: ['duration: must be a number of seconds or a duration such as "90s"', '(got "1d")'],
    },
    {
      name: "key without a value",
      spec: "synthetic:poisson:rate",
      messages: ['expected key=value, got "rate"'],
    },
    {
      name: "key given twice",
      spec: "synthetic:poisson:rate=1:rate=2",
      messages: ["rate: given twice"],
    },
    {
      name: "bad choice",
      spec: "synthetic:steady:rate=1:mode=periodic",
      messages: ['mode: must be one of deterministic, poisson (got "periodic")'],
    },
    {
      name: "peakToMean out of range",
      spec: "synthetic:diurnal:mean=1:peakToMean=0.5",
      messages: ["peakToMean: must be from 1 to 20 (got 0.5)"],
    },
    {
      name: "jitter above 1",
      spec: "synthetic:onoff:cameras=5:jitter=2",
      messages: ["jitter: must be from 0 to 1 (got 2)"],
    },
    {
      name: "cameras not whole",
      spec: "synthetic:onoff:cameras=2.5",
      messages: ["cameras: must be a whole number from 1 to 1000000 (got 2.5)"],
    },
    // Regressions (issue 7): numbers are read by one parser that says what is valid.
    {
      name: "a negative rate, which is a number (said 'must be a number')",
      spec: "synthetic:steady:rate=-1",
      messages: ["rate: must be > 0 (got -1)"],
    },
    {
      name: "a rate too large for a double",
      spec: "synthetic:poisson:rate=1e309",
      messages: ["rate: must be a finite number > 0 (got 1e309)"],
    },
    {
      name: "a hexadecimal rate",
      spec: "synthetic:poisson:rate=0x10",
      messages: ['rate: must be a number > 0 (got "0x10")'],
    },
    {
      name: "a negative base rate",
      spec: "synthetic:bursts:burst=10:base=-1",
      messages: ["base: must be >= 0 (got -1)"],
    },
    {
      name: "a negative mean",
      spec: "synthetic:diurnal:mean=-5",
      messages: ["mean: must be > 0 (got -5)"],
    },
    {
      name: "peakToMean above 20",
      spec: "synthetic:diurnal:mean=1:peakToMean=21",
      messages: ["peakToMean: must be from 1 to 20 (got 21)"],
    },
    {
      name: "zero fps",
      spec: "synthetic:onoff:cameras=5:fps=0",
      messages: ["fps: must be > 0 (got 0)"],
    },
    {
      name: "a negative jitter",
      spec: "synthetic:onoff:cameras=5:jitter=-0.1",
      messages: ["jitter: must be from 0 to 1 (got -0.1)"],
    },
    {
      name: "no cameras",
      spec: "synthetic:onoff:cameras=0",
      messages: ["cameras: must be a whole number from 1 to 1000000 (got 0)"],
    },
    {
      name: "a negative off time",
      spec: "synthetic:onoff:cameras=5:off=-1",
      messages: ["off: must be >= 0 (got -1)"],
    },
    {
      name: "a negative gap",
      spec: "synthetic:bursts:burst=10:gap=-5",
      messages: ["gap: must be >= 0 (got -5)"],
    },
    {
      name: "a negative phase",
      spec: "synthetic:diurnal:mean=1:phase=-1",
      messages: ["phase: must be >= 0 (got -1)"],
    },
    {
      name: "a zero period",
      spec: "synthetic:diurnal:mean=1:period=0",
      messages: ["period: must be > 0 (got 0)"],
    },
    {
      name: "an infinite duration (ran for ever)",
      spec: "synthetic:poisson:rate=1:duration=1e309",
      messages: ["duration: must be a finite number > 0 (got 1e309)"],
    },
    {
      name: "a duration over 31 days",
      spec: "synthetic:poisson:rate=1:duration=745h",
      messages: [
        "duration: must be at most 744h (31 days), the longest trace simulated (got 745h)",
      ],
    },
    {
      name: "more than 10^9 requests (ran for ever)",
      spec: "synthetic:poisson:rate=1e12:duration=1h",
      messages: ["about 3.60e+15 requests expected", "at most 1000000000 are simulated"],
    },
    {
      name: "more than 10^9 rate changes (ran for ever)",
      spec: "synthetic:onoff:cameras=1000000:fps=0.0001:on=0.001:off=0.001:duration=744h",
      messages: ["rate changes; at most 1000000000 are simulated", "fewer cameras"],
    },
    {
      name: "a diurnal period too short for its duration",
      spec: "synthetic:diurnal:mean=0.001:period=0.001:duration=744h",
      messages: ["rate changes", "a longer period"],
    },
    {
      name: "every problem at once",
      spec: "synthetic:bursts:burst=x:length=0:colour=red",
      messages: ["burst: must be a number", "length: must be > 0", "colour: unknown key"],
      count: 3,
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name}: ${c.spec}`, () => {
      let error: unknown;
      try {
        parseTraceSpec(c.spec, 1);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(InputError);
      const message = (error as InputError).message;
      expect(message).to.include(`trace ${JSON.stringify(c.spec)}`);
      for (const m of c.messages) expect(message).to.include(m);
      expect((error as InputError).problems).to.have.length(c.count ?? 1);
    });
  }

  it("documents every kind's parameters", () => {
    for (const [kind, doc] of Object.entries(SYNTHETIC_KINDS)) {
      expect(doc.doc, kind).to.be.a("string").and.not.equal("");
      expect(Object.keys(doc.params), kind).to.include("duration");
    }
  });
});
