import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

/** A free loopback TCP port (closed again before it is returned). */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** One scrape target of {@link startPrometheus}: a URL (host:port and path) and target labels. */
export interface PromTarget {
  /** `host:port` of the endpoint. */
  readonly address: string;
  readonly path: string;
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Keep scraped labels that clash with target labels as written (true), or rename them
   * `exported_<label>` as prometheus-operator's default does (false; scraped in a second
   * job, `<job>-renamed`). @default true
   */
  readonly honorLabels?: boolean;
}

/** One sample of an instant query's vector. */
export interface QuerySample {
  readonly metric: Readonly<Record<string, string>>;
  /** Prometheus's value string: `"1.5"`, `"NaN"`, `"+Inf"`. */
  readonly value: string;
}

/** A target as `/api/v1/targets` reports it. */
export interface TargetState {
  readonly scrapeUrl: string;
  readonly health: "up" | "down" | "unknown";
  readonly lastError: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A running Debian Prometheus (2.x) on loopback. */
export interface RunningPrometheus {
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  query(expr: string): Promise<QuerySample[]>;
  targets(): Promise<TargetState[]>;
  /** Polls `probe` every 200 ms until it returns no problem or `seconds` pass (then throws). */
  eventually(what: string, seconds: number, probe: () => Promise<string[]>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts `prometheus` scraping `targets` every second (one job, `honor_labels: true` so that
 * scraped labels are kept as written; targets with `honorLabels: false` in a second job), evaluating the rule file `rules` (YAML) when given,
 * and waits until it is ready.
 */
export async function startPrometheus(
  targets: readonly PromTarget[],
  job = "standin",
  rules?: string,
): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "tritonscale-prom-"));
  if (rules !== undefined) writeFileSync(join(dir, "rules.yaml"), rules);
  const config = {
    global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
    ...(rules === undefined ? {} : { rule_files: [join(dir, "rules.yaml")] }),
    scrape_configs: [true, false]
      .map((honor) => ({
        job_name: honor ? job : `${job}-renamed`,
        honor_labels: honor,
        static_configs: targets
          .filter((t) => (t.honorLabels ?? true) === honor)
          .map((t) => ({
            targets: [t.address],
            labels: { __metrics_path__: t.path, ...t.labels },
          })),
      }))
      .filter((j) => j.static_configs.length > 0),
  };
  writeFileSync(join(dir, "prometheus.yml"), stringify(config));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let stderr = "";
  const proc: ChildProcess = spawn(
    "prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=1h",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  proc.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });

  async function eventually(
    what: string,
    seconds: number,
    probe: () => Promise<string[]>,
  ): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    let problems: string[] = [];
    for (;;) {
      try {
        problems = await probe();
      } catch (e) {
        problems = [(e as Error).message];
      }
      if (problems.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${what}: not within ${seconds} s:\n  ${problems.slice(0, 20).join("\n  ")}\nprometheus stderr:\n${stderr.slice(-2000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function query(expr: string): Promise<QuerySample[]> {
    const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`, {
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: {
        resultType: string;
        result: { metric: Record<string, string>; value: [number, string] }[];
      };
    };
    if (body.status !== "success" || body.data?.resultType !== "vector")
      throw new Error(`query ${expr}: ${body.status} ${body.error ?? body.data?.resultType}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: r.value[1] }));
  }

  async function targetStates(): Promise<TargetState[]> {
    const t = (await (
      await fetch(`${base}/api/v1/targets`, { signal: AbortSignal.timeout(5000) })
    ).json()) as {
      data: { activeTargets: TargetState[] };
    };
    return t.data.activeTargets;
  }

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await eventually("Prometheus ready", 30, async () => {
      if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}`);
      const res = await fetch(`${base}/-/ready`, { signal: AbortSignal.timeout(2000) });
      return res.status === 200 ? [] : [`/-/ready: ${res.status}`];
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { base, query, targets: targetStates, eventually, stop };
}

/** A loopback HTTP server answering GET `path` with `texts.get(path)` (404 otherwise). */
export async function serveTexts(
  texts: ReadonlyMap<string, string>,
): Promise<{ address: string; server: Server }> {
  const server = createServer((req, res) => {
    const body = texts.get(req.url ?? "");
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * Scrape targets for Triton stand-ins as the pool's ServiceMonitor labels them: each pod's
 * `/metrics` with namespace, pod, container and the pool and capacity-type labels.
 */
export function standinTargets(
  pods: readonly { readonly pod: string; readonly capacityType: string }[],
  metricsPort: (pod: string) => number,
  pool: {
    readonly namespace: string;
    readonly name: string;
    readonly poolLabel: string;
    readonly capacityLabel: string;
  },
): PromTarget[] {
  return pods.map((p) => ({
    address: `127.0.0.1:${metricsPort(p.pod)}`,
    path: "/metrics",
    labels: {
      namespace: pool.namespace,
      pod: p.pod,
      container: "tritonserver",
      [pool.poolLabel]: pool.name,
      [pool.capacityLabel]: p.capacityType,
    },
  }));
}
