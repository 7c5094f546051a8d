import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { PROM_POOL_LABEL } from "../../controller/kube/render/labels.js";
import type { ReplicaScrape } from "../../controller/scaling/samples.js";
import {
  createPrometheusSource,
  prometheusQueries,
} from "../../controller/triton/prometheus-source.js";
import { createScrapeSource } from "../../controller/triton/scrape-source.js";
import { minimalPool } from "../support/pools.js";
import { freePort, type RunningPrometheus, startPrometheus } from "../support/real-prometheus.js";
import { requireTool } from "../support/tools.js";
import { TritonStandin } from "../support/triton-standin.js";

// Pool vision/yolo with one model, yolov8s (test/support/pools.ts).
const policy = minimalPool();

/** A replica without its time, and with the pod name as identity, to compare the two sources. */
const comparable = (r: ReplicaScrape, replica: string) => {
  const { t: _t, ...rest } = r;
  return { ...rest, replica };
};

describe("integration: the Prometheus-API source reads what the scrape source reads, through a real Prometheus", function () {
  this.timeout(90_000);
  let prom: RunningPrometheus | undefined;
  const a = new TritonStandin({ name: "triton-a", models: [{ name: "yolov8s" }], gpus: 2 });
  const b = new TritonStandin({
    name: "triton-b",
    models: [{ name: "yolov8s", state: "loading" }],
  });
  // Another pool's pod in the same namespace: never one of ours.
  const c = new TritonStandin({ name: "triton-c", models: [{ name: "yolov8s" }] });

  before(async function () {
    requireTool(this, "Prometheus", "prometheus", "prometheus", ["--version"]);
    await Promise.all([a.start(), b.start(), c.start()]);
    a.setArrivalRate("yolov8s", 150);
    a.advance(20);
    a.fail("yolov8s", "CANCELED", 2);
    c.setArrivalRate("yolov8s", 10);
    c.advance(5);
    // As the rendered ServiceMonitor's relabeling leaves them: namespace, pod, pool label.
    const target = (s: TritonStandin, pod: string, pool: string) => ({
      address: `127.0.0.1:${s.metricsPort}`,
      path: "/metrics",
      labels: { namespace: "vision", pod, [PROM_POOL_LABEL]: pool, container: "triton" },
    });
    prom = await startPrometheus([
      target(a, "triton-a", "yolo"),
      target(b, "triton-b", "yolo"),
      target(c, "triton-c", "other"),
    ]);
  });

  after(async () => {
    await prom?.stop();
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  });

  it("builds its queries from the pool's namespace and label", () => {
    expect(prometheusQueries(policy)).to.deep.equal({
      series: `{__name__=~"nv_inference_request_success|nv_inference_request_failure|nv_inference_count|nv_inference_exec_count|nv_inference_queue_duration_us|nv_inference_compute_infer_duration_us|nv_inference_pending_request_count|nv_gpu_utilization|up",namespace="vision",${PROM_POOL_LABEL}="yolo"}`,
      scrapeTimes: `timestamp(up{namespace="vision",${PROM_POOL_LABEL}="yolo"})`,
    });
  });

  it("per pod: the same counters, GPU utilization and phases as a direct scrape", async () => {
    const source = createPrometheusSource({ address: prom!.base, timeoutMs: 3000 });
    const direct = createScrapeSource({
      discover: async () => [
        { ...a.endpoint(), replica: "triton-a" },
        { ...b.endpoint(), replica: "triton-b" },
      ],
    });
    try {
      const want = (await direct.collect(policy, 100)).replicas.map((r) =>
        comparable(r, r.replica),
      );
      expect(want.map((r) => r.phase)).to.deep.equal(["ready", "loading"]);
      await prom!.eventually("Prometheus has scraped both pods", 30, async () => {
        const got = await source.collect(policy, 100);
        const g = got.replicas.map((r) => comparable(r, r.replica));
        return JSON.stringify(g) === JSON.stringify(want)
          ? []
          : [`got ${JSON.stringify(g)}\nwant ${JSON.stringify(want)}`];
      });
      const got = await source.collect(policy, 100);
      // Each replica's time is its last scrape's, on the caller's clock: at most a few seconds old.
      for (const r of got.replicas) expect(r.t).to.be.within(90, 100.001);
    } finally {
      direct.close();
    }
  });

  it("a pod Prometheus cannot scrape (up 0) is unreachable, with no series", async () => {
    a.setMetricsMode("http-500");
    try {
      const source = createPrometheusSource({ address: prom!.base });
      await prom!.eventually("triton-a down", 30, async () => {
        const r = (await source.collect(policy, 0)).replicas.find((x) => x.replica === "triton-a");
        return r?.phase === "unreachable" && r.models.length === 0
          ? []
          : [`triton-a: ${JSON.stringify(r)}`];
      });
    } finally {
      a.setMetricsMode("ok");
    }
  });
});

describe("triton/prometheus-source: a failing Prometheus rejects the round with a clear error", () => {
  let server: Server;
  let base = "";
  let answer: { status: number; body: string } = { status: 200, body: "" };
  before(async () => {
    server = createServer((_req, res) => {
      res.writeHead(answer.status, { "Content-Type": "application/json" }).end(answer.body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const rows: {
    readonly name: string;
    readonly status: number;
    readonly body: string;
    readonly error: RegExp;
  }[] = [
    {
      name: "an error answer",
      status: 422,
      body: JSON.stringify({ status: "error", errorType: "execution", error: "query timed out" }),
      error: /HTTP 422, error: query timed out \(query /,
    },
    {
      name: "not JSON",
      status: 502,
      body: "<html>bad gateway</html>",
      error: /HTTP 502, not JSON: "<html>bad gateway/,
    },
    {
      name: "a matrix instead of a vector",
      status: 200,
      body: JSON.stringify({ status: "success", data: { resultType: "matrix", result: [] } }),
      error: /result type matrix/,
    },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      answer = { status: row.status, body: row.body };
      const err = await createPrometheusSource({ address: base })
        .collect(policy, 0)
        .then(
          () => "",
          (e: Error) => e.message,
        );
      expect(err).to.match(row.error);
      expect(err).to.contain(`querying Prometheus at ${base}`);
    });
  }

  it("an unreachable Prometheus", async () => {
    const port = await freePort();
    const err = await createPrometheusSource({
      address: `http://127.0.0.1:${port}`,
      timeoutMs: 1000,
    })
      .collect(policy, 0)
      .then(
        () => "",
        (e: Error) => e.message,
      );
    expect(err).to.match(
      /querying Prometheus at http:\/\/127\.0\.0\.1:\d+: fetch failed \(.*ECONNREFUSED/,
    );
  });

  it("an empty answer is a pool with no replicas, not an error", async () => {
    answer = {
      status: 200,
      body: JSON.stringify({ status: "success", data: { resultType: "vector", result: [] } }),
    };
    const r = await createPrometheusSource({ address: base }).collect(policy, 7);
    expect(r.replicas).to.deep.equal([]);
    expect(r.t).to.be.at.least(7);
  });
});
