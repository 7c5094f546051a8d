import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { buildRecordingRules, RECORDED } from "../../controller/kube/render/prometheus.js";
import {
  arrivalRateQuery,
  createPrometheusRateHistory,
  historyStepSeconds,
  requestCounterSelector,
} from "../../controller/triton/prometheus-history.js";
import { minimalPool } from "../support/pools.js";

/**
 * The Prometheus range query that rebuilds a pool's learned history (controller/triton/
 * prometheus-history.ts), against a loopback HTTP server answering as Prometheus would.
 */

const POLICY = minimalPool();

/** A loopback server answering every request with `answer(url)`; records the URLs. */
async function fakePrometheus(
  answer: (url: URL) => { status?: number; body: string },
): Promise<{ base: string; urls: URL[]; server: Server }> {
  const urls: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    urls.push(url);
    const a = answer(url);
    res.writeHead(a.status ?? 200, { "Content-Type": "application/json" }).end(a.body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, urls, server };
}

const matrix = (values: [number, string][][]) =>
  JSON.stringify({
    status: "success",
    data: { resultType: "matrix", result: values.map((v) => ({ metric: {}, values: v })) },
  });

describe("triton/prometheus-history: the last day of a pool's request rate", () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });
  async function serve(answer: Parameters<typeof fakePrometheus>[0]) {
    const p = await fakePrometheus(answer);
    servers.push(p.server);
    return p;
  }

  it("reads the counters the recording rule pod:tritonscale_requests:rate reads", () => {
    const rule = buildRecordingRules(POLICY)[0]!.rules.find(
      (r) => r.record === RECORDED.podRequestRate,
    )!;
    expect(rule.expr).to.include(requestCounterSelector(POLICY));
    expect(arrivalRateQuery(POLICY, 15)).to.equal(
      `sum(rate(${requestCounterSelector(POLICY)}[1m]))`,
    );
  });

  const steps = [
    { name: "default 15 s scrape", scrape: "15s", step: 15, window: "1m" },
    { name: "1 s scrape: at least 10 s", scrape: "1s", step: 10, window: "10s" },
    {
      name: "5 m scrape: at most 60 s, window still 4 scrapes",
      scrape: "5m",
      step: 60,
      window: "20m",
    },
  ];
  for (const row of steps) {
    it(`step and window: ${row.name}`, () => {
      const policy = minimalPool({ monitoring: { scrapeInterval: row.scrape } });
      expect(historyStepSeconds(policy)).to.equal(row.step);
      expect(arrivalRateQuery(policy, row.step)).to.match(new RegExp(`\\[${row.window}\\]\\)\\)$`));
    });
  }

  it("asks /api/v1/query_range from..to at the step, and returns the finite, non-negative points", async () => {
    const p = await serve(() => ({
      body: matrix([
        [
          [1000, "1.5"],
          [1015, "NaN"],
          [1030, "+Inf"],
          [1045, "-2"],
          [1060, "0"],
          [1075, "7"],
        ],
      ]),
    }));
    const history = createPrometheusRateHistory({ address: `${p.base}/` });
    const points = await history.rates(POLICY, 1000, 1075);
    expect(points).to.deep.equal([
      { at: 1000, rate: 1.5 },
      { at: 1060, rate: 0 },
      { at: 1075, rate: 7 },
    ]);
    const u = p.urls[0]!;
    expect(u.pathname).to.equal("/api/v1/query_range");
    expect(Object.fromEntries(u.searchParams)).to.deep.equal({
      query: arrivalRateQuery(POLICY, 15),
      start: "1000",
      end: "1075",
      step: "15",
    });
  });

  it("an empty result (no traffic recorded) is no points", async () => {
    const p = await serve(() => ({ body: matrix([]) }));
    expect(
      await createPrometheusRateHistory({ address: p.base }).rates(POLICY, 0, 60),
    ).to.deep.equal([]);
  });

  const failures = [
    {
      name: "an answer larger than maxBytes",
      answer: () => ({
        body: matrix([Array.from({ length: 5000 }, (_, i): [number, string] => [i, "1"])]),
      }),
      maxBytes: 10_000,
      says: /^querying Prometheus at http:\/\/127\.0\.0\.1:\d+: the answer is larger than 10000 bytes$/,
    },
    {
      name: "an error answer",
      answer: () => ({
        status: 400,
        body: JSON.stringify({
          status: "error",
          errorType: "bad_data",
          error: "exceeded maximum resolution of 11,000 points per timeseries",
        }),
      }),
      says: /HTTP 400, error: exceeded maximum resolution of 11,000 points per timeseries \(query sum\(rate\(/,
    },
    {
      name: "a vector instead of a matrix",
      answer: () => ({
        body: JSON.stringify({ status: "success", data: { resultType: "vector", result: [] } }),
      }),
      says: /HTTP 200, success: result type vector/,
    },
    {
      name: "several series",
      answer: () => ({ body: matrix([[[0, "1"]], [[0, "2"]]]) }),
      says: /2 series, expected one/,
    },
    {
      name: "not JSON",
      answer: () => ({ status: 502, body: "<html>bad gateway</html>" }),
      says: /HTTP 502, not JSON: "<html>bad gateway<\/html>"$/,
    },
  ];
  for (const row of failures) {
    it(`rejects, naming Prometheus: ${row.name}`, async () => {
      const p = await serve(row.answer);
      const err = await createPrometheusRateHistory({
        address: p.base,
        ...(row.maxBytes === undefined ? {} : { maxBytes: row.maxBytes }),
      })
        .rates(POLICY, 0, 60)
        .catch((e: Error) => e);
      expect((err as Error).message).to.match(row.says);
    });
  }

  it("rejects when Prometheus cannot be reached", async () => {
    const p = await serve(() => ({ body: "" }));
    p.server.close();
    servers.length = 0;
    const err = await createPrometheusRateHistory({ address: p.base })
      .rates(POLICY, 0, 60)
      .catch((e: Error) => e);
    expect((err as Error).message).to.match(
      /^querying Prometheus at http:\/\/127\.0\.0\.1:\d+: fetch failed \(.*ECONNREFUSED/,
    );
  });

  it("at most `concurrency` range queries at once; the others wait their turn", async () => {
    let inFlight = 0;
    let most = 0;
    const held: (() => void)[] = [];
    const server = createServer((_req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      held.push(() => {
        inFlight--;
        res.writeHead(200, { "Content-Type": "application/json" }).end(matrix([[[0, "1"]]]));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    servers.push(server);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const history = createPrometheusRateHistory({ address: base, concurrency: 3 });
    const all = Promise.all(Array.from({ length: 10 }, () => history.rates(POLICY, 0, 60)));
    let answered = 0;
    while (answered < 10) {
      await new Promise((r) => setTimeout(r, 10));
      for (const release of held.splice(0)) {
        release();
        answered++;
      }
    }
    expect((await all).map((p) => p.length)).to.deep.equal(Array(10).fill(1));
    expect(most).to.equal(3);
  });

  it("stops when aborted (the pool was removed)", async () => {
    const p = await serve(() => ({ body: matrix([]) }));
    const abort = new AbortController();
    abort.abort();
    const err = await createPrometheusRateHistory({ address: p.base })
      .rates(POLICY, 0, 60, abort.signal)
      .catch((e: Error) => e);
    expect(err).to.be.an("error");
  });
});
