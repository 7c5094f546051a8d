import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { stringify } from "yaml";
import { runReport } from "../../controller/cli/report.js";
import type { TritonPod } from "../../controller/kube/pods.js";
import { PROM_CAPACITY_LABEL, PROM_POOL_LABEL } from "../../controller/kube/render/labels.js";
import { createAcceleratedClock } from "../../controller/loop/clock.js";
import type { Clock } from "../../controller/loop/ports.js";
import { loadModelPool, type Policy } from "../../controller/policy/index.js";
import type { UsageLedger } from "../../controller/report/usage.js";
import { ledgerQueries, prometheusLedger } from "../../controller/triton/prometheus-ledger.js";
import {
  type RunningController,
  SPEED,
  startController,
  tritonPod,
} from "../support/controller-harness.js";
import { type FakeKube, startFakeKube } from "../support/fake-kube/index.js";
import { runCaptured } from "../support/io.js";
import { poolDocument } from "../support/pools.js";
import {
  type RunningPrometheus,
  standinTargets,
  startPrometheus,
} from "../support/real-prometheus.js";
import { requireTool } from "../support/tools.js";
import { TritonStandin } from "../support/triton-standin.js";

/**
 * The cost report's live input (controller/triton/prometheus-ledger.ts) against a real
 * Prometheus (Debian's) scraping, every second, three Triton stand-ins (with Triton's
 * request summary on, as render sets it) and the real controller's `/metrics` (the
 * controller running the pool against the fake API server). Over a known 28 s range:
 * one on-demand and one Spot pod all along, a second Spot pod from 10 s (seeded in the
 * fake API server, its stand-in's load switched on), the first Spot pod's Triton
 * restarted at 16 s (every counter back to 0), and the pool's minReplicas raised from 1
 * to 4 at 20 s (a scale event: the controller wants 3 Spot replicas; 2 exist). The ledger's GPU-hours, requests, busy time
 * and requests within the SLO are checked against what was run, figured here from the
 * stand-ins' load model (test/support/triton-standin.ts):
 *
 * - the stand-ins run on the controller's clock, 60× the wall clock (SPEED), and
 *   Prometheus stamps samples with wall time: λ requests per clock second are 60 λ per
 *   wall second. yolov8s at λ = 0.5: 30 req/s; a batch of 1 takes 4 + 2.2 = 6.2 ms, so
 *   0.186 GPU-seconds per second. yolo11n (100 ms batches) at λ = 0.05: 3 req/s, 102.2
 *   ms each, 0.3066 GPU-s/s. A pod is busy 0.4926 of the time: no cap.
 * - The summary's quantiles are each the mean request time (the stand-in has no spread):
 *   yolov8s 6.28 ms, inside the 85 ms SLO (all within); yolo11n 102.28 ms (none within).
 */

const RANGE = 28;
const ADD_AT = 10;
const RESTART_AT = 16;
const RAISE_AT = 20;
const FAST = { name: "yolov8s", lambda: 0.5, batchMs: 4 } as const;
const SLOW = { name: "yolo11n", lambda: 0.05, batchMs: 100 } as const;
const PER_IMAGE_MS = 2.2;
/** Wall requests per second of one pod. */
const wallRate = (m: { lambda: number }) => m.lambda * SPEED;
/** Busy GPU-seconds per wall second of one pod (batches of 1). */
const wallBusy = (m: { lambda: number; batchMs: number }) =>
  (wallRate(m) * (m.batchMs + PER_IMAGE_MS)) / 1000;

const doc = poolDocument({
  capacity: { provider: "eks", spot: { enabled: true, onDemandBase: 1 } },
  scaling: { minReplicas: 1, maxReplicas: 6 },
  monitoring: { scrapeInterval: "1s" },
});
(doc.spec as { models: unknown[] }).models.push({
  name: SLOW.name,
  template: "yolo11-onnx",
  imageSize: 640,
  classes: 80,
});
const policy: Policy = loadModelPool(stringify(doc), "pool.yaml");

const PODS = [
  { pod: "yolo-triton-ondemand-a", capacityType: "on-demand" as const, fromStart: true },
  { pod: "yolo-triton-spot-b", capacityType: "spot" as const, fromStart: true },
  { pod: "yolo-triton-spot-c", capacityType: "spot" as const, fromStart: false },
];

const sleepUntil = (wallSeconds: number) =>
  new Promise((r) => setTimeout(r, Math.max(0, wallSeconds * 1000 - Date.now())));

describe("integration: the cost report's Prometheus ledger against a real Prometheus (Triton stand-ins, the controller's /metrics)", function () {
  this.timeout(180_000);
  let fake: FakeKube | undefined;
  let clock: Clock;
  let controller: RunningController | undefined;
  let prom: RunningPrometheus | undefined;
  const standins = new Map<string, TritonStandin>();
  let ledger: UsageLedger;
  let from = 0;
  let to = 0;
  let added = 0;
  let raised = 0;

  before(async function () {
    requireTool(this, "Prometheus", "prometheus", "prometheus", ["--version"]);
    fake = await startFakeKube();
    clock = createAcceleratedClock(SPEED);
    fake.seed(doc);
    for (const p of PODS) {
      const t = new TritonStandin({
        models: [
          { name: FAST.name, batchMs: FAST.batchMs, perImageMs: PER_IMAGE_MS },
          { name: SLOW.name, batchMs: SLOW.batchMs, perImageMs: PER_IMAGE_MS },
        ],
        name: p.pod,
        summaryLatencies: true,
      });
      await t.start();
      if (p.fromStart) {
        t.setArrivalRate(FAST.name, FAST.lambda);
        t.setArrivalRate(SLOW.name, SLOW.lambda);
      }
      t.setLive(true, () => clock.now());
      standins.set(p.pod, t);
      if (p.fromStart) fake.seed(tritonPod(p.pod, { capacityType: p.capacityType }));
    }
    controller = await startController({
      kubeConfig: fake.kubeConfig("vision"),
      clock,
      tritonEndpoint: (pod: TritonPod) => ({
        ...standins.get(pod.name)!.endpoint(),
        replica: pod.replica,
      }),
    });
    prom = await startPrometheus([
      ...standinTargets(PODS, (pod) => standins.get(pod)!.metricsPort, {
        namespace: "vision",
        name: "yolo",
        poolLabel: PROM_POOL_LABEL,
        capacityLabel: PROM_CAPACITY_LABEL,
      }),
      { address: new URL(controller.metricsUrl).host, path: "/metrics" },
    ]);
    // Steady first: both capacity types' replica gauges and every pod's counters scraped
    // a few times, so the range starts with history on both sides of its edge.
    await prom.eventually(
      "the controller's gauges and the stand-ins' counters scraped",
      60,
      async () => {
        const gauges = await prom!.query(
          'count_over_time(tritonscale_ready_replicas{pool="yolo"}[5s]) >= 3',
        );
        const counters = await prom!.query(
          'count by (pod) (count_over_time(nv_inference_request_success{tritonscale_dev_pool="yolo"}[5s]) >= 3)',
        );
        const problems: string[] = [];
        if (gauges.length < 2) problems.push(`replica gauges: ${JSON.stringify(gauges)}`);
        if (counters.length < 3) problems.push(`Triton counters: ${JSON.stringify(counters)}`);
        return problems;
      },
    );
    from = Math.ceil(Date.now() / 1000) + 1;
    to = from + RANGE;
    await sleepUntil(from + ADD_AT);
    const c = PODS[2]!;
    fake.seed(tritonPod(c.pod, { capacityType: c.capacityType }));
    standins.get(c.pod)!.setArrivalRate(FAST.name, FAST.lambda);
    standins.get(c.pod)!.setArrivalRate(SLOW.name, SLOW.lambda);
    added = Date.now() / 1000;
    await sleepUntil(from + RESTART_AT);
    standins.get(PODS[1]!.pod)!.restart();
    await sleepUntil(from + RAISE_AT);
    fake.seed({
      ...doc,
      spec: { ...(doc.spec as object), scaling: { minReplicas: 4, maxReplicas: 6 } },
    });
    raised = Date.now() / 1000;
    // Two more scrapes after the end, so the samples up to it are stored.
    await sleepUntil(to + 2.5);
    ledger = await prometheusLedger({
      url: prom.base,
      policy,
      from,
      to,
      stepSeconds: 1,
      attainmentStepSeconds: 4,
    });
  });

  after(async () => {
    await prom?.stop();
    if (controller !== undefined) {
      controller.stop.abort();
      await controller.exit;
    }
    for (const t of standins.values()) await t.stop();
    await fake?.close();
  });

  const sum = (
    pick: (b: UsageLedger["buckets"][number]) => number,
    where: (b: UsageLedger["buckets"][number]) => boolean,
  ) => ledger.buckets.filter(where).reduce((s, b) => s + pick(b), 0);

  it("one bucket per model and capacity type, of the range", () => {
    expect(ledger.source).to.equal("prometheus");
    expect(
      ledger.buckets.map((b) => `${b.capacityType}/${b.model} ${b.start} ${b.seconds}`).sort(),
    ).to.deep.equal(
      [
        `onDemand/${SLOW.name} ${from} ${RANGE}`,
        `onDemand/${FAST.name} ${from} ${RANGE}`,
        `spot/${SLOW.name} ${from} ${RANGE}`,
        `spot/${FAST.name} ${from} ${RANGE}`,
      ].sort(),
    );
  });

  it("GPU-hours: on-demand 1 × 28 s; Spot 1 × 28 s + 1 from the second pod's arrival (within the controller's reaction and the 1 s grid)", () => {
    // On-demand: one pod all along, exactly the range; a missed point at an edge is 1 s.
    const onDemand =
      sum(
        (b) => b.gpuHours,
        (b) => b.capacityType === "onDemand",
      ) * 3600;
    expect(onDemand).to.be.closeTo(RANGE, 1);
    // Spot: the second pod counts from the first 1 s grid point after Prometheus scraped
    // the controller's gauge that saw it: the controller's pod watch and a 15 s sync period
    // (0.25 s of wall time), a scrape (1 s) and a grid step (1 s) late at most, so up to
    // 3 s fewer than from its seeding; never more (+1 s for a point at the edge).
    const spot =
      sum(
        (b) => b.gpuHours,
        (b) => b.capacityType === "spot",
      ) * 3600;
    const exact = RANGE + (to - added);
    expect(spot).to.be.within(exact - 3, exact + 1);
  });

  it("requests per model: 60 λ per pod and wall second over the pods' seconds, a counter reset included", () => {
    // Pod-seconds with load: a and b all along, c from its seeding. Tolerance: increase()
    // is exact for a steady rate; the rate change of c shows at its next scrape, up to 1 s
    // of one pod's requests early; whole-number counters lose < 1 per series at each end.
    const podSeconds = 2 * RANGE + (to - added);
    for (const m of [FAST, SLOW]) {
      const got = sum(
        (b) => b.requests,
        (b) => b.model === m.name,
      );
      const want = wallRate(m) * podSeconds;
      expect(got, m.name).to.be.closeTo(want, wallRate(m) * 1 + 2 * 3);
    }
    // By capacity type: on-demand is pod a's alone.
    const a = sum(
      (b) => b.requests,
      (b) => b.model === FAST.name && b.capacityType === "onDemand",
    );
    expect(a).to.be.closeTo(wallRate(FAST) * RANGE, 2);
  });

  it("`report cost --prometheus URL --from-time --to-time --json`: the pool's prices on those hours (0.526 on-demand, 0.19 Spot), Spot savings 0.336 a Spot GPU-hour", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tritonscale-cost-live-"));
    try {
      const file = join(dir, "pool.yaml");
      writeFileSync(file, stringify(doc));
      const r = await runCaptured(runReport, [
        "cost",
        "--pool",
        file,
        "--prometheus",
        prom!.base,
        "--from-time",
        String(from),
        "--to-time",
        String(to),
        "--json",
      ]);
      expect(r.code, r.err).to.equal(0);
      const out = JSON.parse(r.out) as {
        rows: {
          capacity_type: string;
          gpu_hours: number;
          cost: number;
          spot_savings: number;
          requests: number;
        }[];
        total: { gpu_hours: number; requests: number };
      };
      // The same hours as the ledger above (within its tolerances), priced by hand.
      const hours = (type: string) =>
        out.rows.filter((x) => x.capacity_type === type).reduce((a, x) => a + x.gpu_hours, 0);
      expect(hours("onDemand") * 3600).to.be.closeTo(RANGE, 1);
      expect(hours("spot") * 3600).to.be.within(RANGE + (to - added) - 3, RANGE + (to - added) + 1);
      for (const row of out.rows) {
        const price = row.capacity_type === "spot" ? 0.19 : 0.526;
        // JSON rounds GPU-hours and money to 4 decimals.
        expect(row.cost, row.capacity_type).to.be.closeTo(row.gpu_hours * price, 1e-4);
        expect(row.spot_savings).to.be.closeTo(
          row.capacity_type === "spot" ? row.gpu_hours * (0.526 - 0.19) : 0,
          1e-4,
        );
      }
      const podSeconds = 2 * RANGE + (to - added);
      expect(out.total.requests).to.be.closeTo(
        (wallRate(FAST) + wallRate(SLOW)) * podSeconds,
        wallRate(FAST) + wallRate(SLOW) + 4 * 3,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("busy GPU-hours from compute time: 6.2 ms and 102.2 ms per request, batches of 1", () => {
    // Tolerance: the rate windows (4 s) tile the range; at the edges and at c's start a
    // window's rate is a 4 s average, so up to one window of one pod's busy time each.
    const podSeconds = 2 * RANGE + (to - added);
    for (const m of [FAST, SLOW]) {
      const got =
        sum(
          (b) => b.busyGpuHours,
          (b) => b.model === m.name,
        ) * 3600;
      expect(got, m.name).to.be.closeTo(wallBusy(m) * podSeconds, 3 * 4 * wallBusy(m));
    }
    for (const b of ledger.buckets) expect(b.busyGpuHours).to.be.at.most(b.gpuHours + 1e-12);
    // The split of a capacity type's hours follows busy time: on-demand yolov8s gets
    // 0.186 / 0.4926 of pod a's hours.
    const share =
      sum(
        (b) => b.gpuHours,
        (b) => b.capacityType === "onDemand" && b.model === FAST.name,
      ) /
      sum(
        (b) => b.gpuHours,
        (b) => b.capacityType === "onDemand",
      );
    expect(share).to.be.closeTo(wallBusy(FAST) / (wallBusy(FAST) + wallBusy(SLOW)), 0.05);
  });

  it("requests within the 85 ms SLO: all of yolov8s (6.28 ms), none of yolo11n (102.28 ms)", () => {
    const fast = ledger.buckets.filter((b) => b.model === FAST.name);
    const slow = ledger.buckets.filter((b) => b.model === SLOW.name);
    for (const b of fast)
      expect(b.requestsWithinSlo, b.capacityType).to.be.closeTo(b.requests, 1e-6);
    for (const b of slow) expect(b.requestsWithinSlo, b.capacityType).to.equal(0);
    expect(ledger.notes.join("\n")).to.match(/estimated from Triton's request-time summary/);
  });

  it("the scale event of the raised minimum: Spot desired up at 20 s, charged the Spot replicas it added (2 exist)", () => {
    const ups = ledger.scaleEvents.filter((e) => e.capacityType === "spot" && e.to > e.from);
    expect(ups.length, JSON.stringify(ledger.scaleEvents)).to.be.at.least(1);
    // Seen within the controller's reaction, a scrape and a grid step of the change.
    expect(ups[0]!.at).to.be.within(raised, raised + 3);
    expect(ups[ups.length - 1]!.to).to.equal(3);
    // Two Spot pods run from before the raise to the end, so an event from f to g adds
    // min(2, g) − f replicas (when positive) from the 1 s step it was seen in (its grid
    // point stands for the second before it) to the end (desired never falls back inside
    // the range): worked from the pods, not from the ledger's hours.
    for (const e of ups) {
      const want = (Math.max(0, Math.min(2, e.to) - e.from) * (to - (e.at - 1))) / 3600;
      expect(e.addedGpuHours, JSON.stringify(e)).to.be.closeTo(want, 1e-9);
      expect(e.reason).to.match(
        /^(held|scale-to-zero|schedule|scale-up|scale-down|rebalance)(, .+)?$/,
      );
    }
    for (const e of ledger.scaleEvents) expect(e.at).to.be.within(from, to);
  });

  it("compute time of an idle pod is 0, not absent (so an idle bucket does not fall back to utilization)", async () => {
    // Pod c before its load: its counters exist, flat. The ledger's query, narrowed to it.
    const expr = ledgerQueries(policy, "vision", 4).busyRate.replaceAll(
      `${PROM_POOL_LABEL}="yolo"`,
      `${PROM_POOL_LABEL}="yolo",pod="${PODS[2]!.pod}"`,
    );
    const res = await fetch(
      `${prom!.base}/api/v1/query?query=${encodeURIComponent(expr)}&time=${from + ADD_AT - 2}`,
    );
    const body = (await res.json()) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    expect(
      body.data.result.map((r) => `${r.metric.model} ${r.value[1]}`).sort(),
      expr,
    ).to.deep.equal([`${SLOW.name} 0`, `${FAST.name} 0`].sort());
  });

  it("the utilization fallback's query reads the stand-ins' nv_gpu_utilization by capacity type", async () => {
    const got = await prom!.query(ledgerQueries(policy, "vision", 4).gpuBusy);
    expect(got.map((s) => s.metric[PROM_CAPACITY_LABEL]).sort()).to.deep.equal([
      "on-demand",
      "spot",
    ]);
    for (const s of got) expect(Number(s.value)).to.be.within(0, 2);
  });

  it("an empty answer for another namespace names the query and the pools there are", async () => {
    let err: Error | undefined;
    try {
      await prometheusLedger({
        url: prom!.base,
        policy,
        namespace: "prod",
        from,
        to,
        stepSeconds: 1,
      });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(
      /no tritonscale_ready_replicas .* for pool prod\/yolo .*exported these pools then: vision\/yolo \(a pool named yolo is in another namespace: vision\/yolo; pass its namespace\)/,
    );
  });
});
