import { expect } from "chai";
import {
  addPoints,
  emptyHistory,
  formatHistory,
  historySeconds,
  historyShape,
  learnPast,
} from "../../controller/scaling/history.js";
import type { RatePoint } from "../../controller/scaling/types.js";

/**
 * A rebuild from Prometheus answers after the pool's first decisions: the past points are
 * older than the bucket the live history has open. learnPast must still learn them (addPoints
 * alone ignores every sample older than the open bucket).
 */
describe("scaling/history: learning the past after the first decisions", () => {
  const shape = historyShape(30, 48 * 3600, 210, 600);
  const now = 100_000 * 30; // a bucket boundary
  // A day of past rates, one point per 30 s bucket: a 2× surge for 2 min every 20 min.
  const past: RatePoint[] = [];
  for (let t = now - 86_400; t < now; t += 30) {
    past.push({ at: t, rate: t % 1200 < 120 ? 200 : 100 });
  }
  // The live history: the first 4 decisions, one per bucket, from `now` on.
  const liveSamples: RatePoint[] = [0, 30, 60, 90].map((dt, i) => ({
    at: now + dt,
    rate: 110 + i,
  }));
  const live = addPoints(emptyHistory(shape), liveSamples);

  it("addPoints on the live history ignores the whole past day (the defect)", () => {
    expect(formatHistory(addPoints(live, past))).to.equal(formatHistory(live));
  });

  it("learnPast holds the past day, then the live buckets, as if learned in order", () => {
    const learned = learnPast(live, past);
    const inOrder = addPoints(emptyHistory(shape), [...past, ...liveSamples]);
    expect(historySeconds(learned)).to.equal(historySeconds(inOrder));
    expect(formatHistory(learned)).to.equal(formatHistory(inOrder));
  });

  it("past points within the live span are dropped (the live history saw that time)", () => {
    const overlapping = [...past, { at: now + 30, rate: 9_999 }];
    expect(formatHistory(learnPast(live, overlapping))).to.equal(
      formatHistory(learnPast(live, past)),
    );
  });

  it("points newer than the open bucket are simply added", () => {
    const later: RatePoint[] = [{ at: now + 600, rate: 50 }];
    expect(formatHistory(learnPast(live, later))).to.equal(formatHistory(addPoints(live, later)));
  });
});
