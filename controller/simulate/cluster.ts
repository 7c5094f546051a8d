import type { ByCapacity, CapacityType } from "../scaling/types.js";
import type { EvictedByModel, PoolReplica } from "./multi-replica.js";
import { addCounters, type ReplicaCounters, zeroCounters } from "./replica.js";
import type { Rng } from "./rng.js";

/**
 * The Kubernetes side of the simulation: GPU nodes and the Triton pods on them.
 *
 * A new pod takes an idle GPU node of its capacity type if one is left over, or asks the
 * node autoscaler for one (ready after the provisioning time; a Spot request may never be
 * fulfilled). A bound pod cold-starts (image pull, model load, warmup) before it is
 * ready and gets traffic. Removing a pod drains it (no new requests, queue finished);
 * its node then idles until the autoscaler removes it. A Spot node can be reclaimed:
 * after the notice its pod is killed and the requests it had not served are retried
 * elsewhere; the Deployment replaces the pod at once. A node costs money from the moment
 * it is provisioned until it is removed.
 */

/** Times, probabilities and prices of the cluster model. */
export interface ClusterSettings {
  /** Seconds from asking for a GPU node to the node being ready, by capacity type. */
  readonly nodeProvisionSeconds: ByCapacity;
  /** Seconds from a pod bound to a node to ready (image pull + model load + warmup). */
  readonly coldStartSeconds: number;
  /**
   * Seconds an empty node lingers before the autoscaler removes it (setup.ts: the pool's
   * `scaling.history.nodeLinger`, default 600, cluster-autoscaler's scale-down-unneeded-time).
   */
  readonly nodeIdleRemovalSeconds: number;
  /** Reclaims per Spot node-hour (0 disables interruptions). */
  readonly spotInterruptionsPerHour: number;
  /** Seconds between a reclaim notice and the node going away. */
  readonly spotNoticeSeconds: number;
  /** Probability that a request for a Spot node is ever fulfilled. */
  readonly spotAvailability: number;
  /** GPUs per replica (node). */
  readonly gpusPerReplica: number;
  /** Price per GPU-hour, by capacity type. */
  readonly pricePerGpuHour: ByCapacity;
}

type PodState = "pending" | "starting" | "ready" | "draining" | "gone";

interface Node {
  readonly type: CapacityType;
  /** When the provider started billing (provisioning start). */
  readonly since: number;
  /** When the node is ready for pods (Infinity: a Spot request never fulfilled). */
  readyAt: number;
  pod: Pod | undefined;
  idleSince: number;
  /** When the provider reclaims this Spot node (Infinity for on-demand). */
  reclaimAt: number;
  removedAt: number;
}

interface Pod {
  readonly id: number;
  readonly type: CapacityType;
  state: PodState;
  readonly createdAt: number;
  node: Node | undefined;
  readyAt: number;
  replica: PoolReplica | undefined;
}

/**
 * Requests to retry elsewhere: first-arrival times, and each one's model index when the
 * replica hosts several models.
 */
export type RetrySink = (
  origins: Float64Array,
  count: number,
  at: number,
  models: Uint8Array | undefined,
) => void;

/** Creates a pod's replica (its batchers), ready from `startTime`. */
export type ReplicaFactory = (startTime: number) => PoolReplica;

/** GPU-seconds and cost, by capacity type, up to a time. */
export interface Usage {
  readonly gpuSeconds: ByCapacity;
  readonly cost: number;
}

export class Cluster {
  private readonly nodes: Node[] = [];
  private readonly pods: Pod[] = [];
  private nextPodId = 1;
  /** Ready pods, in the order they became ready (the load balancer's endpoints). */
  readonly ready: PoolReplica[] = [];
  /** Replicas that still hold requests (ready or draining). */
  readonly serving: PoolReplica[] = [];
  /** Node-seconds of removed nodes, by capacity type. */
  private readonly closedSeconds = { spot: 0, onDemand: 0 };
  /** GPU busy seconds of replicas that are gone, by the capacity type of their pod. */
  private readonly retiredBusy = { spot: 0, onDemand: 0 };
  /** Times the desired replica count changed. */
  scaleEvents = 0;
  private lastDesired = -1;
  /** Set when the set of ready replicas changed since the last look. */
  readyChanged = false;
  /** Counters of replicas that are gone (Prometheus keeps their rates; so do we). */
  private retired: ReplicaCounters = zeroCounters();

  /** Per model, counters of multi-model replicas that are gone (index: the model's). */
  private readonly retiredByModel: ReplicaCounters[] = [];

  /**
   * Per model, cumulative counters of a pool whose replicas host several models (every
   * replica that ever served, gone or not); empty for a single model's replicas.
   */
  totalsByModel(): ReplicaCounters[] {
    const out = this.retiredByModel.map((c) => ({ ...c }));
    for (const r of this.serving) {
      if (!("batchers" in r)) continue;
      r.batchers.forEach((b, i) => {
        out[i] = addCounters(out[i] ?? zeroCounters(), b.counters);
      });
    }
    return out;
  }

  /** Pool-wide cumulative counters: every replica that ever served, gone or not. */
  totals(): ReplicaCounters {
    let t = this.retired;
    for (const r of this.serving) t = addCounters(t, r.counters);
    return t;
  }

  constructor(
    private readonly settings: ClusterSettings,
    private readonly createReplica: ReplicaFactory,
    private readonly random: Rng,
    private readonly retry: RetrySink,
  ) {}

  /** Starts `n` replicas of a type that are ready at time `t` (static pools, warm starts). */
  startReady(t: number, n: number, type: CapacityType): void {
    for (let i = 0; i < n; i++) {
      const node = this.newNode(t, type, t);
      const pod = this.newPod(t, type);
      this.bind(pod, node, t);
      pod.readyAt = t;
      this.makeReady(pod, t);
    }
  }

  /** Replicas by state and capacity type. */
  count(state: PodState): ByCapacity {
    let spot = 0;
    let onDemand = 0;
    for (const p of this.pods) {
      if (p.state !== state) continue;
      if (p.type === "spot") spot++;
      else onDemand++;
    }
    return { spot, onDemand };
  }

  /** Seconds the oldest pending Spot pod has waited for a node, at t. */
  oldestPendingSpotSeconds(t: number): number {
    let oldest = t;
    for (const p of this.pods)
      if (p.state === "pending" && p.type === "spot") oldest = Math.min(oldest, p.createdAt);
    return t - oldest;
  }

  /**
   * Makes the pod counts match `desired`: creates pending pods, or removes the least
   * useful ones first (pending, then starting, then the newest ready, which drain).
   */
  reconcile(t: number, desired: ByCapacity): void {
    const total = desired.spot + desired.onDemand;
    if (total !== this.lastDesired) {
      if (this.lastDesired >= 0) this.scaleEvents++;
      this.lastDesired = total;
    }
    for (const type of ["spot", "onDemand"] as const) {
      const want = Math.max(0, Math.floor(desired[type]));
      const live = this.pods.filter(
        (p) =>
          p.type === type &&
          (p.state === "pending" || p.state === "starting" || p.state === "ready"),
      );
      if (live.length < want) {
        for (let i = live.length; i < want; i++) this.schedule(this.newPod(t, type), t);
      } else if (live.length > want) {
        const order: PodState[] = ["pending", "starting", "ready"];
        const victims = live
          .sort(
            (a, b) => order.indexOf(a.state) - order.indexOf(b.state) || b.createdAt - a.createdAt,
          )
          .slice(0, live.length - want);
        for (const pod of victims) this.remove(pod, t);
      }
    }
  }

  /** Advances node and pod lifecycles to time t. */
  tick(t: number): void {
    for (const node of this.nodes) {
      if (node.removedAt <= t) continue;
      if (node.reclaimAt <= t) this.reclaim(node, t);
    }
    for (const pod of this.pods) {
      if (pod.state === "pending") this.schedule(pod, t);
      if (pod.state === "starting" && pod.readyAt <= t) this.makeReady(pod, t);
      if (pod.state === "draining") {
        const r = pod.replica;
        if (r && r.killAt <= t) {
          // Reclaimed: whatever it had not served (queued, or cut off mid-batch) is retried.
          const ev = r.evict();
          if (ev.count > 0)
            this.retry(ev.origins, ev.count, r.killAt, (ev as Partial<EvictedByModel>).models);
          this.finish(pod, t);
        } else if (!r || r.idleAt(t)) {
          this.finish(pod, t);
        }
      }
    }
    for (const node of this.nodes) {
      if (node.removedAt !== Number.POSITIVE_INFINITY || node.pod || node.readyAt > t) continue;
      if (t - node.idleSince >= this.settings.nodeIdleRemovalSeconds) this.removeNode(node, t);
    }
    if (this.pods.length + this.nodes.length > 256) this.compact(t);
  }

  /** GPU-seconds and cost of every node so far, up to t (a node bills from provisioning to removal). */
  usage(t: number): Usage {
    const secs = { ...this.closedSeconds };
    for (const n of this.nodes) {
      if (!Number.isFinite(n.readyAt)) continue;
      secs[n.type] += Math.max(0, Math.min(t, n.removedAt) - n.since);
    }
    const g = this.settings.gpusPerReplica;
    const gpuSeconds = { spot: secs.spot * g, onDemand: secs.onDemand * g };
    const price = this.settings.pricePerGpuHour;
    return {
      gpuSeconds,
      cost: (gpuSeconds.spot * price.spot + gpuSeconds.onDemand * price.onDemand) / 3600,
    };
  }

  /**
   * GPU-seconds spent computing up to t, by capacity type: every replica's GPU busy time
   * (overlapping instances counted once, Replica.gpuBusySeconds) × GPUs per replica. Read
   * per report bucket, never per request.
   */
  busyGpuSeconds(t: number): ByCapacity {
    const secs = { ...this.retiredBusy };
    for (const p of this.pods) {
      if (p.replica && (p.state === "ready" || p.state === "draining")) {
        secs[p.type] += p.replica.gpuBusySecondsUpTo(t);
      }
    }
    const g = this.settings.gpusPerReplica;
    return { spot: secs.spot * g, onDemand: secs.onDemand * g };
  }

  private newPod(t: number, type: CapacityType): Pod {
    const pod: Pod = {
      id: this.nextPodId++,
      type,
      state: "pending",
      createdAt: t,
      node: undefined,
      readyAt: Number.POSITIVE_INFINITY,
      replica: undefined,
    };
    this.pods.push(pod);
    return pod;
  }

  private newNode(t: number, type: CapacityType, readyAt: number): Node {
    const s = this.settings;
    const node: Node = {
      type,
      since: t,
      readyAt,
      pod: undefined,
      idleSince: readyAt,
      reclaimAt:
        type === "spot" && s.spotInterruptionsPerHour > 0
          ? readyAt - (Math.log(1 - this.random.next()) * 3600) / s.spotInterruptionsPerHour
          : Number.POSITIVE_INFINITY,
      removedAt: Number.POSITIVE_INFINITY,
    };
    this.nodes.push(node);
    return node;
  }

  /** Binds a pending pod to a ready idle node, or makes sure a node is coming for it. */
  private schedule(pod: Pod, t: number): void {
    for (const node of this.nodes) {
      if (
        node.type === pod.type &&
        !node.pod &&
        node.readyAt <= t &&
        node.removedAt === Number.POSITIVE_INFINITY
      ) {
        this.bind(pod, node, t);
        return;
      }
    }
    if (pod.node) return;
    // One node request per pending pod; it binds to whichever pending pod is first when ready.
    const coming = this.nodes.filter(
      (n) =>
        n.type === pod.type && !n.pod && n.readyAt > t && n.removedAt === Number.POSITIVE_INFINITY,
    ).length;
    const waiting = this.pods.filter((p) => p.type === pod.type && p.state === "pending").length;
    if (coming >= waiting) return;
    const s = this.settings;
    const fulfilled = pod.type === "onDemand" || this.random.next() < s.spotAvailability;
    const readyAt = fulfilled ? t + s.nodeProvisionSeconds[pod.type] : Number.POSITIVE_INFINITY;
    const node = this.newNode(t, pod.type, readyAt);
    if (readyAt <= t) this.bind(pod, node, t);
  }

  private bind(pod: Pod, node: Node, t: number): void {
    node.pod = pod;
    pod.node = node;
    pod.state = "starting";
    pod.readyAt = t + this.settings.coldStartSeconds;
  }

  private makeReady(pod: Pod, t: number): void {
    pod.state = "ready";
    const r = this.createReplica(Math.min(pod.readyAt, t));
    pod.replica = r;
    this.ready.push(r);
    this.serving.push(r);
    this.readyChanged = true;
  }

  /** Scale-down: pending and starting pods go at once; a ready pod drains first. */
  private remove(pod: Pod, t: number): void {
    if (pod.state === "ready") {
      pod.state = "draining";
      this.unready(pod);
      return;
    }
    this.finish(pod, t);
  }

  private unready(pod: Pod): void {
    const r = pod.replica;
    if (!r) return;
    const i = this.ready.indexOf(r);
    if (i >= 0) {
      this.ready.splice(i, 1);
      this.readyChanged = true;
    }
  }

  /** The pod is gone; its node idles (or, if it never came, its request is dropped). */
  private finish(pod: Pod, t: number): void {
    this.unready(pod);
    pod.state = "gone";
    if (pod.replica) {
      const i = this.serving.indexOf(pod.replica);
      if (i >= 0) {
        this.serving.splice(i, 1);
        const c = pod.replica.counters;
        this.retired = addCounters(this.retired, c);
        this.retiredBusy[pod.type] += pod.replica.gpuBusySeconds;
        const r = pod.replica;
        if ("batchers" in r) {
          r.batchers.forEach((b, i) => {
            this.retiredByModel[i] = addCounters(
              this.retiredByModel[i] ?? zeroCounters(),
              b.counters,
            );
          });
        }
      }
    }
    const node = pod.node;
    if (node) {
      node.pod = undefined;
      node.idleSince = t;
    } else {
      // A pod that never got a node: withdraw one unfulfilled request of its type.
      const unfulfilled = this.nodes.find(
        (n) =>
          n.type === pod.type &&
          !n.pod &&
          !Number.isFinite(n.readyAt) &&
          n.removedAt === Number.POSITIVE_INFINITY,
      );
      if (unfulfilled) unfulfilled.removedAt = t;
    }
  }

  /** A Spot reclaim: the pod gets the notice period to drain, then the node is gone. */
  private reclaim(node: Node, t: number): void {
    const killAt = node.reclaimAt + this.settings.spotNoticeSeconds;
    const pod = node.pod;
    if (pod && pod.state !== "gone") {
      if (pod.state === "ready" || pod.state === "draining") {
        pod.state = "draining";
        this.unready(pod);
        if (pod.replica) pod.replica.killAt = killAt;
      } else {
        this.finish(pod, t);
      }
      // The Deployment replaces the pod at once: a new pending pod of the same type.
      this.schedule(this.newPod(t, pod.type), t);
    }
    node.reclaimAt = Number.POSITIVE_INFINITY;
    this.removeNode(node, killAt);
  }

  private removeNode(node: Node, t: number): void {
    node.removedAt = Math.min(node.removedAt, t);
  }

  /** Drops gone pods and removed nodes (their node-seconds kept) so per-tick scans stay short. */
  private compact(t: number): void {
    for (let i = this.pods.length - 1; i >= 0; i--)
      if (this.pods[i]!.state === "gone") this.pods.splice(i, 1);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i]!;
      if (n.removedAt > t || n.pod) continue;
      if (Number.isFinite(n.readyAt))
        this.closedSeconds[n.type] += Math.max(0, n.removedAt - n.since);
      this.nodes.splice(i, 1);
    }
  }
}
