import { expect } from "chai";
import {
  buildCostReport,
  type CostFigures,
  type GpuPrice,
  poolPrices,
  splitPeriod,
} from "../../controller/report/cost.js";
import { addedReplicaSeconds } from "../../controller/report/simulation-ledger.js";
import type { ScaleEventUse, UsageBucket, UsageLedger } from "../../controller/report/usage.js";

/**
 * The cost report's numbers against hours × price written out by hand in each row (never
 * the code's own output).
 */

const DAY = 86_400;
const T0 = Date.UTC(2026, 0, 5) / 1000;

function bucket(o: Partial<UsageBucket> & Pick<UsageBucket, "gpuHours">): UsageBucket {
  return {
    pool: "yolo",
    namespace: "vision",
    model: "yolov8s",
    capacityType: "onDemand",
    gpuType: "nvidia-tesla-t4",
    start: T0,
    seconds: DAY,
    busyGpuHours: 0,
    requests: 0,
    requestsWithinSlo: 0,
    ...o,
  };
}

function ledger(buckets: UsageBucket[], scaleEvents: ScaleEventUse[] = []): UsageLedger {
  const to = Math.max(...buckets.map((b) => b.start + b.seconds));
  return {
    source: "simulation",
    from: Math.min(...buckets.map((b) => b.start)),
    to,
    buckets,
    scaleEvents,
    notes: [],
  };
}

/** On-demand 0.50, Spot 0.20 per GPU-hour for pool vision/yolo on T4s. */
const T4 = poolPrices("yolo", "vision", "nvidia-tesla-t4", {
  currency: "USD",
  onDemandPerGpuHour: 0.5,
  spotPerGpuHour: 0.2,
});
/** On-demand 2.00, Spot 0.80 per GPU-hour for pool vision/big on A100s. */
const A100 = poolPrices("big", "vision", "nvidia-a100", {
  currency: "USD",
  onDemandPerGpuHour: 2,
  spotPerGpuHour: 0.8,
});

type Expected = Partial<CostFigures> & { readonly key: string };

interface Row {
  readonly name: string;
  readonly buckets: UsageBucket[];
  readonly prices: readonly GpuPrice[];
  /** Rows by `pool/model/capacity`, then `total`. */
  readonly rows: readonly Expected[];
}

const ROWS: readonly Row[] = [
  {
    name: "on-demand only: 10 h over two days at 0.50; 2,000 requests, 1,990 within",
    buckets: [
      bucket({ gpuHours: 6, busyGpuHours: 4, requests: 1200, requestsWithinSlo: 1195 }),
      bucket({
        start: T0 + DAY,
        gpuHours: 4,
        busyGpuHours: 1,
        requests: 800,
        requestsWithinSlo: 795,
      }),
    ],
    prices: T4,
    rows: [
      {
        key: "yolo/yolov8s/onDemand",
        gpuHours: 10,
        busyGpuHours: 5,
        idleGpuHours: 5,
        cost: 10 * 0.5,
        spotSavings: 0,
        requests: 2000,
        costPer1k: ((10 * 0.5) / 2000) * 1000,
        sloAttainment: 1990 / 2000,
      },
      { key: "total", gpuHours: 10, cost: 5, costPer1k: 2.5 },
    ],
  },
  {
    name: "on-demand and Spot: Spot savings are the Spot hours at 0.50 minus at 0.20",
    buckets: [
      bucket({ gpuHours: 8, busyGpuHours: 6, requests: 3000, requestsWithinSlo: 3000 }),
      bucket({
        capacityType: "spot",
        gpuHours: 12,
        busyGpuHours: 9,
        requests: 5000,
        requestsWithinSlo: 4900,
      }),
    ],
    prices: T4,
    rows: [
      { key: "yolo/yolov8s/onDemand", cost: 8 * 0.5, spotSavings: 0 },
      {
        key: "yolo/yolov8s/spot",
        gpuHours: 12,
        cost: 12 * 0.2,
        spotSavings: 12 * 0.5 - 12 * 0.2,
        costPer1k: ((12 * 0.2) / 5000) * 1000,
        sloAttainment: 4900 / 5000,
      },
      {
        key: "total",
        gpuHours: 20,
        idleGpuHours: 20 - 15,
        cost: 8 * 0.5 + 12 * 0.2,
        spotSavings: 12 * 0.3,
        requests: 8000,
        sloAttainment: 7900 / 8000,
      },
    ],
  },
  {
    name: "two pools on different GPUs, each at its own price",
    buckets: [
      bucket({ gpuHours: 10, requests: 1000, requestsWithinSlo: 1000 }),
      bucket({
        pool: "big",
        model: "yolo11x",
        gpuType: "nvidia-a100",
        gpuHours: 3,
        requests: 500,
        requestsWithinSlo: 450,
      }),
      bucket({
        pool: "big",
        model: "yolo11x",
        gpuType: "nvidia-a100",
        capacityType: "spot",
        gpuHours: 5,
      }),
    ],
    prices: [...T4, ...A100],
    rows: [
      { key: "big/yolo11x/onDemand", cost: 3 * 2, costPer1k: ((3 * 2) / 500) * 1000 },
      { key: "big/yolo11x/spot", cost: 5 * 0.8, spotSavings: 5 * 2 - 5 * 0.8, costPer1k: null },
      { key: "yolo/yolov8s/onDemand", cost: 10 * 0.5 },
      {
        key: "total",
        gpuHours: 18,
        cost: 10 * 0.5 + 3 * 2 + 5 * 0.8,
        spotSavings: 5 * 1.2,
        requests: 1500,
        sloAttainment: 1450 / 1500,
      },
    ],
  },
  {
    name: "busy hours above the allocated hours are capped (idle never negative)",
    buckets: [bucket({ gpuHours: 2, busyGpuHours: 3 })],
    prices: T4,
    rows: [
      {
        key: "yolo/yolov8s/onDemand",
        busyGpuHours: 2,
        idleGpuHours: 0,
        cost: 1,
        costPer1k: null,
        sloAttainment: null,
      },
    ],
  },
  {
    name: "a price for any pool (OpenCost-style, listed first) wins over the pool's",
    buckets: [bucket({ gpuHours: 4 }), bucket({ capacityType: "spot", gpuHours: 4 })],
    prices: [
      {
        pool: "",
        namespace: "vision",
        gpuType: "",
        capacityType: "onDemand",
        perGpuHour: 0.75,
        currency: "USD",
        source: "test",
      },
      ...T4,
    ],
    rows: [
      { key: "yolo/yolov8s/onDemand", cost: 4 * 0.75 },
      { key: "yolo/yolov8s/spot", cost: 4 * 0.2, spotSavings: 4 * 0.75 - 4 * 0.2 },
    ],
  },
  {
    name: "SLO not measured (a Prometheus without request summaries): attainment null, not 0 (regression)",
    buckets: [bucket({ gpuHours: 2, requests: 500, requestsWithinSlo: 0, sloMeasured: false })],
    prices: T4,
    rows: [
      { key: "yolo/yolov8s/onDemand", cost: 2 * 0.5, requests: 500, sloAttainment: null },
      { key: "total", requests: 500, sloAttainment: null },
    ],
  },
  {
    name: "SLO measured one day, not the next: attainment over the measured day's 1,000 requests only (990 within)",
    buckets: [
      bucket({ gpuHours: 3, requests: 1000, requestsWithinSlo: 990 }),
      bucket({
        start: T0 + DAY,
        gpuHours: 3,
        requests: 600,
        requestsWithinSlo: 0,
        sloMeasured: false,
      }),
    ],
    prices: T4,
    rows: [
      {
        key: "yolo/yolov8s/onDemand",
        cost: 6 * 0.5,
        requests: 1600,
        costPer1k: ((6 * 0.5) / 1600) * 1000,
        sloAttainment: 990 / 1000,
      },
      { key: "total", sloAttainment: 990 / 1000 },
    ],
  },
];

describe("report/cost: rows, total and money", () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const r = buildCostReport({ ledger: ledger(row.buckets), prices: row.prices });
      const byKey = new Map(r.rows.map((x) => [`${x.pool}/${x.model}/${x.capacityType}`, x]));
      byKey.set("total", r.total);
      for (const want of row.rows) {
        const got = byKey.get(want.key);
        expect(got, want.key).to.not.equal(undefined);
        for (const [k, v] of Object.entries(want)) {
          if (k === "key") continue;
          const actual = (got as unknown as Record<string, number | null>)[k];
          if (v === null) expect(actual, `${want.key}.${k}`).to.equal(null);
          else expect(actual, `${want.key}.${k}`).to.be.closeTo(v as number, 1e-9);
        }
      }
      expect(r.rows.map((x) => `${x.pool}/${x.model}/${x.capacityType}`)).to.have.length(
        row.rows.filter((x) => x.key !== "total").length,
      );
    });
  }

  it("days: cost per day by capacity type", () => {
    const r = buildCostReport({
      ledger: ledger([
        bucket({ gpuHours: 24 }),
        bucket({ capacityType: "spot", gpuHours: 10 }),
        bucket({ start: T0 + DAY, gpuHours: 12 }),
      ]),
      prices: T4,
    });
    expect(r.days.map((d) => [d.start, d.cost.onDemand, d.cost.spot])).to.deep.equal([
      [T0, 24 * 0.5, 10 * 0.2],
      [T0 + DAY, 12 * 0.5, 0],
    ]);
  });

  it("the previous period beside each row and the change (current − previous)", () => {
    const now = ledger([bucket({ start: T0 + DAY, gpuHours: 10, requests: 1000 })]);
    const before = ledger([
      bucket({ gpuHours: 8, requests: 1000 }),
      bucket({ capacityType: "spot", gpuHours: 5, requests: 0 }),
    ]);
    const r = buildCostReport({ ledger: now, previous: before, prices: T4 });
    const od = r.rows.find((x) => x.capacityType === "onDemand")!;
    expect(od.previous!.cost).to.be.closeTo(8 * 0.5, 1e-9);
    expect(od.change!.cost).to.be.closeTo(10 * 0.5 - 8 * 0.5, 1e-9);
    expect(od.change!.costPer1k).to.be.closeTo(5 - 4, 1e-9);
    // A row only the previous period had: zero now.
    const spot = r.rows.find((x) => x.capacityType === "spot")!;
    expect([spot.gpuHours, spot.previous!.cost]).to.deep.equal([0, 5 * 0.2]);
    expect(r.total.change!.cost).to.be.closeTo(5 - (4 + 1), 1e-9);
    expect(r.previous).to.deep.equal({ from: T0, to: T0 + DAY });
  });

  it("--period: the last day against the day before, by bucket start", () => {
    const l = ledger(
      [0, 1, 2].map((d) => bucket({ start: T0 + d * DAY, gpuHours: d + 1 })),
      [
        {
          pool: "yolo",
          namespace: "vision",
          at: T0 + DAY + 60,
          from: 1,
          to: 2,
          capacityType: "onDemand",
          gpuType: "nvidia-tesla-t4",
          addedGpuHours: 1,
          reason: "",
        },
      ],
    );
    const { current, previous } = splitPeriod(l, DAY);
    expect(current.buckets.map((b) => b.gpuHours)).to.deep.equal([3]);
    expect(previous!.buckets.map((b) => b.gpuHours)).to.deep.equal([2]);
    expect(previous!.scaleEvents).to.have.length(1);
    expect([previous!.from, previous!.to]).to.deep.equal([T0 + DAY, T0 + 2 * DAY]);
    expect(splitPeriod(l, 2 * DAY).previous!.buckets.map((b) => b.gpuHours)).to.deep.equal([1]);
    expect(splitPeriod(l, 3 * DAY).previous).to.equal(undefined);
  });

  it("the scale-ups that cost most: added GPU-hours × their price, most first", () => {
    const ev = (at: number, capacityType: "spot" | "onDemand", addedGpuHours: number) => ({
      pool: "yolo",
      namespace: "vision",
      at: T0 + at,
      from: 1,
      to: 2,
      capacityType,
      gpuType: "nvidia-tesla-t4",
      addedGpuHours,
      reason: `r${at}`,
    });
    const r = buildCostReport({
      ledger: ledger(
        [bucket({ gpuHours: 1 })],
        [ev(1, "spot", 10), ev(2, "onDemand", 3), ev(3, "onDemand", 0), ev(4, "onDemand", 5)],
      ),
      prices: T4,
      topEvents: 2,
    });
    expect(r.topEvents.map((e) => [e.event.reason, e.cost])).to.deep.equal([
      // 5 on-demand GPU-hours (2.50) before 10 Spot ones (2.00) before 3 on-demand (1.50).
      ["r4", 5 * 0.5],
      ["r1", 10 * 0.2],
    ]);
  });

  it("refuses a bucket without a price, and prices in two currencies", () => {
    expect(() =>
      buildCostReport({ ledger: ledger([bucket({ pool: "other", gpuHours: 1 })]), prices: T4 }),
    ).to.throw(/no onDemand price per GPU-hour for pool vision\/other/);
    expect(() =>
      buildCostReport({
        ledger: ledger([bucket({ gpuHours: 1 })]),
        prices: [...T4, { ...T4[0]!, currency: "EUR" }],
      }),
    ).to.throw(/more than one currency \(USD, EUR\)/);
  });
});

describe("report/simulation-ledger: GPU-hours each scale-up added", () => {
  const c = (t: number, from: number, to: number) => ({
    t,
    from: { spot: 0, onDemand: from },
    to: { spot: 0, onDemand: to },
    reason: `${from}→${to}`,
  });
  const rows: {
    name: string;
    changes: ReturnType<typeof c>[];
    initial: number;
    end: number;
    seconds: number[];
  }[] = [
    {
      name: "the worked example: 2→5, 5→3, 3→4 (layers trimmed newest first)",
      changes: [c(0, 2, 5), c(600, 5, 3), c(900, 3, 4)],
      initial: 2,
      end: 1200,
      seconds: [3 * 600 + 1 * 600, 0, 1 * 300],
    },
    {
      name: "a scale-up that falls back below where it started ends there",
      changes: [c(100, 1, 3), c(400, 3, 0)],
      initial: 1,
      end: 1000,
      seconds: [2 * 300, 0],
    },
    {
      name: "two scale-ups stacked, one scale-down through both",
      changes: [c(0, 0, 1), c(60, 1, 2), c(120, 2, 0)],
      initial: 0,
      end: 600,
      seconds: [120, 60, 0],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const got = addedReplicaSeconds(row.changes, { spot: 0, onDemand: row.initial }, row.end);
      expect(got.map((e) => e.replicaSeconds)).to.deep.equal(row.seconds);
    });
  }

  it("each capacity type apart: a change of both is two events", () => {
    const got = addedReplicaSeconds(
      [{ t: 0, from: { spot: 0, onDemand: 1 }, to: { spot: 2, onDemand: 2 }, reason: "" }],
      { spot: 0, onDemand: 1 },
      3600,
    );
    expect(got.map((e) => [e.type, e.from, e.to, e.replicaSeconds])).to.deep.equal([
      ["spot", 0, 2, 2 * 3600],
      ["onDemand", 1, 2, 3600],
    ]);
  });
});
