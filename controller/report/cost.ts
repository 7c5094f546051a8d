/**
 * The cost report: ledgers (report/usage.ts) and GPU prices in, rows per pool, model and
 * capacity type out, with a total, the previous period beside it, the figures per day for
 * the charts, and the scale events that cost most. Pure: no I/O, no clock.
 *
 * Money is GPU-hours × the price per GPU-hour of the bucket's pool, GPU type and capacity
 * type. Spot savings are what the same Spot GPU-hours would have cost on-demand, minus
 * what they cost. Cost per 1,000 inferences is cost / requests × 1,000; SLO attainment is
 * requests served within the SLO / requests. Both are absent (null in JSON) without requests.
 */
import type { LedgerCapacityType, ScaleEventUse, UsageBucket, UsageLedger } from "./usage.js";

/** The price of one GPU-hour of a pool (or any pool) on one capacity type. */
export interface GpuPrice {
  /** The pool's name; "" matches any pool. */
  readonly pool: string;
  /** The namespace; "" matches any. */
  readonly namespace: string;
  /** The GPU type; "" matches any. */
  readonly gpuType: string;
  readonly capacityType: LedgerCapacityType;
  readonly perGpuHour: number;
  /** ISO 4217 code. */
  readonly currency: string;
  /** Where the price came from, for the report's notes (e.g. `spec.cost of vision/yolo`). */
  readonly source: string;
}

/** A pool's `spec.cost` as prices for both capacity types. */
export function poolPrices(
  pool: string,
  namespace: string,
  gpuType: string,
  cost: {
    readonly currency: string;
    readonly onDemandPerGpuHour: number;
    readonly spotPerGpuHour: number;
  },
): GpuPrice[] {
  const source = `spec.cost of ${namespace ? `${namespace}/` : ""}${pool}`;
  return [
    {
      pool,
      namespace,
      gpuType,
      capacityType: "onDemand",
      perGpuHour: cost.onDemandPerGpuHour,
      currency: cost.currency,
      source,
    },
    {
      pool,
      namespace,
      gpuType,
      capacityType: "spot",
      perGpuHour: cost.spotPerGpuHour,
      currency: cost.currency,
      source,
    },
  ];
}

/** Whom a price is asked for. */
interface PriceKey {
  readonly pool: string;
  readonly namespace: string;
  readonly gpuType: string;
  readonly capacityType: LedgerCapacityType;
}

/**
 * The first price in `prices` that matches (so callers list the preferred source first,
 * e.g. OpenCost's effective prices before the pool's), or undefined.
 */
export function priceFor(prices: readonly GpuPrice[], key: PriceKey): GpuPrice | undefined {
  const fits = (want: string, have: string) => want === "" || want === have;
  return prices.find(
    (p) =>
      p.capacityType === key.capacityType &&
      fits(p.pool, key.pool) &&
      fits(p.namespace, key.namespace) &&
      fits(p.gpuType, key.gpuType),
  );
}

/** The figures of a row, the total, a period or a day. */
export interface CostFigures {
  readonly gpuHours: number;
  readonly busyGpuHours: number;
  readonly idleGpuHours: number;
  readonly cost: number;
  /** On-demand price of the Spot GPU-hours minus their cost (0 for on-demand). */
  readonly spotSavings: number;
  /** Inferences requested (fractional where a source splits them). */
  readonly requests: number;
  /** Cost per 1,000 requests; null without requests. */
  readonly costPer1k: number | null;
  /** Requests within the SLO / requests; null without requests. */
  readonly sloAttainment: number | null;
}

/** Current minus previous, for the figures that change means something for. */
export interface CostChange {
  readonly gpuHours: number;
  readonly cost: number;
  readonly requests: number;
  readonly costPer1k: number | null;
  readonly sloAttainment: number | null;
}

/** One row: a pool's model on one capacity type (or the total: pool "total", type "all"). */
export interface CostRow extends CostFigures {
  readonly pool: string;
  readonly namespace: string;
  readonly model: string;
  readonly capacityType: LedgerCapacityType | "all";
  readonly currency: string;
  /** The same row over the previous period, when there is one. */
  readonly previous?: CostFigures;
  readonly change?: CostChange;
}

/** One bucket (day) of the whole report, for the charts. */
export interface CostDay {
  /** Unix seconds. */
  readonly start: number;
  readonly seconds: number;
  readonly cost: { readonly spot: number; readonly onDemand: number };
  readonly figures: CostFigures;
}

/** A scale event and what its added GPU-hours cost. */
export interface CostlyEvent {
  readonly event: ScaleEventUse;
  readonly cost: number;
}

/** The report. */
export interface CostReport {
  /** Unix seconds of the period. */
  readonly from: number;
  readonly to: number;
  readonly currency: string;
  readonly rows: readonly CostRow[];
  readonly total: CostRow;
  /** The previous period's bounds, when compared. */
  readonly previous?: { readonly from: number; readonly to: number };
  readonly days: readonly CostDay[];
  /** The scale-ups that cost most, most first. */
  readonly topEvents: readonly CostlyEvent[];
  /** What the sources and prices say about the numbers (printed under the report). */
  readonly notes: readonly string[];
}

/** What the report is built from. */
export interface CostInput {
  readonly ledger: UsageLedger;
  /** Prices, the preferred first (see {@link priceFor}). */
  readonly prices: readonly GpuPrice[];
  /** The period to compare with, when there is one. */
  readonly previous?: UsageLedger;
  /** How many scale events to list. @default 5 */
  readonly topEvents?: number;
}

/** Sums of a group of buckets, before the ratios. */
interface Sums {
  gpuHours: number;
  busyGpuHours: number;
  cost: number;
  spotSavings: number;
  requests: number;
  withinSlo: number;
  /** Requests whose SLO outcome was measured (the attainment's denominator). */
  sloRequests: number;
}

const zero = (): Sums => ({
  gpuHours: 0,
  busyGpuHours: 0,
  cost: 0,
  spotSavings: 0,
  requests: 0,
  withinSlo: 0,
  sloRequests: 0,
});

function add(into: Sums, s: Sums): void {
  into.gpuHours += s.gpuHours;
  into.busyGpuHours += s.busyGpuHours;
  into.cost += s.cost;
  into.spotSavings += s.spotSavings;
  into.requests += s.requests;
  into.withinSlo += s.withinSlo;
  into.sloRequests += s.sloRequests;
}

function figures(s: Sums): CostFigures {
  return {
    gpuHours: s.gpuHours,
    busyGpuHours: s.busyGpuHours,
    idleGpuHours: Math.max(0, s.gpuHours - s.busyGpuHours),
    cost: s.cost,
    spotSavings: s.spotSavings,
    requests: s.requests,
    costPer1k: s.requests > 0 ? (s.cost / s.requests) * 1000 : null,
    // Over the requests whose outcome was measured: unmeasured ones are not misses.
    sloAttainment: s.sloRequests > 0 ? s.withinSlo / s.sloRequests : null,
  };
}

function change(now: CostFigures, before: CostFigures): CostChange {
  const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
  return {
    gpuHours: now.gpuHours - before.gpuHours,
    cost: now.cost - before.cost,
    requests: now.requests - before.requests,
    costPer1k: diff(now.costPer1k, before.costPer1k),
    sloAttainment: diff(now.sloAttainment, before.sloAttainment),
  };
}

/** A bucket priced: its sums. Throws when no price fits it. */
function priced(b: UsageBucket, prices: readonly GpuPrice[], used: Set<string>): Sums {
  const price = mustPrice(prices, b);
  used.add(price.source);
  const busy = Math.min(Math.max(0, b.busyGpuHours), b.gpuHours);
  let spotSavings = 0;
  if (b.capacityType === "spot") {
    const onDemand = mustPrice(prices, { ...b, capacityType: "onDemand" });
    spotSavings = b.gpuHours * (onDemand.perGpuHour - price.perGpuHour);
  }
  return {
    gpuHours: b.gpuHours,
    busyGpuHours: busy,
    cost: b.gpuHours * price.perGpuHour,
    spotSavings,
    requests: b.requests,
    withinSlo: b.sloMeasured === false ? 0 : b.requestsWithinSlo,
    sloRequests: b.sloMeasured === false ? 0 : b.requests,
  };
}

function mustPrice(prices: readonly GpuPrice[], key: PriceKey): GpuPrice {
  const p = priceFor(prices, key);
  if (!p) {
    throw new Error(
      `no ${key.capacityType} price per GPU-hour for pool ${key.namespace ? `${key.namespace}/` : ""}${key.pool} (GPU ${key.gpuType || "any"})`,
    );
  }
  return p;
}

const rowKey = (b: { pool: string; namespace: string; model: string; capacityType: string }) =>
  JSON.stringify([b.namespace, b.pool, b.model, b.capacityType]);

/** Buckets grouped into rows (in first-seen order, on-demand before Spot within a model). */
function groupRows(
  ledger: UsageLedger,
  prices: readonly GpuPrice[],
  used: Set<string>,
): Map<string, { key: Omit<CostRow, keyof CostFigures | "currency">; sums: Sums }> {
  const rows = new Map<
    string,
    { key: Omit<CostRow, keyof CostFigures | "currency">; sums: Sums }
  >();
  for (const b of ledger.buckets) {
    const k = rowKey(b);
    let row = rows.get(k);
    if (!row) {
      row = {
        key: { pool: b.pool, namespace: b.namespace, model: b.model, capacityType: b.capacityType },
        sums: zero(),
      };
      rows.set(k, row);
    }
    add(row.sums, priced(b, prices, used));
  }
  return rows;
}

/** The one currency of the prices; throws when they mix currencies. */
function currencyOf(prices: readonly GpuPrice[]): string {
  const currencies = [...new Set(prices.map((p) => p.currency))];
  if (currencies.length > 1) {
    throw new Error(
      `prices in more than one currency (${currencies.join(", ")}): a report sums money of one currency only`,
    );
  }
  return currencies[0] ?? "USD";
}

/** Builds the report. Throws when a bucket has no price or prices mix currencies. */
export function buildCostReport(input: CostInput): CostReport {
  const { ledger, prices } = input;
  const currency = currencyOf(prices);
  const used = new Set<string>();
  const now = groupRows(ledger, prices, used);
  const before = input.previous ? groupRows(input.previous, prices, used) : undefined;
  const keys = [...now.keys(), ...[...(before?.keys() ?? [])].filter((k) => !now.has(k))];
  const order = (k: string) => {
    const r = (now.get(k) ?? before!.get(k))!.key;
    return [r.namespace, r.pool, r.model, r.capacityType === "onDemand" ? "0" : "1"].join("\0");
  };
  keys.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  const totalNow = zero();
  const totalBefore = zero();
  const rows: CostRow[] = keys.map((k) => {
    const cur = now.get(k);
    const prev = before?.get(k);
    const sums = cur?.sums ?? zero();
    add(totalNow, sums);
    if (prev) add(totalBefore, prev.sums);
    const f = figures(sums);
    const p = before ? figures(prev?.sums ?? zero()) : undefined;
    return {
      ...(cur ?? prev)!.key,
      currency,
      ...f,
      ...(p ? { previous: p, change: change(f, p) } : {}),
    };
  });
  const tf = figures(totalNow);
  const tp = before ? figures(totalBefore) : undefined;
  const total: CostRow = {
    pool: "total",
    namespace: "",
    model: "",
    capacityType: "all",
    currency,
    ...tf,
    ...(tp ? { previous: tp, change: change(tf, tp) } : {}),
  };

  const days = new Map<number, { seconds: number; sums: Sums; spot: number; onDemand: number }>();
  for (const b of ledger.buckets) {
    let d = days.get(b.start);
    if (!d) {
      d = { seconds: b.seconds, sums: zero(), spot: 0, onDemand: 0 };
      days.set(b.start, d);
    }
    d.seconds = Math.max(d.seconds, b.seconds);
    const s = priced(b, prices, used);
    add(d.sums, s);
    d[b.capacityType] += s.cost;
  }

  const topEvents = ledger.scaleEvents
    .filter((e) => e.addedGpuHours > 0)
    .map((event) => ({
      event,
      cost: event.addedGpuHours * mustPrice(prices, event).perGpuHour,
    }))
    .sort((a, b) => b.cost - a.cost || a.event.at - b.event.at)
    .slice(0, input.topEvents ?? 5);

  return {
    from: ledger.from,
    to: ledger.to,
    currency,
    rows,
    total,
    ...(input.previous ? { previous: { from: input.previous.from, to: input.previous.to } } : {}),
    days: [...days.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([start, d]) => ({
        start,
        seconds: d.seconds,
        cost: { spot: d.spot, onDemand: d.onDemand },
        figures: figures(d.sums),
      })),
    topEvents,
    notes: [
      ...ledger.notes,
      ...(input.previous ? input.previous.notes.map((n) => `previous period: ${n}`) : []),
      `prices: ${[...used].sort().join("; ")}`,
    ],
  };
}

/**
 * Splits a ledger into its last `seconds` (the current period) and the `seconds` before
 * them (the previous period), by each bucket's start and each event's time. The previous
 * period is undefined when the ledger does not reach back that far (no bucket in it).
 */
export function splitPeriod(
  ledger: UsageLedger,
  seconds: number,
): { current: UsageLedger; previous: UsageLedger | undefined } {
  const cut = ledger.to - seconds;
  const start = cut - seconds;
  const inRange = (t: number, a: number, b: number) => t >= a && t < b;
  const current: UsageLedger = {
    ...ledger,
    from: Math.max(ledger.from, cut),
    buckets: ledger.buckets.filter((b) => b.start >= cut),
    scaleEvents: ledger.scaleEvents.filter((e) => e.at >= cut),
  };
  const before = ledger.buckets.filter((b) => inRange(b.start, start, cut));
  if (before.length === 0) return { current, previous: undefined };
  return {
    current,
    previous: {
      ...ledger,
      from: Math.max(ledger.from, start),
      to: cut,
      buckets: before,
      scaleEvents: ledger.scaleEvents.filter((e) => inRange(e.at, start, cut)),
    },
  };
}
