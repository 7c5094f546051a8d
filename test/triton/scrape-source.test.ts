import { expect } from "chai";
import { crossCheckStatistics, nsToUs, TritonClient } from "../../controller/triton/grpc.js";
import { createScrapeSource, type TritonEndpoint } from "../../controller/triton/scrape-source.js";
import { readTritonMetrics } from "../../controller/triton/triton-metrics.js";
import { minimalPool } from "../support/pools.js";
import { TritonStandin } from "../support/triton-standin.js";

// The pool's one model is `yolov8s` (test/support/pools.ts).
const policy = minimalPool();

describe("triton/triton-metrics: Triton's series into model samples", () => {
  const rows: {
    readonly name: string;
    readonly text: string;
    readonly want: ReturnType<typeof readTritonMetrics>["metrics"];
  }[] = [
    {
      name: "failures summed over reason, GPU utilization averaged over gpu_uuid",
      text: [
        'nv_inference_request_failure{model="m",version="1",reason="REJECTED"} 2',
        'nv_inference_request_failure{model="m",version="1",reason="BACKEND"} 3',
        'nv_inference_request_success{model="m",version="1"} 10',
        'nv_gpu_utilization{gpu_uuid="GPU-a"} 0.25',
        'nv_gpu_utilization{gpu_uuid="GPU-b"} 0.75',
        "",
      ].join("\n"),
      want: {
        models: [{ model: "m", version: "1", counters: { requestFailure: 5, requestSuccess: 10 } }],
        gpuUtilization: 0.5,
      },
    },
    {
      name: "per-GPU series of one model version summed (older Tritons label them by gpu_uuid)",
      text: [
        'nv_inference_count{gpu_uuid="GPU-a",model="m",version="1"} 4',
        'nv_inference_count{gpu_uuid="GPU-b",model="m",version="1"} 6',
        'nv_inference_pending_request_count{gpu_uuid="GPU-a",model="m",version="1"} 1',
        'nv_inference_pending_request_count{gpu_uuid="GPU-b",model="m",version="1"} 2',
        "",
      ].join("\n"),
      want: {
        models: [
          { model: "m", version: "1", counters: { inferenceCount: 10 }, pendingRequests: 3 },
        ],
      },
    },
    {
      name: "versions kept apart and sorted; a missing counter stays undefined, never 0",
      text: [
        'nv_inference_exec_count{model="b",version="2"} 1',
        'nv_inference_exec_count{model="b",version="10"} 2',
        'nv_inference_exec_count{model="a",version="1"} 3',
        "nv_inference_exec_count 99",
        'nv_energy_consumption{gpu_uuid="GPU-a"} 5',
        "",
      ].join("\n"),
      want: {
        models: [
          { model: "a", version: "1", counters: { execCount: 3 } },
          { model: "b", version: "10", counters: { execCount: 2 } },
          { model: "b", version: "2", counters: { execCount: 1 } },
        ],
      },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const r = readTritonMetrics(row.text);
      expect(r.problem).to.equal(undefined);
      expect(r.metrics).to.deep.equal(row.want);
    });
  }
  it("garbage is a problem with line and column, no samples", () => {
    const r = readTritonMetrics(
      'nv_inference_count{model="m"} 1\nnv_inference_count{model=m} 2\n',
      "pod:8002/metrics",
    );
    expect(r.metrics).to.equal(undefined);
    expect(r.problem).to.include({ file: "pod:8002/metrics", line: 2, col: 26 });
  });
});

describe("triton: the scrape source and gRPC client against the Triton stand-in", function () {
  this.timeout(30_000);
  let a: TritonStandin;
  let b: TritonStandin;
  let extra: TritonEndpoint[] = [];
  const problems: string[] = [];
  const source = createScrapeSource({
    discover: async () => [a.endpoint(), b.endpoint(), ...extra],
    timeoutMs: 500,
    onReplicaProblem: (r, m) => problems.push(`${r}: ${m}`),
  });

  beforeEach(async () => {
    a = new TritonStandin({ name: "triton-a", models: [{ name: "yolov8s" }], gpus: 2 });
    b = new TritonStandin({
      name: "triton-b",
      models: [{ name: "yolov8s" }, { name: "other", state: "loading" }],
    });
    await Promise.all([a.start(), b.start()]);
    extra = [];
    problems.length = 0;
  });
  afterEach(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });
  after(() => source.close());

  it("reads each replica's counters per model version, as the stand-in counted them", async () => {
    a.setArrivalRate("yolov8s", 100); // within capacity (161 req/s at batch 1): no queue
    a.advance(10);
    a.fail("yolov8s", "REJECTED", 3);
    a.fail("yolov8s", "OTHER", 1);
    b.setArrivalRate("yolov8s", 500); // beyond capacity: a queue builds
    b.advance(10);
    const scrape = await source.collect(policy, 1000);
    expect(scrape.t).to.be.at.least(1000);
    const [ra, rb] = scrape.replicas;
    expect(ra?.replica).to.equal("triton-a/1");
    expect(ra?.phase).to.equal("ready");
    expect(ra?.t).to.be.within(1000, scrape.t);
    const ca = a.counters("yolov8s");
    expect(ra?.models).to.deep.equal([
      {
        model: "yolov8s",
        version: "1",
        counters: {
          requestSuccess: ca.requestSuccess,
          requestFailure: 4,
          inferenceCount: ca.inferenceCount,
          execCount: ca.execCount,
          queueDurationUs: ca.queueDurationUs,
          computeInferDurationUs: ca.computeInferDurationUs,
        },
        pendingRequests: 0,
      },
    ]);
    expect(ca.requestSuccess).to.equal(1000);
    expect(ra?.gpuUtilization).to.equal(a.gpuUtilization());
    // `other` is loading on b: it has no series yet; it is no model of this pool, so b is ready.
    expect(rb?.phase).to.equal("ready");
    expect(rb?.models.map((m) => m.model)).to.deep.equal(["yolov8s"]);
    expect(rb?.models[0]?.pendingRequests)
      .to.equal(b.counters("yolov8s").pending)
      .and.be.greaterThan(0);
  });

  const failures: {
    readonly name: string;
    readonly arrange: () => void;
    readonly phase: "unreachable" | "loading";
    readonly problem: string;
  }[] = [
    {
      name: "garbled /metrics",
      arrange: () => a.setMetricsMode("garbage"),
      phase: "unreachable",
      problem: "1:26",
    },
    {
      name: "HTTP 500",
      arrange: () => a.setMetricsMode("http-500"),
      phase: "unreachable",
      problem: "HTTP 500",
    },
    {
      name: "a hanging /metrics",
      arrange: () => a.setMetricsMode("hang"),
      phase: "unreachable",
      problem: "within 500 ms",
    },
    {
      name: "server not ready",
      arrange: () => a.setServerReady(false),
      phase: "loading",
      problem: "server not ready",
    },
    {
      name: "the pool's model still loading",
      arrange: () => a.setModelState("yolov8s", "loading"),
      phase: "loading",
      problem: "model yolov8s not ready",
    },
  ];
  for (const f of failures) {
    it(`a replica with ${f.name} is ${f.phase}; the others are read; collect does not throw`, async () => {
      f.arrange();
      const scrape = await source.collect(policy, 5);
      const ra = scrape.replicas[0]!;
      expect(ra.phase).to.equal(f.phase);
      if (f.phase === "unreachable") {
        expect(ra.models).to.deep.equal([]);
        expect(ra.gpuUtilization).to.equal(undefined);
      }
      expect(scrape.replicas[1]?.phase).to.equal("ready");
      expect(
        problems.some((p) => p.startsWith("triton-a/1") && p.includes(f.problem)),
        problems.join("\n"),
      ).to.equal(true);
      a.setMetricsMode("ok");
    });
  }

  it("a body arriving in 7-byte pieces reads the same as a whole one", async () => {
    a.setArrivalRate("yolov8s", 120);
    a.advance(9);
    const whole = (await source.collect(policy, 1)).replicas[0]!;
    a.setMetricsMode("chunked");
    const pieces = (await source.collect(policy, 1)).replicas[0]!;
    a.setMetricsMode("ok");
    expect({ ...pieces, t: 0 }).to.deep.equal({ ...whole, t: 0 });
    expect(whole.models[0]?.counters.requestSuccess).to.equal(1080);
  });

  it("a response over maxBytes is unreachable", async () => {
    const seen: string[] = [];
    const small = createScrapeSource({
      discover: async () => [a.endpoint()],
      maxBytes: 100,
      readiness: false,
      onReplicaProblem: (_r, m) => void seen.push(m),
    });
    try {
      const r = (await small.collect(policy, 0)).replicas[0]!;
      expect(r.phase).to.equal("unreachable");
      expect(seen.join()).to.match(/metrics: response over 100 bytes/);
    } finally {
      small.close();
    }
  });

  it("without gRPC readiness, a pool model with no series yet is loading", async () => {
    const noGrpc = createScrapeSource({ discover: async () => [a.endpoint()], readiness: false });
    try {
      expect((await noGrpc.collect(policy, 0)).replicas[0]?.phase).to.equal("ready");
      a.setModelState("yolov8s", "loading");
      expect((await noGrpc.collect(policy, 0)).replicas[0]?.phase).to.equal("loading");
    } finally {
      noGrpc.close();
    }
  });

  it("the gRPC cross-check finds nothing on a consistent server, and reports statistics below /metrics", async () => {
    const seen: string[] = [];
    const checked = createScrapeSource({
      discover: async () => [a.endpoint()],
      crossCheck: true,
      onReplicaProblem: (_r, m) => void seen.push(m),
    });
    try {
      a.setArrivalRate("yolov8s", 100);
      a.advance(4);
      expect((await checked.collect(policy, 0)).replicas[0]?.phase).to.equal("ready");
      expect(seen).to.deep.equal([]);
      a.lagStatistics(50);
      await checked.collect(policy, 0);
      expect(seen).to.deep.equal([
        "cross-check: yolov8s/1: request success 350 in gRPC statistics, below 400 on /metrics read before",
      ]);
    } finally {
      checked.close();
    }
  });

  it("a refused port (pod gone) is unreachable", async () => {
    const gone = { ...b.endpoint(), replica: "triton-gone/1" };
    await b.stop();
    extra = [gone];
    const scrape = await source.collect(policy, 5);
    expect(scrape.replicas.map((r) => r.phase)).to.deep.equal([
      "ready",
      "unreachable",
      "unreachable",
    ]);
  });

  it("a restart resets the counters under a new replica identity; an unloaded model's series vanish", async () => {
    a.setArrivalRate("yolov8s", 100);
    a.advance(5);
    const before = (await source.collect(policy, 1)).replicas[0]!;
    expect(before.models[0]?.counters.requestSuccess).to.equal(500);
    a.restart();
    const after = (await source.collect(policy, 2)).replicas[0]!;
    expect(after.replica).to.equal("triton-a/2");
    expect(after.models[0]?.counters.requestSuccess).to.equal(0);
    a.setModelState("yolov8s", "unloaded");
    const gone = (await source.collect(policy, 3)).replicas[0]!;
    expect(gone.models).to.deep.equal([]);
    expect(gone.phase).to.equal("loading");
  });

  it("the gRPC client reads readiness and statistics (ns) that agree with /metrics (µs)", async () => {
    a.setArrivalRate("yolov8s", 300);
    a.advance(7);
    const c = new TritonClient(`127.0.0.1:${a.grpcPort}`, { deadlineMs: 1000 });
    try {
      expect(await c.serverReady()).to.equal(true);
      expect(await c.modelReady("yolov8s")).to.equal(true);
      expect(await c.modelReady("yolov8s", "2")).to.equal(false);
      expect(await c.modelReady("nope")).to.equal(false);
      const [st] = await c.modelStatistics("yolov8s");
      const m = readTritonMetrics(a.metricsText()).metrics!.models[0]!;
      expect(st?.name).to.equal("yolov8s");
      expect(typeof st?.inference_count).to.equal("string");
      expect(Number(st?.inference_count)).to.equal(m.counters.inferenceCount);
      expect(Number(st?.execution_count)).to.equal(m.counters.execCount);
      expect(Number(st?.inference_stats.success.count)).to.equal(m.counters.requestSuccess);
      expect(nsToUs(st!.inference_stats.queue.ns)).to.equal(m.counters.queueDurationUs);
      expect(nsToUs(st!.inference_stats.compute_infer.ns)).to.equal(
        m.counters.computeInferDurationUs,
      );
      let err = "";
      await c.modelStatistics("nope").catch((e: Error) => {
        err = e.message;
      });
      expect(err).to.match(
        /ModelStatistics nope: NOT_FOUND: requested model 'nope' is not available/,
      );
    } finally {
      c.close();
    }
  });

  it("the stand-in also answers ServerLive and ModelMetadata as Triton does", async () => {
    const grpc = await import("@grpc/grpc-js");
    const { loadTritonService } = await import("../../controller/triton/grpc.js");
    const Service = loadTritonService();
    const raw = new Service(`127.0.0.1:${a.grpcPort}`, grpc.credentials.createInsecure());
    const call = (method: string, req: object) =>
      new Promise<Record<string, unknown>>((resolve, reject) =>
        (raw as unknown as Record<string, (...x: unknown[]) => void>)[method]!.call(
          raw,
          req,
          { deadline: Date.now() + 2000 },
          (err: Error | null, res: Record<string, unknown>) => (err ? reject(err) : resolve(res)),
        ),
      );
    try {
      expect(await call("ServerLive", {})).to.deep.equal({ live: true });
      const md = await call("ModelMetadata", { name: "yolov8s", version: "" });
      expect(md).to.include({ name: "yolov8s", platform: "onnxruntime_onnx" });
      expect(md.versions).to.deep.equal(["1"]);
      a.setModelState("yolov8s", "unloaded");
      const err = await call("ModelMetadata", { name: "yolov8s", version: "" }).then(
        () => "",
        (e: Error) => e.message,
      );
      expect(err).to.contain("UNAVAILABLE");
    } finally {
      raw.close();
    }
  });

  it("every gRPC call has a deadline: a port that never answers fails within it", async () => {
    // A TCP listener that accepts and never speaks HTTP/2.
    const net = await import("node:net");
    const sockets: import("node:net").Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as import("node:net").AddressInfo).port;
    const c = new TritonClient(`127.0.0.1:${port}`, { deadlineMs: 300 });
    try {
      let err = "";
      await c.serverReady().catch((e: Error) => {
        err = e.message;
      });
      expect(err).to.contain("ServerReady: DEADLINE_EXCEEDED");
    } finally {
      c.close();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it("nsToUs keeps precision beyond 2^53 ns", () => {
    // Number("123456789012345679") / 1000 would give …345.69.
    expect(nsToUs("123456789012345679")).to.equal(123456789012345.67);
    expect(nsToUs("1500")).to.equal(1.5);
  });
});

describe("triton: spec.monitoring.source chooses the source per pool", () => {
  it("scrape (the default) asks discovery; prometheus queries the pool's prometheusAddress", async () => {
    const { createServer } = await import("node:http");
    const { createPoolMetricsSource } = await import("../../controller/triton/index.js");
    const queries: string[] = [];
    const server = createServer((req, res) => {
      queries.push(
        decodeURIComponent(new URL(req.url ?? "", "http://x").searchParams.get("query") ?? ""),
      );
      res
        .writeHead(200, { "Content-Type": "application/json" })
        .end(JSON.stringify({ status: "success", data: { resultType: "vector", result: [] } }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as import("node:net").AddressInfo).port;
    let discovered = 0;
    const source = createPoolMetricsSource({
      scrape: {
        discover: async () => {
          discovered++;
          return [];
        },
      },
    });
    try {
      expect(policy.spec.monitoring.source).to.equal("scrape");
      await source.collect(policy, 0);
      expect([discovered, queries.length]).to.deep.equal([1, 0]);
      const viaProm = minimalPool({
        monitoring: { source: "prometheus", prometheusAddress: `http://127.0.0.1:${port}` },
      });
      await source.collect(viaProm, 0);
      expect(discovered).to.equal(1);
      expect(queries).to.have.length(2);
      expect(queries.every((q) => q.includes('namespace="vision"'))).to.equal(true);
    } finally {
      source.close();
      server.close();
    }
  });
});

describe("triton/grpc: crossCheckStatistics", () => {
  const d = (count: number, ns = 0) => ({ count: String(count), ns: String(ns) });
  const stat = (name: string, success: number, queueNs: number) =>
    ({
      name,
      version: "1",
      last_inference: "0",
      inference_count: String(success),
      execution_count: String(success),
      inference_stats: {
        success: d(success),
        fail: d(0),
        queue: d(success, queueNs),
        compute_input: d(0),
        compute_infer: d(success, 0),
        compute_output: d(0),
        cache_hit: d(0),
        cache_miss: d(0),
      },
      batch_stats: [],
    }) as const;
  const rows: {
    readonly name: string;
    readonly metrics: Parameters<typeof crossCheckStatistics>[0];
    readonly stats: Parameters<typeof crossCheckStatistics>[1];
    readonly want: readonly string[];
  }[] = [
    {
      name: "statistics ahead of the counters read before them: agreement",
      metrics: [{ model: "m", version: "1", counters: { requestSuccess: 10, queueDurationUs: 5 } }],
      stats: [stat("m", 12, 7000)],
      want: [],
    },
    {
      name: "a µs counter rounded against ns statistics: agreement",
      metrics: [{ model: "m", version: "1", counters: { queueDurationUs: 5 } }],
      stats: [stat("m", 0, 4999)],
      want: [],
    },
    {
      name: "statistics below the counters: a restart between the reads",
      metrics: [{ model: "m", version: "1", counters: { requestSuccess: 10, inferenceCount: 10 } }],
      stats: [stat("m", 3, 0)],
      want: [
        "m/1: request success 3 in gRPC statistics, below 10 on /metrics read before",
        "m/1: inference count 3 in gRPC statistics, below 10 on /metrics read before",
      ],
    },
    {
      name: "a model serving requests that /metrics does not show",
      metrics: [],
      stats: [stat("m", 3, 0), stat("idle", 0, 0)],
      want: ["m/1: in gRPC statistics but not in /metrics"],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(crossCheckStatistics(row.metrics, row.stats)).to.deep.equal(row.want);
    });
  }
});
