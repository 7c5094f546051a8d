import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { IMetricSpec } from "kubernetes-models/autoscaling/v2";
import { parse, stringify } from "yaml";
import { buildPool } from "../../controller/kube/render/index.js";
import { ADAPTER_METRICS, type AdapterConfig } from "../../controller/kube/render/prometheus.js";
import { checkPromQL } from "../../controller/kube/render/promql.js";
import { createControllerMetrics, METRICS } from "../../controller/metrics/index.js";
import { loadModelPool, type Policy } from "../../controller/policy/index.js";
import { calculateReplicas } from "../../controller/scaling/hpa.js";
import type { ByCapacity } from "../../controller/scaling/types.js";
import { poolDocument } from "../support/pools.js";
import { adapterExternalQueryArgs, expandAdapterQuery } from "../support/prometheus-adapter.js";
import { requireTool } from "../support/tools.js";
import { decision, samples } from "./support.js";

/**
 * Engine hpa: the HPA of each Deployment reads the controller's `desired` gauge through the
 * prometheus-adapter External rule that render writes, so it follows the same decision the
 * KEDA external scaler answers with. Checked end to end without a cluster: the controller's
 * real exposition → Prometheus' own PromQL engine (`promtool test rules`) evaluating the
 * adapter's query as the adapter fills it for the HPA's selector → the HPA's arithmetic.
 */

/** Pool `<namespace>/yolo` on engine hpa, split into Spot and on-demand Deployments. */
function splitPool(namespace: string): Policy {
  const doc = poolDocument({
    scaling: { engine: "hpa", minReplicas: 2, maxReplicas: 20 },
    capacity: { provider: "gke", spot: { enabled: true, onDemandBase: 1 } },
  });
  doc.metadata = { name: "yolo", namespace };
  return loadModelPool(stringify(doc), "pool.yaml");
}

interface Rendered {
  readonly adapter: AdapterConfig;
  readonly hpas: { name: string; namespace: string; metrics: IMetricSpec[] }[];
}

/** The pool's adapter ConfigMap (as rendered) and its HPAs. */
function rendered(policy: Policy): Rendered {
  const objects = buildPool(policy).map((o) => JSON.parse(JSON.stringify(o.toJSON())));
  const cm = objects.find(
    (o) => o.kind === "ConfigMap" && o.metadata.name.endsWith("-adapter-rules"),
  );
  return {
    adapter: parse(cm.data["config.yaml"]) as AdapterConfig,
    hpas: objects
      .filter((o) => o.kind === "HorizontalPodAutoscaler")
      .map((o) => ({
        name: o.metadata.name,
        namespace: o.metadata.namespace,
        metrics: o.spec.metrics,
      })),
  };
}

/** The query prometheus-adapter sends for an HPA's External `desired` metric. */
function desiredQuery(r: Rendered, namespace: string, spec: IMetricSpec): string {
  const rule = r.adapter.externalRules.find((x) => x.name.as === ADAPTER_METRICS.desiredReplicas);
  if (rule === undefined) throw new Error("no External rule serves the desired replicas");
  const series = rule.seriesQuery.slice(0, rule.seriesQuery.indexOf("{"));
  const selector = spec.external?.metric.selector?.matchLabels ?? {};
  return expandAdapterQuery(
    rule.metricsQuery,
    adapterExternalQueryArgs(series, namespace, selector),
  );
}

const desiredSpec = (metrics: IMetricSpec[]): IMetricSpec => {
  const spec = metrics.find((m) => m.external?.metric.name === ADAPTER_METRICS.desiredReplicas);
  if (spec === undefined) throw new Error("the HPA does not read the desired replicas");
  return spec;
};

describe("metrics: engine hpa follows the controller's desired replicas", () => {
  const vision = rendered(splitPool("vision"));

  it("each Deployment's HPA reads desired for its pool and capacity type, AverageValue 1", () => {
    expect(vision.hpas.map((h) => h.name)).to.deep.equal([
      "yolo-triton-spot",
      "yolo-triton-ondemand",
    ]);
    const selectors = vision.hpas.map((h) => {
      const spec = desiredSpec(h.metrics);
      expect(spec.external?.target).to.deep.equal({ type: "AverageValue", averageValue: "1" });
      return spec.external?.metric.selector?.matchLabels;
    });
    expect(selectors).to.deep.equal([
      { pool: "yolo", capacity_type: "spot" },
      { pool: "yolo", capacity_type: "on-demand" },
    ]);
    // The names are the controller's, from one table.
    const rule = vision.adapter.externalRules.find(
      (x) => x.name.as === ADAPTER_METRICS.desiredReplicas,
    );
    expect(rule?.seriesQuery.startsWith(`${METRICS.desiredReplicas.name}{`)).to.equal(true);
    expect(rule?.metricsQuery).to.contain(METRICS.leader.name);
  });

  it("the filled queries are valid PromQL (lezer-promql)", () => {
    for (const h of vision.hpas) {
      const q = desiredQuery(vision, h.namespace, desiredSpec(h.metrics));
      expect(checkPromQL(q), q).to.deep.equal([]);
    }
  });

  describe("Prometheus' engine (promtool test rules) on the controller's real exposition", () => {
    let dir = "";
    afterEach(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** Input series for promtool: every desired and leader sample of `text`, from `instance`. */
    function inputSeries(text: string, instance: string): { series: string; values: string }[] {
      const out: { series: string; values: string }[] = [];
      for (const [key, value] of samples(text)) {
        if (!key.startsWith(METRICS.desiredReplicas.name) && !key.startsWith(METRICS.leader.name))
          continue;
        const withInstance = key.includes("{")
          ? key.replace("{", `{instance="${instance}",`)
          : `${key}{instance="${instance}"}`;
        out.push({ series: withInstance, values: `${value}x10` });
      }
      return out;
    }

    async function exposition(leader: boolean, decisions: { ns: string; desired: ByCapacity }[]) {
      const m = createControllerMetrics({ processMetrics: false });
      for (const d of decisions) m.publish(decision({ namespace: d.ns, desired: d.desired }));
      m.setLeader(leader);
      return m.metrics();
    }

    it("the adapter's answer for each Deployment's HPA is the leader's desired for it, per namespace", async function () {
      requireTool(this, "promtool", "prometheus", "promtool", ["--version"]);
      // The leader decided {spot 3, on-demand 1} for vision/yolo and {spot 7, on-demand 2} for
      // edge/yolo (same name, other namespace); a follower still shows an old decision.
      const leader = await exposition(true, [
        { ns: "vision", desired: { spot: 3, onDemand: 1 } },
        { ns: "edge", desired: { spot: 7, onDemand: 2 } },
      ]);
      const follower = await exposition(false, [
        { ns: "vision", desired: { spot: 9, onDemand: 9 } },
      ]);
      const edge = rendered(splitPool("edge"));
      const want: Record<string, number> = {
        "vision/yolo-triton-spot": 3,
        "vision/yolo-triton-ondemand": 1,
        "edge/yolo-triton-spot": 7,
        "edge/yolo-triton-ondemand": 2,
      };
      const tests = [vision, edge].flatMap((r) =>
        r.hpas.map((h) => {
          const spec = desiredSpec(h.metrics);
          const sel = spec.external?.metric.selector?.matchLabels ?? {};
          return {
            expr: desiredQuery(r, h.namespace, spec),
            eval_time: "5m",
            exp_samples: [
              {
                labels: `{capacity_type="${sel.capacity_type}",namespace="${h.namespace}",pool="${sel.pool}"}`,
                value: want[`${h.namespace}/${h.name}`],
              },
            ],
          };
        }),
      );
      expect(tests).to.have.length(4);
      const file = {
        rule_files: [],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: [
              ...inputSeries(leader, "10.0.0.1:8080"),
              ...inputSeries(follower, "10.0.0.2:8080"),
            ],
            promql_expr_test: tests,
          },
        ],
      };
      dir = mkdtempSync(join(tmpdir(), "tritonscale-hpa-desired-"));
      const path = join(dir, "test.yaml");
      writeFileSync(path, stringify(file));
      const r = spawnSync("promtool", ["test", "rules", path], { encoding: "utf8" });
      expect(r.status, `${r.stdout}${r.stderr}`).to.equal(0);

      // The same file with a wrong expectation fails: the check is not vacuous.
      const wrong = structuredClone(file);
      wrong.tests[0]!.promql_expr_test[0]!.exp_samples[0]!.value = 9;
      writeFileSync(path, stringify(wrong));
      const bad = spawnSync("promtool", ["test", "rules", path], { encoding: "utf8" });
      expect(bad.status).not.to.equal(0);
    });
  });

  const rows: readonly { name: string; current: number; desired: number; want: number }[] = [
    { name: "3 → 5: the HPA follows", current: 3, desired: 5, want: 5 },
    {
      name: "9 → 10: one replica is past 10% below 10 replicas",
      current: 9,
      desired: 10,
      want: 10,
    },
    { name: "5 → 4: down by one", current: 5, desired: 4, want: 4 },
    // 11 / 10 − 1 is 0.1000…0009 in floating point, as in the HPA (Go float64): past 0.1.
    { name: "10 → 11: exactly 10% still moves", current: 10, desired: 11, want: 11 },
    {
      name: "11 → 12: within the 10% tolerance, the HPA keeps 11",
      current: 11,
      desired: 12,
      want: 11,
    },
    { name: "20 → 21: within tolerance, keeps 20", current: 20, desired: 21, want: 20 },
    { name: "20 → 18: within tolerance, keeps 20", current: 20, desired: 18, want: 20 },
    { name: "20 → 23: past tolerance, follows", current: 20, desired: 23, want: 23 },
  ];
  for (const r of rows) {
    it(`HPA arithmetic on desired (AverageValue 1, tolerance 0.1): ${r.name}`, () => {
      const p = calculateReplicas(
        { label: "desired", source: "external", read: () => ({ value: r.desired, ageSeconds: 0 }) },
        1,
        0.1,
        snapshotWithPods(r.current),
        r.current,
        60,
      );
      expect(p.ok && p.replicas).to.equal(r.want);
    });
  }
});

/** A snapshot with `pods` Ready on-demand replicas (what the HPA counts as status.replicas). */
function snapshotWithPods(pods: number) {
  const zero = { spot: 0, onDemand: 0 };
  return {
    now: 0,
    replicas: {
      ready: { spot: 0, onDemand: pods },
      starting: zero,
      pending: zero,
      oldestPendingSpotSeconds: 0,
    },
  };
}
