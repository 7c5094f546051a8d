/**
 * Properties of the counter window (controller/scaling/window.ts) on random counter
 * histories: resets, unreachable rounds, any increments.
 */

import { expect } from "chai";
import fc from "fast-check";
import type { PoolScrape } from "../../controller/scaling/samples.js";
import { SignalWindow } from "../../controller/scaling/window.js";
import { check } from "./support.js";

interface Step {
  /** Requests answered since the previous round. */
  readonly d: number;
  /** The counter restarted from 0 before those were answered. */
  readonly reset: boolean;
  /** The replica's scrape failed this round. */
  readonly dark: boolean;
}

const step = fc.record({ d: fc.nat(1000), reset: fc.boolean(), dark: fc.boolean() });

/** Rounds every 15 s of one replica whose success counter follows `steps` from `start`. */
function history(
  start: number,
  steps: readonly Step[],
  detectable: boolean,
): {
  rounds: PoolScrape[];
  answered: number;
} {
  let v = start;
  let answered = 0;
  const rounds: PoolScrape[] = [];
  const push = (t: number, dark: boolean): void => {
    rounds.push({
      t,
      replicas: [
        {
          replica: "a",
          t,
          phase: dark ? "unreachable" : "ready",
          models: dark
            ? []
            : [{ model: "m", version: "1", counters: { requestSuccess: v }, pendingRequests: 1 }],
        },
      ],
    });
  };
  push(0, false);
  steps.forEach((s, i) => {
    // A detectable reset lands below the previous value, as a restart's counter does.
    const reset = s.reset && (!detectable || (v > 0 && s.d < v));
    v = reset ? s.d : v + s.d;
    answered += s.d;
    push(15 * (i + 1), detectable ? false : s.dark);
  });
  return { rounds, answered };
}

describe("property: the counter window", () => {
  it("every round scraped and every reset visible: the rate is exactly what was answered", () => {
    check(300, fc.nat(10_000), fc.array(step, { minLength: 1, maxLength: 30 }), (start, steps) => {
      const { rounds, answered } = history(start, steps, true);
      const w = new SignalWindow({ rateWindowSeconds: 15 * steps.length });
      for (const r of rounds) w.record(r);
      const span = 15 * steps.length;
      const got = w.read(span).signals.arrivalRate;
      expect(got?.value).to.be.closeTo(answered / span, 1e-9);
      expect(got?.ageSeconds).to.equal(0);
    });
  });

  it("with unreachable rounds and any resets: never negative, never more than was answered, as old as the last scrape", () => {
    check(300, fc.nat(10_000), fc.array(step, { minLength: 1, maxLength: 30 }), (start, steps) => {
      const { rounds, answered } = history(start, steps, false);
      const w = new SignalWindow({ rateWindowSeconds: 15 * steps.length });
      for (const r of rounds) w.record(r);
      const span = 15 * steps.length;
      const s = w.read(span).signals;
      const lastSeen = Math.max(
        ...rounds.filter((r) => r.replicas[0]!.phase === "ready").map((r) => r.t),
      );
      if (s.arrivalRate !== undefined) {
        expect(s.arrivalRate.value).to.be.at.least(0);
        expect(s.arrivalRate.value).to.be.at.most(answered / span + 1e-9);
        expect(s.arrivalRate.ageSeconds).to.equal(span - lastSeen);
      } else {
        // Missing only when fewer than two rounds were scraped.
        expect(rounds.filter((r) => r.replicas[0]!.phase === "ready")).to.have.length(1);
      }
      expect(s.pending?.value).to.equal(1);
      expect(s.pending?.ageSeconds).to.equal(span - lastSeen);
    });
  });
});
