/**
 * Fewer points for a chart without losing its peaks: the x range is cut into buckets and
 * each bucket keeps its lowest and its highest point (in the order they came), so a
 * one-minute latency spike in a week of minutes still reaches the top of the chart.
 *
 * Worked example: 10,080 one-minute points (a week) into at most 2,000 → 1,000 buckets of
 * 604,800 s / 1,000 = 604.8 s, about ten points each; each bucket gives 2 points (1 when
 * its lowest and highest are the same point), so at most 2,000 come out.
 */

/** One point of a series: x (e.g. seconds) and y; `null` is a gap (nothing measured). */
export type Point = readonly [x: number, y: number | null];

/** The most points per series a chart gets unless told. */
export const DEFAULT_MAX_POINTS = 2000;

/**
 * A series built point by point (as a simulation writes its timeline), keeping at most
 * `2 × ceil(span / bucketWidth)` points whatever the number pushed: memory stays bounded on
 * a week-long run. Points must come in non-decreasing x.
 */
export class MinMaxSeries {
  private readonly out: Point[] = [];
  private bucket = Number.NaN;
  private low: Point | undefined;
  private high: Point | undefined;
  private lowAt = 0;
  private highAt = 0;
  private seen = 0;
  /** Points pushed so far (before downsampling). */
  pushed = 0;

  /**
   * @param origin x of the start of the first bucket.
   * @param bucketWidth width of one bucket, in x units (> 0); `Infinity` keeps every point.
   */
  constructor(
    private readonly origin: number,
    private readonly bucketWidth: number,
  ) {
    if (!(bucketWidth > 0)) {
      throw new RangeError(`bucket width must be > 0. Received: ${bucketWidth}`);
    }
  }

  /** Adds a point; a `null` y (a gap) is kept only when its whole bucket is gaps. */
  push(x: number, y: number | null): void {
    this.pushed++;
    if (!Number.isFinite(this.bucketWidth)) {
      this.out.push([x, y]);
      return;
    }
    const b = Math.floor((x - this.origin) / this.bucketWidth);
    if (b !== this.bucket) {
      this.flush();
      this.bucket = b;
    }
    const at = this.seen++;
    if (y === null) {
      if (this.low === undefined) {
        this.low = [x, null];
        this.lowAt = at;
      }
      return;
    }
    if (this.low === undefined || this.low[1] === null || y < this.low[1]) {
      this.low = [x, y];
      this.lowAt = at;
    }
    if (this.high === undefined || y > (this.high[1] as number)) {
      this.high = [x, y];
      this.highAt = at;
    }
  }

  /** The points kept, in x order. */
  points(): Point[] {
    this.flush();
    return this.out;
  }

  private flush(): void {
    const { low, high } = this;
    if (low !== undefined) {
      if (high === undefined || this.highAt === this.lowAt) this.out.push(low);
      else if (this.lowAt <= this.highAt) this.out.push(low, high);
      else this.out.push(high, low);
    }
    this.low = undefined;
    this.high = undefined;
  }
}

/**
 * The bucket width that keeps at most `maxPoints` points of a series spanning
 * [`from`, `to`] (two per bucket), or `Infinity` when `count` points already fit.
 */
export function bucketWidthFor(from: number, to: number, count: number, maxPoints: number): number {
  if (!(maxPoints >= 2)) throw new RangeError(`maxPoints must be ≥ 2. Received: ${maxPoints}`);
  if (count <= maxPoints) return Number.POSITIVE_INFINITY;
  const buckets = Math.floor(maxPoints / 2);
  // A hair wider than span/buckets, so the last point (x = to) falls in the last bucket.
  return Math.max((to - from) / buckets, Number.MIN_VALUE) * (1 + 1e-9);
}

/** `points` (in non-decreasing x) cut to at most `maxPoints`, keeping each bucket's min and max. */
export function downsampleMinMax(
  points: readonly Point[],
  maxPoints: number = DEFAULT_MAX_POINTS,
): Point[] {
  if (points.length === 0) return [];
  const from = points[0]![0];
  const to = points[points.length - 1]![0];
  const series = new MinMaxSeries(from, bucketWidthFor(from, to, points.length, maxPoints));
  for (const [x, y] of points) series.push(x, y);
  return series.points();
}

/** The lowest of `start` and `values` (a loop: a week of points would overflow a spread call). */
export function minOf(start: number, values: Iterable<number>): number {
  let m = start;
  for (const v of values) if (v < m) m = v;
  return m;
}

/** The highest of `start` and `values` (a loop, as {@link minOf}). */
export function maxOf(start: number, values: Iterable<number>): number {
  let m = start;
  for (const v of values) if (v > m) m = v;
  return m;
}
