import type { PoolScrape } from "../scaling/samples.js";
import type { LoadSnapshot, ReplicaCounts } from "../scaling/types.js";
import { SignalWindow, type WindowModel, type WindowReading } from "../scaling/window.js";
import { ModelWindows } from "./pool-mix.js";

/**
 * What a real metrics pipeline would show the scaler: each replica's Triton counters and
 * gauges scraped every `scrapeIntervalSeconds` as {@link PoolScrape} rounds, visible only
 * after `delaySeconds` (scrape → Prometheus → adapter/KEDA), turned into rates over
 * `rateWindowSeconds` by scaling/window.ts, the same module the live loop uses. The
 * simulator's truth is never passed to a scaler directly.
 *
 * The simulator's front buffer (requests waiting while no replica is ready, and retries of
 * reclaimed replicas' work) is the round's {@link PoolScrape.front}: a front door every
 * request passes, counting arrivals where they arrive and holding its own pending queue.
 * So the arrival rate is the rate of requests reaching the pool (as it was before the
 * window was shared), and the pool's pending work includes what waits at the front while
 * no Triton exists to count it. Live, a round has a front only when the source sees one
 * (an activator or ingress); Triton alone gives the rate of answered requests instead.
 */

/** How the pipeline samples and delays. */
export interface PipelineSettings {
  /** Prometheus scrape interval (Triton /metrics, DCGM exporter). */
  readonly scrapeIntervalSeconds: number;
  /** The `rate(...[w])` window. */
  readonly rateWindowSeconds: number;
  /** Seconds from a scrape until a scaler can see it. */
  readonly delaySeconds: number;
}

/** Holds scrapes until they are visible, then windows them into LoadSnapshots. */
export class Pipeline {
  /** Recorded, not yet visible, oldest first (at most delay / interval + 1 of them). */
  private inTransit: PoolScrape[] = [];
  private readonly window: SignalWindow;
  private readonly modelWindows: ModelWindows | undefined;

  /**
   * @param models for a pool of several models, a window per model besides the pool's
   *   (pool-mix.ts {@link ModelWindows}, as the live loop keeps), read by {@link readModels}.
   */
  constructor(
    readonly settings: PipelineSettings,
    models?: readonly WindowModel[],
  ) {
    this.window = new SignalWindow({ rateWindowSeconds: settings.rateWindowSeconds });
    this.modelWindows =
      models === undefined ? undefined : new ModelWindows(models, settings.rateWindowSeconds);
  }

  /** Each model's reading at t (after {@link snapshot} at t); empty without per-model windows. */
  readModels(t: number): Record<string, WindowReading> {
    return this.modelWindows ? this.modelWindows.read(t) : {};
  }

  /** Records one scrape round, taken at `s.t`. */
  record(s: PoolScrape): void {
    this.inTransit.push(s);
  }

  /** The snapshot a scaler sees at t, with the cluster's replica counts (always current). */
  snapshot(t: number, replicas: ReplicaCounts): LoadSnapshot {
    const visible = t - this.settings.delaySeconds;
    let n = 0;
    while (n < this.inTransit.length && this.inTransit[n]!.t <= visible) {
      this.window.record(this.inTransit[n]!);
      this.modelWindows?.record(this.inTransit[n]!);
      n++;
    }
    if (n > 0) this.inTransit = this.inTransit.slice(n);
    return { now: t, replicas, ...this.window.read(t).signals };
  }
}
