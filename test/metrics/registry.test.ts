import { spawnSync } from "node:child_process";
import { expect } from "chai";
import { register as globalRegistry } from "prom-client";
import type { PoolDecision } from "../../controller/loop/ports.js";
import {
  classifyDecision,
  createControllerMetrics,
  createStatusBoard,
  grpcCodeName,
  METRICS,
  REASON_CLASSES,
  type ReasonClass,
  startControllerServers,
} from "../../controller/metrics/index.js";
import { requireTool } from "../support/tools.js";
import { type DecisionParts, decision, samples } from "./support.js";

const YOLO = 'namespace="vision",pool="yolo"';

describe("metrics: classifyDecision (bounded reason classes)", () => {
  const cases: readonly { name: string; parts: DecisionParts; want: ReasonClass }[] = [
    { name: "nothing changed", parts: {}, want: "steady" },
    {
      name: "held wins over a change",
      parts: { held: true, previous: { spot: 0, onDemand: 1 }, desired: { spot: 0, onDemand: 2 } },
      want: "held",
    },
    {
      name: "idle pool to zero",
      parts: { previous: { spot: 1, onDemand: 1 }, desired: { spot: 0, onDemand: 0 } },
      want: "scale-to-zero",
    },
    {
      name: "staying at zero is steady",
      parts: { previous: { spot: 0, onDemand: 0 }, desired: { spot: 0, onDemand: 0 } },
      want: "steady",
    },
    {
      name: "more replicas",
      parts: { previous: { spot: 1, onDemand: 1 }, desired: { spot: 3, onDemand: 1 } },
      want: "scale-up",
    },
    {
      name: "fewer replicas",
      parts: { previous: { spot: 3, onDemand: 1 }, desired: { spot: 1, onDemand: 1 } },
      want: "scale-down",
    },
    {
      name: "Spot fallback to on-demand at the same total",
      parts: { previous: { spot: 2, onDemand: 1 }, desired: { spot: 0, onDemand: 3 } },
      want: "rebalance",
    },
    {
      name: "a schedule raises the count",
      parts: {
        previous: { spot: 0, onDemand: 1 },
        desired: { spot: 0, onDemand: 4 },
        reason: "arrivals 0 req/s; schedule morning is active (60 s of 7200 s): at least 4; 1 → 4",
      },
      want: "schedule",
    },
    {
      name: "pre-warming for a schedule keeps the count",
      parts: {
        reason:
          "schedule morning starts in 90 s (within the 210 s new capacity takes): pre-warming to at least 3; keep 3",
      },
      want: "schedule",
    },
    {
      name: "a schedule in a scale-down reason is still a scale-down",
      parts: {
        previous: { spot: 4, onDemand: 1 },
        desired: { spot: 2, onDemand: 1 },
        reason: "schedule morning is active (60 s of 7200 s): at least 3; 5 → 3",
      },
      want: "scale-down",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = classifyDecision(decision(c.parts));
      expect(got).to.equal(c.want);
      expect(REASON_CLASSES).to.include(got);
    });
  }
});

describe("metrics: createControllerMetrics", () => {
  it("uses a registry of its own: two instances coexist and nothing lands in prom-client's global registry", async () => {
    const a = createControllerMetrics();
    const b = createControllerMetrics();
    a.publish(decision());
    expect(a.registry).not.to.equal(b.registry);
    expect(a.registry).not.to.equal(globalRegistry);
    const leaked = globalRegistry
      .getMetricsAsArray()
      .filter((metric) => metric.name.startsWith("tritonscale_"));
    expect(leaked).to.deep.equal([]);
    expect(await b.metrics()).not.to.contain('pool="yolo"');
  });

  it("exports a decision: replicas by capacity type, active, held, signals, capacity, headroom", async () => {
    const m = createControllerMetrics({ processMetrics: false, version: "9.9.9" });
    m.publish(
      decision({
        previous: { spot: 1, onDemand: 1 },
        desired: { spot: 2, onDemand: 1 },
        starting: { spot: 1, onDemand: 0 },
        snapshot: { batchSize: { value: 3.5, ageSeconds: 20 } },
      }),
    );
    const s = samples(await m.metrics());
    const want: Record<string, string> = {
      [`tritonscale_desired_replicas{capacity_type="spot",${YOLO}}`]: "2",
      [`tritonscale_desired_replicas{capacity_type="on-demand",${YOLO}}`]: "1",
      [`tritonscale_ready_replicas{capacity_type="spot",${YOLO}}`]: "2",
      [`tritonscale_starting_replicas{capacity_type="spot",${YOLO}}`]: "1",
      [`tritonscale_pending_replicas{capacity_type="on-demand",${YOLO}}`]: "0",
      [`tritonscale_active{${YOLO}}`]: "1",
      [`tritonscale_held{${YOLO}}`]: "0",
      [`tritonscale_decisions_total{${YOLO},reason_class="scale-up"}`]: "1",
      [`tritonscale_decisions_total{${YOLO},reason_class="steady"}`]: "0",
      [`tritonscale_scale_events_total{capacity_type="spot",direction="up",${YOLO}}`]: "1",
      [`tritonscale_scale_events_total{capacity_type="on-demand",direction="up",${YOLO}}`]: "0",
      [`tritonscale_last_decision_timestamp_seconds{${YOLO}}`]: "1000",
      [`tritonscale_arrival_rate_requests_per_second{${YOLO}}`]: "150",
      [`tritonscale_pending_requests{${YOLO}}`]: "3",
      [`tritonscale_queue_delay_seconds{${YOLO}}`]: "0.012",
      [`tritonscale_batch_size{${YOLO}}`]: "3.5",
      [`tritonscale_capacity_at_slo_requests_per_second{model="yolov8s",${YOLO}}`]: "60",
      // 3 Ready × 60 req/s − 150 req/s
      [`tritonscale_headroom_requests_per_second{${YOLO}}`]: "30",
      [`tritonscale_signal_age_seconds{${YOLO},signal="arrival_rate"}`]: "5",
      [`tritonscale_signal_age_seconds{${YOLO},signal="batch_size"}`]: "20",
      [`tritonscale_signal_age_seconds{${YOLO},signal="gpu_utilization"}`]: "+Inf",
      'tritonscale_build_info{version="9.9.9"}': "1",
      tritonscale_leader: "0",
    };
    for (const [k, v] of Object.entries(want)) expect(s.get(k), k).to.equal(v);
  });

  it("missing signals: their gauges are absent and their age is +Inf; a held decision says so", async () => {
    const m = createControllerMetrics({ processMetrics: false });
    m.publish(decision());
    m.publish(
      decision({
        held: true,
        snapshot: { arrivalRate: undefined, queueDelayMs: { value: Number.NaN, ageSeconds: 1 } },
      }),
    );
    const s = samples(await m.metrics());
    expect(s.has(`tritonscale_arrival_rate_requests_per_second{${YOLO}}`)).to.equal(false);
    expect(s.has(`tritonscale_headroom_requests_per_second{${YOLO}}`)).to.equal(false);
    expect(s.has(`tritonscale_queue_delay_seconds{${YOLO}}`)).to.equal(false);
    expect(s.get(`tritonscale_signal_age_seconds{${YOLO},signal="arrival_rate"}`)).to.equal("+Inf");
    expect(s.get(`tritonscale_signal_age_seconds{${YOLO},signal="queue_delay"}`)).to.equal("+Inf");
    expect(s.get(`tritonscale_held{${YOLO}}`)).to.equal("1");
    expect(s.get(`tritonscale_decisions_total{${YOLO},reason_class="held"}`)).to.equal("1");
  });

  it("a model the pool no longer has (or with no finite capacity) loses its capacity series", async () => {
    const m = createControllerMetrics({ processMetrics: false });
    m.publish(decision({ capacity: { a: 10, b: 20, constructor: 5 } }));
    // `constructor` now has no finite capacity: gone too (no prototype lookup keeps it).
    m.publish(decision({ capacity: { b: 25, constructor: Number.NaN } }));
    const s = samples(await m.metrics());
    expect([...s.keys()].filter((k) => k.startsWith(METRICS.capacityAtSlo.name))).to.deep.equal([
      `tritonscale_capacity_at_slo_requests_per_second{model="b",${YOLO}}`,
    ]);
    // the smallest capacity bounds the pool: 3 × 25 − 150
    expect(s.get(`tritonscale_headroom_requests_per_second{${YOLO}}`)).to.equal("-75");
  });

  const curveCases: {
    name: string;
    mix: NonNullable<PoolDecision["mix"]>;
    want: string;
  }[] = [
    // decision(): 3 Ready (2 Spot, 1 on-demand), arrivals 150 req/s, yolov8s 60 req/s.
    {
      name: "one model, random routing: 3 × 60 − 150",
      mix: { perReplica: 60, shares: { yolov8s: 1 }, from: "equal" },
      want: "30",
    },
    {
      name: "round-robin: 3 replicas sustain the curve's third point each, 3 × 70 − 150",
      mix: { perReplica: 60, shares: { yolov8s: 1 }, from: "equal", byReplicas: [60, 66, 70, 72] },
      want: "60",
    },
    {
      name: "a curve shorter than the Ready count: its last point, 3 × 66 − 150",
      mix: { perReplica: 60, shares: { yolov8s: 1 }, from: "equal", byReplicas: [60, 66] },
      want: "48",
    },
    {
      name: "two models: the mix's capacity, not the smallest model's, 3 × 80 − 150",
      mix: { perReplica: 80, shares: { a: 0.5, b: 0.5 }, from: "traffic" },
      want: "90",
    },
  ];
  for (const c of curveCases) {
    it(`headroom as the scaler plans: ${c.name}`, async () => {
      const m = createControllerMetrics({ processMetrics: false });
      m.publish({ ...decision(), mix: c.mix });
      const s = samples(await m.metrics());
      expect(s.get(`tritonscale_headroom_requests_per_second{${YOLO}}`)).to.equal(c.want);
    });
  }

  it("removePool drops every series of that pool and only of that pool", async () => {
    const m = createControllerMetrics({ processMetrics: false });
    m.publish(decision({ snapshot: { batchSize: { value: 2, ageSeconds: 1 } } }));
    m.publish(decision({ name: "other" }));
    m.removePool({ namespace: "vision", name: "yolo" });
    m.removePool({ namespace: "vision", name: "never-seen" });
    const keys = [...samples(await m.metrics()).keys()];
    expect(keys.filter((k) => k.includes('pool="yolo"'))).to.deep.equal([]);
    const other = keys.filter((k) => k.includes('pool="other"'));
    expect(other.length).to.be.greaterThan(20);
    // a pool that comes back starts from zero, with every class present
    m.publish(decision());
    const again = samples(await m.metrics());
    expect(again.get(`tritonscale_decisions_total{${YOLO},reason_class="steady"}`)).to.equal("1");
    expect(again.get(`tritonscale_decisions_total{${YOLO},reason_class="held"}`)).to.equal("0");
  });

  it("hooks: KEDA calls by method and code, errors by kind (bounded), leader", async () => {
    const m = createControllerMetrics({ processMetrics: false, maxErrorKinds: 2 });
    m.observeKedaRequest("GetMetrics", 0.0003);
    m.observeKedaRequest("GetMetrics", 0.002, 5);
    m.observeKedaRequest("Bogus", 0.1, "not_found");
    for (const k of ["load", "render", "scrape", "status", "load"]) m.recordReconcileError(k);
    m.recordApplyError("Deployment");
    m.setLeader(true);
    const s = samples(await m.metrics());
    const want: Record<string, string> = {
      'tritonscale_keda_requests_total{code="OK",method="GetMetrics"}': "1",
      'tritonscale_keda_requests_total{code="NOT_FOUND",method="GetMetrics"}': "1",
      'tritonscale_keda_requests_total{code="NOT_FOUND",method="other"}': "1",
      'tritonscale_keda_request_duration_seconds_bucket{le="0.0005",method="GetMetrics"}': "1",
      'tritonscale_keda_request_duration_seconds_bucket{le="0.0025",method="GetMetrics"}': "2",
      'tritonscale_keda_request_duration_seconds_count{method="GetMetrics"}': "2",
      'tritonscale_reconcile_errors_total{kind="load"}': "2",
      'tritonscale_reconcile_errors_total{kind="render"}': "1",
      'tritonscale_reconcile_errors_total{kind="other"}': "2",
      'tritonscale_apply_errors_total{kind="Deployment"}': "1",
      tritonscale_leader: "1",
    };
    for (const [k, v] of Object.entries(want)) expect(s.get(k), k).to.equal(v);
    expect(grpcCodeName(99)).to.equal("UNKNOWN");
    expect(grpcCodeName("unavailable")).to.equal("UNAVAILABLE");
  });

  it("every metric of the table is registered under its name and type, prefixed tritonscale_", async () => {
    const m = createControllerMetrics({ processMetrics: false });
    const json = await m.registry.getMetricsAsJSON();
    const got = json.map((j) => `${j.name} ${j.type}`).sort();
    const want = Object.values(METRICS)
      .map((d) => `${d.name} ${d.type}`)
      .sort();
    expect(got).to.deep.equal(want);
    for (const d of Object.values(METRICS)) expect(d.name).to.match(/^tritonscale_[a-z_]+$/);
  });
});

describe("metrics: promtool check metrics", () => {
  const check = (text: string) =>
    spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  const busy = () => {
    const m = createControllerMetrics({ processMetrics: true, version: "0.1.0" });
    m.publish(decision({ previous: { spot: 1, onDemand: 1 }, desired: { spot: 2, onDemand: 1 } }));
    m.publish(decision({ name: "held", held: true, snapshot: { arrivalRate: undefined } }));
    m.observeKedaRequest("IsActive", 0.0002);
    m.recordReconcileError("scrape");
    m.recordApplyError("ScaledObject");
    m.setLeader(true);
    return m;
  };

  it("finds no problem in the tritonscale_ metrics of a busy controller's GET /metrics", async function () {
    requireTool(this, "promtool", "prometheus", "promtool", ["--version"]);
    const servers = await startControllerServers({
      registry: busy().registry,
      health: { lastTick: () => undefined, periodSeconds: 30, initialSyncDone: () => true },
      host: "127.0.0.1",
      metricsPort: 0,
      healthPort: 0,
    });
    let text = "";
    try {
      const res = await fetch(`http://127.0.0.1:${servers.metricsPort}/metrics`);
      expect(res.status).to.equal(200);
      text = await res.text();
    } finally {
      await servers.close();
    }
    const r = check(text);
    // prom-client's own nodejs_* gauges end in _total, which promtool's lint flags; ours must not.
    const ours = `${r.stdout}${r.stderr}`
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("nodejs_"));
    expect(ours).to.deep.equal([]);
    expect(text).to.contain("process_cpu_user_seconds_total");
  });

  it("exits 0 on the registry without process metrics", async function () {
    requireTool(this, "promtool", "prometheus", "promtool", ["--version"]);
    const m = createControllerMetrics({ processMetrics: false });
    m.publish(decision());
    const r = check(await m.metrics());
    expect(r.status, `${r.stdout}${r.stderr}`).to.equal(0);
  });

  it("the check is not vacuous: it flags a counter without _total", function () {
    requireTool(this, "promtool", "prometheus", "promtool", ["--version"]);
    const r = check("# HELP x_requests a\n# TYPE x_requests counter\nx_requests 1\n");
    expect(r.status).not.to.equal(0);
    expect(`${r.stdout}${r.stderr}`).to.contain("x_requests");
  });
});

describe("metrics: createStatusBoard", () => {
  it("keeps the last decision per pool, sorted, and forgets removed pools", () => {
    const board = createStatusBoard();
    board.publish(decision({ name: "zeta" }));
    board.publish(decision({ desired: { spot: 3, onDemand: 1 }, reason: "more" }));
    board.publish(decision({ desired: { spot: 4, onDemand: 1 }, reason: "even more" }));
    const doc = board.status();
    expect(doc.pools.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal([
      "vision/yolo",
      "vision/zeta",
    ]);
    expect(doc.pools[0]).to.deep.include({
      reason: "even more",
      reasonClass: "scale-up",
      desired: { spot: 4, onDemand: 1 },
    });
    expect(JSON.parse(JSON.stringify(doc))).to.deep.equal(doc);
    board.removePool({ namespace: "vision", name: "zeta" });
    expect(board.status().pools).to.have.length(1);
  });
});
