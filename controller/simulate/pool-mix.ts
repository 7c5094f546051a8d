import type { PoolScrape } from "../scaling/samples.js";
import { SignalWindow, type WindowModel, type WindowReading } from "../scaling/window.js";

/**
 * A pool of several models: every replica serves all of them, so what one replica sustains
 * depends on the mix of requests it gets.
 *
 * Model i alone sustains C_i requests per second at the SLO (pool-capacity.ts, from its profile
 * as corrected). A replica receiving λ requests per second of which a share w_i is for
 * model i (Σ w_i = 1) spends λ·w_i / C_i of its time on model i; it keeps up while the
 * parts add up to at most the whole replica, Σ λ·w_i / C_i ≤ 1, so the replica's capacity
 * for the mix is the weighted harmonic mean
 *
 *     C_mix = 1 / Σ (w_i / C_i).
 *
 * Worked example: yolov8s sustains 120 req/s, yolov8m 40 req/s. With 75% of the requests
 * for yolov8s: C_mix = 1 / (0.75 / 120 + 0.25 / 40) = 1 / (0.00625 + 0.00625) = 80 req/s
 * (the arithmetic mean of the capacities, 100 req/s, would overload every replica by a
 * quarter). With equal shares: 1 / (0.5 / 120 + 0.5 / 40) = 1 / (0.0041667 + 0.0125) =
 * 60 req/s. A model with no share adds nothing; a model that cannot meet the SLO at all
 * (C_i = 0) with a share makes the mix 0 (the pool cannot meet its SLO).
 *
 * The shares are the models' arrival rates over the rate window (each model's answered
 * requests, scaling/window.ts, read per model); while nothing arrives (no traffic, or the
 * rates are missing) the pool declares no weights of its own, so every model counts equally.
 * The assumption behind the sum: the models take turns on the GPU (their batches do not
 * overlap), as one instance group per model on one GPU does; overlapping execution (several
 * models computing at once) shows up in the observed compute times, which the per-model
 * correction (correction.ts) then folds into each C_i.
 */

/** The mix a pool's capacity was computed for. */
export interface ModelShares {
  /** Each model's share of the requests, Σ = 1. */
  readonly shares: Readonly<Record<string, number>>;
  /** `traffic`: the observed arrival rates; `equal`: no traffic seen, every model alike. */
  readonly from: "traffic" | "equal";
}

/** Every model alike (no traffic to weigh by). */
export function equalShares(models: readonly string[]): ModelShares {
  const shares: Record<string, number> = {};
  for (const m of models) shares[m] = 1 / models.length;
  return { shares, from: "equal" };
}

/**
 * The models' shares of the arrivals: each model's rate over their sum; equal shares when
 * the sum is not a positive number (nothing arrived, or no rate known). A model without a
 * rate has share 0 while others have traffic.
 */
export function trafficShares(
  models: readonly string[],
  rates: Readonly<Record<string, number | undefined>>,
): ModelShares {
  let total = 0;
  for (const m of models) {
    const r = rates[m];
    if (r !== undefined && Number.isFinite(r) && r > 0) total += r;
  }
  if (!(total > 0)) return equalShares(models);
  const shares: Record<string, number> = {};
  for (const m of models) {
    const r = rates[m];
    shares[m] = r !== undefined && Number.isFinite(r) && r > 0 ? r / total : 0;
  }
  return { shares, from: "traffic" };
}

/**
 * The shares a pool of several models is weighed by after a reconcile that read each
 * model's window (`readings`, by model name): {@link trafficShares} of their arrival rates,
 * or `current` itself when nothing changed (so a caller can tell, by identity, whether to
 * recompute the capacity). A pool of one model keeps `current`. The live loop and the
 * simulator's scaler control both call this.
 */
export function observedShares(
  models: readonly string[],
  readings: Readonly<
    Record<string, { readonly signals: { readonly arrivalRate?: { readonly value: number } } }>
  >,
  current: ModelShares,
): ModelShares {
  if (models.length <= 1) return current;
  const rates: Record<string, number | undefined> = {};
  for (const m of models) rates[m] = readings[m]?.signals.arrivalRate?.value;
  const next = trafficShares(models, rates);
  return sameShares(next, current) ? current : next;
}

/** Whether two mixes are the same: same origin, and every model's share equal. */
export function sameShares(a: ModelShares, b: ModelShares): boolean {
  if (a.from !== b.from) return false;
  const keys = new Set([...Object.keys(a.shares), ...Object.keys(b.shares)]);
  for (const k of keys) if ((a.shares[k] ?? 0) !== (b.shares[k] ?? 0)) return false;
  return true;
}

/**
 * A replica's capacity for the mix, 1 / Σ (w_i / C_i) (see the module comment's worked
 * example). Models without a share are left out; a model with a share and no capacity (0,
 * or absent) makes it 0. With no share at all, 0.
 */
export function mixedCapacity(
  perModel: Readonly<Record<string, number>>,
  shares: Readonly<Record<string, number>>,
): number {
  let time = 0;
  let any = false;
  for (const [model, w] of Object.entries(shares)) {
    if (!(w > 0)) continue;
    any = true;
    const c = perModel[model];
    if (c === undefined || !(c > 0)) return 0;
    time += w / c;
  }
  return any && time > 0 ? 1 / time : 0;
}

/**
 * One signal window per model of a pool (the same module as the pool's window, told of one
 * model only), for the shares and the per-model profile correction: each reads that
 * model's arrivals (its entry's answers) and its detector's compute time, batch size and
 * batches. Rounds are shared, not copied.
 */
export class ModelWindows {
  private readonly windows: ReadonlyMap<string, SignalWindow>;

  constructor(models: readonly WindowModel[], rateWindowSeconds: number) {
    this.windows = new Map(
      models.map((m) => [m.entry, new SignalWindow({ rateWindowSeconds, models: [m] })]),
    );
  }

  /**
   * Records a round for every model. A front door (`scrape.front`) counts every model's
   * arrivals together, so a model's window reads the round without it: its arrivals are its
   * own answered requests.
   */
  record(scrape: PoolScrape): void {
    let round = scrape;
    if (scrape.front !== undefined) {
      const { front: _front, ...rest } = scrape;
      round = rest;
    }
    for (const w of this.windows.values()) w.record(round);
  }

  /** Each model's reading, by its name. */
  read(at: number): Record<string, WindowReading> {
    const out: Record<string, WindowReading> = {};
    for (const [model, w] of this.windows) out[model] = w.read(at);
    return out;
  }
}
