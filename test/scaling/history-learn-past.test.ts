import { expect } from "chai";
import {
  addPoints,
  continueWith,
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

/**
 * A follower that becomes the leader: the last leader's save is up to one save period old,
 * and the follower learned live all along (from its own start, which may be after that
 * save's first buckets). continueWith keeps both: the saved history, then the follower's
 * own buckets after it.
 */
describe("scaling/history: a new leader continues the last save with what it saw itself", () => {
  const shape = historyShape(30, 48 * 3600, 210, 600);
  const start = 100_000 * 30;
  const day: RatePoint[] = [];
  for (let t = start; t < start + 86_400; t += 30) {
    day.push({ at: t, rate: t % 1200 < 120 ? 200 : 100 + ((t / 30) % 7) });
  }
  const inOrder = addPoints(emptyHistory(shape), day);
  const saveAt = start + 86_400 - 300;
  const saved = addPoints(
    emptyHistory(shape),
    day.filter((p) => p.at <= saveAt),
  );
  // The follower started 2 h before the end: it misses the morning, not the last 5 min.
  const own = addPoints(
    emptyHistory(shape),
    day.filter((p) => p.at >= start + 86_400 - 7200),
  );

  it("the save, then the follower's buckets after it: as if one replica had seen it all", () => {
    const merged = continueWith(saved, own);
    expect(historySeconds(merged)).to.equal(historySeconds(inOrder));
    expect(formatHistory(merged)).to.equal(formatHistory(inOrder));
  });

  it("restore alone (before) loses the 5 min after the save (9 buckets of 30 s; the 10th is the one then open)", () => {
    expect(historySeconds(inOrder) - historySeconds(saved)).to.equal(270);
    expect(inOrder.openIndex - saved.openIndex).to.equal(9);
  });

  it("a follower with nothing newer than the save keeps the save; an empty save gives the follower's", () => {
    const older = addPoints(
      emptyHistory(shape),
      day.filter((p) => p.at <= saveAt - 600),
    );
    expect(formatHistory(continueWith(saved, older))).to.equal(formatHistory(saved));
    expect(formatHistory(continueWith(emptyHistory(shape), own))).to.equal(formatHistory(own));
    expect(formatHistory(continueWith(saved, emptyHistory(shape)))).to.equal(formatHistory(saved));
  });
});
