import type { KubeConfig } from "@kubernetes/client-node";
import { type ControllerOptions, runController } from "../../controller/cli/controller.js";
import type { Serving } from "../../controller/cli/serve.js";
import type { TritonPod } from "../../controller/kube/pods.js";
import type { Clock } from "../../controller/loop/ports.js";
import type { TritonEndpoint } from "../../controller/triton/index.js";
import type { FakeKube } from "./fake-kube/index.js";
import { type Captured, capture } from "./io.js";
import type { KedaStandin, Poll, StandinRef } from "./keda-standin.js";
import { until } from "./until.js";

/**
 * Shared helpers of the `tritonscale controller` end-to-end tests (test/integration/
 * controller*.test.ts): a Triton pod as the kubelet reports it, a controller started in
 * process on ports 0 against the fake API server, KEDA-style polling until a condition,
 * and readers of the decision log and of a ModelPool's status. Small and stable: other
 * scenario files build on it.
 */

/** A JSON object, as the fake API server stores it. */
export type Json = Record<string, unknown>;

/** How much faster than the wall clock the tests' clock runs: a 15 s sync period is 0.25 s. */
export const SPEED = 60;

/** What {@link tritonPod} can vary. */
export interface TritonPodOptions {
  /** @default "vision" */
  readonly namespace?: string;
  /** The pool (label `tritonscale.dev/pool`). @default "yolo" */
  readonly pool?: string;
  /** @default "on-demand" */
  readonly capacityType?: "spot" | "on-demand";
  /**
   * `ready`: Running and Ready; `starting`: on a node, not Ready; `pending`: not scheduled
   * (no node, PodScheduled False, reason Unschedulable); `terminating`: Ready but with a
   * deletionTimestamp (its node is being reclaimed). @default "ready"
   */
  readonly state?: "ready" | "starting" | "pending" | "terminating";
  /** @default now */
  readonly creationTimestamp?: string;
}

/** A Triton pod of a pool (default vision/yolo), as the kubelet would report it. */
export function tritonPod(name: string, options: TritonPodOptions = {}): Json {
  const state = options.state ?? "ready";
  const pool = options.pool ?? "yolo";
  const scheduled = state !== "pending";
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: options.namespace ?? "vision",
      uid: `uid-${name}`,
      labels: {
        "app.kubernetes.io/name": "triton",
        "app.kubernetes.io/instance": pool,
        "tritonscale.dev/pool": pool,
        "tritonscale.dev/capacity-type": options.capacityType ?? "on-demand",
      },
      creationTimestamp: options.creationTimestamp ?? new Date().toISOString(),
      ...(state === "terminating" ? { deletionTimestamp: new Date().toISOString() } : {}),
    },
    spec: {
      ...(scheduled ? { nodeName: `gpu-node-${name}` } : {}),
      containers: [{ name: "triton", image: "triton" }],
    },
    status: scheduled
      ? {
          phase: "Running",
          podIP: "127.0.0.1",
          conditions: [
            { type: "PodScheduled", status: "True" },
            { type: "Ready", status: state === "starting" ? "False" : "True" },
          ],
        }
      : {
          phase: "Pending",
          conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }],
        },
  };
}

/** What {@link startController} needs. */
export interface StartControllerOptions {
  /** The cluster: the fake API server's kubeconfig, usually `fake.kubeConfig("vision")`. */
  readonly kubeConfig: KubeConfig;
  readonly clock: Clock;
  /** Where a Triton pod is reached: a stand-in's endpoint. */
  readonly tritonEndpoint: (pod: TritonPod) => TritonEndpoint;
  /** Further command-line arguments (ports are 0 already). @default none */
  readonly args?: readonly string[];
  /** @default "controller-0" */
  readonly identity?: string;
  /** Lease timing, for leader-election scenarios. @default the controller's */
  readonly leaseTiming?: {
    readonly leaseDurationSeconds: number;
    readonly renewDeadlineSeconds: number;
    readonly retryPeriodSeconds: number;
  };
  /** Seconds between scans of --pools, on the clock. @default the controller's */
  readonly poolScanSeconds?: number;
  /** Creates the pools' scalers (e.g. one with a learned history). @default the registry's */
  readonly createScaler?: ControllerOptions["createScaler"];
  /** Seconds between saves of the learned histories, on the clock. @default the controller's */
  readonly historySaveSeconds?: number;
}

/** A controller running in process. */
export interface RunningController {
  readonly io: Captured;
  /** Aborting it is the SIGTERM. */
  readonly stop: AbortController;
  /** Resolves with the exit code. */
  readonly exit: Promise<number>;
  readonly serving: Serving;
  /** `http://127.0.0.1:<port>` of the metrics and health servers. */
  readonly metricsUrl: string;
  readonly healthUrl: string;
  /** The `"msg":"decision"` log lines so far, parsed. */
  decisions(): DecisionLine[];
}

/** One decision log line (controller/cli/controller.ts `decisionLog`). */
export interface DecisionLine {
  readonly pool: string;
  readonly class: string;
  readonly desired: { readonly spot: number; readonly onDemand: number };
  readonly ready: { readonly spot: number; readonly onDemand: number };
  readonly active: boolean;
  readonly held: boolean;
  readonly reason: string;
  /** The decision's terms, when its scaler gives any. */
  readonly terms?: Readonly<Record<string, number>>;
}

/**
 * Starts `tritonscale controller` in process with every port 0 on 127.0.0.1; resolves once
 * it serves (rejects with its stderr if it exits first).
 */
export async function startController(options: StartControllerOptions): Promise<RunningController> {
  const io = capture();
  const stop = new AbortController();
  let serving: Serving | undefined;
  let exited = false;
  const exit = runController(
    ["--metrics-port", "0", "--health-port", "0", "--grpc-port", "0", ...(options.args ?? [])],
    io.io,
    {
      kubeConfig: options.kubeConfig,
      host: "127.0.0.1",
      clock: options.clock,
      signal: stop.signal,
      identity: options.identity ?? "controller-0",
      tritonEndpoint: options.tritonEndpoint,
      ...(options.leaseTiming === undefined ? {} : { leaseTiming: options.leaseTiming }),
      ...(options.poolScanSeconds === undefined
        ? {}
        : { poolScanSeconds: options.poolScanSeconds }),
      ...(options.createScaler === undefined ? {} : { createScaler: options.createScaler }),
      ...(options.historySaveSeconds === undefined
        ? {}
        : { historySaveSeconds: options.historySaveSeconds }),
      onServing: (s) => {
        serving = s;
      },
    },
  ).finally(() => {
    exited = true;
  });
  await until(() => serving !== undefined || exited, 10, "the controller serving");
  if (serving === undefined) {
    throw new Error(`controller did not start (exit ${await exit}): ${io.err()}${io.out()}`);
  }
  const s = serving as Serving;
  return {
    io,
    stop,
    exit,
    serving: s,
    metricsUrl: `http://127.0.0.1:${s.metricsPort}`,
    healthUrl: `http://127.0.0.1:${s.healthPort}`,
    decisions: () => decisionLines(io.out()),
  };
}

/** The decision lines of a controller's stdout, parsed. */
export function decisionLines(out: string): DecisionLine[] {
  return out
    .split("\n")
    .filter((l) => l.includes('"msg":"decision"'))
    .map((l) => JSON.parse(l) as DecisionLine);
}

/**
 * Polls as KEDA does (GetMetricSpec, GetMetrics, IsActive) until `done` holds or `seconds`
 * of wall time pass; returns the last poll (the caller asserts on it). A poll before the
 * pool's first decision is refused (UNAVAILABLE): polled again.
 */
export async function pollUntil(
  keda: KedaStandin,
  ref: StandinRef,
  done: (p: Poll) => boolean,
  seconds: number,
): Promise<Poll> {
  const end = Date.now() + seconds * 1000;
  let last: Poll | undefined;
  let error: unknown;
  while (Date.now() < end) {
    try {
      last = await keda.poll(ref);
      if (done(last)) return last;
    } catch (e) {
      error = e;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  if (last === undefined) throw new Error(`KEDA never got an answer: ${String(error)}`);
  return last;
}

/** A ModelPool's status in the fake API server (undefined before the first write). */
export function poolStatus(fake: FakeKube, namespace: string, name: string): Json | undefined {
  return fake.get("tritonscale.dev/v1alpha1", "ModelPool", namespace, name)?.status as
    | Json
    | undefined;
}

/** Whether a status carries a condition of `type` with `status`. */
export function hasCondition(
  status: Json | undefined,
  type: string,
  value: "True" | "False",
): boolean {
  return ((status?.conditions ?? []) as Json[]).some((c) => c.type === type && c.status === value);
}
