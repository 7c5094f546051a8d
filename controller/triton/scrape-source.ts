/**
 * The direct {@link MetricsSource}: every sync period, GET each of the pool's Triton pods'
 * `/metrics` (port 8002) and ask its gRPC port (8001) whether the server and each of the
 * pool's models are ready. The pods come from an injected discovery function (the kube edge
 * supplies one from EndpointSlices or pods; tests pass a list).
 *
 * Per replica, never throwing out of `collect`:
 * - the scrape failed (refused, timed out, not 200, unparsable text, too large) →
 *   `unreachable`: its series are missing, not 0;
 * - scraped, but the server or a pool model is not ready, or the gRPC port does not answer →
 *   `loading`: starting, never idle (a pod whose model is still loading must not let the
 *   pool scale to zero), with the counters it has;
 * - otherwise `ready`.
 *
 * Counters stay raw; scaling/window.ts makes rates, resets and staleness of them.
 */
import * as http from "node:http";
import { StringDecoder } from "node:string_decoder";
import type { MetricsSource } from "../loop/ports.js";
import type { Policy } from "../policy/index.js";
import type { PoolScrape, ReplicaScrape } from "../scaling/samples.js";
import { crossCheckStatistics, TritonClient } from "./grpc.js";
import { type TritonMetrics, TritonMetricsReader } from "./triton-metrics.js";

/** One Triton pod as discovery reports it. */
export interface TritonEndpoint {
  /** Identity stable over the pod's life and new when it is replaced, e.g. `name/uid`. */
  readonly replica: string;
  /** IP or host name the controller reaches the pod at. */
  readonly host: string;
  /** Triton's metrics port (`--metrics-port`, 8002). */
  readonly metricsPort: number;
  /** Triton's gRPC port (`--grpc-port`, 8001). */
  readonly grpcPort: number;
}

/** Lists the pool's Triton pods (rejects when the listing itself failed). */
export type DiscoverTritons = (policy: Policy) => Promise<readonly TritonEndpoint[]>;

/** Options of {@link createScrapeSource}. */
export interface ScrapeSourceOptions {
  readonly discover: DiscoverTritons;
  /**
   * Time allowed for one pod's `/metrics` response, and the deadline of each gRPC call,
   * milliseconds.
   * @default 2000
   */
  readonly timeoutMs?: number;
  /**
   * Largest `/metrics` response read, bytes; a larger one makes the replica unreachable.
   * @default 16 MiB
   */
  readonly maxBytes?: number;
  /**
   * Ask each pod over gRPC whether the server and the pool's models are ready. Without it
   * a scraped pod counts as ready once every pool model has series (as with the Prometheus
   * source).
   * @default true
   */
  readonly readiness?: boolean;
  /**
   * After each successful scrape, read the pool models' gRPC ModelStatistics and report
   * disagreements with the `/metrics` counters to `onReplicaProblem` (see
   * {@link crossCheckStatistics}); the phase and counters are not changed by it.
   * @default false
   */
  readonly crossCheck?: boolean;
  /** Told why a replica is unreachable or loading, and cross-check findings (for logs). */
  readonly onReplicaProblem?: (replica: string, message: string) => void;
}

/** A {@link MetricsSource} that also closes its connections. */
export interface ClosableMetricsSource extends MetricsSource {
  close(): void;
}

/** `host:port`, with an IPv6 host in brackets. */
function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Why a scrape failed, in words for the logs. */
class ScrapeError extends Error {}

/** GETs `url` and streams the body into a metrics reader, within `timeoutMs`. */
function scrapeMetrics(
  agent: http.Agent,
  host: string,
  port: number,
  timeoutMs: number,
  maxBytes: number,
): Promise<TritonMetrics> {
  const where = `${hostPort(host, port)}/metrics`;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, value?: TritonMetrics) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(value!);
    };
    const req = http.get(
      { host, port, path: "/metrics", agent, headers: { Accept: "text/plain" } },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          finish(new ScrapeError(`GET ${where}: HTTP ${res.statusCode}`));
          return;
        }
        const reader = new TritonMetricsReader(where);
        // UTF-8 split across chunks is joined by the decoder; invalid bytes become U+FFFD.
        const decoder = new StringDecoder("utf8");
        let bytes = 0;
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > maxBytes) {
            finish(new ScrapeError(`GET ${where}: response over ${maxBytes} bytes`));
            return;
          }
          const p = reader.write(decoder.write(chunk));
          if (p) finish(new ScrapeError(`GET ${where}:${p.line}:${p.col}: ${p.message}`));
        });
        res.on("end", () => {
          const tail = decoder.end();
          const p = tail ? reader.write(tail) : undefined;
          if (p) {
            finish(new ScrapeError(`GET ${where}:${p.line}:${p.col}: ${p.message}`));
            return;
          }
          const r = reader.end();
          if (r.problem)
            finish(
              new ScrapeError(
                `GET ${where}:${r.problem.line}:${r.problem.col}: ${r.problem.message}`,
              ),
            );
          else finish(undefined, r.metrics);
        });
        res.on("error", (e) => finish(new ScrapeError(`GET ${where}: ${e.message}`)));
      },
    );
    req.on("error", (e) => finish(new ScrapeError(`GET ${where}: ${e.message}`)));
    const timer = setTimeout(
      () => finish(new ScrapeError(`GET ${where}: no complete response within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
}

/** Whether the server and every pool model are ready; the reason when not. */
async function readiness(
  client: TritonClient,
  models: readonly string[],
): Promise<string | undefined> {
  try {
    if (!(await client.serverReady())) return `${client.address}: server not ready`;
    const ready = await Promise.all(models.map((m) => client.modelReady(m)));
    const notReady = models.filter((_, i) => !ready[i]);
    return notReady.length
      ? `${client.address}: model ${notReady.join(", ")} not ready`
      : undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The pool's model names as Triton serves them (an ensemble's entry point is the pool model's name). */
export function poolModelNames(policy: Policy): string[] {
  return policy.spec.models.map((m) => m.name);
}

/** Creates the direct scrape source. */
export function createScrapeSource(options: ScrapeSourceOptions): ClosableMetricsSource {
  const timeoutMs = options.timeoutMs ?? 2000;
  const maxBytes = options.maxBytes ?? 16 * 2 ** 20;
  const check = options.readiness ?? true;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const clients = new Map<string, TritonClient>();
  // The gRPC addresses each pool used in its last round: clients no pool uses are closed.
  const usedBy = new Map<string, ReadonlySet<string>>();

  const clientFor = (address: string): TritonClient => {
    let c = clients.get(address);
    if (!c) {
      c = new TritonClient(address, { deadlineMs: timeoutMs });
      clients.set(address, c);
    }
    return c;
  };

  const prune = () => {
    const live = new Set<string>();
    for (const s of usedBy.values()) for (const a of s) live.add(a);
    for (const [a, c] of clients) {
      if (!live.has(a)) {
        c.close();
        clients.delete(a);
      }
    }
  };

  async function scrapeOne(
    e: TritonEndpoint,
    models: readonly string[],
    now: number,
    t0: number,
  ): Promise<ReplicaScrape> {
    const grpcAddress = hostPort(e.host, e.grpcPort);
    const [scraped, ready] = await Promise.all([
      scrapeMetrics(agent, e.host, e.metricsPort, timeoutMs, maxBytes).then(
        (m) => ({ m }),
        (err: Error) => ({ err }),
      ),
      check ? readiness(clientFor(grpcAddress), models) : Promise.resolve(undefined),
    ]);
    let notReady = ready;
    const t = now + (performance.now() - t0) / 1000;
    if ("err" in scraped) {
      options.onReplicaProblem?.(e.replica, scraped.err.message);
      return { replica: e.replica, t, phase: "unreachable", models: [] };
    }
    // Without gRPC, a pool model with no series yet is still loading (Triton exports a
    // model's series once it is loaded).
    const missing = check
      ? undefined
      : models.find((m) => !scraped.m.models.some((x) => x.model === m));
    if (missing !== undefined) notReady = `model ${missing} has no series yet`;
    if (notReady !== undefined) options.onReplicaProblem?.(e.replica, notReady);
    if (options.crossCheck && notReady === undefined) {
      const client = clientFor(grpcAddress);
      try {
        const stats = (await Promise.all(models.map((m) => client.modelStatistics(m)))).flat();
        for (const finding of crossCheckStatistics(scraped.m.models, stats))
          options.onReplicaProblem?.(e.replica, `cross-check: ${finding}`);
      } catch (err) {
        options.onReplicaProblem?.(e.replica, `cross-check: ${(err as Error).message}`);
      }
    }
    const base = {
      replica: e.replica,
      t,
      phase: notReady === undefined ? "ready" : "loading",
      models: scraped.m.models,
    } as const;
    return scraped.m.gpuUtilization === undefined
      ? base
      : { ...base, gpuUtilization: scraped.m.gpuUtilization };
  }

  return {
    async collect(policy: Policy, now: number): Promise<PoolScrape> {
      const t0 = performance.now();
      const endpoints = await options.discover(policy);
      const models = poolModelNames(policy);
      const key = `${policy.metadata.namespace}/${policy.metadata.name}`;
      usedBy.set(
        key,
        new Set(
          check || options.crossCheck ? endpoints.map((e) => hostPort(e.host, e.grpcPort)) : [],
        ),
      );
      const replicas = await Promise.all(endpoints.map((e) => scrapeOne(e, models, now, t0)));
      prune();
      return { t: now + (performance.now() - t0) / 1000, replicas };
    },
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
      usedBy.clear();
      agent.destroy();
    },
  };
}
