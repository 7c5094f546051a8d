import { expect } from "chai";
import { PROM_POOL_LABEL } from "../../controller/kube/render/labels.js";
import {
  buildRecordingRules,
  formatRuleFile,
  RECORDED,
} from "../../controller/kube/render/prometheus.js";
import { createPrometheusSource } from "../../controller/triton/prometheus-source.js";
import { TRITON_METRICS } from "../../controller/triton/triton-metrics.js";
import { minimalPool } from "../support/pools.js";
import { type RunningPrometheus, startPrometheus } from "../support/real-prometheus.js";
import { requireTool } from "../support/tools.js";
import { TritonStandin } from "../support/triton-standin.js";

/**
 * The Triton stand-in is Triton as far as Prometheus can tell: a real Prometheus scrapes two
 * live stand-ins (their counters move with the wall clock) and evaluates the pool's rendered
 * recording rules; every recorded series resolves for both pods and reads the load the test
 * set, and every metric name the controller reads exists.
 */

// scrapeInterval 1s: a 4 s rate window, so that rates settle within seconds.
const policy = minimalPool({ monitoring: { scrapeInterval: "1s" } });

describe("integration: the pool's recording rules on a real Prometheus scraping live Triton stand-ins", function () {
  this.timeout(90_000);
  let prom: RunningPrometheus | undefined;
  const pods = [
    {
      pod: "yolo-triton-0",
      standin: new TritonStandin({ name: "p0", models: [{ name: "yolov8s" }] }),
      rate: 60,
    },
    {
      pod: "yolo-triton-1",
      standin: new TritonStandin({ name: "p1", models: [{ name: "yolov8s" }] }),
      rate: 100,
    },
  ];

  before(async function () {
    requireTool(this, "Prometheus", "prometheus", "prometheus", ["--version"]);
    for (const p of pods) {
      await p.standin.start();
      p.standin.setArrivalRate("yolov8s", p.rate);
      p.standin.setLive(true);
    }
    prom = await startPrometheus(
      pods.map((p) => ({
        address: `127.0.0.1:${p.standin.metricsPort}`,
        path: "/metrics",
        labels: { namespace: "vision", pod: p.pod, [PROM_POOL_LABEL]: "yolo", container: "triton" },
      })),
      "triton",
      formatRuleFile(buildRecordingRules(policy)),
    );
  });

  after(async () => {
    await prom?.stop();
    for (const p of pods) await p.standin.stop();
  });

  it("every metric name the controller reads is exported", async () => {
    const p = prom!;
    await p.eventually("series of every name", 30, async () => {
      const missing: string[] = [];
      for (const name of TRITON_METRICS)
        if ((await p.query(`count by (pod) (${name})`)).length !== 2) missing.push(name);
      return missing.map((n) => `${n}: not on both pods`);
    });
  });

  it("every recorded series resolves, and the request rates read the load set", async () => {
    const p = prom!;
    await p.eventually("recorded series", 45, async () => {
      const problems: string[] = [];
      for (const name of Object.values(RECORDED)) {
        const got = await p.query(name);
        const perPod = name.startsWith("pod:");
        if (got.length !== (perPod ? 2 : 1)) problems.push(`${name}: ${got.length} series`);
      }
      for (const x of pods) {
        const got = await p.query(`${RECORDED.podRequestRate}{pod="${x.pod}"}`);
        const v = Number(got[0]?.value);
        if (!(Math.abs(v - x.rate) <= 0.1 * x.rate))
          problems.push(`${x.pod}: request rate ${v}, want ${x.rate} ±10%`);
        const batch = Number((await p.query(`${RECORDED.podBatchSize}{pod="${x.pod}"}`))[0]?.value);
        if (batch !== 1)
          problems.push(
            `${x.pod}: batch size ${batch}, want 1 (the stand-in batches 1 below 250 req/s)`,
          );
      }
      return problems;
    });
  });

  it("the Prometheus source sees both live pods ready, with moving counters", async () => {
    const source = createPrometheusSource({ address: prom!.base });
    const first = await source.collect(policy, 0);
    expect(first.replicas.map((r) => [r.replica, r.phase])).to.deep.equal([
      ["yolo-triton-0", "ready"],
      ["yolo-triton-1", "ready"],
    ]);
    await prom!.eventually("counters moved", 10, async () => {
      const again = await source.collect(policy, 0);
      const a = first.replicas[1]!.models[0]!.counters.requestSuccess ?? 0;
      const b = again.replicas[1]!.models[0]!.counters.requestSuccess ?? 0;
      return b > a ? [] : [`requestSuccess ${a} → ${b}`];
    });
  });
});
