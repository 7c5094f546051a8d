/**
 * The controller's Prometheus exposition and HTTP endpoints. Wiring, for the `controller`
 * and `demo` commands:
 *
 * ```ts
 * const metrics = createControllerMetrics({ version });
 * metrics.setLeader(!leaderElect); // and on every Lease change when electing
 * const board = createStatusBoard();
 * // the loop publishes each decision to metrics and board (both are DecisionSinks), and
 * // calls metrics.removePool / board.removePool for a pool that is gone
 * const servers = await startControllerServers({
 *   registry: metrics.registry,
 *   metricsPort, healthPort,
 *   health: { lastTick, periodSeconds, now: clock.now, isLeader, initialSyncDone,
 *             status: poolsDir ? board.status : undefined },
 * });
 * // KEDA server: metrics.observeKedaRequest(method, seconds, code) per call;
 * // reconciler: metrics.recordReconcileError(kind), metrics.recordApplyError(kind)
 * // on SIGTERM: await servers.close()
 * ```
 */
export * from "./names.js";
export * from "./reason-class.js";
export * from "./registry.js";
export * from "./server.js";
export * from "./status.js";
