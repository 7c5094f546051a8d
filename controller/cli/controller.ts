import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { KubeConfig } from "@kubernetes/client-node";
import type { Problem } from "../diagnostics/problem.js";
import { formatProblem } from "../diagnostics/problem.js";
import { createCronScheduler } from "../io/cron-scheduler.js";
import { readKedaTls, watchKedaTls } from "../keda/tls.js";
import { createObjectClient } from "../kube/apply.js";
import { reuseConnections } from "../kube/connections.js";
import { createKubeEdge, type KubeEdge } from "../kube/edge.js";
import { ConfigMapHistoryStore } from "../kube/history-configmap.js";
import { FileHistoryStore } from "../kube/history-files.js";
import { PoolPods, TRITON_PORTS, type TritonPod } from "../kube/pods.js";
import { type Log, PoolApplier } from "../kube/pool-applier.js";
import { PoolFiles } from "../kube/pool-files.js";
import type { PoolHandler, PoolObjectMeta, PoolSource } from "../kube/pool-source.js";
import { appliedCondition } from "../kube/pool-status.js";
import { createSystemClock } from "../loop/clock.js";
import type { HistoryOutcome, HistoryStore } from "../loop/history.js";
import type { LoopOptions } from "../loop/loop.js";
import type { Clock, DecisionSink, PoolDecision, PoolRef } from "../loop/ports.js";
import { poolKey } from "../loop/ports.js";
import { DEFAULT_HEALTH_PORT, DEFAULT_METRICS_PORT } from "../metrics/index.js";
import { classifyDecision } from "../metrics/reason-class.js";
import type { Policy } from "../policy/index.js";
import { createPoolMetricsSource, type TritonEndpoint } from "../triton/index.js";
import { createPrometheusRateHistory } from "../triton/prometheus-history.js";
import { checkOutputPath } from "../util/output-path.js";
import { flagNumber } from "./flags.js";
import { shippedTemplates } from "./inputs.js";
import {
  type CommandIO,
  ExitCode,
  inputsOf,
  oneLineCommandLine,
  oneLineUsageError,
  printProblems,
  processIO,
} from "./io.js";
import { DEFAULT_GRPC_PORT, type Serving, startServing } from "./serve.js";

const HELP = `Usage: tritonscale controller [options]

Runs ModelPools live on Kubernetes. For each pool it:
- applies the pool's objects with server-side apply (field manager tritonscale) and prunes
  the ones a new render drops;
- every scaling.syncPeriod, scrapes the pool's Triton pods (or Prometheus, per
  spec.monitoring.source), decides with the pool's scaler, and answers KEDA's external
  scaler calls with that decision;
- exports its metrics on /metrics and writes the decision into the ModelPool's status.

Pools come from ModelPool custom resources (watched in every namespace, or the
--namespace ones), or from a folder of pool files (--pools DIR: no custom resources, no
status and no Lease: run one instance; decisions are in the logs and at /status on the
health port). Logs are JSON, one line per decision and per apply, on stdout.

Options:
  --kubeconfig <file>     kubeconfig to use (default: in-cluster, else $KUBECONFIG or
                          ~/.kube/config)
  --namespace <ns>        watch only ModelPools and pods in this namespace (repeatable,
                          each namespace once; default: all)
  --pools <dir>           run the pool files in <dir> (*.yaml, re-read every 5 s) instead
                          of ModelPool custom resources
  --history-dir <dir>     with --pools: keep the scalers' learned histories in <dir> (one
                          file per pool), so a restart continues from them (with custom
                          resources they are kept in a ConfigMap per pool)
  --metrics-port <p>      port of /metrics (default: ${DEFAULT_METRICS_PORT})
  --health-port <p>       port of /healthz, /readyz and /status (default: ${DEFAULT_HEALTH_PORT})
  --grpc-port <p>         port of the KEDA external scaler (default: ${DEFAULT_GRPC_PORT}, where
                          rendered ScaledObjects point)
  --leader-elect          elect one acting replica through a coordination.k8s.io Lease
                          (run two replicas with it; the others stand by)
  --tls-cert <file>       serve the KEDA external scaler over TLS with this certificate...
  --tls-key <file>        ...and key (PEM)
  --client-ca <file>      and require client certificates signed by this CA (mutual TLS)
  --dry-run               decide, serve and log, but apply, prune and write nothing (no
                          status, no Events; not with --leader-elect)
  -h, --help              show this help

Environment: POD_NAME names this replica (Lease holder, Event source; default: the host
name); POD_NAMESPACE is the Lease's namespace (default: tritonscale-system).

Stops on SIGTERM or SIGINT: readiness fails, the reconcile in progress finishes, the
Lease is released. Exit code 0 when stopped, 1 when a file, a folder or a port is
unusable or no cluster is configured, 2 for a bad command line.
`;

/** The options of `tritonscale controller` (node:util parseArgs), as --help lists them. */
export const CONTROLLER_OPTIONS = {
  kubeconfig: { type: "string" },
  namespace: { type: "string", multiple: true },
  pools: { type: "string" },
  "history-dir": { type: "string" },
  "metrics-port": { type: "string" },
  "health-port": { type: "string" },
  "grpc-port": { type: "string" },
  "leader-elect": { type: "boolean" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "client-ca": { type: "string" },
  "dry-run": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The environment variables `controller` reads (the Deployment sets them by the downward API). */
export const CONTROLLER_ENV = { podName: "POD_NAME", podNamespace: "POD_NAMESPACE" } as const;

/** `controller --help`. */
export const CONTROLLER_HELP = HELP;

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    tokens: true,
    options: CONTROLLER_OPTIONS,
  });
}

/** A Kubernetes namespace name: a DNS-1123 label. */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * What is wrong with the options beyond their syntax: a flag that takes one value given
 * twice (parseArgs would keep the last one silently), a --namespace that is not a namespace
 * name or is given twice.
 */
function checkRepeats(args: ReturnType<typeof parse>): string | undefined {
  const seen = new Set<string>();
  for (const t of args.tokens ?? []) {
    if (t.kind !== "option" || t.name === "namespace" || t.name === "help") continue;
    if (seen.has(t.name)) {
      return `--${t.name} is given twice; give it once${t.value === undefined ? "" : " (the value is not repeatable)"}`;
    }
    seen.add(t.name);
  }
  const namespaces = new Set<string>();
  for (const ns of args.values.namespace ?? []) {
    if (!NAMESPACE_NAME.test(ns)) {
      return `--namespace ${JSON.stringify(ns)} is not a namespace name (lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit)`;
    }
    if (namespaces.has(ns)) return `--namespace ${ns} is given twice`;
    namespaces.add(ns);
  }
  return undefined;
}

/** Where `controller` runs; tests pass their own. */
export interface ControllerOptions {
  /** Stops the controller when aborted. @default SIGINT and SIGTERM */
  readonly signal?: AbortSignal;
  /** The cluster (tests: the fake API server). @default from --kubeconfig or the default places */
  readonly kubeConfig?: KubeConfig;
  /** Host the servers listen on. @default every interface */
  readonly host?: string;
  /** This replica's name. @default $POD_NAME, else the host name */
  readonly identity?: string;
  /** Lease timing (tests shorten it). @default client-go's 15 s / 10 s / 2 s */
  readonly leaseTiming?: {
    readonly leaseDurationSeconds: number;
    readonly renewDeadlineSeconds: number;
    readonly retryPeriodSeconds: number;
  };
  /** The loop's clock (tests: an accelerated one). @default the system clock */
  readonly clock?: Clock;
  /** Where a Triton pod is reached (tests: a stand-in). @default its IP and Triton's ports */
  readonly tritonEndpoint?: (pod: TritonPod) => TritonEndpoint;
  /** Seconds between scans of --pools. @default 5 */
  readonly poolScanSeconds?: number;
  /** Seconds between re-reads of --tls-cert/--tls-key/--client-ca. @default 60 */
  readonly tlsReloadSeconds?: number;
  /** Told the ports bound, once serving (tests use port 0). */
  readonly onServing?: (s: Serving) => void;
  /** Creates the pools' scalers (tests inject one). @default the registry's */
  readonly createScaler?: LoopOptions["createScaler"];
  /**
   * Seconds between saves of the learned histories, on the clock.
   * @default DEFAULT_HISTORY_SAVE_SECONDS (300)
   */
  readonly historySaveSeconds?: number;
}

function createLog(io: CommandIO): Log {
  return (level, msg, fields = {}) => {
    io.stdout.write(
      `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`,
    );
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The decision log: one line per decision, with the pool and the reason. */
function decisionLog(log: Log): DecisionSink {
  return {
    publish(d: PoolDecision) {
      const r = d.snapshot.replicas;
      log("info", "decision", {
        pool: poolKey(d.pool),
        scaler: d.scaler,
        class: classifyDecision(d),
        desired: d.decision.desired,
        previous: d.previous,
        ready: r.ready,
        starting: r.starting,
        pending: r.pending,
        active: d.decision.active,
        held: d.decision.held,
        arrivalRate: d.snapshot.arrivalRate?.value,
        reason: d.decision.reason,
        ...(d.decision.terms === undefined ? {} : { terms: d.decision.terms }),
      });
    },
  };
}

/** The history log: one line per load, save and rebuild of a scaler's learned history. */
function historyLog(log: Log): (o: HistoryOutcome) => void {
  return (o) => {
    log(o.result === "error" || o.result === "rejected" ? "warn" : "info", "history", {
      pool: poolKey(o.pool),
      operation: o.operation,
      source: o.source,
      result: o.result,
      ...(o.detail === undefined ? {} : { detail: o.detail }),
    });
  };
}

function noCluster(message: string): Problem[] {
  return [{ file: "kubeconfig", line: 0, col: 0, path: "", message }];
}

/**
 * The cluster: --kubeconfig's text (through the one input reader); else in a pod its
 * service account; else $KUBECONFIG; else ~/.kube/config. Never the client library's last
 * resort, http://localhost:8080, which would only fail later and over and over.
 */
async function loadKubeConfig(
  io: CommandIO,
  flag: string | undefined,
): Promise<KubeConfig | Problem[]> {
  const kc = new KubeConfig();
  const fromText = async (file: string): Promise<Problem[] | undefined> => {
    const r = await inputsOf(io).readText(file);
    if (!r.ok) return [...r.problems];
    const expected = "expected a YAML mapping with clusters, contexts and users";
    if (r.input.text.trim() === "") {
      return [{ file, line: 0, col: 0, path: "", message: `the file is empty; ${expected}` }];
    }
    try {
      kc.loadFromString(r.input.text);
    } catch (e) {
      // The YAML parser's first line (where and what); a TypeError of the library's own
      // code (a document that is not a mapping) says nothing a user can act on.
      const why = e instanceof TypeError ? "" : `${errorText(e).split("\n", 1)[0]}; `;
      return [{ file, line: 0, col: 0, path: "", message: `not a kubeconfig: ${why}${expected}` }];
    }
    if (kc.getCurrentCluster() === null) {
      return [
        {
          file,
          line: 0,
          col: 0,
          path: "",
          message: `not a kubeconfig: its current context names no cluster (${kc.getContexts().length} contexts, ${kc.getClusters().length} clusters)`,
        },
      ];
    }
    return undefined;
  };
  if (flag !== undefined) return (await fromText(flag)) ?? kc;
  try {
    if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else if (process.env.KUBECONFIG) kc.loadFromDefault();
    else {
      const file = join(homedir(), ".kube", "config");
      const problems = await fromText(file);
      if (problems === undefined) return kc;
      const why = problems.map((p) => `${p.file}: ${p.message}`).join("; ");
      return noCluster(
        `no Kubernetes cluster configured: not in a pod, $KUBECONFIG is not set, and ${why}; pass --kubeconfig (to try tritonscale without a cluster: tritonscale demo)`,
      );
    }
  } catch (e) {
    return noCluster(`cannot load the cluster's configuration: ${errorText(e)}`);
  }
  if (kc.getCurrentCluster() === null) {
    return noCluster(
      `$KUBECONFIG (${process.env.KUBECONFIG}) names no cluster in its current context; pass --kubeconfig`,
    );
  }
  return kc;
}

/**
 * The one line for a port that cannot be bound, naming the flag(s) whose port it is:
 * `--health-port 8081 is taken (listen EADDRINUSE: ...); another process listens there
 * (0 picks a free port)`.
 */
export function servingError(text: string, ports: Readonly<Record<string, number>>): string {
  const firstLine = text.split("\n", 1)[0]!;
  const why = /EADDRINUSE/.test(firstLine)
    ? "is taken: another process listens there (0 picks a free port)"
    : /EACCES/.test(firstLine)
      ? "needs privileges this process lacks (ports below 1024 do without root; use 1024 or above)"
      : /EADDRNOTAVAIL/.test(firstLine)
        ? "cannot be bound on this host's addresses"
        : undefined;
  if (why === undefined) return firstLine;
  const mentioned = new Set([...firstLine.matchAll(/:(\d+)\b/g)].map((m) => Number(m[1])));
  const flags = Object.entries(ports)
    .filter(([, p]) => p !== 0 && mentioned.has(p))
    .map(([flag, p]) => `--${flag} ${p}`);
  const named =
    flags.length > 0
      ? flags.join(" and ")
      : "a port of --metrics-port, --health-port or --grpc-port";
  return `${named} ${why} (${firstLine})`;
}

let grpcLoggerQuieted = false;

/**
 * grpc-js logs "E No address added out of total 1 resolved" to stderr when the KEDA port
 * cannot be bound, besides rejecting with the cause, which the command prints as its one
 * line; this drops that duplicate and keeps everything else grpc-js says as it says it.
 */
function quietGrpcBindErrors(): void {
  if (grpcLoggerQuieted) return;
  grpcLoggerQuieted = true;
  grpc.setLogger({
    error: (message?: unknown, ...rest: unknown[]) => {
      if (String(message).startsWith("No address added out of total")) return;
      console.error(`E ${String(message)}`, ...rest);
    },
    info: (message?: unknown, ...rest: unknown[]) => console.error(`I ${String(message)}`, ...rest),
    debug: (message?: unknown, ...rest: unknown[]) =>
      console.error(`D ${String(message)}`, ...rest),
  });
}

/** `tritonscale controller`. */
export async function runController(
  argv: readonly string[],
  io: CommandIO = processIO,
  options: ControllerOptions = {},
): Promise<number> {
  const args = oneLineCommandLine(io, "controller", HELP, argv, parse);
  if (typeof args === "number") return args;
  const { values } = args;
  const repeated = checkRepeats(args);
  if (repeated !== undefined) return oneLineUsageError(io, "controller", repeated);
  const defaults = {
    "metrics-port": DEFAULT_METRICS_PORT,
    "health-port": DEFAULT_HEALTH_PORT,
    "grpc-port": DEFAULT_GRPC_PORT,
  };
  const ports: Record<string, number> = {};
  for (const flag of ["metrics-port", "health-port", "grpc-port"] as const) {
    const p = flagNumber(flag, values[flag], defaults[flag], { integer: true, min: 0, max: 65535 });
    if (typeof p === "string") return oneLineUsageError(io, "controller", p);
    ports[flag] = p;
  }
  const poolsDir = values.pools;
  const leaderElect = values["leader-elect"] ?? false;
  if (poolsDir !== undefined && leaderElect) {
    return oneLineUsageError(
      io,
      "controller",
      "--pools and --leader-elect do not go together: pool files have no status to hand over; run one instance",
    );
  }
  const historyDir = values["history-dir"];
  if (historyDir !== undefined && poolsDir === undefined) {
    return oneLineUsageError(
      io,
      "controller",
      "--history-dir goes with --pools: with ModelPool custom resources the histories are kept in a ConfigMap per pool",
    );
  }
  // A folder the histories cannot be written to is said now, not at the first save.
  const historyDirProblem =
    historyDir === undefined ? undefined : checkOutputPath(historyDir, "directory");
  if (historyDirProblem !== undefined) {
    printProblems(io, [historyDirProblem]);
    return ExitCode.Problems;
  }
  const dryRun = values["dry-run"] ?? false;
  if (dryRun && leaderElect) {
    return oneLineUsageError(
      io,
      "controller",
      "--dry-run and --leader-elect do not go together: a dry run would take the Lease from the controller that acts",
    );
  }
  const namespaces = values.namespace ?? [];

  const inputs = inputsOf(io);
  const tlsFiles = {
    ...(values["tls-cert"] === undefined ? {} : { tlsCert: values["tls-cert"] }),
    ...(values["tls-key"] === undefined ? {} : { tlsKey: values["tls-key"] }),
    ...(values["client-ca"] === undefined ? {} : { clientCa: values["client-ca"] }),
  };
  const tls = await readKedaTls(tlsFiles, inputs);
  if (!tls.ok) {
    // A flag without its partner is a bad command line; an unreadable file, bad input.
    const flag = tls.problems.find((p) => p.file === "");
    if (flag !== undefined)
      return oneLineUsageError(io, "controller", `${flag.path} ${flag.message}`);
    printProblems(io, tls.problems);
    return ExitCode.Problems;
  }
  if (poolsDir !== undefined) {
    // Checked once here, so a typo stops at once; later, a folder that vanishes for a
    // moment (a ConfigMap update) keeps its pools (kube/pool-files.ts).
    const kind = await inputs.kind(poolsDir);
    if (kind !== "directory") {
      printProblems(io, [
        {
          file: poolsDir,
          line: 0,
          col: 0,
          path: "",
          message: `cannot read: ${kind === "missing" ? "no such directory" : "not a directory"} (--pools names a folder of ModelPool files)`,
        },
      ]);
      return ExitCode.Problems;
    }
  }
  const loaded = options.kubeConfig ?? (await loadKubeConfig(io, values.kubeconfig));
  if (Array.isArray(loaded)) {
    printProblems(io, loaded);
    return ExitCode.Problems;
  }
  // One keep-alive agent per TLS identity, not a new connection per request (client-node 1.4.0).
  const kc = reuseConnections(loaded);

  const log = createLog(io);
  const clock = options.clock ?? createSystemClock();
  const identity = options.identity ?? (process.env[CONTROLLER_ENV.podName] || hostname());
  const pods = new PoolPods(kc, {
    namespaces,
    clock,
    onError: (ns, e, delay) =>
      log("warn", "watching pods failed", {
        namespace: ns ?? "*",
        error: errorText(e),
        retryInSeconds: Math.round(delay * 10) / 10,
      }),
  });
  const frontDoorProblems = new Map<string, string>();
  const metricsSource = createPoolMetricsSource({
    frontDoor: {
      onProblem: (policy, message) => {
        const key = `${policy.metadata.namespace}/${policy.metadata.name}`;
        if (frontDoorProblems.get(key) === message) return; // said once until it changes
        frontDoorProblems.set(key, message);
        log("warn", "front door", { pool: key, message });
      },
    },
    scrape: {
      discover: async (policy) =>
        pods.tritonPods(policy).map(
          (p) =>
            options.tritonEndpoint?.(p) ?? {
              replica: p.replica,
              host: p.host,
              metricsPort: TRITON_PORTS.metrics,
              grpcPort: TRITON_PORTS.grpc,
            },
        ),
      onReplicaProblem: (replica, message) => log("warn", "replica", { replica, message }),
    },
  });

  // Filled in below; the handler runs only after both exist.
  let serving: Serving | undefined;
  let edge: KubeEdge | undefined;
  const isLeader = (): boolean => edge?.isLeader() ?? true;
  const applier = new PoolApplier(createObjectClient(kc), {
    dryRun,
    canAct: isLeader,
    clock,
    log,
    onApplied: (ref, r) => {
      if (edge === undefined) return;
      const condition = appliedCondition(
        "error" in r ? { error: r.error } : { objects: r.applied.length },
      );
      edge.status
        .setCondition(ref, condition)
        .catch((e: unknown) =>
          log("warn", "writing status failed", { pool: poolKey(ref), error: errorText(e) }),
        );
    },
  });
  // The scalers' learned histories: a ConfigMap per pool (custom resources), a file per
  // pool (--pools with --history-dir), or none; rebuilt from Prometheus when none is stored.
  const configMaps = poolsDir === undefined ? ConfigMapHistoryStore.fromKubeConfig(kc) : undefined;
  const historyStore: HistoryStore | undefined =
    configMaps ?? (historyDir === undefined ? undefined : new FileHistoryStore(historyDir, inputs));
  const handler: PoolHandler = {
    added: (ref, policy, meta) => run(ref, policy, meta, "added"),
    changed: (ref, policy, meta) => run(ref, policy, meta, "changed"),
    invalid(ref, problems, meta) {
      log("warn", "invalid pool: nothing applied", {
        pool: poolKey(ref),
        origin: meta.origin,
        problems: problems.slice(0, 20).map(formatProblem),
        ...(problems.length > 20 ? { more: problems.length - 20 } : {}),
      });
    },
    removed(ref) {
      log("info", "pool removed", { pool: poolKey(ref) });
      configMaps?.setOwner(ref, undefined);
      void serving?.removePool(ref);
      // A custom resource's namespaced objects go with it (owner references); pruning here
      // catches the cluster-scoped ones and, for pool files, everything.
      void applier.remove(ref, true);
    },
  };
  function run(ref: PoolRef, policy: Policy, meta: PoolObjectMeta, what: string): void {
    log("info", `pool ${what}`, { pool: poolKey(ref), origin: meta.origin });
    configMaps?.setOwner(ref, meta.uid);
    if (serving?.setPool(policy) === false) return;
    applier.set(ref, policy, meta);
  }

  const parseOptions = { templates: shippedTemplates() };
  const scheduler = createCronScheduler();
  let source: PoolSource;
  if (poolsDir !== undefined) {
    source = new PoolFiles({
      dir: poolsDir,
      reader: inputs,
      handler,
      clock,
      parseOptions,
      ...(options.poolScanSeconds === undefined
        ? {}
        : { intervalSeconds: options.poolScanSeconds }),
      onProblems: (problems) =>
        log("warn", "pool files", { problems: problems.slice(0, 20).map(formatProblem) }),
    });
  } else {
    edge = createKubeEdge({
      kc,
      clock,
      identity,
      leaderElect,
      readOnly: dryRun,
      ...(process.env[CONTROLLER_ENV.podNamespace]
        ? { leaseNamespace: process.env[CONTROLLER_ENV.podNamespace] }
        : {}),
      ...(options.leaseTiming === undefined ? {} : { leaseTiming: options.leaseTiming }),
      ...(namespaces.length > 0 ? { namespaces } : {}),
      handler,
      parseOptions,
      onLeaderChange: (leader, why) => {
        serving?.metrics.setLeader(leader);
        log("info", leader ? "leading" : "not leading", { identity, why });
        if (leader) {
          applier.resync();
          // Continue what the last leader saved with what this replica learned after it.
          serving?.loop.restoreHistory();
        }
      },
      onError: (what, pool, e) =>
        log("warn", `${what} failed`, {
          ...(pool ? { pool: poolKey(pool) } : {}),
          error: errorText(e),
        }),
    });
    source = edge.pools;
  }

  quietGrpcBindErrors();
  try {
    serving = await startServing({
      metrics: metricsSource,
      cluster: pods,
      clock,
      scheduler,
      sinks: [decisionLog(log), ...(edge && !dryRun ? [edge.status] : [])],
      history: {
        ...(historyStore === undefined ? {} : { store: historyStore }),
        rates: createPrometheusRateHistory(),
        maySave: () => !dryRun && isLeader(),
      },
      loop: {
        onHistory: historyLog(log),
        ...(options.createScaler === undefined ? {} : { createScaler: options.createScaler }),
        ...(options.historySaveSeconds === undefined
          ? {}
          : { historySaveSeconds: options.historySaveSeconds }),
      },
      ...(options.host === undefined ? {} : { host: options.host }),
      metricsPort: ports["metrics-port"]!,
      healthPort: ports["health-port"]!,
      grpcPort: ports["grpc-port"]!,
      ...(tls.tls === undefined ? {} : { tls: tls.tls }),
      isLeader,
      status: poolsDir !== undefined,
      version: "controller",
      onEvent: (e) => log("warn", e.kind, { ...e, pool: poolKey(e.pool) }),
    });
  } catch (e) {
    io.stderr.write(`tritonscale controller: cannot serve: ${servingError(errorText(e), ports)}\n`);
    metricsSource.close();
    return ExitCode.Problems;
  }
  serving.metrics.setLeader(edge === undefined || !leaderElect);
  options.onServing?.(serving);
  log("info", "serving", {
    identity,
    pools: poolsDir ?? "ModelPool custom resources",
    namespaces: namespaces.length > 0 ? namespaces : "all",
    metricsPort: serving.metricsPort,
    healthPort: serving.healthPort,
    grpcPort: serving.grpcPort,
    tls: tls.tls === undefined ? "off" : tls.tls.clientCa ? "mutual" : "on",
    leaderElect,
    dryRun,
  });

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  // Renewed certificates (cert-manager rotates the Secret; the kubelet updates the mounted
  // files) are served to new connections without a restart; unreadable ones keep the old.
  const reloading =
    tls.tls === undefined
      ? Promise.resolve()
      : watchKedaTls({
          files: tlsFiles,
          reader: inputs,
          clock,
          intervalSeconds: options.tlsReloadSeconds ?? 60,
          signal: stop.signal,
          current: tls.tls,
          update: (next) => serving?.updateTls(next),
          onReloaded: () => log("info", "TLS certificate reloaded", { cert: values["tls-cert"] }),
          onFailed: (why) =>
            log("warn", "TLS certificate not reloaded: serving the previous one", { error: why }),
        });
  const external = options.signal;
  if (external?.aborted) onSignal();
  else if (external) external.addEventListener("abort", onSignal, { once: true });
  else {
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }
  // Ready (/readyz) only once the pods and the pools have been listed: each start resolves
  // only when its list succeeded (kube/informer-restart.ts), however many restarts that
  // takes, or when stopped. It runs beside the wait for the signal, so that a controller
  // whose API server is down at start still stops on SIGTERM.
  let startFailure: { error: unknown } | undefined;
  const starting = (async () => {
    await pods.start();
    if (stop.signal.aborted) return;
    // The edge starts the leader election too (and says "leading" without one), then its
    // pool informer.
    await (edge ?? source).start();
    if (!stop.signal.aborted) serving.markSynced();
  })().catch((e: unknown) => {
    startFailure = { error: e };
    stop.abort();
  });
  try {
    if (!stop.signal.aborted) {
      await new Promise<void>((resolve) =>
        stop.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
    }
  } finally {
    external?.removeEventListener("abort", onSignal);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    log("info", "stopping");
    stop.abort();
    await reloading;
    await source.stop();
    await serving.close();
    applier.stop();
    await applier.idle();
    await edge?.stop();
    await pods.stop();
    await starting;
    metricsSource.close();
    log("info", "stopped");
  }
  if (startFailure !== undefined) throw startFailure.error;
  return ExitCode.Ok;
}
