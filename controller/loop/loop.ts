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
import { type LoadSignals, SignalWindow, type WindowReading } from "../scaling/window.js";
import {
  type ModelCurve,
  mixedPoolCapacity,
  modelCapacityCurve,
  type PoolCapacity,
  type ProfileOf,
  poolProfileOf,
} from "../simulate/pool-capacity.js";
import {
  equalShares,
  type ModelShares,
  ModelWindows,
  observedShares,
} from "../simulate/pool-mix.js";
import { createScaledProfile } from "../simulate/profile.js";
import { batcherSettings } from "../simulate/setup.js";
import { nextBoundary } from "./boundaries.js";
import {
  type CorrectionSettings,
  type CorrectionState,
  DEFAULT_CORRECTION,
  INITIAL_CORRECTION,
  observeCorrection,
  spreadReplicas,
} from "./correction.js";
import { type HistoryOutcome, type HistoryPorts, PoolHistory } from "./history.js";
import { nextPhaseTick, poolPhase } from "./phase.js";
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
 * 3. Correct each model's latency profile from its observed compute time per batch
 *    (correction.ts, each model read from its own series); weigh the models by their
 *    shares of the arrivals (mix.ts); when a correction moved a step or the mix changed,
 *    recompute the capacity and give the pool a new scaler carrying the state over.
 * 4. Call the pool's scaler from the registry (`createScaler`, as `simulate` does), created
 *    with the capacity per replica `simulate` would compute (capacity.ts) from each
 *    model's profile as corrected, mixed by the models' shares (1 / Σ w_i / C_i), with the
 *    state of its last decision.
 * 5. Publish a {@link PoolDecision} to every {@link DecisionSink}; a sink that fails is
 *    reported and does not stop the others.
 *
 * Each pool reconciles at once when added, then on its own phase of the period (phase.ts,
 * from a hash of its name), so that many pools do not reconcile in the same instant.
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
   * Capacity of a pool from the profiles as corrected, mixed by `shares` (tests inject one).
   * @default each model's capacity at the SLO (memoized), mixed as mix.ts says
   */
  readonly capacityOf?: (policy: Policy, profileOf: ProfileOf, shares: ModelShares) => PoolCapacity;
  /**
   * The live correction of the profiles from observed compute times (correction.ts), or
   * false to use the profiles as they are. Each model of a pool is corrected on its own
   * series (its detector's compute time and batches).
   * @default DEFAULT_CORRECTION (0.5×–2×, weight 0.2, 100 batches)
   */
  readonly correction?: Partial<CorrectionSettings> | false;
  /**
   * The rate window of a pool, in seconds. @default 4 × syncPeriod: the loop scrapes once a
   * period, so a rate spans four samples, as the rendered recording rules do with
   * Prometheus' scrape interval
   */
  readonly rateWindowSeconds?: (policy: Policy) => number;
  /**
   * Where in its sync period a pool reconciles, seconds in [0, period) (tests pin it).
   * @default poolPhase: a hash of the pool's namespace/name (phase.ts)
   */
  readonly phaseOf?: (pool: PoolRef, periodSeconds: number) => number;
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
  /** The correction factor of each model the capacity was computed with. */
  readonly factors: Readonly<Record<string, number>>;
  /** The mix the capacity was computed for. */
  readonly shares: ModelShares;
}

interface PoolRun {
  readonly ref: PoolRef;
  binding: Binding;
  /** A changed policy, bound at the next reconcile. */
  next: Policy | undefined;
  window: SignalWindow;
  /** One window per model, for a pool of several (the pool's window reads a single one). */
  modelWindows: ModelWindows | undefined;
  /** Each model's correction. */
  correction: Readonly<Record<string, CorrectionState>>;
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

/** Each model's capacity per profile source (the pool's own profiles share one across loops). */
const capacityMemos = new WeakMap<ProfileOf, Map<string, ModelCurve>>();

/**
 * The pool's capacity with each model's profile of `profileOf` scaled by its factor, mixed
 * by `shares`; each model's capacity memoized on what it depends on: pools sharing a model
 * config share it, and a correction wandering between steps computes each step once.
 */
function memoCapacity(
  policy: Policy,
  profileOf: ProfileOf,
  factors: Readonly<Record<string, number>>,
  shares: ModelShares,
): PoolCapacity {
  let memo = capacityMemos.get(profileOf);
  if (memo === undefined) {
    memo = new Map();
    capacityMemos.set(profileOf, memo);
  }
  const scaled = scaledProfileOf(profileOf, factors);
  return mixedPoolCapacity(policy, shares, (model) => {
    const key = JSON.stringify([
      policy.spec.slo.latencyP99Ms,
      policy.spec.scaling.maxReplicas,
      policy.spec.scaling.loadBalancing,
      model,
      factors[model.name] ?? 1,
    ]);
    let c = memo.get(key);
    if (c === undefined) {
      const profile = scaled(policy, model);
      c = { curve: modelCapacityCurve(policy, model, profile), profile: profile.name };
      if (memo.size >= 256) memo.clear();
      memo.set(key, c);
    }
    return c;
  });
}

/** `profileOf` with each model's profile scaled by its factor (absent: 1). */
function scaledProfileOf(
  profileOf: ProfileOf,
  factors: Readonly<Record<string, number>>,
): ProfileOf {
  return (p, m) => {
    const f = factors[m.name] ?? 1;
    return f === 1 ? profileOf(p, m) : createScaledProfile(profileOf(p, m), f);
  };
}

/** What each model's correction compares with: its profile and batcher. */
function correctedModels(policy: Policy, profileOf: ProfileOf) {
  const out: Record<string, ReturnType<typeof correctedModelOf>> = {};
  for (const model of policy.spec.models)
    out[model.name] = correctedModelOf(policy, model, profileOf);
  return out;
}

function correctedModelOf(
  policy: Policy,
  model: Policy["spec"]["models"][number],
  profileOf: ProfileOf,
) {
  const profile = profileOf(policy, model);
  const batcher = batcherSettings(model);
  // What the correction is relative to: a change of any of it starts the correction over.
  const key = JSON.stringify([profile.name, model.profile ?? null, batcher]);
  return { profile, batcher, key };
}

/** The applied factor of each model's correction. */
function appliedFactors(
  correction: Readonly<Record<string, CorrectionState>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [model, c] of Object.entries(correction)) out[model] = c.applied;
  return out;
}

/** Whether two maps agree on every key of either, a missing key counting as `missing`. */
function sameNumbers(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
  missing: number,
): boolean {
  return [...Object.keys(a), ...Object.keys(b)].every(
    (k) => (a[k] ?? missing) === (b[k] ?? missing),
  );
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
    const binding = this.bind(ref, policy, {}, this.startShares(policy));
    if (binding === undefined) return false;
    const run: PoolRun = {
      ref: { namespace: ref.namespace, name: ref.name },
      binding,
      next: undefined,
      window: new SignalWindow(this.windowSettings(binding)),
      modelWindows: this.modelWindows(binding),
      correction: {},
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

  /** A window per model for a pool of several; the pool's window reads a single one. */
  private modelWindows(b: Binding): ModelWindows | undefined {
    const settings = this.windowSettings(b);
    return settings.models.length > 1
      ? new ModelWindows(settings.models, settings.rateWindowSeconds)
      : undefined;
  }

  /** A new pool's mix: equal shares until its traffic is seen. */
  private startShares(policy: Policy): ModelShares {
    return equalShares(policy.spec.models.map((m) => m.name));
  }

  /**
   * Creates what a policy needs, each model's profile scaled by its factor (absent: 1), mixed
   * by `shares`; undefined (and an event, unless `quiet`) when its scaler cannot be made.
   */
  private bind(
    ref: PoolRef,
    policy: Policy,
    factors: Readonly<Record<string, number>>,
    shares: ModelShares,
    quiet = false,
  ): Binding | undefined {
    try {
      const capacity = this.options.capacityOf
        ? this.options.capacityOf(policy, scaledProfileOf(this.profileOf, factors), shares)
        : memoCapacity(policy, this.profileOf, factors, shares);
      const create = this.options.createScaler ?? createRegisteredScaler;
      const scaler = create(policy.spec.scaling.scaler, policy, {
        capacityPerReplica: capacity.perReplica,
        ...(capacity.byReplicas === undefined ? {} : { capacityByReplicas: capacity.byReplicas }),
      });
      const windowSeconds =
        this.options.rateWindowSeconds?.(policy) ?? 4 * policy.spec.scaling.syncPeriodSeconds;
      return { policy, scaler, capacity, windowSeconds, factors, shares };
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
    const was = correctedModels(run.binding.policy, this.profileOf);
    const now = correctedModels(policy, this.profileOf);
    const correction: Record<string, CorrectionState> = {};
    for (const [model, c] of Object.entries(run.correction)) {
      if (was[model] !== undefined && now[model]?.key === was[model].key) correction[model] = c;
    }
    const names = policy.spec.models.map((m) => m.name);
    const sameModels =
      names.length === Object.keys(run.binding.shares.shares).length &&
      names.every((m) => run.binding.shares.shares[m] !== undefined);
    const shares = sameModels ? run.binding.shares : this.startShares(policy);
    const binding = this.bind(run.ref, policy, appliedFactors(correction), shares);
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
    if (binding.windowSeconds !== old.windowSeconds || !sameModels) {
      run.window = new SignalWindow(this.windowSettings(binding));
      run.modelWindows = this.modelWindows(binding);
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
          // On the pool's phase grid (phase.ts): pools spread over the period.
          const period = run.binding.policy.spec.scaling.syncPeriodSeconds;
          const first = run.last === undefined && !run.hasState;
          run.nextTick = nextPhaseTick(
            now,
            period,
            (this.options.phaseOf ?? poolPhase)(run.ref, period),
            first ? period / 2 : 0,
          );
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
   * Folds this reconcile's observations into each model's profile correction, and weighs the
   * models by their shares of the arrivals (mix.ts); when an applied factor moved a step or
   * the shares changed, binds the capacity computed with them (a new scaler of the same
   * algorithm, so the state carries over). `readings` has each model's own reading.
   */
  private correct(
    run: PoolRun,
    readings: Readonly<Record<string, WindowReading>>,
    ready: number,
  ): void {
    const policy = run.binding.policy;
    const names = policy.spec.models.map((m) => m.name);
    const correction: Record<string, CorrectionState> = { ...run.correction };
    if (this.correction !== undefined) {
      const models = correctedModels(policy, this.profileOf);
      for (const name of names) {
        const reading = readings[name];
        const model = models[name];
        if (reading === undefined || model === undefined) continue;
        const signals = reading.signals;
        const rate = signals.arrivalRate?.value;
        const perReplica = rate !== undefined && ready > 0 ? rate / ready : undefined;
        const step = observeCorrection(
          correction[name] ?? INITIAL_CORRECTION,
          {
            ...(signals.computeMsPerBatch ? { computeMsPerBatch: signals.computeMsPerBatch } : {}),
            ...(signals.batchSize ? { batchSize: signals.batchSize } : {}),
            executedBatches: reading.executedBatches,
            ...(perReplica === undefined
              ? {}
              : { ratePerReplica: perReplica, readyReplicas: spreadReplicas(policy, ready) }),
          },
          model,
          policy.spec.scaling.staleAfterSeconds,
          this.correction,
        );
        if (step.used) correction[name] = step.state;
      }
    }
    const b = run.binding;
    const shares = observedShares(names, readings, b.shares);
    const factors = appliedFactors(correction);
    if (!sameNumbers(factors, b.factors, 1) || shares !== b.shares) {
      const binding = this.bind(run.ref, policy, factors, shares, true);
      if (binding === undefined) {
        // No scaler at those factors or that mix (a model would miss the SLO even at light
        // load): keep the capacity in force rather than stop scaling.
        for (const [name, c] of Object.entries(correction)) {
          correction[name] = { ...c, applied: b.factors[name] ?? 1 };
        }
        run.correction = correction;
        return;
      }
      run.binding = binding;
    }
    run.correction = correction;
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
      run.modelWindows?.record(scrape);
      const reading = run.window.read(now);
      signals = reading.signals;
      replicas = countLoadingAsStarting(replicas, reading.loadingReplicas);
      dark = reading.darkReplicas;
      const readings = run.modelWindows?.read(now) ?? {
        [run.binding.policy.spec.models[0]?.name ?? ""]: reading,
      };
      this.correct(run, readings, totalOf(replicas.ready));
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
      mix: {
        perReplica: capacity.perReplica,
        shares: capacity.shares?.shares ?? run.binding.shares.shares,
        from: capacity.shares?.from ?? run.binding.shares.from,
        // One point (random routing) says no more than perReplica does.
        ...(capacity.byReplicas === undefined || capacity.byReplicas.length < 2
          ? {}
          : { byReplicas: capacity.byReplicas }),
      },
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
