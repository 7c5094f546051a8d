/**
 * The arrival contract of the simulator: {@link ArrivalSource}, the one type every trace
 * (synthetic or recorded) implements and the engine, the comparison and the oracle read,
 * and the limits every trace respects. Implementations: arrival-sources.ts (synthetic and
 * per-interval sources), trace-csv.ts (recorded timestamps); specs: synthetic.ts.
 */

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
