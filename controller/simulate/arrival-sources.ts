/**
 * Arrival sources over piecewise-constant intensities (intensity.ts): Poisson processes,
 * evenly spaced arrivals, exact per-interval counts and a camera fleet's periodic frames.
 * Every source writes arrival times into a caller's Float64Array, so generating a million
 * requests allocates nothing per request and a source's memory does not grow with the
 * trace's length.
 *
 * Poisson arrivals come from inverting the cumulative rate: draw a unit exponential E and
 * walk forward until ∫λ = E, so a segment boundary costs nothing extra and zero-rate
 * stretches are skipped whole. `rateBetween` and `peakRate` walk fresh cursors over the
 * same segments, so they see the exact intensity of the very realization that `fill`
 * produces (the oracle's bound is for this trace, not an average one).
 */

import type { ArrivalSource } from "./arrivals.js";
import {
  ConstantSegments,
  type FleetSegments,
  Integral,
  type Segments,
  TableSegments,
} from "./intensity.js";
import type { Rng } from "./rng.js";

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
export class PeriodicSource extends IntensitySource {
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
export class FleetFramesSource extends IntensitySource {
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
