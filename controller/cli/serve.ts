import { type KedaServer, startKedaServer } from "../keda/server.js";
import { KedaTargets } from "../keda/targets.js";
import type { KedaTls } from "../keda/tls.js";
import type { HistoryPorts } from "../loop/history.js";
import { ControlLoop, type LoopEvent, type LoopOptions } from "../loop/loop.js";
import type {
  Clock,
  ClusterPort,
  DecisionSink,
  MetricsSource,
  PoolDecision,
  PoolRef,
} from "../loop/ports.js";
import type { Scheduler } from "../loop/scheduler.js";
import {
  type ControllerMetrics,
  type ControllerServers,
  createControllerMetrics,
  createStatusBoard,
  DEFAULT_HEALTH_PORT,
  DEFAULT_METRICS_PORT,
  type StatusBoard,
  startControllerServers,
} from "../metrics/index.js";
import type { Policy } from "../policy/index.js";

/**
 * The wiring `controller` and `demo` share: one {@link ControlLoop} over the given ports,
 * publishing every decision to the KEDA external scaler's answers ({@link KedaTargets}),
 * the prom-client metrics, the `/status` board and any further sinks; the metrics and
 * health HTTP servers; the KEDA gRPC server; and the shutdown order. The ports decide
 * what runs: Kubernetes and Triton live, the simulator in `demo`.
 *
 * Shutdown ({@link Serving.close}): `/readyz` fails at once (the Service stops routing
 * KEDA here), the loop finishes the reconciles in progress (their decisions still
 * published), the KEDA server ends its streams and waits for calls in progress, and the
 * HTTP servers close last, so a final scrape sees the last decision. A caller holding a
 * Lease releases it after `close()` resolves.
 */

/** Default port of the KEDA external scaler (what `render` points ScaledObjects at). */
export const DEFAULT_GRPC_PORT = 9090;

/** What to serve, and over which ports. */
export interface ServeOptions {
  readonly metrics: MetricsSource;
  readonly cluster: ClusterPort;
  readonly clock: Clock;
  /** Wakes pools at their schedules' starts (node-cron live). @default none */
  readonly scheduler?: Scheduler;
  /**
   * Further consumers of every decision, after the KEDA answers, metrics and status (a
   * decision log, `demo`'s actuator). @default none
   */
  readonly sinks?: readonly DecisionSink[];
  /** How the loop sizes and windows (profiles, rate windows). @default the loop's */
  readonly loop?: Omit<LoopOptions, "onEvent">;
  /**
   * Where the scalers' learned histories are saved, restored and rebuilt from (each
   * outcome is counted in `tritonscale_history_operations_total`, then told to
   * `loop.onHistory`). @default none
   */
  readonly history?: HistoryPorts;
  /** Told of every failure the loop survives (after it is counted in the metrics). */
  readonly onEvent?: (event: LoopEvent) => void;
  /** Address every server listens on. @default every interface */
  readonly host?: string;
  /** 0 picks a free port. @default 8080 */
  readonly metricsPort?: number;
  /** 0 picks a free port; the same non-zero port as metricsPort serves all on one. @default 8081 */
  readonly healthPort?: number;
  /** The KEDA external scaler's port; 0 picks a free one. @default 9090 */
  readonly grpcPort?: number;
  /** TLS of the KEDA server. @default plaintext */
  readonly tls?: KedaTls;
  /** `tritonscale_build_info{version}`. @default "unknown" */
  readonly version?: string;
  /**
   * The loop's period for `/healthz` (the shortest `scaling.syncPeriod` of the pools),
   * seconds on the clock. @default 15, the syncPeriod default
   */
  readonly periodSeconds?: number;
  /**
   * Whether this instance acts (holds the Lease). @default always: no leader election, so
   * `tritonscale_leader` is 1 (with election the caller calls `metrics.setLeader`)
   */
  readonly isLeader?: () => boolean;
  /** Serve the last decisions as JSON at `/status` (the `--pools DIR` mode). @default true */
  readonly status?: boolean;
  /** Seconds the HTTP servers wait for requests in flight on close. @default 10 */
  readonly shutdownGraceSeconds?: number;
}

/** The running controller. */
export interface Serving {
  readonly loop: ControlLoop;
  readonly metrics: ControllerMetrics;
  readonly board: StatusBoard;
  readonly keda: KedaTargets;
  /** Ports actually bound. */
  readonly metricsPort: number;
  readonly healthPort: number;
  readonly grpcPort: number;
  /**
   * Runs a pool (or changes it): the loop and the KEDA answers. Returns false, with a
   * `pool-rejected` event, when it cannot be run (its scaler cannot be created, or its
   * ScaledObject names clash with another pool's); a rejected change keeps the old policy.
   */
  setPool(policy: Policy): boolean;
  /** Stops a pool: nothing more is decided, answered or exported for it. */
  removePool(pool: PoolRef): Promise<void>;
  /**
   * Serves new KEDA connections with renewed certificates (e.g. cert-manager rotated the
   * Secret); throws when serving was started without TLS.
   */
  updateTls(tls: KedaTls): void;
  /**
   * Says the initial load is done (every pool known has been set): `/readyz` answers ok
   * once each pool of the loop has decided once.
   */
  markSynced(): void;
  /** Shuts down in order (see the module comment); resolves when everything is closed. */
  close(): Promise<void>;
}

function refOf(policy: Policy): PoolRef {
  return { namespace: policy.metadata.namespace, name: policy.metadata.name };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Starts the loop, the HTTP servers and the KEDA server; rejects (closing what it opened) when a port cannot be bound. */
export async function startServing(options: ServeOptions): Promise<Serving> {
  const { clock } = options;
  const metrics = createControllerMetrics({ version: options.version ?? "unknown" });
  if (options.isLeader === undefined) metrics.setLeader(true);
  const isLeader = options.isLeader ?? (() => true);
  const board = createStatusBoard();
  const keda = new KedaTargets();
  let lastTick: number | undefined;
  let synced = false;
  let closing = false;
  const ticked: DecisionSink = {
    publish(d: PoolDecision) {
      lastTick = Math.max(lastTick ?? d.at, d.at);
    },
  };
  const onEvent = (event: LoopEvent): void => {
    if (event.kind !== "pool-rejected" && event.kind !== "schedule-failed") {
      // The loop went round and said why it could not decide: alive, not wedged.
      lastTick = Math.max(lastTick ?? event.at, event.at);
      metrics.recordReconcileError(event.kind.replace(/-failed$/, ""));
    } else {
      metrics.recordReconcileError(event.kind === "pool-rejected" ? "pool" : "schedule");
    }
    options.onEvent?.(event);
  };
  const loop = new ControlLoop(
    {
      metrics: options.metrics,
      cluster: options.cluster,
      clock,
      sinks: [keda, metrics, board, ticked, ...(options.sinks ?? [])],
      ...(options.scheduler === undefined ? {} : { scheduler: options.scheduler }),
      ...(options.history === undefined ? {} : { history: options.history }),
    },
    {
      ...options.loop,
      onEvent,
      onHistory: (o) => {
        metrics.recordHistory(o.operation, o.source, o.result);
        options.loop?.onHistory?.(o);
      },
    },
  );

  const period = options.periodSeconds ?? 15;
  let servers: ControllerServers | undefined;
  let kedaServer: KedaServer | undefined;
  try {
    servers = await startControllerServers({
      registry: metrics.registry,
      metricsPort: options.metricsPort ?? DEFAULT_METRICS_PORT,
      healthPort: options.healthPort ?? DEFAULT_HEALTH_PORT,
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.shutdownGraceSeconds === undefined
        ? {}
        : { shutdownGraceSeconds: options.shutdownGraceSeconds }),
      health: {
        // With no pool there is nothing to tick: the loop is idle, not wedged.
        lastTick: () => (loop.poolRefs().length === 0 ? clock.now() : lastTick),
        periodSeconds: period,
        now: () => clock.now(),
        isLeader: () => !closing && isLeader(),
        initialSyncDone: () =>
          !closing && synced && loop.poolRefs().every((p) => loop.lastDecision(p) !== undefined),
        ...(options.status === false ? {} : { status: () => board.status() }),
      },
    });
    kedaServer = await startKedaServer({
      targets: keda,
      port: options.grpcPort ?? DEFAULT_GRPC_PORT,
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      onCall: (rpc, code, seconds) => metrics.observeKedaRequest(rpc, seconds, code),
    });
  } catch (e) {
    await servers?.close();
    throw e;
  }
  const http = servers;
  const grpc = kedaServer;

  let closed: Promise<void> | undefined;
  return {
    loop,
    metrics,
    board,
    keda,
    metricsPort: http.metricsPort,
    healthPort: http.healthPort,
    grpcPort: grpc.port,
    setPool(policy) {
      const ref = refOf(policy);
      const known = loop
        .poolRefs()
        .some((p) => p.namespace === ref.namespace && p.name === ref.name);
      try {
        keda.setPool(policy);
      } catch (e) {
        onEvent({ kind: "pool-rejected", pool: ref, error: message(e) });
        return false;
      }
      const ok = loop.setPool(ref, policy);
      if (!ok && !known) keda.removePool(ref);
      return ok;
    },
    async removePool(pool) {
      await loop.removePool(pool);
      keda.removePool(pool);
      metrics.removePool(pool);
      board.removePool(pool);
    },
    updateTls(tls) {
      grpc.updateTls(tls);
    },
    markSynced() {
      synced = true;
    },
    close() {
      closed ??= (async () => {
        closing = true;
        await loop.stop();
        await grpc.close();
        await http.close();
      })();
      return closed;
    },
  };
}
