/**
 * The Kubernetes edge of `tritonscale controller` in one piece: leader election on the
 * Lease, the ModelPool informer, the status writer and the Event recorder, wired so that
 * only the leader writes status and Events, and a new leader rewrites every pool's status.
 * The rest of the controller (apply, the loop, KEDA, metrics) hears of pools through
 * `handler` and of leadership through `onLeaderChange`; the loop publishes its decisions to
 * `status` (a DecisionSink).
 *
 * Shutdown (SIGTERM): stop the loop and finish the reconcile first, then `stop()`: the
 * informer stops, then the elector stops acting and releases the Lease.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Clock, PoolRef } from "../loop/ports.js";
import type { ParseOptions } from "../policy/index.js";
import { createKubeEventClient, EventRecorder } from "./events.js";
import { CONTROLLER_NAMESPACE, LEADER_ELECTION_LEASE } from "./install/names.js";
import { type LeaderElectionOptions, LeaderElector } from "./leader-election.js";
import { createKubeLeaseClient } from "./lease-client.js";
import { createModelPoolInformerFactory, ModelPoolInformer } from "./pool-informer.js";
import type { PoolHandler } from "./pool-source.js";
import {
  createKubeStatusClient,
  ModelPoolStatusWriter,
  withStatusReporting,
} from "./pool-status.js";

/** Options of {@link createKubeEdge}. */
export interface KubeEdgeOptions {
  readonly kc: KubeConfig;
  readonly clock: Clock;
  /** This replica's name (the pod name, `POD_NAME`): the Lease holder and Event source. */
  readonly identity: string;
  /** Elect a leader (`--leader-elect`); without, this replica always acts. @default true */
  readonly leaderElect?: boolean;
  /** Namespace of the Lease (`POD_NAMESPACE`). @default {@link CONTROLLER_NAMESPACE} */
  readonly leaseNamespace?: string;
  /** @default {@link LEADER_ELECTION_LEASE} */
  readonly leaseName?: string;
  /** Lease timing; client-go's defaults (15 s / 10 s / 2 s) when absent. */
  readonly leaseTiming?: Pick<
    LeaderElectionOptions,
    "leaseDurationSeconds" | "renewDeadlineSeconds" | "retryPeriodSeconds"
  >;
  /** Write no status and record no Events (`--dry-run`). @default false */
  readonly readOnly?: boolean;
  /** Namespaces whose ModelPools to run (`--namespace`). @default all */
  readonly namespaces?: readonly string[];
  /** The rest of the controller: hears of every pool after its status is taken care of. */
  readonly handler: PoolHandler;
  /** Passed to the policy loader. */
  readonly parseOptions?: ParseOptions;
  /** Told when this replica starts (true) or stops (false) acting, with why. */
  readonly onLeaderChange?: (leader: boolean, why: string) => void;
  /** Told of every failed call of the edge (for logs), with what was being done. */
  readonly onError?: (what: string, pool: PoolRef | undefined, error: unknown) => void;
}

/** The running edge; see the module comment. */
export interface KubeEdge {
  /** Writes pools' status; publish the loop's decisions here. */
  readonly status: ModelPoolStatusWriter;
  /** Records Events on pools (already used by `status`). */
  readonly events: EventRecorder;
  /** The ModelPool source. */
  readonly pools: ModelPoolInformer;
  /** The elector, when electing. */
  readonly elector: LeaderElector | undefined;
  /** Whether this replica may act now (apply, write status, answer Ready). */
  isLeader(): boolean;
  /** Starts electing and watching; resolves once the pools are listed. */
  start(): Promise<void>;
  /** Stops watching, stops acting, releases the Lease. */
  stop(): Promise<void>;
}

/** Wires the Kubernetes edge; see the module comment. */
export function createKubeEdge(options: KubeEdgeOptions): KubeEdge {
  const { kc, clock, identity } = options;
  const report = options.onError ?? (() => undefined);
  const elector =
    options.leaderElect === false
      ? undefined
      : new LeaderElector({
          identity,
          clock,
          client: createKubeLeaseClient(
            kc,
            options.leaseNamespace ?? CONTROLLER_NAMESPACE,
            options.leaseName ?? LEADER_ELECTION_LEASE,
          ),
          ...options.leaseTiming,
          onStartedLeading: () => {
            void status.resync();
            options.onLeaderChange?.(true, "acquired the Lease");
          },
          onStoppedLeading: (why) => options.onLeaderChange?.(false, why),
          onError: (e) => report("leader election", undefined, e),
        });
  const isLeader = () => elector?.isLeader() ?? true;
  const events = new EventRecorder({
    client: createKubeEventClient(kc),
    clock,
    instance: identity,
    onError: (pool, e) => report("recording an Event", pool, e),
  });
  const status = new ModelPoolStatusWriter({
    client: createKubeStatusClient(kc),
    clock,
    events,
    canWrite: () => options.readOnly !== true && isLeader(),
    onError: (pool, e) => report("writing status", pool, e),
  });
  const pools = new ModelPoolInformer({
    createInformer: createModelPoolInformerFactory(kc),
    ...(options.namespaces ? { namespaces: options.namespaces } : {}),
    handler: withStatusReporting(status, options.handler, (pool, e) =>
      report("writing status", pool, e),
    ),
    clock,
    ...(options.parseOptions ? { parseOptions: options.parseOptions } : {}),
    onRestart: (namespace, e) =>
      report(`watching ModelPools${namespace ? ` in ${namespace}` : ""}`, undefined, e),
  });
  return {
    status,
    events,
    pools,
    elector,
    isLeader,
    async start() {
      if (elector === undefined) options.onLeaderChange?.(true, "no leader election");
      elector?.start();
      await pools.start();
    },
    async stop() {
      await pools.stop();
      await elector?.stop();
    },
  };
}
