/**
 * The Triton edge: where the controller's load comes from. One {@link MetricsSource} for all
 * pools, choosing per pool by `spec.monitoring.source`: `scrape` (the default; each Triton
 * pod's `/metrics` and gRPC readiness, scrape-source.ts) or `prometheus` (instant queries
 * of the same raw counters on `spec.monitoring.prometheusAddress`, prometheus-source.ts).
 */
import type { Policy } from "../policy/index.js";
import type { PoolScrape } from "../scaling/samples.js";
import { type FrontDoorOptions, withFrontDoor } from "./front-door.js";
import { createPrometheusSource, type PrometheusSourceOptions } from "./prometheus-source.js";
import {
  type ClosableMetricsSource,
  createScrapeSource,
  type ScrapeSourceOptions,
} from "./scrape-source.js";

export { type FrontDoorOptions, queryFrontDoor, withFrontDoor } from "./front-door.js";
export { TritonClient } from "./grpc.js";
export { PromTextParser, parsePromSamples, parsePromText } from "./prom-text.js";
export { createPrometheusSource, prometheusQueries } from "./prometheus-source.js";
export {
  type ClosableMetricsSource,
  createScrapeSource,
  type DiscoverTritons,
  type TritonEndpoint,
} from "./scrape-source.js";

/** Options of {@link createPoolMetricsSource}. */
export interface PoolMetricsSourceOptions {
  /** For pools with `spec.monitoring.frontDoor`. @default each pool's prometheusAddress */
  readonly frontDoor?: FrontDoorOptions;
  /** For pools with `source: scrape`. */
  readonly scrape: ScrapeSourceOptions;
  /** For pools with `source: prometheus`. @default each pool's prometheusAddress, 5 s timeout */
  readonly prometheus?: PrometheusSourceOptions;
}

/** The metrics source the controller runs: per pool, the one its `spec.monitoring.source` names. */
export function createPoolMetricsSource(options: PoolMetricsSourceOptions): ClosableMetricsSource {
  const scrape = createScrapeSource(options.scrape);
  const prometheus = createPrometheusSource(options.prometheus);
  return withFrontDoor(
    {
      collect(policy: Policy, now: number): Promise<PoolScrape> {
        return policy.spec.monitoring.source === "prometheus"
          ? prometheus.collect(policy, now)
          : scrape.collect(policy, now);
      },
      close() {
        scrape.close();
      },
    },
    options.frontDoor,
  );
}
