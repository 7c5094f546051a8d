import { expect } from "chai";
import type { LoadBalancing, Policy } from "../../controller/policy/index.js";
import { type Capacity, capacityAtSlo, capacityCurve } from "../../controller/simulate/capacity.js";
import type { ClusterSettings } from "../../controller/simulate/cluster.js";
import { compare } from "../../controller/simulate/compare.js";
import {
  type SimulationInput,
  type SimulationResult,
  SimulationRun,
  simulate,
} from "../../controller/simulate/engine.js";
import { LatencyHistogram } from "../../controller/simulate/histogram.js";
import { createPoolRun } from "../../controller/simulate/pool-run.js";
import { createLinearProfile, DEFAULT_PROFILE } from "../../controller/simulate/profile.js";
import type { BatcherSettings, ServiceTime } from "../../controller/simulate/replica.js";
import { createRng } from "../../controller/simulate/rng.js";
import { createServiceTime } from "../../controller/simulate/setup.js";
import { parseTraceSpec } from "../../controller/simulate/synthetic.js";
import { minimalPool } from "../support/pools.js";
import { testBatcher, testCluster } from "../support/sim-settings.js";

/**
 * The simulated load balancer routes as the pool says (`spec.scaling.loadBalancing`):
 * `roundRobin` as before, `random` a uniformly random ready replica per request from the
 * run's seeded stream; and the capacity the scaler plans with for each (one replica's C(1)
 * for random, the curve C(n) for round robin) is what the simulated replicas sustain.
 */

/** The example pool's batcher (YOLOv8s, default profile). */
const LIGHT: BatcherSettings = testBatcher();

/** A heavy model (a batch of one takes 32 ms): where round robin gains most over random. */
const HEAVY: BatcherSettings = testBatcher({
  maxBatchSize: 16,
  preferredBatchSizes: [],
  instances: 1,
});

const MODELS: {
  readonly name: string;
  readonly batcher: BatcherSettings;
  readonly service: ServiceTime;
}[] = [
  {
    name: "light (linear:a=4,b=2.2, max batch 8, 2 instances)",
    batcher: LIGHT,
    service: createServiceTime(createLinearProfile(4, 2.2)),
  },
  {
    name: "heavy (linear:a=20,b=12, max batch 16)",
    batcher: HEAVY,
    service: createServiceTime(createLinearProfile(20, 12)),
  },
];

const SLO = 0.085;

const CLUSTER: ClusterSettings = testCluster();

/** A static pool of `n` ready replicas on a Poisson trace of `rate` req/s, `requests` long. */
function staticInput(
  o: {
    readonly batcher: BatcherSettings;
    readonly service: ServiceTime;
    readonly n: number;
    readonly rate: number;
    readonly requests: number;
    readonly seed: number;
  },
  loadBalancing?: LoadBalancing,
): SimulationInput {
  const duration = Math.ceil(o.requests / o.rate);
  return {
    arrivals: parseTraceSpec(`synthetic:poisson:rate=${o.rate}:duration=${duration}`, o.seed),
    batcher: o.batcher,
    service: o.service,
    cluster: CLUSTER,
    pipeline: { scrapeIntervalSeconds: 15, rateWindowSeconds: 60, delaySeconds: 15 },
    sloSeconds: SLO,
    control: { kind: "schedule", replicasAt: () => o.n, periodSeconds: 60 },
    random: createRng(o.seed),
    histogram: () => new LatencyHistogram(),
    ...(loadBalancing === undefined ? {} : { loadBalancing }),
  };
}

/**
 * Requests each replica has completed or holds in its queue at the end of the arrivals
 * (those executing at that moment, at most {@link EXECUTING} a replica, are in neither).
 */
function sharesOf(input: SimulationInput): number[] {
  const run = new SimulationRun(input);
  run.advanceTo(input.arrivals.durationSeconds);
  return run.scrape().replicas.map((r) => {
    const m = r.models[0]!;
    return (m.counters.requestSuccess ?? 0) + (m.pendingRequests ?? 0);
  });
}

/** Most requests a {@link LIGHT} replica executes at once: 2 instances × batches of 8. */
const EXECUTING = 16;

describe("simulate routes as spec.scaling.loadBalancing says", function () {
  this.timeout(120_000);

  describe("the engine", () => {
    const base = {
      batcher: HEAVY,
      service: MODELS[1]!.service,
      n: 2,
      rate: 2 * 14 * 0.8,
      requests: 40_000,
      seed: 7,
    };

    it("roundRobin is the engine's default, and routes exactly as a run that names no load balancing", () => {
      const omitted = simulate(staticInput(base));
      const named = simulate(staticInput(base, "roundRobin"));
      expect(named).to.deep.equal(omitted);
    });

    it("random is deterministic per seed: the same seed gives the same figures to the bit, another seed others", () => {
      const a = simulate(staticInput(base, "random"));
      const b = simulate(staticInput(base, "random"));
      expect(a).to.deep.equal(b);
      // The same arrivals (trace seed 7), another routing stream (run seed 8).
      const other = simulate({ ...staticInput(base, "random"), random: createRng(8) });
      expect(other.requests).to.equal(a.requests);
      expect(other.p99Ms).to.not.equal(a.p99Ms);
    });

    const shareCases: {
      name: string;
      loadBalancing: LoadBalancing;
      within: (shares: number[], total: number) => void;
    }[] = [
      {
        name: "roundRobin: every replica gets the same share, to one request (and those executing)",
        loadBalancing: "roundRobin",
        within: (shares) =>
          expect(Math.max(...shares) - Math.min(...shares)).to.be.at.most(1 + EXECUTING),
      },
      {
        // Binomial(total, 1/4): a standard deviation of √(total · 1/4 · 3/4) ≈ 0.0007 of the
        // total at 400,000 requests; 0.005 is 7 of them. Shares as equal as round robin's
        // (a spread of ~300 requests is expected) would mean it was not random.
        name: "random: each replica gets a quarter of the requests within binomial noise, not exactly a quarter",
        loadBalancing: "random",
        within: (shares, total) => {
          for (const s of shares) expect(s / total).to.be.closeTo(0.25, 0.005);
          expect(Math.max(...shares) - Math.min(...shares)).to.be.above(1 + EXECUTING);
        },
      },
    ];
    for (const c of shareCases) {
      it(c.name, () => {
        const input = staticInput(
          {
            ...base,
            batcher: LIGHT,
            service: MODELS[0]!.service,
            n: 4,
            rate: 1000,
            requests: 400_000,
            seed: 3,
          },
          c.loadBalancing,
        );
        const shares = sharesOf(input);
        expect(shares).to.have.length(4);
        const total = shares.reduce((x, y) => x + y, 0);
        expect(total).to.be.above(390_000);
        c.within(shares, total);
      });
    }

    it("random queues more than roundRobin on a small pool at the same load (every 2nd request is steadier than a Poisson half)", () => {
      const input = { ...base, requests: 200_000 };
      const rr = simulate(staticInput(input, "roundRobin"));
      const random = simulate(staticInput(input, "random"));
      expect(random.requests).to.equal(rr.requests);
      expect(random.meanQueueWaitMs).to.be.greaterThan(rr.meanQueueWaitMs);
      expect(random.p99Ms).to.be.greaterThan(rr.p99Ms);
      expect(random.sloAttainment).to.be.lessThan(rr.sloAttainment);
    });

    it("rejects an unknown load balancing", () => {
      expect(() =>
        simulate(staticInput(base, "leastRequest" as unknown as LoadBalancing)),
      ).to.throw(/loadBalancing must be "random" or "roundRobin". Received: "leastRequest"/);
    });
  });

  describe("random over pinned client connections (simulate --connections)", () => {
    /** 4 light replicas at 1,000 req/s for 400 s, over `connections` connections. */
    const pinnedInput = (
      connections: number,
      extra: Partial<SimulationInput> = {},
      seed = 3,
    ): SimulationInput => ({
      ...staticInput(
        { batcher: LIGHT, service: MODELS[0]!.service, n: 4, rate: 1000, requests: 400_000, seed },
        "random",
      ),
      connections,
      ...extra,
    });

    it("is deterministic per seed", () => {
      expect(simulate(pinnedInput(6))).to.deep.equal(simulate(pinnedInput(6)));
    });

    it("two connections over four replicas: at most two replicas get requests", () => {
      const shares = sharesOf(pinnedInput(2));
      expect(shares).to.have.length(4);
      const used = shares.filter((x) => x > 0);
      expect(used.length).to.be.within(1, 2);
    });

    it("many connections: close to a replica per request (each replica about a quarter)", () => {
      const shares = sharesOf(pinnedInput(4000));
      const total = shares.reduce((x, y) => x + y, 0);
      for (const x of shares) expect(x / total).to.be.closeTo(0.25, 0.03);
    });

    /**
     * 1 replica for the first minute, then 3 (the two added ready after provisioning and
     * cold start); returns the requests each replica took.
     */
    const scaleUp = (extra: Partial<SimulationInput>): number[] =>
      sharesOf(
        pinnedInput(16, {
          control: { kind: "schedule", replicasAt: (t) => (t < 60 ? 1 : 3), periodSeconds: 60 },
          ...extra,
        }),
      );

    it("replicas added by a scale-up get nothing while every connection stays pinned", () => {
      const shares = scaleUp({});
      expect(shares).to.have.length(3);
      expect(shares.filter((x) => x > 0)).to.have.length(1);
    });

    it("with a maximum connection age, connections reconnect and the added replicas get a share", () => {
      const shares = scaleUp({ connectionMaxAgeSeconds: 30 });
      expect(shares).to.have.length(3);
      // The added two are ready after provisioning and cold start (at 240 s): a third of
      // the remaining 160 s at 1,000 req/s is about 53,000 requests each.
      for (const x of shares) expect(x).to.be.above(20_000);
    });

    it("connections of a replica that goes (scale-down) reconnect to the ready ones: nothing is lost", () => {
      const input = pinnedInput(16, {
        control: { kind: "schedule", replicasAt: (t) => (t < 60 ? 4 : 2), periodSeconds: 60 },
      });
      const run = new SimulationRun(input);
      run.advanceTo(120);
      const drained = new Map(
        run.scrape().replicas.map((r) => [r.replica, r.models[0]!.counters.requestSuccess ?? 0]),
      );
      run.advanceTo(400);
      const later = run.scrape().replicas;
      // Only the two ready replicas still serve, and they took every request since.
      expect(later).to.have.length(2);
      for (const r of later) {
        expect(r.models[0]!.counters.requestSuccess ?? 0).to.be.above(drained.get(r.replica) ?? 0);
      }
      const result = run.finish();
      expect(result.failed + result.rejected).to.equal(0);
      expect(result.served).to.equal(result.requests);
    });

    const invalid: { name: string; extra: Partial<SimulationInput>; err: RegExp }[] = [
      {
        name: "connections on a roundRobin run",
        extra: { loadBalancing: "roundRobin", connections: 4 },
        err: /connections pin requests to replicas under random load balancing only; with roundRobin a proxy balances each request\. Received: 4/,
      },
      {
        name: "a fractional number of connections",
        extra: { connections: 2.5 },
        err: /connections must be a whole number ≥ 0 \(0: a replica per request\)\. Received: 2\.5/,
      },
      {
        name: "a maximum age of 0",
        extra: { connections: 4, connectionMaxAgeSeconds: 0 },
        err: /connectionMaxAgeSeconds must be positive \(Infinity: never\)\. Received: 0/,
      },
    ];
    for (const c of invalid) {
      it(`rejects ${c.name}`, () => {
        expect(() => simulate(pinnedInput(0, c.extra))).to.throw(RangeError, c.err);
      });
    }
  });

  /**
   * What the scaler plans with holds in the simulator: n replicas at 95% of n × C(1)
   * under random routing, and of n × C(n) under round robin, keep p99 within the SLO,
   * i.e. at least 99% of requests within it, less the capacity search's own sampling
   * error: its probe finds the rate where 99% of 40,000 requests (one seed) are within
   * the SLO, and a share of 0.99 over 40,000 requests has a standard error of
   * √(0.99 · 0.01 / 40,000) = 0.0005; with the run's own (400,000 requests here) added,
   * three standard errors are 0.0016. And the curve must not be used for random routing:
   * there the same load misses by far more than that.
   */
  describe("the capacity the scaler plans with is what the routed replicas sustain", () => {
    const N = 4;
    const REQUESTS = 400_000;
    const PROBE_REQUESTS = 40_000;
    const tolerance = 3 * Math.sqrt(0.99 * 0.01 * (1 / PROBE_REQUESTS + 1 / REQUESTS));
    const SEEDS = [1, 2, 3];
    for (const m of MODELS) {
      describe(m.name, () => {
        let curve: Capacity;
        before(() => {
          const single = capacityAtSlo(m.batcher, m.service, SLO, {
            seed: 1,
            requests: PROBE_REQUESTS,
          });
          curve = capacityCurve(single, m.batcher, m.service, SLO, N, { seed: 1 });
        });
        const run = (lb: LoadBalancing, perReplica: number, seed: number): SimulationResult =>
          simulate(
            staticInput({ ...m, n: N, rate: N * perReplica * 0.95, requests: REQUESTS, seed }, lb),
          );
        for (const seed of SEEDS) {
          it(`random at ${N} × C(1) × 0.95 meets the SLO (seed ${seed})`, () => {
            const r = run("random", curve.requestsPerSecond, seed);
            expect(r.sloAttainment).to.be.at.least(0.99 - tolerance);
          });
          it(`roundRobin at ${N} × C(${N}) × 0.95 meets the SLO (seed ${seed})`, () => {
            expect(curve.byReplicas![N - 1]!).to.be.greaterThan(curve.requestsPerSecond);
            const r = run("roundRobin", curve.byReplicas![N - 1]!, seed);
            expect(r.sloAttainment).to.be.at.least(0.99 - tolerance);
          });
        }
        it(`random at ${N} × C(${N}) × 0.95 misses it: the curve is for round robin only`, () => {
          const r = run("random", curve.byReplicas![N - 1]!, 1);
          expect(r.sloAttainment).to.be.lessThan(0.99 - tolerance);
        });
      });
    }
  });

  describe("runs built from a pool route as it says", () => {
    const policyOf = (loadBalancing?: LoadBalancing): Policy =>
      minimalPool({
        scaling: { maxReplicas: 4, ...(loadBalancing ? { loadBalancing } : {}) },
      });
    const trace = "synthetic:poisson:rate=500:duration=10m";

    it("compare (simulate): a default pool is routed randomly, a roundRobin pool round robin (regression: every pool was routed round robin)", () => {
      const runOf = (p: Policy) =>
        compare({
          policy: p,
          trace: parseTraceSpec(trace, 5),
          profile: DEFAULT_PROFILE,
          controls: ["static:2"],
          seed: 5,
        });
      const random = runOf(policyOf());
      const explicit = runOf(policyOf("random"));
      const rr = runOf(policyOf("roundRobin"));
      expect([random.loadBalancing, explicit.loadBalancing, rr.loadBalancing]).to.deep.equal([
        "random",
        "random",
        "roundRobin",
      ]);
      expect(explicit.rows).to.deep.equal(random.rows);
      const [a, b] = [random.rows[0]!, rr.rows[0]!];
      expect(a.requests).to.equal(b.requests);
      expect(a.meanQueueWaitMs).to.be.greaterThan(b.meanQueueWaitMs);
    });

    it("createPoolRun (demo): routed as the pool says", () => {
      const runOf = (p: Policy) => {
        const run = createPoolRun(p, parseTraceSpec(trace, 5), {
          initial: { spot: 0, onDemand: 2 },
          capacityPerReplica: 300,
        });
        run.advanceTo(600);
        return run.finish();
      };
      const random = runOf(policyOf());
      const rr = runOf(policyOf("roundRobin"));
      expect(random.requests).to.equal(rr.requests);
      expect(random.meanQueueWaitMs).to.be.greaterThan(rr.meanQueueWaitMs);
    });
  });
});
