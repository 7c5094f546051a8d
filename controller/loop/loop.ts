import type { Policy } from "../policy/index.js";
import { createScaler as createRegisteredScaler } from "../scaling/registry.js";
import type { PoolScrape } from "../scaling/samples.js";
import {
  type ByCapacity,
  type LoadSnapshot,
  type ReplicaCounts,
  type Scaler,
  type ScalerOptions,
  totalOf,
} from "../scaling/types.js";
import { type LoadSignals, SignalWindow } from "../scaling/window.js";
import { createScaledProfile } from "../simulate/profile.js";
import { batcherSettings } from "../simulate/setup.js";
import { nextBoundary } from "./boundaries.js";
import { type PoolCapacity, type ProfileOf, poolCapacity, poolProfileOf } from "./capacity.js";
import {
  type CorrectionSettings,
  type CorrectionState,
  DEFAULT_CORRECTION,
  INITIAL_CORRECTION,
  observeCorrection,
} from "./correction.js";
import { type HistoryOutcome, type HistoryPorts, PoolHistory } from "./history.js";
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
 * 3. Correct the pool's latency profile from the observed compute time per batch
 *    (correction.ts); when the correction moved a step, recompute the capacity and give
 *    the pool a new scaler carrying the state over.
 * 4. Call the pool's scaler from the registry (`createScaler`, as `simulate` does), created
 *    with the capacity per replica `simulate` would compute (capacity.ts) from the pool's
 *    profile as corrected, with the state of its last decision.
 * 5. Publish a {@link PoolDecision} to every {@link DecisionSink}; a sink that fails is
 *    reported and does not stop the others.
 *
 * A scaler that keeps a learned history (`Scaler.memory`) has it restored on start and
 * when this replica becomes the leader ({@link ControlLoop.restoreHistory}), rebuilt from
 * past rates when none is stored, and saved by the leader every few minutes and when the
 * loop stops (history.ts); none of it ever delays a decision.
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
  /**
   * Where scalers' learned histories are saved, restored and rebuilt from (history.ts).
   * @default none: histories live only as long as the process
   */
  readonly history?: HistoryPorts;
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
  /**
   * Latency profile of each pool model, before the live correction.
   * @default the model's spec.models[].profile, else simulate's default (capacity.ts)
   */
  readonly profileOf?: ProfileOf;
  /**
   * Capacity of a pool from the profiles as corrected (tests inject one).
   * @default poolCapacity(policy, profileOf), memoized
   */
  readonly capacityOf?: (policy: Policy, profileOf: ProfileOf) => PoolCapacity;
  /**
   * The live correction of the profiles from observed compute times (correction.ts), or
   * false to use the profiles as they are. Pools with several models are not corrected:
   * the window's compute time per batch mixes their batches.
   * @default DEFAULT_CORRECTION (0.5×–2×, weight 0.2, 100 batches)
   */
  readonly correction?: Partial<CorrectionSettings> | false;
  /**
   * The rate window of a pool, in seconds. @default 4 × syncPeriod: the loop scrapes once a
   * period, so a rate spans four samples, as the rendered recording rules do with
   * Prometheus' scrape interval
   */
  readonly rateWindowSeconds?: (policy: Policy) => number;
  /** Told about every failure the loop survives. */
  readonly onEvent?: (event: LoopEvent) => void;
  /**
   * Creates a pool's scaler (tests inject one). @default the registry's `createScaler`, as
   * `simulate` uses it
   */
  readonly createScaler?: (name: string, policy: Policy, options: ScalerOptions) => Scaler;
  /**
   * Seconds between saves of a pool's learned history by the leader, on the loop's clock.
   * @default DEFAULT_HISTORY_SAVE_SECONDS (300)
   */
  readonly historySaveSeconds?: number;
  /** Told of every load, save and rebuild of a pool's history. */
  readonly onHistory?: (outcome: HistoryOutcome) => void;
}

/** One pool's binding: the policy and what was created for it. */
interface Binding {
  readonly policy: Policy;
  readonly scaler: Scaler;
  readonly capacity: PoolCapacity;
  readonly windowSeconds: number;
  /** The correction factor the capacity was computed with. */
  readonly factor: number;
}

interface PoolRun {
  readonly ref: PoolRef;
  binding: Binding;
  /** A changed policy, bound at the next reconcile. */
  next: Policy | undefined;
  window: SignalWindow;
  correction: CorrectionState;
  /** The learned history's keeping, when the scaler has `memory`. */
  history: PoolHistory | undefined;
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

/** Capacities per profile source (the pool's own profiles share one across loops). */
const capacityMemos = new WeakMap<ProfileOf, Map<string, PoolCapacity>>();

/**
 * poolCapacity with the profiles of `profileOf` scaled by `factor`, memoized on what it
 * depends on: pools sharing a model config share it, and a correction wandering between
 * steps computes each step once.
 */
function memoCapacity(policy: Policy, profileOf: ProfileOf, factor: number): PoolCapacity {
  let memo = capacityMemos.get(profileOf);
  if (memo === undefined) {
    memo = new Map();
    capacityMemos.set(profileOf, memo);
  }
  const key = JSON.stringify([policy.spec.slo.latencyP99Ms, policy.spec.models, factor]);
  let c = memo.get(key);
  if (c === undefined) {
    c = poolCapacity(policy, scaledProfileOf(profileOf, factor));
    if (memo.size >= 256) memo.clear();
    memo.set(key, c);
  }
  return c;
}

/** `profileOf` with every profile scaled by `factor`. */
function scaledProfileOf(profileOf: ProfileOf, factor: number): ProfileOf {
  return factor === 1 ? profileOf : (p, m) => createScaledProfile(profileOf(p, m), factor);
}

/** What the correction compares with: the one model's profile, or none for several. */
function correctedModel(policy: Policy, profileOf: ProfileOf) {
  const models = policy.spec.models;
  if (models.length !== 1) return undefined;
  const model = models[0]!;
  const profile = profileOf(policy, model);
  const batcher = batcherSettings(model);
  // What the correction is relative to: a change of any of it starts the correction over.
  const key = JSON.stringify([profile.name, model.profile ?? null, batcher]);
  return { profile, batcher, key };
}

/** The control loop over every pool it is given. */
export class ControlLoop {
  private readonly pools = new Map<string, PoolRun>();
  private stopping = false;
  private readonly onEvent: (event: LoopEvent) => void;
  private readonly profileOf: ProfileOf;
  private readonly correction: CorrectionSettings | undefined;

  constructor(
    private readonly ports: LoopPorts,
    private readonly options: LoopOptions = {},
  ) {
    this.profileOf = options.profileOf ?? poolProfileOf;
    this.correction =
      options.correction === false ? undefined : { ...DEFAULT_CORRECTION, ...options.correction };
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
    const binding = this.bind(ref, policy, 1);
    if (binding === undefined) return false;
    const run: PoolRun = {
      ref: { namespace: ref.namespace, name: ref.name },
      binding,
      next: undefined,
      window: new SignalWindow(this.windowSettings(binding)),
      correction: INITIAL_CORRECTION,
      history: undefined,
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
    this.startHistory(run);
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
    run.history?.close();
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

  /**
   * Stops every pool: reconciles in progress finish (and publish), then each learned
   * history is saved a last time if this replica may save, then it resolves.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const runs = [...this.pools.values()];
    for (const run of runs) {
      this.unregisterWakes(run);
      run.sleeping?.abort();
    }
    await Promise.all(runs.map((r) => r.done));
    await Promise.all(
      runs.map(async (r) => {
        const memory = r.binding.scaler.memory;
        if (r.history !== undefined && memory !== undefined) {
          await r.history.final(memory, r.state, r.hasState);
        }
      }),
    );
  }

  /**
   * Reads every pool's saved history again and folds it in at the pool's next reconcile:
   * call it when this replica becomes the leader, to continue from what the last leader
   * saved.
   */
  restoreHistory(): void {
    for (const run of this.pools.values()) run.history?.begin(run.binding.policy, "leader");
  }

  /** Starts keeping the history of the run's scaler, if it keeps one. */
  private startHistory(run: PoolRun): void {
    run.history?.close();
    run.history = undefined;
    if (run.binding.scaler.memory === undefined) return;
    const told = this.options.onHistory;
    run.history = new PoolHistory(run.ref, {
      ports: this.ports.history ?? {},
      clock: this.ports.clock,
      ...(this.options.historySaveSeconds === undefined
        ? {}
        : { saveEverySeconds: this.options.historySaveSeconds }),
      onOutcome: (o) => {
        try {
          told?.(o);
        } catch {
          // a failing listener must not stop the pool
        }
      },
      wake: () => this.wake(run.ref),
    });
    run.history.begin(run.binding.policy, "start");
  }

  private windowSettings(b: Binding) {
    return {
      rateWindowSeconds: b.windowSeconds,
      // Both namings, as the rendered recording rules try them (kube/render/prometheus.ts):
      // an ensemble template's detector is `<name>-detector`, any other's is `<name>`.
      models: b.policy.spec.models.map((m) => ({ entry: m.name, detector: `${m.name}-detector` })),
    };
  }

  /**
   * Creates what a policy needs, its profiles scaled by `factor`; undefined (and an event,
   * unless `quiet`) when its scaler cannot be made.
   */
  private bind(ref: PoolRef, policy: Policy, factor: number, quiet = false): Binding | undefined {
    try {
      const capacity = this.options.capacityOf
        ? this.options.capacityOf(policy, scaledProfileOf(this.profileOf, factor))
        : memoCapacity(policy, this.profileOf, factor);
      const create = this.options.createScaler ?? createRegisteredScaler;
      const scaler = create(policy.spec.scaling.scaler, policy, {
        capacityPerReplica: capacity.perReplica,
      });
      const windowSeconds =
        this.options.rateWindowSeconds?.(policy) ?? 4 * policy.spec.scaling.syncPeriodSeconds;
      return { policy, scaler, capacity, windowSeconds, factor };
    } catch (e) {
      if (!quiet) this.onEvent({ kind: "pool-rejected", pool: ref, error: message(e) });
      return undefined;
    }
  }

  /**
   * Binds a changed policy: the same scaler carries its state over; the window is kept
   * unless its rate window changed (then rates are missing, and the scaler holds, until
   * two new rounds).
   */
  private rebind(run: PoolRun, policy: Policy): void {
    // A correction is relative to the profile it was observed against: a new one starts over.
    const was = correctedModel(run.binding.policy, this.profileOf);
    const now = correctedModel(policy, this.profileOf);
    const sameProfile = was !== undefined && now !== undefined && was.key === now.key;
    const correction = sameProfile ? run.correction : INITIAL_CORRECTION;
    const binding = this.bind(run.ref, policy, correction.applied);
    if (binding === undefined) return;
    const old = run.binding;
    run.binding = binding;
    run.correction = correction;
    if (binding.scaler.name !== old.scaler.name && run.hasState) {
      // Another algorithm's state means nothing to it: start from the last decision.
      run.state = binding.scaler.initialState(
        run.last?.decision.desired ?? { spot: 0, onDemand: 0 },
      );
    }
    if (binding.scaler.name !== old.scaler.name) this.startHistory(run);
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

  /**
   * Folds this reconcile's observation into the pool's profile correction; when the applied
   * factor moved a step, binds the capacity computed with it (a new scaler of the same
   * algorithm, so the state carries over).
   */
  private correct(run: PoolRun, signals: LoadSignals, batches: number, ready: number): void {
    if (this.correction === undefined) return;
    const policy = run.binding.policy;
    const model = correctedModel(policy, this.profileOf);
    if (model === undefined) return;
    const rate = signals.arrivalRate?.value;
    const perReplica = rate !== undefined && ready > 0 ? rate / ready : undefined;
    const step = observeCorrection(
      run.correction,
      {
        ...(signals.computeMsPerBatch ? { computeMsPerBatch: signals.computeMsPerBatch } : {}),
        ...(signals.batchSize ? { batchSize: signals.batchSize } : {}),
        executedBatches: batches,
        ...(perReplica === undefined ? {} : { ratePerReplica: perReplica, readyReplicas: ready }),
      },
      model,
      policy.spec.scaling.staleAfterSeconds,
      this.correction,
    );
    if (step.state.applied !== run.binding.factor) {
      const binding = this.bind(run.ref, policy, step.state.applied, true);
      if (binding === undefined) {
        // No scaler at that factor (the model would miss the SLO even at light load): keep
        // the capacity in force rather than stop scaling.
        run.correction = { ...step.state, applied: run.binding.factor };
        return;
      }
      run.binding = binding;
    }
    run.correction = step.state;
  }

  private async reconcile(run: PoolRun): Promise<void> {
    if (run.next !== undefined) {
      const policy = run.next;
      run.next = undefined;
      this.rebind(run, policy);
    }
    const { policy } = run.binding;
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
    let dark = 0;
    if (collected.status === "fulfilled") {
      const scrape: PoolScrape = collected.value;
      run.window.record(scrape);
      const reading = run.window.read(now);
      signals = reading.signals;
      replicas = countLoadingAsStarting(replicas, reading.loadingReplicas);
      dark = reading.darkReplicas;
      this.correct(run, signals, reading.executedBatches, totalOf(replicas.ready));
    } else {
      this.onEvent({
        kind: "collect-failed",
        pool: run.ref,
        at: now,
        error: message(collected.reason),
      });
    }
    const { scaler, capacity } = run.binding;
    const current: ByCapacity = {
      spot: replicas.ready.spot + replicas.starting.spot + replicas.pending.spot,
      onDemand: replicas.ready.onDemand + replicas.starting.onDemand + replicas.pending.onDemand,
    };
    if (!run.hasState) {
      run.state = scaler.initialState(current);
      run.hasState = true;
    }
    const memory = scaler.memory;
    if (run.history !== undefined && memory !== undefined) {
      try {
        run.state = run.history.fold(memory, run.state, policy);
      } catch (e) {
        // A scaler's restore or learn that throws (it should not): keep deciding cold.
        this.onEvent({ kind: "decide-failed", pool: run.ref, at: now, error: message(e) });
      }
    }
    const snapshot: LoadSnapshot = {
      now,
      replicas,
      ...signals,
      ...(dark > 0 ? { darkReplicas: dark } : {}),
    };
    let decision: ReturnType<Scaler["decide"]>;
    try {
      decision = scaler.decide(snapshot, run.state);
    } catch (e) {
      this.onEvent({ kind: "decide-failed", pool: run.ref, at: now, error: message(e) });
      return;
    }
    run.state = decision.state;
    if (run.history !== undefined && memory !== undefined) run.history.tick(memory, run.state);
    const published: PoolDecision = {
      pool: run.ref,
      at: now,
      scaler: scaler.name,
      snapshot,
      decision,
      capacityPerReplica: capacity.perModel,
      ...(this.options.capacityOf ? {} : { profiles: capacity.profiles }),
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
