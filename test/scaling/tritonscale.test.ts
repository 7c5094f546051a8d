import { expect } from "chai";
import type { Policy } from "../../controller/policy/index.js";
import { type ByCapacity, createTritonscaleScaler } from "../../controller/scaling/index.js";
import { every, pool, runScenario, type Step } from "./support.js";

const od = (n: number): ByCapacity => ({ spot: 0, onDemand: n });

/** 96 req/s per replica at the 85 ms SLO; planned 0.7 × 96 = 67.2 req/s per replica. */
const C = 96;

/** 2024-01-08 00:00 UTC, a Monday: schedules need a real date. */
const MONDAY = Date.UTC(2024, 0, 8) / 1000;

const base = { minReplicas: 0, maxReplicas: 10, idleWindow: "10m", coldStart: "90s" };

describe("scaling/tritonscale: capacity model at the SLO", () => {
  const scenarios: {
    name: string;
    scaling?: object;
    capacity?: object;
    /** options.capacityByReplicas, and then C is its first element. */
    curve?: number[];
    start: number | ByCapacity;
    epoch?: number;
    steps: Step[];
  }[] = [
    {
      name: "steady (worked example): 184 req/s + a small backlog → 3",
      start: 3,
      steps: [
        {
          t: 0,
          arrival: 184,
          pending: 10,
          total: 3,
          held: false,
          reason:
            /^arrivals 184 req\/s \+ backlog: 10 pending, 5.58 beyond what 3 Ready drain in 42.5 ms, over 90 s = \+0.06 req\/s; 184.06 req\/s \/ \(96 req\/s × 0.7\) → 3; keep 3$/,
        },
      ],
    },
    {
      name: "burst (worked example): 400 req/s + 120 pending → 6, panic, within the rate limit",
      start: 3,
      steps: [
        {
          t: 0,
          arrival: 400,
          pending: 120,
          total: 6,
          reason: [/401.33 req\/s \/ \(96 req\/s × 0.7\) → 6/, /panic: 6 ≥ 2 × 3 Ready/, /3 → 6$/],
        },
      ],
    },
    {
      name: "scale-up moves at most as the behavior allows: 1 → 5 → 10 → 20 → 30",
      scaling: { ...base, maxReplicas: 50 },
      start: 1,
      steps: [
        { t: 0, arrival: 2000, pending: 0, total: 5, reason: /→ 30; panic.*scale-up limited to 5/ },
        { t: 15, arrival: 2000, pending: 0, total: 10 },
        { t: 30, arrival: 2000, pending: 0, total: 20 },
        { t: 45, arrival: 2000, pending: 0, total: 30 },
      ],
    },
    {
      name: "a scale-up stabilization window delays a modest rise for 60 s",
      scaling: { ...base, scaleUp: { stabilizationWindow: "60s" } },
      start: 4,
      steps: [
        ...every(15, 0, 60, {
          arrival: 400,
          pending: 0,
          total: 4,
          reason: /scale-up stabilized at 4: the lowest recommendation of the last 60 s/,
        }),
        { t: 60, arrival: 400, pending: 0, total: 6 },
      ],
    },
    {
      name: "panic skips that window, but not the rate limit",
      scaling: { ...base, scaleUp: { stabilizationWindow: "60s" } },
      start: 1,
      steps: [{ t: 0, arrival: 2000, pending: 0, total: 5, reason: /panic/ }],
    },
    {
      name: "no scale-down while panicking (60 s after the condition last held)",
      scaling: { ...base, scaleDown: { stabilizationWindow: "0s" } },
      start: 2,
      steps: [
        { t: 0, arrival: 400, pending: 0, total: 6, reason: /panic: 6 ≥ 2 × 2 Ready/ },
        {
          t: 15,
          arrival: 100,
          pending: 0,
          total: 6,
          reason: /panic for 45 s more: not scaling down/,
        },
        { t: 45, arrival: 100, pending: 0, total: 6 },
        { t: 60, arrival: 100, pending: 0, total: 2, reason: /6 → 2/ },
      ],
    },
    {
      name: "scale-down is stabilized: the highest recommendation of the last 5 minutes",
      start: 6,
      steps: [
        {
          t: 0,
          arrival: 100,
          pending: 0,
          total: 6,
          reason:
            /→ 2; scale-down stabilized at 6: the highest recommendation of the last 300 s; keep 6/,
        },
        ...every(15, 15, 300, { arrival: 100, pending: 0, total: 6 }),
        { t: 300, arrival: 100, pending: 0, total: 2 },
      ],
    },
    {
      name: "scale-down rate: 25% per minute from the period start",
      scaling: {
        ...base,
        scaleDown: { stabilizationWindow: "0s", maxPercentPerPeriod: 25, period: "1m" },
      },
      start: 8,
      steps: [
        {
          t: 0,
          arrival: 50,
          pending: 0,
          total: 6,
          reason: /scale-down limited to 6: -25% per 60 s from 8/,
        },
        { t: 15, arrival: 50, pending: 0, total: 6 },
        { t: 60, arrival: 50, pending: 0, total: 4 },
      ],
    },
    {
      name: "tolerance: 5% above 3 replicas' plan keeps 3",
      start: 3,
      steps: [
        {
          t: 0,
          arrival: 211.68,
          pending: 0,
          total: 3,
          reason: /within tolerance 0.1 of 3 \(1.05\): keep 3/,
        },
      ],
    },
    {
      name: "queue delay beyond half the SLO plans one replica more than Ready",
      start: 2,
      steps: [
        {
          t: 0,
          arrival: 100,
          pending: 0,
          queueDelayMs: 60,
          total: 3,
          reason:
            /queue delay 60 ms > 42.5 ms \(50% of the 85 ms SLO\): Ready replicas are past capacity, planning 3/,
        },
      ],
    },
    {
      name: "trend pre-warm: 100 → 220 req/s over 120 s projects +90 req/s over the 90 s cold start → 5",
      start: 4,
      steps: [
        ...every(15, 0, 120, { pending: 0 }).map((s) => ({ ...s, arrival: 100 + s.t })),
        {
          t: 120,
          arrival: 220,
          pending: 0,
          total: 5,
          reason: /rising 1 req\/s per s, \+90 req\/s in the 90 s new capacity takes; 310 req\/s/,
        },
      ],
    },
    {
      name: "the same 220 req/s without a rise stays at 4",
      start: 4,
      steps: every(15, 0, 135, { arrival: 220, pending: 0, total: 4 }),
    },
    {
      name: "a falling trend never lowers the plan below today's demand",
      start: 4,
      steps: [
        ...every(15, 0, 120, { pending: 0 }).map((s) => ({ ...s, arrival: 220 - s.t })),
        { t: 120, arrival: 100, pending: 0, total: 4, reason: /^arrivals 100 req\/s; 100 req\/s/ },
      ],
    },
    {
      name: "scale to zero only after the full idle window (600 s), then wake on arrivals",
      start: 1,
      steps: [
        ...every(15, 0, 585, { arrival: 0, pending: 0, inflight: 0, total: 1 }),
        {
          t: 585,
          arrival: 0,
          pending: 0,
          inflight: 0,
          total: 1,
          reason: /keeping 1 replica until idle for the whole idleWindow \(585 of 600 s\)/,
        },
        {
          t: 600,
          arrival: 0,
          pending: 0,
          inflight: 0,
          total: 0,
          active: false,
          reason: /idle for 600 s ≥ idleWindow 600 s: scaling to zero; 1 → 0/,
        },
        { t: 615, arrival: 0, pending: 0, inflight: 0, total: 0 },
        { t: 630, arrival: 5, pending: 0, total: 1, active: true },
      ],
    },
    {
      name: "a request in the middle restarts the idle window",
      start: 1,
      steps: [
        ...every(15, 0, 300, { arrival: 0, pending: 0, total: 1 }),
        { t: 300, arrival: 0.2, pending: 0, total: 1 },
        ...every(15, 315, 915, { arrival: 0, pending: 0, total: 1 }),
        { t: 915, arrival: 0, pending: 0, total: 0 },
      ],
    },
    {
      name: "requests inflight, queued or replicas starting are not idle",
      start: 1,
      steps: [
        ...every(15, 0, 900, { arrival: 0, pending: 0, inflight: 1, total: 1 }),
        { t: 900, arrival: 0, pending: 2, inflight: 0, total: 1, reason: /not idle \(2 pending\)/ },
        ...every(15, 915, 1800, { arrival: 0, pending: 0, starting: 1, ready: 0, total: 1 }),
      ],
    },
    {
      name: "missing arrival rate holds the last decision: never down, never to zero",
      start: 5,
      steps: [
        {
          t: 0,
          arrival: null,
          pending: 0,
          total: 5,
          held: true,
          reason:
            /^arrival rate missing: holding 5 replicas \(never scaling down or to zero without data\)$/,
        },
        ...every(15, 15, 1800, { arrival: null, pending: 0, total: 5, held: true }),
      ],
    },
    {
      name: "a dark replica (scrape failing after it was read): the rates cover part of the pool — no scale-down, scale-up still",
      scaling: { ...base, scaleDown: { stabilizationWindow: "0s" } },
      start: 4,
      steps: [
        { t: 0, arrival: 260, pending: 0, total: 4, held: false },
        // b went dark: only a's half of the 260 req/s is seen → would be 2.
        {
          t: 15,
          arrival: 130,
          pending: 0,
          dark: 1,
          total: 4,
          held: false,
          reason: /1 replicas' metrics unreadable since their last scrape: .*not scaling down/,
        },
        // A burst seen on the readable part still scales up.
        { t: 30, arrival: 400, pending: 0, dark: 1, total: 6, held: false },
        // b readable again: decisions as usual.
        { t: 45, arrival: 130, pending: 0, total: 2 },
      ],
    },
    {
      name: "a dark replica keeps the pool from idling to zero",
      scaling: { ...base, idleWindow: "1m", scaleDown: { stabilizationWindow: "0s" } },
      start: 1,
      steps: [
        ...every(15, 0, 300, { arrival: 0, pending: 0, dark: 1, total: 1, active: true }),
        ...every(15, 300, 360, { arrival: 0, pending: 0, total: 1 }),
        { t: 360, arrival: 0, pending: 0, total: 0, active: false },
      ],
    },
    {
      name: "missing pending count holds too",
      start: 2,
      steps: [
        {
          t: 0,
          arrival: 0,
          pending: null,
          total: 2,
          held: true,
          reason: /pending requests missing/,
        },
      ],
    },
    {
      name: "stale data holds and restarts the idle window",
      start: 1,
      steps: [
        ...every(15, 0, 585, { arrival: 0, pending: 0, total: 1 }),
        {
          t: 585,
          arrival: 0,
          pending: 0,
          age: 60,
          total: 1,
          held: true,
          reason: /arrival rate stale \(60 s old > staleAfter 45 s\) and pending requests stale/,
        },
        ...every(15, 600, 1200, { arrival: 0, pending: 0, total: 1, held: false }),
        { t: 1200, arrival: 0, pending: 0, total: 0 },
      ],
    },
    {
      name: "maxReplicas is never exceeded",
      start: 1,
      steps: every(15, 0, 300, { arrival: 5000, pending: 500 }).map((s) =>
        s.t === 285 ? { ...s, total: 10, reason: /capped at maxReplicas 10/ } : s,
      ),
    },
    {
      name: "schedule: pre-warm within coldStart, hold the minimum while active, then follow demand",
      scaling: {
        ...base,
        schedules: [
          { name: "morning", cron: "0 8 * * *", timezone: "UTC", duration: "1h", minReplicas: 8 },
        ],
      },
      epoch: MONDAY,
      start: 1,
      steps: [
        { t: 8 * 3600 - 120, arrival: 10, pending: 0, total: 1 },
        {
          t: 8 * 3600 - 60,
          arrival: 10,
          pending: 0,
          total: 8,
          reason:
            /schedule morning starts in 60 s \(within the 90 s new capacity takes\): pre-warming to at least 8; 1 → 8/,
        },
        ...every(15, 8 * 3600, 9 * 3600, { arrival: 10, pending: 0, total: 8 }),
        { t: 9 * 3600, arrival: 10, pending: 0, total: 1 },
      ],
    },
    {
      name: "schedule: its minimum holds even without data",
      scaling: {
        ...base,
        schedules: [
          { name: "morning", cron: "0 8 * * *", timezone: "UTC", duration: "1h", minReplicas: 8 },
        ],
      },
      epoch: MONDAY,
      start: 2,
      steps: [
        {
          t: 8 * 3600 + 60,
          arrival: null,
          pending: null,
          total: 8,
          held: true,
          reason: /holding 2 replicas.*schedule morning is active.*2 → 8/,
        },
      ],
    },
    {
      name: "policy minReplicas is a floor",
      scaling: { ...base, minReplicas: 2, scaleDown: { stabilizationWindow: "0s" } },
      start: 4,
      steps: [{ t: 0, arrival: 0, pending: 0, total: 2, reason: /minReplicas 2/ }],
    },
    {
      // Each of n replicas sharing round-robin arrivals sustains C(n): 60 req/s at U = 0.85
      // needs 3 (3 × 28.2 × 0.85 = 71.91; 2 × 23.9 × 0.85 = 40.63 is short), where the one
      // capacity 14.2 gives ceil(60 / 12.07) = 5.
      name: "capacity by replicas: 60 req/s on the curve 14.2, 23.9, 28.2, 30.5 → 3 (one capacity: 5)",
      scaling: { ...base, targetUtilization: 0.85 },
      curve: [14.2, 23.9, 28.2, 30.5],
      start: 3,
      steps: [
        {
          t: 0,
          arrival: 60,
          pending: 0,
          total: 3,
          terms: { spreadCapacity: 28.2 },
          reason:
            /60 req\/s \/ \(28.2 req\/s each of 3 sharing round-robin arrivals × 0.85\) → 3; keep 3$/,
        },
      ],
    },
    {
      name: "…the same 60 req/s without the curve → 5",
      scaling: { ...base, targetUtilization: 0.85 },
      curve: [14.2],
      start: 5,
      steps: [
        {
          t: 0,
          arrival: 60,
          pending: 0,
          total: 5,
          terms: { spreadCapacity: null },
          reason: /60 req\/s \/ \(14.2 req\/s × 0.85\) → 5; keep 5$/,
        },
      ],
    },
    {
      // Past the curve's end (4) its last value holds: 200 / (30.5 × 0.85) = 7.71 → 8.
      name: "capacity by replicas: past the curve's end its last value holds (200 req/s → 8)",
      scaling: { ...base, targetUtilization: 0.85 },
      curve: [14.2, 23.9, 28.2, 30.5],
      start: 8,
      steps: [
        {
          t: 0,
          arrival: 200,
          pending: 0,
          total: 8,
          terms: { spreadCapacity: 30.5 },
          reason: /200 req\/s \/ \(30.5 req\/s each of 8 sharing round-robin arrivals × 0.85\) → 8/,
        },
      ],
    },
    {
      // Ready 2 on the curve: 2 × 23.9 = 47.8 req/s; the Ready + 1 floor plans 3 × 28.2 × 0.85.
      name: "capacity by replicas: queue delay beyond half the SLO still plans one replica more than Ready",
      scaling: { ...base, targetUtilization: 0.85 },
      curve: [14.2, 23.9, 28.2, 30.5],
      start: 2,
      steps: [
        {
          t: 0,
          arrival: 30,
          pending: 0,
          queueDelayMs: 60,
          total: 3,
          reason: /Ready replicas are past capacity, planning 3; 71.91 req\/s/,
        },
      ],
    },
    {
      name: "Spot split: onDemandBase on-demand, the rest Spot",
      capacity: { spot: { enabled: true, onDemandBase: 1 } },
      start: 1,
      steps: [{ t: 0, arrival: 300, pending: 0, desired: { spot: 4, onDemand: 1 } }],
    },
  ];
  for (const s of scenarios) {
    it(s.name, () => {
      const p: Policy = pool(s.scaling ?? base, s.capacity ?? {});
      const scaler = createTritonscaleScaler(
        p,
        s.curve === undefined
          ? { capacityPerReplica: C }
          : { capacityPerReplica: s.curve[0]!, capacityByReplicas: s.curve },
      );
      const start = typeof s.start === "number" ? od(s.start) : s.start;
      runScenario(scaler, p, start, s.steps, s.epoch ?? 0);
    });
  }

  const bad: { name: string; capacity: number | undefined }[] = [
    { name: "missing", capacity: undefined },
    { name: "zero", capacity: 0 },
    { name: "not a number", capacity: Number.NaN },
  ];
  for (const b of bad) {
    it(`needs capacityPerReplica: ${b.name}`, () => {
      expect(() =>
        createTritonscaleScaler(
          pool(base),
          b.capacity === undefined ? {} : { capacityPerReplica: b.capacity },
        ),
      ).to.throw(`tritonscale scaler needs options.capacityPerReplica > 0`);
    });
  }

  const badCurves: { name: string; curve: number[] }[] = [
    { name: "empty", curve: [] },
    { name: "a zero", curve: [96, 0] },
    { name: "not a number", curve: [96, Number.NaN] },
  ];
  for (const b of badCurves) {
    it(`capacityByReplicas must hold positive numbers: ${b.name}`, () => {
      expect(() =>
        createTritonscaleScaler(pool(base), { capacityPerReplica: C, capacityByReplicas: b.curve }),
      ).to.throw("options.capacityByReplicas to hold positive numbers");
    });
  }

  it("decides every syncPeriod and is deterministic", () => {
    const p = pool({ ...base, syncPeriod: "10s" });
    const scaler = createTritonscaleScaler(p, { capacityPerReplica: C });
    expect(scaler.periodSeconds).to.equal(10);
    const steps = every(10, 0, 300, { arrival: 150, pending: 3 });
    const a = runScenario(scaler, p, od(1), steps);
    const b = runScenario(scaler, p, od(1), steps);
    expect(a).to.deep.equal(b);
  });
});
