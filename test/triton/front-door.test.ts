import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { stringify } from "yaml";
import { formatProblem } from "../../controller/diagnostics/problem.js";
import { parseModelPool } from "../../controller/policy/index.js";
import { queryFrontDoor } from "../../controller/triton/front-door.js";
import { minimalPool, poolDocument } from "../support/pools.js";

/** A Prometheus HTTP API stand-in answering each query from a table. */
async function prometheus(
  answer: (query: string) => { status: number; body: unknown },
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const q = new URL(req.url ?? "/", "http://x").searchParams.get("query") ?? "";
    const a = answer(q);
    res.writeHead(a.status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(a.body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const vector = (...values: number[]) => ({
  status: 200,
  body: {
    status: "success",
    data: {
      resultType: "vector",
      result: values.map((v, i) => ({ metric: { i: String(i) }, value: [1, String(v)] })),
    },
  },
});

describe("triton/front-door: the pool's front door queried on Prometheus", () => {
  const rows: {
    name: string;
    pending?: string;
    answer: (q: string) => { status: number; body: unknown };
    want: { arrivals: number; pending: number } | RegExp;
  }[] = [
    {
      name: "the requests counter summed over its series; no pending query: nothing held",
      answer: () => vector(100, 20.5),
      want: { arrivals: 120.5, pending: 0 },
    },
    {
      name: "a pending gauge summed too",
      pending: "activator_queue",
      answer: (q) => (q === "activator_queue" ? vector(7) : vector(50)),
      want: { arrivals: 50, pending: 7 },
    },
    {
      name: "an empty pending vector: nothing held right now",
      pending: "activator_queue",
      answer: (q) => (q === "activator_queue" ? vector() : vector(50)),
      want: { arrivals: 50, pending: 0 },
    },
    {
      name: "an empty requests vector: no front door this round, and why",
      answer: () => vector(),
      want: /frontDoor\.requests answered no number/,
    },
    {
      name: "Prometheus refusing the query: no front door this round, and its error",
      answer: () => ({ status: 400, body: { status: "error", error: "parse error" } }),
      want: /spec\.monitoring\.frontDoor: querying Prometheus at .*: HTTP 400, error: parse error/,
    },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      const p = await prometheus(row.answer);
      try {
        const policy = minimalPool({
          monitoring: {
            prometheusAddress: p.url,
            frontDoor: {
              requests: "sum(rq_total)",
              ...(row.pending ? { pending: row.pending } : {}),
            },
          },
        });
        const got = await queryFrontDoor(policy);
        if (row.want instanceof RegExp) expect(got).to.be.a("string").and.match(row.want);
        else expect(got).to.deep.equal(row.want);
      } finally {
        p.server.close();
      }
    });
  }

  it("a pool without a front door asks nothing", async () => {
    expect(await queryFrontDoor(minimalPool())).to.equal(undefined);
  });

  it("the loader refuses a front door query Prometheus would refuse, at its line and field", () => {
    const text = `${stringify(poolDocument())}`.replace(
      "  slo:\n",
      '  monitoring:\n    frontDoor:\n      requests: "sum(rq_total{"\n  slo:\n',
    );
    const r = parseModelPool(text, "pool.yaml");
    expect(r.problems.map(formatProblem)).to.deep.equal([
      "pool.yaml:14:17: spec.monitoring.frontDoor.requests: Prometheus would refuse this query: 1:14: syntax error at end of input",
    ]);
  });
});
