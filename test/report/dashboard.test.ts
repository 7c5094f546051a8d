import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { buildPool } from "../../controller/kube/render/index.js";
import { dashboardExpressions, promqlProblems } from "../../controller/kube/render/promql.js";
import { METRICS } from "../../controller/metrics/names.js";
import { loadModelPool, type Policy } from "../../controller/policy/index.js";
import {
  buildFleetDashboard,
  buildPoolDashboard,
  type DashboardJson,
  dashboardQueries,
  dashboardUid,
  formatDashboard,
  MAX_UID_LENGTH,
} from "../../controller/report/dashboard.js";
import { fillVariables } from "../../controller/report/dashboard-queries.js";
import { checkPromQL } from "../../controller/util/promql.js";
import { filledFor, metricNames } from "../support/dashboards.js";
import { minimalPool } from "../support/pools.js";
import { projectRoot, referenceDir, requireReference } from "../support/reference.js";

const update = process.env.UPDATE_GOLDEN === "1";
const fixtures = join(projectRoot, "test", "fixtures", "dashboards");
const examples = join(projectRoot, "examples");

/** Every example pool, by file name without `.yaml`. */
function examplePools(): { name: string; policy: Policy }[] {
  return readdirSync(examples)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => ({
      name: f.replace(/\.yaml$/, ""),
      policy: loadModelPool(readFileSync(join(examples, f), "utf8"), f),
    }));
}

/** Triton's metric names (reference catalog), dcgm-exporter's fields (default counters). */
function exportedNames(): { triton: Set<string>; dcgm: Set<string> } {
  const catalog = readFileSync(join(referenceDir, "triton", "metric-catalog.md"), "utf8");
  const triton = new Set([...catalog.matchAll(/^\| (nv_[a-z_]+) \|/gm)].map((m) => m[1]!));
  const csv = readFileSync(join(referenceDir, "dcgm", "default-counters.csv"), "utf8");
  const dcgm = new Set(
    csv
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.startsWith("DCGM_FI_"))
      .map((l) => l.split(",")[0]!.trim()),
  );
  return { triton, dcgm };
}

const variants = (): { name: string; policy: Policy }[] => [
  ...examplePools(),
  { name: "minimal (triton GPU metrics)", policy: minimalPool() },
  {
    name: "minimal (dcgm GPU metrics)",
    policy: minimalPool({ monitoring: { gpuUtilization: "dcgm" } }),
  },
  {
    name: "spot, 2 GPUs per replica, EUR",
    policy: minimalPool({
      capacity: { provider: "eks", gpu: { count: 2 }, spot: { enabled: true, onDemandBase: 1 } },
      cost: { currency: "EUR", onDemandPerGpuHour: 1.1, spotPerGpuHour: 0.4 },
    }),
  },
];

const allQueries = (d: DashboardJson) => dashboardQueries(d);

describe("report/dashboard: golden JSON per example pool", () => {
  const pools = examplePools();
  const cases = [
    ...pools.map((p) => ({ file: `${p.name}.json`, build: () => buildPoolDashboard(p.policy) })),
    { file: "fleet.json", build: () => buildFleetDashboard(pools.map((p) => p.policy)) },
  ];
  for (const c of cases) {
    it(`${c.file} matches test/fixtures/dashboards/${c.file}`, () => {
      const text = formatDashboard(c.build());
      const file = join(fixtures, c.file);
      if (update) {
        mkdirSync(fixtures, { recursive: true });
        writeFileSync(file, text);
      }
      expect(text, "UPDATE_GOLDEN=1 npm test rewrites the fixtures").to.equal(
        readFileSync(file, "utf8"),
      );
    });
  }
});

describe("report/dashboard: every query parses once Grafana's variables are filled", () => {
  for (const v of variants()) {
    it(`${v.name}: every panel and annotation query (pool dashboard and fleet)`, () => {
      const queries = [
        ...allQueries(buildPoolDashboard(v.policy)),
        ...allQueries(buildFleetDashboard([v.policy])),
      ];
      expect(queries.length).to.be.greaterThan(25);
      const bad = queries
        .map((q) => ({ ...q, problems: checkPromQL(filledFor(v.policy, q.expr)) }))
        .filter((q) => q.problems.length > 0)
        .map((q) => `${q.where}: ${q.problems.join("; ")}: ${filledFor(v.policy, q.expr)}`);
      expect(bad).to.deep.equal([]);
    });
  }

  it("the check can fail: unfilled `$__rate_interval` and a broken query are refused", () => {
    const q = allQueries(buildPoolDashboard(minimalPool())).find((x) => x.expr.includes("rate("))!;
    expect(checkPromQL(q.expr), q.expr).to.not.deep.equal([]);
    expect(checkPromQL(filledFor(minimalPool(), `${q.expr})`))).to.not.deep.equal([]);
  });

  it("fillVariables: multi-value model as Grafana's regex alternation, ranges in seconds", () => {
    expect(
      fillVariables('x{model=~"$model"}[$__rate_interval] $__range $__range_s $namespace/$pool', {
        namespace: "vision",
        pool: "yolo",
        models: ["a", "b.c"],
        rateInterval: "4s",
        rangeSeconds: 60,
      }),
    ).to.equal('x{model=~"(a|b\\\\.c)"}[4s] 60s 60 vision/yolo');
  });
});

describe("report/dashboard: every metric a panel uses is one tritonscale, Triton or DCGM exports", () => {
  const controller = new Set<string>(Object.values(METRICS).map((m) => m.name));
  for (const v of variants()) {
    it(v.name, function () {
      requireReference(this, "triton");
      requireReference(this, "dcgm");
      const { triton, dcgm } = exportedNames();
      const used = new Set<string>();
      for (const d of [buildPoolDashboard(v.policy), buildFleetDashboard([v.policy])])
        for (const q of allQueries(d))
          for (const name of metricNames(filledFor(v.policy, q.expr))) used.add(name);
      const unknown = [...used].filter(
        // `up` is Prometheus' own series of every target (the DCGM join keeps the pool's pods).
        (m) => !controller.has(m) && !triton.has(m) && !dcgm.has(m) && m !== "up",
      );
      expect(unknown).to.deep.equal([]);
      expect([...used].some((m) => controller.has(m))).to.equal(true);
      expect([...used].some((m) => triton.has(m))).to.equal(true);
      const gpu = v.policy.spec.monitoring.gpuUtilization;
      expect(
        [...used].some((m) => dcgm.has(m)),
        `DCGM fields used iff gpuUtilization is dcgm (${gpu})`,
      ).to.equal(gpu === "dcgm");
    });
  }

  it("metricNames finds selectors by name and by __name__ (the check sees every metric)", () => {
    expect(metricNames('sum(rate(a{x="1"}[1m])) / b + {__name__="c"} and on(i) up')).to.deep.equal([
      "a",
      "b",
      "c",
      "up",
    ]);
  });
});

describe("report/dashboard: panels follow the pool's spec", () => {
  const panel = (d: DashboardJson, title: string) => {
    const p = (d.panels ?? []).find((x) => (x as { title?: string }).title === title) as
      | { targets: { expr: string }[]; fieldConfig: { defaults: Record<string, unknown> } }
      | undefined;
    if (p === undefined) throw new Error(`no panel "${title}"`);
    return p;
  };
  const line = (d: DashboardJson, title: string) => {
    const steps = (
      panel(d, title).fieldConfig.defaults.thresholds as { steps: { value: number | null }[] }
    ).steps;
    return steps[1]?.value;
  };

  const rows = [
    {
      name: "triton GPU source: nv_gpu_utilization, no DCGM",
      policy: minimalPool(),
      gpu: /^avg by \(namespace, pod\) \(nv_gpu_utilization\{/,
      notGpu: /DCGM/,
    },
    {
      name: "dcgm GPU source: DCGM_FI_DEV_GPU_UTIL moved from exported_pod onto the Triton pod",
      policy: minimalPool({ monitoring: { gpuUtilization: "dcgm" } }),
      gpu: /DCGM_FI_DEV_GPU_UTIL\{exported_namespace="\$namespace", exported_pod!=""\}.*"pod", "\$1", "exported_pod"/,
      notGpu: /nv_gpu_utilization/,
    },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const d = buildPoolDashboard(r.policy);
      const expr = panel(d, "GPU utilization").targets[0]!.expr;
      expect(expr).to.match(r.gpu);
      expect(expr).to.not.match(r.notGpu);
    });
  }

  it("SLO lines: p99 SLO 85 ms on latency, queue-time budget 42.5 ms (half the SLO), headroom 0, staleAfter", () => {
    const d = buildPoolDashboard(minimalPool());
    expect(line(d, "Latency p50 / p99 vs SLO")).to.equal(85);
    expect(line(d, "Queue time per request vs budget")).to.equal(42.5);
    expect(line(d, "Headroom at the SLO")).to.equal(0);
    expect(line(d, "Signal age")).to.equal(minimalPool().spec.scaling.staleAfterSeconds);
  });

  it("each line stays in view: soft max at the SLO, budget and staleAfter, soft min at headroom 0 (Grafana's axis otherwise fits the data alone)", () => {
    const d = buildPoolDashboard(minimalPool());
    const soft = (title: string) => {
      const c = panel(d, title).fieldConfig.defaults.custom as Record<string, unknown>;
      return { min: c.axisSoftMin, max: c.axisSoftMax };
    };
    expect(soft("Latency p50 / p99 vs SLO")).to.deep.equal({ min: undefined, max: 85 });
    expect(soft("Queue time per request vs budget")).to.deep.equal({ min: undefined, max: 42.5 });
    expect(soft("Headroom at the SLO")).to.deep.equal({ min: 0, max: undefined });
    expect(soft("Request rate")).to.deep.equal({ min: undefined, max: undefined });
  });

  it("cost: each capacity type at its spec.cost price × GPUs per replica; without Spot, on-demand only", () => {
    const spot = buildPoolDashboard(
      minimalPool({
        capacity: { provider: "eks", gpu: { count: 2 }, spot: { enabled: true } },
        cost: { currency: "EUR", onDemandPerGpuHour: 1.1, spotPerGpuHour: 0.4 },
      }),
    );
    const cost = panel(spot, "Cost per hour").targets[0]!.expr;
    expect(cost).to.match(
      /capacity_type="spot".* \* 2\) \* 0\.4 \+ sum\(.*capacity_type="on-demand".* \* 2\) \* 1\.1$/,
    );
    expect(panel(spot, "Cost per hour").fieldConfig.defaults.unit).to.equal("currencyEUR");
    const plain = panel(buildPoolDashboard(minimalPool()), "Cost per hour").targets[0]!.expr;
    expect(plain).to.not.contain('"spot"');
    expect(plain).to.match(/\* 0\.526$/);
  });

  it("variables: data source, namespace, pool, model; defaults are the pool's own", () => {
    const d = buildPoolDashboard(minimalPool());
    const vars = (d.templating.list ?? []).map((v) => [v.name, v.type, v.current?.value]);
    expect(vars).to.deep.equal([
      ["datasource", "datasource", undefined],
      ["namespace", "query", "vision"],
      ["pool", "query", "yolo"],
      ["model", "query", "$__all"],
    ]);
    for (const q of allQueries(d)) expect(q.expr, q.where).to.not.match(/vision|"yolo"/);
    const ds = JSON.stringify(d.panels);
    expect(ds).to.contain(`"uid":"${"$"}{datasource}"`);
  });

  it("scale events are annotations from tritonscale_scale_events_total", () => {
    const d = buildPoolDashboard(minimalPool());
    const a = d.annotations?.list ?? [];
    expect(a.map((x) => x.name)).to.deep.equal(["Scale events"]);
    expect((a[0] as { expr?: string }).expr).to.contain("tritonscale_scale_events_total");
  });
});

describe("report/dashboard: uids", () => {
  const rows = [
    { name: "short: namespace_name", ns: "vision", pool: "yolo", want: "vision_yolo" },
    {
      name: "exactly 40 characters stays plain",
      ns: "a".repeat(20),
      pool: "b".repeat(19),
      want: `${"a".repeat(20)}_${"b".repeat(19)}`,
    },
  ];
  for (const r of rows) {
    it(r.name, () => expect(dashboardUid(r.ns, r.pool)).to.equal(r.want));
  }

  it("no two pools share a uid: a-b/c vs a/b-c, and long names cut with a hash", () => {
    expect(dashboardUid("a-b", "c")).to.not.equal(dashboardUid("a", "b-c"));
    const long = (ns: string, name: string) => dashboardUid(ns, name);
    const x = long("n".repeat(63), `${"p".repeat(62)}x`);
    const y = long("n".repeat(63), `${"p".repeat(62)}y`);
    expect(x).to.not.equal(y);
    for (const u of [x, y]) {
      expect(u.length).to.equal(MAX_UID_LENGTH);
      expect(u).to.match(/^[a-zA-Z0-9_-]+$/);
    }
    expect(long("n".repeat(63), "p".repeat(63))).to.equal(long("n".repeat(63), "p".repeat(63)));
  });
});

describe("render: the pool's dashboard as a ConfigMap for Grafana's sidecar", () => {
  it('labelled grafana_dashboard: "1", one key holding the pool dashboard, after the PrometheusRule', () => {
    const p = minimalPool();
    const objects = buildPool(p).map((o) => JSON.parse(JSON.stringify(o.toJSON())));
    const i = objects.findIndex(
      (o) => o.kind === "ConfigMap" && o.metadata.name === "yolo-dashboard",
    );
    expect(i).to.be.greaterThan(-1);
    expect(objects[i - 1].kind).to.equal("PrometheusRule");
    const cm = objects[i];
    expect(cm.metadata.namespace).to.equal("vision");
    expect(cm.metadata.labels.grafana_dashboard).to.equal("1");
    expect(cm.metadata.labels["tritonscale.dev/pool"]).to.equal("yolo");
    expect(Object.keys(cm.data)).to.deep.equal(["tritonscale_vision_yolo.json"]);
    expect(cm.data["tritonscale_vision_yolo.json"]).to.equal(
      formatDashboard(buildPoolDashboard(p)),
    );
  });

  it("render checks the dashboard's queries like its other PromQL: all pass; a broken one is a problem naming the panel", () => {
    const p = minimalPool();
    const objects = buildPool(p);
    const found = dashboardExpressions(p, objects);
    expect(found.length).to.equal(dashboardQueries(buildPoolDashboard(p)).length);
    expect(promqlProblems(p, objects)).to.deep.equal([]);
    const cm = JSON.parse(
      JSON.stringify(objects.find((o) => o.kind === "ConfigMap")!.toJSON()),
    ) as { data: Record<string, string> };
    const key = Object.keys(cm.data)[0]!;
    cm.data[key] = cm.data[key]!.replace("sum by (model) (rate(", "sum by (model) ((rate(");
    const broken = { kind: "ConfigMap", toJSON: () => cm };
    const problems = promqlProblems(p, [broken]).map((x) => x.message);
    expect(problems.length).to.be.greaterThan(0);
    expect(problems[0]).to.match(
      /^ConfigMap vision\/yolo-dashboard data\["tritonscale_vision_yolo\.json"\] panel "Request rate" A would be refused by Prometheus: .*syntax error.*tritonscale bug/,
    );
  });

  it("render turns on Triton's latency summaries the latency panel reads", () => {
    const objects = buildPool(minimalPool()).map((o) => JSON.parse(JSON.stringify(o.toJSON())));
    const d = objects.find((o) => o.kind === "Deployment");
    expect(JSON.stringify(d.spec.template.spec.containers[0].args)).to.contain(
      "--metrics-config=summary_latencies=true",
    );
  });
});
