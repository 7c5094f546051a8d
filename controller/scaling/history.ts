import type { RatePoint } from "./types.js";

/**
 * The tritonscale scaler's learned history of a pool's arrival rate, in FIXED memory:
 *
 * - a ring of `buckets` mean rates, one per `resolutionSeconds` (NaN where nothing was seen);
 * - two rise tables: for every bucket, how far the rate rose above it within the lead time
 *   L (`leadBuckets`) and within the time a removed replica costs to bring back
 *   (`downBuckets`, node linger + L), as a histogram of the ratio (log₂ bins of 1/16)
 *   conditioned on the bucket's level (bands of half a power of two), kept exact over the
 *   ring: a bucket leaving the ring takes its rises with it;
 * - surges: the lengths of the last {@link RUNS} runs of buckets above 1.3 × a slow
 *   baseline;
 * - idle gaps: a histogram of the lengths of runs of buckets with no arrivals, in bins of
 *   one minute up to four hours (Shahrad et al., "Serverless in the Wild", ATC 2020);
 * - the clumping factor learned from observed queueing, and the best recurring period.
 *
 * Immutable by convention: {@link addSample} returns a new history and copies the arrays
 * only when a bucket closes (once per resolution, a memcpy of about 130 KiB by default),
 * so a decision state can be reused (tests, branches) and the scaler stays pure. Work per
 * closed bucket is O(leadBuckets + downBuckets) plus, once per half hour of buckets, an
 * O(buckets × periods) autocorrelation: O(1) amortized per decision.
 */

/** Level bands: 0 for < 1 req/s, then half powers of two up to 2^23.5 req/s. */
export const BANDS = 48;
/** Ratio bins: 0 for no rise (≤ 1), then 1/16 of a power of two each up to 2^10. */
export const BINS = 161;
/** Surge run lengths remembered. */
export const RUNS = 32;
/** Idle-gap bins: one minute each; the last one holds gaps of four hours and more. */
export const GAP_BINS = 241;
/** At most this many buckets are kept, whatever the window. */
export const MAX_BUCKETS = 20_000;
/** Fewest rise samples a quantile is read from. */
export const MIN_RISE_SAMPLES = 20;
/** Candidate recurring periods, seconds: quarter, third and half hour, hour, day. */
export const PERIODS = [900, 1200, 1800, 3600, 86_400] as const;
/** A surge: a bucket above this multiple of the baseline (and at least 1 req/s above it). */
export const SURGE_FACTOR = 1.3;
/** Seconds of the baseline's exponential average. */
const BASELINE_SECONDS = 600;
/** Half-life of the learned clumping factor, seconds. */
export const CLUMP_HALF_LIFE_SECONDS = 3600;
/** Idle-gap counts are halved when they reach this total, so recent gaps weigh more. */
const GAP_TOTAL_CAP = 1000;

type TypedArray = Float64Array | Int32Array | Uint32Array;
const PAGE_BITS = 8;
const PAGE_MASK = (1 << PAGE_BITS) - 1;

/**
 * A fixed-length number array in pages of 256, copied page by page on write: a draft
 * shares every page with its origin until it writes one, so closing a bucket copies a few
 * pages, not the whole history. Only a draft is written, and only before it is published.
 */
export class Paged<A extends TypedArray> {
  private readonly owned: Uint8Array;

  private constructor(
    private readonly pages: A[],
    readonly length: number,
    owned: boolean,
  ) {
    this.owned = new Uint8Array(pages.length).fill(owned ? 1 : 0);
  }

  /** An array of `length` values `fill`, its pages made by `make`. */
  static of<A extends TypedArray>(make: (n: number) => A, length: number, fill: number): Paged<A> {
    const pages: A[] = [];
    for (let at = 0; at < length; at += 1 << PAGE_BITS) {
      pages.push(make(Math.min(1 << PAGE_BITS, length - at)).fill(fill) as A);
    }
    return new Paged(pages, length, true);
  }

  get(i: number): number {
    return this.pages[i >>> PAGE_BITS]![i & PAGE_MASK]!;
  }

  /** A copy to write, sharing every page until it writes one. */
  draft(): Paged<A> {
    return new Paged(this.pages.slice(), this.length, false);
  }

  set(i: number, v: number): void {
    const p = i >>> PAGE_BITS;
    if (this.owned[p] === 0) {
      this.pages[p] = this.pages[p]!.slice() as A;
      this.owned[p] = 1;
    }
    this.pages[p]![i & PAGE_MASK] = v;
  }

  add(i: number, dv: number): void {
    this.set(i, this.get(i) + dv);
  }
}

/** The shape of a history: what a saved one must match to be restored. */
export interface HistoryShape {
  readonly resolutionSeconds: number;
  /** Buckets in the ring. */
  readonly buckets: number;
  /** Buckets of the lead time L (at least 1). */
  readonly leadBuckets: number;
  /** Buckets of node linger + L (at least leadBuckets). */
  readonly downBuckets: number;
}

/** The shape from the policy's settings (seconds). */
export function historyShape(
  resolutionSeconds: number,
  windowSeconds: number,
  leadSeconds: number,
  lingerSeconds: number,
): HistoryShape {
  const res = Math.max(1, resolutionSeconds);
  const buckets = Math.max(4, Math.min(MAX_BUCKETS, Math.ceil(windowSeconds / res)));
  const leadBuckets = Math.min(buckets - 2, Math.max(1, Math.ceil(leadSeconds / res)));
  const downBuckets = Math.min(
    buckets - 2,
    Math.max(leadBuckets, Math.ceil((leadSeconds + lingerSeconds) / res)),
  );
  return { resolutionSeconds: res, buckets, leadBuckets, downBuckets };
}

/** A learned history; build with {@link emptyHistory}, grow with {@link addSample}. */
export interface History {
  readonly shape: HistoryShape;
  /** Mean rate per bucket, ring indexed by bucket number mod buckets; NaN = not seen. */
  readonly rates: Paged<Float64Array>;
  /** Buckets closed so far (bucket numbers 0..closed-1 in ring order). */
  readonly closed: number;
  /** Time index (floor(at / resolution)) of the open bucket; -1 before any sample. */
  readonly openIndex: number;
  readonly openSum: number;
  readonly openCount: number;
  /** Per bucket slot: its lead-rise cell (band × BINS + bin) in leadTable, or -1. */
  readonly leadCell: Paged<Int32Array>;
  readonly leadTable: Paged<Uint32Array>;
  /** Samples per level band in leadTable. */
  readonly leadBands: Uint32Array;
  readonly downCell: Paged<Int32Array>;
  readonly downTable: Paged<Uint32Array>;
  readonly downBands: Uint32Array;
  /** Slow baseline of the rate (exponential average over ~10 min), NaN before any bucket. */
  readonly baseline: number;
  /** Bucket number where the current surge began, or -1. */
  readonly surgeStart: number;
  /** Lengths (buckets) of the last RUNS surges, ring. */
  readonly runs: Int32Array;
  readonly runCount: number;
  /** Bucket number where the current idle run began, or -1. */
  readonly idleStart: number;
  /** Idle-gap histogram, minute bins. */
  readonly gaps: Float64Array;
  readonly gapTotal: number;
  /** Gaps recorded (not decayed). */
  readonly gapCount: number;
  /**
   * Replicas clumped arrivals were learned to need (0: none), at the rate `clumpRate`, and
   * when that was last raised (seconds).
   */
  readonly clump: number;
  readonly clumpRate: number;
  readonly clumpAt: number;
  /** Best recurring period (seconds) and its autocorrelation, 0 when none was found. */
  readonly periodSeconds: number;
  readonly periodR: number;
}

/** An empty history of the given shape. */
export function emptyHistory(shape: HistoryShape): History {
  return {
    shape,
    rates: Paged.of((k) => new Float64Array(k), shape.buckets, Number.NaN),
    closed: 0,
    openIndex: -1,
    openSum: 0,
    openCount: 0,
    leadCell: Paged.of((k) => new Int32Array(k), shape.buckets, -1),
    leadTable: Paged.of((k) => new Uint32Array(k), BANDS * BINS, 0),
    leadBands: new Uint32Array(BANDS),
    downCell: Paged.of((k) => new Int32Array(k), shape.buckets, -1),
    downTable: Paged.of((k) => new Uint32Array(k), BANDS * BINS, 0),
    downBands: new Uint32Array(BANDS),
    baseline: Number.NaN,
    surgeStart: -1,
    runs: new Int32Array(RUNS),
    runCount: 0,
    idleStart: -1,
    gaps: new Float64Array(GAP_BINS),
    gapTotal: 0,
    gapCount: 0,
    clump: 0,
    clumpRate: 0,
    clumpAt: 0,
    periodSeconds: 0,
    periodR: 0,
  };
}

/** Seconds of history held (closed buckets in the ring × resolution). */
export function historySeconds(h: History): number {
  return Math.min(h.closed, h.shape.buckets) * h.shape.resolutionSeconds;
}

/** The level band of a rate. */
export function bandOf(rate: number): number {
  if (!(rate >= 1)) return 0;
  return Math.min(BANDS - 1, 1 + Math.floor(2 * Math.log2(rate)));
}

/** The ratio bin of a rise (future max / level). */
export function binOf(ratio: number): number {
  if (!(ratio > 1)) return 0;
  return Math.min(BINS - 1, 1 + Math.floor(16 * Math.log2(ratio)));
}

/** The ratio a bin stands for: its upper edge (so a quantile never understates a rise). */
export function binRatio(bin: number): number {
  return bin === 0 ? 1 : 2 ** (bin / 16);
}

type Draft = { -readonly [K in keyof History]: History[K] };

function draftOf(h: History): Draft {
  return {
    ...h,
    rates: h.rates.draft(),
    leadCell: h.leadCell.draft(),
    leadTable: h.leadTable.draft(),
    leadBands: h.leadBands.slice(),
    downCell: h.downCell.draft(),
    downTable: h.downTable.draft(),
    downBands: h.downBands.slice(),
    runs: h.runs.slice(),
    gaps: h.gaps.slice(),
  };
}

/**
 * The history after one observation of the arrival rate at `at` seconds. Samples within
 * the open bucket are averaged; a later bucket closes it (buckets skipped in between are
 * NaN: not seen); a sample older than the open bucket is ignored.
 */
export function addSample(h: History, at: number, rate: number): History {
  if (!Number.isFinite(at) || !Number.isFinite(rate)) return h;
  const r = Math.max(0, rate);
  const idx = Math.floor(at / h.shape.resolutionSeconds);
  if (h.openIndex < 0) return { ...h, openIndex: idx, openSum: r, openCount: 1 };
  if (idx < h.openIndex) return h;
  if (idx === h.openIndex) return { ...h, openSum: h.openSum + r, openCount: h.openCount + 1 };
  const d = draftOf(h);
  closeBucket(d, h.openCount > 0 ? h.openSum / h.openCount : Number.NaN);
  const skipped = Math.min(idx - h.openIndex - 1, h.shape.buckets);
  for (let i = 0; i < skipped; i++) closeBucket(d, Number.NaN);
  d.openIndex = idx;
  d.openSum = r;
  d.openCount = 1;
  return d;
}

/** The history after past points (oldest first; any spacing). */
export function addPoints(h: History, points: readonly RatePoint[]): History {
  let out = h;
  for (const p of points) out = addSample(out, p.at, p.rate);
  return out;
}

/**
 * The history after learning past points (oldest first) that may be older than what it has
 * seen already: a rebuild from Prometheus answers after the pool's first decisions, whose
 * open bucket would make {@link addPoints} ignore every one of them. Then the history is
 * rebuilt from the points before its first bucket and its own buckets are replayed after
 * them (as bucket means; the learned clumping is kept). Points within its span are dropped:
 * it saw that time itself.
 */
export function learnPast(h: History, points: readonly RatePoint[]): History {
  const res = h.shape.resolutionSeconds;
  const first = points[0];
  if (first === undefined || h.openIndex < 0 || Math.floor(first.at / res) >= h.openIndex) {
    return addPoints(h, points);
  }
  const held = Math.min(h.closed, h.shape.buckets);
  const firstHeld = h.openIndex - held;
  let out = emptyHistory(h.shape);
  for (const p of points) {
    if (Math.floor(p.at / res) >= firstHeld) break;
    out = addSample(out, p.at, p.rate);
  }
  for (let i = h.closed - held; i < h.closed; i++) {
    const v = h.rates.get(i % h.shape.buckets);
    if (!Number.isNaN(v)) out = addSample(out, (h.openIndex - h.closed + i) * res, v);
  }
  if (h.openCount > 0) out = addSample(out, h.openIndex * res, h.openSum / h.openCount);
  return { ...out, clump: h.clump, clumpRate: h.clumpRate, clumpAt: h.clumpAt };
}

function closeBucket(d: Draft, value: number): void {
  const { buckets, leadBuckets, downBuckets, resolutionSeconds } = d.shape;
  const i = d.closed;
  const slot = i % buckets;
  // The bucket leaving the ring takes its rises with it.
  forget(d.leadCell, d.leadTable, d.leadBands, slot);
  forget(d.downCell, d.downTable, d.downBands, slot);
  // Kept as saved (2 decimals, at most 10⁷ req/s), so a restored history equals this one.
  d.rates.set(slot, Number.isNaN(value) ? value : Math.round(Math.min(value, 1e7) * 100) / 100);
  d.closed = i + 1;
  recordRise(d, i, leadBuckets, d.leadCell, d.leadTable, d.leadBands);
  recordRise(d, i, downBuckets, d.downCell, d.downTable, d.downBands);
  trackSurge(d, i, value);
  trackIdle(d, i, value, resolutionSeconds);
  if ((i + 1) % Math.max(1, Math.round(1800 / resolutionSeconds)) === 0) findPeriod(d);
}

/** Rise of bucket i − k: the highest bucket of (i − k, i] over its level. */
function recordRise(
  d: Draft,
  i: number,
  k: number,
  cells: Paged<Int32Array>,
  table: Paged<Uint32Array>,
  bands: Uint32Array,
  first = 0,
): void {
  const j = i - k;
  if (j < first) return;
  const n = d.shape.buckets;
  const level = d.rates.get(j % n);
  if (Number.isNaN(level)) return;
  let top = Number.NaN;
  for (let b = j + 1; b <= i; b++) {
    const v = d.rates.get(b % n);
    if (!Number.isNaN(v) && (Number.isNaN(top) || v > top)) top = v;
  }
  if (Number.isNaN(top)) return;
  const band = bandOf(level);
  const cell = band * BINS + binOf(top / Math.max(level, 1));
  cells.set(j % n, cell);
  table.add(cell, 1);
  bands[band]!++;
}

function forget(
  cells: Paged<Int32Array>,
  table: Paged<Uint32Array>,
  bands: Uint32Array,
  slot: number,
): void {
  const cell = cells.get(slot);
  if (cell < 0) return;
  table.add(cell, -1);
  bands[Math.floor(cell / BINS)]!--;
  cells.set(slot, -1);
}

function trackSurge(d: Draft, i: number, v: number): void {
  if (Number.isNaN(v)) {
    d.surgeStart = -1;
    return;
  }
  if (Number.isNaN(d.baseline)) {
    d.baseline = v;
    return;
  }
  const surge = isSurge(v, d.baseline);
  if (surge && d.surgeStart < 0) d.surgeStart = i;
  // A "surge" longer than twice the scale-down horizon is a new level (a ramp the slow
  // baseline lags), not a surge: not recorded, and the baseline jumps to it.
  if (surge && i - d.surgeStart >= 2 * d.shape.downBuckets) {
    d.surgeStart = -1;
    d.baseline = v;
    return;
  }
  if (!surge && d.surgeStart >= 0) {
    d.runs[d.runCount % RUNS] = i - d.surgeStart;
    d.runCount++;
    d.surgeStart = -1;
  }
  const alpha = Math.min(1, d.shape.resolutionSeconds / BASELINE_SECONDS);
  d.baseline += (surge ? alpha / 4 : alpha) * (v - d.baseline);
}

/** Whether a rate is a surge over a baseline. */
export function isSurge(rate: number, baseline: number): boolean {
  return rate > SURGE_FACTOR * baseline && rate - baseline >= 1;
}

function trackIdle(d: Draft, i: number, v: number, res: number): void {
  if (Number.isNaN(v)) {
    d.idleStart = -1;
    return;
  }
  if (v === 0) {
    if (d.idleStart < 0) d.idleStart = i;
    return;
  }
  if (d.idleStart >= 0) {
    const seconds = (i - d.idleStart) * res;
    d.gaps[Math.min(GAP_BINS - 1, Math.floor(seconds / 60))]! += 1;
    d.gapTotal += 1;
    d.gapCount += 1;
    if (d.gapTotal >= GAP_TOTAL_CAP) {
      for (let b = 0; b < GAP_BINS; b++) d.gaps[b]! /= 2;
      d.gapTotal /= 2;
    }
    d.idleStart = -1;
  }
}

/** Pearson autocorrelation of the ring at each candidate period; keeps the best. */
function findPeriod(d: Draft): void {
  const n = d.shape.buckets;
  const held = Math.min(d.closed, n);
  const first = d.closed - held;
  let best = 0;
  let bestR = 0;
  for (const seconds of PERIODS) {
    const lag = Math.round(seconds / d.shape.resolutionSeconds);
    if (lag < 2 || 2 * lag > held) continue;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let syy = 0;
    let sxy = 0;
    let m = 0;
    for (let b = first + lag; b < d.closed; b++) {
      const x = d.rates.get(b % n);
      const y = d.rates.get((b - lag) % n);
      if (Number.isNaN(x) || Number.isNaN(y)) continue;
      sx += x;
      sy += y;
      sxx += x * x;
      syy += y * y;
      sxy += x * y;
      m++;
    }
    if (m < lag) continue;
    const cov = sxy - (sx * sy) / m;
    const vx = sxx - (sx * sx) / m;
    const vy = syy - (sy * sy) / m;
    const r = vx > 0 && vy > 0 ? cov / Math.sqrt(vx * vy) : 0;
    if (r > bestR) {
      bestR = r;
      best = seconds;
    }
  }
  d.periodSeconds = best;
  d.periodR = bestR;
}

/** A quantile of the learned rise at a level, with the samples it was read from. */
export interface RiseQuantile {
  /** Ratio of the highest rate within the horizon to the level (≥ 1). */
  readonly ratio: number;
  readonly samples: number;
  /** Whether `level`'s own band held enough samples (else only lower levels spoke). */
  readonly atLevel: boolean;
}

/**
 * The `q` quantile of the rise ratio within the lead time (`which` = "lead") or the
 * scale-down horizon ("down") at `level`: the larger of
 * - the quantile of the ratios seen at `level`'s band, when it holds
 *   {@link MIN_RISE_SAMPLES}, and
 * - from the bands below it (and its own, when that one alone is too thin): the quantile
 *   of the rates reached (a band's middle × its rise) as a ratio to `level` — how high
 *   demand went from levels like this or lower (a surge is judged by where the load came
 *   from; their rise ratios would overstate a new level: lower levels rise more in
 *   proportion, e.g. a morning ramp);
 * undefined when neither has {@link MIN_RISE_SAMPLES} samples. Answers are remembered until
 * a bucket closes, so deciding stays O(1) amortized.
 */
export function riseQuantile(
  h: History,
  which: "lead" | "down",
  level: number,
  q: number,
): RiseQuantile | undefined {
  const table = which === "lead" ? h.leadTable : h.downTable;
  const bands = which === "lead" ? h.leadBands : h.downBands;
  const band = bandOf(level);
  const ownSamples = bands[band]!;
  const thin = ownSamples < MIN_RISE_SAMPLES;
  let own: number | undefined;
  if (!thin) {
    const rank = Math.min(ownSamples, Math.max(1, Math.ceil(q * ownSamples)));
    let seen = 0;
    for (let bin = 0; bin < BINS && own === undefined; bin++) {
      seen += table.get(band * BINS + bin);
      if (seen >= rank) own = binRatio(bin);
    }
  }
  const below = reachedFromBelow(table, bands, thin ? band : band - 1, q);
  if (own === undefined && below === undefined) return undefined;
  const fromBelow = below === undefined ? 1 : Math.max(1, below.rate / Math.max(level, 1));
  return {
    ratio: Math.max(own ?? 1, fromBelow),
    samples: Math.max(thin ? 0 : ownSamples, below?.samples ?? 0),
    atLevel: !thin,
  };
}

interface Below {
  /** The quantile of the rate reached, req/s. */
  readonly rate: number;
  readonly samples: number;
}

const reachedMemo = new WeakMap<Paged<Uint32Array>, Map<string, Below | undefined>>();

/** The `q` quantile of the rate reached from bands 0..top, memoized per table. */
function reachedFromBelow(
  table: Paged<Uint32Array>,
  bands: Uint32Array,
  top: number,
  q: number,
): Below | undefined {
  if (top < 0) return undefined;
  let memo = reachedMemo.get(table);
  if (memo === undefined) {
    memo = new Map();
    reachedMemo.set(table, memo);
  }
  const key = `${top} ${q}`;
  if (memo.has(key)) return memo.get(key);
  let total = 0;
  for (let b = 0; b <= top; b++) total += bands[b]!;
  let out: Below | undefined;
  if (total >= MIN_RISE_SAMPLES) {
    const rank = Math.min(total, Math.max(1, Math.ceil(q * total)));
    // The rate reached, log₂ × 16, is an integer: 8·band − 4 + bin (bin for band 0), so a
    // counting pass replaces a sort.
    const counts = new Float64Array(8 * BANDS + BINS);
    for (let b = 0; b <= top; b++) {
      if (bands[b] === 0) continue;
      const offset = b === 0 ? 0 : 8 * b - 4;
      for (let bin = 0; bin < BINS; bin++) counts[offset + bin]! += table.get(b * BINS + bin);
    }
    let seen = 0;
    for (let k = 0; k < counts.length; k++) {
      seen += counts[k]!;
      if (seen >= rank) {
        out = { rate: 2 ** (k / 16), samples: total };
        break;
      }
    }
  }
  memo.set(key, out);
  return out;
}

/** The middle of a level band, req/s (1 for band 0, whose rises are taken over 1 req/s). */
export function bandMiddle(band: number): number {
  return band === 0 ? 1 : 2 ** ((band - 0.5) / 2);
}

/** The `q` quantile of the last surges' lengths, seconds, or undefined with fewer than `min`. */
export function surgeLengthQuantile(h: History, q: number, min = 4): number | undefined {
  const n = Math.min(h.runCount, RUNS);
  if (n < min) return undefined;
  const sorted = Array.from(h.runs.subarray(0, n)).sort((a, b) => a - b);
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]! * h.shape.resolutionSeconds;
}

/** The `q` quantile of the idle gaps, seconds (a bin's upper edge), or undefined when none. */
export function gapQuantile(h: History, q: number, lowerEdge = false): number | undefined {
  if (h.gapTotal <= 0) return undefined;
  const rank = q * h.gapTotal;
  let seen = 0;
  for (let b = 0; b < GAP_BINS; b++) {
    seen += h.gaps[b]!;
    if (seen >= rank - 1e-9 && h.gaps[b]! > 0) return (lowerEdge ? b : b + 1) * 60;
  }
  return GAP_BINS * 60;
}

/**
 * Replicas clumped arrivals need at `rate` and `now`: the learned count, decaying with
 * {@link CLUMP_HALF_LIFE_SECONDS}, scaled up (never down) with the square root of the rate
 * (a clump's size sets most of the need; more clumps overlap more often); 0 when none was
 * learned.
 */
export function clumpAt(h: History, now: number, rate: number): number {
  if (h.clump <= 0 || h.clumpRate <= 0) return 0;
  const age = Math.max(0, now - h.clumpAt);
  return (
    h.clump * 2 ** (-age / CLUMP_HALF_LIFE_SECONDS) * Math.sqrt(Math.max(1, rate / h.clumpRate))
  );
}

/** The history having learned that clumped arrivals at `rate` need `replicas` at `now`. */
export function raiseClump(h: History, now: number, replicas: number, rate: number): History {
  if (!(replicas > clumpAt(h, now, rate)) || !(rate > 0)) return h;
  return { ...h, clump: Math.min(replicas, 10_000), clumpRate: rate, clumpAt: now };
}

/** What the rate did one period ago, for the recurring-pattern pre-warm. */
export interface PeriodicForecast {
  readonly periodSeconds: number;
  readonly r: number;
  /** Highest rate one period ago over the next `ahead` buckets, scaled by `scale`. */
  readonly peak: number;
  /** Level now over the level one period ago (clamped to 0.5..2). */
  readonly scale: number;
}

/**
 * The highest rate one recurring period ago over the coming `aheadSeconds`, scaled by how
 * the level now compares with the level then; undefined without a period at `minR`.
 */
export function periodicForecast(
  h: History,
  aheadSeconds: number,
  minR: number,
): PeriodicForecast | undefined {
  if (h.periodSeconds <= 0 || h.periodR < minR || minR >= 1) return undefined;
  const n = h.shape.buckets;
  const res = h.shape.resolutionSeconds;
  const lag = Math.round(h.periodSeconds / res);
  const ahead = Math.max(1, Math.ceil(aheadSeconds / res));
  const now = h.closed;
  if (now - lag - 4 < Math.max(0, h.closed - n)) return undefined;
  const mean = (from: number, to: number): number => {
    let s = 0;
    let m = 0;
    for (let b = from; b < to; b++) {
      const v = h.rates.get(b % n);
      if (!Number.isNaN(v)) {
        s += v;
        m++;
      }
    }
    return m > 0 ? s / m : Number.NaN;
  };
  const levelNow = mean(now - 4, now);
  const levelThen = mean(now - lag - 4, now - lag);
  if (!(levelThen > 0) || Number.isNaN(levelNow)) return undefined;
  const scale = Math.min(2, Math.max(0.5, levelNow / levelThen));
  let peak = 0;
  for (let b = now - lag; b <= Math.min(now - 1, now - lag + ahead); b++) {
    const v = h.rates.get(b % n);
    if (v > peak) peak = v;
  }
  return { periodSeconds: h.periodSeconds, r: h.periodR, peak: peak * scale, scale };
}

// ---------------------------------------------------------------------------------------
// Saved form

/** First line of a saved history; a newer format gets a new version. */
export const HISTORY_FORMAT = "tritonscale-history v1";
/** Most characters a saved history may have (it goes into a ConfigMap or a status field). */
export const MAX_SAVED_CHARS = 256 * 1024;

/**
 * The history as compact text: a version line, a line of `key=value` scalars and the
 * ring's rates (req/s, 2 significant decimals, oldest first, empty for not seen). The rise
 * tables and the period are rebuilt from the rates on restore; surges and idle gaps are
 * saved as they are. Rates are capped at 10⁷ req/s, so 20,000 buckets stay under 256 KiB.
 */
export function formatHistory(h: History): string {
  const n = h.shape.buckets;
  const held = Math.min(h.closed, n);
  const rates: string[] = [];
  for (let b = h.closed - held; b < h.closed; b++) rates.push(formatRate(h.rates.get(b % n)));
  const runs = Array.from(h.runs.subarray(0, Math.min(h.runCount, RUNS)));
  const gaps: string[] = [];
  for (let b = 0; b < GAP_BINS; b++) if (h.gaps[b]! > 0) gaps.push(`${b}:${h.gaps[b]!}`);
  const scalars = [
    `res=${h.shape.resolutionSeconds}`,
    `closed=${h.closed}`,
    `open=${h.openIndex},${h.openSum},${h.openCount}`,
    `baseline=${Number.isNaN(h.baseline) ? "" : h.baseline}`,
    `surge=${h.surgeStart}`,
    `runs=${h.runCount};${runs.join(",")}`,
    `idle=${h.idleStart}`,
    `gaps=${h.gapCount};${h.gapTotal};${gaps.join(",")}`,
    `clump=${h.clump},${h.clumpRate},${h.clumpAt}`,
    `period=${h.periodSeconds},${h.periodR}`,
  ];
  return `${HISTORY_FORMAT}\n${scalars.join(" ")}\nrates=${rates.join(",")}\n`;
}

function formatRate(v: number): string {
  return Number.isNaN(v) ? "" : String(v);
}

/**
 * A history of `shape` from saved text, or why it cannot be used (another format, another
 * resolution, corrupt). Never throws. A saved ring longer than `shape`'s keeps its newest
 * buckets; the rise tables and the period are rebuilt.
 */
export function parseHistory(
  text: string,
  shape: HistoryShape,
): { readonly ok: true; readonly history: History } | { readonly ok: false; readonly why: string } {
  try {
    return parseHistoryUnsafe(text, shape);
  } catch (e) {
    return { ok: false, why: `corrupt saved history (${(e as Error).message})` };
  }
}

function parseHistoryUnsafe(
  text: string,
  shape: HistoryShape,
): { readonly ok: true; readonly history: History } | { readonly ok: false; readonly why: string } {
  if (typeof text !== "string") return { ok: false, why: "saved history is not text" };
  if (text.length > MAX_SAVED_CHARS) {
    return { ok: false, why: `saved history too long (${text.length} > ${MAX_SAVED_CHARS} chars)` };
  }
  const lines = text.split("\n");
  if (lines[0] !== HISTORY_FORMAT) {
    return {
      ok: false,
      why: `unknown saved history format ${JSON.stringify((lines[0] ?? "").slice(0, 40))} (expected ${JSON.stringify(HISTORY_FORMAT)})`,
    };
  }
  const kv = new Map<string, string>();
  for (const part of (lines[1] ?? "").split(" ")) {
    const eq = part.indexOf("=");
    if (eq > 0) kv.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const need = (k: string): string => {
    const v = kv.get(k);
    if (v === undefined) throw new Error(`missing ${k}`);
    return v;
  };
  const int = (s: string, what: string): number => {
    if (!/^-?\d+$/.test(s)) throw new Error(`${what} is not an integer: ${JSON.stringify(s)}`);
    return Number(s);
  };
  const num = (s: string, what: string): number => {
    const v = Number(s);
    if (s === "" || !Number.isFinite(v)) {
      throw new Error(`${what} is not a number: ${JSON.stringify(s)}`);
    }
    return v;
  };
  const res = num(need("res"), "res");
  if (res !== shape.resolutionSeconds) {
    return {
      ok: false,
      why: `saved history has resolution ${res} s, this pool's is ${shape.resolutionSeconds} s`,
    };
  }
  const closed = int(need("closed"), "closed");
  const [oi, os, oc] = need("open").split(",");
  const ratesLine = lines[2] ?? "";
  if (!ratesLine.startsWith("rates=")) throw new Error("missing rates");
  const cells = ratesLine.slice(6) === "" ? [] : ratesLine.slice(6).split(",");
  if (cells.length > Math.min(closed, MAX_BUCKETS) || closed < 0) {
    throw new Error(`${cells.length} rates for ${closed} closed buckets`);
  }
  const values = cells.map((c, i) => (c === "" ? Number.NaN : num(c, `rate ${i}`)));
  if (values.some((v) => v < 0)) throw new Error("a negative rate");
  // Rebuild: replay the kept buckets through closeBucket, from the bucket number they had.
  const keep = values.slice(Math.max(0, values.length - shape.buckets));
  const d = draftOf(emptyHistory(shape));
  d.closed = closed - keep.length;
  for (const v of keep) {
    const slot = d.closed % shape.buckets;
    d.rates.set(slot, v);
    d.closed++;
  }
  // The rise tables from the kept buckets.
  for (let i = closed - keep.length; i < closed; i++) {
    const first = closed - keep.length;
    recordRise(d, i, shape.leadBuckets, d.leadCell, d.leadTable, d.leadBands, first);
    recordRise(d, i, shape.downBuckets, d.downCell, d.downTable, d.downBands, first);
  }
  const [ps, pr] = need("period").split(",");
  d.periodSeconds = num(ps ?? "", "period");
  d.periodR = num(pr ?? "", "period correlation");
  d.openIndex = int(oi ?? "", "open index");
  d.openSum = num(os ?? "", "open sum");
  d.openCount = int(oc ?? "", "open count");
  const baseline = need("baseline");
  d.baseline = baseline === "" ? Number.NaN : num(baseline, "baseline");
  d.surgeStart = int(need("surge"), "surge");
  const [runCount, runList] = need("runs").split(";");
  d.runCount = int(runCount ?? "", "run count");
  const runs = runList === undefined || runList === "" ? [] : runList.split(",");
  if (runs.length > RUNS || runs.length !== Math.min(d.runCount, RUNS)) {
    throw new Error(`${runs.length} surge lengths for ${d.runCount} surges`);
  }
  runs.forEach((r, i) => {
    d.runs[i] = int(r, "surge length");
  });
  d.idleStart = int(need("idle"), "idle");
  const [gapCount, gapTotal, gapList] = need("gaps").split(";");
  d.gapCount = int(gapCount ?? "", "gap count");
  d.gapTotal = num(gapTotal ?? "", "gap total");
  for (const g of gapList === undefined || gapList === "" ? [] : gapList.split(",")) {
    const [b, c] = g.split(":");
    const bin = int(b ?? "", "gap bin");
    if (bin < 0 || bin >= GAP_BINS) throw new Error(`gap bin ${bin} out of range`);
    d.gaps[bin] = num(c ?? "", "gap count");
  }
  const [cf, cr, ca] = need("clump").split(",");
  d.clump = Math.max(0, num(cf ?? "", "clump"));
  d.clumpRate = Math.max(0, num(cr ?? "", "clump rate"));
  d.clumpAt = num(ca ?? "", "clump time");
  return { ok: true, history: d };
}
