import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { checkPromQL } from "../../controller/kube/render/promql.js";
import type { Policy } from "../../controller/policy/index.js";
import type { UsageBucket } from "../../controller/report/usage.js";
import {
  fractionWithin,
  ledgerBuckets,
  ledgerQueries,
  prometheusLedger,
} from "../../controller/triton/prometheus-ledger.js";
import { minimalPool } from "../support/pools.js";

/**
 * The live input of the cost report (controller/triton/prometheus-ledger.ts) against a
 * loopback HTTP server answering Prometheus's API as Prometheus would: range queries on
 * the grid they ask for, from series the rows write as functions of time. Every expected
 * GPU-hour is worked by hand in the row.
 */

const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z
const MIN = 60;

/** A series of the fake: its labels and value at a time (undefined: no point). */
interface FakeSeries {
  readonly metric: Record<string, string>;
  readonly at: (t: number) => number | undefined;
}

/** What the fake answers, by which query it sees. */
interface FakeData {
  allocated?: FakeSeries[];
  desired?: FakeSeries[];
  decisions?: FakeSeries[];
  /** Instant answers at a bucket's end, by kind. */
  requests?: (t: number) => FakeSeries[];
  served?: (t: number) => FakeSeries[];
  /** Busy GPU-seconds per second, on the grid. */
  busyRate?: FakeSeries[];
  /** Busy GPUs by capacity type from utilization, on the grid. */
  gpuBusy?: FakeSeries[];
  quantiles?: FakeSeries[];
  summaryCount?: FakeSeries[];
  known?: FakeSeries[];
  lastSample?: FakeSeries[];
}

function kindOf(query: string): keyof FakeData {
  if (query.includes("group by (namespace, pool)")) return "known";
  if (query.includes("max(timestamp(")) return "lastSample";
  if (query.includes("nv_gpu_utilization") || query.includes("DCGM_FI_DEV_GPU_UTIL"))
    return "gpuBusy";
  if (query.includes("tritonscale_decisions_total")) return "decisions";
  if (query.includes("tritonscale_desired_replicas")) return "desired";
  if (query.includes("tritonscale_ready_replicas")) return "allocated";
  if (query.includes("compute_infer_duration_us")) return "busyRate";
  if (query.includes("nv_inference_request_summary_us_count")) return "summaryCount";
  if (query.includes("nv_inference_request_summary_us{")) return "quantiles";
  if (query.includes("nv_inference_request_(success|failure)")) return "requests";
  if (query.includes("nv_inference_request_success")) return "served";
  throw new Error(`the fake does not know ${query}`);
}

async function fakePrometheus(
  data: FakeData,
  override?: (url: URL) => { status: number; body: string } | "hang" | undefined,
): Promise<{ base: string; queries: string[]; calls: URL[]; server: Server }> {
  const queries: string[] = [];
  const calls: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const o = override?.(url);
    if (o === "hang") return;
    if (o !== undefined) {
      res.writeHead(o.status, { "Content-Type": "application/json" }).end(o.body);
      return;
    }
    const query = url.searchParams.get("query") ?? "";
    queries.push(query);
    calls.push(url);
    const kind = kindOf(query);
    let body: unknown;
    if (url.pathname.endsWith("/query_range")) {
      const start = Number(url.searchParams.get("start"));
      const end = Number(url.searchParams.get("end"));
      const step = Number(url.searchParams.get("step"));
      const series = (data[kind] ?? []) as FakeSeries[];
      const result = series
        .map((s) => {
          const values: [number, string][] = [];
          for (let t = start; t <= end + 1e-9; t += step) {
            const v = s.at(t);
            if (v !== undefined) values.push([t, String(v)]);
          }
          return { metric: s.metric, values };
        })
        .filter((s) => s.values.length > 0);
      body = { status: "success", data: { resultType: "matrix", result } };
    } else {
      const t = Number(url.searchParams.get("time"));
      const d = data[kind];
      const series = (typeof d === "function" ? d(t) : (d ?? [])) as FakeSeries[];
      const result = series.flatMap((s) => {
        const v = s.at(t);
        return v === undefined ? [] : [{ metric: s.metric, value: [t, String(v)] }];
      });
      body = { status: "success", data: { resultType: "vector", result } };
    }
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queries,
    calls,
    server,
  };
}

const ct = (capacity_type: string, at: FakeSeries["at"]): FakeSeries => ({
  metric: { capacity_type },
  at,
});
const always =
  (v: number) =>
  (_t: number): number =>
    v;
const tritonRow = (model: string, capacity: string, v: number): FakeSeries => ({
  metric: { model, tritonscale_dev_capacity_type: capacity },
  at: () => v,
});

const POLICY = minimalPool({ monitoring: { scrapeInterval: "15s" } });
const SPOT = minimalPool({
  monitoring: { scrapeInterval: "15s" },
  capacity: { spot: { enabled: true, onDemandBase: 1 }, gpu: { count: 2 } },
});
const DCGM = minimalPool({ monitoring: { scrapeInterval: "15s", gpuUtilization: "dcgm" } });
const TWO_MODELS = minimalPool({ monitoring: { scrapeInterval: "15s" } });
const twoModels: Policy = {
  ...TWO_MODELS,
  spec: {
    ...TWO_MODELS.spec,
    models: [TWO_MODELS.spec.models[0]!, { ...TWO_MODELS.spec.models[0]!, name: "yolo11n" }],
  },
};

const sumHours = (rows: readonly UsageBucket[], capacity?: string) =>
  rows
    .filter((r) => capacity === undefined || r.capacityType === capacity)
    .reduce((s, r) => s + r.gpuHours, 0);

describe("triton/prometheus-ledger: a live pool's GPU-hours, requests and SLO from Prometheus", () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
  });
  async function serve(data: FakeData, override?: Parameters<typeof fakePrometheus>[1]) {
    const p = await fakePrometheus(data, override);
    servers.push(p.server);
    return p;
  }

  it("writes PromQL Prometheus accepts", () => {
    const q = ledgerQueries(SPOT, "vision", 60);
    for (const e of [
      q.allocated,
      q.desired,
      q.decisions(60),
      q.requests(86_400),
      q.served(3600),
      q.busyRate,
      q.gpuBusy,
      ledgerQueries(DCGM, "vision", 60).gpuBusy,
      q.quantiles,
      q.summaryCount(60),
    ])
      expect(checkPromQL(e), e).to.deep.equal([]);
    expect(q.busyRate).to.include("[1m]");
  });

  it("cuts the period into buckets from its start, the last one shorter", () => {
    expect(ledgerBuckets(T0, T0 + 2.5 * 86_400, 86_400)).to.deep.equal([
      { start: T0, seconds: 86_400 },
      { start: T0 + 86_400, seconds: 86_400 },
      { start: T0 + 2 * 86_400, seconds: 43_200 },
    ]);
  });

  describe("fractionWithin: the share of requests within the SLO from a summary's quantiles", () => {
    const triton = (p50: number, p90: number, p95: number, p99: number, p999: number) => [
      { q: 0.5, latency: p50 },
      { q: 0.9, latency: p90 },
      { q: 0.95, latency: p95 },
      { q: 0.99, latency: p99 },
      { q: 0.999, latency: p999 },
    ];
    const rows: {
      name: string;
      quantiles: { q: number; latency: number }[];
      slo: number;
      want: number | undefined;
    }[] = [
      {
        name: "above the top quantile: all",
        quantiles: triton(40, 60, 80, 90, 95),
        slo: 95,
        want: 1,
      },
      {
        name: "between p90 and p95: 0.9 + (70-60)/(80-60) × 0.05 = 0.925",
        quantiles: triton(40, 60, 80, 90, 95),
        slo: 70,
        want: 0.925,
      },
      {
        name: "exactly p99: 0.99",
        quantiles: triton(40, 60, 80, 90, 95),
        slo: 90,
        want: 0.99,
      },
      { name: "below p50: none", quantiles: triton(40, 60, 80, 90, 95), slo: 39, want: 0 },
      {
        name: "quantiles out of order (error bounds) are made monotone: p95 50 < p90 60 reads as 60",
        quantiles: triton(40, 60, 50, 90, 95),
        slo: 75,
        want: 0.95 + ((75 - 60) / (90 - 60)) * 0.04,
      },
      {
        name: "NaN quantiles (no request in the window) are skipped",
        quantiles: [
          { q: 0.5, latency: Number.NaN },
          { q: 0.9, latency: 60 },
          { q: 0.99, latency: 100 },
        ],
        slo: 80,
        want: 0.945,
      },
      {
        name: "no finite quantile: unknown",
        quantiles: [{ q: 0.5, latency: Number.NaN }],
        slo: 80,
        want: undefined,
      },
    ];
    for (const r of rows)
      it(r.name, () => {
        const got = fractionWithin(r.quantiles, r.slo);
        if (r.want === undefined) expect(got).to.equal(undefined);
        else expect(got).to.be.closeTo(r.want, 1e-12);
      });
  });

  describe("GPU-hours allocated: the replica gauges integrated on the grid", () => {
    const rows: {
      name: string;
      policy?: Policy;
      to: number;
      bucketSeconds?: number;
      maxGapSeconds?: number;
      allocated: FakeSeries[];
      /** GPU-hours by capacity type, worked by hand. */
      want: Record<string, number>;
      /** By bucket start, when several. */
      wantBuckets?: Record<number, number>;
      note?: RegExp;
    }[] = [
      {
        name: "2 on-demand replicas for 10 min: 2 × 600 s = 0.3333 h",
        to: T0 + 10 * MIN,
        allocated: [ct("on-demand", always(2))],
        want: { onDemand: (2 * 600) / 3600 },
      },
      {
        name: "Spot and on-demand, 2 GPUs per replica: 1 Spot × 2 × 600 s = 0.3333 h, 2 on-demand × 2 × 600 s = 0.6667 h",
        policy: SPOT,
        to: T0 + 10 * MIN,
        allocated: [ct("spot", always(1)), ct("on-demand", always(2))],
        want: { spot: (1 * 2 * 600) / 3600, onDemand: (2 * 2 * 600) / 3600 },
      },
      {
        name: "a change: 1 replica until 300 s, 3 after: (1 × 300 + 3 × 300) / 3600 = 0.3333 h",
        to: T0 + 10 * MIN,
        allocated: [ct("on-demand", (t) => (t <= T0 + 300 ? 1 : 3))],
        want: { onDemand: (1 * 300 + 3 * 300) / 3600 },
      },
      {
        name: "a 60 s gap (4 points at 15 s) within maxGapSeconds holds the last value: still 2 × 600 s",
        to: T0 + 10 * MIN,
        allocated: [ct("on-demand", (t) => (t > T0 + 300 && t <= T0 + 360 ? undefined : 2))],
        want: { onDemand: (2 * 600) / 3600 },
        note: /no replica gauges from 2026-01-01T00:05:00Z to 2026-01-01T00:06:00Z \(60 s.*held \(0\.0333 GPU-hours\)/,
      },
      {
        name: "the same gap longer than maxGapSeconds (30 s) counts nothing: 2 × 540 s = 0.3 h",
        to: T0 + 10 * MIN,
        maxGapSeconds: 30,
        allocated: [ct("on-demand", (t) => (t > T0 + 300 && t <= T0 + 360 ? undefined : 2))],
        want: { onDemand: (2 * 540) / 3600 },
        note: /60 s, longer than 30 s\): counted as no replicas/,
      },
      {
        name: "the pool appears at 300 s (no gauge before): only 2 × 300 s = 0.1667 h",
        to: T0 + 10 * MIN,
        allocated: [ct("on-demand", (t) => (t <= T0 + 300 ? undefined : 2))],
        want: { onDemand: (2 * 300) / 3600 },
      },
      {
        name: "a period not a multiple of the step (100 s at 15 s): the first point stands for 10 s; 2 × 100 s",
        to: T0 + 100,
        allocated: [ct("on-demand", always(2))],
        want: { onDemand: (2 * 100) / 3600 },
      },
      {
        name: "two buckets of 5 min: 1 replica in the first (300 s), 3 in the second (900 s)",
        to: T0 + 10 * MIN,
        bucketSeconds: 5 * MIN,
        allocated: [ct("on-demand", (t) => (t <= T0 + 300 ? 1 : 3))],
        want: { onDemand: (300 + 900) / 3600 },
        wantBuckets: { [T0]: 300 / 3600, [T0 + 300]: 900 / 3600 },
      },
    ];
    for (const r of rows)
      it(r.name, async () => {
        const p = await serve({
          allocated: r.allocated,
          requests: () => [],
          served: () => [],
        });
        const ledger = await prometheusLedger({
          url: p.base,
          policy: r.policy ?? POLICY,
          from: T0,
          to: r.to,
          ...(r.bucketSeconds === undefined ? {} : { bucketSeconds: r.bucketSeconds }),
          ...(r.maxGapSeconds === undefined ? {} : { maxGapSeconds: r.maxGapSeconds }),
        });
        expect(ledger.source).to.equal("prometheus");
        for (const [c, h] of Object.entries(r.want))
          expect(sumHours(ledger.buckets, c), c).to.be.closeTo(h, 1e-9);
        expect(sumHours(ledger.buckets)).to.be.closeTo(
          Object.values(r.want).reduce((s, h) => s + h, 0),
          1e-9,
        );
        for (const [start, h] of Object.entries(r.wantBuckets ?? {}))
          expect(
            ledger.buckets
              .filter((b) => b.start === Number(start))
              .reduce((s, b) => s + b.gpuHours, 0),
            `bucket ${start}`,
          ).to.be.closeTo(h, 1e-9);
        if (r.note) expect(ledger.notes.join("\n")).to.match(r.note);
        for (const b of ledger.buckets) {
          expect(b.pool).to.equal("yolo");
          expect(b.namespace).to.equal("vision");
          expect(b.gpuType).to.equal("nvidia-tesla-t4");
        }
      });
  });

  it("a day at a 1 s step is asked in range queries of at most 10,000 points, the chunks joined exactly: 2 × 86,400 s = 48 h", async () => {
    const p = await serve({ allocated: [ct("on-demand", always(2))] });
    const ledger = await prometheusLedger({
      url: p.base,
      policy: POLICY,
      from: T0,
      to: T0 + 86_400,
      stepSeconds: 1,
    });
    expect(sumHours(ledger.buckets)).to.be.closeTo(48, 1e-9);
    const ranges = p.calls.filter(
      (u) =>
        u.pathname.endsWith("/query_range") && kindOf(u.searchParams.get("query")!) === "allocated",
    );
    // ceil(86,400 / 10,000) = 9 queries; each (end − start) / step + 1 points.
    expect(ranges).to.have.length(9);
    for (const u of ranges) {
      const n =
        (Number(u.searchParams.get("end")) - Number(u.searchParams.get("start"))) /
          Number(u.searchParams.get("step")) +
        1;
      expect(n).to.be.at.most(10_000);
    }
  });

  it("30 days at a 15 s scrape interval default to a 26 s step (at most 100,000 points): 1 replica × 30 days = 720 h", async () => {
    const p = await serve({ allocated: [ct("on-demand", always(1))] });
    const ledger = await prometheusLedger({
      url: p.base,
      policy: POLICY,
      from: T0,
      to: T0 + 30 * 86_400,
    });
    expect(sumHours(ledger.buckets)).to.be.closeTo(720, 1e-9);
    expect(ledger.buckets).to.have.length(30);
    const steps = new Set(
      p.calls
        .filter(
          (u) =>
            u.pathname.endsWith("/query_range") &&
            kindOf(u.searchParams.get("query")!) === "allocated",
        )
        .map((u) => u.searchParams.get("step")),
    );
    expect([...steps]).to.deep.equal(["26"]);
  });

  it("requests per model and capacity type, busy time capped at the allocated and the hours split by busy time", async () => {
    // 1 on-demand replica for an hour: 1 GPU-hour. Busy: yolov8s 900 s, yolo11n 2700 s
    // (and 360 s of its ensemble step yolo11n-post): 0.25 h and 0.85 h, 1.1 h in all, more
    // than the 1 h allocated (instances overlapping on the GPU). Hours split by busy time:
    // 0.25 / 1.1 and 0.85 / 1.1; each row's busy capped at its hours.
    const p = await serve({
      allocated: [ct("on-demand", always(1))],
      requests: () => [
        tritonRow("yolov8s", "on-demand", 1000),
        tritonRow("yolo11n", "on-demand", 3000),
      ],
      served: () => [
        tritonRow("yolov8s", "on-demand", 990),
        tritonRow("yolo11n", "on-demand", 3000),
      ],
      // GPU-seconds per second on the 60 s grid (the rate window: 4 × 15 s scrapes).
      busyRate: [
        tritonRow("yolov8s", "on-demand", 900 / 3600),
        tritonRow("yolo11n", "on-demand", 2700 / 3600),
        tritonRow("yolo11n-post", "on-demand", 360 / 3600),
        tritonRow("other", "on-demand", 0.01),
      ],
    });
    const ledger = await prometheusLedger({
      url: p.base,
      policy: twoModels,
      from: T0,
      to: T0 + 3600,
    });
    const row = (m: string) => ledger.buckets.find((b) => b.model === m)!;
    expect(ledger.buckets).to.have.length(2);
    expect(row("yolov8s").gpuHours).to.be.closeTo(0.25 / 1.1, 1e-9);
    expect(row("yolo11n").gpuHours).to.be.closeTo(0.85 / 1.1, 1e-9);
    expect(row("yolov8s").busyGpuHours).to.be.closeTo(0.25 / 1.1, 1e-9);
    expect(row("yolo11n").busyGpuHours).to.be.closeTo(0.85 / 1.1, 1e-9);
    expect(row("yolov8s").requests).to.equal(1000);
    expect(row("yolo11n").requests).to.equal(3000);
    const notes = ledger.notes.join("\n");
    expect(notes).to.match(/capped at the allocated/);
    expect(notes).to.match(/models not in the pool \(other\)/);
    expect(notes).to.match(/SLO attainment was not measured/);
    expect(row("yolov8s").requestsWithinSlo).to.equal(0);
    // Not measured is said in the bucket, so the report leaves it out (not 0%).
    expect(row("yolov8s").sloMeasured).to.equal(false);
  });

  for (const [name, policy, metric] of [
    ["Triton's", POLICY, "nv_gpu_utilization"],
    ["dcgm-exporter's", DCGM, "DCGM_FI_DEV_GPU_UTIL"],
  ] as const)
    it(`without compute-time counters, busy time from ${name} GPU utilization, split by requests`, async () => {
      // 0.5 busy GPUs on-demand for 10 min (60 s grid): 300 GPU-seconds = 0.08333 h, split
      // 1000 : 3000 by requests → 0.020833 h and 0.0625 h.
      const p = await serve({
        allocated: [ct("on-demand", always(1))],
        requests: () => [
          tritonRow("yolov8s", "on-demand", 1000),
          tritonRow("yolo11n", "on-demand", 3000),
        ],
        gpuBusy: [{ metric: { tritonscale_dev_capacity_type: "on-demand" }, at: always(0.5) }],
      });
      const ledger = await prometheusLedger({
        url: p.base,
        policy: { ...twoModels, spec: { ...twoModels.spec, monitoring: policy.spec.monitoring } },
        from: T0,
        to: T0 + 10 * MIN,
      });
      const row = (m: string) => ledger.buckets.find((b) => b.model === m)!;
      expect(row("yolov8s").busyGpuHours).to.be.closeTo(300 / 3600 / 4, 1e-9);
      expect(row("yolo11n").busyGpuHours).to.be.closeTo((300 / 3600) * 0.75, 1e-9);
      expect(p.queries.some((q) => q.includes(metric))).to.equal(true);
      expect(ledger.notes.join("\n")).to.include(`come from ${metric}`);
    });

  it("an idle pool's compute time is 0, not absent: busy 0, no utilization fallback", async () => {
    const p = await serve({
      allocated: [ct("on-demand", always(1))],
      requests: () => [tritonRow("yolov8s", "on-demand", 0)],
      busyRate: [tritonRow("yolov8s", "on-demand", 0)],
      gpuBusy: [{ metric: { tritonscale_dev_capacity_type: "on-demand" }, at: always(0.3) }],
    });
    const ledger = await prometheusLedger({
      url: p.base,
      policy: POLICY,
      from: T0,
      to: T0 + 10 * MIN,
    });
    expect(ledger.buckets).to.have.length(1);
    expect(ledger.buckets[0]!.busyGpuHours).to.equal(0);
    expect(ledger.buckets[0]!.gpuHours).to.be.closeTo(600 / 3600, 1e-9);
    expect(p.queries.filter((q) => kindOf(q) === "gpuBusy")).to.deep.equal([]);
  });

  it("requests within the SLO: each pod's quantiles weighted by its requests per step, × the served requests", async () => {
    // SLO 85 ms. Two pods, 10 min at a 60 s attainment step (10 points). Pod a: 100
    // requests per step, p50 40 ms … p99 80 ms, p999 90 ms → 0.99 + (85-80)/(90-80) × 0.009
    // = 0.9945. Pod b: 300 per step, p50 50, p90 70, p95 100 → 0.9 + (85-70)/(100-70) × 0.05
    // = 0.925. Weighted: (100 × 0.9945 + 300 × 0.925) / 400 = 0.942375; served 3960.
    const quantiles = (pod: string, l: number[]): FakeSeries[] =>
      ["0.5", "0.9", "0.95", "0.99", "0.999"].map((quantile, i) => ({
        metric: { pod, model: "yolov8s", quantile, tritonscale_dev_capacity_type: "on-demand" },
        at: () => l[i]! * 1000,
      }));
    const p = await serve({
      allocated: [ct("on-demand", always(2))],
      requests: () => [tritonRow("yolov8s", "on-demand", 4000)],
      served: () => [tritonRow("yolov8s", "on-demand", 3960)],
      quantiles: [
        ...quantiles("a", [40, 60, 70, 80, 90]),
        ...quantiles("b", [50, 70, 100, 120, 130]),
      ],
      summaryCount: [
        {
          metric: { pod: "a", model: "yolov8s", tritonscale_dev_capacity_type: "on-demand" },
          at: () => 100,
        },
        {
          metric: { pod: "b", model: "yolov8s", tritonscale_dev_capacity_type: "on-demand" },
          at: () => 300,
        },
      ],
    });
    const ledger = await prometheusLedger({
      url: p.base,
      policy: POLICY,
      from: T0,
      to: T0 + 10 * MIN,
    });
    const [row] = ledger.buckets;
    expect(row!.requests).to.equal(4000);
    expect(row!.requestsWithinSlo).to.be.closeTo(3960 * 0.942375, 1e-6);
    expect(ledger.notes.join("\n")).to.match(/estimated from Triton's request-time summary/);
  });

  it("scale events: each change of desired, charged the replicas it added until desired falls back", async () => {
    // Desired 1 → 3 at 300 s, back to 1 at 465 s (15 s grid). Allocated: 1 until 300 s, 2
    // at 315 s (one starting), 3 from 330 s to 450 s, 1 after. The event 1→3 is charged
    // min(alloc, 3) − 1 at the points where desired is 3: 300 (0), 315 (1), 330 … 450 (2
    // each, 9 points): (1 + 18) × 15 s = 285 GPU-seconds = 0.079167 h; the scale-down 3→1
    // at 465 s, nothing.
    const p = await serve({
      allocated: [
        ct("on-demand", (t) => (t <= T0 + 300 ? 1 : t <= T0 + 315 ? 2 : t <= T0 + 450 ? 3 : 1)),
      ],
      desired: [ct("on-demand", (t) => (t < T0 + 300 ? 1 : t < T0 + 465 ? 3 : 1))],
      decisions: [
        { metric: { reason_class: "scale-up" }, at: (t) => (t === T0 + 300 ? 1 : undefined) },
        { metric: { reason_class: "steady" }, at: () => 3 },
        { metric: { reason_class: "scale-down" }, at: (t) => (t === T0 + 465 ? 1 : undefined) },
      ],
      requests: () => [],
      served: () => [],
    });
    const ledger = await prometheusLedger({
      url: p.base,
      policy: POLICY,
      from: T0,
      to: T0 + 10 * MIN,
    });
    expect(
      ledger.scaleEvents.map((e) => ({ ...e, addedGpuHours: Math.round(e.addedGpuHours * 1e6) })),
    ).to.deep.equal([
      {
        pool: "yolo",
        namespace: "vision",
        at: T0 + 300,
        from: 1,
        to: 3,
        capacityType: "onDemand",
        gpuType: "nvidia-tesla-t4",
        addedGpuHours: Math.round((285 / 3600) * 1e6),
        reason: "scale-up",
      },
      {
        pool: "yolo",
        namespace: "vision",
        at: T0 + 465,
        from: 3,
        to: 1,
        capacityType: "onDemand",
        gpuType: "nvidia-tesla-t4",
        addedGpuHours: 0,
        reason: "scale-down",
      },
    ]);
  });

  describe("errors name Prometheus, the query and what is likely wrong", () => {
    const rows: {
      name: string;
      data?: FakeData;
      override?: Parameters<typeof fakePrometheus>[1];
      url?: string;
      timeoutMs?: number;
      want: RegExp;
    }[] = [
      {
        name: "no controller metrics at all: not scraped",
        data: { allocated: [], known: [] },
        want: /no tritonscale_ready_replicas .* for pool vision\/yolo in Prometheus at http:\/\/127\.0\.0\.1:\d+ from 2026-01-01T00:00:00Z to 2026-01-01T00:10:00Z \(query max by \(capacity_type\).*the controller's \/metrics is not scraped/,
      },
      {
        name: "the pool is in another namespace",
        data: {
          allocated: [],
          known: [{ metric: { namespace: "prod", pool: "yolo" }, at: () => 1 }],
          lastSample: [],
        },
        want: /exported these pools then: prod\/yolo \(a pool named yolo is in another namespace: prod\/yolo; pass its namespace\)/,
      },
      {
        name: "the pool exists now but not in the range",
        data: {
          allocated: [],
          known: [{ metric: { namespace: "vision", pool: "other" }, at: () => 1 }],
          lastSample: [{ metric: {}, at: () => T0 + 86_400 }],
        },
        want: /the range is before the pool existed/,
      },
      {
        name: "Prometheus down",
        url: "http://127.0.0.1:9",
        want: /querying Prometheus at http:\/\/127\.0\.0\.1:9: fetch failed/,
      },
      {
        name: "a non-success answer quotes Prometheus's error and the query",
        override: () => ({
          status: 400,
          body: JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error" }),
        }),
        want: /HTTP 400, error: parse error \(query max by \(capacity_type\)/,
      },
      {
        name: "no answer within the timeout",
        override: () => "hang",
        timeoutMs: 300,
        want: /no answer within 300 ms/,
      },
    ];
    for (const r of rows)
      it(r.name, async () => {
        const p = r.url === undefined ? await serve(r.data ?? {}, r.override) : undefined;
        let err: Error | undefined;
        try {
          await prometheusLedger({
            url: r.url ?? p!.base,
            policy: POLICY,
            from: T0,
            to: T0 + 10 * MIN,
            ...(r.timeoutMs === undefined ? {} : { timeoutMs: r.timeoutMs }),
          });
        } catch (e) {
          err = e as Error;
        }
        expect(err?.message).to.match(r.want);
      });

    it("refuses a period that ends before it starts", async () => {
      let err: Error | undefined;
      try {
        await prometheusLedger({ url: "http://127.0.0.1:9", policy: POLICY, from: T0, to: T0 });
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).to.equal(
        `the period must end after it starts (got from ${T0} to ${T0}, Unix seconds)`,
      );
    });
  });
});
