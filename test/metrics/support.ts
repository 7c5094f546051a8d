import type { PoolDecision } from "../../controller/loop/ports.js";
import type { ByCapacity, LoadSnapshot } from "../../controller/scaling/types.js";

const zero: ByCapacity = { spot: 0, onDemand: 0 };

/** What a test decision may override. */
export interface DecisionParts {
  readonly namespace?: string;
  readonly name?: string;
  readonly at?: number;
  readonly desired?: ByCapacity;
  readonly previous?: ByCapacity;
  readonly ready?: ByCapacity;
  readonly starting?: ByCapacity;
  readonly pending?: ByCapacity;
  readonly held?: boolean;
  readonly active?: boolean;
  readonly reason?: string;
  readonly snapshot?: Partial<Omit<LoadSnapshot, "replicas">>;
  readonly capacity?: Readonly<Record<string, number>>;
}

/**
 * A decision of pool vision/yolo: 150 req/s, 3 pending, 12 ms queue delay (all 5 s old),
 * Ready {spot 2, onDemand 1}, desired as previous unless given, capacity yolov8s 60 req/s.
 */
export function decision(p: DecisionParts = {}): PoolDecision {
  const previous = p.previous ?? { spot: 2, onDemand: 1 };
  const desired = p.desired ?? previous;
  const at = p.at ?? 1000;
  return {
    pool: { namespace: p.namespace ?? "vision", name: p.name ?? "yolo" },
    at,
    scaler: "tritonscale",
    snapshot: {
      now: at,
      arrivalRate: { value: 150, ageSeconds: 5 },
      pending: { value: 3, ageSeconds: 5 },
      queueDelayMs: { value: 12, ageSeconds: 5 },
      ...p.snapshot,
      replicas: {
        ready: p.ready ?? { spot: 2, onDemand: 1 },
        starting: p.starting ?? zero,
        pending: p.pending ?? zero,
        oldestPendingSpotSeconds: 0,
      },
    },
    decision: {
      desired,
      active: p.active ?? desired.spot + desired.onDemand > 0,
      held: p.held ?? false,
      reason: p.reason ?? "keep",
      state: {},
    },
    capacityPerReplica: p.capacity ?? { yolov8s: 60 },
    previous,
  };
}

/**
 * The samples of an exposition text: `name{a="x",b="y"}` (labels sorted) → value as written.
 * Enough for the text prom-client writes (no escaped quotes in these tests' label values).
 */
export function samples(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const labels = (m[2] ?? "")
      .split(/,(?=[a-zA-Z_]+=")/)
      .filter((l) => l !== "")
      .sort();
    out.set(`${m[1]}${labels.length > 0 ? `{${labels.join(",")}}` : ""}`, m[3]!);
  }
  return out;
}
