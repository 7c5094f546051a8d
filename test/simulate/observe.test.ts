import { expect } from "chai";
import type { PoolScrape } from "../../controller/scaling/samples.js";
import type { ReplicaCounts } from "../../controller/scaling/types.js";
import { Pipeline } from "../../controller/simulate/observe.js";

const NONE: ReplicaCounts = {
  ready: { spot: 0, onDemand: 0 },
  starting: { spot: 0, onDemand: 0 },
  pending: { spot: 0, onDemand: 0 },
  oldestPendingSpotSeconds: 0,
};

/** A round at t: the front saw 20 req/s from 0 and holds `held`; replica a served 10 req/s from 45 s. */
function round(t: number, held: number): PoolScrape {
  return {
    t,
    front: { arrivals: 20 * t, pending: held },
    replicas:
      t < 45
        ? []
        : [
            {
              replica: "a",
              t,
              phase: "ready",
              models: [
                {
                  model: "model",
                  version: "1",
                  counters: {
                    requestSuccess: 10 * (t - 45),
                    inferenceCount: 10 * (t - 45),
                    execCount: 5 * (t - 45),
                    queueDurationUs: 10 * (t - 45) * 2000,
                  },
                  pendingRequests: 3,
                },
              ],
            },
          ],
  };
}

describe("simulate/observe: the simulator's pipeline over the shared window", () => {
  const rows = [
    {
      name: "nothing is visible before the first scrape's delay has passed",
      at: 25,
      want: { keys: ["now", "replicas"] },
    },
    {
      name: "one visible round: the front's queue is pending, no rate yet",
      at: 30,
      want: { pending: 7, keys: ["now", "pending", "replicas"] },
    },
    {
      name: "no replica yet: arrivals counted at the front",
      at: 45,
      want: { arrival: 20, pending: 7 },
    },
    {
      name: "a replica: its queue adds to the front's, queue delay from its counters",
      at: 90,
      want: { arrival: 20, pending: 3, queueDelayMs: 2, batchSize: 2 },
    },
  ] as const;
  for (const row of rows) {
    it(row.name, () => {
      const p = new Pipeline({
        scrapeIntervalSeconds: 15,
        rateWindowSeconds: 60,
        delaySeconds: 15,
      });
      for (let t = 15; t <= 120; t += 15) p.record(round(t, t < 45 ? 7 : 0));
      const s = p.snapshot(row.at, NONE);
      const w = row.want as {
        keys?: readonly string[];
        arrival?: number;
        pending?: number;
        queueDelayMs?: number;
        batchSize?: number;
      };
      if (w.keys) expect(Object.keys(s).sort()).to.deep.equal([...w.keys]);
      if (w.arrival !== undefined) expect(s.arrivalRate?.value).to.be.closeTo(w.arrival, 1e-9);
      if (w.pending !== undefined) expect(s.pending?.value).to.equal(w.pending);
      if (w.queueDelayMs !== undefined)
        expect(s.queueDelayMs?.value).to.be.closeTo(w.queueDelayMs, 1e-9);
      if (w.batchSize !== undefined) expect(s.batchSize?.value).to.be.closeTo(w.batchSize, 1e-9);
      // Every signal is as old as the newest visible round: 15 s delay + up to one interval.
      for (const [k, v] of Object.entries(s)) {
        if (k === "now" || k === "replicas") continue;
        expect((v as { ageSeconds: number }).ageSeconds, k).to.be.within(15, 30);
      }
    });
  }
});
