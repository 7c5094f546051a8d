/**
 * Properties of the tritonscale scaler's learned history (controller/scaling/history.ts)
 * and of the scaler with it: memory stays bounded, a saved history restores to one that
 * saves and decides the same, restore never throws, and no decision goes to zero while
 * requests are pending or inflight or replicas are starting.
 */

import { expect } from "chai";
import fc from "fast-check";
import {
  addPoints,
  addSample,
  emptyHistory,
  formatHistory,
  historyShape,
  MAX_BUCKETS,
  MAX_SAVED_CHARS,
  parseHistory,
  riseQuantile,
} from "../../controller/scaling/history.js";
import {
  type ByCapacity,
  createTritonscaleScaler,
  type RatePoint,
  totalOf,
} from "../../controller/scaling/index.js";
import { pool, snapshotOf } from "../scaling/support.js";
import { check } from "./support.js";

/** Rate points with increasing times (gaps of 0 to 400 s), rates from 0 to 10⁸ or odd values. */
const pointsArb = fc
  .array(
    fc.record({
      gap: fc.integer({ min: 0, max: 400 }),
      rate: fc.oneof(
        { weight: 6, arbitrary: fc.double({ min: 0, max: 2000, noNaN: true }) },
        { weight: 1, arbitrary: fc.constantFrom(0, 1e8, -5, Number.NaN, Number.POSITIVE_INFINITY) },
      ),
    }),
    { maxLength: 300 },
  )
  .map((steps) => {
    let at = 0;
    return steps.map((s): RatePoint => {
      at += s.gap;
      return { at, rate: s.rate };
    });
  });

/** A small shape, so the ring wraps within a few hundred points: 40 buckets of 30 s, L = 3. */
const small = historyShape(30, 1200, 90, 300);

describe("property: scaling/history", () => {
  it("memory stays bounded: fixed-length arrays, and a saved history fits 256 KiB", () => {
    check(200, pointsArb, (pts) => {
      const h = addPoints(emptyHistory(small), pts);
      expect(h.rates.length).to.equal(small.buckets);
      expect(h.leadCell.length).to.equal(small.buckets);
      expect(h.runs.length).to.equal(32);
      expect(formatHistory(h).length).to.be.at.most(MAX_SAVED_CHARS);
    });
  });

  it("the largest history, every bucket at the 10⁷ req/s cap, still fits 256 KiB", () => {
    const big = historyShape(10, 10 * MAX_BUCKETS * 10, 90, 600);
    expect(big.buckets).to.equal(MAX_BUCKETS);
    let h = emptyHistory(big);
    for (let i = 0; i <= MAX_BUCKETS; i++) h = addSample(h, i * 10, 1e7 - 0.01 - (i % 2) * 1e6);
    const text = formatHistory(h);
    expect(text.length).to.be.at.most(MAX_SAVED_CHARS);
    expect(text.length).to.be.above(MAX_BUCKETS * 9);
  });

  it("restore(save(h)) ≡ h: it saves the same, answers the same and learns on the same", () => {
    check(150, pointsArb, pointsArb, (pts, more) => {
      const h = addPoints(emptyHistory(small), pts);
      const saved = formatHistory(h);
      const r = parseHistory(saved, small);
      expect(r.ok, r.ok ? "" : r.why).to.equal(true);
      if (!r.ok) return;
      expect(formatHistory(r.history)).to.equal(saved);
      for (const level of [0, 5, 100, 1000]) {
        expect(riseQuantile(r.history, "lead", level, 0.99)).to.deep.equal(
          riseQuantile(h, "lead", level, 0.99),
        );
        expect(riseQuantile(r.history, "down", level, 0.9)).to.deep.equal(
          riseQuantile(h, "down", level, 0.9),
        );
      }
      const last = pts.length > 0 ? pts[pts.length - 1]!.at : 0;
      const later = more.map((p) => ({ at: p.at + last, rate: p.rate }));
      expect(formatHistory(addPoints(r.history, later))).to.equal(
        formatHistory(addPoints(h, later)),
      );
    });
  });

  it("learning never changes the history it was given (a state can be reused)", () => {
    check(100, pointsArb, pointsArb, (pts, more) => {
      const h = addPoints(emptyHistory(small), pts);
      const before = formatHistory(h);
      addPoints(
        h,
        more.map((p) => ({ at: p.at + 1e5, rate: p.rate })),
      );
      expect(formatHistory(h)).to.equal(before);
    });
  });

  it("restore never throws: random or mangled text is refused with a reason", () => {
    const valid = formatHistory(
      addPoints(
        emptyHistory(small),
        Array.from({ length: 100 }, (_, i) => ({ at: i * 30, rate: i % 7 })),
      ),
    );
    check(
      300,
      fc.oneof(
        fc.string(),
        fc
          .tuple(fc.nat(valid.length), fc.nat(40), fc.string({ maxLength: 8 }))
          .map(([at, cut, insert]) => valid.slice(0, at) + insert + valid.slice(at + cut)),
      ),
      (text) => {
        const r = parseHistory(text, small);
        if (!r.ok) expect(r.why).to.be.a("string").and.not.equal("");
      },
    );
  });
});

describe("property: tritonscale with a learned history", () => {
  const p = pool({
    minReplicas: 0,
    maxReplicas: 10,
    idleWindow: "1m",
    history: { resolution: "10s", warmup: "0s", minGaps: 1 },
  });
  const scalers = [
    { with: "", scaler: createTritonscaleScaler(p, { capacityPerReplica: 96 }) },
    {
      with: " (with a capacity curve over replicas)",
      scaler: createTritonscaleScaler(p, {
        capacityPerReplica: 96,
        capacityByReplicas: [96, 110, 118, 122],
      }),
    },
  ];

  for (const { with: variant, scaler } of scalers) {
    it(`never decides zero while requests are pending or inflight or replicas start${variant}`, () => {
      const busy = fc.record({
        pending: fc.nat(50),
        inflight: fc.nat(50),
        starting: fc.nat(3),
      });
      check(
        150,
        pointsArb,
        fc.array(fc.tuple(fc.double({ min: 0, max: 300, noNaN: true }), busy), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.integer({ min: 1, max: 10 }),
        (pts, steps, start) => {
          const current: ByCapacity = { spot: 0, onDemand: start };
          let state = scaler.memory!.learn(scaler.initialState(current), pts);
          let previous = current;
          let t = (pts.length > 0 ? pts[pts.length - 1]!.at : 0) + 15;
          for (const [rate, b] of steps) {
            const isBusy = b.pending > 0 || b.inflight > 0 || b.starting > 0;
            const d = scaler.decide(
              snapshotOf(
                {
                  t,
                  arrival: isBusy ? rate : 0,
                  pending: b.pending,
                  inflight: b.inflight,
                  starting: b.starting,
                  ready: totalOf(previous),
                },
                previous,
              ),
              state,
            );
            if (isBusy && totalOf(previous) > 0) {
              expect(totalOf(d.desired), d.reason).to.be.at.least(1);
            }
            state = d.state;
            previous = d.desired;
            t += 15;
          }
        },
      );
    });
  }
});
