import type { Policy } from "../../controller/policy/index.js";
import { createScaler } from "../../controller/scaling/registry.js";
import type {
  RatePoint,
  Scaler,
  ScalerMemory,
  ScalerOptions,
} from "../../controller/scaling/types.js";

/**
 * A registered scaler given a small learned history, for testing the controller's side of
 * {@link ScalerMemory} (saving, restoring, rebuilding) before any registered scaler keeps
 * one, and independently of how it does. Decisions are the wrapped scaler's; the history is
 * the arrival rates it has seen (at most {@link TEST_HISTORY_POINTS}, oldest dropped),
 * exported as the decision's terms `historyPoints` (how many), `historyOldest` and
 * `historyNewest` (the oldest and newest point's time, on the loop's clock), and
 * `historyRestores` (how many restores it took). Its `merge` keeps its own points newer than
 * the saved ones.
 */

/** The most points the test history keeps (fixed memory, like the real one). */
export const TEST_HISTORY_POINTS = 10_000;

/** The text format's first line. */
export const TEST_HISTORY_VERSION = "test-history v1";

/** The state: the wrapped scaler's, and the history. */
export interface MemoryState {
  readonly inner: unknown;
  readonly points: readonly RatePoint[];
  readonly restores: number;
}

function keep(points: readonly RatePoint[]): RatePoint[] {
  return points.length > TEST_HISTORY_POINTS ? points.slice(-TEST_HISTORY_POINTS) : [...points];
}

/** The memory of {@link withTestMemory}'s scaler, on its own (tests call it directly). */
export const TEST_MEMORY: ScalerMemory<MemoryState> = {
  save(state) {
    return `${TEST_HISTORY_VERSION}\n${JSON.stringify(state.points.map((p) => [p.at, p.rate]))}`;
  },
  restore(state, saved) {
    const nl = saved.indexOf("\n");
    const head = nl < 0 ? saved : saved.slice(0, nl);
    if (head !== TEST_HISTORY_VERSION) {
      return { ok: false, why: `unknown history format ${JSON.stringify(head.slice(0, 40))}` };
    }
    let pairs: unknown;
    try {
      pairs = JSON.parse(saved.slice(nl + 1));
    } catch (e) {
      return { ok: false, why: `corrupt history: ${(e as Error).message}` };
    }
    if (!Array.isArray(pairs)) return { ok: false, why: "corrupt history: not a list" };
    const points = (pairs as [number, number][]).map(([at, rate]) => ({ at, rate }));
    return { ok: true, state: { ...state, points: keep(points), restores: state.restores + 1 } };
  },
  merge(state, saved) {
    const r = TEST_MEMORY.restore(state, saved);
    if (!r.ok) return r;
    const end = r.state.points.at(-1)?.at ?? Number.NEGATIVE_INFINITY;
    const after = state.points.filter((p) => p.at > end);
    return { ok: true, state: { ...r.state, points: keep([...r.state.points, ...after]) } };
  },
  learn(state, points) {
    return { ...state, points: keep([...state.points, ...points]) };
  },
};

/** `scaler` with the test history as its memory. */
export function withTestMemory(scaler: Scaler): Scaler<MemoryState> {
  return {
    name: scaler.name,
    periodSeconds: scaler.periodSeconds,
    initialState: (current) => ({ inner: scaler.initialState(current), points: [], restores: 0 }),
    decide(snapshot, state) {
      const d = scaler.decide(snapshot, state.inner);
      const rate = snapshot.arrivalRate?.value;
      const points =
        rate === undefined ? state.points : keep([...state.points, { at: snapshot.now, rate }]);
      const newest = points.at(-1);
      const oldest = points[0];
      return {
        ...d,
        state: { inner: d.state, points, restores: state.restores },
        terms: {
          ...d.terms,
          historyPoints: points.length,
          historyRestores: state.restores,
          ...(newest === undefined ? {} : { historyNewest: newest.at }),
          ...(oldest === undefined ? {} : { historyOldest: oldest.at }),
        },
      };
    },
    memory: TEST_MEMORY,
  };
}

/** A `createScaler` for the loop: the registry's scaler with the test history. */
export function createTestMemoryScaler(
  name: string,
  policy: Policy,
  options: ScalerOptions,
): Scaler {
  return withTestMemory(createScaler(name, policy, options)) as Scaler;
}
