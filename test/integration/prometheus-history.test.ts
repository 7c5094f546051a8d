import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { HistoryOutcome } from "../../controller/loop/history.js";
import { ControlLoop } from "../../controller/loop/loop.js";
import { createScaler } from "../../controller/scaling/registry.js";
import type { RatePoint, Scaler } from "../../controller/scaling/types.js";
import type { PoolCapacity } from "../../controller/simulate/pool-capacity.js";
import { createPrometheusRateHistory } from "../../controller/triton/prometheus-history.js";
import { FakeCluster, FakeMetrics, ManualClock, RecordingSink } from "../loop/support.js";
import { type MemoryState, TEST_MEMORY, withTestMemory } from "../support/memory-scaler.js";
import { minimalPool } from "../support/pools.js";
import { freePort } from "../support/real-prometheus.js";
import { requireTool } from "../support/tools.js";
import { until } from "../support/until.js";

/**
 * Rebuilding a scaler's learned history from a real Prometheus (Debian `prometheus` 2.x):
 * a day of a known request-rate series is backfilled with `promtool tsdb
 * create-blocks-from openmetrics` into a temporary TSDB, Prometheus is started on it, and
 * the control loop, finding no saved history, asks it for the last day of the pool's rate
 * and hands the points to the scaler's `learn`: they must be the rates the counters were
 * built from (two pods' successes and failures summed; another pool's and another model's
 * series left out), one per scrape interval.
 */

const STEP = 15;
const DAY = 86_400;
/** Hourly rates of the pool, req/s: hour h of the day has 16 + h in all. */
const poolRate = (hour: number) => 16 + hour;

describe("integration: the learned history rebuilt from a real Prometheus (promtool backfill)", function () {
  this.timeout(120_000);
  let dir: string;
  let proc: ChildProcess | undefined;

  after(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc!.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("learn receives the day's rates, one point per scrape interval, as the counters were built", async function () {
    requireTool(this, "Prometheus", "prometheus", "prometheus", ["--version"]);
    requireTool(this, "promtool", "prometheus", "promtool", ["--version"]);
    dir = mkdtempSync(join(tmpdir(), "tritonscale-history-prom-"));
    // A day ending at a whole hour a few hours ago (older than any head block), samples
    // every 15 s from 10 minutes before the day, so every rate window of the day is full.
    const end = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3 * 3600;
    const start = end - DAY;
    const hourOf = (t: number) => Math.min(23, Math.max(0, Math.floor((t - start) / 3600)));
    // Counters at each sample: the integral of their rates. The pool's rate is split over
    // two pods and success/failure; other series must not count.
    const series = [
      {
        name: "nv_inference_request_success",
        labels: 'model="yolov8s",pod="a",tritonscale_dev_pool="yolo",namespace="vision"',
        rate: (h: number) => poolRate(h) - 6,
      },
      {
        name: "nv_inference_request_success",
        labels: 'model="yolov8s",pod="b",tritonscale_dev_pool="yolo",namespace="vision"',
        rate: () => 5,
      },
      // Triton labels failures with their reason (so they never share a labelset with successes).
      {
        name: "nv_inference_request_failure",
        labels:
          'model="yolov8s",pod="a",reason="REJECTED",tritonscale_dev_pool="yolo",namespace="vision"',
        rate: () => 0.75,
      },
      {
        name: "nv_inference_request_failure",
        labels:
          'model="yolov8s",pod="a",reason="BACKEND",tritonscale_dev_pool="yolo",namespace="vision"',
        rate: () => 0.25,
      },
      {
        name: "nv_inference_request_success",
        labels: 'model="resnet",pod="a",tritonscale_dev_pool="yolo",namespace="vision"',
        rate: () => 1000,
      },
      {
        name: "nv_inference_request_success",
        labels: 'model="yolov8s",pod="c",tritonscale_dev_pool="other",namespace="vision"',
        rate: () => 1000,
      },
    ];
    const lines: string[] = [];
    for (const name of ["nv_inference_request_success", "nv_inference_request_failure"]) {
      lines.push(`# TYPE ${name} unknown`);
      for (const s of series.filter((x) => x.name === name)) {
        let v = 0;
        for (let t = start - 600; t <= end; t += STEP) {
          lines.push(`${name}{${s.labels}} ${v} ${t}`);
          v += s.rate(hourOf(t)) * STEP;
        }
      }
    }
    lines.push("# EOF");
    writeFileSync(join(dir, "day.om"), `${lines.join("\n")}\n`);
    const backfill = spawnSync(
      "promtool",
      ["tsdb", "create-blocks-from", "openmetrics", join(dir, "day.om"), join(dir, "data")],
      { encoding: "utf8" },
    );
    expect(backfill.status, backfill.stderr).to.equal(0);

    writeFileSync(join(dir, "prometheus.yml"), "global: { scrape_interval: 15s }\n");
    const port = await freePort();
    let stderr = "";
    proc = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--storage.tsdb.retention.time=30d",
        "--log.level=warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    proc.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-5000);
    });
    const base = `http://127.0.0.1:${port}`;
    const readyBy = Date.now() + 60_000;
    while (Date.now() < readyBy && proc.exitCode === null) {
      const ready = await fetch(`${base}/-/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(proc.exitCode, stderr).to.equal(null);

    // The loop at the end of the day, with a scaler whose learn is watched.
    const learned: RatePoint[][] = [];
    const scaler = (...args: Parameters<typeof createScaler>): Scaler => {
      const s = withTestMemory(createScaler(...args));
      return {
        ...s,
        memory: {
          ...TEST_MEMORY,
          learn: (state: MemoryState, points: readonly RatePoint[]) => {
            learned.push([...points]);
            return TEST_MEMORY.learn(state, points);
          },
        },
      } as Scaler;
    };
    const clock = new ManualClock(end);
    const outcomes: HistoryOutcome[] = [];
    const loop = new ControlLoop(
      {
        metrics: new FakeMetrics(end - 60),
        cluster: new FakeCluster(),
        sinks: [new RecordingSink()],
        clock,
        history: { rates: createPrometheusRateHistory({ address: base }) },
      },
      {
        capacityOf: (): PoolCapacity => ({
          perModel: { yolov8s: 96 },
          perReplica: 96,
          profiles: {},
        }),
        createScaler: scaler,
        onHistory: (o) => outcomes.push(o),
      },
    );
    const policy = minimalPool();
    loop.setPool({ namespace: "vision", name: "yolo" }, policy);
    await until(() => outcomes.length > 0, 30, "the rebuild");
    await clock.advance(15);
    await loop.stop();

    expect(
      outcomes.map((o) => `${o.operation} ${o.source} ${o.result}`),
      JSON.stringify(outcomes),
    ).to.deep.equal(["rebuild prometheus ok"]);
    expect(learned).to.have.length(1);
    const points = learned[0]!;
    expect(points).to.have.length(DAY / STEP + 1);
    expect(points[0]!.at).to.equal(start);
    expect(points.at(-1)!.at).to.equal(end);
    // Away from the hour boundaries (where a 1 m window mixes two hours), each point is
    // exactly the hour's rate.
    let checked = 0;
    for (const p of points) {
      const sinceHour = (p.at - start) % 3600;
      if (sinceHour <= 60) continue;
      expect(p.rate, `at ${p.at - start} s`).to.be.closeTo(poolRate(hourOf(p.at)), 1e-9);
      checked++;
    }
    expect(checked).to.be.greaterThan(5000);
  });
});
