/**
 * The Lease the controller replicas elect a leader with: a small port (read, create,
 * resourceVersion-guarded update) and its implementation on coordination.k8s.io/v1 with
 * @kubernetes/client-node. The elector (leader-election.ts) only sees the port, so it is
 * tested with an in-memory Lease and a manual clock.
 */
import { CoordinationV1Api, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import { isConflict, isNotFound } from "./retry.js";

/** The leader-election fields of a Lease's spec, as the elector reads and writes them. */
export interface LeaseRecord {
  /** Who holds the Lease; `""` when released. */
  readonly holderIdentity: string;
  /** Seconds a follower waits after it last saw the record change before taking over. */
  readonly leaseDurationSeconds: number;
  /** When the holder acquired it (MicroTime text, six fractional digits). */
  readonly acquireTime: string;
  /** When the holder last renewed it (MicroTime text). */
  readonly renewTime: string;
  /** How often the holder changed. */
  readonly leaseTransitions: number;
}

/** A Lease as read: its record and the resourceVersion an update must name. */
export interface LeaseSnapshot {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
}

/** A write's outcome: the stored Lease, or `conflict` (409: someone else wrote first). */
export type LeaseWrite =
  | { readonly ok: true; readonly lease: LeaseSnapshot }
  | { readonly ok: false; readonly conflict: true };

/**
 * Reads and writes one Lease. Expected outcomes are values (absent, conflict); anything
 * else (network error, 5xx, 429, timeout) rejects, and the elector counts the attempt as
 * failed.
 */
export interface LeaseClient {
  /** The Lease, or undefined when it does not exist (404). */
  get(): Promise<LeaseSnapshot | undefined>;
  /** Creates the Lease; `conflict` when it exists already (409 AlreadyExists). */
  create(record: LeaseRecord): Promise<LeaseWrite>;
  /** Replaces the Lease's spec if its resourceVersion is still `resourceVersion`. */
  update(record: LeaseRecord, resourceVersion: string): Promise<LeaseWrite>;
}

function toSnapshot(lease: V1Lease): LeaseSnapshot {
  const s = lease.spec ?? {};
  // MicroTimes come back as the server's strings: the client does not know the type.
  const time = (t: unknown): string =>
    typeof t === "string" ? t : t instanceof Date ? t.toISOString() : "";
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? "",
    record: {
      holderIdentity: s.holderIdentity ?? "",
      leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
      acquireTime: time(s.acquireTime),
      renewTime: time(s.renewTime),
      leaseTransitions: s.leaseTransitions ?? 0,
    },
  };
}

/**
 * The body of a Lease with `record` as its spec. The times are strings on purpose: the
 * client serializes a `Date` with three fractional digits, which the API server rejects for
 * a MicroTime, and passes a string through.
 */
export function buildLease(
  namespace: string,
  name: string,
  record: LeaseRecord,
  resourceVersion?: string,
): V1Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      name,
      namespace,
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      acquireTime: record.acquireTime as unknown as Date,
      renewTime: record.renewTime as unknown as Date,
      leaseTransitions: record.leaseTransitions,
    },
  };
}

/** A {@link LeaseClient} for the Lease `namespace/name` through the API server. */
export function createKubeLeaseClient(
  kc: KubeConfig,
  namespace: string,
  name: string,
): LeaseClient {
  const api = kc.makeApiClient(CoordinationV1Api);
  const write = async (f: () => Promise<V1Lease>): Promise<LeaseWrite> => {
    try {
      return { ok: true, lease: toSnapshot(await f()) };
    } catch (e) {
      if (isConflict(e)) return { ok: false, conflict: true };
      throw e;
    }
  };
  return {
    async get() {
      try {
        return toSnapshot(await api.readNamespacedLease({ name, namespace }));
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    create: (record) =>
      write(() =>
        api.createNamespacedLease({ namespace, body: buildLease(namespace, name, record) }),
      ),
    update: (record, resourceVersion) =>
      write(() =>
        api.replaceNamespacedLease({
          name,
          namespace,
          body: buildLease(namespace, name, record, resourceVersion),
        }),
      ),
  };
}
