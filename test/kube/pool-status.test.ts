import type { CoreV1Event } from "@kubernetes/client-node";
import { expect } from "chai";
import { type EventClient, EventRecorder } from "../../controller/kube/events.js";
import {
  buildModelPoolStatusOpenApiSchema,
  type ModelPoolStatus,
} from "../../controller/kube/install/crd.js";
import {
  appliedCondition,
  decisionStatus,
  ModelPoolStatusWriter,
  profileSourceOf,
  type StatusClient,
  scaleEventMessage,
  setConditions,
} from "../../controller/kube/pool-status.js";
import type { PoolDecision, PoolRef } from "../../controller/loop/ports.js";
import type { ByCapacity } from "../../controller/scaling/types.js";
import { DEFAULT_PROFILE } from "../../controller/simulate/profile.js";
import { ManualClock, settle } from "../support/manual-clock.js";
import { validateOpenApi } from "../support/openapi.js";

const pool: PoolRef = { namespace: "vision", name: "yolo" };

function decision(
  clock: ManualClock,
  previous: ByCapacity,
  desired: ByCapacity,
  options: { held?: boolean; reason?: string } = {},
): PoolDecision {
  const zero = { spot: 0, onDemand: 0 };
  return {
    pool,
    at: clock.now(),
    scaler: "tritonscale",
    snapshot: {
      now: clock.now(),
      arrivalRate: { value: 180, ageSeconds: 4 },
      pending: { value: 3, ageSeconds: 2 },
      replicas: { ready: previous, starting: zero, pending: zero, oldestPendingSpotSeconds: 0 },
    },
    decision: {
      desired,
      active: desired.spot + desired.onDemand > 0,
      held: options.held ?? false,
      reason: options.reason ?? "demand 180 req/s / (96 req/s × 0.7) → 3",
      state: {},
    },
    capacityPerReplica: { yolov8s: 96.12345, "yolov8n-face": 210 },
    previous,
  };
}

class MemoryStatus implements StatusClient {
  readonly writes: ModelPoolStatus[] = [];
  fail: number | undefined;
  async patchStatus(p: PoolRef, status: ModelPoolStatus): Promise<void> {
    if (this.fail !== undefined)
      throw Object.assign(new Error(`HTTP ${this.fail}`), { code: this.fail });
    expect(p).to.deep.equal(pool);
    this.writes.push(structuredClone(status));
  }
}

class MemoryEvents implements EventClient {
  readonly created: CoreV1Event[] = [];
  readonly patches: { name: string; count: number; lastTimestamp: string }[] = [];
  async create(namespace: string, event: CoreV1Event): Promise<void> {
    expect(namespace).to.equal(event.metadata?.namespace);
    this.created.push(event);
  }
  async patch(_ns: string, name: string, change: { count: number; lastTimestamp: string }) {
    this.patches.push({ name, ...change });
  }
}

function setup(canWrite = () => true) {
  const clock = new ManualClock(1_800_000_000);
  const client = new MemoryStatus();
  const eventClient = new MemoryEvents();
  const events = new EventRecorder({ client: eventClient, clock, instance: "tritonscale-0" });
  const writer = new ModelPoolStatusWriter({ client, clock, events, canWrite });
  return { clock, client, eventClient, events, writer };
}

describe("ModelPool status", () => {
  it("setConditions changes lastTransitionTime only when the status changes", () => {
    const rows = [
      { name: "new condition gets now", before: [], update: "True", want: "T1" },
      {
        name: "same status, new reason keeps the time",
        before: ["True"],
        update: "True",
        want: "T0",
      },
      { name: "status flips: now", before: ["True"], update: "False", want: "T1" },
    ] as const;
    for (const row of rows) {
      const before = row.before.map((status) => ({
        type: "MetricsFresh",
        status,
        lastTransitionTime: "T0",
        reason: "Old",
        message: "",
      }));
      const [c] = setConditions(
        before,
        [{ type: "MetricsFresh", status: row.update, reason: "New", message: "m" }],
        "T1",
        4,
      );
      expect(c!.lastTransitionTime, row.name).to.equal(row.want);
      expect(c!.reason, row.name).to.equal("New");
      expect(c!.observedGeneration, row.name).to.equal(4);
    }
  });

  it("writes observedGeneration, Valid, the decision, capacity, MetricsFresh and ScalerReady, all valid against the CRD's status schema", async () => {
    const { clock, client, writer } = setup();
    await writer.track(pool, { generation: 3 });
    await clock.advance(15);
    await writer.publish(decision(clock, { spot: 1, onDemand: 1 }, { spot: 2, onDemand: 1 }));
    const s = client.writes.at(-1)!;
    expect(validateOpenApi(buildModelPoolStatusOpenApiSchema(), s)).to.deep.equal([]);
    expect(s).to.deep.include({
      observedGeneration: 3,
      replicas: 2,
      readyReplicas: 2,
      desiredReplicas: 3,
      lastScaleTime: "2027-01-15T08:00:15Z",
      capacity: [
        { model: "yolov8n-face", requestsPerSecondPerReplica: 210 },
        { model: "yolov8s", requestsPerSecondPerReplica: 96.123 },
      ],
    });
    expect(s.decision).to.deep.equal({
      desired: { spot: 2, onDemand: 1 },
      active: true,
      held: false,
      reason: "demand 180 req/s / (96 req/s × 0.7) → 3",
      scaler: "tritonscale",
      decidedAt: "2027-01-15T08:00:15Z",
    });
    expect(
      s.conditions!.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime]),
    ).to.deep.equal([
      ["Valid", "True", "SpecValid", "2027-01-15T08:00:00Z"],
      ["MetricsFresh", "True", "MetricsFresh", "2027-01-15T08:00:15Z"],
      ["ScalerReady", "True", "Deciding", "2027-01-15T08:00:15Z"],
    ]);
    expect(s.conditions![1]!.message).to.equal("oldest signal 4 s old");
  });

  it("says where each model's capacity came from: the pool's profile or the documented default", async () => {
    const { clock, client, writer } = setup();
    await writer.track(pool, { generation: 1 });
    const d = decision(clock, { spot: 0, onDemand: 1 }, { spot: 0, onDemand: 1 });
    await writer.publish({
      ...d,
      profiles: { yolov8s: `${DEFAULT_PROFILE.name} ×1.044`, "yolov8n-face": "linear:a=3,b=1.5" },
    });
    const s = client.writes.at(-1)!;
    expect(validateOpenApi(buildModelPoolStatusOpenApiSchema(), s)).to.deep.equal([]);
    expect(s.capacity).to.deep.equal([
      {
        model: "yolov8n-face",
        requestsPerSecondPerReplica: 210,
        profile: "linear:a=3,b=1.5",
        profileSource: "pool",
      },
      {
        model: "yolov8s",
        requestsPerSecondPerReplica: 96.123,
        profile: "yolov8s-t4-fp16 (assumed: linear:a=4,b=2.2) ×1.044",
        profileSource: "default",
      },
    ]);
    // Without profiles (a capacity injected by a test or the demo), the figures alone.
    expect(decisionStatus(d).capacity?.[0]).to.deep.equal({
      model: "yolov8n-face",
      requestsPerSecondPerReplica: 210,
    });
  });

  it("shows each model's traffic share and one replica's capacity for the mix, valid against the CRD's status schema", async () => {
    const { clock, client, writer } = setup();
    await writer.track(pool, { generation: 1 });
    const d = decision(clock, { spot: 0, onDemand: 2 }, { spot: 0, onDemand: 2 });
    // 96.12345 and 210 req/s at 75% / 25%: 1 / (0.0078025 + 0.0011905) = 111.198 req/s
    const perReplica = 1 / (0.75 / 96.12345 + 0.25 / 210);
    await writer.publish({
      ...d,
      mix: { perReplica, shares: { yolov8s: 0.75, "yolov8n-face": 0.25 }, from: "traffic" },
    });
    const s = client.writes.at(-1)!;
    expect(validateOpenApi(buildModelPoolStatusOpenApiSchema(), s)).to.deep.equal([]);
    expect(s.capacity).to.deep.equal([
      { model: "yolov8n-face", requestsPerSecondPerReplica: 210, trafficShare: 0.25 },
      { model: "yolov8s", requestsPerSecondPerReplica: 96.123, trafficShare: 0.75 },
    ]);
    expect(s.capacityMix).to.deep.equal({
      requestsPerSecondPerReplica: 111.198,
      sharesFrom: "traffic",
    });
  });

  it("a round-robin pool shows its capacity curve over replicas, valid against the CRD's status schema", async () => {
    const { clock, client, writer } = setup();
    await writer.track(pool, { generation: 1 });
    const d = decision(clock, { spot: 0, onDemand: 2 }, { spot: 0, onDemand: 2 });
    await writer.publish({
      ...d,
      mix: {
        perReplica: 96.12345,
        shares: { yolov8s: 1 },
        from: "equal",
        byReplicas: [96.12345, 118.4, 127.0004, Number.NaN],
      },
    });
    const s = client.writes.at(-1)!;
    expect(validateOpenApi(buildModelPoolStatusOpenApiSchema(), s)).to.deep.equal([]);
    expect(s.capacityMix).to.deep.equal({
      requestsPerSecondPerReplica: 96.123,
      sharesFrom: "equal",
      // A point that is not finite cannot be written as JSON: 0, never null.
      requestsPerSecondByReplicas: [96.123, 118.4, 127, 0],
    });
  });

  const sources: readonly { name: string; profile: string; source: "pool" | "default" }[] = [
    { name: "the default", profile: DEFAULT_PROFILE.name, source: "default" },
    { name: "the default, corrected", profile: `${DEFAULT_PROFILE.name} ×0.5`, source: "default" },
    { name: "a pool's linear profile", profile: "linear:a=4,b=2.2", source: "pool" },
    {
      name: "a pool's linear profile equal to the default's",
      profile: "linear:a=4,b=2.2 ×1.044",
      source: "pool",
    },
    {
      name: "a pool's table",
      profile: "table:1=6,4=12,8=20 (perf_analyzer:perf.csv)",
      source: "pool",
    },
  ];
  for (const row of sources) {
    it(`profileSourceOf: ${row.name} → ${row.source}`, () => {
      expect(profileSourceOf(row.profile)).to.equal(row.source);
    });
  }

  it("a held decision sets MetricsFresh=False with the scaler's reason, at once", async () => {
    const { clock, client, writer } = setup();
    await writer.track(pool, { generation: 1 });
    await writer.publish(decision(clock, { spot: 2, onDemand: 0 }, { spot: 2, onDemand: 0 }));
    await clock.advance(5);
    const held = decision(
      clock,
      { spot: 2, onDemand: 0 },
      { spot: 2, onDemand: 0 },
      {
        held: true,
        reason: "arrival rate stale (62 s old > staleAfter 45 s); holding 2",
      },
    );
    await writer.publish(held);
    const fresh = client.writes.at(-1)!.conditions!.find((c) => c.type === "MetricsFresh")!;
    expect(fresh).to.deep.include({
      status: "False",
      reason: "MetricsStale",
      message: held.decision.reason,
    });
    expect(fresh.lastTransitionTime).to.equal("2027-01-15T08:00:05Z");
    expect(client.writes.at(-1)!.decision!.held).to.equal(true);
  });

  it("writes figure-only changes at most every 30 s, replica changes at once", async () => {
    const { clock, client, writer } = setup();
    await writer.track(pool, { generation: 1 });
    const same = { spot: 2, onDemand: 0 };
    await writer.publish(decision(clock, same, same, { reason: "demand 100 req/s" }));
    const n = client.writes.length;
    for (let i = 1; i <= 5; i++) {
      await clock.advance(5);
      await writer.publish(decision(clock, same, same, { reason: `demand ${100 + i} req/s` }));
    }
    expect(client.writes.length, "25 s of new reasons: no write").to.equal(n);
    await clock.advance(5);
    await writer.publish(decision(clock, same, same, { reason: "demand 106 req/s" }));
    expect(client.writes.length, "30 s: the latest figures").to.equal(n + 1);
    expect(client.writes.at(-1)!.decision!.reason).to.equal("demand 106 req/s");
    await clock.advance(1);
    await writer.publish(decision(clock, same, { spot: 3, onDemand: 0 }));
    expect(client.writes.length, "a scale decision is written at once").to.equal(n + 2);
  });

  it("only the leader writes; a new leader writes at its first decision (or resync)", async () => {
    let leader = false;
    const { clock, client, eventClient, writer } = setup(() => leader);
    await writer.track(pool, { generation: 1 });
    await writer.publish(decision(clock, { spot: 0, onDemand: 0 }, { spot: 1, onDemand: 0 }));
    expect(client.writes).to.deep.equal([]);
    expect(eventClient.created).to.deep.equal([]);
    leader = true;
    await clock.advance(1);
    await writer.publish(decision(clock, { spot: 1, onDemand: 0 }, { spot: 1, onDemand: 0 }));
    expect(client.writes.length).to.equal(1);
    expect(client.writes[0]!.desiredReplicas).to.equal(1);
  });

  it("an invalid pool gets Valid=False naming the field, and a Warning Event", async () => {
    const { client, eventClient, writer } = setup();
    const problems = [
      {
        file: "modelpool vision/yolo",
        line: 0,
        col: 0,
        path: "spec.scaling.maxReplicas",
        message: 'must be an integer (got "lots")',
      },
    ];
    await writer.invalid(pool, problems, { generation: 2, uid: "uid-1" });
    const valid = client.writes.at(-1)!.conditions!.find((c) => c.type === "Valid")!;
    expect(valid).to.deep.include({
      status: "False",
      reason: "InvalidSpec",
      observedGeneration: 2,
    });
    expect(valid.message).to.equal(
      'spec.scaling.maxReplicas: must be an integer (got "lots"); nothing was applied, the last valid spec keeps running',
    );
    expect(client.writes.at(-1)!.observedGeneration).to.equal(2);
    const ev = eventClient.created[0]!;
    expect(ev).to.deep.include({
      type: "Warning",
      reason: "InvalidSpec",
      message: valid.message,
      count: 1,
    });
    expect(ev.involvedObject).to.deep.equal({
      apiVersion: "tritonscale.dev/v1alpha1",
      kind: "ModelPool",
      namespace: "vision",
      name: "yolo",
      uid: "uid-1",
    });
  });

  it("keeps a previous leader's transition times", async () => {
    const { client, writer } = setup();
    const existing = {
      conditions: [
        {
          type: "Valid",
          status: "True",
          lastTransitionTime: "2026-01-01T00:00:00Z",
          reason: "SpecValid",
          message: "",
        },
      ],
    };
    await writer.track(pool, { generation: 1, status: existing });
    expect(client.writes[0]!.conditions![0]!.lastTransitionTime).to.equal("2026-01-01T00:00:00Z");
  });

  it("a failed write is tried again with the next decision; 404 is not an error", async () => {
    const errors: unknown[] = [];
    const clock = new ManualClock();
    const client = new MemoryStatus();
    const writer = new ModelPoolStatusWriter({ client, clock, onError: (_p, e) => errors.push(e) });
    client.fail = 500;
    await writer.track(pool, { generation: 1 });
    expect(errors.length).to.equal(1);
    client.fail = 404;
    await writer.publish(decision(clock, { spot: 0, onDemand: 0 }, { spot: 0, onDemand: 0 }));
    expect(errors.length).to.equal(1);
    client.fail = undefined;
    await writer.publish(decision(clock, { spot: 0, onDemand: 0 }, { spot: 0, onDemand: 0 }));
    expect(client.writes.length).to.equal(1);
    expect(writer.stats).to.deep.equal({ writes: 3, failures: 2 });
  });

  it("coalesces writes while one is in flight: the latest status follows", async () => {
    const clock = new ManualClock();
    const writes: ModelPoolStatus[] = [];
    let release: () => void = () => undefined;
    const client: StatusClient = {
      patchStatus: (_p, s) =>
        new Promise<void>((r) => {
          writes.push(structuredClone(s));
          release = r;
        }),
    };
    const writer = new ModelPoolStatusWriter({ client, clock });
    void writer.track(pool, { generation: 1 });
    for (let i = 1; i <= 4; i++) {
      void writer.publish(decision(clock, { spot: i - 1, onDemand: 0 }, { spot: i, onDemand: 0 }));
    }
    await settle();
    expect(writes.length).to.equal(1);
    release();
    await settle();
    expect(writes.length).to.equal(2);
    expect(writes[1]!.desiredReplicas).to.equal(4);
    release();
    await settle();
    expect(writes.length).to.equal(2);
  });

  it("a write queued behind one in flight is dropped when the replica stops leading meanwhile", async () => {
    const clock = new ManualClock();
    const writes: ModelPoolStatus[] = [];
    let release: () => void = () => undefined;
    let leader = true;
    const client: StatusClient = {
      patchStatus: (_p, s) =>
        new Promise<void>((r) => {
          writes.push(structuredClone(s));
          release = r;
        }),
    };
    const writer = new ModelPoolStatusWriter({ client, clock, canWrite: () => leader });
    void writer.track(pool, { generation: 1 });
    void writer.publish(decision(clock, { spot: 0, onDemand: 0 }, { spot: 2, onDemand: 0 }));
    await settle();
    expect(writes.length).to.equal(1);
    leader = false;
    release();
    await settle();
    expect(writes.length, "writes sent").to.equal(1);
  });
});

describe("Events", () => {
  it("a decision that changes replicas records Normal Scaled with from → to and the reason; one that does not, none", async () => {
    const { clock, eventClient, writer } = setup();
    await writer.track(pool, { generation: 1, uid: "uid-7" });
    await writer.publish(decision(clock, { spot: 1, onDemand: 1 }, { spot: 1, onDemand: 1 }));
    expect(eventClient.created).to.deep.equal([]);
    const d = decision(clock, { spot: 1, onDemand: 1 }, { spot: 3, onDemand: 1 });
    await writer.publish(d);
    expect(eventClient.created.length).to.equal(1);
    const ev = eventClient.created[0]!;
    expect(ev).to.deep.include({ type: "Normal", reason: "Scaled", count: 1 });
    expect(ev.message).to.equal(
      "desired replicas 2 → 4 (spot 1, on-demand 1 → spot 3, on-demand 1): demand 180 req/s / (96 req/s × 0.7) → 3",
    );
    expect(ev.message).to.equal(scaleEventMessage(d));
    expect(ev.source).to.deep.equal({ component: "tritonscale", host: "tritonscale-0" });
    expect(ev.involvedObject.uid, "kubectl describe finds Events by uid").to.equal("uid-7");
    expect(ev.firstTimestamp).to.equal("2027-01-15T08:00:00Z");
  });

  it("aggregates a repeat within 10 minutes into count and lastTimestamp", async () => {
    const clock = new ManualClock();
    const client = new MemoryEvents();
    const rec = new EventRecorder({ client, clock, instance: "i" });
    await rec.record(pool, {}, "Warning", "InvalidSpec", "bad");
    await clock.advance(60);
    await rec.record(pool, {}, "Warning", "InvalidSpec", "bad");
    await rec.record(pool, {}, "Warning", "InvalidSpec", "other");
    await clock.advance(601);
    await rec.record(pool, {}, "Warning", "InvalidSpec", "other");
    expect(client.created.map((e) => e.message)).to.deep.equal(["bad", "other", "other"]);
    expect(client.patches).to.deep.equal([
      { name: client.created[0]!.metadata!.name!, count: 2, lastTimestamp: "2027-01-15T08:01:00Z" },
    ]);
    expect(new Set(client.created.map((e) => e.metadata!.name)).size).to.equal(3);
  });

  it("rate-limits per pool: 25 at once, then one a minute; other pools unaffected", async () => {
    const clock = new ManualClock();
    const client = new MemoryEvents();
    const rec = new EventRecorder({ client, clock, instance: "i" });
    for (let i = 0; i < 40; i++) await rec.record(pool, {}, "Normal", "Scaled", `m${i}`);
    expect(client.created.length).to.equal(25);
    expect(rec.stats.dropped).to.equal(15);
    await rec.record({ namespace: "vision", name: "other" }, {}, "Normal", "Scaled", "x");
    expect(client.created.length).to.equal(26);
    await clock.advance(60);
    await rec.record(pool, {}, "Normal", "Scaled", "later");
    await rec.record(pool, {}, "Normal", "Scaled", "later2");
    expect(client.created.map((e) => e.message).slice(-1)).to.deep.equal(["later"]);
    expect(rec.stats.dropped).to.equal(16);
  });
});

describe("status helpers", () => {
  it("appliedCondition says how many objects, or the error", () => {
    expect(appliedCondition({ objects: 1 })).to.deep.equal({
      type: "Applied",
      status: "True",
      reason: "Applied",
      message: "1 object applied",
    });
    expect(appliedCondition({ error: "applying ScaledObject vision/yolo: 422" })).to.deep.include({
      status: "False",
      reason: "ApplyFailed",
    });
  });

  it("resync() makes a new leader write every pool's status again at once", async () => {
    const { clock, client, writer } = setup();
    await writer.track(pool, { generation: 1 });
    await writer.setCondition(pool, appliedCondition({ objects: 7 }));
    const n = client.writes.length;
    await writer.publish(decision(clock, { spot: 1, onDemand: 0 }, { spot: 1, onDemand: 0 }));
    const m = client.writes.length;
    expect(m).to.equal(n + 1);
    await writer.publish(decision(clock, { spot: 1, onDemand: 0 }, { spot: 1, onDemand: 0 }));
    expect(client.writes.length, "nothing new").to.equal(m);
    await writer.resync();
    expect(client.writes.length, "written at once").to.equal(m + 1);
    expect(client.writes.at(-1)!.conditions!.map((c) => c.type)).to.deep.equal([
      "Valid",
      "Applied",
      "MetricsFresh",
      "ScalerReady",
    ]);
  });
});
