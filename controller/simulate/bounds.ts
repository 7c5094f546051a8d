import type { Policy } from "../policy/index.js";
import { INITIAL_SPOT_STATE, type SpotState, splitCapacity } from "../scaling/spot.js";
import type { ByCapacity, ReplicaCounts, Scaler } from "../scaling/types.js";
import type { ArrivalSource } from "./arrivals.js";
import type { ClusterSettings } from "./cluster.js";
import { type Control, DEFAULT_START_EPOCH, type SimulationResult } from "./engine.js";

/**
 * The bounds a comparison measures scalers against, each found by a search whose every probe
 * is a whole simulation of the trace, and each required to meet the SLO target (a bound that
 * misses it is not a bound, and says so):
 *
 * - `best-static`: the fewest `static:N` replicas that meet the target. Attainment grows with
 *   N, so it is a bisection between a count that misses and one that meets, starting from the
 *   count for the peak minute's rate (static-peak).
 * - `oracle`: replicas at each moment for what the next {@link ORACLE_PERIOD_SECONDS} seconds
 *   bring, knowing the future, with capacity appearing and leaving at once (no provisioning,
 *   cold start or node linger): n(t) = min(N*, ceil(h × peak per-second rate in [t, t + 5 s) /
 *   C)), C the per-replica capacity at the SLO and N* best-static's count. The headroom h is
 *   the smallest that meets the target: from h = 1, galloping (×1.25, ×1.25², …) down while
 *   it meets or up until it does, then bisecting on log h to within 2%. Clumped arrivals need h > 1,
 *   where the Poisson capacity alone (h = 1) reaches only a share of the target. Capped at
 *   N*, it never costs more than best-static, and at the largest h it runs N* whenever there
 *   is demand — so it meets the target wherever best-static does.
 * - `lead-oracle`: the oracle's demand at the oracle's headroom, run through the real cluster
 *   model: each replica is asked for `nodeProvisioning + coldStart` (plus one decision
 *   period) before it is needed — n(t) = the largest oracle need in [t, t + lead) — nodes
 *   linger after a scale-down as the cluster autoscaler keeps them (and are reused), Spot
 *   replicas are split as the pool's policy splits them and are reclaimed. The limit for any
 *   scaler with perfect prediction. If that misses the target (reclaims), h is raised by the
 *   same bisection, up to best-static's N at every moment with demand; where Spot reclaims
 *   make even that miss, the row says it did not reach the target (not a bound).
 *
 * Searches are bounded ({@link BoundSearchOptions.maxProbes} simulations each), reuse one
 * trace (rewound per probe) and one per-second demand table, and report their probes.
 */

/** How a bound row was found. */
export interface BoundSearch {
  /**
   * Simulations this bound's own search ran, the row's included. The oracle's search starts
   * from best-static's count and the lead-oracle's from the oracle's headroom: those
   * searches run first (once per comparison), and count in their own rows.
   */
  readonly probes: number;
  /** Of those, how many stopped early, once they could no longer meet the target. */
  readonly stoppedProbes: number;
  /** best-static: the replicas N. */
  readonly replicas?: number;
  /** oracle and lead-oracle: the headroom factor h over the per-second demand. */
  readonly headroom?: number;
  /** Whether a setting meeting the target was found (else the row is the best tried). */
  readonly reached: boolean;
  /**
   * Whether the search narrowed the answer down (best-static: N − 1 misses; oracle: the
   * headroom within 2%) before running out of probes.
   */
  readonly converged: boolean;
}

/** A row found by a search: its run and how it was found. */
export interface BoundRow {
  readonly result: SimulationResult;
  readonly search: BoundSearch;
  /** The control and cluster of the chosen run, to rerun it (e.g. with a timeline). */
  readonly control: Control;
  readonly cluster: ClusterSettings;
}

/** A probe's run; `stopped` when it was cut short once it could no longer meet the target. */
export interface ProbeResult extends SimulationResult {
  readonly stopped?: boolean;
}

/**
 * Runs one probe: the trace from the start under `control` on `cluster`. Unless `complete`,
 * the run may stop as soon as it cannot meet the target any more (`stopped`; its counts then
 * cover only part of the trace).
 */
export type Probe = (
  name: string,
  control: Control,
  cluster: ClusterSettings,
  complete?: boolean,
) => ProbeResult;

/** What the searches need. */
export interface BoundSearchOptions {
  readonly policy: Policy;
  readonly trace: ArrivalSource;
  /** Requests per second one replica sustains at the SLO. */
  readonly perReplica: number;
  /** SLO attainment a run must reach. */
  readonly target: number;
  readonly cluster: ClusterSettings;
  readonly probe: Probe;
  /** Most simulations per search (a stopped run completed for its row comes on top). @default 10 */
  readonly maxProbes?: number;
}

/** The oracle re-sizes this often, for the highest rate it will see before the next time. */
export const ORACLE_PERIOD_SECONDS = 5;
/** The window static-peak's rate is read over, and best-static's search starts from. */
export const PEAK_WINDOW_SECONDS = 60;
/** Headrooms within this ratio count as found. */
const HEADROOM_RESOLUTION = 1.02;

/** Whether a run met the target (attainment is a ratio of counts: no tolerance needed). */
export function metTarget(r: SimulationResult, target: number): boolean {
  return r.sloAttainment >= target;
}

/** The largest value of `a` in each window [i, i + w), for every i (monotone deque). */
export function windowMax(a: Float64Array, w: number): Float64Array {
  const n = a.length;
  const out = new Float64Array(n);
  const q = new Int32Array(n);
  let head = 0;
  let tail = 0;
  // Walk backwards: out[i] = max a[i..i+w-1].
  for (let i = n - 1; i >= 0; i--) {
    while (tail > head && a[q[tail - 1]!]! <= a[i]!) tail--;
    q[tail++] = i;
    while (q[head]! >= i + w) head++;
    out[i] = a[q[head]!]!;
  }
  return out;
}

/** The searches of one comparison, memoized: each bound is searched at most once. */
export class BoundSearches {
  private readonly maxProbes: number;
  private readonly sized: (rate: number) => number;
  private demandCache: Float64Array | undefined;
  private bestStaticRow: BoundRow | undefined;
  private oracleRow: BoundRow | undefined;
  private leadRow: BoundRow | undefined;

  constructor(private readonly o: BoundSearchOptions) {
    this.maxProbes = Math.max(1, o.maxProbes ?? 10);
    this.sized = (rate) => Math.ceil(rate / o.perReplica - 1e-9);
  }

  /** Requests per second in each second of the trace (read once, shared by the oracles). */
  private demand(): Float64Array {
    if (this.demandCache) return this.demandCache;
    const n = Math.ceil(this.o.trace.durationSeconds);
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = this.o.trace.rateBetween(i, i + 1);
    this.demandCache = d;
    return d;
  }

  /** `best-static`: the fewest static replicas meeting the target. */
  bestStatic(): BoundRow {
    if (this.bestStaticRow) return this.bestStaticRow;
    const { o } = this;
    const tried = new Map<number, ProbeResult>();
    const run = (n: number): boolean => {
      let r = tried.get(n);
      if (!r) {
        r = o.probe("best-static", staticControl(n), o.cluster);
        tried.set(n, r);
      }
      return metTarget(r, o.target) && !r.stopped;
    };
    // 0 replicas serves nothing: it misses unless there are no requests at all.
    let lo = -1;
    let hi = -1;
    const start = Math.max(1, this.sized(o.trace.peakRate(PEAK_WINDOW_SECONDS)));
    if (run(start)) hi = start;
    else lo = start;
    // Too few at the peak minute's count: double until one meets (or probes run out).
    while (hi < 0 && tried.size < this.maxProbes) {
      const n = lo * 2;
      if (run(n)) hi = n;
      else lo = n;
    }
    if (hi > 0 && lo < 0) lo = 0;
    while (hi > 0 && hi - lo > 1 && tried.size < this.maxProbes) {
      // lo ≥ 0 and hi ≥ lo + 2, so mid ≥ 1.
      const mid = Math.floor((lo + hi) / 2);
      if (run(mid)) hi = mid;
      else lo = mid;
    }
    const reached = hi > 0;
    const n = reached ? hi : lo;
    const chosen = complete(tried, n, () =>
      o.probe("best-static", staticControl(n), o.cluster, true),
    );
    this.bestStaticRow = {
      result: chosen.result,
      search: {
        probes: chosen.probes,
        stoppedProbes: chosen.stopped,
        replicas: n,
        reached,
        converged: reached && hi - lo <= 1,
      },
      control: staticControl(n),
      cluster: o.cluster,
    };
    return this.bestStaticRow;
  }

  /** `oracle`: the smallest headroom over clairvoyant demand meeting the target, instantly. */
  oracle(): BoundRow {
    if (this.oracleRow) return this.oracleRow;
    const { o } = this;
    const cap = this.bestStatic().search.replicas ?? 1;
    const peak = windowMax(this.demand(), ORACLE_PERIOD_SECONDS);
    const cluster: ClusterSettings = {
      ...o.cluster,
      nodeProvisionSeconds: { spot: 0, onDemand: 0 },
      coldStartSeconds: 0,
      nodeIdleRemovalSeconds: 0,
    };
    const control = (h: number): Control => ({
      kind: "schedule",
      replicasAt: (t) => Math.min(cap, this.sized(h * (peak[Math.floor(t)] ?? 0))),
      periodSeconds: ORACLE_PERIOD_SECONDS,
    });
    const found = this.searchHeadroom(peak, cap, 1, (h, all) =>
      o.probe("oracle", control(h), cluster, all),
    );
    this.oracleRow = {
      result: found.result,
      search: found.search,
      control: control(found.search.headroom!),
      cluster,
    };
    return this.oracleRow;
  }

  /** `lead-oracle`: the oracle's demand asked for a lead time ahead, on the real cluster. */
  leadOracle(): BoundRow {
    if (this.leadRow) return this.leadRow;
    const { o } = this;
    const oracle = this.oracle();
    const cap = this.bestStatic().search.replicas ?? 1;
    const c = o.cluster;
    const spot = o.policy.spec.capacity.spot.enabled;
    const provision = spot
      ? Math.max(c.nodeProvisionSeconds.spot, c.nodeProvisionSeconds.onDemand)
      : c.nodeProvisionSeconds.onDemand;
    // A replica asked for at t is ready by t + provisioning + cold start (+ a step's rounding);
    // the oracle's own window of 5 s is the period this control decides at.
    const leadSeconds = provision + c.coldStartSeconds + 1;
    const peak = windowMax(this.demand(), ORACLE_PERIOD_SECONDS + Math.ceil(leadSeconds));
    // The bound may hold more than maxReplicas (as the oracle and static pools may).
    const policy: Policy = {
      ...o.policy,
      spec: {
        ...o.policy.spec,
        scaling: {
          ...o.policy.spec.scaling,
          maxReplicas: Math.max(o.policy.spec.scaling.maxReplicas, cap),
        },
      },
    };
    const control = (h: number): Control => {
      const need = (t: number) => Math.min(cap, this.sized(h * (peak[Math.floor(t)] ?? 0)));
      return {
        kind: "scaler",
        scaler: leadScaler(policy, need),
        initial: splitCapacity(need(0), policy, NO_REPLICAS, INITIAL_SPOT_STATE).desired,
      };
    };
    const from = oracle.search.headroom!;
    const found = this.searchHeadroom(
      peak,
      cap,
      from,
      (h, all) => o.probe("lead-oracle", control(h), c, all),
      from,
    );
    this.leadRow = {
      result: found.result,
      search: found.search,
      control: control(found.search.headroom!),
      cluster: c,
    };
    return this.leadRow;
  }

  /**
   * The smallest headroom h in [floor, hMax] whose run meets the target, trying `first`
   * first; hMax is where the cap binds at every second with demand (beyond it nothing
   * changes), floor where every such second gets one replica (or the given floor).
   */
  private searchHeadroom(
    peak: Float64Array,
    cap: number,
    first: number,
    run: (h: number, complete?: boolean) => ProbeResult,
    floor?: number,
  ): { result: SimulationResult; search: BoundSearch } {
    const { o } = this;
    let most = 0;
    let least = Number.POSITIVE_INFINITY;
    for (let i = 0; i < peak.length; i++) {
      const x = peak[i]!;
      if (x > most) most = x;
      if (x > 0 && x < least) least = x;
    }
    const tried = new Map<number, ProbeResult>();
    const probe = (h: number): boolean => {
      let r = tried.get(h);
      if (!r) {
        r = run(h);
        tried.set(h, r);
      }
      return metTarget(r, o.target) && !r.stopped;
    };
    const result = (h: number, reached: boolean, converged: boolean) => {
      const chosen = complete(tried, h, () => run(h, true));
      return {
        result: chosen.result,
        search: {
          probes: chosen.probes,
          stoppedProbes: chosen.stopped,
          headroom: h,
          reached,
          converged,
        },
      };
    };
    if (most === 0) {
      probe(first);
      return result(first, true, true);
    }
    // Above hMax every second with demand gets `cap`; below hMin every one gets 1.
    const hMax = Math.max(first, (cap * o.perReplica) / least);
    const hMin = Math.min(first, floor ?? o.perReplica / most);
    let lo: number;
    let hi: number;
    if (probe(first)) {
      if (first <= hMin) return result(first, true, true);
      hi = first;
      lo = hMin;
      // Gallop down (÷1.25, ÷1.25², ÷1.25⁴, …) to a headroom that misses: the answer is
      // usually near 1, and a narrow bracket saves probes over bisecting down from hMin.
      for (let step = 1.25; tried.size < this.maxProbes; step *= step) {
        const h = hi / step;
        if (h <= hMin) break;
        if (probe(h)) hi = h;
        else {
          lo = h;
          break;
        }
      }
    } else {
      // Gallop up (×1.25, ×1.25², ×1.25⁴, …, at most hMax) to a headroom that meets.
      lo = first;
      hi = Number.NaN;
      for (let step = 1.25; tried.size < this.maxProbes && lo < hMax; step *= step) {
        const h = Math.min(hMax, lo * step);
        if (probe(h)) {
          hi = h;
          break;
        }
        lo = h;
      }
      if (Number.isNaN(hi)) return result(lo, false, false);
    }
    // lo misses (or is the floor, assumed to), hi meets: bisect on log h.
    while (hi / lo > HEADROOM_RESOLUTION && tried.size < this.maxProbes) {
      const mid = Math.sqrt(lo * hi);
      if (probe(mid)) hi = mid;
      else lo = mid;
    }
    return result(hi, true, hi / lo <= HEADROOM_RESOLUTION);
  }
}

/**
 * The chosen probe's run, complete: rerun to the end if it was stopped early (a search that
 * found nothing meeting the target reports the best it tried), with the probes counted.
 */
function complete(
  tried: ReadonlyMap<number, ProbeResult>,
  key: number,
  rerun: () => ProbeResult,
): { result: SimulationResult; probes: number; stopped: number } {
  let stopped = 0;
  for (const r of tried.values()) if (r.stopped) stopped++;
  const r = tried.get(key)!;
  if (!r.stopped) return { result: r, probes: tried.size, stopped };
  return { result: rerun(), probes: tried.size + 1, stopped };
}

const NO_REPLICAS: ReplicaCounts = {
  ready: { spot: 0, onDemand: 0 },
  starting: { spot: 0, onDemand: 0 },
  pending: { spot: 0, onDemand: 0 },
  oldestPendingSpotSeconds: 0,
};

/** `static:N`: N on-demand replicas ready from the start, all the time. */
export function staticControl(n: number): Control {
  return { kind: "schedule", replicasAt: () => n, periodSeconds: PEAK_WINDOW_SECONDS };
}

/**
 * The lead-oracle's decider: reads nothing but the time, asks for `need(t)` replicas, split
 * into Spot and on-demand as the pool's policy splits them (with its stand-ins while Spot is
 * pending), every oracle period.
 */
function leadScaler(policy: Policy, need: (t: number) => number): Scaler<SpotState> {
  return {
    name: "lead-oracle",
    periodSeconds: ORACLE_PERIOD_SECONDS,
    initialState: (): SpotState => INITIAL_SPOT_STATE,
    decide(snapshot, state) {
      const total = need(snapshot.now - DEFAULT_START_EPOCH);
      const split = splitCapacity(total, policy, snapshot.replicas, state);
      return {
        desired: split.desired as ByCapacity,
        active: total > 0,
        held: false,
        reason: `clairvoyant demand ${total}${split.note === "" ? "" : `; ${split.note}`}`,
        state: split.state,
      };
    },
  };
}
