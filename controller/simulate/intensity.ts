/**
 * Piecewise-constant intensities λ(t) behind most arrival sources: cursors over contiguous
 * segments [start, end) at a constant rate ("segments": one for `poisson`, one per second
 * for `diurnal`, one per burst or gap for `bursts`, one per camera switching on or off for
 * `onoff`, one per row of a per-interval trace), and {@link Integral}, the cumulative
 * intensity ∫₀ᵗ λ. Random segments draw from their own stream, forked again on `rewind`, so
 * every cursor over the same segments sees the same realization.
 */

import type { Rng } from "./rng.js";

/**
 * A piecewise-constant rate λ(t) as a cursor over contiguous segments [start, end) that
 * cover [0, duration). Past the duration the cursor rests on [duration, ∞) with rate 0.
 */
export abstract class Segments {
  start = 0;
  end = 0;
  rate = 0;
  readonly duration: number;

  constructor(duration: number) {
    this.duration = duration;
  }

  /** Back to the first segment (same segments again: any randomness is re-forked). */
  abstract rewind(): void;
  /** On to the next segment; calls `terminal()` once the duration is reached. */
  abstract advance(): void;

  protected terminal(): void {
    this.start = this.duration;
    this.end = Number.POSITIVE_INFINITY;
    this.rate = 0;
  }
}

/** A constant rate over [0, duration). */
export class ConstantSegments extends Segments {
  private readonly value: number;
  constructor(rate: number, duration: number) {
    super(duration);
    this.value = rate;
    this.rewind();
  }
  rewind(): void {
    this.start = 0;
    this.end = this.duration;
    this.rate = this.value;
  }
  advance(): void {
    this.terminal();
  }
}

/** Explicit segments: bounds[i]..bounds[i+1] at rates[i]; bounds[0] = 0, last = duration. */
export class TableSegments extends Segments {
  private i = 0;
  private readonly bounds: Float64Array;
  private readonly rates: Float64Array;
  constructor(bounds: Float64Array, rates: Float64Array) {
    super(bounds[bounds.length - 1]!);
    this.bounds = bounds;
    this.rates = rates;
    this.rewind();
  }
  rewind(): void {
    this.i = -1;
    this.advance();
  }
  advance(): void {
    const i = ++this.i;
    if (i >= this.rates.length) {
      this.terminal();
      return;
    }
    this.start = this.bounds[i]!;
    this.end = this.bounds[i + 1]!;
    this.rate = this.rates[i]!;
  }
}

/** Modified Bessel function I₀(κ) by its power series (κ ≤ 64 here). */
export function besselI0(k: number): number {
  const x = (k * k) / 4;
  let term = 1;
  let sum = 1;
  for (let m = 1; m < 500 && term > sum * 1e-17; m++) {
    term *= x / (m * m);
    sum += term;
  }
  return sum;
}

/** The κ whose von Mises shape e^{κ cos θ}/I₀(κ) has peak / mean = ratio (≥ 1). */
export function kappaForPeakToMean(ratio: number): number {
  let lo = 0;
  let hi = 64;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (Math.exp(mid) / besselI0(mid) < ratio) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * A day-shaped rate: λ(t) = mean · e^{κ cos(2π(t − phase)/period)} / I₀(κ) (a von Mises
 * bump: positive everywhere, mean exactly `mean` over a period, maximum at t = phase with
 * peak / mean = e^κ / I₀(κ)). Worked example: peakToMean 3 → κ ≈ 1.80, trough ≈ 0.08 ×
 * mean. Held constant over steps of min(1 s, period / 1000) at the step's mean (Simpson).
 */
export class DiurnalSegments extends Segments {
  private k = 0;
  private readonly step: number;
  private readonly scale: number;
  private readonly kappa: number;
  private readonly omega: number;
  private readonly phase: number;
  constructor(mean: number, peakToMean: number, period: number, phase: number, duration: number) {
    super(duration);
    this.kappa = kappaForPeakToMean(peakToMean);
    this.scale = mean / besselI0(this.kappa);
    this.omega = (2 * Math.PI) / period;
    this.phase = phase;
    this.step = Math.min(1, period / 1000);
    this.rewind();
  }
  private lambda(t: number): number {
    return this.scale * Math.exp(this.kappa * Math.cos(this.omega * (t - this.phase)));
  }
  private set(k: number): void {
    const a = k * this.step;
    if (a >= this.duration) {
      this.terminal();
      return;
    }
    const b = Math.min((k + 1) * this.step, this.duration);
    this.start = a;
    this.end = b;
    this.rate = (this.lambda(a) + 4 * this.lambda((a + b) / 2) + this.lambda(b)) / 6;
  }
  rewind(): void {
    this.k = 0;
    this.set(0);
  }
  advance(): void {
    this.set(++this.k);
  }
}

/**
 * Alternating gaps (rate `base`; exponential with mean `gap`, or exactly `gap` when
 * `fixed`) and bursts (`length`, rate `burst`).
 */
export class BurstSegments extends Segments {
  private inBurst = false;
  private rng: Rng;
  private readonly root: Rng;
  constructor(
    private readonly base: number,
    private readonly burst: number,
    private readonly length: number,
    private readonly gap: number,
    duration: number,
    root: Rng,
    private readonly fixed = false,
  ) {
    super(duration);
    this.root = root;
    this.rng = root.fork("bursts");
    this.rewind();
  }
  rewind(): void {
    this.rng = this.root.fork("bursts");
    this.inBurst = false;
    this.start = 0;
    this.end = Math.min(this.duration, this.gapLength());
    this.rate = this.base;
  }
  private gapLength(): number {
    return this.fixed ? this.gap : this.gap * this.rng.exponential(1);
  }
  advance(): void {
    if (this.end >= this.duration) {
      this.terminal();
      return;
    }
    this.start = this.end;
    this.inBurst = !this.inBurst;
    const len = this.inBurst ? this.length : this.gapLength();
    this.end = Math.min(this.duration, this.start + len);
    this.rate = this.inBurst ? this.burst : this.base;
  }
}

/**
 * A fleet of `cameras` independent cameras, each on for an exponential time (mean `onMean`)
 * then off (mean `offMean`), started in the stationary state. The number on is a
 * birth–death chain; each segment is a stretch with `on` cameras on, at rate on × fps.
 * With offMean = 0 every camera is always on.
 */
export class FleetSegments extends Segments {
  on = 0;
  private rng: Rng;
  constructor(
    private readonly cameras: number,
    private readonly fps: number,
    private readonly onMean: number,
    private readonly offMean: number,
    duration: number,
    private readonly root: Rng,
  ) {
    super(duration);
    this.rng = root.fork("onoff");
    this.rewind();
  }
  private holdFrom(t: number): void {
    this.start = t;
    this.rate = this.on * this.fps;
    if (this.offMean === 0) {
      this.end = this.duration;
      return;
    }
    const total = this.on / this.onMean + (this.cameras - this.on) / this.offMean;
    this.end = Math.min(this.duration, t + this.rng.exponential(total));
  }
  rewind(): void {
    this.rng = this.root.fork("onoff");
    if (this.offMean === 0) {
      this.on = this.cameras;
    } else {
      const p = this.onMean / (this.onMean + this.offMean);
      let on = 0;
      for (let i = 0; i < this.cameras; i++) if (this.rng.next() < p) on++;
      this.on = on;
    }
    this.holdFrom(0);
  }
  advance(): void {
    if (this.end >= this.duration) {
      this.terminal();
      return;
    }
    const offRate = this.on / this.onMean;
    const total = offRate + (this.cameras - this.on) / this.offMean;
    if (this.rng.next() * total < offRate) this.on--;
    else this.on++;
    this.holdFrom(this.end);
  }
}

/** ∫₀ᵗ λ, with a cursor that moves forward (and rewinds when asked to go back). */
export class Integral {
  private acc = 0;
  constructor(private readonly seg: Segments) {
    seg.rewind();
  }
  at(time: number): number {
    const t = time > 0 ? time : 0;
    const s = this.seg;
    if (t < s.start) {
      s.rewind();
      this.acc = 0;
    }
    while (t >= s.end) {
      this.acc += (s.end - s.start) * s.rate;
      s.advance();
    }
    return this.acc + (t - s.start) * s.rate;
  }
}
