import { expect } from "chai";
import type {
  ModelCounters,
  ModelSample,
  PoolScrape,
  ReplicaPhase,
  ReplicaScrape,
} from "../../controller/scaling/samples.js";
import {
  type LoadSignals,
  SignalWindow,
  type WindowSettings,
} from "../../controller/scaling/window.js";

/** A model's sample: counters, and its pending gauge when given. */
function model(
  name: string,
  counters: ModelCounters,
  pending?: number,
  extra: Partial<ModelSample> = {},
): ModelSample {
  return {
    model: name,
    version: "1",
    counters,
    ...(pending === undefined ? {} : { pendingRequests: pending }),
    ...extra,
  };
}

/** A replica's scrape at t. */
function replica(
  id: string,
  t: number,
  models: readonly ModelSample[],
  phase: ReplicaPhase = "ready",
  gpu?: number,
): ReplicaScrape {
  return {
    replica: id,
    t,
    phase,
    models: phase === "unreachable" ? [] : models,
    ...(gpu === undefined ? {} : { gpuUtilization: gpu }),
  };
}

/** Counters of a detector that answered `n` requests in batches of 4, 5 ms queue and 10 ms compute each. */
function served(n: number, latencies = true): ModelCounters {
  return {
    requestSuccess: n,
    requestFailure: 0,
    inferenceCount: n,
    execCount: n / 4,
    ...(latencies ? { queueDurationUs: n * 5000, computeInferDurationUs: n * 10_000 } : {}),
  };
}

/** Rounds every 15 s from 0; `at(t, i)` gives the replicas of round i at time t. */
function rounds(count: number, at: (t: number, i: number) => PoolScrape["replicas"]): PoolScrape[] {
  return Array.from({ length: count }, (_, i) => ({ t: i * 15, replicas: at(i * 15, i) }));
}

type Expected = { [K in keyof LoadSignals]?: readonly [value: number, age: number] | null };

interface Row {
  readonly name: string;
  readonly settings?: Partial<WindowSettings>;
  readonly rounds: readonly PoolScrape[];
  readonly now: number;
  /** [value, age] per signal; null: missing; absent: not checked. */
  readonly expect: Expected;
  readonly loading?: number;
  readonly unreachable?: number;
  /** Of the unreachable, those scraped before. @default 0 */
  readonly dark?: number;
}

const ROWS: readonly Row[] = [
  {
    name: "the worked example of window.ts (a steady, b new at 30 s, c reset at 45 s)",
    rounds: rounds(5, (t, i) => {
      const a = replica("a", t, [
        {
          model: "m",
          version: "1",
          counters: {
            requestSuccess: 1000 + 150 * i,
            queueDurationUs: 50_000 + 750_000 * i,
            computeInferDurationUs: 8_000 + 1_500_000 * i,
            inferenceCount: 1000 + 150 * i,
            execCount: 250 + 37.5 * i,
          },
          pendingRequests: 2,
        },
      ]);
      const b = replica("b", t, [model("m", { requestSuccess: 40 + 150 * (i - 2) }, 1)]);
      const c = replica("c", t, [model("m", { requestSuccess: [900, 900, 900, 30, 90][i]! }, 0)]);
      return i >= 2 ? [a, b, c] : [a, c];
    }),
    now: 75,
    expect: {
      arrivalRate: [16.5, 15],
      queueDelayMs: [5, 15],
      computeMsPerBatch: [10, 15],
      batchSize: [4, 15],
      pending: [3, 15],
      inflight: null,
      gpuUtilization: null,
    },
  },
  {
    name: "a reset: a counter that goes down counts its new value, never a negative rate",
    rounds: rounds(5, (t, i) => [
      replica("a", t, [model("m", served([400, 700, 60, 360, 660][i]!))]),
    ]),
    now: 60,
    // 300 + 60 + 300 + 300 = 960 over 60 s.
    expect: { arrivalRate: [16, 0], batchSize: [4, 0], queueDelayMs: [5, 0] },
  },
  {
    name: "a new replica contributes nothing until its second sample",
    rounds: rounds(5, (t, i) =>
      i < 4
        ? [replica("a", t, [model("m", served(600 * i))])]
        : [
            replica("a", t, [model("m", served(600 * i))]),
            replica("b", t, [model("m", served(5000))]),
          ],
    ),
    now: 60,
    expect: { arrivalRate: [40, 0] },
  },
  {
    name: "a vanished series keeps what it added while there and is not a drop to 0",
    rounds: rounds(5, (t, i) => [
      replica(
        "a",
        t,
        i < 3
          ? [model("m", served(600 * i)), model("old", served(300 * i))]
          : [model("m", served(600 * i))],
      ),
    ]),
    now: 60,
    // m 2400 + old 600 (up to 30 s) = 3000 over 60 s; no reset of `old` at 45 s.
    expect: { arrivalRate: [50, 0] },
  },
  {
    name: "a replica gone from the pool stops contributing once its samples leave the window",
    rounds: rounds(10, (t, i) =>
      i < 2
        ? [
            replica("a", t, [model("m", served(600 * i))]),
            replica("b", t, [model("m", served(60 * i))]),
          ]
        : [replica("a", t, [model("m", served(600 * i))])],
    ),
    now: 135,
    expect: { arrivalRate: [40, 0], pending: null },
  },
  {
    name: "stale: the age is now minus the latest round",
    rounds: rounds(5, (t, i) => [replica("a", t, [model("m", served(600 * i), 3)], "ready", 0.5)]),
    now: 130,
    expect: { arrivalRate: [40, 70], pending: [3, 70], gpuUtilization: [0.5, 70] },
  },
  {
    name: "an unreachable replica: its series missing, its pending carried, every replica signal as old as its last sample",
    rounds: rounds(5, (t, i) => [
      replica("a", t, [model("m", served(600 * i), 2)], "ready", 0.4),
      replica("c", t, [model("m", served(300 * i), 5)], i < 3 ? "ready" : "unreachable", 0.9),
    ]),
    now: 60,
    unreachable: 1,
    dark: 1,
    // a 2400 + c 600 (to 30 s) over 60 s; pending 2 + c's 5 from 30 s; gpu: a only.
    expect: {
      arrivalRate: [50, 30],
      pending: [7, 30],
      gpuUtilization: [0.4, 30],
      batchSize: [4, 30],
    },
  },
  {
    name: "a replica unreachable since first listed has nothing to carry and ages nothing",
    rounds: rounds(5, (t, i) => [
      replica("a", t, [model("m", served(600 * i), 2)]),
      ...(i >= 3 ? [replica("new", t, [], "unreachable")] : []),
    ]),
    now: 60,
    unreachable: 1,
    expect: { arrivalRate: [40, 0], pending: [2, 0] },
  },
  {
    name: "every replica unreachable: rates only from what was scraped, all as old as that",
    rounds: rounds(5, (t, i) => [
      replica("a", t, [model("m", served(600 * i), 2)], i < 4 ? "ready" : "unreachable"),
    ]),
    now: 60,
    unreachable: 1,
    dark: 1,
    expect: { arrivalRate: [30, 15], pending: [2, 15] },
  },
  {
    name: "missing counters (counter_latencies=false): no queue delay or compute, rates still",
    rounds: rounds(5, (t, i) => [replica("a", t, [model("m", served(600 * i, false), 1)])]),
    now: 60,
    expect: {
      arrivalRate: [40, 0],
      batchSize: [4, 0],
      queueDelayMs: null,
      computeMsPerBatch: null,
      pending: [1, 0],
    },
  },
  {
    name: "no pending gauge exported (Triton 23.08): pending missing, not 0",
    rounds: rounds(3, (t, i) => [replica("a", t, [model("m", served(600 * i))])]),
    now: 30,
    expect: { pending: null, arrivalRate: [40, 0] },
  },
  {
    name: "a loading replica is counted as loading; its queue counts, its GPU does not",
    rounds: rounds(5, (t, i) => [
      replica("a", t, [model("m", served(600 * i), 2)], "ready", 0.6),
      replica("l", t, [model("m", served(0), 4)], "loading", 0.1),
    ]),
    now: 60,
    loading: 1,
    expect: { pending: [6, 0], gpuUtilization: [0.6, 0], arrivalRate: [40, 0] },
  },
  {
    name: "multi-model pool: arrivals at the entry models, queue, batches and pending at the detectors",
    settings: {
      models: [
        { entry: "ensemble", detector: "ensemble-detector" },
        { entry: "other", detector: "other-detector" },
      ],
    },
    rounds: rounds(5, (t, i) => [
      replica("a", t, [
        model(
          "ensemble",
          {
            requestSuccess: 300 * i,
            requestFailure: 30 * i,
            execCount: 300 * i,
            inferenceCount: 300 * i,
            queueDurationUs: 0,
          },
          0,
        ),
        model("ensemble-detector", served(300 * i), 3),
        model(
          "ensemble-preprocess",
          {
            requestSuccess: 300 * i,
            inferenceCount: 300 * i,
            execCount: 300 * i,
            queueDurationUs: 0,
          },
          9,
        ),
        model("other", served(120 * i), 1),
      ]),
    ]),
    now: 60,
    // (1200 + 120 + 480) / 60 = 30 req/s; the ensemble's own and the preprocess model's
    // batch-1, no-queue series would pull batch size and queue delay down: left out.
    expect: { arrivalRate: [30, 0], pending: [4, 0], queueDelayMs: [5, 0], batchSize: [4, 0] },
  },
  {
    name: "a front: arrivals counted where they arrive, its queue pending, even with no replica",
    rounds: Array.from({ length: 5 }, (_, i) => ({
      t: i * 15,
      replicas: [],
      front: { arrivals: 300 * i, pending: 17 },
    })),
    now: 70,
    expect: { arrivalRate: [20, 10], pending: [17, 10], inflight: null, gpuUtilization: null },
  },
  {
    name: "a front beside replicas: arrivals from the front only, pending summed",
    rounds: rounds(5, (t, i) => [replica("a", t, [model("m", served(600 * i), 2)])]).map(
      (r, i) => ({ ...r, front: { arrivals: 900 * i, pending: 1 } }),
    ),
    now: 60,
    expect: { arrivalRate: [60, 0], pending: [3, 0] },
  },
  {
    name: "inflight where the source reports it",
    rounds: rounds(2, (t, i) => [
      replica("a", t, [model("m", served(600 * i), 0, { inflightRequests: 3 })]),
      replica("b", t, [model("m", served(60 * i), 0, { inflightRequests: 1 })]),
    ]),
    now: 15,
    expect: { inflight: [4, 0] },
  },
  {
    name: "one round: gauges now, rates missing until a second",
    rounds: rounds(1, (t) => [replica("a", t, [model("m", served(600), 2)], "ready", 0.3)]),
    now: 5,
    expect: {
      pending: [2, 5],
      gpuUtilization: [0.3, 5],
      arrivalRate: null,
      queueDelayMs: null,
      batchSize: null,
    },
  },
  {
    name: "a round stamped after now (the source's clock ahead) is 0 s old, never negative",
    rounds: rounds(2, (t, i) => [replica("a", t, [model("m", served(600 * i), 2)])]),
    now: 14.5,
    expect: { pending: [2, 0], arrivalRate: [40, 0] },
  },
  {
    name: "no round yet: every signal missing",
    rounds: [],
    now: 5,
    expect: { pending: null, arrivalRate: null, gpuUtilization: null },
  },
  {
    name: "a round not newer than the latest is ignored",
    rounds: [
      ...rounds(3, (t, i) => [replica("a", t, [model("m", served(600 * i), 2)])]),
      { t: 30, replicas: [replica("a", 30, [model("m", served(0), 99)])] },
      { t: 10, replicas: [replica("a", 10, [model("m", served(0), 99)])] },
    ],
    now: 30,
    expect: { pending: [2, 0], arrivalRate: [40, 0] },
  },
];

describe("scaling/window: raw scrapes to load signals", () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const w = new SignalWindow({ rateWindowSeconds: 60, ...row.settings });
      for (const r of row.rounds) w.record(r);
      const got = w.read(row.now);
      for (const [key, want] of Object.entries(row.expect) as [
        keyof LoadSignals,
        Expected[keyof LoadSignals],
      ][]) {
        const signal = got.signals[key];
        if (want === null) {
          expect(signal, key).to.equal(undefined);
        } else if (want !== undefined) {
          expect(signal, key).to.not.equal(undefined);
          expect(signal!.value, `${key} value`).to.be.closeTo(want[0], 1e-9);
          expect(signal!.ageSeconds, `${key} age`).to.be.closeTo(want[1], 1e-9);
        }
      }
      expect(got.loadingReplicas, "loading").to.equal(row.loading ?? 0);
      expect(got.unreachableReplicas, "unreachable").to.equal(row.unreachable ?? 0);
      expect(got.darkReplicas, "dark").to.equal(row.dark ?? 0);
    });
  }

  it("keeps fixed memory: one window of rounds plus its start, however long it runs", () => {
    const w = new SignalWindow({ rateWindowSeconds: 60 });
    let most = 0;
    for (let i = 0; i < 10_000; i++) {
      w.record({
        t: i * 15,
        replicas: [replica(`r${i % 7}`, i * 15, [model("m", served(4 * i))])],
      });
      most = Math.max(most, w.size);
    }
    expect(most).to.equal(5);
  });

  it("counts the gauges of the replicas listed in the latest round only", () => {
    const w = new SignalWindow({ rateWindowSeconds: 60 });
    for (let i = 0; i < 2000; i++) {
      w.record({ t: i, replicas: [replica(`pod-${i}`, i, [model("m", served(4), 1)])] });
    }
    // Only the last pod is listed: its pending alone, however many came before.
    expect(w.read(2000).signals.pending?.value).to.equal(1);
  });

  it("rejects a rate window that is not a positive number, naming the value", () => {
    expect(() => new SignalWindow({ rateWindowSeconds: 0 })).to.throw(/Received: 0/);
  });
});
