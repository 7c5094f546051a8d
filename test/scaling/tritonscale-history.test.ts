import { expect } from "chai";
import type { Policy } from "../../controller/policy/index.js";
import {
  type ByCapacity,
  createTritonscaleScaler,
  type RatePoint,
  type TritonscaleState,
} from "../../controller/scaling/index.js";
import { every, pool, runScenario, type Step } from "./support.js";

/**
 * The tritonscale scaler's learned terms (scaling/history.ts), each on a history learned
 * from hand-made rate points, with the numbers worked by hand. Every pool here: C = 96 req/s
 * at the 85 ms SLO, U = 0.7 (67.2 req/s planned per replica), L = coldStart 90 s +
 * nodeProvisioning 0 s = 90 s, history buckets of 30 s (L = 3 buckets), node linger 600 s
 * (linger + L = 690 s = 23 buckets).
 */

const od = (n: number): ByCapacity => ({ spot: 0, onDemand: n });
const C = 96;

/** Points every 30 s from 0 to `seconds` (exclusive), the rate at t given by `rate`. */
function points(seconds: number, rate: (t: number) => number): RatePoint[] {
  const out: RatePoint[] = [];
  for (let t = 0; t < seconds; t += 30) out.push({ at: t, rate: rate(t) });
  return out;
}

/** 100 req/s with a 30 s bucket at 200 req/s every 10 minutes (at minute 5, 15, ...). */
const surges = (t: number): number => (t % 600 === 300 ? 200 : 100);

/** Busy 5 min at 50 req/s, then idle `idle` seconds, repeated. */
const busyIdle =
  (idle: number) =>
  (t: number): number =>
    t % (300 + idle) < 300 ? 50 : 0;

const base = {
  minReplicas: 0,
  maxReplicas: 10,
  idleWindow: "10m",
  coldStart: "90s",
  scaleDown: { stabilizationWindow: "0s" },
};

describe("scaling/tritonscale: learned terms", () => {
  const scenarios: {
    name: string;
    history?: object;
    scaling?: object;
    learn: RatePoint[];
    start: number;
    /** Seconds after the learned points where the steps begin. */
    at: number;
    steps: Step[];
  }[] = [
    {
      // Rise within 90 s: the 3 buckets before each surge see 200 / 100 = 2 (3 of every 20
      // buckets, 15% > 0.5%), so the 99.5th percentile is the bin holding 2, read at its
      // upper edge 2^(17/16) = 2.09: 100 × 2.09 = 208.85 req/s at the full capacity 96 →
      // 2.18 → 3, where the rate alone gives 100 / 67.2 = 1.49 → 2.
      name: "lead headroom: a learned 2× rise within L holds 3 replicas at 100 req/s (rate alone: 2)",
      history: { minCorrelation: 1 },
      learn: points(7200, surges),
      start: 2,
      at: 7200,
      steps: [
        {
          t: 0,
          arrival: 100,
          pending: 0,
          total: 3,
          terms: { leadHeadroom: 2.09 },
          reason: [
            /lead headroom: within 90 s demand rose to ×2.09 of 100 req\/s at the 99.5th percentile \(\d+ samples\) → 208.85 req\/s; 208.85 req\/s \/ 96 req\/s → 3/,
            /2 → 3$/,
          ],
        },
      ],
    },
    {
      name: "the lead quantile follows history.leadQuantile: at the 80th percentile the surges (15%) are not covered → 2",
      history: { minCorrelation: 1, leadQuantile: 0.8 },
      learn: points(7200, surges),
      start: 2,
      at: 7200,
      steps: [{ t: 0, arrival: 100, pending: 0, total: 2, terms: { leadHeadroom: null } }],
    },
    {
      // At the surge's 200 req/s the rate alone gives ceil(200 / 67.2) = 3 > 2. Every surge
      // so far lasted one 30 s bucket (the 90th percentile: 30 s) < L = 90 s: replicas
      // ordered now arrive after it, so the scale-up is not started (2 = the level before).
      name: "a surge that history says ends before L is not chased: 200 req/s at 2 replicas stays 2",
      history: { minCorrelation: 1, leadQuantile: 0.8 },
      learn: points(7200, surges),
      start: 2,
      at: 7200,
      steps: [
        {
          t: 0,
          arrival: 200,
          pending: 0,
          total: 2,
          terms: { surgeLengthSeconds: 30 },
          reason:
            /surge for 0 s \(200 req\/s over a [\d.]+ req\/s baseline\); 90% of the last surges lasted ≤ 30 s < the 90 s new capacity takes: not starting a scale-up that lands after it, 3 → 2/,
        },
      ],
    },
    {
      name: "…but a scaler without history chases it (today's behavior): 200 req/s → 3",
      history: { enabled: false },
      learn: points(7200, surges),
      start: 2,
      at: 7200,
      steps: [{ t: 0, arrival: 200, pending: 0, total: 3, terms: { surgeLengthSeconds: null } }],
    },
    {
      // From 4 at 100 req/s the plan is 2 (100 / 67.2 = 1.49). Within linger + L = 690 s of
      // every bucket a surge to 2× came (one every 600 s): the 90th percentile rise is 2.09
      // → 208.85 req/s / 96 = 2.18 → keep 3. Removing the third replica saves nothing (its
      // node is paid 600 s more) and it would be needed back before that.
      name: "scale-down that pays: 4 → 3, not 2, when demand came back within linger + L",
      history: { minCorrelation: 1, leadQuantile: 0.8 },
      learn: points(7200, surges),
      start: 4,
      at: 7200,
      steps: [
        {
          t: 0,
          arrival: 100,
          pending: 0,
          total: 3,
          terms: { downRise: 2.09 },
          reason:
            /scale-down does not pay: within 690 s \(node linger 600 s \+ 90 s to come back\) demand rose to ×2.09 at the 90th percentile → 208.85 req\/s, keeping 3; 4 → 3$/,
        },
      ],
    },
    {
      name: "downQuantile 0 disables it: 4 → 2",
      history: { minCorrelation: 1, leadQuantile: 0.8, downQuantile: 0 },
      learn: points(7200, surges),
      start: 4,
      at: 7200,
      steps: [{ t: 0, arrival: 100, pending: 0, total: 2, terms: { downRise: null } }],
    },
    {
      // 2 Ready at 60 req/s: 45% of their planned 134.4 req/s, no backlog, not strained; the
      // mean queue delay 20 ms is above 8% of the 85 ms SLO (6.8 ms), which Poisson
      // arrivals reach only near capacity. To bring it to 12% (10.2 ms):
      // 2 × (20 / 10.2)^(2/3) = 2 × 1.57 = 3.13 → 4.
      name: "clumped arrivals: a slow queue well within capacity → 2 × (20/10.2)^(2/3) = 3.13 → 4",
      learn: [],
      start: 2,
      at: 0,
      steps: [
        {
          t: 0,
          arrival: 60,
          pending: 0,
          queueDelayMs: 20,
          total: 4,
          terms: { clumpReplicas: 3.13 },
          reason:
            /clumped arrivals: queue delay above 6.8 ms \(8% of the SLO\) at 20–80% of planned capacity needed 3.13 replicas at 60 req\/s to bring it to 10.2 ms; now 3.13 → 4/,
        },
        // Learned: at 4× the rate, √4 × 3.13 = 6.27 → 7 (the rate alone: 240 / 67.2 → 4).
        { t: 15, arrival: 240, pending: 0, queueDelayMs: 2, ready: 4, total: 7 },
      ],
    },
    {
      // Poisson arrivals at planned load queue about what poissonQueueMs says (the example
      // pool: 0.87–1.13 of it). 50 req/s a replica on 22 ms batches of 1: busy 50 × 22 / 1
      // / 1000 = 1.1 → 1 of the time, so a request waits about half a batch: 1 × (22 / 2 +
      // 0.1² / 44) = 11.0 ms; the gate is 1.35 × 11.0 = 14.85 ms. The old test (delay above
      // 8% of the SLO, 6.8 ms) read 12 ms as clumps: 2 × (12 / 10.2)^(2/3) = 2.23 → 3.
      name: "Poisson arrivals at planned load (12 ms queued where Poisson queues 11 ms) → no clump term",
      learn: [],
      start: 2,
      at: 0,
      steps: [
        ...every(15, 0, 300, {
          arrival: 100,
          pending: 0,
          queueDelayMs: 12,
          batchMs: 22,
          batchSize: 1,
          total: 2,
          terms: { clumpReplicas: null },
        }),
      ],
    },
    {
      // A 2× one-minute surge over 60 req/s, read at 1.27× (76 req/s) by the lagging rate
      // window while the queue delay is the surge's own (as on the shift trace: 1.25–1.36×
      // what Poisson queues at the read rate). 38 req/s a replica on 22 ms batches of 1:
      // busy 0.836 → 0.164 × 0.1 + 0.836 × 11.0 = 9.21 ms, gate 12.43 ms; 12 ms is no
      // evidence of clumps. The old test learned 2.23 replicas and held 3 after the surge.
      name: "a 2× surge read at 1.27× its base, its own queue 1.3× Poisson's → no clump term",
      learn: [],
      start: 2,
      at: 0,
      steps: [
        { t: 0, arrival: 60, pending: 0, queueDelayMs: 3, batchMs: 12, batchSize: 1, ready: 2 },
        {
          t: 15,
          arrival: 76,
          pending: 0,
          ready: 2,
          queueDelayMs: 12,
          batchMs: 22,
          batchSize: 1,
          terms: { clumpReplicas: null },
        },
        {
          t: 30,
          arrival: 60,
          pending: 0,
          ready: 2,
          queueDelayMs: 3,
          batchMs: 12,
          batchSize: 1,
          terms: { clumpReplicas: null },
        },
      ],
    },
    {
      // 40 frames within 50 ms (simulated: 184 req/s a replica on 27.7 ms batches of 6.6
      // queue 37.7 ms, 3.4× Poisson's 11.2 ms). Here 30 req/s a replica on 20 ms batches of
      // 4: busy 0.15 → 0.85 × 0.1 + 0.15 × 10.0 = 1.59 ms, gate max(6.8, 2.14) = 6.8 ms;
      // 20 ms queued is clumps: 2 × (20 / 10.2)^(2/3) = 3.13 → 4.
      name: "40-frame clumps (20 ms queued where Poisson queues 1.59 ms) → clump term 3.13 → 4",
      learn: [],
      start: 2,
      at: 0,
      steps: [
        {
          t: 0,
          arrival: 60,
          pending: 0,
          queueDelayMs: 20,
          batchMs: 20,
          batchSize: 4,
          total: 4,
          terms: { clumpReplicas: 3.13 },
          reason:
            /clumped arrivals: queue delay above 6\.8 ms \(the larger of 6\.8 ms, 8% of the SLO, and 1\.35 × 1\.59 ms, what Poisson arrivals queue at 30 req\/s a replica\) at 20–80% of planned capacity needed 3\.13 replicas at 60 req\/s to bring it to 10\.2 ms; now 3\.13 → 4/,
        },
      ],
    },
    {
      name: "no clumping learned from a queue left by an overload (rate above planned capacity)",
      learn: [],
      start: 2,
      at: 0,
      steps: [
        { t: 0, arrival: 150, pending: 0, queueDelayMs: 32, total: 3 },
        // 15 s later the rate is down, but the rate window still holds the overload's queue.
        {
          t: 15,
          arrival: 60,
          pending: 0,
          queueDelayMs: 32,
          ready: 2,
          terms: { clumpReplicas: null },
        },
      ],
    },
    {
      // 11 gaps of 180 s (6 idle buckets; the 12th has not ended) in the minute bin [3, 4) min: the 99th
      // percentile's upper edge is 240 s, the keep-alive; the 5th percentile 180 s − L 90 s
      // = 90 s is under the node linger, so no early zero: 1 replica for 240 s, then zero
      // (idleWindow 10m would have kept it 600 s).
      name: "keep-alive from idle gaps: zero after the gaps' 99th percentile (240 s), not idleWindow (600 s)",
      history: { minCorrelation: 1 },
      learn: points(12 * 480, busyIdle(180)),
      start: 1,
      at: 12 * 480,
      steps: [
        ...every(15, 0, 240, {
          arrival: 0,
          pending: 0,
          inflight: 0,
          total: 1,
          terms: { keepAliveSeconds: 240 },
        }),
        {
          t: 240,
          arrival: 0,
          pending: 0,
          inflight: 0,
          total: 0,
          reason:
            /idle for 240 s, keep-alive 240 s \(99th percentile of 11 idle gaps\): scaling to zero/,
        },
      ],
    },
    {
      name: "keep-alive never drops a busy pool: inflight or pending requests keep 1",
      history: { minCorrelation: 1 },
      learn: points(12 * 480, busyIdle(180)),
      start: 1,
      at: 12 * 480,
      steps: [
        ...every(15, 0, 300, { arrival: 0, pending: 0, inflight: 1, total: 1 }),
        ...every(15, 300, 600, { arrival: 0, pending: 2, inflight: 0, total: 1 }),
      ],
    },
    {
      // Two gaps of 20 min seen (fewer than minGaps 10, so no histogram policy yet): both
      // in the minute bin [20, 21), upper edge 1260 s > idleWindow 600 s. Going to zero at
      // 600 s would cost a cold start in a gap like those: 1 replica until 1260 s.
      name: "few idle gaps, longer than idleWindow: keep 1 replica through the longest seen",
      history: { minCorrelation: 1 },
      learn: points(3 * 1500, busyIdle(1200)),
      start: 1,
      at: 3 * 1500,
      steps: [
        ...every(15, 0, 1260, {
          arrival: 0,
          pending: 0,
          inflight: 0,
          total: 1,
          terms: { keepAliveSeconds: 1260 },
        }),
        {
          t: 1260,
          arrival: 0,
          pending: 0,
          inflight: 0,
          total: 0,
          reason:
            /idle for 1260 s, keep-alive 1260 s \(the longest of 2 idle gaps, above idleWindow 600 s\): scaling to zero/,
        },
      ],
    },
    {
      // The slow wave taught how demand rises at 220 req/s (×2^(1/16) = 1.04 within 90 s:
      // 229.7 / 96 → 3); the jump 100 → 220 within the 120 s trend window (1.9× its oldest
      // rate, 115) is a surge, not a ramp, so it is not extrapolated: 220 / 67.2 → 4. The
      // same steps without history project +90 req/s → 5 (see the reactive tests).
      name: "a learned level replaces the trend: 100 → 220 req/s in 120 s stays at 4 (no history: 5)",
      history: { minCorrelation: 1, downQuantile: 0 },
      scaling: { scaleDown: { stabilizationWindow: "5m" } },
      learn: points(7200, (t) => 175 + 75 * Math.sin((2 * Math.PI * t) / 7200)),
      start: 4,
      at: 7200,
      steps: [
        ...every(15, 0, 120, { pending: 0 }).map((s) => ({ ...s, arrival: 100 + s.t })),
        { t: 120, arrival: 220, pending: 0, total: 4, terms: { leadHeadroom: 1.04 } },
      ],
    },
    {
      // Gaps of 20 min: the 5th percentile 1200 s − L 90 s = 1110 s > node linger 600 s, so
      // zero pays at once, and 1 replica is pre-warmed from 1110 s of quiet until the 99th
      // percentile's upper edge, 1260 s (Shahrad et al.'s hybrid policy).
      name: "hybrid keep-alive: long regular gaps go to zero at once, pre-warm L before the 5th percentile",
      history: { minCorrelation: 1 },
      learn: points(12 * 1500, busyIdle(1200)),
      start: 1,
      at: 12 * 1500,
      steps: [
        {
          t: 0,
          arrival: 0,
          pending: 0,
          inflight: 0,
          total: 0,
          terms: { preWarmSeconds: 1110, keepAliveSeconds: 1260 },
          reason:
            /5th percentile idle gap 1200 s − 90 s lead > node linger 600 s: zero at once, pre-warm at 1110 s, keep-alive to 1260 s: scaling to zero/,
        },
        ...every(15, 15, 1110, { arrival: 0, pending: 0, inflight: 0, total: 0 }),
        {
          t: 1110,
          arrival: 0,
          pending: 0,
          inflight: 0,
          total: 1,
          reason: /pre-warm: quiet for 1110 s, idle gaps end from 1110 s \+ 90 s on, not zero/,
        },
        ...every(15, 1125, 1260, { arrival: 0, pending: 0, inflight: 0, total: 1 }),
        { t: 1260, arrival: 0, pending: 0, inflight: 0, total: 0 },
      ],
    },
    {
      // Each hour: 100 req/s, and 300 req/s from minute 50 to 55. 4 h 48 min learned; the
      // autocorrelation at 1 h is 1. At minute 48 one hour ago the next L + 30 s reached
      // 300 req/s, ×1 (the level now, 100, over the level then, 100): 300 / 96 = 3.13 → 4.
      // (leadQuantile 0.9: the lead rises before the surges, 2.5% of buckets, don't count.)
      name: "recurring pattern: an hourly rise is pre-warmed L before it comes",
      history: { leadQuantile: 0.9, downQuantile: 0 },
      learn: points(4 * 3600 + 48 * 60, (t) => (t % 3600 >= 3000 && t % 3600 < 3300 ? 300 : 100)),
      start: 2,
      at: 4 * 3600 + 48 * 60,
      steps: [
        {
          t: 0,
          arrival: 100,
          pending: 0,
          total: 4,
          terms: { periodSeconds: 3600, periodCorrelation: 1, forecast: 300 },
          reason:
            /recurring every 3600 s \(r 1\): one period ago the next 90 s reached 300 req\/s, ×1 for today's level → 300 req\/s; 300 req\/s \/ 96 req\/s → 4/,
        },
      ],
    },
    {
      name: "a forecast never scales in: 600 req/s now is planned on the rate, above the forecast",
      history: { leadQuantile: 0.9, downQuantile: 0 },
      learn: points(4 * 3600 + 48 * 60, (t) => (t % 3600 >= 3000 && t % 3600 < 3300 ? 300 : 100)),
      start: 10,
      at: 4 * 3600 + 48 * 60,
      steps: [{ t: 0, arrival: 600, pending: 0, total: 9 }],
    },
    {
      // Two hours at a flat 300 req/s: every rise within L is ≤ 1 (bin 0, ratio 1), learned
      // at this level; the plan stays at U = 0.7: 300 / 67.2 = 4.46 → 5, kept (at the full C
      // it would have been 300 / 96 = 3.13 → 4, and p99 at the SLO is 99% within, short of
      // a 99.5% target).
      name: "learned at this level, targetUtilization still applies: flat 300 req/s plans 300 / (96 × 0.7) → 5 (regression: planning at the full C, 99% within at p99 = SLO, missed the fleet example's target)",
      history: { minCorrelation: 1 },
      learn: points(7200, () => 300),
      start: 5,
      at: 7200,
      steps: [
        {
          t: 0,
          arrival: 300,
          pending: 0,
          total: 5,
          terms: { plannedUtilization: null, leadHeadroom: null },
          reason: /300 req\/s \/ \(96 req\/s × 0\.7\) → 5/,
        },
      ],
    },
    {
      // A queue delay of 60 ms > 42.5 ms says the 4 Ready are past capacity: Ready + 1 = 5.
      name: "a queue delay beyond half the SLO plans Ready + 1 (5)",
      history: { minCorrelation: 1 },
      learn: points(7200, () => 300),
      start: 4,
      at: 7200,
      steps: [
        {
          t: 0,
          arrival: 300,
          pending: 0,
          queueDelayMs: 60,
          total: 5,
          reason: /Ready replicas are past capacity, planning 5/,
        },
      ],
    },
  ];

  // The learned points lie in the lines before `at`, in the pool's own clock; the scenario
  // then runs from `at` on.
  for (const s of scenarios) {
    it(s.name, () => {
      const p: Policy = pool({ ...base, ...(s.scaling ?? {}), history: s.history ?? {} });
      const scaler = createTritonscaleScaler(p, { capacityPerReplica: C });
      const start = od(s.start);
      const learned = scaler.memory!.learn(scaler.initialState(start), s.learn);
      runScenario(scaler, p, start, s.steps, s.at, learned);
    });
  }

  it("cold start (empty history) decides exactly as without history", () => {
    const steps: Step[] = [];
    for (let t = 0; t < 3600; t += 15) {
      const rate = t % 600 < 60 ? 300 : t > 3000 ? 0 : 100 + t / 60;
      steps.push({ t, arrival: rate, pending: t % 600 < 60 ? 40 : 0, inflight: 0 });
    }
    const on = pool({ ...base, history: { warmup: "48h" } });
    const off = pool({ ...base, history: { enabled: false } });
    const a = runScenario(createTritonscaleScaler(on, { capacityPerReplica: C }), on, od(1), steps);
    const b = runScenario(
      createTritonscaleScaler(off, { capacityPerReplica: C }),
      off,
      od(1),
      steps,
    );
    expect(a.map((d) => [d.desired, d.reason])).to.deep.equal(b.map((d) => [d.desired, d.reason]));
  });

  it("memory: restore(save(s)) decides as s; a corrupt, foreign or disabled history is refused with a reason", () => {
    const p = pool({ ...base, history: { minCorrelation: 1 } });
    const scaler = createTritonscaleScaler(p, { capacityPerReplica: C });
    const memory = scaler.memory!;
    const learned = memory.learn(scaler.initialState(od(2)), points(7200, surges));
    const saved = memory.save(learned);
    expect(saved.startsWith("tritonscale-history v1\n")).to.equal(true);
    const restored = memory.restore(scaler.initialState(od(2)), saved);
    expect(restored.ok).to.equal(true);
    if (!restored.ok) return;
    expect(memory.save(restored.state)).to.equal(saved);
    const snap: Step = { t: 7200, arrival: 100, pending: 0 };
    const a = runScenario(scaler, p, od(2), [snap], 0, learned);
    const b = runScenario(scaler, p, od(2), [snap], 0, restored.state);
    expect(b[0]!.reason).to.equal(a[0]!.reason);

    const refusals: [string, RegExp][] = [
      ["", /unknown saved history format ""/],
      ["tritonscale-history v9\n", /unknown saved history format "tritonscale-history v9"/],
      [saved.replace("res=30", "res=60"), /resolution 60 s, this pool's is 30 s/],
      [saved.replace(/rates=[^,]*,/, "rates=x,"), /corrupt saved history \(rate 0 is not a number/],
      [saved.replace(/\nrates=.*/, ""), /corrupt saved history \(missing rates\)/],
      ["x".repeat(300 * 1024), /too long/],
    ];
    for (const [text, why] of refusals) {
      const r = memory.restore(learned, text);
      expect(r.ok, text.slice(0, 60)).to.equal(false);
      if (!r.ok) expect(r.why).to.match(why);
    }
    const off = pool({ ...base, history: { enabled: false } });
    const plain = createTritonscaleScaler(off, { capacityPerReplica: C });
    const r = plain.memory!.restore(plain.initialState(od(1)), saved);
    expect(r).to.deep.equal({
      ok: false,
      why: "history disabled (spec.scaling.history.enabled: false)",
    });
    const s: TritonscaleState = plain.memory!.learn(plain.initialState(od(1)), [
      { at: 0, rate: 5 },
    ]);
    expect(s.history).to.equal(undefined);
  });
  it("memory: merge(own, saved) is the save continued with own's later learning; refusals as restore", () => {
    const p = pool({ ...base, history: { minCorrelation: 1 } });
    const scaler = createTritonscaleScaler(p, { capacityPerReplica: C });
    const memory = scaler.memory!;
    const all = points(7200, surges);
    const inOrder = memory.learn(scaler.initialState(od(2)), all);
    const saved = memory.save(
      memory.learn(
        scaler.initialState(od(2)),
        all.filter((x) => x.at <= 6900),
      ),
    );
    const own = memory.learn(
      scaler.initialState(od(2)),
      all.filter((x) => x.at >= 3600),
    );
    const merged = memory.merge!(own, saved);
    expect(merged.ok).to.equal(true);
    if (merged.ok) expect(memory.save(merged.state)).to.equal(memory.save(inOrder));
    const restored = memory.restore(own, saved);
    if (restored.ok) expect(memory.save(restored.state)).not.to.equal(memory.save(inOrder));
    const r = memory.merge!(own, "tritonscale-history v9\n");
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.why).to.match(/unknown saved history format "tritonscale-history v9"/);
  });
});
