import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The controller's HTTP endpoints (node:http): `GET /metrics` on the metrics port, and on
 * the health port `GET /healthz` (liveness: the process answers and the loop is not
 * wedged), `GET /readyz` (readiness: leader and initial sync done, so the gRPC Service only
 * routes KEDA to the instance that decides) and `GET /status` (the last decision per pool,
 * JSON). {@link ControllerServers.close} stops accepting and lets in-flight requests finish.
 */

/** Default ports (the install's CONTROLLER_PORTS and the `controller` command's flags). */
export const DEFAULT_METRICS_PORT = 8080;
/** Default health port. */
export const DEFAULT_HEALTH_PORT = 8081;

/** What `/metrics` serves: a prom-client Registry (or anything shaped like one). */
export interface MetricsRegistry {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** How the health endpoints judge the controller. */
export interface HealthOptions {
  /**
   * When the control loop last completed a tick, on the same clock as `now` (seconds);
   * undefined before the first one (then the servers' start time counts instead).
   */
  readonly lastTick: () => number | undefined;
  /** The loop's period in seconds (the shortest `scaling.syncPeriod` of the pools). */
  readonly periodSeconds: number;
  /** Periods without a tick after which `/healthz` fails (the loop is wedged). @default 3 */
  readonly wedgedAfterPeriods?: number;
  /** The loop's clock, seconds. @default Unix time (`Date.now() / 1000`) */
  readonly now?: () => number;
  /** Whether this instance is the leader. @default always (no leader election) */
  readonly isLeader?: () => boolean;
  /** Whether the initial sync (every pool loaded and reconciled once) is done. */
  readonly initialSyncDone: () => boolean;
  /** The `/status` document (JSON-serializable); without it `/status` answers 404. */
  readonly status?: () => unknown;
}

/** Options of {@link startControllerServers}. */
export interface ControllerServersOptions {
  /** The registry `/metrics` serves (metrics/registry.ts `createControllerMetrics().registry`). */
  readonly registry: MetricsRegistry;
  readonly health: HealthOptions;
  /** Port of `/metrics`; 0 picks a free one. The same as `healthPort`: one server for all. @default 8080 */
  readonly metricsPort?: number;
  /** Port of `/healthz`, `/readyz`, `/status`; 0 picks a free one. @default 8081 */
  readonly healthPort?: number;
  /** Address to listen on. @default every interface */
  readonly host?: string;
  /** Seconds `close()` waits for in-flight requests before cutting connections. @default 10 */
  readonly shutdownGraceSeconds?: number;
}

/** The running servers. */
export interface ControllerServers {
  /** The metrics port actually bound (differs from the option when it was 0). */
  readonly metricsPort: number;
  /** The health port actually bound. */
  readonly healthPort: number;
  /**
   * Stops accepting connections, answers the requests in flight (with `Connection: close`)
   * and resolves when every connection is closed, or after the grace period, cutting the rest.
   */
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
  });
  res.end(body);
}

const TEXT = "text/plain; charset=utf-8";

/**
 * Starts the metrics and health servers and resolves once both listen. Rejects (having
 * closed what it opened) when a port cannot be bound, e.g. `EADDRINUSE`, and with a
 * RangeError for a period that is not > 0.
 *
 * Liveness, worked example: period 30 s, wedgedAfterPeriods 3 → `/healthz` fails once the
 * last tick is more than 90 s old (`loop wedged: last tick 95 s ago > 3 × 30 s`); a slow
 * scrape that delays one tick by 40 s does not restart the pod.
 */
export async function startControllerServers(
  options: ControllerServersOptions,
): Promise<ControllerServers> {
  const h = options.health;
  if (!(h.periodSeconds > 0) || !((h.wedgedAfterPeriods ?? 3) > 0)) {
    throw new RangeError(
      `health: periodSeconds and wedgedAfterPeriods must be > 0. Received: periodSeconds ${h.periodSeconds}, wedgedAfterPeriods ${h.wedgedAfterPeriods}`,
    );
  }
  const now = h.now ?? (() => Date.now() / 1000);
  const startedAt = now();
  const wedgedAfter = (h.wedgedAfterPeriods ?? 3) * h.periodSeconds;
  let closing = false;

  const metrics: Handler = async (_req, res) => {
    let text: string;
    try {
      text = await options.registry.metrics();
    } catch (e) {
      send(res, 500, TEXT, `collecting metrics failed: ${(e as Error).message}\n`);
      return;
    }
    send(res, 200, options.registry.contentType, text);
  };
  const healthz: Handler = (_req, res) => {
    const age = now() - (h.lastTick() ?? startedAt);
    if (age > wedgedAfter) {
      send(
        res,
        503,
        TEXT,
        `loop wedged: last tick ${Math.round(age)} s ago > ${h.wedgedAfterPeriods ?? 3} × ${h.periodSeconds} s\n`,
      );
    } else send(res, 200, TEXT, "ok\n");
  };
  const readyz: Handler = (_req, res) => {
    const why: string[] = [];
    if (!(h.isLeader?.() ?? true)) why.push("not the leader");
    if (!h.initialSyncDone()) why.push("initial sync not done");
    if (why.length > 0) send(res, 503, TEXT, `not ready: ${why.join(", ")}\n`);
    else send(res, 200, TEXT, "ok\n");
  };
  const status: Handler = (_req, res) => {
    if (h.status === undefined) {
      send(res, 404, TEXT, "no /status here: decisions are in the ModelPools' status\n");
      return;
    }
    send(res, 200, "application/json", `${JSON.stringify(h.status(), null, 2)}\n`);
  };

  const routes = (table: Readonly<Record<string, Handler>>): Handler => {
    return async (req, res) => {
      if (closing) res.setHeader("Connection", "close");
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const handler = table[path];
      if (handler === undefined) {
        send(res, 404, TEXT, `not found: ${path} (serving ${Object.keys(table).join(", ")})\n`);
      } else if (req.method !== "GET" && req.method !== "HEAD") {
        res.setHeader("Allow", "GET, HEAD");
        send(res, 405, TEXT, `method ${req.method} not allowed on ${path}\n`);
      } else {
        await handler(req, res);
      }
    };
  };

  const metricsPort = options.metricsPort ?? DEFAULT_METRICS_PORT;
  const healthPort = options.healthPort ?? DEFAULT_HEALTH_PORT;
  const healthRoutes = { "/healthz": healthz, "/readyz": readyz, "/status": status };
  const shared = metricsPort === healthPort && metricsPort !== 0;
  const tables: Readonly<Record<string, Handler>>[] = shared
    ? [{ "/metrics": metrics, ...healthRoutes }]
    : [{ "/metrics": metrics }, healthRoutes];
  const ports = shared ? [metricsPort] : [metricsPort, healthPort];

  const servers: Server[] = [];
  const inFlight = new Set<Promise<void>>();
  try {
    for (const [i, table] of tables.entries()) {
      const handle = routes(table);
      const server = createServer((req, res) => {
        const done = Promise.resolve(handle(req, res))
          .catch((e: unknown) => {
            if (!res.headersSent) send(res, 500, TEXT, `internal error: ${(e as Error).message}\n`);
            else res.destroy();
          })
          .finally(() => {
            inFlight.delete(done);
            if (closing) server.closeIdleConnections();
          });
        inFlight.add(done);
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(ports[i], options.host, () => {
          server.off("error", reject);
          resolve();
        });
      });
    }
  } catch (e) {
    for (const s of servers) s.close();
    throw e;
  }

  const bound = servers.map((s) => (s.address() as AddressInfo).port);
  const graceMs = (options.shutdownGraceSeconds ?? 10) * 1000;
  let closed: Promise<void> | undefined;

  return {
    metricsPort: bound[0]!,
    healthPort: bound[shared ? 0 : 1]!,
    close() {
      closed ??= (async () => {
        closing = true;
        const all = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
        for (const s of servers) s.closeIdleConnections();
        const timer = setTimeout(() => {
          for (const s of servers) s.closeAllConnections();
        }, graceMs);
        try {
          await Promise.all([...all, ...inFlight]);
        } finally {
          clearTimeout(timer);
        }
      })();
      return closed;
    },
  };
}
