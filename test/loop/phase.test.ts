import { expect } from "chai";
import { ControlLoop } from "../../controller/loop/loop.js";
import { nextPhaseTick, poolPhase } from "../../controller/loop/phase.js";
import type { PoolRef } from "../../controller/loop/ports.js";
import { poolKey } from "../../controller/loop/ports.js";
import { DEFAULT_START_EPOCH } from "../../controller/simulate/engine.js";
import { minimalPool } from "../support/pools.js";
import { FakeCluster, FakeMetrics, ManualClock, RecordingSink } from "./support.js";

/**
 * Pools spread over the sync period (loop/phase.ts): each on a phase from a hash of its
 * name, so that 200 pools do not reconcile (and write their status) in the same instant.
 */

describe("loop/phase: each pool's place in the period", () => {
  it("the worked example: vision/yolo at 0xCAB7B1B0 / 2^32 of 15 s = 11.878 s", () => {
    const phase = poolPhase({ namespace: "vision", name: "yolo" }, 15);
    expect(phase).to.be.closeTo((0xcab7b1b0 / 2 ** 32) * 15, 1e-12);
    expect(phase).to.be.closeTo(11.878, 1e-3);
    // 1001.878 is less than half a period after 1000: skipped.
    expect(nextPhaseTick(1000, 15, phase, 7.5)).to.be.closeTo(1016.878, 1e-3);
    expect(nextPhaseTick(1016.878, 15, phase)).to.be.closeTo(1031.878, 1e-3);
  });

  it("is the same for the same name (every replica, every restart), within [0, period)", () => {
    for (const name of ["a", "yolo", "yolo-detect", "x".repeat(63)]) {
      const p = poolPhase({ namespace: "vision", name }, 30);
      expect(p).to.equal(poolPhase({ namespace: "vision", name }, 30));
      expect(p).to.be.at.least(0).and.below(30);
    }
    expect(poolPhase({ namespace: "a", name: "b" }, 15)).to.not.equal(
      poolPhase({ namespace: "b", name: "a" }, 15),
    );
  });

  const ticks: { name: string; now: number; phase: number; gap?: number; want: number }[] = [
    { name: "the next grid point", now: 100, phase: 4, want: 109 },
    { name: "on a grid point: the next one, not the same", now: 109, phase: 4, want: 124 },
    { name: "just before one", now: 108.999, phase: 4, want: 109 },
    {
      name: "a gap of half a period skips a point too close",
      now: 105,
      phase: 4,
      gap: 7.5,
      want: 124,
    },
    { name: "a gap that leaves the next point", now: 100, phase: 4, gap: 7.5, want: 109 },
    { name: "phase 0 on a whole clock", now: 0, phase: 0, want: 15 },
    { name: "late by two periods: the next point, no catching up", now: 140, phase: 4, want: 154 },
  ];
  for (const row of ticks) {
    it(`nextPhaseTick: ${row.name}`, () => {
      expect(nextPhaseTick(row.now, 15, row.phase, row.gap ?? 0)).to.equal(row.want);
    });
  }
});

describe("loop/phase: 200 pools in the loop", () => {
  it("reconcile spread over the period, each on its own phase every period (regression: all 200 on the same tick)", async () => {
    const T0 = DEFAULT_START_EPOCH;
    const clock = new ManualClock(T0);
    const sink = new RecordingSink();
    const loop = new ControlLoop(
      { metrics: new FakeMetrics(T0 - 60), cluster: new FakeCluster(), sinks: [sink], clock },
      { capacityOf: () => ({ perModel: { yolov8s: 100 }, perReplica: 100, profiles: {} }) },
    );
    const base = minimalPool({ scaling: { minReplicas: 1, maxReplicas: 8, syncPeriod: "15s" } });
    const refs: PoolRef[] = [];
    for (let i = 0; i < 200; i++) {
      const ref = { namespace: `team-${i % 7}`, name: `pool-${i}` };
      refs.push(ref);
      loop.setPool(ref, { ...base, metadata: { ...base.metadata, ...ref } });
    }
    await clock.advance(60);
    await loop.stop();
    const byPool = new Map<string, number[]>();
    for (const d of sink.decisions) {
      const key = poolKey(d.pool);
      byPool.set(key, [...(byPool.get(key) ?? []), d.at - T0]);
    }
    expect(byPool.size).to.equal(200);
    const later: number[] = [];
    for (const ref of refs) {
      const [first, ...rest] = byPool.get(poolKey(ref))!;
      // The first at once (readiness and KEDA wait for it), then on its phase.
      expect(first).to.equal(0);
      const phase = poolPhase(ref, 15);
      expect(rest.length).to.be.within(3, 4);
      for (const t of rest) {
        const x = t - phase;
        expect(x - Math.round(x / 15) * 15).to.be.closeTo(0, 1e-6);
        later.push(t);
      }
      // Consecutive reconciles a whole period apart; the first two at least half of one.
      expect(rest[0]!).to.be.at.least(7.5);
      for (let i = 1; i < rest.length; i++) expect(rest[i]! - rest[i - 1]!).to.be.closeTo(15, 1e-6);
    }
    // Over the period, the reconciles are spread: no second of it holds more than 3× its
    // share (200 / 15 ≈ 13.3 per period), and no instant more than a few.
    const perSecond = new Array<number>(15).fill(0);
    const inPeriod = later.filter((t) => t >= 15 && t < 30);
    for (const t of inPeriod) perSecond[Math.floor(t - 15)]!++;
    expect(inPeriod.length).to.equal(200);
    expect(Math.max(...perSecond)).to.be.at.most(40);
    expect(Math.min(...perSecond)).to.be.at.least(1);
    const sameInstant = new Map<number, number>();
    for (const t of inPeriod) sameInstant.set(t, (sameInstant.get(t) ?? 0) + 1);
    expect(Math.max(...sameInstant.values())).to.be.at.most(3);
  });
});
