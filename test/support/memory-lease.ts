import type {
  LeaseClient,
  LeaseRecord,
  LeaseSnapshot,
  LeaseWrite,
} from "../../controller/kube/lease-client.js";
import { isMicroTime } from "../../controller/kube/micro-time.js";
import type { ManualClock } from "./manual-clock.js";

/**
 * One Lease held in memory, as the API server keeps it: a resourceVersion bumped on every
 * write, 409 on a stale one, and MicroTimes with six fractional digits or a 422.
 */
export class MemoryLease {
  lease: LeaseSnapshot | undefined;
  private version = 0;
  /** Every write that succeeded, in order. */
  readonly writes: LeaseRecord[] = [];

  get(): LeaseSnapshot | undefined {
    return this.lease;
  }

  write(record: LeaseRecord, resourceVersion: string | undefined): LeaseWrite {
    for (const t of [record.acquireTime, record.renewTime]) {
      if (!isMicroTime(t)) {
        throw Object.assign(new Error(`422: invalid MicroTime ${JSON.stringify(t)}`), {
          code: 422,
        });
      }
    }
    if (
      resourceVersion === undefined
        ? this.lease !== undefined
        : this.lease?.resourceVersion !== resourceVersion
    ) {
      return { ok: false, conflict: true };
    }
    this.version++;
    this.lease = { record: { ...record }, resourceVersion: String(this.version) };
    this.writes.push(record);
    return { ok: true, lease: this.lease };
  }
}

/** How one replica's requests fare. */
export type LinkMode =
  /** Requests arrive and answers come back. */
  | "up"
  /** Requests fail at once, nothing written (API server unreachable). */
  | "down"
  /** Requests never arrive and never answer. */
  | "hang"
  /** Requests arrive (and write) but their answers never come back. */
  | "lose-answers";

/**
 * One replica's {@link LeaseClient} onto a {@link MemoryLease}: each request takes
 * `latency` seconds on the manual clock to arrive and as long to answer, and the link can
 * fail in the ways of {@link LinkMode}.
 */
export class MemoryLeaseLink implements LeaseClient {
  mode: LinkMode = "up";
  latency = 0;

  constructor(
    private readonly server: MemoryLease,
    private readonly clock: ManualClock,
  ) {}

  private async call<T>(op: () => T): Promise<T> {
    const mode = this.mode;
    if (mode === "down")
      throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    if (mode === "hang") return new Promise<T>(() => undefined);
    if (this.latency > 0) await this.clock.sleep(this.latency);
    const result = op();
    if (mode === "lose-answers" || this.mode === "lose-answers" || this.mode === "hang")
      return new Promise<T>(() => undefined);
    if (this.latency > 0) await this.clock.sleep(this.latency);
    if (this.mode === "down") throw new Error("connection reset");
    return result;
  }

  get(): Promise<LeaseSnapshot | undefined> {
    return this.call(() => this.server.get());
  }
  create(record: LeaseRecord): Promise<LeaseWrite> {
    return this.call(() => this.server.write(record, undefined));
  }
  update(record: LeaseRecord, resourceVersion: string): Promise<LeaseWrite> {
    return this.call(() => this.server.write(record, resourceVersion));
  }
}
