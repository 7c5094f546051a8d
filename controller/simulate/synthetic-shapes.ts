/**
 * The intensities behind the synthetic kinds that model a named real pattern (synthetic.ts):
 * a work shift with periodic surges ({@link ShiftSegments}), flash crowds from near zero
 * ({@link FlashSegments}), a week with weekday and weekend levels ({@link WeeklySegments}),
 * and multiplicative noise on any of them ({@link NoisySegments}). Each is a cursor over
 * piecewise-constant segments (intensity.ts), so every source over them (Poisson, the
 * oracle's rate queries) sees the same realization.
 */

import { besselI0, kappaForPeakToMean, Segments } from "./intensity.js";
import type { Rng } from "./rng.js";

/**
 * Segments of one `step` each, at the mean rate a subclass gives for [a, b). Steps are
 * visited in order from 0 after every `rewind`, so a subclass may keep state that moves
 * forward with time (e.g. the next flash crowd) and restarts in `restart`.
 */
abstract class StepSegments extends Segments {
  private k = 0;
  constructor(
    duration: number,
    private readonly step: number,
  ) {
    super(duration);
  }

  /** The mean rate over [a, b), called for consecutive steps. */
  protected abstract rateOver(a: number, b: number): number;
  /** Back to time 0 (re-fork any randomness). */
  protected abstract restart(): void;

  private set(k: number): void {
    const a = k * this.step;
    if (a >= this.duration) {
      this.terminal();
      return;
    }
    const b = Math.min((k + 1) * this.step, this.duration);
    this.start = a;
    this.end = b;
    this.rate = this.rateOver(a, b);
  }

  rewind(): void {
    this.restart();
    this.k = 0;
    this.set(0);
  }

  advance(): void {
    this.set(++this.k);
  }
}

/** What a work shift looks like: {@link ShiftSegments}. */
export interface ShiftShape {
  /** Rate at the start (requests/s). */
  readonly start: number;
  /** Rate reached at the end of the ramp (requests/s). */
  readonly level: number;
  /** Length of the linear ramp from `start` to `level` (s). */
  readonly ramp: number;
  /** Amplitude of the slow wave as a fraction of the ramped rate, 0..1. */
  readonly wave: number;
  /** Period of the slow wave (s). */
  readonly wavePeriod: number;
  /** The rate is multiplied by this during a surge (≥ 1). */
  readonly surge: number;
  /** Length of each surge (s), less than `surgeEvery`. */
  readonly surgeLength: number;
  /** Time from one surge's start to the next (s); the first starts at `surgeEvery`. */
  readonly surgeEvery: number;
}

/**
 * A work shift: λ(t) = ramp(t) · (1 + wave · sin(2πt / wavePeriod)) · (surge during a
 * surge, else 1), where ramp(t) goes linearly from `start` to `level` over `ramp` and then
 * stays. Surges are [j · surgeEvery, j · surgeEvery + surgeLength), j ≥ 1. In 1 s steps: the
 * smooth part at the step's midpoint, the surge by its exact share of the step, so the
 * integral of the surges is exact. Worked example (the shift of issue 9): start 0, level
 * 400, ramp 30m, wave 0.12 over 1h, surge 2 for 1m every 20m: about 450 req/s at the crest
 * of the wave, and twice the rate of the moment (up to about 900 req/s) for a minute three
 * times an hour.
 */
export class ShiftSegments extends StepSegments {
  constructor(
    private readonly shape: ShiftShape,
    duration: number,
  ) {
    super(duration, 1);
    this.rewind();
  }

  protected restart(): void {}

  protected rateOver(a: number, b: number): number {
    const s = this.shape;
    const mid = (a + b) / 2;
    const ramped = mid < s.ramp ? s.start + ((s.level - s.start) * mid) / s.ramp : s.level;
    const smooth = ramped * (1 + s.wave * Math.sin((2 * Math.PI * mid) / s.wavePeriod));
    let inSurge = 0;
    const every = s.surgeEvery;
    for (let j = Math.max(1, Math.floor(a / every)); j * every < b; j++) {
      const lo = Math.max(a, j * every);
      const hi = Math.min(b, j * every + s.surgeLength);
      if (hi > lo) inSurge += hi - lo;
    }
    return smooth * (1 + ((s.surge - 1) * inSurge) / (b - a));
  }
}

/** What flash crowds look like: {@link FlashSegments}. */
export interface FlashShape {
  /** Rate between crowds (requests/s, ≥ 0). */
  readonly base: number;
  /** Rate at the top of a crowd (requests/s). */
  readonly peak: number;
  /** Time from a crowd's start to its peak (s, linear rise). */
  readonly rise: number;
  /** Time constant of the exponential decay after the peak (s). */
  readonly decay: number;
  /** Mean quiet time between the end of one crowd and the start of the next (s, exponential). */
  readonly gap: number;
}

/**
 * Flash crowds (the "Slashdot effect"): from `base` the rate rises linearly to `peak` in
 * `rise`, then decays as e^{−x/decay} back towards `base`; a crowd ends when its excess is
 * under 1% of the peak's (after rise + decay · ln 100) and the next starts an exponential
 * time (mean `gap`) later. The first crowd starts an exponential time after 0. In 1 s
 * steps at the step's midpoint. Worked example: base 1, peak 800, rise 10s, decay 4m: each
 * crowd reaches 800 req/s in 10 s and lasts rise + decay · ln 100 ≈ 18.6 min.
 */
export class FlashSegments extends StepSegments {
  private rng: Rng;
  /** Start of the current (or next) crowd. */
  private crowd = 0;
  private readonly length: number;

  constructor(
    private readonly shape: FlashShape,
    duration: number,
    private readonly root: Rng,
  ) {
    super(duration, 1);
    this.rng = root.fork("flash");
    this.length = shape.rise + shape.decay * Math.log(100);
    this.rewind();
  }

  protected restart(): void {
    this.rng = this.root.fork("flash");
    this.crowd = this.rng.exponential(1) * this.shape.gap;
  }

  protected rateOver(a: number, b: number): number {
    const s = this.shape;
    const mid = (a + b) / 2;
    while (mid >= this.crowd + this.length) {
      this.crowd += this.length + this.rng.exponential(1) * s.gap;
    }
    const x = mid - this.crowd;
    if (x < 0) return s.base;
    const excess = x < s.rise ? x / s.rise : Math.exp(-(x - s.rise) / s.decay);
    return s.base + (s.peak - s.base) * excess;
  }
}

/** What a week looks like: {@link WeeklySegments}. */
export interface WeeklyShape {
  /** Mean rate of a weekday (requests/s). */
  readonly weekday: number;
  /** Mean rate of a weekend day (requests/s). */
  readonly weekend: number;
  /** Peak / mean within a day, 1..20. */
  readonly peakToMean: number;
  /** Time of day of the daily peak (s after midnight). */
  readonly phase: number;
}

const DAY = 86_400;

/**
 * A week from Monday 00:00 (the simulator's default start): each day the same von Mises
 * shape as `diurnal` (peak / mean `peakToMean`, peak at `phase` after midnight), at mean
 * `weekday` Monday to Friday and `weekend` on Saturday and Sunday; later weeks repeat.
 * In 1 s steps at the step's midpoint. Worked example: weekday 300, weekend 80,
 * peakToMean 3: 900 req/s at a weekday's peak, 240 at a weekend's, a weekly mean of 237.
 */
export class WeeklySegments extends StepSegments {
  private readonly kappa: number;
  private readonly norm: number;
  constructor(
    private readonly shape: WeeklyShape,
    duration: number,
  ) {
    super(duration, 1);
    this.kappa = kappaForPeakToMean(shape.peakToMean);
    this.norm = 1 / besselI0(this.kappa);
    this.rewind();
  }

  protected restart(): void {}

  protected rateOver(a: number, b: number): number {
    const s = this.shape;
    const mid = (a + b) / 2;
    const day = Math.floor(mid / DAY) % 7;
    const level = day < 5 ? s.weekday : s.weekend;
    const tod = mid - Math.floor(mid / DAY) * DAY;
    return (
      level * this.norm * Math.exp(this.kappa * Math.cos((2 * Math.PI * (tod - s.phase)) / DAY))
    );
  }
}

/**
 * Multiplicative noise on any intensity: every `step` seconds (from 0) the rate is
 * multiplied by an independent factor e^{σZ − σ²/2}, Z standard normal, whose mean is 1, so
 * the expected count is unchanged. Segments are split at the steps. Worked example: σ 0.3
 * gives factors mostly (±2σ) between 0.52 and 1.74, minute by minute.
 */
export class NoisySegments extends Segments {
  private rng: Rng;
  private k = 0;
  private factor = 1;

  constructor(
    private readonly inner: Segments,
    private readonly sigma: number,
    private readonly step: number,
    private readonly root: Rng,
  ) {
    super(inner.duration);
    this.rng = root.fork("noise");
    this.rewind();
  }

  private draw(): number {
    return Math.exp(this.sigma * this.rng.normal() - (this.sigma * this.sigma) / 2);
  }

  private set(t: number): void {
    const inner = this.inner;
    if (t >= this.duration) {
      this.terminal();
      return;
    }
    this.start = t;
    this.end = Math.min(inner.end, (this.k + 1) * this.step, this.duration);
    this.rate = inner.rate * this.factor;
  }

  rewind(): void {
    this.inner.rewind();
    this.rng = this.root.fork("noise");
    this.k = 0;
    this.factor = this.draw();
    this.set(0);
  }

  advance(): void {
    const t = this.end;
    if (t >= this.duration) {
      this.terminal();
      return;
    }
    if (t >= this.inner.end) this.inner.advance();
    while (t >= (this.k + 1) * this.step) {
      this.k++;
      this.factor = this.draw();
    }
    this.set(t);
  }
}
