/**
 * Arrival sources for the simulator: the {@link ArrivalSource} contract, the
 * piecewise-constant intensities behind most sources, and the synthetic generators
 * (`synthetic:KIND:key=value:…`, see {@link SYNTHETIC_KINDS} and {@link parseTraceSpec}).
 * Recorded traces (CSV) are read by trace-csv.ts, which builds on the intensity sources
 * here. Every source writes arrival times into a caller's Float64Array, so generating a
 * million requests allocates nothing per request and a synthetic source's memory does not
 * grow with the trace's length.
 *
 * Most synthetic kinds are Poisson processes whose rate λ(t) is piecewise constant
 * ("segments": one for `poisson`, one per second for `diurnal`, one per burst or gap for
 * `bursts`, one per camera switching on or off for `onoff`). Arrivals come from inverting the
 * cumulative rate: draw a unit exponential E and walk forward until ∫λ = E, so a segment
 * boundary costs nothing extra and zero-rate stretches are skipped whole. The segments come
 * from their own random stream, so `rateBetween` and `peakRate` see the exact intensity of
 * the very realization that `fill` produces (the oracle's bound is for this trace, not an
 * average one).
 */

import { InputError, type Problem } from "../diagnostics/problem.js";
import { closest, didYouMean } from "../diagnostics/suggest.js";
import { DURATION_HINT, isDuration, parseDuration } from "../policy/duration.js";
import {
  checkNumber,
  isDecimal,
  type NumberBounds,
  type ParsedNumber,
  parseNumber,
} from "../util/number.js";
import { createRng, type Rng } from "./rng.js";

/**
 * A stream of request arrival times for one simulated pool.
 *
 * Contract:
 * - Times are seconds from the start of the trace, in [0, durationSeconds), non-decreasing
 *   across every `fill` call until `reset`.
 * - `fill(buf, until)` writes the next arrivals with time < `until` into `buf` from index 0
 *   and returns how many it wrote. A return of `buf.length` means there may be more before
 *   `until`: call again with the same `until`. A return below `buf.length` means every
 *   arrival before `until` has been delivered; the next one is at ≥ `until` (or there is
 *   none). `until` may grow between calls; a smaller `until` than before simply returns 0,
 *   never loses an arrival. `buf.length` must be ≥ 1.
 * - Deterministic: the same spec (or file) and seed give the same times, however the
 *   caller chunks them (buffer sizes and `until` steps do not change the sequence).
 * - `reset()` rewinds to the first arrival; the sequence repeats exactly.
 * - `rateBetween` and `peakRate` never disturb `fill`'s position.
 */
export interface ArrivalSource {
  /** What the source is, for reports: the spec or the file name. */
  readonly name: string;
  /** Length of the trace in seconds; every arrival is < this. */
  readonly durationSeconds: number;
  /**
   * Fills `buf` with the next arrival times (seconds from start, non-decreasing) that are
   * < `until`; returns how many were written (≤ buf.length). Call again with the same
   * `until` while it returns buf.length.
   */
  fill(buf: Float64Array, until: number): number;
  /**
   * Mean arrival rate (requests/s) over [t0, t1), t1 > t0: for synthetic sources the exact
   * integral of this realization's intensity λ(t) divided by (t1 − t0) (so the expected
   * count is rate × (t1 − t0)); for timestamp traces the exact count divided by
   * (t1 − t0). Time outside [0, durationSeconds) counts as rate 0. Cheapest when t0 and t1
   * each grow from call to call, as with sliding windows (two cursors move forward; going
   * back rewinds one).
   *
   * @throws RangeError when t1 ≤ t0.
   */
  rateBetween(t0: number, t1: number): number;
  /**
   * The largest `rateBetween(t, t + windowSeconds)` over t ∈ [0, max(0, duration −
   * window)], exact for the piecewise-constant intensity (or the recorded timestamps).
   * A window ≤ 0 gives the peak instantaneous intensity λ (for timestamp traces: the
   * peak over 1 ms windows). Cached per window.
   */
  peakRate(windowSeconds: number): number;
  /** Rewinds to the first arrival. */
  reset(): void;
}

/**
 * The longest trace simulated, in seconds: 31 days (744h). Longer synthetic durations and
 * recorded traces spanning more are refused with a problem, so that a typo (`1e309`, a
 * timestamp in milliseconds read as seconds) cannot start a run that never ends. A month
 * at 1 s steps is about 2.7 M steps per scaler.
 */
export const MAX_TRACE_SECONDS = 31 * 86_400;

/**
 * The most requests one trace may hold (recorded rows or counts, or a synthetic spec's
 * expected count), and the most rate changes a synthetic spec may make: 10⁹, about a
 * minute of simulation per scaler at the simulator's ~15 M requests per second.
 */
export const MAX_TRACE_REQUESTS = 1_000_000_000;

// ---------------------------------------------------------------------------------------
// Piecewise-constant intensities

/**
 * A piecewise-constant rate λ(t) as a cursor over contiguous segments [start, end) that
 * cover [0, duration). Past the duration the cursor rests on [duration, ∞) with rate 0.
 */
abstract class Segments {
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

class ConstantSegments extends Segments {
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
function besselI0(k: number): number {
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
function kappaForPeakToMean(ratio: number): number {
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
class DiurnalSegments extends Segments {
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
class BurstSegments extends Segments {
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
class FleetSegments extends Segments {
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
class Integral {
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

/**
 * The base of sources driven by a piecewise-constant intensity: `rateBetween` and
 * `peakRate` from fresh cursors over the same segments `fill` uses.
 */
abstract class IntensitySource implements ArrivalSource {
  readonly name: string;
  readonly durationSeconds: number;
  protected readonly makeSegments: () => Segments;
  /** Cursors for t0 and t1: each moves forward on its own, so sliding windows stay O(1). */
  private from: Integral | undefined;
  private to: Integral | undefined;
  private readonly peaks = new Map<number, number>();

  constructor(name: string, duration: number, makeSegments: () => Segments) {
    this.name = name;
    this.durationSeconds = duration;
    this.makeSegments = makeSegments;
  }

  abstract fill(buf: Float64Array, until: number): number;
  abstract reset(): void;

  rateBetween(t0: number, t1: number): number {
    if (!(t1 > t0)) throw new RangeError(`rateBetween needs t1 > t0. Received: [${t0}, ${t1})`);
    this.from ??= new Integral(this.makeSegments());
    this.to ??= new Integral(this.makeSegments());
    return (this.to.at(t1) - this.from.at(t0)) / (t1 - t0);
  }

  peakRate(windowSeconds: number): number {
    const w = windowSeconds > 0 ? windowSeconds : 0;
    const cached = this.peaks.get(w);
    if (cached !== undefined) return cached;
    const peak = w === 0 ? this.peakIntensity() : this.peakWindow(w);
    this.peaks.set(w, peak);
    return peak;
  }

  private peakIntensity(): number {
    const s = this.makeSegments();
    s.rewind();
    let max = 0;
    while (s.start < this.durationSeconds) {
      if (s.rate > max && s.end > s.start) max = s.rate;
      s.advance();
    }
    return max;
  }

  /**
   * G(t) = ∫ λ over [t, t + w) is piecewise linear in t with corners where t or t + w
   * crosses a segment boundary, so its maximum is at t = boundary or t = boundary − w.
   */
  private peakWindow(w: number): number {
    const d = this.durationSeconds;
    if (w >= d) return new Integral(this.makeSegments()).at(d) / w;
    const last = d - w;
    let best = 0;
    for (const shift of [0, w]) {
      const walk = this.makeSegments();
      walk.rewind();
      const lo = new Integral(this.makeSegments());
      const hi = new Integral(this.makeSegments());
      for (;;) {
        const t = Math.min(walk.start - shift, last);
        if (t >= 0) {
          const g = hi.at(t + w) - lo.at(t);
          if (g > best) best = g;
        }
        if (t >= last) break;
        walk.advance();
      }
    }
    return best / w;
  }
}

/** An inhomogeneous Poisson process over segments, by inverting the cumulative intensity. */
export class PoissonSource extends IntensitySource {
  private readonly gen: Segments;
  private readonly root: Rng;
  private rng: Rng;
  private pending = 0;

  constructor(name: string, duration: number, makeSegments: () => Segments, root: Rng) {
    super(name, duration, makeSegments);
    this.gen = makeSegments();
    this.root = root;
    this.rng = root.fork("arrivals");
    this.reset();
  }

  reset(): void {
    this.gen.rewind();
    this.rng = this.root.fork("arrivals");
    this.pending = this.after(0);
  }

  /** The next arrival after time t. */
  private after(time: number): number {
    const seg = this.gen;
    let t = time;
    let e = this.rng.exponential(1);
    for (;;) {
      const avail = (seg.end - t) * seg.rate;
      if (e < avail) return t + e / seg.rate;
      if (seg.end >= this.durationSeconds) return Number.POSITIVE_INFINITY;
      if (avail > 0) e -= avail;
      if (t < seg.end) t = seg.end;
      seg.advance();
    }
  }

  fill(buf: Float64Array, until: number): number {
    const cap = buf.length;
    const seg = this.gen;
    const rng = this.rng;
    const duration = this.durationSeconds;
    let rate = seg.rate;
    let end = seg.end;
    let t = this.pending;
    let n = 0;
    while (n < cap && t < until) {
      buf[n++] = t;
      let e = rng.exponential(1);
      for (;;) {
        const avail = (end - t) * rate;
        if (e < avail) {
          t += e / rate;
          break;
        }
        if (end >= duration) {
          t = Number.POSITIVE_INFINITY;
          break;
        }
        if (avail > 0) e -= avail;
        if (t < end) t = end;
        seg.advance();
        rate = seg.rate;
        end = seg.end;
      }
    }
    this.pending = t;
    return n;
  }
}

/** Arrivals exactly every 1/rate seconds from 0 (the `steady` kind's deterministic mode). */
class PeriodicSource extends IntensitySource {
  private k = 0;
  private readonly interval: number;
  constructor(name: string, rate: number, duration: number) {
    super(name, duration, () => new ConstantSegments(rate, duration));
    this.interval = 1 / rate;
  }
  reset(): void {
    this.k = 0;
  }
  fill(buf: Float64Array, until: number): number {
    const cap = buf.length;
    const stop = until < this.durationSeconds ? until : this.durationSeconds;
    const dt = this.interval;
    let k = this.k;
    let n = 0;
    while (n < cap) {
      const t = k * dt;
      if (t >= stop) break;
      buf[n++] = t;
      k++;
    }
    this.k = k;
    return n;
  }
}

/**
 * Exact counts per interval: interval i holds counts[i] arrivals placed like a Poisson
 * process conditioned on its count (uniform order statistics, generated in order:
 * the next of m remaining in [x, end) is x + (end − x)(1 − V^{1/m})).
 */
export class CountsSource extends IntensitySource {
  private readonly bounds: Float64Array;
  private readonly counts: Float64Array;
  private readonly root: Rng;
  private rng: Rng;
  private i = 0;
  private left = 0;
  private x = 0;
  private pending = 0;

  constructor(name: string, bounds: Float64Array, counts: Float64Array, root: Rng) {
    const rates = counts.map((c, i) => c / (bounds[i + 1]! - bounds[i]!));
    super(name, bounds[bounds.length - 1]!, () => new TableSegments(bounds, rates));
    this.bounds = bounds;
    this.counts = counts;
    this.root = root;
    this.rng = root.fork("arrivals");
    this.reset();
  }

  reset(): void {
    this.rng = this.root.fork("arrivals");
    this.i = -1;
    this.left = 0;
    this.pending = this.next();
  }

  private next(): number {
    while (this.left === 0) {
      const i = ++this.i;
      if (i >= this.counts.length) return Number.POSITIVE_INFINITY;
      this.left = this.counts[i]!;
      this.x = this.bounds[i]!;
    }
    const end = this.bounds[this.i + 1]!;
    const v = 1 - this.rng.next();
    this.x += (end - this.x) * (1 - v ** (1 / this.left));
    this.left--;
    return this.x;
  }

  fill(buf: Float64Array, until: number): number {
    const cap = buf.length;
    let t = this.pending;
    let n = 0;
    while (n < cap && t < until) {
      buf[n++] = t;
      t = this.next();
    }
    this.pending = t;
    return n;
  }
}

/**
 * The `onoff` fleet with periodic frames: a camera that is on sends a frame every 1/fps
 * seconds at a fixed phase φ (slots k/fps + φ), each delayed by a uniform jitter in
 * [0, jitter/fps). A camera switching on gets a uniform phase (its first slot is uniform
 * in the next frame interval); a camera switching off is a uniformly random one of those on
 * (equivalent in law to tracking each camera: all are alike and memoryless).
 *
 * Cheap per frame: the phases of the cameras on are kept sorted, so slots come in time
 * order by walking that array round and round. Only the jitter reorders frames, and by less
 * than one jitter span, so frames are made in batches: every slot in [s0, s1) is jittered,
 * frames before s1 are final (no later slot can precede them) and are sorted by a counting
 * sort on time plus an insertion pass; frames at or after s1 carry over to the next batch.
 * A batch never crosses a camera switching on or off.
 */
class FleetFramesSource extends IntensitySource {
  private readonly seg: FleetSegments;
  private readonly root: Rng;
  private rng: Rng;
  /** Sorted phases in [0, interval) of the cameras on (the first `size`). */
  private readonly phases: Float64Array;
  private size = 0;
  /** The next slot is cycle · interval + phases[p]. */
  private cycle = 0;
  private p = 0;
  private readonly interval: number;
  private readonly jitter: number;
  /** Slots per batch: enough that a frame is carried over at most once. */
  private readonly batchSlots: number;
  /** Frames of the current batch: [0, readyLen) sorted and final, then the carried ones. */
  private readonly frames: Float64Array;
  private readonly scratch: Float64Array;
  private readonly buckets: Int32Array;
  private readyPos = 0;
  private readyLen = 0;
  private carryLen = 0;
  /** Every frame not yet in `frames` is at or after this time. */
  private horizon = 0;

  constructor(
    name: string,
    duration: number,
    makeSegments: () => FleetSegments,
    cameras: number,
    fps: number,
    jitter: number,
    root: Rng,
  ) {
    super(name, duration, makeSegments);
    this.seg = makeSegments();
    this.root = root;
    this.rng = root.fork("frames");
    this.phases = new Float64Array(cameras);
    this.interval = 1 / fps;
    this.jitter = jitter * this.interval;
    this.batchSlots = Math.max(1024, Math.ceil(4 * cameras * jitter));
    const room = this.batchSlots + cameras + 1;
    this.frames = new Float64Array(room);
    this.scratch = new Float64Array(room);
    this.buckets = new Int32Array(2 * room + 2);
    this.reset();
  }

  reset(): void {
    this.seg.rewind();
    this.rng = this.root.fork("frames");
    this.size = this.seg.on;
    for (let i = 0; i < this.size; i++) this.phases[i] = this.rng.next() * this.interval;
    this.phases.subarray(0, this.size).sort();
    this.cycle = 0;
    this.p = 0;
    this.readyPos = 0;
    this.readyLen = 0;
    this.carryLen = 0;
    this.horizon = 0;
  }

  /** Index of the first phase ≥ x. */
  private phaseIndex(x: number): number {
    const a = this.phases;
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Applies the switch at time t (one camera on or off) and re-aims the slot cursor at t. */
  private switchAt(t: number): void {
    const seg = this.seg;
    const before = seg.on;
    seg.advance();
    const dt = this.interval;
    const phases = this.phases;
    if (seg.on > before) {
      const first = t + this.rng.next() * dt;
      let phi = first - Math.floor(first / dt) * dt;
      if (!(phi < dt)) phi = 0;
      const at = this.phaseIndex(phi);
      phases.copyWithin(at + 1, at, this.size);
      phases[at] = phi;
      this.size++;
    } else {
      const at = this.rng.int(this.size);
      phases.copyWithin(at, at + 1, this.size);
      this.size--;
    }
    this.cycle = Math.floor(t / dt);
    this.p = this.phaseIndex(t - this.cycle * dt);
    if (this.p === this.size) {
      this.p = 0;
      this.cycle++;
    }
  }

  /** Makes the next batch: frames before its end, sorted, become ready. */
  private nextBatch(): void {
    const dt = this.interval;
    const duration = this.durationSeconds;
    const frames = this.frames;
    const scratch = this.scratch;
    const change = this.seg.end;
    let end = change < duration ? change : duration;
    // Carried frames first (copied aside), then the batch's new frames.
    let m = this.carryLen;
    scratch.set(frames.subarray(this.readyLen, this.readyLen + m));
    if (this.size > 0) {
      const phases = this.phases;
      const rng = this.rng;
      const jitter = this.jitter;
      const size = this.size;
      let cycle = this.cycle;
      let p = this.p;
      const limit = Math.min(end, cycle * dt + phases[p]! + (this.batchSlots * dt) / size);
      end = limit;
      for (;;) {
        const slot = cycle * dt + phases[p]!;
        if (slot >= end) break;
        scratch[m++] = slot + rng.next() * jitter;
        if (++p === size) {
          p = 0;
          cycle++;
        }
      }
      this.cycle = cycle;
      this.p = p;
    }
    // Split: before `end` → ready (front of frames); the rest → carried (after them).
    let ready = 0;
    let carry = 0;
    let lo = Number.POSITIVE_INFINITY;
    for (let i = 0; i < m; i++) {
      const f = scratch[i]!;
      if (f < end) {
        frames[ready++] = f;
        if (f < lo) lo = f;
      } else {
        scratch[carry++] = f;
      }
    }
    frames.set(scratch.subarray(0, carry), ready);
    this.sortFrames(ready, lo, end);
    this.readyPos = 0;
    this.readyLen = ready;
    this.carryLen = end >= duration ? 0 : carry;
    this.horizon = end;
    if (end === change && end < duration) this.switchAt(change);
  }

  /** Sorts frames[0, m), all in [lo, hi): counting sort into ~m buckets, then insertion. */
  private sortFrames(m: number, lo: number, hi: number): void {
    const a = this.frames;
    if (m > 32 && hi > lo) {
      const tmp = this.scratch;
      const count = this.buckets;
      const k = m;
      const scale = k / (hi - lo);
      count.fill(0, 0, k + 1);
      const at = this.buckets.subarray(k + 1);
      for (let i = 0; i < m; i++) {
        let b = ((a[i]! - lo) * scale) | 0;
        if (b >= k) b = k - 1;
        at[i] = b;
        count[b + 1]!++;
      }
      for (let b = 1; b <= k; b++) count[b]! += count[b - 1]!;
      for (let i = 0; i < m; i++) tmp[count[at[i]!]!++] = a[i]!;
      a.set(tmp.subarray(0, m));
    }
    for (let i = 1; i < m; i++) {
      const v = a[i]!;
      let j = i - 1;
      while (j >= 0 && a[j]! > v) {
        a[j + 1] = a[j]!;
        j--;
      }
      a[j + 1] = v;
    }
  }

  fill(buf: Float64Array, until: number): number {
    const cap = buf.length;
    const frames = this.frames;
    let n = 0;
    while (n < cap) {
      if (this.readyPos < this.readyLen) {
        const f = frames[this.readyPos]!;
        if (f >= until) break;
        buf[n++] = f;
        this.readyPos++;
        continue;
      }
      if (this.horizon >= until || this.horizon >= this.durationSeconds) break;
      this.nextBatch();
    }
    return n;
  }
}

// ---------------------------------------------------------------------------------------
// synthetic:KIND:key=value specs

/**
 * How a synthetic parameter's value is read (numbers by {@link parseNumber}: decimal,
 * finite): `rate` a number ≥ 0 (> 0 when `positive`) per second, `duration` seconds or a
 * duration string, ≥ 0 (> 0 when `positive`) and at most {@link MAX_TRACE_SECONDS},
 * `count` a whole number 1..1000000, `fraction` 0..1, `number` a number from 1 to `max`,
 * `choice` one of `choices`. A whole spec is also refused when it would generate more than
 * {@link MAX_TRACE_REQUESTS} requests or rate changes.
 */
export type SyntheticParamType = "rate" | "duration" | "count" | "fraction" | "number" | "choice";

/** One parameter of a synthetic kind, for validation and `--help`. */
export interface SyntheticParam {
  /** What it means, with its unit. */
  readonly doc: string;
  readonly type: SyntheticParamType;
  /** The default as written in a spec (or in words when derived); required when absent. */
  readonly default?: string;
  /** The valid values of a `choice`. */
  readonly choices?: readonly string[];
  /** The value must be > 0 rather than ≥ 0 (`rate`, `duration`; `number` is always ≥ 1). */
  readonly positive?: boolean;
  /** The largest valid value, if any. */
  readonly max?: number;
}

/** One synthetic kind: what it generates and its parameters. */
export interface SyntheticKindDoc {
  readonly doc: string;
  readonly params: Readonly<Record<string, SyntheticParam>>;
}

const DURATION_DOC = "trace length: seconds or a duration such as 10m, 1h, 24h";

/** Every synthetic trace kind and its parameters (`synthetic:KIND:key=value:…`). */
export const SYNTHETIC_KINDS = {
  poisson: {
    doc: "a homogeneous Poisson process",
    params: {
      rate: { doc: "mean arrivals per second", type: "rate", positive: true },
      duration: { doc: DURATION_DOC, type: "duration", default: "1h", positive: true },
    },
  },
  steady: {
    doc: "a constant rate: evenly spaced arrivals, or Poisson",
    params: {
      rate: { doc: "arrivals per second", type: "rate", positive: true },
      mode: {
        doc: "deterministic (every 1/rate s from 0) or poisson",
        type: "choice",
        choices: ["deterministic", "poisson"],
        default: "deterministic",
      },
      duration: { doc: DURATION_DOC, type: "duration", default: "1h", positive: true },
    },
  },
  diurnal: {
    doc: "a Poisson process whose rate follows a daily cycle (von Mises shape, peak at `phase`)",
    params: {
      mean: { doc: "mean arrivals per second over a period", type: "rate", positive: true },
      peakToMean: { doc: "peak rate / mean rate, 1..20", type: "number", default: "3", max: 20 },
      period: { doc: "cycle length", type: "duration", default: "24h", positive: true },
      phase: { doc: "time of the peak after the start", type: "duration", default: "period/2" },
      duration: { doc: DURATION_DOC, type: "duration", default: "one period", positive: true },
    },
  },
  bursts: {
    doc: "a Poisson process at `base` with bursts at `burst`; gaps between bursts are exponential",
    params: {
      base: { doc: "arrivals per second between bursts (0 = idle)", type: "rate", default: "0" },
      burst: { doc: "arrivals per second during a burst", type: "rate", positive: true },
      length: { doc: "length of each burst", type: "duration", default: "30s", positive: true },
      gap: {
        doc: "time between bursts: the mean (exponential) or exact (fixed)",
        type: "duration",
        default: "5m",
      },
      gaps: {
        doc: "exponential (bursts at random) or fixed (the first at `gap`, then every gap + length: a schedule can know them)",
        type: "choice",
        choices: ["exponential", "fixed"],
        default: "exponential",
      },
      duration: { doc: DURATION_DOC, type: "duration", default: "1h", positive: true },
    },
  },
  onoff: {
    doc: "a camera fleet: each camera switches on and off (exponential times) and sends frames at `fps` while on",
    params: {
      cameras: { doc: "number of cameras", type: "count" },
      fps: {
        doc: "frames per second per camera while on",
        type: "rate",
        default: "10",
        positive: true,
      },
      on: { doc: "mean time a camera stays on", type: "duration", default: "5m", positive: true },
      off: { doc: "mean time a camera stays off (0 = always on)", type: "duration", default: "5m" },
      mode: {
        doc: "periodic (a frame every 1/fps s with jitter) or poisson (Poisson at fps)",
        type: "choice",
        choices: ["periodic", "poisson"],
        default: "periodic",
      },
      jitter: {
        doc: "periodic mode: frame delay, uniform in [0, jitter) frame intervals, 0..1",
        type: "fraction",
        default: "0.1",
      },
      duration: { doc: DURATION_DOC, type: "duration", default: "1h", positive: true },
    },
  },
} as const satisfies Record<string, SyntheticKindDoc>;

/** A synthetic trace kind. */
export type SyntheticKind = keyof typeof SYNTHETIC_KINDS;

type Values = ReadonlyMap<string, number | string>;

function num(v: Values, key: string): number {
  return v.get(key) as number;
}

const BUILDERS = {
  poisson: (name, v, root) => {
    const rate = num(v, "rate");
    const d = num(v, "duration");
    return new PoissonSource(name, d, () => new ConstantSegments(rate, d), root);
  },
  steady: (name, v, root) => {
    const rate = num(v, "rate");
    const d = num(v, "duration");
    return v.get("mode") === "poisson"
      ? new PoissonSource(name, d, () => new ConstantSegments(rate, d), root)
      : new PeriodicSource(name, rate, d);
  },
  diurnal: (name, v, root) => {
    const period = num(v, "period");
    const phase = v.has("phase") ? num(v, "phase") : period / 2;
    const d = v.has("duration") ? num(v, "duration") : period;
    const mean = num(v, "mean");
    const ratio = num(v, "peakToMean");
    return new PoissonSource(
      name,
      d,
      () => new DiurnalSegments(mean, ratio, period, phase, d),
      root,
    );
  },
  bursts: (name, v, root) => {
    const d = num(v, "duration");
    const make = (): Segments =>
      new BurstSegments(
        num(v, "base"),
        num(v, "burst"),
        num(v, "length"),
        num(v, "gap"),
        d,
        root,
        v.get("gaps") === "fixed",
      );
    return new PoissonSource(name, d, make, root);
  },
  onoff: (name, v, root) => {
    const d = num(v, "duration");
    const cameras = num(v, "cameras");
    const fps = num(v, "fps");
    const make = (): FleetSegments =>
      new FleetSegments(cameras, fps, num(v, "on"), num(v, "off"), d, root);
    return v.get("mode") === "poisson"
      ? new PoissonSource(name, d, make, root)
      : new FleetFramesSource(name, d, make, cameras, fps, num(v, "jitter"), root);
  },
} satisfies Record<SyntheticKind, (name: string, values: Values, root: Rng) => ArrivalSource>;

/**
 * What a spec costs to generate, for the guard against runs that never end: the expected
 * number of requests, of rate changes (segments), and what to change when either is too
 * many.
 */
const WORK = {
  poisson: (v) => ({ requests: num(v, "rate") * num(v, "duration"), changes: 1, fix: "" }),
  steady: (v) => ({ requests: num(v, "rate") * num(v, "duration"), changes: 1, fix: "" }),
  diurnal: (v) => {
    const period = num(v, "period");
    const d = v.has("duration") ? num(v, "duration") : period;
    return {
      requests: num(v, "mean") * d,
      changes: d / Math.min(1, period / 1000),
      fix: "a longer period",
    };
  },
  bursts: (v) => {
    const d = num(v, "duration");
    const length = num(v, "length");
    const gap = num(v, "gap");
    const cycle = length + gap;
    return {
      requests: (d * (num(v, "base") * gap + num(v, "burst") * length)) / cycle,
      changes: (2 * d) / cycle,
      fix: "a longer length or gap",
    };
  },
  onoff: (v) => {
    const d = num(v, "duration");
    const cameras = num(v, "cameras");
    const on = num(v, "on");
    const off = num(v, "off");
    return {
      requests: (cameras * num(v, "fps") * d * on) / (on + off),
      changes: off === 0 ? 1 : (2 * cameras * d) / (on + off),
      fix: "fewer cameras or longer on and off times",
    };
  },
} satisfies Record<
  SyntheticKind,
  (values: Values) => { requests: number; changes: number; fix: string }
>;

/** `744h (31 days)`: a limit in seconds as a duration, for messages. */
const MAX_DURATION_TEXT = `${MAX_TRACE_SECONDS / 3600}h (${MAX_TRACE_SECONDS / 86_400} days)`;

/** Reads one parameter value; returns the value or an error message. */
function readParam(p: SyntheticParam, raw: string): number | string | { error: string } {
  switch (p.type) {
    case "choice":
      return p.choices?.includes(raw)
        ? raw
        : {
            error: `must be one of ${p.choices?.join(", ")}${didYouMean(raw, p.choices ?? [])} (got ${JSON.stringify(raw)})`,
          };
    case "duration": {
      const low: NumberBounds = p.positive ? { greaterThan: 0 } : { min: 0 };
      let r: ParsedNumber;
      if (isDecimal(raw)) r = parseNumber(raw, low);
      else if (isDuration(raw)) r = checkNumber(parseDuration(raw), low, raw);
      else {
        return {
          error: `must be a number of seconds or ${DURATION_HINT} (got ${JSON.stringify(raw)})`,
        };
      }
      if (!r.ok) return { error: r.message };
      if (r.value > MAX_TRACE_SECONDS) {
        return {
          error: `must be at most ${MAX_DURATION_TEXT}, the longest trace simulated (got ${raw})`,
        };
      }
      return r.value;
    }
    case "count":
      return result(parseNumber(raw, { integer: true, min: 1, max: 1_000_000 }));
    case "fraction":
      return result(parseNumber(raw, { min: 0, max: 1 }));
    case "rate":
      return result(parseNumber(raw, p.positive ? { greaterThan: 0 } : { min: 0 }));
    case "number":
      return result(parseNumber(raw, p.max === undefined ? { min: 1 } : { min: 1, max: p.max }));
  }
}

function result(r: ParsedNumber): number | { error: string } {
  return r.ok ? r.value : { error: r.message };
}

/**
 * Parses `synthetic:KIND:key=value:key=value` into a source (kinds and keys:
 * {@link SYNTHETIC_KINDS}). Examples: `synthetic:poisson:rate=200:duration=10m`,
 * `synthetic:diurnal:mean=150:peakToMean=3`, `synthetic:onoff:cameras=400:fps=5`.
 * The seed makes the arrivals (and any random schedule) reproducible.
 *
 * @throws InputError naming every bad kind, key or value, with the valid ones.
 */
export function parseTraceSpec(spec: string, seed: number): ArrivalSource {
  const file = `trace ${JSON.stringify(spec)}`;
  const problems: Problem[] = [];
  const fail = (path: string, message: string): never => {
    problems.push({ file, line: 0, col: 0, path, message });
    throw new InputError(problems, "invalid trace spec");
  };
  const kinds = Object.keys(SYNTHETIC_KINDS);
  const parts = spec.trim().split(":");
  if (parts[0] !== "synthetic") {
    fail("", `expected synthetic:KIND:key=value:..., KIND one of ${kinds.join(", ")}`);
  }
  const kind = parts[1] ?? "";
  if (!Object.hasOwn(SYNTHETIC_KINDS, kind)) {
    fail(
      "",
      `unknown kind ${JSON.stringify(kind)}${didYouMean(kind, kinds)}; valid kinds: ${kinds.join(", ")}`,
    );
  }
  const doc: SyntheticKindDoc = SYNTHETIC_KINDS[kind as SyntheticKind];
  const keys = Object.keys(doc.params);
  const values = new Map<string, number | string>();
  const report = (path: string, message: string): void => {
    problems.push({ file, line: 0, col: 0, path, message });
  };
  // Keys already blamed (misspelt or without a value) are not also reported missing.
  const blamed = new Set<string>();
  for (const item of parts.slice(2)) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq < 0) {
      report(
        "",
        `expected key=value, got ${JSON.stringify(item)}; valid keys for ${kind}: ${keys.join(", ")}`,
      );
      blamed.add(item);
      continue;
    }
    const key = item.slice(0, eq);
    const raw = item.slice(eq + 1);
    const p = doc.params[key];
    if (p === undefined) {
      report(
        key,
        `unknown key for ${kind}${didYouMean(key, keys)}; valid keys: ${keys.join(", ")}`,
      );
      const suggestion = closest(key, keys);
      if (suggestion !== undefined) blamed.add(suggestion);
      continue;
    }
    if (values.has(key)) {
      report(key, "given twice");
      continue;
    }
    const v = readParam(p, raw);
    if (typeof v === "object") report(key, v.error);
    else values.set(key, v);
  }
  for (const key of keys) {
    const p = doc.params[key]!;
    if (values.has(key) || blamed.has(key) || problems.some((q) => q.path === key)) continue;
    if (p.default === undefined) {
      report(key, `missing: ${p.doc}`);
    } else {
      // Defaults written as prose ("period/2", "one period") are derived by the builder.
      const v = readParam(p, p.default);
      if (typeof v !== "object") values.set(key, v);
    }
  }
  if (problems.length === 0) {
    const work = WORK[kind as SyntheticKind](values);
    if (work.requests > MAX_TRACE_REQUESTS) {
      report(
        "",
        `about ${work.requests.toPrecision(3)} requests expected (rate × duration); at most ${MAX_TRACE_REQUESTS} are simulated: lower the rate or the duration`,
      );
    } else if (work.changes > MAX_TRACE_REQUESTS) {
      report(
        "",
        `about ${work.changes.toPrecision(3)} rate changes; at most ${MAX_TRACE_REQUESTS} are simulated: choose ${work.fix}, or a shorter duration`,
      );
    }
  }
  if (problems.length > 0) throw new InputError(problems, "invalid trace spec");
  const root = createRng(seed).fork(`trace:${kind}`);
  return BUILDERS[kind as SyntheticKind](spec.trim(), values, root);
}
