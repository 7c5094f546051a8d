import { expect } from "chai";
import { nextBoundary, prewarmLeadSeconds } from "../../controller/loop/boundaries.js";
import { createSystemClock } from "../../controller/loop/clock.js";
import { capacityAtSlo } from "../../controller/simulate/capacity.js";
import { DEFAULT_START_EPOCH } from "../../controller/simulate/engine.js";
import { type PoolCapacity, poolCapacity } from "../../controller/simulate/pool-capacity.js";
import { DEFAULT_PROFILE } from "../../controller/simulate/profile.js";
import {
  batcherSettings,
  createServiceTime,
  simulatedModel,
} from "../../controller/simulate/setup.js";
import { pool } from "../scaling/support.js";

const MONDAY = DEFAULT_START_EPOCH; // 2026-01-05T00:00:00Z
const H = 3600;

describe("loop/boundaries: when schedules change the decision", () => {
  // The worked example of boundaries.ts: lead = 90 s + 2 min = 210 s.
  const berlin = pool({
    coldStart: "90s",
    nodeProvisioning: "2m",
    schedules: [
      {
        name: "office",
        cron: "0 8 * * MON-FRI",
        timezone: "Europe/Berlin",
        duration: "10h",
        minReplicas: 4,
      },
    ],
  });
  const rows = [
    {
      name: "before the pre-warm point: the pre-warm point",
      now: MONDAY + 6 * H + 50 * 60,
      want: MONDAY + 6 * H + 56 * 60 + 30,
    },
    {
      name: "at the pre-warm point: the start (strictly later)",
      now: MONDAY + 6 * H + 56 * 60 + 30,
      want: MONDAY + 7 * H,
    },
    { name: "at the start: nothing within the horizon", now: MONDAY + 7 * H, want: undefined },
    {
      name: "shortly before the end: the end",
      now: MONDAY + 16 * H + 50 * 60,
      want: MONDAY + 17 * H,
    },
    { name: "a Saturday: nothing", now: MONDAY + 5 * 24 * H + 6 * H + 50 * 60, want: undefined },
  ];
  for (const r of rows) {
    it(r.name, () => {
      expect(prewarmLeadSeconds(berlin)).to.equal(210);
      expect(nextBoundary(berlin, r.now, 15 * 60)).to.equal(r.want);
    });
  }

  it("a pool without schedules has no boundary", () => {
    expect(nextBoundary(pool(), MONDAY, 24 * H)).to.equal(undefined);
  });
});

describe("simulate/pool-capacity: the capacity simulate computes, from the pool itself", () => {
  it("equals simulate's capacity at the SLO with the default profile (the first model sizes the scaler)", () => {
    const policy = pool();
    const c: PoolCapacity = poolCapacity(policy);
    const model = simulatedModel(policy);
    const simulated = capacityAtSlo(
      batcherSettings(model),
      createServiceTime(DEFAULT_PROFILE),
      policy.spec.slo.latencyP99Ms / 1000,
      { seed: 1 },
    );
    expect(c.perReplica).to.equal(simulated.requestsPerSecond);
    expect(c.perReplica).to.be.above(0);
    expect(c.perModel).to.deep.equal({ [model.name]: simulated.requestsPerSecond });
    expect(c.profiles[model.name]).to.equal(DEFAULT_PROFILE.name);
  });
});

describe("loop/clock: the system clock's sleep", () => {
  it("resolves at once when aborted before or while sleeping (no wall-clock wait)", async () => {
    const clock = createSystemClock();
    const early = new AbortController();
    early.abort();
    await clock.sleep(3600, early.signal);
    const late = new AbortController();
    const sleeping = clock.sleep(3600, late.signal);
    late.abort();
    await sleeping;
    expect(Math.abs(clock.now() - Date.now() / 1000)).to.be.below(1);
  });
});
