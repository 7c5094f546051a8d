/**
 * Leader election on a coordination.k8s.io/v1 Lease, the algorithm of client-go's
 * `leaderelection` package: only the leader applies objects, writes status and answers
 * Ready; a follower takes over when the leader stops renewing; never two leaders acting.
 *
 * How "never two" holds (all durations on each replica's own clock, which only needs to
 * run at the same rate as the others', not show the same time):
 * - The leader stamps each renewal with the time `t` just BEFORE it sends the write, and
 *   acts only while `now < t + renewDeadline` of its last renewal that succeeded
 *   ({@link LeaderElector.isLeader} checks this at every call; `onStoppedLeading` fires at
 *   that instant at the latest).
 * - A follower that reads the Lease notes when it first saw the current record (`observed`,
 *   necessarily after the write, so after `t`) and writes only when the record stayed
 *   unchanged for the record's `leaseDurationSeconds`, i.e. at `observed + leaseDuration >
 *   t + renewDeadline`, because `leaseDuration > renewDeadline`.
 * - Every write names the resourceVersion it read: a renewal the follower did not see
 *   makes its takeover fail with 409 (it re-reads and waits again), and a takeover the
 *   leader did not see makes the leader's renewal fail, after which it stops at its
 *   deadline.
 *
 * Timing (client-go's defaults, 15 s / 10 s / 2 s): a leader renews every `retryPeriod`
 * and gives up `renewDeadline` after its last successful renewal; a follower reads the
 * Lease every `retryPeriod` × (1 − 0.5 × random), i.e. at least once per `retryPeriod`
 * (client-go waits `retryPeriod` × [1, 2.2) between reads, which is where its 19.4 s came
 * from), and, while the Lease is held by another, also exactly when the record it holds
 * would expire. Bounds, from the leader's last successful renewal (stamped `t`), with the
 * follower's reads answered (their latency adds to both):
 * - the leader crashed (or is cut off): the follower sees that renewal within one
 *   `retryPeriod` (observed ≤ t + retryPeriod) and takes over at observed + leaseDuration,
 *   so at most t + leaseDuration + retryPeriod (15 + 2 = 17 s) and at the earliest
 *   t + leaseDuration (15 s);
 * - the leader stopped (SIGTERM): it releases the Lease (empty holder); the follower takes
 *   it at its next read, within one `retryPeriod` (2 s) of the release.
 * A crash cannot be replaced sooner than leaseDuration after the last renewal without
 * risking two leaders: the follower cannot tell a dead leader from a slow or partitioned
 * one that still acts until t + renewDeadline on its own clock; all it knows of t is that
 * it came before the follower saw the renewal, so it must wait out leaseDuration
 * (> renewDeadline, the margin for clock rates and latency) from that sighting.
 */
import type { Clock } from "../loop/ports.js";
import type { LeaseClient, LeaseRecord, LeaseSnapshot } from "./lease-client.js";
import { formatMicroTime } from "./micro-time.js";

/** Options of {@link LeaderElector}. */
export interface LeaderElectionOptions {
  /** This replica's identity in `holderIdentity` (the pod name). */
  readonly identity: string;
  /** The Lease. */
  readonly client: LeaseClient;
  /** Seconds; injected (manual in tests). */
  readonly clock: Clock;
  /**
   * How long a follower waits after it last saw the Lease change before taking over, in
   * seconds; written into the Lease. @default 15
   */
  readonly leaseDurationSeconds?: number;
  /**
   * How long after its last successful renewal the leader keeps acting while renewals
   * fail, in seconds; must be below `leaseDurationSeconds`. @default 10
   */
  readonly renewDeadlineSeconds?: number;
  /** Seconds between attempts to acquire or renew. @default 2 */
  readonly retryPeriodSeconds?: number;
  /** Random numbers in [0, 1) for the followers' jitter. @default Math.random */
  readonly random?: () => number;
  /** Called when this replica starts leading (it may act from now on). */
  readonly onStartedLeading?: () => void;
  /**
   * Called when this replica stops leading, with why: its renewal deadline passed, another
   * replica holds the Lease, or it released it. It must stop acting at once.
   */
  readonly onStoppedLeading?: (why: string) => void;
  /** Called with each failed read or write (for logs); the elector retries on its own. */
  readonly onError?: (error: unknown) => void;
}

/** client-go's `JitterFactor` (1.2), kept for its check renewDeadline > 1.2 × retryPeriod. */
export const LEADER_ELECTION_JITTER = 1.2;

/**
 * A follower waits retryPeriod × (1 − FOLLOWER_JITTER × random) between reads: at most one
 * retryPeriod, so that it sees a renewal within one (see the module comment); at least half
 * of one, and spread, so that followers do not read in step.
 */
export const FOLLOWER_JITTER = 0.5;

/** client-go's defaults, in seconds. */
export const LEADER_ELECTION_DEFAULTS = {
  leaseDurationSeconds: 15,
  renewDeadlineSeconds: 10,
  retryPeriodSeconds: 2,
} as const;

/** What one attempt to acquire or renew found. */
type Outcome =
  | {
      readonly kind: "acquired";
      readonly lease: LeaseSnapshot;
      /** When the write was sent (the renewal's `t`). */
      readonly sentAt: number;
    }
  | {
      readonly kind: "observed";
      readonly lease: LeaseSnapshot | undefined;
      /** When the read came back. */
      readonly readAt: number;
    }
  | { readonly kind: "conflict" }
  | { readonly kind: "failed"; readonly error: unknown }
  | { readonly kind: "timeout" };

function sameLease(a: LeaseSnapshot | undefined, b: LeaseSnapshot | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.resourceVersion === b.resourceVersion && JSON.stringify(a.record) === JSON.stringify(b.record)
  );
}

/**
 * One replica's side of leader election. `start()` runs the loop in the background,
 * `isLeader()` says whether it may act right now, `stop()` releases the Lease (the SIGTERM
 * path) so that a follower takes over at once.
 */
export class LeaderElector {
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
  private readonly client: LeaseClient;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly options: LeaderElectionOptions;
  private leading = false;
  /** The leader acts while `now < leadingUntil`. */
  private leadingUntil = Number.NEGATIVE_INFINITY;
  private observed: LeaseSnapshot | undefined;
  /** When `observed` was first seen, on this replica's clock. */
  private observedAt = Number.NEGATIVE_INFINITY;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.options = options;
    this.identity = options.identity;
    this.client = options.client;
    this.clock = options.clock;
    this.random = options.random ?? Math.random;
    this.leaseDurationSeconds =
      options.leaseDurationSeconds ?? LEADER_ELECTION_DEFAULTS.leaseDurationSeconds;
    this.renewDeadlineSeconds =
      options.renewDeadlineSeconds ?? LEADER_ELECTION_DEFAULTS.renewDeadlineSeconds;
    this.retryPeriodSeconds =
      options.retryPeriodSeconds ?? LEADER_ELECTION_DEFAULTS.retryPeriodSeconds;
    if (this.identity === "") throw new RangeError("leader election needs a non-empty identity");
    if (!(this.retryPeriodSeconds > 0)) {
      throw new RangeError(`retryPeriodSeconds must be > 0. Received: ${this.retryPeriodSeconds}`);
    }
    // client-go's checks: LeaseDuration > RenewDeadline > JitterFactor × RetryPeriod.
    if (!(this.leaseDurationSeconds > this.renewDeadlineSeconds)) {
      throw new RangeError(
        `leaseDurationSeconds must be greater than renewDeadlineSeconds. Received: ${this.leaseDurationSeconds} <= ${this.renewDeadlineSeconds}`,
      );
    }
    if (!(this.renewDeadlineSeconds > LEADER_ELECTION_JITTER * this.retryPeriodSeconds)) {
      throw new RangeError(
        `renewDeadlineSeconds must be greater than ${LEADER_ELECTION_JITTER} × retryPeriodSeconds. Received: ${this.renewDeadlineSeconds} <= ${LEADER_ELECTION_JITTER * this.retryPeriodSeconds}`,
      );
    }
  }

  /** Whether this replica leads and may act now (false from its renewal deadline on). */
  isLeader(): boolean {
    return this.leading && this.clock.now() < this.leadingUntil;
  }

  /** The holder of the Lease as last read or written (`""` when released or unknown). */
  observedHolder(): string {
    return this.observed?.record.holderIdentity ?? "";
  }

  /** Starts the election loop in the background; resolves nothing, call {@link stop}. */
  start(): void {
    this.running ??= this.loop();
  }

  /**
   * Stops the loop; if leading, stops acting (`onStoppedLeading("released")`) and THEN
   * releases the Lease as client-go does: `holderIdentity` empty, `leaseDurationSeconds`
   * 1, so a follower takes it at its next read. A failed release is reported to
   * `onError`; followers then wait out the lease duration.
   */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    const wasLeading = this.isLeader();
    if (this.leading) this.stopLeading(wasLeading ? "released" : "renew deadline passed");
    const held = this.observed;
    if (!wasLeading || held === undefined || held.record.holderIdentity !== this.identity) return;
    const now = this.clock.now();
    const record: LeaseRecord = {
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTime: formatMicroTime(now),
      renewTime: formatMicroTime(now),
      leaseTransitions: held.record.leaseTransitions,
    };
    const timer = new AbortController();
    try {
      // Bounded: a hung API server must not hold up the shutdown.
      const w = await Promise.race([
        this.client.update(record, held.resourceVersion),
        this.clock.sleep(this.renewDeadlineSeconds, timer.signal).then(() => undefined),
      ]);
      if (w?.ok) this.observed = w.lease;
    } catch (e) {
      this.options.onError?.(e);
    } finally {
      timer.abort();
    }
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      this.checkDeadline();
      const outcome = await this.attemptWithTimeout();
      if (signal.aborted) break;
      this.apply(outcome);
      this.checkDeadline();
      await this.clock.sleep(this.nextWait(), signal);
    }
  }

  /** Seconds until the next attempt. */
  private nextWait(): number {
    const now = this.clock.now();
    if (this.leading) {
      // Wake at the deadline at the latest, so onStoppedLeading fires on time.
      return Math.max(0, Math.min(this.retryPeriodSeconds, this.leadingUntil - now));
    }
    const jittered = this.retryPeriodSeconds * (1 - FOLLOWER_JITTER * this.random());
    const holder = this.observed?.record.holderIdentity ?? "";
    if (this.observed !== undefined && holder !== "" && holder !== this.identity) {
      // Try again exactly when the holder's lease would expire, if that is sooner.
      const expiry = this.observedAt + this.observed.record.leaseDurationSeconds;
      if (expiry > now) return Math.min(jittered, expiry - now);
    }
    return jittered;
  }

  private checkDeadline(): void {
    if (this.leading && this.clock.now() >= this.leadingUntil) {
      this.stopLeading("renew deadline passed");
    }
  }

  private stopLeading(why: string): void {
    this.leading = false;
    this.leadingUntil = Number.NEGATIVE_INFINITY;
    this.options.onStoppedLeading?.(why);
  }

  /** One attempt, abandoned when it outlasts the leader's deadline (or renewDeadline). */
  private async attemptWithTimeout(): Promise<Outcome> {
    const now = this.clock.now();
    const limit = this.leading ? Math.max(0, this.leadingUntil - now) : this.renewDeadlineSeconds;
    const timer = new AbortController();
    const onAbort = () => timer.abort();
    this.abort.signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await Promise.race([
        this.attempt(),
        this.clock.sleep(limit, timer.signal).then((): Outcome => ({ kind: "timeout" })),
      ]);
    } finally {
      timer.abort();
      this.abort.signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Reads the Lease and writes it when it is free, expired or ours. Reads this elector's
   * state but changes none of it: an abandoned attempt's late result is ignored.
   */
  private async attempt(): Promise<Outcome> {
    try {
      const lease = await this.client.get();
      const readAt = this.clock.now();
      if (lease === undefined) {
        const sentAt = this.clock.now();
        const w = await this.client.create(this.ownRecord(undefined, sentAt));
        return w.ok ? { kind: "acquired", lease: w.lease, sentAt } : { kind: "conflict" };
      }
      const holder = lease.record.holderIdentity;
      if (holder !== "" && holder !== this.identity) {
        const since = sameLease(lease, this.observed) ? this.observedAt : readAt;
        if (since + lease.record.leaseDurationSeconds > readAt) {
          return { kind: "observed", lease, readAt };
        }
      }
      const sentAt = this.clock.now();
      const w = await this.client.update(
        this.ownRecord(lease.record, sentAt),
        lease.resourceVersion,
      );
      return w.ok ? { kind: "acquired", lease: w.lease, sentAt } : { kind: "conflict" };
    } catch (error) {
      return { kind: "failed", error };
    }
  }

  /** The record this replica writes: a renewal of its own, or a takeover. */
  private ownRecord(old: LeaseRecord | undefined, now: number): LeaseRecord {
    const time = formatMicroTime(now);
    const ours = old !== undefined && old.holderIdentity === this.identity;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationSeconds,
      acquireTime: ours ? old.acquireTime : time,
      renewTime: time,
      leaseTransitions:
        old === undefined ? 0 : ours ? old.leaseTransitions : old.leaseTransitions + 1,
    };
  }

  private apply(outcome: Outcome): void {
    switch (outcome.kind) {
      case "acquired": {
        this.observe(outcome.lease, outcome.sentAt);
        this.checkDeadline();
        const until = outcome.sentAt + this.renewDeadlineSeconds;
        if (this.clock.now() >= until) return; // renewed too late to act on
        this.leadingUntil = Math.max(this.leadingUntil, until);
        if (!this.leading) {
          this.leading = true;
          this.options.onStartedLeading?.();
        }
        return;
      }
      case "observed": {
        if (outcome.lease !== undefined) this.observe(outcome.lease, outcome.readAt);
        const holder = outcome.lease?.record.holderIdentity ?? "";
        if (this.leading && holder !== this.identity) {
          this.stopLeading(holder === "" ? "the Lease was released" : `${holder} holds the Lease`);
        }
        return;
      }
      case "failed":
        this.options.onError?.(outcome.error);
        return;
      case "conflict":
      case "timeout":
        return;
    }
  }

  private observe(lease: LeaseSnapshot, at: number): void {
    if (!sameLease(lease, this.observed)) {
      this.observed = lease;
      this.observedAt = at;
    }
  }
}
