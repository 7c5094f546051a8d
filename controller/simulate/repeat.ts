import type { ArrivalSource } from "./arrivals.js";

/**
 * A trace played over and over: after its end it starts again from its first arrival,
 * shifted by its length, for runs that last as long as someone watches (`demo`). The
 * result never ends (`durationSeconds` is Infinity) and keeps the {@link ArrivalSource}
 * `fill` contract: times non-decreasing, the same sequence however the caller chunks it.
 *
 * Example: a 2 h diurnal trace repeated: an arrival at 01:00:00.5 of the trace also comes
 * at 03:00:00.5, 05:00:00.5, …
 */
export interface RepeatedArrivals extends Pick<ArrivalSource, "name" | "durationSeconds" | "fill"> {
  /** Times the trace has restarted so far. */
  readonly laps: number;
  /** Rewinds to the first arrival of the first lap. */
  reset(): void;
}

/** Repeats `source` for ever (its length must be > 0 and finite). */
export function repeatArrivals(
  source: Pick<ArrivalSource, "name" | "durationSeconds" | "fill" | "reset">,
): RepeatedArrivals {
  const length = source.durationSeconds;
  if (!(length > 0 && Number.isFinite(length))) {
    throw new RangeError(
      `a repeated trace needs a finite length > 0. Received: ${length} s (${source.name})`,
    );
  }
  let lap = 0;
  return {
    name: `${source.name} (repeated)`,
    durationSeconds: Number.POSITIVE_INFINITY,
    get laps() {
      return lap;
    },
    reset() {
      source.reset();
      lap = 0;
    },
    fill(buf, until) {
      let n = 0;
      while (n < buf.length) {
        const offset = lap * length;
        const got = source.fill(n === 0 ? buf : buf.subarray(n), until - offset);
        for (let i = n; i < n + got; i++) buf[i] = buf[i]! + offset;
        n += got;
        if (n === buf.length) break;
        // Everything of this lap before `until` is out; the lap is over only if `until` is past it.
        if (until - offset < length) break;
        source.reset();
        lap++;
      }
      return n;
    },
  };
}
