import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { InputError } from "../../controller/diagnostics/problem.js";
import { parseTraceSpec, SYNTHETIC_KINDS } from "../../controller/simulate/trace.js";
import { packageRoot } from "../../controller/util/package-root.js";
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
  {
    name: "onoff in groups",
    spec: "synthetic:onoff:cameras=40:groups=4:fps=5:on=30s:off=30s:duration=5m",
  },
  { name: "shift", spec: "synthetic:shift:level=300:ramp=1m:wave=0.2:surgeEvery=2m:duration=6m" },
  { name: "flash", spec: "synthetic:flash:peak=500:rise=5s:decay=20s:gap=1m:duration=6m" },
  { name: "weekly", spec: "synthetic:weekly:weekday=2:duration=12h" },
  { name: "poisson with noise", spec: "synthetic:poisson:rate=200:noise=0.5:duration=5m" },
  {
    name: "bursts in clumps",
    spec: "synthetic:bursts:base=1:burst=20:length=20s:gap=20s:clump=40:spread=50ms:duration=5m",
  },
  {
    name: "steady clumps that overlap",
    spec: "synthetic:steady:rate=30:clump=10:spread=200ms:duration=2m",
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
        // Clumps of n: a compound Poisson count, its variance n × the mean.
        const clump = Number(/:clump=(\d+)/.exec(c.spec)?.[1] ?? 1);
        poissonClose(whole.length, src.rateBetween(0, d) * d, 5 * Math.sqrt(clump));
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

describe("synthetic:shift", () => {
  it("ramps to the level, waves, and surges for surgeLength every surgeEvery", () => {
    const src = parseTraceSpec(
      "synthetic:shift:start=0:level=400:ramp=30m:wave=0.1:wavePeriod=1h:surge=2:surgeLength=1m:surgeEvery=20m:duration=3h",
      1,
    );
    const minute = (m: number) => src.rateBetween(m * 60, m * 60 + 60);
    expect(minute(0)).to.be.below(20);
    expect(minute(14)).to.be.within(190, 230); // half-way up the ramp, wave near +0.1
    // The first surge is minute 20, then 40, 60, ...; twice the rate around it.
    expect(minute(20) / minute(19)).to.be.within(1.9, 2.1);
    expect(minute(40) / minute(39)).to.be.within(1.9, 2.1);
    expect(minute(41) / minute(39)).to.be.within(0.95, 1.05);
    expect(minute(100) / minute(101)).to.be.within(1.9, 2.1);
    // The wave: crest at a quarter period, trough at three quarters.
    expect(minute(75) / minute(105)).to.be.within(1.2, 1.25);
    // Surge integral is exact: a surge not on a whole second still adds (surge − 1) × its length.
    const odd = parseTraceSpec(
      "synthetic:shift:start=100:level=100:ramp=0:surge=3:surgeLength=0.5:surgeEvery=10.25:duration=20",
      1,
    );
    expect(odd.rateBetween(0, 20) * 20).to.be.closeTo(100 * 20 + 2 * 100 * 0.5, 1e-6);
  });
});

describe("synthetic:flash", () => {
  it("rises from base to peak within `rise` and decays back", () => {
    const src = parseTraceSpec(
      "synthetic:flash:base=1:peak=800:rise=10s:decay=1m:gap=30m:duration=6h",
      7,
    );
    expect(src.peakRate(0)).to.be.within(750, 800);
    // Find a crowd's start: the first second above twice the base.
    let t = 0;
    while (src.rateBetween(t, t + 1) < 2) t++;
    expect(src.rateBetween(t + 10, t + 11)).to.be.above(700);
    expect(src.rateBetween(t + 70, t + 71)).to.be.within(250, 330); // e^-1 of the excess
    expect(src.rateBetween(t + 400, t + 401)).to.be.below(2); // over after rise + ln(100) decays
    // Mostly near zero: base between crowds that last ~5 min every ~35 min.
    let low = 0;
    for (let m = 0; m < 360; m++) if (src.rateBetween(m * 60, m * 60 + 60) < 10) low++;
    expect(low / 360).to.be.within(0.6, 0.95);
  });
});

describe("synthetic:weekly", () => {
  it("has weekday and weekend means and the daily shape", () => {
    const src = parseTraceSpec("synthetic:weekly:weekday=90:weekend=30:peakToMean=3", 1);
    const day = 86_400;
    expect(src.durationSeconds).to.equal(7 * day);
    expect(src.rateBetween(0, day)).to.be.closeTo(90, 0.01);
    expect(src.rateBetween(4 * day, 5 * day)).to.be.closeTo(90, 0.01);
    expect(src.rateBetween(5 * day, 6 * day)).to.be.closeTo(30, 0.01);
    expect(src.rateBetween(6 * day, 7 * day)).to.be.closeTo(30, 0.01);
    expect(src.peakRate(0)).to.be.closeTo(270, 0.5);
    // The peak is at 14:00 by default.
    expect(src.rateBetween(14 * 3600 - 60, 14 * 3600 + 60)).to.be.closeTo(270, 0.5);
    const defaults = parseTraceSpec("synthetic:weekly:weekday=90", 1);
    expect(defaults.rateBetween(5 * day, 6 * day)).to.be.closeTo(30, 0.01);
  });
});

describe("noise", () => {
  it("keeps the mean, changes the rate minute by minute, and depends on the seed", () => {
    const spec = "synthetic:poisson:rate=100:noise=0.3:duration=24h";
    const a = parseTraceSpec(spec, 1);
    const minutes = Array.from({ length: 1440 }, (_, m) => a.rateBetween(m * 60, m * 60 + 60));
    expect(new Set(minutes.map((r) => r.toFixed(6))).size).to.equal(1440);
    // Within a minute the rate is constant.
    expect(a.rateBetween(600, 610)).to.be.closeTo(a.rateBetween(650, 660), 1e-9);
    const mean = minutes.reduce((x, y) => x + y, 0) / minutes.length;
    expect(mean).to.be.within(97, 103); // σ of the mean of 1440 factors ≈ 0.8%
    const logs = minutes.map((r) => Math.log(r / 100));
    const m = logs.reduce((x, y) => x + y, 0) / logs.length;
    const sd = Math.sqrt(logs.reduce((x, y) => x + (y - m) ** 2, 0) / logs.length);
    expect(sd).to.be.within(0.27, 0.33);
    const b = parseTraceSpec(spec, 2);
    expect(b.rateBetween(0, 60)).not.to.equal(a.rateBetween(0, 60));
    const quiet = parseTraceSpec("synthetic:poisson:rate=100:noise=0:duration=1h", 1);
    expect(quiet.rateBetween(0, 60)).to.equal(100);
  });

  it("splits a burst's segments at the minutes", () => {
    const src = parseTraceSpec(
      "synthetic:bursts:base=0:burst=100:length=5m:gap=5m:gaps=fixed:noise=0.5:duration=20m",
      3,
    );
    expect(src.rateBetween(0, 300)).to.equal(0);
    const a = src.rateBetween(300, 360);
    const b = src.rateBetween(360, 420);
    expect(a).to.be.above(0);
    expect(a).not.to.equal(b);
  });
});

describe("clump", () => {
  it("sends `clump` requests within `spread` of each arrival", () => {
    const times = drain(
      parseTraceSpec("synthetic:steady:rate=2:clump=40:spread=50ms:duration=10s", 1),
    );
    expect(times.length).to.equal(800);
    for (let k = 0; k < 20; k++) {
      const t = k / 2;
      expect(countIn(times, t, t + 0.05), `clump at ${t}`).to.equal(40);
    }
    const src = parseTraceSpec("synthetic:steady:rate=2:clump=40:duration=10s", 1);
    expect(src.rateBetween(0, 10)).to.equal(80);
    expect(src.peakRate(1)).to.equal(80);
  });

  it("spread=0 sends a clump's requests at the same instant", () => {
    const times = drain(parseTraceSpec("synthetic:steady:rate=1:clump=5:spread=0:duration=3s", 1));
    expect([...times]).to.deep.equal([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
  });

  it("is far more variable than Poisson at the same rate (index of dispersion per second)", () => {
    const times = drain(
      parseTraceSpec("synthetic:poisson:rate=5:clump=40:spread=50ms:duration=20m", 4),
    );
    const counts = new Array<number>(1200).fill(0);
    for (const t of times) counts[Math.floor(t)]!++;
    const m = counts.reduce((a, b) => a + b, 0) / counts.length;
    const v = counts.reduce((a, b) => a + (b - m) ** 2, 0) / (counts.length - 1);
    expect(m).to.be.within(180, 220);
    expect(v / m).to.be.within(30, 50); // a compound Poisson process: ≈ clump size
  });
});

describe("onoff groups", () => {
  it("switches cameras in groups: the rate moves in steps of a group's frames", () => {
    const src = parseTraceSpec(
      "synthetic:onoff:cameras=60:groups=3:fps=2:on=10m:off=10m:duration=6h",
      2,
    );
    const levels = new Set<number>();
    for (let m = 0; m < 360; m++) levels.add(Math.round(src.rateBetween(m * 60, m * 60 + 0.001)));
    for (const l of levels) expect([0, 40, 80, 120]).to.include(l);
    expect(levels.size).to.be.at.least(3);
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
      messages: [
        "expected synthetic:KIND:key=value",
        "poisson, steady, diurnal, bursts, onoff, shift, flash, weekly",
      ],
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
      name: "groups that do not divide the cameras",
      spec: "synthetic:onoff:cameras=10:groups=3",
      messages: ["groups: must divide cameras (10) into equal groups (got 3)"],
    },
    {
      name: "a surge as long as its period",
      spec: "synthetic:shift:level=10:surgeLength=20m:surgeEvery=20m",
      messages: ["surgeLength: must be less than surgeEvery (1200 s) (got 1200 s)"],
    },
    {
      name: "a flash peak below its base",
      spec: "synthetic:flash:base=10:peak=5",
      messages: ["peak: must be at least base (10) (got 5)"],
    },
    {
      name: "a shift without a level",
      spec: "synthetic:shift:wave=0.1",
      messages: ["level: missing: arrivals per second after the ramp"],
    },
    {
      name: "noise above 1",
      spec: "synthetic:diurnal:mean=5:noise=1.5",
      messages: ["noise: must be from 0 to 1 (got 1.5)"],
    },
    {
      name: "noise on a kind without a Poisson intensity",
      spec: "synthetic:steady:rate=5:noise=0.1",
      messages: ["noise: unknown key for steady"],
    },
    {
      name: "a clump of zero",
      spec: "synthetic:poisson:rate=5:clump=0",
      messages: ["clump: must be a whole number from 1 to 1000000 (got 0)"],
    },
    {
      name: "a negative spread",
      spec: "synthetic:poisson:rate=5:clump=4:spread=-1",
      messages: ["spread: must be >= 0 (got -1)"],
    },
    {
      name: "clumps that make too many requests",
      spec: "synthetic:poisson:rate=1000:clump=1000:duration=2h",
      messages: ["about 7.20e+9 requests expected"],
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

  it("README's table lists every kind with every key (clump, spread, noise in its prose)", () => {
    const readme = readFileSync(join(packageRoot, "README.md"), "utf8");
    const shared = new Set(["clump", "spread", "noise"]);
    for (const [kind, doc] of Object.entries(SYNTHETIC_KINDS)) {
      const row = readme.split("\n").find((l) => l.startsWith(`| \`${kind}\` |`));
      expect(row, `README row for ${kind}`).to.be.a("string");
      for (const key of Object.keys(doc.params)) {
        if (shared.has(key)) expect(readme, key).to.include(`\`${key}\``);
        else expect(row, `${kind}.${key}`).to.match(new RegExp(`\\b${key}\\b`));
      }
    }
  });

  it("documents every kind's parameters", () => {
    for (const [kind, doc] of Object.entries(SYNTHETIC_KINDS)) {
      expect(doc.doc, kind).to.be.a("string").and.not.equal("");
      expect(Object.keys(doc.params), kind).to.include("duration");
      expect(Object.keys(doc.params), kind).to.include.members(["clump", "spread"]);
    }
  });
});
