/**
 * The pool's past arrival rate from Prometheus, to rebuild a scaler's learned history when
 * none was saved (loop/history.ts {@link RateHistory}): one range query
 * (`/api/v1/query_range`) on `spec.monitoring.prometheusAddress` of
 *
 *   sum(rate({__name__=~"nv_inference_request_(success|failure)",
 *             namespace="<ns>",tritonscale_dev_pool="<pool>",model=~"<models>"}[<w>]))
 *
 * — the pool's requests per second as the recording rule `pod:tritonscale_requests:rate`
 * counts them (kube/render/prometheus.ts, summed over pods as `pool:tritonscale_requests:rate`)
 * and as the Prometheus MetricsSource's counters give them to the loop (answered plus failed
 * requests of the models clients call), but from the raw counters, so it needs no recording
 * rule installed. `w` is the rules' rate window (4 scrape intervals), at least one step.
 *
 * Step: the scrape interval, within 10–60 s (a day at 15 s is 5,761 points, under
 * Prometheus' 11,000 points per series). The answer is read up to {@link
 * PrometheusRateHistoryOptions.maxBytes} (a day is about 250 KB), within a timeout; more, a
 * timeout, Prometheus down, or anything but a matrix rejects with a message naming
 * Prometheus and the query. Points that are not finite or are negative are dropped. A pool
 * counted at a front door (`spec.monitoring.frontDoor`) is still rebuilt from Triton's
 * counters: the front door's arrivals while no replica ran are not in the history.
 */
import { PROM_POOL_LABEL } from "../kube/render/labels.js";
import type { RateHistory } from "../loop/history.js";
import { formatDuration, type Policy } from "../policy/index.js";
import type { RatePoint } from "../scaling/types.js";
import { promApiCall, promNumber, promString as q } from "./prometheus-api.js";

/** Options of {@link createPrometheusRateHistory}. */
export interface PrometheusRateHistoryOptions {
  /** Prometheus's base URL. @default the pool's `spec.monitoring.prometheusAddress` */
  readonly address?: string;
  /** Seconds between points. @default the pool's scrape interval, clamped to 10–60 s */
  readonly stepSeconds?: number;
  /** Time allowed for the query, milliseconds. @default 15000 */
  readonly timeoutMs?: number;
  /** Largest answer read, in bytes. @default 4 MiB */
  readonly maxBytes?: number;
  /**
   * Range queries in flight at once; more wait their turn (a controller starting with many
   * pools does not send Prometheus a query per pool at the same instant). @default 4
   */
  readonly concurrency?: number;
}

/** A regular expression matching exactly one of `values` (RE2, anchored by PromQL). */
function alternation(values: readonly string[]): string {
  return values.map((v) => v.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&")).join("|");
}

/** The step of a pool's range query, in seconds. */
export function historyStepSeconds(policy: Policy): number {
  return Math.min(60, Math.max(10, policy.spec.monitoring.scrapeIntervalSeconds));
}

/**
 * The selector of the pool's request counters: the same as the recording rule
 * `pod:tritonscale_requests:rate` reads (a test checks it).
 */
export function requestCounterSelector(policy: Policy): string {
  const models = q(alternation(policy.spec.models.map((m) => m.name)));
  return `{__name__=~"nv_inference_request_(success|failure)",namespace=${q(policy.metadata.namespace)},${PROM_POOL_LABEL}=${q(policy.metadata.name)},model=~${models}}`;
}

/** The range query of the pool's arrival rate, with points every `stepSeconds`. */
export function arrivalRateQuery(policy: Policy, stepSeconds: number): string {
  // The recording rules' window (rateWindow: 4 scrape intervals), at least one step.
  const window = Math.max(4 * policy.spec.monitoring.scrapeIntervalSeconds, stepSeconds);
  return `sum(rate(${requestCounterSelector(policy)}[${formatDuration(window)}]))`;
}

/** One range query: the points of its single series (none when the result is empty). */
export async function rangeQuery(
  base: string,
  expr: string,
  range: { readonly from: number; readonly to: number; readonly step: number },
  limits: { readonly timeoutMs: number; readonly maxBytes: number },
  signal?: AbortSignal,
): Promise<RatePoint[]> {
  const what = `querying Prometheus at ${base}`;
  const result = await promApiCall<{ values?: [number, string][] }>(
    base,
    "query_range",
    { query: expr, start: String(range.from), end: String(range.to), step: String(range.step) },
    "matrix",
    limits,
    signal,
  );
  if (result.length > 1) {
    throw new Error(`${what}: ${result.length} series, expected one (query ${expr})`);
  }
  const values = result[0]?.values ?? [];
  const points: RatePoint[] = [];
  for (const [at, v] of values) {
    const rate = promNumber(v);
    if (Number.isFinite(rate) && rate >= 0 && Number.isFinite(at)) points.push({ at, rate });
  }
  return points;
}

/** Creates the Prometheus {@link RateHistory}. */
export function createPrometheusRateHistory(
  options: PrometheusRateHistoryOptions = {},
): RateHistory {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxBytes = options.maxBytes ?? 4 * 2 ** 20;
  const limit = Math.max(1, options.concurrency ?? 4);
  let running = 0;
  const waiting: (() => void)[] = [];
  const turn = async (): Promise<void> => {
    if (running < limit) {
      running++;
      return;
    }
    // The finishing query hands its slot over: `running` stays as it is.
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const done = (): void => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  return {
    source: "prometheus",
    async rates(policy, from, to, signal) {
      const step = options.stepSeconds ?? historyStepSeconds(policy);
      const base = options.address ?? policy.spec.monitoring.prometheusAddress;
      await turn();
      try {
        return await rangeQuery(
          base,
          arrivalRateQuery(policy, step),
          { from, to, step },
          { timeoutMs, maxBytes },
          signal,
        );
      } finally {
        done();
      }
    },
  };
}
