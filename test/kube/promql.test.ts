import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { stringify } from "yaml";
import { runRender } from "../../controller/cli/render.js";
import { InputError } from "../../controller/diagnostics/problem.js";
import { buildPool } from "../../controller/kube/render/index.js";
import {
  checkPromQL,
  promqlProblems,
  renderedExpressions,
} from "../../controller/kube/render/promql.js";
import { type Policy, PROVIDERS } from "../../controller/policy/index.js";
import { runCaptured } from "../support/io.js";
import { pool, poolDocument } from "../support/pools.js";

type Json = { [k: string]: unknown };

describe("buildPool: every PromQL expression it emits is checked at render time", () => {
  /** `p` with another scrape interval, past the loader (which may bound it first). */
  function withScrapeSeconds(p: Policy, seconds: number): Policy {
    const data = JSON.parse(JSON.stringify(p)) as { spec: { monitoring: Json } };
    data.spec.monitoring.scrapeIntervalSeconds = seconds;
    data.spec.monitoring.scrapeInterval = `${seconds}s`;
    Object.defineProperty(data, "source", { value: p.source, enumerable: false });
    return data as unknown as Policy;
  }

  const exprs: { name: string; expr: string; problem: RegExp | undefined }[] = [
    { name: "a rate over 1m", expr: "rate(x[1m])", problem: undefined },
    { name: "a subquery with the default step", expr: "max_over_time(x[5m:])", problem: undefined },
    { name: "rate over [0s]", expr: "rate(x[0s])", problem: /^1:8: range \[0s\] is empty/ },
    { name: "rate over [0m0s]", expr: "rate(x[0m0s])", problem: /range \[0m0s\] is empty/ },
    { name: "a plain 0 range", expr: "rate(x[0])", problem: /range \[0\] is empty/ },
    {
      name: "a subquery over [0s:1s]",
      expr: "max_over_time(x[0s:1s])",
      problem: /range \[0s\] is empty/,
    },
    { name: "a syntax error", expr: "sum(rate(x[1m])", problem: /syntax error/ },
  ];
  for (const c of exprs) {
    it(`checkPromQL: ${c.name}`, () => {
      const problems = checkPromQL(c.expr);
      if (c.problem === undefined) expect(problems).to.deep.equal([]);
      else expect(problems.join("\n")).to.match(c.problem);
    });
  }

  for (const provider of PROVIDERS) {
    for (const engine of ["keda", "hpa"] as const) {
      it(`${provider} × ${engine}: finds the rules, the KEDA queries or the adapter's queries, and all pass`, () => {
        const p = pool(provider, engine);
        const objects = buildPool(p);
        const found = renderedExpressions(objects).map((e) => e.where.split(" ")[0]);
        expect(found.filter((k) => k === "PrometheusRule")).to.have.lengthOf(16);
        if (engine === "keda")
          expect(found.filter((k) => k === "ScaledObject")).to.have.lengthOf(2);
        // 3 adapter rules (2 Pods, 1 External) and the External rule for the controller's
        // desired replicas: a seriesQuery and a metricsQuery each.
        else expect(found.filter((k) => k === "ConfigMap")).to.have.lengthOf(8);
        expect(promqlProblems(p, objects)).to.deep.equal([]);
      });
    }
  }

  it("scrapeInterval 0s: buildPool throws every rate's empty range, naming the object, the expression and the field", () => {
    const p = withScrapeSeconds(pool("eks", "keda"), 0);
    let error: unknown;
    try {
      buildPool(p);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(InputError);
    const problems = (error as InputError).problems;
    // Five recording rules take a rate: the request rate once, four detector series twice
    // (the `<model>-detector` series or the model's own).
    expect(problems).to.have.lengthOf(9);
    for (const problem of problems) {
      expect(problem.path).to.equal("spec.monitoring.scrapeInterval");
      expect(problem.file).to.equal("pool.yaml");
      expect(problem.line).to.be.greaterThan(0);
      expect(problem.message).to.match(
        /^PrometheusRule vision\/yolo-triton spec\.groups\[0\]\.rules\[\d\]\.expr \(record pod:tritonscale_[a-z_]+:rate\) would be refused by Prometheus: 1:\d+: range \[0s\] is empty/,
      );
      expect(problem.message).to.contain(
        "Expression: sum by (namespace, pod, tritonscale_dev_pool)",
      );
    }
  });

  it("tritonscale render: a pool with scrapeInterval 0s prints nothing and exits 1, naming scrapeInterval", async () => {
    const dir = mkdtempSync(join(tmpdir(), "render-"));
    try {
      const file = join(dir, "pool.yaml");
      writeFileSync(file, stringify(poolDocument({ monitoring: { scrapeInterval: "0s" } })));
      const r = await runCaptured(runRender, [file]);
      expect(r.code).to.equal(1);
      expect(r.out).to.equal("");
      expect(r.err).to.contain("spec.monitoring.scrapeInterval");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
