/**
 * The pool's front door, for scaling from zero. Triton exports nothing while no replica
 * runs, so a pool at zero replicas has no arrival signal of its own; a pool that names
 * `spec.monitoring.frontDoor` (PromQL for a counter of the requests that reach it at an
 * ingress, gateway or mesh proxy, and optionally a gauge of those held there) gets them
 * queried on its Prometheus every round, and scaling/window.ts then counts the arrival
 * rate at the front door, where requests arrive whether or not a replica is ready.
 *
 * A front door query that fails or answers an empty vector leaves the round without a
 * front door (the replicas' own counters still count); it never rejects the round.
 */
import type { Policy } from "../policy/index.js";
import type { FrontSample, PoolScrape } from "../scaling/samples.js";
import { promNumber } from "./prometheus-api.js";
import { instantQuery } from "./prometheus-source.js";
import type { ClosableMetricsSource } from "./scrape-source.js";

/** Options of {@link withFrontDoor}. */
export interface FrontDoorOptions {
  /** Prometheus's base URL. @default the pool's `spec.monitoring.prometheusAddress` */
  readonly address?: string;
  /** Time allowed for each query, milliseconds. @default 5000 */
  readonly timeoutMs?: number;
  /** Told why a round has no front door (a failed or empty query), for the logs. */
  readonly onProblem?: (policy: Policy, message: string) => void;
}

/** The sum of an instant vector's values, or undefined for an empty vector or a non-number. */
function sumOf(samples: readonly { readonly value: readonly [number, string] }[]) {
  if (samples.length === 0) return undefined;
  let sum = 0;
  for (const s of samples) sum += promNumber(s.value[1]);
  return Number.isFinite(sum) ? sum : undefined;
}

/** The front door of one round, or why there is none. */
export async function queryFrontDoor(
  policy: Policy,
  options: FrontDoorOptions = {},
): Promise<FrontSample | string | undefined> {
  const door = policy.spec.monitoring.frontDoor;
  if (door === undefined) return undefined;
  const base = options.address ?? policy.spec.monitoring.prometheusAddress;
  const timeoutMs = options.timeoutMs ?? 5000;
  try {
    const [requests, pending] = await Promise.all([
      instantQuery(base, door.requests, timeoutMs),
      door.pending === undefined ? undefined : instantQuery(base, door.pending, timeoutMs),
    ]);
    const arrivals = sumOf(requests);
    if (arrivals === undefined) {
      return `spec.monitoring.frontDoor.requests answered no number (query ${door.requests})`;
    }
    // No pending query, or none held right now (an empty vector): nothing held.
    return { arrivals, pending: pending === undefined ? 0 : (sumOf(pending) ?? 0) };
  } catch (e) {
    return `spec.monitoring.frontDoor: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** `source` with each round's front door added for pools that name one. */
export function withFrontDoor(
  source: ClosableMetricsSource,
  options: FrontDoorOptions = {},
): ClosableMetricsSource {
  return {
    async collect(policy: Policy, now: number): Promise<PoolScrape> {
      const [scrape, front] = await Promise.all([
        source.collect(policy, now),
        queryFrontDoor(policy, options),
      ]);
      if (typeof front === "string") options.onProblem?.(policy, front);
      return typeof front === "object" ? { ...scrape, front } : scrape;
    },
    close() {
      source.close();
    },
  };
}
