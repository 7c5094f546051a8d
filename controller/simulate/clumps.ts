/**
 * Clumped arrivals (the `clump` and `spread` keys of every synthetic kind): each arrival of
 * an inner source becomes `size` requests sent within `spread` seconds of it — a camera
 * uploading a burst of frames at once, a client fanning one call out into many. The
 * requests of one clump are uniform in [t, t + spread) (cut at the trace's end), generated
 * in order as uniform order statistics; clumps that overlap are merged by a min-heap, so
 * times stay non-decreasing and memory grows only with how many clumps overlap.
 */

import type { ArrivalSource } from "./arrivals.js";
import type { Rng } from "./rng.js";

/** Wraps `inner`: every arrival becomes `size` requests within `spread` seconds. */
export class ClumpSource implements ArrivalSource {
  readonly name: string;
  readonly durationSeconds: number;
  private rng: Rng;
  /** Inner arrivals read ahead: [pos, len). */
  private readonly ahead = new Float64Array(1024);
  private pos = 0;
  private len = 0;
  /** Every inner arrival before this time has been read into `ahead`. */
  private innerDone = Number.NEGATIVE_INFINITY;
  /** A binary min-heap of the clumps' requests not yet delivered. */
  private heap = new Float64Array(1024);
  private size = 0;

  constructor(
    private readonly inner: ArrivalSource,
    private readonly clump: number,
    private readonly spread: number,
    private readonly root: Rng,
    name = inner.name,
  ) {
    this.name = name;
    this.durationSeconds = inner.durationSeconds;
    this.rng = root.fork("clumps");
  }

  reset(): void {
    this.inner.reset();
    this.rng = this.root.fork("clumps");
    this.pos = 0;
    this.len = 0;
    this.innerDone = Number.NEGATIVE_INFINITY;
    this.size = 0;
  }

  /**
   * Expected requests per second over [t0, t1): `size` × the inner rate (a clump's
   * requests are counted at its first one; the spread moves at most `spread` seconds of
   * them past the window's end).
   */
  rateBetween(t0: number, t1: number): number {
    return this.clump * this.inner.rateBetween(t0, t1);
  }

  /** `size` × the inner peak rate over the window (for windows ≥ the spread, up to the spread's shift). */
  peakRate(windowSeconds: number): number {
    return this.clump * this.inner.peakRate(windowSeconds);
  }

  private push(t: number): void {
    if (this.size === this.heap.length) {
      const bigger = new Float64Array(this.heap.length * 2);
      bigger.set(this.heap);
      this.heap = bigger;
    }
    const h = this.heap;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! <= t) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = t;
  }

  private pop(): number {
    const h = this.heap;
    const top = h[0]!;
    const last = h[--this.size]!;
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]! < h[l]! ? r : l;
      if (h[c]! >= last) break;
      h[i] = h[c]!;
      i = c;
    }
    if (n > 0) h[i] = last;
    return top;
  }

  /** Adds the clump of the inner arrival at t. */
  private explode(t: number): void {
    const end = Math.min(t + this.spread, this.durationSeconds);
    const rng = this.rng;
    let x = t;
    for (let left = this.clump; left > 0; left--) {
      // The next of `left` uniforms on [x, end), in order.
      x += (end - x) * (1 - (1 - rng.next()) ** (1 / left));
      this.push(x < end ? x : t);
    }
  }

  fill(buf: Float64Array, until: number): number {
    const cap = buf.length;
    let n = 0;
    while (n < cap) {
      if (this.pos === this.len && this.innerDone < until) {
        this.len = this.inner.fill(this.ahead, until);
        this.pos = 0;
        if (this.len < this.ahead.length) this.innerDone = until;
      }
      const next = this.pos < this.len ? this.ahead[this.pos]! : Number.POSITIVE_INFINITY;
      if (this.size > 0 && this.heap[0]! <= next) {
        if (this.heap[0]! >= until) break;
        buf[n++] = this.pop();
        continue;
      }
      if (next === Number.POSITIVE_INFINITY) break;
      this.pos++;
      this.explode(next);
    }
    return n;
  }
}
