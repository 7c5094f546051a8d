import type { ArrivalSource } from "../../controller/simulate/trace.js";

/** Every arrival before `until`, read with a buffer of `size` in steps of `step` seconds. */
export function drain(
  src: ArrivalSource,
  options: { size?: number; step?: number; until?: number } = {},
): Float64Array {
  const size = options.size ?? 4096;
  const until = options.until ?? Number.POSITIVE_INFINITY;
  const step = options.step ?? Number.POSITIVE_INFINITY;
  const buf = new Float64Array(size);
  const out: number[] = [];
  for (let edge = Math.min(step, until); ; edge = Math.min(edge + step, until)) {
    for (;;) {
      const n = src.fill(buf, edge);
      for (let i = 0; i < n; i++) out.push(buf[i]!);
      if (n < size) break;
    }
    if (edge >= until || edge >= src.durationSeconds) break;
  }
  return Float64Array.from(out);
}
