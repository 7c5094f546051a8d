import { expect } from "chai";
import {
  DEFAULT_HISTORY_SAVE_SECONDS,
  HISTORY_MAX_BYTES,
  HISTORY_REBUILD_SECONDS,
  type HistoryOutcome,
  type HistoryStore,
  type RateHistory,
} from "../../controller/loop/history.js";
import { ControlLoop } from "../../controller/loop/loop.js";
import type { PoolRef } from "../../controller/loop/ports.js";
import { poolKey } from "../../controller/loop/ports.js";
import type { Policy } from "../../controller/policy/index.js";
import type { RatePoint } from "../../controller/scaling/types.js";
import { DEFAULT_START_EPOCH } from "../../controller/simulate/engine.js";
import type { PoolCapacity } from "../../controller/simulate/pool-capacity.js";
import { pool } from "../scaling/support.js";
import {
  createTestMemoryScaler,
  TEST_HISTORY_VERSION,
  TEST_MEMORY,
} from "../support/memory-scaler.js";
import { FakeCluster, FakeMetrics, ManualClock, PHASE_ZERO, RecordingSink } from "./support.js";

/**
 * The loop's side of a scaler's learned history (loop/history.ts): restored on start and on
 * becoming the leader, rebuilt from past rates when none is stored, saved by the leader
 * every DEFAULT_HISTORY_SAVE_SECONDS and when the loop stops, and never in the way of a
 * decision. The scaler is a registered one with the test history (test/support/
 * memory-scaler.ts), so what it restored or learned shows in its decisions' terms.
 */

const T0 = DEFAULT_START_EPOCH;
const REF: PoolRef = { namespace: "vision", name: "yolo-detect" };
const CAPACITY = (): PoolCapacity => ({
  perModel: { yolov8s: 96 },
  perReplica: 96,
  profiles: { yolov8s: "test" },
});
const POLICY: Policy = pool({ minReplicas: 1, maxReplicas: 10, syncPeriod: "15s" });

/** A history store in memory, with faults. */
class MemoryStore implements HistoryStore {
  readonly source = "memory";
  readonly texts = new Map<string, string>();
  readonly saves: { pool: string; text: string }[] = [];
  loads = 0;
  failLoad = false;
  failSave = false;
  /** When set, loads wait for it (a slow or hung API server). */
  gate: Promise<void> | undefined;

  async load(p: PoolRef): Promise<string | undefined> {
    this.loads++;
    if (this.gate) await this.gate;
    if (this.failLoad) throw new Error("configmaps: 503 Service Unavailable");
    return this.texts.get(poolKey(p));
  }

  async save(p: PoolRef, text: string): Promise<void> {
    if (this.failSave) throw new Error("configmaps: 500 Internal Server Error");
    this.saves.push({ pool: poolKey(p), text });
    this.texts.set(poolKey(p), text);
  }
}

/** Past rates on demand, recording what was asked. */
class FakeRates implements RateHistory {
  readonly source = "prometheus";
  readonly asked: { from: number; to: number }[] = [];
  fail = false;
  points: RatePoint[] = [];

  async rates(_p: Policy, from: number, to: number): Promise<RatePoint[]> {
    this.asked.push({ from, to });
    if (this.fail) throw new Error("querying Prometheus at http://prom:9090: ECONNREFUSED");
    return this.points;
  }
}

/** A saved test history of `n` points, one every 10 s ending at `end`. */
function savedText(n: number, end: number): string {
  const points = Array.from({ length: n }, (_, i) => ({ at: end - (n - 1 - i) * 10, rate: i }));
  return TEST_MEMORY.save({ inner: undefined, points, restores: 0 });
}

interface Setup {
  readonly clock: ManualClock;
  readonly store: MemoryStore;
  readonly rates: FakeRates;
  readonly sink: RecordingSink;
  readonly outcomes: HistoryOutcome[];
  readonly loop: ControlLoop;
  leader: boolean;
  /** The last decision's term. */
  term(name: string): number | undefined;
  /** Outcomes as `operation source result`. */
  said(): string[];
}

function setUp(options: { store?: boolean; rates?: boolean; leader?: boolean } = {}): Setup {
  const clock = new ManualClock(T0);
  const store = new MemoryStore();
  const rates = new FakeRates();
  const sink = new RecordingSink();
  const outcomes: HistoryOutcome[] = [];
  const s: Setup = {
    clock,
    store,
    rates,
    sink,
    outcomes,
    leader: options.leader ?? true,
    loop: undefined as unknown as ControlLoop,
    term: (name) => sink.decisions.at(-1)?.decision.terms?.[name],
    said: () => outcomes.map((o) => `${o.operation} ${o.source} ${o.result}`),
  };
  const loop = new ControlLoop(
    {
      metrics: new FakeMetrics(T0 - 60),
      cluster: new FakeCluster(),
      sinks: [sink],
      clock,
      history: {
        ...(options.store === false ? {} : { store }),
        ...(options.rates === false ? {} : { rates }),
        maySave: () => s.leader,
      },
    },
    {
      capacityOf: CAPACITY,
      // Decisions on the period's boundaries (0, 15, 30, ... s), as the steps below count.
      phaseOf: PHASE_ZERO,
      createScaler: createTestMemoryScaler,
      onHistory: (o) => outcomes.push(o),
    },
  );
  (s as { loop: ControlLoop }).loop = loop;
  return s;
}

describe("loop/history: a scaler's learned history across restarts and failovers", () => {
  it("restores the saved history on start: the scaler's decisions carry it", async () => {
    const s = setUp();
    s.store.texts.set(poolKey(REF), savedText(500, T0 - 5));
    s.loop.setPool(REF, POLICY);
    await s.clock.advance(15);
    expect(s.said()).to.deep.equal(["load memory ok"]);
    expect(s.term("historyRestores")).to.equal(1);
    // 500 restored, plus the points decided on since.
    expect(s.term("historyPoints")).to.be.within(500, 502);
    expect(s.rates.asked, "no rebuild when a history was restored").to.deep.equal([]);
    await s.loop.stop();
  });

  it("nothing stored: rebuilds from the last day of past rates, up to the start", async () => {
    const s = setUp();
    s.rates.points = Array.from({ length: 8640 }, (_, i) => ({
      at: T0 - 86_400 + i * 10,
      rate: 5,
    }));
    s.loop.setPool(REF, POLICY);
    await s.clock.advance(15);
    expect(s.said()).to.deep.equal(["load memory absent", "rebuild prometheus ok"]);
    expect(s.rates.asked).to.deep.equal([{ from: T0 - HISTORY_REBUILD_SECONDS, to: T0 }]);
    expect(s.term("historyPoints")).to.be.within(8640, 8642);
    expect(s.outcomes[1]!.detail).to.equal(`8640 points from ${T0 - 86_400} to ${T0 - 10}`);
    await s.loop.stop();
  });

  it("restore refuses the text (another format): says why, then rebuilds", async () => {
    const s = setUp();
    s.store.texts.set(poolKey(REF), "tritonscale-history v0\n...");
    s.rates.points = [{ at: T0 - 30, rate: 7 }];
    s.loop.setPool(REF, POLICY);
    await s.clock.advance(15);
    expect(s.said()).to.deep.equal(["load memory rejected", "rebuild prometheus ok"]);
    expect(s.outcomes[0]!.detail).to.equal('unknown history format "tritonscale-history v0"');
    expect(s.term("historyRestores")).to.equal(0);
    expect(s.term("historyPoints")).to.be.at.least(1);
    await s.loop.stop();
  });

  const never = [
    {
      name: "Prometheus down",
      fault: (s: Setup) => (s.rates.fail = true),
      said: "rebuild prometheus error",
    },
    {
      name: "a hung history store",
      fault: (s: Setup) => (s.store.gate = new Promise<void>(() => undefined)),
      said: undefined,
    },
  ];
  for (const row of never) {
    it(`never blocks a decision: ${row.name} → the pool decides every sync period, cold`, async () => {
      const s = setUp();
      row.fault(s);
      s.loop.setPool(REF, POLICY);
      await s.clock.advance(60);
      expect(s.sink.decisions.map((d) => d.at - T0)).to.deep.equal([0, 15, 30, 45, 60]);
      expect(s.term("historyRestores")).to.equal(0);
      if (row.said !== undefined) {
        expect(s.said()).to.deep.equal(["load memory absent", row.said]);
        expect(s.outcomes[1]!.detail).to.match(/ECONNREFUSED; the pool starts with no history$/);
      } else {
        expect(s.said()).to.deep.equal([]);
      }
      // Nor is a history saved over the one that could not be read yet.
      await s.clock.advance(DEFAULT_HISTORY_SAVE_SECONDS);
      await s.loop.stop();
      if (row.said === undefined) expect(s.store.saves).to.deep.equal([]);
    });
  }

  it("the leader saves every DEFAULT_HISTORY_SAVE_SECONDS and once more when the loop stops", async () => {
    const s = setUp({ rates: false });
    s.loop.setPool(REF, POLICY);
    await s.clock.advance(DEFAULT_HISTORY_SAVE_SECONDS - 15);
    expect(s.store.saves, "none before the period").to.deep.equal([]);
    await s.clock.advance(15);
    expect(s.store.saves).to.have.length(1);
    await s.clock.advance(DEFAULT_HISTORY_SAVE_SECONDS);
    expect(s.store.saves).to.have.length(2);
    const beforeStop = s.term("historyPoints")!;
    await s.loop.stop();
    expect(s.store.saves).to.have.length(3);
    const last = s.store.saves.at(-1)!;
    expect(last.pool).to.equal("vision/yolo-detect");
    expect(last.text.startsWith(`${TEST_HISTORY_VERSION}\n`)).to.equal(true);
    // The last save holds every point the last decision had.
    expect(JSON.parse(last.text.split("\n")[1]!)).to.have.length(beforeStop);
    expect(s.said().filter((x) => x.startsWith("save"))).to.deep.equal([
      "save memory ok",
      "save memory ok",
      "save memory ok",
    ]);
  });

  it("a follower never saves; once leading it restores what the old leader saved, then saves", async () => {
    const s = setUp({ leader: false, rates: false });
    s.loop.setPool(REF, POLICY);
    await s.clock.advance(2 * DEFAULT_HISTORY_SAVE_SECONDS);
    expect(s.store.saves).to.deep.equal([]);
    expect(s.store.loads).to.equal(1);
    // The old leader saved a longer history meanwhile; this replica takes over.
    s.store.texts.set(poolKey(REF), savedText(3000, s.clock.now() - 1));
    s.leader = true;
    s.loop.restoreHistory();
    await s.clock.advance(15);
    expect(s.store.loads).to.equal(2);
    expect(s.term("historyRestores")).to.equal(1);
    // The 3000 saved, this replica's own point after the save (600 s), the decision the
    // restore woke and the one at 615 s.
    expect(s.term("historyPoints")).to.equal(3003);
    await s.clock.advance(DEFAULT_HISTORY_SAVE_SECONDS);
    // Saved at once (its last save time is long past), then a period later.
    expect(s.store.saves).to.have.length(2);
    expect(JSON.parse(s.store.saves[0]!.text.split("\n")[1]!).length).to.be.at.least(3000);
    s.leader = false;
    await s.loop.stop();
    expect(s.store.saves, "no final save once no longer leading").to.have.length(2);
  });

  it("a follower that takes over keeps what it saw after the last save (a leader that lost its Lease without stopping saved up to 5 min before)", async () => {
    const s = setUp({ leader: false, rates: false });
    s.loop.setPool(REF, POLICY);
    await s.clock.advance(2 * DEFAULT_HISTORY_SAVE_SECONDS);
    // The old leader's last save: 500 points ending 300 s ago, then it stopped saving.
    const savedEnd = s.clock.now() - DEFAULT_HISTORY_SAVE_SECONDS;
    s.store.texts.set(poolKey(REF), savedText(500, savedEnd));
    s.leader = true;
    s.loop.restoreHistory();
    await s.clock.advance(15);
    // Before: restore replaced this replica's own 300 s since the save with nothing.
    // Now: the 500 saved, this replica's 20 decisions after the save (315 … 600 s), then
    // the decision the restore woke (600 s again) and the one at 615 s.
    expect(s.sink.decisions.slice(-3).map((d) => d.at - T0)).to.deep.equal([600, 600, 615]);
    expect(s.term("historyPoints")).to.equal(522);
    expect(s.term("historyOldest")).to.equal(savedEnd - 4990);
    expect(s.term("historyNewest")).to.equal(s.clock.now());
    // Loaded and continued, then saved at once (its last save time is long past).
    expect(s.said()).to.deep.equal(["load memory absent", "load memory ok", "save memory ok"]);
    expect(s.outcomes[1]!.detail).to.match(/, continued with what this replica learned after it$/);
    await s.loop.stop();
  });

  it("a store that cannot be read is read again at the next save time, never overwritten", async () => {
    const s = setUp({ rates: false });
    s.store.texts.set(poolKey(REF), savedText(100, T0 - 5));
    s.store.failLoad = true;
    s.loop.setPool(REF, POLICY);
    await s.clock.advance(DEFAULT_HISTORY_SAVE_SECONDS + 15);
    expect(s.said()).to.deep.equal(["load memory error", "load memory error"]);
    expect(s.store.saves).to.deep.equal([]);
    s.store.failLoad = false;
    await s.clock.advance(DEFAULT_HISTORY_SAVE_SECONDS);
    expect(s.said().slice(2)).to.deep.equal(["load memory ok"]);
    expect(s.term("historyRestores")).to.equal(1);
    await s.clock.advance(DEFAULT_HISTORY_SAVE_SECONDS);
    expect(s.store.saves).to.have.length(1);
    await s.loop.stop();
  });

  it("a history larger than HISTORY_MAX_BYTES is not saved, and says so", async () => {
    const s = setUp();
    // 10,000 points of long numbers: about 350 KB of text, above 256 KiB.
    s.rates.points = Array.from({ length: 10_000 }, (_, i) => ({
      at: T0 - 10_000 + i + 0.123456789,
      rate: Math.PI * 1e6 + i,
    }));
    s.loop.setPool(REF, POLICY);
    await s.clock.advance(DEFAULT_HISTORY_SAVE_SECONDS);
    const save = s.outcomes.find((o) => o.operation === "save")!;
    expect(save.result).to.equal("rejected");
    expect(save.detail).to.match(
      new RegExp(
        `^the history is \\d+ bytes, more than the ${HISTORY_MAX_BYTES} a history may take: not saved$`,
      ),
    );
    expect(s.store.saves).to.deep.equal([]);
    await s.loop.stop();
  });

  it("a failed save is reported and retried at the next period", async () => {
    const s = setUp({ rates: false });
    s.store.failSave = true;
    s.loop.setPool(REF, POLICY);
    await s.clock.advance(DEFAULT_HISTORY_SAVE_SECONDS);
    expect(s.said()).to.deep.equal(["load memory absent", "save memory error"]);
    expect(s.outcomes[1]!.detail).to.equal("configmaps: 500 Internal Server Error");
    s.store.failSave = false;
    await s.clock.advance(DEFAULT_HISTORY_SAVE_SECONDS);
    expect(s.store.saves).to.have.length(1);
    await s.loop.stop();
  });

  it("a removed pool saves nothing more", async () => {
    const s = setUp({ rates: false });
    s.loop.setPool(REF, POLICY);
    await s.clock.advance(15);
    await s.loop.removePool(REF);
    await s.clock.advance(2 * DEFAULT_HISTORY_SAVE_SECONDS);
    await s.loop.stop();
    expect(s.store.saves).to.deep.equal([]);
  });

  it("a scaler without memory: nothing is loaded, saved or rebuilt", async () => {
    const clock = new ManualClock(T0);
    const store = new MemoryStore();
    const rates = new FakeRates();
    const loop = new ControlLoop(
      {
        metrics: new FakeMetrics(T0 - 60),
        cluster: new FakeCluster(),
        sinks: [],
        clock,
        history: { store, rates },
      },
      { capacityOf: CAPACITY, phaseOf: PHASE_ZERO },
    );
    // The HPA baseline keeps no history (tritonscale's does, so it would load and save).
    loop.setPool(
      REF,
      pool({ minReplicas: 1, maxReplicas: 10, syncPeriod: "15s", scaler: "hpa-gpu" }),
    );
    await clock.advance(2 * DEFAULT_HISTORY_SAVE_SECONDS);
    await loop.stop();
    expect([store.loads, store.saves.length, rates.asked.length]).to.deep.equal([0, 0, 0]);
  });
});
