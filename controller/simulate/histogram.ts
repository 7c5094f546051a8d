/**
 * A fixed-memory latency histogram for quantiles and SLO attainment, HDR-style:
 * log-linear buckets, 128 linear sub-buckets per power of two, from 2⁻¹⁰ ms (≈ 0.98 µs)
 * to 2²² ms (≈ 70 min), plus one underflow and one overflow bucket: 4098 counts, 32 KiB,
 * whatever the number of samples.
 *
 * A bucket [lo, lo + 2ᵉ/128) inside the octave [2ᵉ, 2ᵉ⁺¹) is at most 1/128 of its lower
 * bound wide, so reporting its midpoint is within {@link HISTOGRAM_RELATIVE_ERROR} = 1/256
 * (0.39 %) of any sample in it. Worked example: 100 ms lies in the octave [64, 128), whose
 * buckets are 0.5 ms wide; a p99 of 100.2 ms is reported as 100.25 ms.
 *
 * `record` takes the bucket from the bits of the float64 itself (the exponent and the top
 * 7 mantissa bits are one monotone integer), so no logarithm is computed per sample.
 */

/** Sub-buckets per power of two, as a number of mantissa bits (2⁷ = 128). */
const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS;
/** The lowest octave's exponent: 2⁻¹⁰ ms ≈ 0.98 µs. */
const MIN_EXP = -10;
/** One past the highest octave's exponent: 2²² ms ≈ 69.9 minutes. */
const MAX_EXP = 22;
const REGULAR = (MAX_EXP - MIN_EXP) * SUB_COUNT;

/** The smallest value with its own bucket, in ms; smaller values share the underflow bucket. */
export const HISTOGRAM_MIN_MS: number = 2 ** MIN_EXP;
/** Values at or above this many ms share the overflow bucket (≈ 70 minutes). */
export const HISTOGRAM_MAX_MS: number = 2 ** MAX_EXP;
/**
 * The largest relative error of a reported quantile for values in
 * [HISTOGRAM_MIN_MS, HISTOGRAM_MAX_MS): half a bucket's width over its lower bound, 1/256.
 */
export const HISTOGRAM_RELATIVE_ERROR: number = 1 / (2 * SUB_COUNT);

// float64 → its high 32 bits: sign, 11 exponent bits, top 20 mantissa bits.
const scratchF64 = new Float64Array(1);
const scratchU32 = new Uint32Array(scratchF64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
/** The high word shifted so that it reads (biased exponent << 7) | top 7 mantissa bits. */
const SHIFT = 20 - SUB_BITS;
const BASE = (1023 + MIN_EXP) << SUB_BITS;

/** Lower bound (ms) of every bucket: [0] underflow (0), [1..REGULAR] regular, [REGULAR+1] overflow. */
const LOWER: Float64Array = (() => {
  const lo = new Float64Array(REGULAR + 3);
  for (let i = 0; i < REGULAR; i++) {
    const e = MIN_EXP + (i >> SUB_BITS);
    lo[i + 1] = 2 ** e * (1 + (i & (SUB_COUNT - 1)) / SUB_COUNT);
  }
  lo[REGULAR + 1] = HISTOGRAM_MAX_MS;
  lo[REGULAR + 2] = Number.POSITIVE_INFINITY;
  return lo;
})();

/**
 * The bucket of a sample in ms: 0 below 1 µs (negative values too), REGULAR + 1 from the
 * top of the range, else the regular bucket read from the double's exponent and top
 * mantissa bits; -1 for NaN (not recorded).
 */
function bucketOf(ms: number): number {
  if (ms >= HISTOGRAM_MIN_MS) {
    if (ms >= HISTOGRAM_MAX_MS) return REGULAR + 1;
    scratchF64[0] = ms;
    return (scratchU32[HI]! >>> SHIFT) - BASE + 1;
  }
  return ms < HISTOGRAM_MIN_MS ? 0 : -1;
}

/**
 * Latency samples in milliseconds, bucketed. Count, sum (so the mean), minimum and maximum
 * are exact; quantiles are within {@link HISTOGRAM_RELATIVE_ERROR}.
 */
export class LatencyHistogram {
  /** Samples per bucket (float64: exact up to 2⁵³ samples, no overflow). */
  private readonly counts = new Float64Array(REGULAR + 2);
  // [count, sum, min, max] in a typed array: field writes never allocate.
  private readonly stats = new Float64Array([
    0,
    0,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ]);

  /** Adds one sample, in ms. NaN is ignored; negative values count as below 1 µs. */
  record(ms: number): void {
    const i = bucketOf(ms);
    if (i < 0) return;
    const c = this.counts;
    c[i]! += 1;
    const s = this.stats;
    s[0]! += 1;
    s[1]! += ms;
    if (ms < s[2]!) s[2] = ms;
    if (ms > s[3]!) s[3] = ms;
  }

  /**
   * {@link record}(values[k] × scale) for each of `values[0, n)`, in order (one call for a
   * whole batch; e.g. latencies in seconds with scale 1000).
   */
  recordAll(values: Float64Array, n: number, scale = 1): void {
    const c = this.counts;
    const s = this.stats;
    let count = s[0]!;
    let sum = s[1]!;
    let min = s[2]!;
    let max = s[3]!;
    for (let k = 0; k < n; k++) {
      const ms = values[k]! * scale;
      const i = bucketOf(ms);
      if (i < 0) continue;
      c[i]! += 1;
      count += 1;
      sum += ms;
      if (ms < min) min = ms;
      if (ms > max) max = ms;
    }
    s[0] = count;
    s[1] = sum;
    s[2] = min;
    s[3] = max;
  }

  /** Adds `n` samples of the same value, in ms (n ≥ 0; n = 0 does nothing). */
  recordN(ms: number, n: number): void {
    if (!(n > 0)) return;
    const i = bucketOf(ms);
    if (i < 0) return;
    this.counts[i]! += n;
    const s = this.stats;
    s[0]! += n;
    s[1]! += ms * n;
    if (ms < s[2]!) s[2] = ms;
    if (ms > s[3]!) s[3] = ms;
  }

  /** Number of samples recorded. */
  get count(): number {
    return this.stats[0]!;
  }

  /** Exact mean of the samples, in ms; NaN when empty. */
  get mean(): number {
    const n = this.stats[0]!;
    return n === 0 ? Number.NaN : this.stats[1]! / n;
  }

  /** Exact largest sample, in ms; NaN when empty. */
  get max(): number {
    return this.stats[0]! === 0 ? Number.NaN : this.stats[3]!;
  }

  /** Exact smallest sample, in ms; NaN when empty. */
  get min(): number {
    return this.stats[0]! === 0 ? Number.NaN : this.stats[2]!;
  }

  /**
   * The q-quantile in ms, nearest-rank: the sample of rank ⌈q·count⌉ (at least 1) in sorted
   * order, reported as its bucket's midpoint clamped to [min, max]. Within
   * {@link HISTOGRAM_RELATIVE_ERROR} of the exact sample for values in
   * [HISTOGRAM_MIN_MS, HISTOGRAM_MAX_MS); `quantile(0)` is the min and `quantile(1)` the max,
   * exactly. NaN when empty.
   *
   * @throws RangeError when q is not in [0, 1].
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) {
      throw new RangeError(`a quantile must be in [0, 1]. Received: ${q}`);
    }
    const s = this.stats;
    const n = s[0]!;
    if (n === 0) return Number.NaN;
    const min = s[2]!;
    const max = s[3]!;
    const rank = Math.max(1, Math.ceil(q * n));
    if (rank >= n) return max;
    if (rank === 1 && q === 0) return min;
    const c = this.counts;
    let seen = 0;
    for (let i = 0; i < c.length; i++) {
      seen += c[i]!;
      if (seen >= rank) {
        if (i === 0) return min;
        if (i === REGULAR + 1) return max;
        const mid = (LOWER[i]! + LOWER[i + 1]!) / 2;
        return mid < min ? min : mid > max ? max : mid;
      }
    }
    return max;
  }

  /**
   * The fraction of samples ≤ `ms` (SLO attainment). Exact when `ms` is below the min or
   * at or above the max; otherwise every bucket entirely at or below `ms` counts whole and
   * the bucket containing `ms` counts in proportion to where `ms` falls inside it (samples
   * assumed uniform within the bucket). The error is therefore at most the share of samples
   * within one bucket of `ms` — those within ±0.78 % of it — and usually far less. NaN when
   * empty.
   */
  fractionAtOrBelow(ms: number): number {
    const s = this.stats;
    const n = s[0]!;
    if (n === 0) return Number.NaN;
    if (ms < s[2]!) return 0;
    if (ms >= s[3]!) return 1;
    const c = this.counts;
    let below = 0;
    for (let i = 0; i < c.length; i++) {
      const lo = LOWER[i]!;
      const hi = LOWER[i + 1]!;
      if (hi <= ms) {
        below += c[i]!;
        continue;
      }
      if (lo <= ms && c[i]! > 0) {
        // Use the observed range inside the bucket when it is narrower than the bucket.
        const from = Math.max(lo, s[2]!);
        const to = Math.min(hi, s[3]!);
        below += to > from ? (c[i]! * (ms - from)) / (to - from) : c[i]!;
      }
      break;
    }
    return Math.min(1, below / n);
  }

  /** Adds every sample of `other` into this histogram. */
  merge(other: LatencyHistogram): void {
    const c = this.counts;
    const o = other.counts;
    for (let i = 0; i < c.length; i++) c[i]! += o[i]!;
    const s = this.stats;
    const t = other.stats;
    s[0]! += t[0]!;
    s[1]! += t[1]!;
    if (t[2]! < s[2]!) s[2] = t[2]!;
    if (t[3]! > s[3]!) s[3] = t[3]!;
  }

  /** Forgets every sample, keeping the memory. */
  reset(): void {
    this.counts.fill(0);
    this.stats.set([0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  }
}
