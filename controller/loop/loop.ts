import type { Policy } from "../policy/index.js";
import { createScaler } from "../scaling/registry.js";
import type { PoolScrape } from "../scaling/samples.js";
import {
  type ByCapacity,
  type LoadSnapshot,
  type ReplicaCounts,
  type Scaler,
  totalOf,
} from "../scaling/types.js";
import { type LoadSignals, SignalWindow } from "../scaling/window.js";
import { nextBoundary } from "./boundaries.js";
import { type PoolCapacity, type ProfileOf, poolCapacity } from "./capacity.js";
import {
  type Clock,
  type ClusterPort,
  type DecisionSink,
  type MetricsSource,
  type PoolDecision,
  type PoolRef,
  poolKey,
} from "./ports.js";
import type { ScheduledWake, Scheduler } from "./scheduler.js";

/**
 * The control loop: per pool, every `spec.scaling.syncPeriod`, collect → decide → publish.
 *
 * 1. Collect a {@link PoolScrape} from the {@link MetricsSource} and window it
 *    (scaling/window.ts, the module the simulator uses). A rejected collect means every
 *    signal is missing: the scaler holds, never scales down.
 * 2. Ask the {@link ClusterPort} for replica counts; replicas the scrape shows still loading
 *    a model count as starting (never idle) where the cluster counted them ready.
 * 3. Call the pool's scaler from the registry (`createScaler`, as `simulate` does), created
 *    with the capacity per replica `simulate` would compute (capacity.ts), with the state
 *    of its last decision.
 * 4. Publish a {@link PoolDecision} to every {@link DecisionSink}; a sink that fails is
 *    reported and does not stop the others.
 *
 * Between periods the loop wakes at once for {@link ControlLoop.wake}, for the pool's
 * schedule starts (the injected {@link Scheduler}, node-cron live), and at each schedule
 * boundary within the period (pre-warm point, start, end; boundaries.ts, on the injected
 * clock). A changed pool gets a new scaler carrying the old one's state over (DESIGN.md),
 * applied at its next reconcile; a removed pool publishes nothing more. `stop()` lets each
 * reconcile in progress finish, then resolves. The loop imports no edge: ports, clock and
 * scheduler are injected.
 */

/** What the loop runs against. */
export interface LoopPorts {
  readonly metrics: MetricsSource;
  readonly cluster: ClusterPort;
  /** Every decision goes to each of them (KEDA answers, prom-client gauges, CR status, logs). */
  readonly sinks: readonly DecisionSink[];
  readonly clock: Clock;
  /** Wakes a pool at its schedules' starts. @default none (the clock's boundary wakes only) */
  readonly scheduler?: Scheduler;
}

/** Something the loop could not do, for logs and metrics; the loop carries on. */
export type LoopEvent =
  | {
      readonly kind: "collect-failed" | "cluster-failed" | "decide-failed" | "reconcile-failed";
      readonly pool: PoolRef;
      readonly at: number;
      readonly error: string;
    }
  | {
      readonly kind: "sink-failed";
      readonly pool: PoolRef;
      readonly at: number;
      readonly sink: number;
      readonly error: string;
    }
  | { readonly kind: "pool-rejected"; readonly pool: PoolRef; readonly error: string }
  | {
      readonly kind: "schedule-failed";
      readonly pool: PoolRef;
      readonly schedule: string;
      readonly error: string;
    };

/** How the loop sizes and windows. */
export interface LoopOptions {
  /** Latency profile of each pool model. @default simulate's default profile (capacity.ts) */
  readonly profileOf?: ProfileOf;
  /** Capacity of a pool (tests inject one). @default poolCapacity(policy, profileOf), memoized */
  readonly capacityOf?: (policy: Policy) => PoolCapacity;
  /**
   * The rate window of a pool, in seconds. @default 4 × syncPeriod: the loop scrapes once a
   * period, so a rate spans four samples, as the rendered recording rules do with
   * Prometheus' scrape interval
   */
  readonly rateWindowSeconds?: (policy: Policy) => number;
  /** Told about every failure the loop survives. */
  readonly onEvent?: (event: LoopEvent) => void;
}

/** One pool's binding: the policy and what was created for it. */
interface Binding {
  readonly policy: Policy;
  readonly scaler: Scaler;
  readonly capacity: PoolCapacity;
  readonly windowSeconds: number;
}

interface PoolRun {
  readonly ref: PoolRef;
  binding: Binding;
  /** A changed policy, bound at the next reconcile. */
  next: Policy | undefined;
  window: SignalWindow;
  hasState: boolean;
  state: unknown;
  last: PoolDecision | undefined;
  removed: boolean;
  woken: boolean;
  sleeping: AbortController | undefined;
  wakes: ScheduledWake[];
  nextTick: number;
  done: Promise<void>;
}

/** At least this many replicas of the counts are starting: loading pods counted ready move. */
export function countLoadingAsStarting(counts: ReplicaCounts, loading: number): ReplicaCounts {
  const move = Math.min(Math.max(0, loading - totalOf(counts.starting)), totalOf(counts.ready));
  if (move <= 0) return counts;
  const onDemand = Math.min(move, counts.ready.onDemand);
  const spot = move - onDemand;
  return {
    ...counts,
    ready: { spot: counts.ready.spot - spot, onDemand: counts.ready.onDemand - onDemand },
    starting: {
      spot: counts.starting.spot + spot,
      onDemand: counts.starting.onDemand + onDemand,
    },
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const capacityMemo = new Map<string, PoolCapacity>();

/** poolCapacity, memoized on what it depends on (pools sharing a model config share it). */
function memoCapacity(policy: Policy, profileOf: ProfileOf | undefined): PoolCapacity {
  if (profileOf !== undefined) return poolCapacity(policy, profileOf);
  const key = JSON.stringify([policy.spec.slo.latencyP99Ms, policy.spec.models]);
  let c = capacityMemo.get(key);
  if (c === undefined) {
    c = poolCapacity(policy);
    if (capacityMemo.size >= 256) capacityMemo.clear();
    capacityMemo.set(key, c);
  }
  return c;
}

/** The control loop over every pool it is given. */
export class ControlLoop {
  private readonly pools = new Map<string, PoolRun>();
  private stopping = false;
  private readonly onEvent: (event: LoopEvent) => void;

  constructor(
    private readonly ports: LoopPorts,
    private readonly options: LoopOptions = {},
  ) {
    const told = options.onEvent;
    // A failing listener must not stop a pool's loop.
    this.onEvent = (event) => {
      try {
        told?.(event);
      } catch {
        // nothing to tell it with
      }
    };
  }

  /**
   * Adds a pool, or changes one: a change is bound at the pool's next reconcile, which
   * happens at once. Returns false when a new pool cannot be run (its scaler cannot be
   * created, e.g. the tritonscale scaler for a model that cannot meet the SLO), reported as
   * a `pool-rejected` event; a rejected change keeps the pool on its previous policy.
   */
  setPool(ref: PoolRef, policy: Policy): boolean {
    if (this.stopping) throw new Error(`control loop stopped: cannot add pool ${poolKey(ref)}`);
    const existing = this.pools.get(poolKey(ref));
    if (existing) {
      existing.next = policy;
      this.wake(ref);
      return true;
    }
    const binding = this.bind(ref, policy);
    if (binding === undefined) return false;
    const run: PoolRun = {
      ref: { namespace: ref.namespace, name: ref.name },
      binding,
      next: undefined,
      window: new SignalWindow(this.windowSettings(binding)),
      hasState: false,
      state: undefined,
      last: undefined,
      removed: false,
      woken: false,
      sleeping: undefined,
      wakes: [],
      nextTick: this.ports.clock.now(),
      done: Promise.resolve(),
    };
    this.pools.set(poolKey(ref), run);
    this.registerWakes(run);
    run.done = this.run(run);
    return true;
  }

  /** Removes a pool: nothing is published for it after this; resolves when its runner ends. */
  async removePool(ref: PoolRef): Promise<void> {
    const run = this.pools.get(poolKey(ref));
    if (!run) return;
    this.pools.delete(poolKey(ref));
    run.removed = true;
    this.unregisterWakes(run);
    run.sleeping?.abort();
    await run.done;
  }

  /** Reconciles the pool now (or right after the reconcile in progress). */
  wake(ref: PoolRef): void {
    const run = this.pools.get(poolKey(ref));
    if (!run) return;
    run.woken = true;
    run.sleeping?.abort();
  }

  /** The pool's last decision, if any. */
  lastDecision(ref: PoolRef): PoolDecision | undefined {
    return this.pools.get(poolKey(ref))?.last;
  }

  /** The pools being run. */
  poolRefs(): PoolRef[] {
    return [...this.pools.values()].map((r) => r.ref);
  }

  /** Stops every pool: reconciles in progress finish (and publish), then it resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    const runs = [...this.pools.values()];
    for (const run of runs) {
      this.unregisterWakes(run);
      run.sleeping?.abort();
    }
    await Promise.all(runs.map((r) => r.done));
  }

  private windowSettings(b: Binding) {
    return {
      rateWindowSeconds: b.windowSeconds,
      // Both namings, as the rendered recording rules try them (kube/render/prometheus.ts):
      // an ensemble template's detector is `<name>-detector`, any other's is `<name>`.
      models: b.policy.spec.models.map((m) => ({ entry: m.name, detector: `${m.name}-detector` })),
    };
  }

  /** Creates what a policy needs; undefined (and an event) when its scaler cannot be made. */
  private bind(ref: PoolRef, policy: Policy): Binding | undefined {
    try {
      const capacity = this.options.capacityOf
        ? this.options.capacityOf(policy)
        : memoCapacity(policy, this.options.profileOf);
      const scaler = createScaler(policy.spec.scaling.scaler, policy, {
        capacityPerReplica: capacity.perReplica,
      });
      const windowSeconds =
        this.options.rateWindowSeconds?.(policy) ?? 4 * policy.spec.scaling.syncPeriodSeconds;
      return { policy, scaler, capacity, windowSeconds };
    } catch (e) {
      this.onEvent({ kind: "pool-rejected", pool: ref, error: message(e) });
      return undefined;
    }
  }

  /**
   * Binds a changed policy: the same scaler carries its state over; the window is kept
   * unless its rate window changed (then rates are missing, and the scaler holds, until
   * two new rounds).
   */
  private rebind(run: PoolRun, policy: Policy): void {
    const binding = this.bind(run.ref, policy);
    if (binding === undefined) return;
    const old = run.binding;
    run.binding = binding;
    if (binding.scaler.name !== old.scaler.name && run.hasState) {
      // Another algorithm's state means nothing to it: start from the last decision.
      run.state = binding.scaler.initialState(
        run.last?.decision.desired ?? { spot: 0, onDemand: 0 },
      );
    }
    if (binding.windowSeconds !== old.windowSeconds) {
      run.window = new SignalWindow(this.windowSettings(binding));
    }
    this.unregisterWakes(run);
    this.registerWakes(run);
  }

  private registerWakes(run: PoolRun): void {
    const scheduler = this.ports.scheduler;
    if (!scheduler) return;
    for (const s of run.binding.policy.spec.scaling.schedules) {
      try {
        run.wakes.push(scheduler.cron(s.cron, s.timezone, () => this.wake(run.ref)));
      } catch (e) {
        this.onEvent({
          kind: "schedule-failed",
          pool: run.ref,
          schedule: s.name,
          error: message(e),
        });
      }
    }
  }

  private unregisterWakes(run: PoolRun): void {
    for (const w of run.wakes) w.stop();
    run.wakes = [];
  }

  private async run(run: PoolRun): Promise<void> {
    const clock = this.ports.clock;
    while (!this.stopping && !run.removed) {
      const now = clock.now();
      const due = now >= run.nextTick;
      if (due || run.woken) {
        run.woken = false;
        if (due) {
          run.nextTick += run.binding.policy.spec.scaling.syncPeriodSeconds;
          if (run.nextTick <= now)
            run.nextTick = now + run.binding.policy.spec.scaling.syncPeriodSeconds;
        }
        try {
          await this.reconcile(run);
        } catch (e) {
          // A bug, not an expected failure (those are events already): keep the pool running.
          this.onEvent({
            kind: "reconcile-failed",
            pool: run.ref,
            at: clock.now(),
            error: message(e),
          });
        }
        continue;
      }
      const boundary = nextBoundary(run.binding.policy, now, run.nextTick - now);
      const until = boundary ?? run.nextTick;
      const abort = new AbortController();
      run.sleeping = abort;
      await clock.sleep(until - now, abort.signal);
      run.sleeping = undefined;
      if (boundary !== undefined && clock.now() >= boundary) run.woken = true;
    }
  }

  private async reconcile(run: PoolRun): Promise<void> {
    if (run.next !== undefined) {
      const policy = run.next;
      run.next = undefined;
      this.rebind(run, policy);
    }
    const { policy, scaler, capacity } = run.binding;
    const { clock, metrics, cluster } = this.ports;
    const asked = clock.now();
    const [collected, counted] = await Promise.allSettled([
      metrics.collect(policy, asked),
      cluster.replicas(policy, asked),
    ]);
    if (run.removed) return;
    // Decided when the answers are in: signal ages count from here.
    const now = clock.now();
    if (counted.status === "rejected") {
      this.onEvent({
        kind: "cluster-failed",
        pool: run.ref,
        at: now,
        error: message(counted.reason),
      });
      return;
    }
    let replicas = counted.value;
    let signals: LoadSignals = {};
    if (collected.status === "fulfilled") {
      const scrape: PoolScrape = collected.value;
      run.window.record(scrape);
      const reading = run.window.read(now);
      signals = reading.signals;
      replicas = countLoadingAsStarting(replicas, reading.loadingReplicas);
    } else {
      this.onEvent({
        kind: "collect-failed",
        pool: run.ref,
        at: now,
        error: message(collected.reason),
      });
    }
    const current: ByCapacity = {
      spot: replicas.ready.spot + replicas.starting.spot + replicas.pending.spot,
      onDemand: replicas.ready.onDemand + replicas.starting.onDemand + replicas.pending.onDemand,
    };
    if (!run.hasState) {
      run.state = scaler.initialState(current);
      run.hasState = true;
    }
    const snapshot: LoadSnapshot = { now, replicas, ...signals };
    let decision: ReturnType<Scaler["decide"]>;
    try {
      decision = scaler.decide(snapshot, run.state);
    } catch (e) {
      this.onEvent({ kind: "decide-failed", pool: run.ref, at: now, error: message(e) });
      return;
    }
    run.state = decision.state;
    const published: PoolDecision = {
      pool: run.ref,
      at: now,
      scaler: scaler.name,
      snapshot,
      decision,
      capacityPerReplica: capacity.perModel,
      previous: run.last?.decision.desired ?? current,
    };
    run.last = published;
    const results = await Promise.allSettled(
      this.ports.sinks.map(async (sink) => sink.publish(published)),
    );
    results.forEach((r, i) => {
      if (r.status === "rejected") {
        this.onEvent({
          kind: "sink-failed",
          pool: run.ref,
          at: now,
          sink: i,
          error: message(r.reason),
        });
      }
    });
  }
}
