/**
 * The controller's Prometheus exposition and HTTP endpoints. Wiring, for the `controller`
 * and `demo` commands:
 *
 * ```ts
 * const metrics = createControllerMetrics({ version });
 * const board = createStatusBoard();
 * // the loop publishes each decision to metrics and board (both are DecisionSinks)
 * const servers = await startControllerServers({
 *   registry: metrics.registry,
 *   metricsPort, healthPort,
 *   health: { lastTick, periodSeconds, now: clock.now, isLeader, initialSyncDone,
 *             status: poolsDir ? board.status : undefined },
 * });
 * // on SIGTERM: await servers.close()
 * ```
 */
export * from "./names.js";
export * from "./reason-class.js";
export * from "./registry.js";
export * from "./server.js";
export * from "./status.js";
