import { expect } from "chai";
import {
  type SimulationInput,
  type SimulationResult,
  simulate,
} from "../../controller/simulate/engine.js";
import { LatencyHistogram } from "../../controller/simulate/histogram.js";
import {
  type BatcherSettings,
  Replica,
  type ServiceTime,
} from "../../controller/simulate/replica.js";
import { createRng, type Rng } from "../../controller/simulate/rng.js";

/** Poisson arrivals at `rate` until `duration`, from a seeded stream. */
function poisson(rate: number, duration: number, rng: Rng): SimulationInput["arrivals"] {
  let t = rng.exponential(rate);
  return {
    durationSeconds: duration,
    fill(buf, until) {
      let n = 0;
      while (n < buf.length && t < until) {
        buf[n++] = t;
        t += rng.exponential(rate);
      }
      return n;
    },
  };
}

const noBatching: BatcherSettings = {
  maxBatchSize: 1,
  preferredBatchSizes: [],
  maxQueueDelaySeconds: 0,
  instances: 1,
  maxQueueSize: 0,
  queueTimeoutSeconds: 0,
};

/** One static pool of `replicas`, ready from the start, no Spot, no scaling. */
function runStatic(
  arrivals: SimulationInput["arrivals"],
  batcher: BatcherSettings,
  service: ServiceTime,
  replicas = 1,
): SimulationResult {
  return simulate({
    arrivals,
    batcher,
    service,
    cluster: {
      nodeProvisionSeconds: { spot: 0, onDemand: 0 },
      coldStartSeconds: 0,
      nodeIdleRemovalSeconds: 0,
      spotInterruptionsPerHour: 0,
      spotNoticeSeconds: 30,
      spotAvailability: 1,
      gpusPerReplica: 1,
      pricePerGpuHour: { spot: 0.19, onDemand: 0.526 },
    },
    pipeline: { scrapeIntervalSeconds: 15, rateWindowSeconds: 60, delaySeconds: 15 },
    sloSeconds: 1,
    control: { kind: "schedule", replicasAt: () => replicas, periodSeconds: 60 },
    random: createRng(99),
    histogram: () => new LatencyHistogram(),
  });
}

/** Erlang C: probability an arrival waits in an M/M/c queue with offered load a = λ/μ. */
function erlangC(c: number, a: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < c; k++) {
    term *= a / k;
    sum += term;
  }
  const top = ((term * a) / c) * (c / (c - a));
  return top / (sum + top);
}

describe("simulator fidelity against queueing theory", () => {
  const D = 0.01; // 10 ms constant compute
  for (const rho of [0.5, 0.8, 0.9]) {
    it(`M/D/1 at utilization ${rho}: mean queue wait within 3% of Pollaczek–Khinchine`, () => {
      const lambda = rho / D;
      const requests = 2_000_000;
      const r = runStatic(
        poisson(lambda, requests / lambda, createRng(7).fork(`md1-${rho}`)),
        noBatching,
        () => D,
      );
      // P-K for deterministic service: Wq = ρ·D / (2(1 − ρ)).
      const wq = ((rho * D) / (2 * (1 - rho))) * 1000;
      expect(r.served).to.equal(r.requests);
      expect(
        Math.abs(r.meanQueueWaitMs / wq - 1),
        `simulated ${r.meanQueueWaitMs} ms, theory ${wq} ms`,
      ).to.be.below(0.03);
    });
  }

  it("M/M/3 at utilization 0.8: mean queue wait within 3% of Erlang C", () => {
    const c = 3;
    const mean = 0.02;
    const lambda = (0.8 * c) / mean;
    const service = createRng(11).fork("mmc-service");
    const r = runStatic(
      poisson(lambda, 3_000_000 / lambda, createRng(11).fork("mmc-arrivals")),
      { ...noBatching, instances: c },
      () => service.exponential(1 / mean),
    );
    const a = lambda * mean;
    const wq = ((erlangC(c, a) * mean) / (c - a)) * 1000;
    expect(
      Math.abs(r.meanQueueWaitMs / wq - 1),
      `simulated ${r.meanQueueWaitMs} ms, Erlang C ${wq} ms`,
    ).to.be.below(0.03);
  });

  it("spreads load over replicas: two M/D/1 replicas at 0.8 each wait like one", () => {
    const lambda = (2 * 0.8) / D;
    const r = runStatic(
      poisson(lambda, 1_000_000 / lambda, createRng(5).fork("two")),
      noBatching,
      () => D,
      2,
    );
    // Round-robin makes each replica's arrivals more regular than Poisson, so it waits
    // less than M/D/1 (an E2/D/1 queue), never more.
    const md1 = ((0.8 * D) / (2 * 0.2)) * 1000;
    expect(r.meanQueueWaitMs).to.be.below(md1);
    expect(r.meanQueueWaitMs).to.be.above(md1 * 0.3);
  });
});

/** Feeds fixed arrival times to one replica and returns each request's latency in ms. */
function batches(
  settings: Partial<BatcherSettings>,
  arrivalsMs: readonly number[],
  computeMs: (n: number) => number,
): { latenciesMs: number[]; batchSizes: number[]; rejected: number } {
  const latenciesMs: number[] = [];
  const batchSizes: number[] = [];
  const replica = new Replica(
    { ...noBatching, ...settings },
    (n) => {
      batchSizes.push(n);
      return computeMs(n) / 1000;
    },
    { complete: (l) => latenciesMs.push(Math.round(l * 1e6) / 1e3) },
    0,
  );
  for (const a of arrivalsMs) replica.enqueue(a / 1000, a / 1000);
  replica.advance(Number.POSITIVE_INFINITY);
  return { latenciesMs, batchSizes, rejected: replica.counters.rejected };
}

describe("dynamic batcher, checked by hand", () => {
  const cases: {
    name: string;
    settings: Partial<BatcherSettings>;
    arrivalsMs: number[];
    computeMs: (n: number) => number;
    batchSizes: number[];
    latenciesMs: number[];
    rejected?: number;
  }[] = [
    {
      name: "a preferred size reached before the delay runs out is sent at once",
      settings: { maxBatchSize: 8, preferredBatchSizes: [4], maxQueueDelaySeconds: 0.01 },
      arrivalsMs: [0, 1, 2, 3],
      computeMs: () => 5,
      // the 4th request arrives at 3 ms: batch of 4 runs 3–8 ms
      batchSizes: [4],
      latenciesMs: [8, 7, 6, 5],
    },
    {
      name: "without a preferred size the delay expires and what is queued goes",
      settings: { maxBatchSize: 8, preferredBatchSizes: [4], maxQueueDelaySeconds: 0.01 },
      arrivalsMs: [0, 1],
      computeMs: () => 5,
      // oldest waited 10 ms at t = 10: batch of 2 runs 10–15 ms
      batchSizes: [2],
      latenciesMs: [15, 14],
    },
    {
      name: "no delay: a free instance takes whatever is queued, up to max_batch_size",
      settings: { maxBatchSize: 8 },
      arrivalsMs: [0, 1, 2, 3],
      computeMs: () => 5,
      // 0 alone (0–5), then 1, 2, 3 together (5–10)
      batchSizes: [1, 3],
      latenciesMs: [5, 9, 8, 7],
    },
    {
      name: "the largest preferred size that fits is sent, the rest waits",
      settings: { maxBatchSize: 8, preferredBatchSizes: [2, 4], maxQueueDelaySeconds: 0.1 },
      arrivalsMs: [0, 0, 0, 0, 0, 0],
      computeMs: (n) => n,
      // 6 queued at t = 0: 4 go (0–4); then 2 is preferred: they go (4–6)
      batchSizes: [4, 2],
      latenciesMs: [4, 4, 4, 4, 6, 6],
    },
    {
      name: "max_batch_size caps a batch even with a long queue",
      settings: { maxBatchSize: 2 },
      arrivalsMs: [0, 0, 0, 0, 0],
      computeMs: () => 10,
      batchSizes: [2, 2, 1],
      latenciesMs: [10, 10, 20, 20, 30],
    },
    {
      name: "two instances run batches side by side",
      settings: { maxBatchSize: 1, instances: 2 },
      arrivalsMs: [0, 0, 0],
      computeMs: () => 10,
      batchSizes: [1, 1, 1],
      latenciesMs: [10, 10, 20],
    },
    {
      name: "max_queue_size rejects arrivals beyond it",
      settings: { maxBatchSize: 1, maxQueueSize: 2 },
      arrivalsMs: [0, 0, 0, 0],
      computeMs: () => 10,
      batchSizes: [1, 1],
      latenciesMs: [10, 20],
      rejected: 2,
    },
    {
      name: "a queue timeout rejects a request that waited too long",
      settings: { maxBatchSize: 1, queueTimeoutSeconds: 0.015 },
      arrivalsMs: [0, 0, 0],
      computeMs: () => 10,
      // the third would start at 20 ms after waiting 20 > 15 ms
      batchSizes: [1, 1],
      latenciesMs: [10, 20],
      rejected: 1,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = batches(c.settings, c.arrivalsMs, c.computeMs);
      expect(r.batchSizes).to.deep.equal(c.batchSizes);
      expect(r.latenciesMs).to.deep.equal(c.latenciesMs);
      expect(r.rejected).to.equal(c.rejected ?? 0);
    });
  }
});
