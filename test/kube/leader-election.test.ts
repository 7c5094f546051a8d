import { expect } from "chai";
import fc from "fast-check";
import {
  LEADER_ELECTION_DEFAULTS,
  type LeaderElectionOptions,
  LeaderElector,
} from "../../controller/kube/leader-election.js";
import { formatMicroTime, isMicroTime, parseMicroTime } from "../../controller/kube/micro-time.js";
import { PROPERTY_SEED } from "../property/support.js";
import { ManualClock } from "../support/manual-clock.js";
import { type LinkMode, MemoryLease, MemoryLeaseLink } from "../support/memory-lease.js";

describe("MicroTime", () => {
  const rows = [
    { name: "whole second", seconds: 1_800_000_000, text: "2027-01-15T08:00:00.000000Z" },
    { name: "microseconds", seconds: 1_800_000_000.123456, text: "2027-01-15T08:00:00.123456Z" },
    {
      name: "rounds to the microsecond",
      seconds: 1_800_000_000 + 0.9999996,
      text: "2027-01-15T08:00:01.000000Z",
    },
    { name: "before 1970", seconds: -1.5, text: "1969-12-31T23:59:58.500000Z" },
  ];
  for (const row of rows) {
    it(`formats ${row.name} with six fractional digits`, () => {
      expect(formatMicroTime(row.seconds)).to.equal(row.text);
      expect(isMicroTime(row.text)).to.equal(true);
      expect(parseMicroTime(row.text)).to.be.closeTo(row.seconds, 1e-6);
    });
  }

  const invalid = [
    { name: "three digits (what the client makes of a Date)", text: "2027-01-15T08:00:00.123Z" },
    { name: "no fraction", text: "2027-01-15T08:00:00Z" },
    { name: "nine digits", text: "2027-01-15T08:00:00.123456789Z" },
    { name: "no zone", text: "2027-01-15T08:00:00.123456" },
    { name: "not a time", text: "yesterday" },
  ];
  for (const row of invalid) {
    it(`refuses ${row.name} as a MicroTime`, () => {
      expect(isMicroTime(row.text)).to.equal(false);
    });
  }

  it("parses what the API server returns, any fraction", () => {
    expect(parseMicroTime("2027-01-15T08:00:00.5Z")).to.equal(1_800_000_000.5);
    expect(parseMicroTime("2027-01-15T09:00:00+01:00")).to.equal(1_800_000_000);
    expect(parseMicroTime("nope")).to.equal(undefined);
  });

  it("refuses a time that is not finite", () => {
    expect(() => formatMicroTime(Number.NaN)).to.throw(RangeError, "Received: NaN");
  });
});

/** An elector on a shared Lease, with a log of when it started and stopped leading. */
function replica(
  identity: string,
  server: MemoryLease,
  clock: ManualClock,
  log: { who: string; event: "start" | "stop"; at: number; why?: string }[],
  options: Partial<LeaderElectionOptions> = {},
): { elector: LeaderElector; link: MemoryLeaseLink } {
  const link = new MemoryLeaseLink(server, clock);
  let r = 0.37;
  const elector = new LeaderElector({
    identity,
    client: link,
    clock,
    random: () => {
      r = (r * 9301 + 0.49297) % 1;
      return r;
    },
    onStartedLeading: () => log.push({ who: identity, event: "start", at: clock.now() }),
    onStoppedLeading: (why) => log.push({ who: identity, event: "stop", at: clock.now(), why }),
    ...options,
  });
  return { elector, link };
}

describe("leader election", () => {
  it("has client-go's defaults", () => {
    expect(LEADER_ELECTION_DEFAULTS).to.deep.equal({
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
    });
  });

  const bad = [
    {
      name: "renew deadline not below lease duration",
      o: { leaseDurationSeconds: 10, renewDeadlineSeconds: 10 },
      msg: "leaseDurationSeconds must be greater than renewDeadlineSeconds",
    },
    {
      name: "retry period too long for the deadline",
      o: { renewDeadlineSeconds: 2, retryPeriodSeconds: 2 },
      msg: "renewDeadlineSeconds must be greater than 1.2",
    },
    {
      name: "zero retry period",
      o: { retryPeriodSeconds: 0 },
      msg: "retryPeriodSeconds must be > 0",
    },
    { name: "empty identity", o: { identity: "" }, msg: "non-empty identity" },
  ];
  for (const row of bad) {
    it(`refuses options: ${row.name}`, () => {
      const clock = new ManualClock();
      const link = new MemoryLeaseLink(new MemoryLease(), clock);
      expect(() => new LeaderElector({ identity: "a", client: link, clock, ...row.o })).to.throw(
        RangeError,
        row.msg,
      );
    });
  }

  it("creates the Lease, renews it every retry period with MicroTimes, and keeps acquireTime", async () => {
    const clock = new ManualClock();
    const server = new MemoryLease();
    const log: Parameters<typeof replica>[3] = [];
    const a = replica("a", server, clock, log);
    a.elector.start();
    await clock.advance(0);
    expect(a.elector.isLeader()).to.equal(true);
    expect(log).to.deep.equal([{ who: "a", event: "start", at: clock.now() }]);
    await clock.advance(7);
    expect(server.writes.length).to.equal(1 + 3);
    const last = server.lease!.record;
    expect(last.holderIdentity).to.equal("a");
    expect(last.leaseDurationSeconds).to.equal(15);
    expect(last.leaseTransitions).to.equal(0);
    expect(isMicroTime(last.renewTime)).to.equal(true);
    expect(last.acquireTime).to.equal(server.writes[0]!.acquireTime);
    expect(parseMicroTime(last.renewTime)! - parseMicroTime(last.acquireTime)!).to.equal(6);
    await a.elector.stop();
  });

  it("a leader that cannot renew stops acting at its renew deadline, before anyone may take over", async () => {
    const clock = new ManualClock();
    const server = new MemoryLease();
    const log: Parameters<typeof replica>[3] = [];
    const a = replica("a", server, clock, log);
    const b = replica("b", server, clock, log);
    a.elector.start();
    await clock.advance(0);
    b.elector.start();
    await clock.advance(3);
    const lastRenewal = parseMicroTime(server.lease!.record.renewTime)!;
    a.link.mode = "down";
    for (let i = 0; i < 100; i++) {
      await clock.advance(0.25);
      expect(a.elector.isLeader() && b.elector.isLeader(), `at +${i * 0.25}s`).to.equal(false);
    }
    const stopA = log.find((e) => e.who === "a" && e.event === "stop")!;
    const startB = log.find((e) => e.who === "b" && e.event === "start")!;
    expect(stopA.why).to.equal("renew deadline passed");
    expect(stopA.at).to.equal(lastRenewal + 10);
    expect(startB.at).to.be.at.least(lastRenewal + 15);
    expect(startB.at - lastRenewal, "takeover within leaseDuration + retryPeriod").to.be.at.most(
      15 + 2,
    );
    expect(server.lease!.record.holderIdentity).to.equal("b");
    expect(server.lease!.record.leaseTransitions).to.equal(1);
    a.link.mode = "up";
    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });

  it("a follower takes over within the lease duration after the leader dies (hung for good)", async () => {
    const clock = new ManualClock();
    const server = new MemoryLease();
    const log: Parameters<typeof replica>[3] = [];
    const a = replica("a", server, clock, log);
    const b = replica("b", server, clock, log);
    const c = replica("c", server, clock, log);
    a.elector.start();
    await clock.advance(0);
    b.elector.start();
    c.elector.start();
    await clock.advance(5);
    const lastRenewal = parseMicroTime(server.lease!.record.renewTime)!;
    a.link.mode = "hang";
    await clock.advance(20);
    const starts = log.filter((e) => e.event === "start" && e.who !== "a");
    expect(starts.length, "one follower takes over").to.equal(1);
    expect(starts[0]!.at - lastRenewal).to.be.within(15, 17);
    for (const r of [a, b, c]) r.link.mode = "up";
    await Promise.all([a, b, c].map((r) => r.elector.stop()));
  });

  it("stop() stops acting, then releases the Lease (empty holder, duration 1) and a follower takes it at its next read", async () => {
    const clock = new ManualClock();
    const server = new MemoryLease();
    const log: Parameters<typeof replica>[3] = [];
    const a = replica("a", server, clock, log);
    const b = replica("b", server, clock, log);
    a.elector.start();
    await clock.advance(0);
    b.elector.start();
    await clock.advance(3);
    const stopping = a.elector.stop();
    expect(a.elector.isLeader()).to.equal(true);
    await clock.advance(0);
    await stopping;
    expect(a.elector.isLeader()).to.equal(false);
    expect(log.filter((e) => e.who === "a").map((e) => e.why ?? e.event)).to.deep.equal([
      "start",
      "released",
    ]);
    const released = server.lease!.record;
    expect(released.holderIdentity).to.equal("");
    expect(released.leaseDurationSeconds).to.equal(1);
    const at = clock.now();
    await clock.advance(5);
    const startB = log.find((e) => e.who === "b" && e.event === "start")!;
    expect(startB.at - at, "within one retryPeriod of the release").to.be.at.most(2);
    await b.elector.stop();
  });

  // The worst cases of the bounds: the follower's waits all at their longest (random 0:
  // one retryPeriod), shortest (random → 1: half of one) or in between, and the leader
  // killed at any point of its renewal period.
  const takeovers: { name: string; random: number; killAfter: number }[] = [];
  for (const random of [0, 0.5, 0.999]) {
    for (const killAfter of [0.01, 0.7, 1.3, 1.99]) {
      takeovers.push({
        name: `follower random ${random}, killed ${killAfter} s after a renewal`,
        random,
        killAfter,
      });
    }
  }
  for (const row of takeovers) {
    it(`a killed leader is replaced within [leaseDuration, leaseDuration + retryPeriod] of its last renewal (regression: up to + 2.2 × retryPeriod): ${row.name}`, async () => {
      const clock = new ManualClock();
      const server = new MemoryLease();
      const log: Parameters<typeof replica>[3] = [];
      const a = replica("a", server, clock, log);
      const b = replica("b", server, clock, log, { random: () => row.random });
      const t0 = clock.now();
      a.elector.start();
      await clock.advance(0);
      b.elector.start();
      // a renews at 0, 2, 4, 6, …: kill it `killAfter` into the period after the one at 6.
      await clock.advance(6 + row.killAfter);
      const lastRenewal = parseMicroTime(server.lease!.record.renewTime)!;
      expect(lastRenewal).to.equal(t0 + 6);
      a.link.mode = "hang";
      await clock.advance(25);
      const startB = log.find((e) => e.who === "b" && e.event === "start")!;
      expect(startB.at - lastRenewal).to.be.within(15, 17);
      a.link.mode = "up";
      await Promise.all([a.elector.stop(), b.elector.stop()]);
    });
  }

  for (const random of [0, 0.999]) {
    it(`a released Lease is taken within one retryPeriod (follower random ${random}; regression: up to 2.2 × retryPeriod)`, async () => {
      const clock = new ManualClock();
      const server = new MemoryLease();
      const log: Parameters<typeof replica>[3] = [];
      const a = replica("a", server, clock, log);
      const b = replica("b", server, clock, log, { random: () => random });
      a.elector.start();
      await clock.advance(0);
      b.elector.start();
      await clock.advance(3.3);
      await a.elector.stop();
      const releasedAt = clock.now();
      expect(server.lease!.record.holderIdentity).to.equal("");
      await clock.advance(5);
      const startB = log.find((e) => e.who === "b" && e.event === "start")!;
      expect(startB.at - releasedAt).to.be.at.most(2);
      await b.elector.stop();
    });
  }

  it("a 409 on renewal re-reads the Lease: still ours, renew again", async () => {
    const clock = new ManualClock();
    const server = new MemoryLease();
    const log: Parameters<typeof replica>[3] = [];
    const a = replica("a", server, clock, log);
    a.elector.start();
    await clock.advance(0);
    // Someone touches the Lease (e.g. kubectl annotate): its resourceVersion moves on.
    server.write(server.lease!.record, server.lease!.resourceVersion);
    await clock.advance(6);
    expect(a.elector.isLeader()).to.equal(true);
    expect(log.map((e) => e.event)).to.deep.equal(["start"]);
    await a.elector.stop();
  });

  it("a leader that reads another holder stops at once", async () => {
    const clock = new ManualClock();
    const server = new MemoryLease();
    const log: Parameters<typeof replica>[3] = [];
    const a = replica("a", server, clock, log);
    a.elector.start();
    await clock.advance(0);
    const r = server.lease!.record;
    server.write({ ...r, holderIdentity: "intruder" }, server.lease!.resourceVersion);
    await clock.advance(2);
    expect(a.elector.isLeader()).to.equal(false);
    expect(log.at(-1)).to.deep.include({ event: "stop", why: "intruder holds the Lease" });
    await a.elector.stop();
  });

  it("never two leaders acting, whatever the links do (property, manual clock)", async () => {
    const modes: LinkMode[] = ["up", "up", "up", "down", "hang", "lose-answers"];
    const step = fc.record({
      who: fc.nat(2),
      mode: fc.constantFrom(...modes),
      latency: fc.constantFrom(0, 0, 0.1, 0.7, 3, 9),
      seconds: fc.integer({ min: 1, max: 40 }).map((q) => q / 4),
    });
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 24 }), async (steps) => {
        runs++;
        const clock = new ManualClock();
        const server = new MemoryLease();
        const log: Parameters<typeof replica>[3] = [];
        const rs = ["a", "b", "c"].map((id) => replica(id, server, clock, log));
        for (const r of rs) r.elector.start();
        for (const s of steps) {
          rs[s.who]!.link.mode = s.mode;
          rs[s.who]!.link.latency = s.latency;
          for (let t = 0; t < s.seconds; t += 0.25) {
            await clock.advance(0.25);
            const leaders = rs.filter((r) => r.elector.isLeader()).map((r) => r.elector.identity);
            if (leaders.length > 1) throw new Error(`two leaders at ${clock.now()}: ${leaders}`);
          }
        }
        // Leadership intervals from the callbacks never overlap either.
        const open = new Map<string, number>();
        const intervals: [number, number][] = [];
        for (const e of log) {
          if (e.event === "start") open.set(e.who, e.at);
          else {
            intervals.push([open.get(e.who)!, e.at]);
            open.delete(e.who);
          }
        }
        for (const s of open.values()) intervals.push([s, Number.POSITIVE_INFINITY]);
        intervals.sort((x, y) => x[0] - y[0]);
        for (let i = 1; i < intervals.length; i++) {
          expect(intervals[i]![0], "a leader started before the last one stopped").to.be.at.least(
            intervals[i - 1]![1],
          );
        }
        // Liveness: with every link up, someone leads within the lease duration + a retry.
        for (const r of rs) {
          r.link.mode = "up";
          r.link.latency = 0;
        }
        await clock.advance(15 + 15 + 4.5);
        expect(rs.filter((r) => r.elector.isLeader()).length).to.equal(1);
        await Promise.all(rs.map((r) => r.elector.stop()));
      }),
      { seed: PROPERTY_SEED, numRuns: 40 },
    );
    expect(runs).to.equal(40);
  });
});
