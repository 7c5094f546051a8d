import { expect } from "chai";
import { buildScaledObject } from "../../controller/kube/render/scaling.js";
import {
  type ByCapacity,
  createFallbackScaler,
  kedaFallbackTrigger,
} from "../../controller/scaling/index.js";
import { every, pool, runScenario, type Step } from "./support.js";

const od = (n: number): ByCapacity => ({ spot: 0, onDemand: n });

/**
 * The `fallback` scaler: the rendered KEDA prometheus trigger on queue time with the external
 * trigger down. The pool's SLO is 85 ms, so the budget is 42.5 ms per replica; the scale-up
 * behavior is the HPA default (+100% or +4 per 15 s), maxReplicas 10.
 */
describe("scaling/fallback: the rendered queue-time trigger while the controller is down", () => {
  const policy = pool({ minReplicas: 0, maxReplicas: 10 });
  const scenarios: { name: string; start: number; minReplicas?: number; steps: Step[] }[] = [
    {
      name: "queue 60 ms at 3 replicas: 180 / 42.5 → ceil(4.24) = 5",
      start: 3,
      steps: [
        {
          t: 0,
          queueDelayMs: 60,
          arrival: 300,
          total: 5,
          reason: /queue time × replicas 180 \/ 42\.5 per replica → 5; 3 → 5/,
        },
      ],
    },
    {
      name: "queue 3 ms at 5 replicas: 15 / 42.5 → 1, refused: no scale-down while the external trigger fails",
      start: 5,
      steps: [
        {
          t: 0,
          queueDelayMs: 3,
          arrival: 100,
          total: 5,
          held: false,
          reason:
            /→ 1, but the external trigger fails: the HPA does not scale down while a metric fails; keep 5/,
        },
        ...every(15, 15, 1800, { queueDelayMs: 0.5, arrival: 1, total: 5 }),
      ],
    },
    {
      name: "an idle pool (no queue time, arrival rate 0) reads 0 and keeps its replicas",
      start: 2,
      steps: every(15, 0, 900, { queueDelayMs: null, arrival: 0, total: 2, held: false }),
    },
    {
      name: "ratchets: up to 10 (capped) on a surge, and stays at 10 after it",
      start: 2,
      steps: [
        // 2 × 100 = 200 → ceil(4.7) = 5, within +100%/+4 from 2 (→ 6): 5.
        { t: 0, queueDelayMs: 100, arrival: 500, total: 5 },
        // 5 × 100 = 500 → 12, limited by +100% of 5 → 10 = maxReplicas.
        { t: 15, queueDelayMs: 100, arrival: 500, total: 10 },
        ...every(15, 30, 1200, { queueDelayMs: 1, arrival: 50, total: 10 }),
      ],
    },
    {
      name: "within the HPA's 0.1 tolerance: 3 replicas at 44 ms (ratio 1.035) keep 3",
      start: 3,
      steps: [{ t: 0, queueDelayMs: 44, arrival: 300, total: 3, reason: /within 0\.1/ }],
    },
    {
      name: "at 0 replicas nothing activates: the query has no series (KEDA 7239)",
      start: 0,
      steps: every(15, 0, 600, {
        queueDelayMs: null,
        arrival: 200,
        ready: 0,
        total: 0,
        reason: /nothing activates/,
      }),
    },
    {
      name: "no metric at all: holds, never down (the safety rule)",
      start: 4,
      steps: every(15, 0, 900, { queueDelayMs: null, arrival: null, total: 4, held: true }),
    },
    {
      name: "minReplicas 2 holds the HPA's floor",
      start: 1,
      minReplicas: 2,
      steps: [{ t: 0, queueDelayMs: 0, arrival: 10, total: 2, reason: /below minReplicas 2/ }],
    },
  ];
  for (const s of scenarios) {
    it(s.name, () => {
      const p =
        s.minReplicas === undefined
          ? policy
          : pool({ minReplicas: s.minReplicas, maxReplicas: 10 });
      runScenario(createFallbackScaler(p), p, od(s.start), s.steps);
    });
  }

  it("simulates the trigger render writes: threshold, activation, polling, fallback (one source)", () => {
    const p = pool({ minReplicas: 0, maxReplicas: 10, syncPeriod: "20s" });
    const so = buildScaledObject(p, "yolo-detect", "onDemand");
    const prom = so.spec!.triggers.find((t) => t.type === "prometheus")!;
    const t = kedaFallbackTrigger(p);
    expect(t).to.deep.include({
      thresholdMs: 42.5,
      activationThreshold: 0,
      pollingIntervalSeconds: 20,
    });
    expect(prom.metadata).to.deep.include({ threshold: "42.5", activationThreshold: "0" });
    expect(so.spec!.pollingInterval).to.equal(t.pollingIntervalSeconds);
    expect(so.spec!.fallback).to.deep.include({
      failureThreshold: t.failureThreshold,
      replicas: t.fallbackReplicas,
    });
  });

  it("the budget is half the SLO: 10 ms → 5 ms", () => {
    const p = pool({}, {}, { latencyP99Ms: 10 });
    expect(kedaFallbackTrigger(p).thresholdMs).to.equal(5);
  });
});
