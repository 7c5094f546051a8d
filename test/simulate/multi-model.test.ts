import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { stringify } from "yaml";
import { runSimulate } from "../../controller/cli/simulate.js";
import { loadModelPool } from "../../controller/policy/index.js";
import { createScaler } from "../../controller/scaling/registry.js";
import type { Scaler } from "../../controller/scaling/types.js";
import { capacityAtSlo } from "../../controller/simulate/capacity.js";
import { compare } from "../../controller/simulate/compare.js";
import { type SimulationInput, simulate } from "../../controller/simulate/engine.js";
import { LatencyHistogram } from "../../controller/simulate/histogram.js";
import {
  createShareSplit,
  createTraceSplit,
  equalModelShares,
  parseModelMix,
} from "../../controller/simulate/model-split.js";
import type { HostedModel } from "../../controller/simulate/multi-replica.js";
import { type ModelShares, mixedCapacity } from "../../controller/simulate/pool-mix.js";
import { createPoolRun } from "../../controller/simulate/pool-run.js";
import { createLinearProfile } from "../../controller/simulate/profile.js";
import type { BatcherSettings } from "../../controller/simulate/replica.js";
import { createRng } from "../../controller/simulate/rng.js";
import {
  batcherSettings,
  clusterSettings,
  createServiceTime,
  pipelineSettings,
} from "../../controller/simulate/setup.js";
import { parseTraceSpec } from "../../controller/simulate/trace.js";
import { parseTraceCsv } from "../../controller/simulate/trace-csv.js";
import { runCaptured } from "../support/io.js";
import { poolDocument } from "../support/pools.js";
import { testBatcher } from "../support/sim-settings.js";

/**
 * A pool of several models simulated as one (simulate/multi-replica.ts): every replica
 * hosts every model, one batcher each on a shared GPU; each request's model comes from the
 * split; the scaler follows the observed mix as the live loop does.
 */

const SLO = 0.085;

function batcher(maxBatchSize: number, instances = 1): BatcherSettings {
  return testBatcher({ maxBatchSize, instances });
}

/** A light detector (YOLOv8s-like on a T4) and a heavy one (about 5.5× slower at the SLO). */
const LIGHT: HostedModel = {
  name: "light",
  batcher: batcher(16),
  service: createServiceTime(createLinearProfile(4, 2.2)),
};
const HEAVY: HostedModel = {
  name: "heavy",
  batcher: batcher(8),
  service: createServiceTime(createLinearProfile(10, 7)),
};

/** A cluster where replicas exist at once and never go away. */
const CLUSTER = {
  ...clusterSettings(loadModelPool(stringify(poolDocument()), "pool.yaml")),
  nodeProvisionSeconds: { spot: 0, onDemand: 0 },
  coldStartSeconds: 0,
  spotInterruptionsPerHour: 0,
};

function oneReplica(
  trace: string,
  models: readonly HostedModel[] | undefined,
  shares: Record<string, number>,
): SimulationInput {
  const first = models?.[0] ?? LIGHT;
  return {
    arrivals: parseTraceSpec(trace, 3),
    batcher: first.batcher,
    service: first.service,
    ...(models
      ? {
          models,
          split: createShareSplit(
            models.map((m) => m.name),
            shares,
            5,
          ),
        }
      : {}),
    cluster: CLUSTER,
    pipeline: pipelineSettings(),
    sloSeconds: SLO,
    control: { kind: "schedule", replicasAt: () => 1, periodSeconds: 60 },
    random: createRng(1),
    histogram: () => new LatencyHistogram(),
  };
}

/** The highest Poisson rate at which one replica keeps its p99 within the SLO (bisection). */
function measuredCapacity(
  models: readonly HostedModel[],
  shares: Record<string, number>,
  hi: number,
): number {
  let lo = 0;
  for (let i = 0; i < 11; i++) {
    const mid = (lo + hi) / 2;
    const r = simulate(oneReplica(`synthetic:poisson:rate=${mid}:duration=10m`, models, shares));
    if (r.p99Ms <= SLO * 1000) lo = mid;
    else hi = mid;
  }
  return lo;
}

describe("simulate: a pool of several models", () => {
  describe("one replica's capacity follows the mix, 1 / Σ (w_i / C_i)", () => {
    const cl = capacityAtSlo(LIGHT.batcher, LIGHT.service, SLO, { seed: 1 }).requestsPerSecond;
    const ch = capacityAtSlo(HEAVY.batcher, HEAVY.service, SLO, { seed: 1 }).requestsPerSecond;
    // The mix formula is the live loop's model (time-sharing). The simulated replica shares
    // its GPU by overlap (multi-replica.ts), and each C_i is where latency, not throughput,
    // binds (the GPU is not busy all the time at C_i), so the replica may do a little better
    // than the formula; batches of a model at a share of the rate are smaller, so it may do
    // a little worse. ±20% tells the mix apart from every wrong answer: the light model
    // alone (the old single-model simulation, 3.3×), the arithmetic mean of the capacities
    // (1.9× at 50/50), the heavy model alone (0.6×), or each batch slowed by every
    // batch running at its start however short (0.53× measured).
    const cases = [
      { name: "50/50", light: 0.5 },
      { name: "80/20 (mostly light)", light: 0.8 },
      { name: "20/80 (mostly heavy)", light: 0.2 },
    ];
    for (const c of cases) {
      it(c.name, () => {
        expect(ch / cl).to.be.below(0.25);
        const shares = { light: c.light, heavy: 1 - c.light };
        const formula = mixedCapacity({ light: cl, heavy: ch }, shares);
        const measured = measuredCapacity([LIGHT, HEAVY], shares, 2 * formula);
        expect(measured / formula).to.be.within(0.8, 1.2);
      });
    }

    it("at 0.7× the mix's capacity nearly every request meets the SLO; at 1.5× far fewer", () => {
      const shares = { light: 0.5, heavy: 0.5 };
      const formula = mixedCapacity({ light: cl, heavy: ch }, shares);
      const under = simulate(
        oneReplica(`synthetic:poisson:rate=${0.7 * formula}:duration=10m`, [LIGHT, HEAVY], shares),
      );
      const over = simulate(
        oneReplica(`synthetic:poisson:rate=${1.5 * formula}:duration=10m`, [LIGHT, HEAVY], shares),
      );
      expect(under.sloAttainment).to.be.at.least(0.99);
      expect(over.sloAttainment).to.be.below(0.9);
      // Each model's share of the requests is the split's, and the rows add up.
      for (const r of [under, over]) {
        const byModel = r.byModel!;
        expect(byModel.map((m) => m.model)).to.deep.equal(["light", "heavy"]);
        expect(byModel.reduce((s, m) => s + m.requests, 0)).to.equal(r.requests);
        expect(byModel.reduce((s, m) => s + m.served, 0)).to.equal(r.served);
        expect(byModel[0]!.requests / r.requests).to.be.closeTo(0.5, 0.02);
      }
    });
  });

  const routings: {
    name: string;
    routing: Pick<SimulationInput, "loadBalancing" | "connections">;
    replicasAt: (t: number) => number;
  }[] = [
    { name: "round robin", routing: {}, replicasAt: () => 6 },
    // Regression: a randomly routed request went to the batcher of the model of the
    // request before it (merge of random routing and several models).
    { name: "random", routing: { loadBalancing: "random" }, replicasAt: () => 6 },
    {
      name: "random over 8 pinned connections",
      routing: { loadBalancing: "random", connections: 8 },
      replicasAt: () => 6,
    },
    // Regression: requests waiting at the front for the first replica became the first
    // model's.
    {
      name: "from zero replicas: the first 20 min at the front",
      routing: { loadBalancing: "random" },
      replicasAt: (t) => (t < 1200 ? 0 : 6),
    },
  ];
  for (const row of routings) {
    it(`per-model counts add up to the pool's with Spot reclaims (retries keep their model) and a warmup: ${row.name}`, () => {
      const policy = loadModelPool(stringify(poolDocument()), "pool.yaml");
      const input: SimulationInput = {
        ...oneReplica("synthetic:poisson:rate=300:duration=2h", [LIGHT, HEAVY], {
          light: 0.7,
          heavy: 0.3,
        }),
        ...row.routing,
        cluster: { ...clusterSettings(policy), spotInterruptionsPerHour: 6 },
        control: { kind: "schedule", replicasAt: row.replicasAt, periodSeconds: 60 },
        scheduleCapacity: "spot",
        measureFromSeconds: 1800,
      };
      countsAddUp(simulate(input));
    });
  }

  function countsAddUp(r: ReturnType<typeof simulate>): void {
    const byModel = r.byModel!;
    const sum = (f: (m: (typeof byModel)[number]) => number) =>
      byModel.reduce((s, m) => s + f(m), 0);
    expect(sum((m) => m.requests)).to.equal(r.requests);
    expect(sum((m) => m.served)).to.equal(r.served);
    expect(sum((m) => m.rejected)).to.equal(r.rejected);
    expect(sum((m) => m.failed)).to.equal(r.failed);
    for (const m of byModel) {
      expect(m.served + m.rejected + m.failed, m.model).to.equal(m.requests);
    }
    expect(r.scaleEvents + r.requests).to.be.greaterThan(0);
  }

  it("property: one model through the multi-model replica gives exactly the single-model result", () => {
    fc.assert(
      fc.property(
        fc.record({
          maxBatch: fc.integer({ min: 1, max: 16 }),
          instances: fc.integer({ min: 1, max: 3 }),
          delayUs: fc.integer({ min: 0, max: 5000 }),
          a: fc.double({ min: 1, max: 20, noNaN: true }),
          b: fc.double({ min: 0.1, max: 5, noNaN: true }),
          rate: fc.integer({ min: 20, max: 600 }),
          replicas: fc.integer({ min: 1, max: 3 }),
          queue: fc.integer({ min: 0, max: 40 }),
          timeoutMs: fc.integer({ min: 0, max: 200 }),
          spot: fc.boolean(),
        }),
        (p) => {
          const b: BatcherSettings = {
            maxBatchSize: p.maxBatch,
            preferredBatchSizes: [2, 4, 8].filter((x) => x <= p.maxBatch),
            maxQueueDelaySeconds: p.delayUs / 1e6,
            instances: p.instances,
            maxQueueSize: p.queue,
            queueTimeoutSeconds: p.timeoutMs / 1000,
          };
          const m: HostedModel = {
            name: "only",
            batcher: b,
            service: createServiceTime(createLinearProfile(p.a, p.b)),
          };
          const run = (models: readonly HostedModel[] | undefined) =>
            simulate({
              ...oneReplica(`synthetic:poisson:rate=${p.rate}:duration=5m`, models, { only: 1 }),
              batcher: b,
              service: m.service,
              cluster: { ...CLUSTER, spotInterruptionsPerHour: p.spot ? 20 : 0 },
              control: { kind: "schedule", replicasAt: () => p.replicas, periodSeconds: 60 },
              scheduleCapacity: p.spot ? "spot" : "onDemand",
            });
          const single = run(undefined);
          const { byModel, ...multi } = run([m]);
          expect(multi).to.deep.equal(single);
          expect(byModel![0]!.requests).to.equal(single.requests);
          expect(byModel![0]!.p99Ms).to.equal(single.p99Ms);
        },
      ),
      { numRuns: 25, seed: 42 },
    );
  });

  it("the scaler is re-created for the observed mix, as the live loop's", () => {
    const policy = loadModelPool(stringify(twoModelPool()), "pool.yaml");
    const seen: ModelShares[] = [];
    const base = createScaler("tritonscale", policy, { capacityPerReplica: 100 });
    const rebind = (shares: ModelShares): Scaler => {
      seen.push(shares);
      return createScaler("tritonscale", policy, {
        capacityPerReplica: mixedCapacity({ light: 300, heavy: 60 }, shares.shares),
      });
    };
    const input: SimulationInput = {
      ...oneReplica("synthetic:poisson:rate=200:duration=20m", [LIGHT, HEAVY], {
        light: 0.75,
        heavy: 0.25,
      }),
      control: {
        kind: "scaler",
        scaler: base,
        initial: { spot: 0, onDemand: 2 },
        mix: {
          models: [{ entry: "light" }, { entry: "heavy" }],
          initial: { shares: equalModelShares(["light", "heavy"]), from: "equal" },
          rebind,
        },
      },
    };
    simulate(input);
    expect(seen.length).to.be.greaterThan(0);
    const last = seen.at(-1)!;
    expect(last.from).to.equal("traffic");
    expect(last.shares.light).to.be.closeTo(0.75, 0.05);
  });

  it("the demo's in-memory cluster hosts every model and exports each one's series", () => {
    const policy = loadModelPool(stringify(twoModelPool()), "pool.yaml");
    const run = createPoolRun(policy, parseTraceSpec("synthetic:poisson:rate=80:duration=5m", 1), {
      capacityPerReplica: 50,
    });
    run.advanceTo(120);
    const scrape = run.scrape();
    expect(scrape.replicas.length).to.be.greaterThan(0);
    for (const r of scrape.replicas) {
      expect(r.models.map((m) => m.model)).to.deep.equal(["light", "heavy"]);
    }
    const answered = (name: string) =>
      scrape.replicas.reduce(
        (s, r) => s + r.models.find((m) => m.model === name)!.counters.requestSuccess!,
        0,
      );
    // Equal shares by default: about half each of the ~9,600 requests.
    expect(answered("light") / (answered("light") + answered("heavy"))).to.be.closeTo(0.5, 0.03);
  });

  describe("compare and the CLI", () => {
    let dir: string;
    let poolFile: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "tritonscale-multimodel-"));
      poolFile = join(dir, "pool.yaml");
      writeFileSync(poolFile, stringify(twoModelPool()));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("compare sizes for the trace's mix and reports each model", () => {
      const policy = loadModelPool(stringify(twoModelPool()), "pool.yaml");
      const names = policy.spec.models.map((m) => m.name);
      const c = compare({
        policy,
        trace: parseTraceSpec("synthetic:poisson:rate=150:duration=10m", 1),
        profile: createLinearProfile(4, 2.2),
        controls: ["static:2"],
        seed: 1,
        split: createShareSplit(names, { light: 0.6, heavy: 0.4 }, 1),
      });
      const models = c.models!;
      expect(models.map((m) => m.model)).to.deep.equal(["light", "heavy"]);
      const perModel = Object.fromEntries(
        models.map((m) => [m.model, m.capacity.requestsPerSecond]),
      );
      expect(c.capacity.requestsPerSecond).to.be.closeTo(
        mixedCapacity(perModel, { light: 0.6, heavy: 0.4 }),
        1e-9,
      );
      expect(c.rows[0]!.byModel!.map((m) => m.model)).to.deep.equal(["light", "heavy"]);
      // The profiles are the models' own: the heavy one sustains far less.
      expect(perModel.heavy!).to.be.below(perModel.light! / 3);
    });

    it("--model simulates that model alone, as before (no per-model rows)", () => {
      const policy = loadModelPool(stringify(twoModelPool()), "pool.yaml");
      const heavy = policy.spec.models[1]!;
      const c = compare({
        policy,
        trace: parseTraceSpec("synthetic:poisson:rate=50:duration=10m", 1),
        profile: createLinearProfile(10, 7),
        controls: ["static:2"],
        seed: 1,
        model: "heavy",
      });
      expect(c.models).to.equal(undefined);
      expect(c.rows[0]!.byModel).to.equal(undefined);
      expect(c.capacity.requestsPerSecond).to.equal(
        capacityAtSlo(batcherSettings(heavy), HEAVY.service, SLO, { seed: 1 }).requestsPerSecond,
      );
    });

    it("--json has each model's capacity and share, and each row's per-model figures", async () => {
      const r = await runCaptured(runSimulate, [
        "--pool",
        poolFile,
        "--trace",
        "synthetic:poisson:rate=100:duration=10m",
        "--scaler",
        "static:2",
        "--bounds",
        "none",
        "--mix",
        "light=3,heavy=1",
        "--json",
      ]);
      expect(r.code, r.err).to.equal(0);
      const out = JSON.parse(r.out) as {
        pool: { model: string };
        models: { name: string; share: number }[];
        rows: { requests: number; models: { model: string; requests: number }[] }[];
      };
      expect(out.pool.model).to.equal("light+heavy");
      expect(out.models.map((m) => [m.name, m.share])).to.deep.equal([
        ["light", 0.75],
        ["heavy", 0.25],
      ]);
      const row = out.rows[0]!;
      expect(row.models.reduce((s, m) => s + m.requests, 0)).to.equal(row.requests);
    });

    const bad: { name: string; argv: string[]; code: number; err: RegExp }[] = [
      {
        name: "--mix naming a model the pool lacks",
        argv: ["--mix", "light=1,yolov9=1"],
        code: 1,
        err: /--mix:1:9: .*the pool has no model "yolov9"; its models: light, heavy/,
      },
      {
        name: "--mix with a share that is not positive",
        argv: ["--mix", "light=0,heavy=1"],
        code: 1,
        err: /--mix:1:7: .*the share must be a positive number.*got "0"/,
      },
      {
        name: "--mix with a model named twice",
        argv: ["--mix", "light=1,light=2"],
        code: 1,
        err: /model "light" is named twice/,
      },
      {
        name: "--mix with --model",
        argv: ["--mix", "light=1", "--model", "light"],
        code: 2,
        err: /with --model only that model is simulated/,
      },
      {
        name: "--profile for a pool of several models without --model",
        argv: ["--profile", "linear:a=4,b=2"],
        code: 2,
        err: /--profile is one model's profile; pool yolo has 2 models/,
      },
    ];
    for (const c of bad) {
      it(`refuses ${c.name}`, async () => {
        const r = await runCaptured(runSimulate, [
          "--pool",
          poolFile,
          "--trace",
          "synthetic:poisson:rate=10:duration=1m",
          "--bounds",
          "none",
          ...c.argv,
        ]);
        expect(r.code, r.err).to.equal(c.code);
        expect(r.err).to.match(c.err);
        expect(r.out).to.equal("");
      });
    }
  });

  describe("a CSV trace's model column", () => {
    let dir: string;
    let poolFile: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "tritonscale-trace-models-"));
      poolFile = join(dir, "pool.yaml");
      writeFileSync(poolFile, stringify(twoModelPool()));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    /** Rows out of order: light before t = 300 s, heavy after, 3 light per heavy overall. */
    function traceText(): string {
      const rows: string[] = [];
      for (let i = 0; i < 600; i++) rows.push(`${(i * 0.5).toFixed(2)},light`);
      for (let i = 0; i < 200; i++) rows.push(`${(300 + i * 1.5).toFixed(2)},heavy`);
      return `timestamp,model\n${rows.reverse().join("\n")}\n`;
    }

    it("is not read in a trace of per-interval counts: every model's counts add up", () => {
      const trace = parseTraceCsv("t,count,model\n0,5,light\n0,3,heavy\n60,2,light\n", "c.csv", 1);
      expect(trace.models).to.equal(undefined);
      expect(trace.rateBetween(0, 60) * 60).to.be.closeTo(8, 1e-9);
    });

    it("labels each request with its own model, following the sort", () => {
      const trace = parseTraceCsv(traceText(), "t.csv", 1);
      const column = trace.models!;
      expect(column.names).to.deep.equal(["heavy", "light"]);
      const split = createTraceSplit(["light", "heavy"], column);
      expect(split.shares).to.deep.equal({ light: 0.75, heavy: 0.25 });
      const times = new Float64Array(1000);
      const n = trace.fill(times, Number.POSITIVE_INFINITY);
      const labels = new Uint8Array(n);
      split.label(times, n, labels);
      for (let i = 0; i < n; i++) expect(labels[i]).to.equal(times[i]! < 300 ? 0 : 1);
    });

    it("simulate counts each model's requests as the trace has them", async () => {
      const file = join(dir, "trace.csv");
      writeFileSync(file, traceText());
      const r = await runCaptured(runSimulate, [
        ...["--pool", poolFile, "--trace", file, "--scaler", "static:1", "--bounds", "none"],
        "--json",
      ]);
      expect(r.code, r.err).to.equal(0);
      const out = JSON.parse(r.out) as {
        models: { name: string; share: number }[];
        rows: { models: { model: string; requests: number }[] }[];
      };
      expect(out.rows[0]!.models.map((m) => [m.model, m.requests])).to.deep.equal([
        ["light", 600],
        ["heavy", 200],
      ]);
      const only = await runCaptured(runSimulate, [
        ...["--pool", poolFile, "--trace", file, "--scaler", "static:1", "--bounds", "none"],
        ...["--model", "heavy", "--json"],
      ]);
      expect(only.code, only.err).to.equal(0);
      const heavy = JSON.parse(only.out) as { rows: { requests: number; models?: unknown }[] };
      expect(heavy.rows[0]!.requests).to.equal(200);
      expect(heavy.rows[0]!.models).to.equal(undefined);
    });

    const bad: { name: string; text: string; argv?: string[]; code: number; err: RegExp }[] = [
      {
        name: "a model the pool lacks (where it first appears)",
        text: "t,model\n0,light\n1,yolov9\n2,yolov9\n",
        code: 1,
        err: /trace\.csv:3:3: .*the pool has no model "yolov9"; its models: light, heavy/,
      },
      {
        name: "a row without a model",
        text: "t,model\n0,light\n1,\n",
        code: 1,
        err: /trace\.csv:3:3: missing model name in column 2/,
      },
      {
        name: "--mix beside a model column",
        text: "t,model\n0,light\n1,heavy\n",
        argv: ["--mix", "light=1"],
        code: 2,
        err: /--mix: trace .* says which model each request is for/,
      },
      {
        name: "--model naming a model the column never names",
        text: "t,model\n0,light\n1,light\n",
        argv: ["--model", "heavy"],
        code: 2,
        err: /--model heavy: trace .*'s model column never names it \(it names light\)/,
      },
    ];
    for (const c of bad) {
      it(`refuses ${c.name}`, async () => {
        const file = join(dir, "trace.csv");
        writeFileSync(file, c.text);
        const r = await runCaptured(runSimulate, [
          ...["--pool", poolFile, "--trace", file, "--bounds", "none"],
          ...(c.argv ?? []),
        ]);
        expect(r.code, r.err).to.equal(c.code);
        expect(r.err).to.match(c.err);
        expect(r.out).to.equal("");
      });
    }
  });

  describe("parseModelMix", () => {
    const models = ["a", "b", "c"];
    const rows: {
      name: string;
      spec: string;
      shares?: Record<string, number>;
      problem?: RegExp;
    }[] = [
      { name: "shares normalized", spec: "a=1,b=3", shares: { a: 0.25, b: 0.75 } },
      { name: "spaces around entries", spec: " a = 0.5 , c=0.5", shares: { a: 0.5, c: 0.5 } },
      { name: "no share", spec: "a", problem: /"a" needs a share/ },
      { name: "negative share", spec: "a=-1", problem: /positive number/ },
      { name: "not a number", spec: "a=x", problem: /positive number/ },
      { name: "empty", spec: "", problem: /names no model/ },
      { name: "unknown model", spec: "d=1", problem: /no model "d"; its models: a, b, c/ },
    ];
    for (const r of rows) {
      it(r.name, () => {
        const got = parseModelMix(r.spec, models);
        if (r.shares) expect(got).to.deep.equal({ shares: r.shares });
        else {
          expect(got).to.have.property("problems");
          const problems = (got as { problems: { message: string; file: string }[] }).problems;
          expect(problems[0]!.file).to.equal("--mix");
          expect(problems[0]!.message).to.match(r.problem!);
        }
      });
    }
  });
});

/** A pool with a light and a heavy model, each with its own profile. */
function twoModelPool(): Record<string, unknown> {
  const doc = poolDocument();
  const spec = doc.spec as Record<string, unknown>;
  return {
    ...doc,
    spec: {
      ...spec,
      models: [
        {
          name: "light",
          template: "yolov8-onnx",
          imageSize: 640,
          classes: 80,
          maxBatchSize: 16,
          batching: { preferredBatchSizes: [4, 8], maxQueueDelayMicroseconds: 2000 },
          profile: { linear: { a: 4, b: 2.2 } },
        },
        {
          name: "heavy",
          template: "yolov8-onnx",
          imageSize: 640,
          classes: 80,
          maxBatchSize: 8,
          batching: { preferredBatchSizes: [4, 8], maxQueueDelayMicroseconds: 2000 },
          profile: { linear: { a: 10, b: 7 } },
        },
      ],
    },
  };
}
