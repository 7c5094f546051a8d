import type {
  Clock,
  ClusterPort,
  DecisionSink,
  MetricsSource,
  PoolDecision,
} from "../../controller/loop/ports.js";
import type { ScheduledWake, Scheduler } from "../../controller/loop/scheduler.js";
import type { Policy } from "../../controller/policy/index.js";
import type { PoolScrape } from "../../controller/scaling/samples.js";
import type { ReplicaCounts } from "../../controller/scaling/types.js";

/** Lets every promise chain and immediate run (in-memory ports resolve at once). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

interface Timer {
  readonly at: number;
  readonly resolve: () => void;
}

/** A clock that moves only when told: sleeps resolve in time order as it advances. */
export class ManualClock implements Clock {
  private timers: Timer[] = [];

  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  sleep(seconds: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const timer: Timer = { at: this.t + Math.max(0, seconds), resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        "abort",
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  /** Sleepers waiting (for tests that check nothing is left running). */
  get sleepers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `seconds`, waking each sleeper at its time, in order. */
  async advance(seconds: number): Promise<void> {
    const end = this.t + seconds;
    for (;;) {
      await settle();
      let next: Timer | undefined;
      for (const x of this.timers) if (x.at <= end && (!next || x.at < next.at)) next = x;
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      this.timers = this.timers.filter((x) => x !== next);
      next.resolve();
    }
    this.t = end;
    await settle();
  }
}

/**
 * A pool's metrics: one Ready replica answering `rate` req/s from `since` with `pending`
 * queued; `fail` makes collect reject (the source as a whole is down).
 */
export class FakeMetrics implements MetricsSource {
  rate = 40;
  pending = 0;
  fail = false;
  loading = 0;
  /** When set, collect waits for this promise first (a slow source). */
  gate: Promise<void> | undefined;
  readonly calls: number[] = [];

  constructor(private readonly since: number) {}

  async collect(_policy: Policy, now: number): Promise<PoolScrape> {
    this.calls.push(now);
    if (this.gate) await this.gate;
    if (this.fail) throw new Error("prometheus: connection refused");
    const n = this.rate * (now - this.since);
    return {
      t: now,
      replicas: [
        {
          replica: "pod-a",
          t: now,
          phase: "ready",
          models: [
            {
              model: "yolov8s",
              version: "1",
              counters: { requestSuccess: n, inferenceCount: n, execCount: n / 4 },
              pendingRequests: this.pending,
            },
          ],
        },
        ...Array.from({ length: this.loading }, (_, i) => ({
          replica: `pod-loading-${i}`,
          t: now,
          phase: "loading" as const,
          models: [],
        })),
      ],
    };
  }
}

/** The cluster: `ready` on-demand replicas, nothing starting or pending. */
export class FakeCluster implements ClusterPort {
  ready = 2;
  fail = false;

  async replicas(): Promise<ReplicaCounts> {
    if (this.fail) throw new Error("kube: 503");
    return {
      ready: { spot: 0, onDemand: this.ready },
      starting: { spot: 0, onDemand: 0 },
      pending: { spot: 0, onDemand: 0 },
      oldestPendingSpotSeconds: 0,
    };
  }
}

/** Keeps every decision published to it. */
export class RecordingSink implements DecisionSink {
  readonly decisions: PoolDecision[] = [];
  publish(d: PoolDecision): void {
    this.decisions.push(d);
  }
}

/** A sink that always fails (synchronously, or asynchronously). */
export function failingSink(async: boolean): DecisionSink {
  return {
    publish: async
      ? () => Promise.reject(new Error("status write: 409 Conflict"))
      : () => {
          throw new Error("gauge: bad label");
        },
  };
}

/** A cron port fired by hand. */
export class ManualScheduler implements Scheduler {
  readonly jobs: { expression: string; timeZone: string; fire: () => void; stopped: boolean }[] =
    [];

  cron(expression: string, timeZone: string, fire: () => void): ScheduledWake {
    const job = { expression, timeZone, fire, stopped: false };
    this.jobs.push(job);
    return {
      stop: () => {
        job.stopped = true;
      },
    };
  }

  /** Fires every live job whose expression is `expression`. */
  fire(expression: string): void {
    for (const j of this.jobs) if (!j.stopped && j.expression === expression) j.fire();
  }
}

/**
 * Pins every pool's phase to 0 (LoopOptions.phaseOf): with a clock starting on a whole
 * period (T0 is a midnight), a pool ticks at T0 + k × period, as the hand-worked timings of
 * the tests that use it assume; loop/phase.ts spreads pools over the period live.
 */
export const PHASE_ZERO = (): number => 0;
