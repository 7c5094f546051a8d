import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { expect } from "chai";
import { parse, stringify } from "yaml";
import { PROM_POOL_LABEL } from "../../controller/kube/render/labels.js";
import {
  ADAPTER_METRICS,
  type AdapterRule,
  buildAdapterRules,
  buildRecordingRules,
  formatAdapterConfig,
  formatRuleFile,
  hpaMetricSpecs,
  kedaPrometheusTrigger,
  RECORDED,
  rateWindow,
} from "../../controller/kube/render/prometheus.js";
import { checkPromQL } from "../../controller/kube/render/promql.js";
import { buildHpa } from "../../controller/kube/render/scaling.js";
import {
  type ControllerServers,
  createControllerMetrics,
  startControllerServers,
} from "../../controller/metrics/index.js";
import { loadModelPool, type Policy } from "../../controller/policy/index.js";
import {
  adapterExternalQueryArgs,
  adapterPodsQueryArgs,
  allExpressions,
  expandAdapterQuery,
} from "../support/prometheus-adapter.js";
import { requireTool } from "../support/tools.js";

// ---------------------------------------------------------------------------------------
// Policies

interface PoolOptions {
  readonly name?: string;
  readonly namespace?: string;
  readonly gpu?: "triton" | "dcgm";
  readonly models?: readonly { readonly name: string; readonly template: string }[];
  readonly scaler?: "tritonscale" | "hpa-gpu" | "keda-queue";
  readonly scrapeInterval?: string;
  readonly latencyP99Ms?: number;
  readonly maxQueueDelayMicroseconds?: number;
}

function pool(o: PoolOptions = {}): Policy {
  const models = o.models ?? [{ name: "yolov8s", template: "yolov8-onnx" }];
  return loadModelPool(
    stringify({
      apiVersion: "tritonscale.dev/v1alpha1",
      kind: "ModelPool",
      metadata: { name: o.name ?? "yolo", namespace: o.namespace ?? "vision" },
      spec: {
        models: models.map((m) => ({
          ...m,
          imageSize: 640,
          classes: 80,
          maxBatchSize: 16,
          batching: { maxQueueDelayMicroseconds: o.maxQueueDelayMicroseconds ?? 2000 },
        })),
        slo: { latencyP99Ms: o.latencyP99Ms ?? 85 },
        scaling: { scaler: o.scaler ?? "tritonscale", engine: "hpa", minReplicas: 1 },
        monitoring: {
          gpuUtilization: o.gpu ?? "triton",
          scrapeInterval: o.scrapeInterval ?? "15s",
        },
      },
    }),
    "pool.yaml",
  );
}

const seriesOf = (r: AdapterRule): string => r.seriesQuery.slice(0, r.seriesQuery.indexOf("{"));

const STATIC_CASES: readonly { readonly name: string; readonly policy: Policy }[] = [
  { name: "Triton GPU source, one onnx model", policy: pool() },
  {
    name: "DCGM GPU source, an ensemble and an onnx model",
    policy: pool({
      gpu: "dcgm",
      name: "edge-pool",
      namespace: "edge",
      models: [
        { name: "yolov8s", template: "yolov8-ensemble" },
        { name: "yolo11.n", template: "yolo11-onnx" },
      ],
    }),
  },
  { name: "scaler hpa-gpu", policy: pool({ scaler: "hpa-gpu" }) },
  {
    name: "scaler keda-queue, 1s scrapes",
    policy: pool({ scaler: "keda-queue", scrapeInterval: "1s" }),
  },
];

// ---------------------------------------------------------------------------------------
// Static checks

describe("prometheus: every generated expression is valid PromQL", () => {
  for (const c of STATIC_CASES) {
    it(`${c.name}: lezer-promql finds no error node`, () => {
      const exprs = allExpressions(c.policy);
      expect(exprs.length).to.be.greaterThan(18);
      for (const e of exprs) expect(checkPromQL(e.expr), `${e.where}: ${e.expr}`).to.deep.equal([]);
    });
  }

  const broken: readonly { name: string; expr: string; want: string }[] = [
    {
      name: "unclosed parenthesis",
      expr: "sum(rate(x[5m])",
      want: "1:16: syntax error at end of input",
    },
    { name: "two selectors in a row", expr: "foo bar", want: '1:5: syntax error near "bar"' },
    { name: "dangling operator", expr: "a +", want: "1:4: syntax error at end of input" },
    { name: "empty expression", expr: "", want: "1:1: syntax error at end of input" },
    { name: "error on a later line", expr: "sum(\n  rate(x[5m]) )) ", want: "2:16: syntax error" },
  ];
  for (const b of broken) {
    it(`reports a broken expression with its position: ${b.name}`, () => {
      const problems = checkPromQL(b.expr);
      expect(problems).to.not.be.empty;
      expect(problems[0]).to.satisfy(
        (p: string) => p.startsWith(b.want),
        `${problems[0]} starts with ${b.want}`,
      );
    });
  }

  for (const c of STATIC_CASES) {
    it(`${c.name}: every selector of a recording rule is filtered to the pool's namespace (and pool label)`, () => {
      const ns = `"${c.policy.metadata.namespace}"`;
      const poolMatcher = `${PROM_POOL_LABEL}="${c.policy.metadata.name}"`;
      for (const g of buildRecordingRules(c.policy)) {
        for (const r of g.rules) {
          let selectors = 0;
          parser.parse(r.expr).iterate({
            enter(node) {
              if (node.name !== "VectorSelector") return;
              selectors++;
              const sel = r.expr.slice(node.from, node.to);
              expect(sel, `${r.record}: ${sel}`).to.match(
                new RegExp(`(^|[{,])(exported_|pod_)?namespace=${ns}`),
              );
              if (!sel.startsWith("DCGM_"))
                expect(sel, `${r.record}: ${sel}`).to.include(poolMatcher);
            },
          });
          expect(selectors, r.record).to.be.greaterThan(0);
        }
      }
    });
  }
});

describe("prometheus: recording rules", () => {
  it("one group per pool, named tritonscale.<namespace>.<pool>, evaluated every scrape interval", () => {
    const groups = buildRecordingRules(pool({ name: "yolo", namespace: "vision" }));
    expect(groups.map((g) => [g.name, g.interval])).to.deep.equal([
      ["tritonscale.vision.yolo", "15s"],
    ]);
    expect(groups[0]?.rules.map((r) => r.record)).to.have.members(Object.values(RECORDED));
  });

  const windows: readonly { scrape: string; window: string }[] = [
    { scrape: "15s", window: "1m" },
    { scrape: "1s", window: "4s" },
    { scrape: "30s", window: "2m" },
    { scrape: "45s", window: "3m" },
  ];
  for (const w of windows) {
    it(`rates span four scrape intervals: scrape ${w.scrape} → [${w.window}]`, () => {
      const p = pool({ scrapeInterval: w.scrape });
      expect(rateWindow(p)).to.equal(w.window);
      const exprs = buildRecordingRules(p).flatMap((g) => g.rules.map((r) => r.expr));
      expect(exprs.some((e) => e.includes(`[${w.window}])`))).to.equal(true);
    });
  }

  it("the ensemble's detector is measured, not the ensemble or its Python steps", () => {
    const p = pool({ models: [{ name: "yolov8s", template: "yolov8-ensemble" }] });
    const rules = buildRecordingRules(p)[0]?.rules ?? [];
    const queue = rules.find((r) => r.record === RECORDED.podDetectorQueueRate)?.expr ?? "";
    expect(queue).to.include('model=~"yolov8s-detector"');
    expect(queue).to.include("or on(namespace, pod, model)");
    expect(queue).to.not.include("preprocess");
  });

  it("the rule file has the shape promtool reads, with stable key order", () => {
    const text = formatRuleFile(buildRecordingRules(pool()));
    const doc = parse(text) as {
      groups: { name: string; interval: string; rules: { record: string }[] }[];
    };
    expect(Object.keys(doc)).to.deep.equal(["groups"]);
    expect(Object.keys(doc.groups[0] ?? {})).to.deep.equal(["name", "interval", "rules"]);
    expect(text).to.equal(formatRuleFile(buildRecordingRules(pool())));
  });
});

describe("prometheus: KEDA prometheus trigger", () => {
  const cases: readonly { name: string; policy: Policy; threshold: string }[] = [
    { name: "half the 85 ms SLO", policy: pool(), threshold: "42.5" },
    {
      name: "at least the batcher's max queue delay",
      policy: pool({ latencyP99Ms: 100, maxQueueDelayMicroseconds: 60_000 }),
      threshold: "60",
    },
    { name: "half a 33 ms SLO", policy: pool({ latencyP99Ms: 33 }), threshold: "16.5" },
  ];
  for (const c of cases) {
    it(`threshold is the queue-time budget: ${c.name} → ${c.threshold}`, () => {
      const t = kedaPrometheusTrigger(c.policy);
      expect(t).to.deep.equal({
        serverAddress: "http://prometheus-operated.monitoring.svc:9090",
        query: `sum(${RECORDED.poolQueueTimeMs}{namespace="vision",${PROM_POOL_LABEL}="yolo"}) * sum(${RECORDED.poolReplicas}{namespace="vision",${PROM_POOL_LABEL}="yolo"})`,
        threshold: c.threshold,
        activationThreshold: "0",
        ignoreNullValues: "false",
      });
    });
  }
});

describe("prometheus: prometheus-adapter rules and HPA metrics", () => {
  const expansions: readonly {
    name: string;
    template: string;
    args: Parameters<typeof expandAdapterQuery>[1];
    want: string;
  }[] = [
    {
      name: "config.md's example: two pods in somens",
      template: 'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[2m])) by (<<.GroupBy>>)',
      args: adapterPodsQueryArgs("http_requests_total", "somens", ["pod1", "pod2"]),
      want: 'sum(rate(http_requests_total{namespace="somens",pod=~"pod1|pod2",container!="POD"}[2m])) by (pod)',
    },
    {
      name: "one pod is an equality matcher",
      template: "max by (<<.GroupBy>>) (<<.Series>>{<<.LabelMatchers>>})",
      args: adapterPodsQueryArgs("s", "vision", ["yolo-0"]),
      want: 'max by (pod) (s{namespace="vision",pod="yolo-0"})',
    },
    {
      name: "metric selector matchers come first, sorted by label",
      template: "<<.Series>>{<<.LabelMatchers>>}",
      args: adapterPodsQueryArgs("s", "ns", ["a", "b"], { zone: "z1", app: "x" }),
      want: 's{app="x",zone="z1",namespace="ns",pod=~"a|b"}',
    },
    {
      name: "external: selector then namespace, no GroupBy",
      template: "max(<< .Series >>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
      args: adapterExternalQueryArgs("q", "vision", { [PROM_POOL_LABEL]: "yolo" }),
      want: `max(q{${PROM_POOL_LABEL}="yolo",namespace="vision"}) by ()`,
    },
    {
      name: "values are Go-quoted",
      template: "<<.LabelMatchers>>",
      args: {
        series: "s",
        labelMatchers: [{ name: "l", op: "!~", value: 'a"b\\c\n' }],
        groupBy: [],
      },
      want: 'l!~"a\\"b\\\\c\\n"',
    },
  ];
  for (const e of expansions) {
    it(`expandAdapterQuery: ${e.name}`, () => {
      expect(expandAdapterQuery(e.template, e.args)).to.equal(e.want);
    });
  }

  it("expandAdapterQuery rejects template actions the adapter would not fill as we do", () => {
    const args = adapterPodsQueryArgs("s", "ns", ["a"]);
    expect(() => expandAdapterQuery("<<.LabelValuesByName>>", args)).to.throw(
      /"<<.LabelValuesByName>>" is not supported/,
    );
    expect(() => expandAdapterQuery("<<- .Series>>", args)).to.throw(/not supported/);
  });

  it("Pods rules map namespace and pod; the External rule is namespaced; the file round-trips", () => {
    const config = buildAdapterRules(pool({ gpu: "dcgm" }));
    for (const r of config.rules) {
      expect(r.resources.overrides).to.deep.equal({
        namespace: { resource: "namespace" },
        pod: { resource: "pod" },
      });
      expect(r.metricsQuery).to.include("<<.GroupBy>>").and.include("<<.LabelMatchers>>");
      expect(seriesOf(r)).to.match(new RegExp(r.name.matches));
    }
    for (const r of config.externalRules) {
      expect(r.resources.overrides).to.deep.equal({ namespace: { resource: "namespace" } });
      expect(seriesOf(r)).to.match(new RegExp(r.name.matches));
    }
    const doc = parse(formatAdapterConfig(config));
    expect(doc).to.deep.equal(JSON.parse(JSON.stringify(config)));
    expect(buildAdapterRules(pool({ name: "other", namespace: "else" }))).to.deep.equal(config);
  });

  const scalers: readonly { scaler: "tritonscale" | "hpa-gpu" | "keda-queue"; want: string[] }[] = [
    {
      scaler: "tritonscale",
      want: [
        `External ${ADAPTER_METRICS.desiredReplicas} AverageValue 1`,
        `Pods ${ADAPTER_METRICS.queueTimeMs} AverageValue 42.5`,
      ],
    },
    { scaler: "keda-queue", want: [`External ${ADAPTER_METRICS.pendingPerReplica} Value 4`] },
    { scaler: "hpa-gpu", want: [`Pods ${ADAPTER_METRICS.gpuUtilization} AverageValue 0.7`] },
  ];
  for (const s of scalers) {
    it(`hpaMetricSpecs for scaler ${s.scaler} name metrics the adapter serves`, () => {
      const p = pool({ scaler: s.scaler });
      const specs = hpaMetricSpecs(p, "spot");
      const served = buildAdapterRules(p);
      const shown = specs.map((m) =>
        m.type === "Pods"
          ? `Pods ${m.pods?.metric.name} ${m.pods?.target.type} ${m.pods?.target.averageValue}`
          : `External ${m.external?.metric.name} ${m.external?.target.type} ${m.external?.target.value ?? m.external?.target.averageValue}`,
      );
      expect(shown).to.deep.equal(s.want);
      for (const m of specs) {
        if (m.type === "Pods")
          expect(served.rules.map((r) => r.name.as)).to.include(m.pods?.metric.name);
        else {
          expect(served.externalRules.map((r) => r.name.as)).to.include(m.external?.metric.name);
          expect(m.external?.metric.selector).to.deep.equal({
            matchLabels:
              m.external?.metric.name === ADAPTER_METRICS.desiredReplicas
                ? { pool: "yolo", capacity_type: "spot" }
                : { [PROM_POOL_LABEL]: "yolo" },
          });
        }
      }
    });
  }
});

// ---------------------------------------------------------------------------------------
// promtool

describe("prometheus: promtool check rules", () => {
  let dir = "";
  before(function () {
    requireTool(this, "promtool", "prometheus", "promtool", ["--version"]);
    dir = mkdtempSync(join(tmpdir(), "tritonscale-promtool-"));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const c of STATIC_CASES) {
    it(`accepts the rule file: ${c.name}`, () => {
      const file = join(dir, "rules.yaml");
      writeFileSync(file, formatRuleFile(buildRecordingRules(c.policy)));
      const r = spawnSync("promtool", ["check", "rules", file], {
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(r.status, `${r.stdout}${r.stderr}`).to.equal(0);
      expect(r.stdout).to.include(`SUCCESS: ${Object.keys(RECORDED).length} rules found`);
    });
  }
});

// ---------------------------------------------------------------------------------------
// Integration: a real Prometheus scraping Triton- and dcgm-exporter-shaped stand-ins

/** One model's load on one pod; rates per second, client batch 1. */
interface ModelLoad {
  readonly model: string;
  /** entry: clients call it; detector: it batches on the GPU; both for a plain template. */
  readonly role: "entry" | "detector" | "both" | "step";
  readonly success: number;
  readonly failure?: number;
  readonly queueMs: number;
  readonly batch: number;
  readonly pending: number;
}

/** How the pod's GPU shows up in dcgm-exporter, if it does. */
type DcgmMapping = "exported" | "honor" | "old-namespace";

interface PodLoad {
  readonly pod: string;
  readonly models: readonly ModelLoad[];
  /** Triton's nv_gpu_utilization, 0..1. */
  readonly tritonGpu: number;
  /** DCGM_FI_DEV_GPU_UTIL, percent, and how the exporter is scraped. */
  readonly dcgm?: { readonly util: number; readonly mapping: DcgmMapping };
}

interface PoolCase {
  readonly name: string;
  readonly policy: Policy;
  readonly pods: readonly PodLoad[];
}

const plain = (
  model: string,
  success: number,
  queueMs: number,
  batch: number,
  pending: number,
  failure = 0,
): ModelLoad => ({
  model,
  role: "both",
  success,
  failure,
  queueMs,
  batch,
  pending,
});

/** An ensemble's four models: the ensemble itself, its Python steps, and the detector. */
function ensemble(
  model: string,
  success: number,
  queueMs: number,
  batch: number,
  pending: number,
): ModelLoad[] {
  return [
    { model, role: "entry", success, queueMs: 0.02, batch: 1, pending: 0 },
    { model: `${model}-preprocess`, role: "step", success, queueMs: 0.5, batch: 1, pending: 2 },
    { model: `${model}-detector`, role: "detector", success, queueMs, batch, pending },
    { model: `${model}-postprocess`, role: "step", success, queueMs: 0.3, batch: 1, pending: 1 },
  ];
}

const POOLS: readonly PoolCase[] = [
  {
    name: "two plain models, GPU from Triton",
    policy: pool({
      name: "yolo",
      namespace: "vision",
      scrapeInterval: "1s",
      models: [
        { name: "yolov8s", template: "yolov8-onnx" },
        { name: "yolov8n", template: "yolov8-onnx" },
      ],
    }),
    pods: [
      {
        pod: "yolo-triton-7d9f6c5b8-x2x9k",
        models: [plain("yolov8s", 400, 6, 4, 5, 10), plain("yolov8n", 200, 3, 2, 2)],
        tritonGpu: 0.8,
      },
      {
        pod: "yolo-triton-7d9f6c5b8-q8m4z",
        models: [plain("yolov8s", 200, 2, 2, 1), plain("yolov8n", 100, 1, 1, 0)],
        tritonGpu: 0.4,
      },
    ],
  },
  {
    name: "an ensemble, GPU from dcgm-exporter (three label mappings)",
    policy: pool({
      name: "yolo-edge",
      namespace: "edge",
      gpu: "dcgm",
      scrapeInterval: "1s",
      models: [{ name: "yolov8s", template: "yolov8-ensemble" }],
    }),
    pods: [
      {
        pod: "yolo-edge-triton-5c7d8-abcde",
        models: ensemble("yolov8s", 400, 4, 4, 3),
        tritonGpu: 0.05,
        dcgm: { util: 91, mapping: "exported" },
      },
      {
        pod: "yolo-edge-triton-5c7d8-fghij",
        models: ensemble("yolov8s", 640, 8, 8, 6),
        tritonGpu: 0.05,
        dcgm: { util: 37, mapping: "honor" },
      },
      {
        pod: "yolo-edge-triton-5c7d8-klmno",
        models: ensemble("yolov8s", 200, 2, 2, 1),
        tritonGpu: 0.05,
        dcgm: { util: 55, mapping: "old-namespace" },
      },
    ],
  },
];

/** What the recorded series of one pod should read. */
interface PodExpectation {
  readonly requestRate: number;
  readonly queueTimeMs: number;
  readonly batchSize: number;
  readonly pending: number;
  readonly gpu: number;
}

function expectPod(p: PodLoad, policy: Policy): PodExpectation {
  const entry = p.models.filter((m) => m.role === "entry" || m.role === "both");
  const det = p.models.filter((m) => m.role === "detector" || m.role === "both");
  const sum = (ms: readonly ModelLoad[], f: (m: ModelLoad) => number) =>
    ms.reduce((a, m) => a + f(m), 0);
  const requests = sum(det, (m) => m.success);
  return {
    requestRate: sum(entry, (m) => m.success + (m.failure ?? 0)),
    queueTimeMs: sum(det, (m) => m.success * m.queueMs) / requests,
    batchSize: requests / sum(det, (m) => m.success / m.batch),
    pending: sum(det, (m) => m.pending),
    gpu:
      policy.spec.monitoring.gpuUtilization === "dcgm"
        ? (p.dcgm?.util ?? Number.NaN) / 100
        : p.tritonGpu,
  };
}

function expectPool(c: PoolCase) {
  const pods = c.pods.map((p) => ({ load: p, want: expectPod(p, c.policy) }));
  const det = c.pods.flatMap((p) =>
    p.models.filter((m) => m.role === "detector" || m.role === "both"),
  );
  const requests = det.reduce((a, m) => a + m.success, 0);
  const pending = pods.reduce((a, p) => a + p.want.pending, 0);
  const queueTimeMs = det.reduce((a, m) => a + m.success * m.queueMs, 0) / requests;
  return {
    pods,
    requestRate: pods.reduce((a, p) => a + p.want.requestRate, 0),
    queueTimeMs,
    batchSize: requests / det.reduce((a, m) => a + m.success / m.batch, 0),
    replicas: c.pods.length,
    pending,
    pendingPerReplica: pending / c.pods.length,
    gpu: pods.reduce((a, p) => a + p.want.gpu, 0) / pods.length,
    keda: c.pods.length * queueTimeMs,
  };
}

// --- The stand-in exporters ------------------------------------------------------------

const START = Date.now();
/** Counters as if the server had been up an hour before the test began. */
const UPTIME_BEFORE_S = 3600;

function tritonText(p: PodLoad, nowMs: number): string {
  const t = UPTIME_BEFORE_S + (nowMs - START) / 1000;
  const lines: string[] = [];
  const family = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    rows: [string, number][],
  ) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of rows)
      lines.push(`${name}{${labels}} ${type === "counter" ? Math.floor(v) : v}`);
  };
  const mv = (m: ModelLoad) => `model="${m.model}",version="1"`;
  const each = (f: (m: ModelLoad) => number): [string, number][] =>
    p.models.map((m) => [mv(m), f(m)]);
  family(
    "nv_inference_request_success",
    "counter",
    "Number of successful inference requests, all batch sizes",
    each((m) => m.success * t),
  );
  family(
    "nv_inference_request_failure",
    "counter",
    "Number of failed inference requests, all batch sizes",
    p.models.flatMap((m) =>
      (["REJECTED", "CANCELED", "BACKEND", "OTHER"] as const).map((reason): [string, number] => [
        `${mv(m)},reason="${reason}"`,
        reason === "REJECTED" ? (m.failure ?? 0) * t : 0,
      ]),
    ),
  );
  family(
    "nv_inference_count",
    "counter",
    "Number of inferences performed (does not include cached requests)",
    each((m) => m.success * t),
  );
  family(
    "nv_inference_exec_count",
    "counter",
    "Number of model executions performed (does not include cached requests)",
    each((m) => (m.success / m.batch) * t),
  );
  family(
    "nv_inference_pending_request_count",
    "gauge",
    "Instantaneous number of pending requests awaiting execution per-model.",
    each((m) => m.pending),
  );
  family(
    "nv_inference_request_duration_us",
    "counter",
    "Cumulative inference request duration in microseconds (includes cached requests)",
    each((m) => m.success * (m.queueMs + 5) * 1000 * t),
  );
  family(
    "nv_inference_queue_duration_us",
    "counter",
    "Cumulative inference queuing duration in microseconds (includes cached requests)",
    each((m) => m.success * m.queueMs * 1000 * t),
  );
  family(
    "nv_inference_compute_input_duration_us",
    "counter",
    "Cumulative compute input duration in microseconds (does not include cached requests)",
    each((m) => m.success * 300 * t),
  );
  family(
    "nv_inference_compute_infer_duration_us",
    "counter",
    "Cumulative compute inference duration in microseconds (does not include cached requests)",
    each((m) => m.success * 4000 * t),
  );
  family(
    "nv_inference_compute_output_duration_us",
    "counter",
    "Cumulative inference compute output duration in microseconds (does not include cached requests)",
    each((m) => m.success * 200 * t),
  );
  const gpu = `gpu_uuid="GPU-6d5c0ac5-74d7-3130-46f1-${p.pod.slice(-5).padStart(12, "0")}"`;
  family("nv_gpu_utilization", "gauge", "GPU utilization rate [0.0 - 1.0)", [[gpu, p.tritonGpu]]);
  family("nv_gpu_memory_used_bytes", "gauge", "GPU used memory, in bytes", [[gpu, 5_120_000_000]]);
  return `${lines.join("\n")}\n`;
}

/** One GPU as dcgm-exporter reports it (label template of render_metrics.go, samples' values). */
interface DcgmGpu {
  readonly util: number;
  /** The consumer pod, as dcgm-exporter's Kubernetes mapping names it; none for an idle GPU. */
  readonly holder?: { readonly namespace: string; readonly pod: string };
}

function dcgmText(
  node: string,
  hostnameLabel: "Hostname" | "hostname",
  oldNamespace: boolean,
  gpus: readonly DcgmGpu[],
): string {
  const lines: string[] = [];
  const fields: readonly [string, "gauge" | "counter", string, (g: DcgmGpu) => number][] = [
    ["DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz).", () => 660],
    ["DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).", () => 74],
    ["DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).", () => 68.244],
    ["DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).", (g) => g.util],
    ["DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB).", () => 5120],
  ];
  for (const [name, type, help, value] of fields) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    gpus.forEach((g, i) => {
      const uuid = `GPU-6d5c0ac5-74d7-3130-46f1-e93ed57f46${node.slice(-1)}${i}`;
      const labels = [
        `gpu="${i}"`,
        `${oldNamespace ? "uuid" : "UUID"}="${uuid}"`,
        `pci_bus_id="00000000:3${7 + i}:00.0"`,
        `device="nvidia${i}"`,
        `modelName="Tesla T4"`,
        `${hostnameLabel}="${node}"`,
        `DCGM_FI_DRIVER_VERSION="590.48.01"`,
      ];
      if (g.holder) {
        labels.push(
          oldNamespace ? `pod_name="${g.holder.pod}"` : `pod="${g.holder.pod}"`,
          oldNamespace
            ? `pod_namespace="${g.holder.namespace}"`
            : `namespace="${g.holder.namespace}"`,
          oldNamespace ? `container_name="triton"` : `container="triton"`,
        );
      }
      lines.push(`${name}{${labels.join(",")}} ${value(g)}`);
    });
  }
  return `${lines.join("\n")}\n`;
}

/** The dcgm-exporters of the test cluster: one per node, each scraped its own way. */
interface Exporter {
  readonly node: string;
  readonly mapping: DcgmMapping;
  readonly text: () => string;
}

function exporters(): Exporter[] {
  const holderOf = (mapping: DcgmMapping) =>
    POOLS.flatMap((c) =>
      c.pods
        .filter((p) => p.dcgm?.mapping === mapping)
        .map((p) => ({
          util: p.dcgm?.util ?? 0,
          holder: { namespace: c.policy.metadata.namespace, pod: p.pod },
        })),
    );
  return [
    {
      node: "gpu-node-1",
      mapping: "exported",
      // An idle GPU (no pod labels, like the L4 sample) beside the pool's.
      text: () => dcgmText("gpu-node-1", "Hostname", false, [...holderOf("exported"), { util: 3 }]),
    },
    {
      node: "gpu-node-2",
      mapping: "honor",
      // A notebook in the pool's namespace and a same-named pod elsewhere: neither is the pool's.
      text: () =>
        dcgmText("gpu-node-2", "hostname", false, [
          ...holderOf("honor"),
          { util: 99, holder: { namespace: "edge", pod: "notebook-0" } },
          { util: 98, holder: { namespace: "other", pod: "yolo-edge-triton-5c7d8-abcde" } },
        ]),
    },
    {
      node: "gpu-node-3",
      mapping: "old-namespace",
      text: () => dcgmText("gpu-node-3", "Hostname", true, holderOf("old-namespace")),
    },
  ];
}

// --- Prometheus ------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

const within = (got: number, want: number, rel = 0.03) =>
  Math.abs(got - want) <= rel * Math.abs(want) + 1e-9;
const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(4));

describe("prometheus: a real Prometheus evaluates the rules, the KEDA query and the adapter queries", function () {
  this.timeout(90_000);
  let dir = "";
  let server: Server | undefined;
  let prometheus: ChildProcess | undefined;
  let stderr = "";
  let base = "";
  let controller: ControllerServers | undefined;
  /** The controller's decision per pool: on-demand replicas (these pools have no Spot). */
  const decided = (i: number) => 3 + i;

  async function query(expr: string): Promise<Sample[]> {
    const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`, {
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: {
        resultType: string;
        result: { metric: Record<string, string>; value: [number, string] }[];
      };
    };
    if (body.status !== "success" || body.data?.resultType !== "vector") {
      throw new Error(`query ${expr}: ${body.status} ${body.error ?? body.data?.resultType}`);
    }
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /**
   * Polls `probe` every 250 ms until it reports no problem, for at most `seconds`; then
   * fails with the last problem. Rates need a full window of scrapes to settle.
   */
  async function eventually(
    what: string,
    seconds: number,
    probe: () => Promise<string[]>,
  ): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    let problems: string[] = [];
    for (;;) {
      try {
        problems = await probe();
      } catch (e) {
        problems = [(e as Error).message];
      }
      if (problems.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${what}: not within ${seconds} s:\n  ${problems.join("\n  ")}\nprometheus stderr:\n${stderr.slice(-2000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Problems of `expr` against one expected sample per `key` label value (or one sample when key is undefined). */
  async function check(
    expr: string,
    want: ReadonlyMap<string, number> | number,
    key?: string,
  ): Promise<string[]> {
    const got = await query(expr);
    if (typeof want === "number") {
      if (got.length !== 1) return [`${expr}: ${got.length} samples, want 1`];
      const v = got[0]?.value ?? Number.NaN;
      return within(v, want) ? [] : [`${expr}: ${fmt(v)}, want ${fmt(want)}`];
    }
    const k = key ?? "pod";
    const byKey = new Map(got.map((s) => [s.metric[k] ?? "", s.value]));
    const problems: string[] = [];
    if (got.length !== want.size || [...want.keys()].some((x) => !byKey.has(x))) {
      problems.push(
        `${expr}: ${k} ${[...byKey.keys()].join(",")}, want ${[...want.keys()].join(",")}`,
      );
    }
    for (const [x, w] of want) {
      const v = byKey.get(x);
      if (v !== undefined && !within(v, w))
        problems.push(`${expr} ${k}=${x}: ${fmt(v)}, want ${fmt(w)}`);
    }
    return problems;
  }

  before(async function () {
    requireTool(this, "Prometheus", "prometheus", "prometheus", ["--version"]);
    dir = mkdtempSync(join(tmpdir(), "tritonscale-prometheus-"));

    const tritonPods = new Map(POOLS.flatMap((c) => c.pods.map((p) => [p.pod, p] as const)));
    const dcgm = new Map(exporters().map((e) => [e.node, e]));
    server = createServer((req, res) => {
      const [, kind, name] = (req.url ?? "").split("/");
      const pod = kind === "triton" ? tritonPods.get(name ?? "") : undefined;
      const exp = kind === "dcgm" ? dcgm.get(name ?? "") : undefined;
      const body = pod ? tritonText(pod, Date.now()) : exp?.text();
      if (body === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }).end(body);
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;

    // The controller's real /metrics, with a decision for each pool, as the leader.
    const metrics = createControllerMetrics({ processMetrics: false });
    POOLS.forEach((c, i) => {
      const none = { spot: 0, onDemand: 0 };
      const desired = { spot: 0, onDemand: decided(i) };
      metrics.publish({
        pool: { namespace: c.policy.metadata.namespace, name: c.policy.metadata.name },
        at: Date.now() / 1000,
        scaler: "tritonscale",
        snapshot: {
          now: Date.now() / 1000,
          replicas: { ready: desired, starting: none, pending: none, oldestPendingSpotSeconds: 0 },
        },
        decision: { desired, active: true, held: false, reason: "test", state: {} },
        capacityPerReplica: {},
        previous: desired,
      });
    });
    metrics.setLeader(true);
    controller = await startControllerServers({
      registry: metrics.registry,
      health: { lastTick: () => undefined, periodSeconds: 15, initialSyncDone: () => true },
      host: "127.0.0.1",
      metricsPort: 0,
      healthPort: 0,
    });

    // As the ServiceMonitor's relabeling leaves them: namespace, pod, service, the pool label.
    const tritonTargets = POOLS.flatMap((c) =>
      c.pods.map((p) => ({
        targets: [target],
        labels: {
          __metrics_path__: `/triton/${p.pod}`,
          namespace: c.policy.metadata.namespace,
          pod: p.pod,
          service: `${c.policy.metadata.name}-triton`,
          container: "triton",
          endpoint: "metrics",
          [PROM_POOL_LABEL]: c.policy.metadata.name,
        },
      })),
    );
    // The exporter's own pod as target labels: with honor_labels false, Prometheus renames
    // the scraped pod/namespace to exported_pod/exported_namespace.
    const exporterTarget = (e: Exporter) => ({
      targets: [target],
      labels: {
        __metrics_path__: `/dcgm/${e.node}`,
        namespace: "gpu-operator",
        pod: `nvidia-dcgm-exporter-${e.node.slice(-1)}x7k2`,
        service: "nvidia-dcgm-exporter",
        container: "nvidia-dcgm-exporter",
      },
    });
    const all = [...dcgm.values()];
    const config = {
      global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
      rule_files: [join(dir, "rules.yaml")],
      scrape_configs: [
        { job_name: "triton", static_configs: tritonTargets },
        {
          job_name: "dcgm-exporter",
          honor_labels: false,
          static_configs: all.filter((e) => e.mapping !== "honor").map(exporterTarget),
        },
        {
          job_name: "dcgm-exporter-honor-labels",
          honor_labels: true,
          static_configs: all.filter((e) => e.mapping === "honor").map(exporterTarget),
        },
        {
          // The controller, as README's ServiceMonitor scrapes it: honorLabels keeps the
          // pools' namespace over the controller pod's own.
          job_name: "tritonscale-controller",
          honor_labels: true,
          static_configs: [
            {
              targets: [`127.0.0.1:${controller.metricsPort}`],
              labels: { namespace: "tritonscale-system", pod: "tritonscale-6f7d9-abcde" },
            },
          ],
        },
      ],
    };
    writeFileSync(
      join(dir, "rules.yaml"),
      formatRuleFile(POOLS.flatMap((c) => buildRecordingRules(c.policy))),
    );
    writeFileSync(join(dir, "prometheus.yml"), stringify(config));

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const proc = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--storage.tsdb.retention.time=1h",
        "--log.level=warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    prometheus = proc;
    proc.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
    });
    await eventually("Prometheus ready", 30, async () => {
      if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}`);
      const res = await fetch(`${base}/-/ready`, { signal: AbortSignal.timeout(2000) });
      return res.status === 200 ? [] : [`/-/ready: ${res.status}`];
    });
  });

  after(async () => {
    const proc = prometheus;
    if (proc && proc.exitCode === null) {
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await controller?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("scrapes every stand-in target and evaluates every rule without error", async () => {
    await eventually("targets up, rules healthy", 30, async () => {
      const t = (await (await fetch(`${base}/api/v1/targets`)).json()) as {
        data: { activeTargets: { scrapeUrl: string; health: string; lastError: string }[] };
      };
      const r = (await (await fetch(`${base}/api/v1/rules`)).json()) as {
        data: {
          groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[];
        };
      };
      const targets = t.data.activeTargets;
      const rules = r.data.groups.flatMap((g) => g.rules);
      return [
        ...(targets.length === 9 ? [] : [`${targets.length} targets, want 9`]),
        ...targets
          .filter((x) => x.health !== "up")
          .map((x) => `${x.scrapeUrl}: ${x.health} ${x.lastError}`),
        ...(rules.length === POOLS.length * Object.keys(RECORDED).length
          ? []
          : [`${rules.length} rules`]),
        ...rules
          .filter((x) => x.health !== "ok")
          .map((x) => `${x.name}: ${x.health} ${x.lastError ?? ""}`),
      ];
    });
  });

  for (const c of POOLS) {
    const sel = `{namespace="${c.policy.metadata.namespace}",${PROM_POOL_LABEL}="${c.policy.metadata.name}"}`;
    const want = expectPool(c);
    const perPod = (f: (w: PodExpectation) => number) =>
      new Map(want.pods.map((p) => [p.load.pod, f(p.want)]));

    it(`${c.name}: the recorded series read the known load`, async () => {
      const checks: readonly [string, ReadonlyMap<string, number> | number][] = [
        [RECORDED.poolRequestRate, want.requestRate],
        [RECORDED.poolQueueTimeMs, want.queueTimeMs],
        [RECORDED.poolBatchSize, want.batchSize],
        [RECORDED.poolReplicas, want.replicas],
        [RECORDED.poolPending, want.pending],
        [RECORDED.poolPendingPerReplica, want.pendingPerReplica],
        [RECORDED.poolGpuUtilization, want.gpu],
        [RECORDED.podRequestRate, perPod((w) => w.requestRate)],
        [RECORDED.podQueueTimeMs, perPod((w) => w.queueTimeMs)],
        [RECORDED.podBatchSize, perPod((w) => w.batchSize)],
        [RECORDED.podPending, perPod((w) => w.pending)],
        [RECORDED.podGpuUtilization, perPod((w) => w.gpu)],
      ];
      await eventually(`${c.name}: recorded series`, 30, async () =>
        (await Promise.all(checks.map(([series, w]) => check(`${series}${sel}`, w)))).flat(),
      );
    });

    it(`${c.name}: the KEDA trigger's query returns one sample, replicas × queue time = ${fmt(want.keda)}`, async () => {
      const { query: q } = kedaPrometheusTrigger(c.policy);
      await eventually(`${c.name}: KEDA query`, 30, () => check(q, want.keda));
    });

    it(`${c.name}: each adapter Pods query, filled as the adapter fills it, returns one sample per Triton pod`, async () => {
      const ns = c.policy.metadata.namespace;
      const pods = c.pods.map((p) => p.pod);
      const wantOf: Record<string, ReadonlyMap<string, number>> = {
        [ADAPTER_METRICS.queueTimeMs]: perPod((w) => w.queueTimeMs),
        [ADAPTER_METRICS.gpuUtilization]: perPod((w) => w.gpu),
      };
      const rules = buildAdapterRules(c.policy).rules;
      expect(rules.map((r) => r.name.as)).to.have.members(Object.keys(wantOf));
      await eventually(`${c.name}: adapter Pods queries`, 30, async () => {
        const problems: string[] = [];
        for (const r of rules) {
          const w = wantOf[r.name.as] ?? new Map<string, number>();
          const expr = expandAdapterQuery(
            r.metricsQuery,
            adapterPodsQueryArgs(seriesOf(r), ns, pods),
          );
          problems.push(...(await check(expr, w)));
          // A request about a single pod uses pod="<name>".
          const one = pods[0] ?? "";
          const single = expandAdapterQuery(
            r.metricsQuery,
            adapterPodsQueryArgs(seriesOf(r), ns, [one]),
          );
          problems.push(...(await check(single, new Map([[one, w.get(one) ?? Number.NaN]]))));
        }
        return problems;
      });
    });

    it(`${c.name}: the adapter's External query for the pool's selector returns the pool's pending per replica`, async () => {
      const rule = buildAdapterRules(c.policy).externalRules.find(
        (r) => r.name.as === ADAPTER_METRICS.pendingPerReplica,
      );
      expect(rule).to.not.equal(undefined);
      if (!rule) return;
      const selector = { [PROM_POOL_LABEL]: c.policy.metadata.name };
      const expr = expandAdapterQuery(
        rule.metricsQuery,
        adapterExternalQueryArgs(seriesOf(rule), c.policy.metadata.namespace, selector),
      );
      await eventually(`${c.name}: adapter External query`, 30, () =>
        check(expr, want.pendingPerReplica),
      );
      const [s] = await query(expr);
      expect(s?.metric[PROM_POOL_LABEL]).to.equal(c.policy.metadata.name);
    });
  }

  POOLS.forEach((c, i) => {
    it(`${c.name}: the HPA's External desired query, filled as the adapter fills it, returns the controller's decision`, async () => {
      const hpa = buildHpa(c.policy, `${c.policy.metadata.name}-triton`, "onDemand");
      const spec = hpa.spec?.metrics?.find(
        (m) => m.external?.metric.name === ADAPTER_METRICS.desiredReplicas,
      );
      const rule = buildAdapterRules(c.policy).externalRules.find(
        (r) => r.name.as === ADAPTER_METRICS.desiredReplicas,
      );
      expect(spec).to.not.equal(undefined);
      expect(rule).to.not.equal(undefined);
      if (!spec || !rule) return;
      const expr = expandAdapterQuery(
        rule.metricsQuery,
        adapterExternalQueryArgs(
          seriesOf(rule),
          c.policy.metadata.namespace,
          spec.external?.metric.selector?.matchLabels ?? {},
        ),
      );
      await eventually(`${c.name}: adapter desired query`, 30, () => check(expr, decided(i)));
    });
  });

  it("without the mapping, an adapter-style query on DCGM's raw series misses the pods scraped with honorLabels false", async () => {
    // What users write (prometheus-adapter #644): it only finds the honorLabels-true pod.
    const c = POOLS[1];
    if (!c) throw new Error("no DCGM pool case");
    const pods = c.pods.map((p) => p.pod);
    const naive = `max by (pod) (DCGM_FI_DEV_GPU_UTIL{namespace="${c.policy.metadata.namespace}",pod=~"${pods.join("|")}"})`;
    await eventually("raw DCGM series scraped", 30, async () => {
      const got = await query(naive);
      const honor = c.pods.filter((p) => p.dcgm?.mapping === "honor").map((p) => p.pod);
      const found = got.map((s) => s.metric.pod ?? "");
      return found.length === honor.length && honor.every((p) => found.includes(p))
        ? []
        : [`naive query found ${found.join(",")}, expected only ${honor.join(",")}`];
    });
  });
});
