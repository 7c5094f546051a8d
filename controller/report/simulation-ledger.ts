/**
 * The simulation as a cost report's source: what `simulate --json` adds for a report (the
 * pool's prices, and per row its use per day and its scale events), how a saved one is
 * read back, and the adapter to a {@link UsageLedger}.
 *
 * A simulation runs one model of the pool, or all of them together (`model` then names them
 * joined by `+`), and its ledger has that label. Requests
 * are split over capacity types by each type's share of the bucket's busy GPU-hours (the
 * load balancer spreads requests over ready replicas, so served work follows compute
 * time); with no busy time, by GPU-hours; with neither, they go to on-demand.
 */
import { parseDocument } from "yaml";
import { InputError, type Problem } from "../diagnostics/problem.js";
import type { Policy } from "../policy/index.js";
import type { ByCapacity, CapacityType } from "../scaling/types.js";
import type { DesiredChange, RunUsage } from "../simulate/engine.js";
import type { LedgerCapacityType, ScaleEventUse, UsageBucket, UsageLedger } from "./usage.js";

/** Seconds of one bucket of a simulation's use: a day. */
export const SIMULATION_BUCKET_SECONDS = 86_400;

/** The `pool` object of `simulate --json`: who was simulated and at what prices. */
export interface SimulationPoolJson {
  readonly name: string;
  readonly namespace: string;
  /** The simulated model, or the pool's models joined by `+` when simulated together. */
  readonly model: string;
  readonly gpu_type: string;
  readonly gpus_per_replica: number;
  readonly currency: string;
  readonly on_demand_per_gpu_hour: number;
  readonly spot_per_gpu_hour: number;
  /** Unix seconds of the trace's start (simulated time 0). */
  readonly start_epoch: number;
}

/** One day (bucket) of a row's `usage.days`. */
export interface SimulationDayJson {
  /** Unix seconds. */
  readonly start: number;
  readonly seconds: number;
  readonly spot_gpu_hours: number;
  readonly on_demand_gpu_hours: number;
  readonly spot_busy_gpu_hours: number;
  readonly on_demand_busy_gpu_hours: number;
  readonly requests: number;
  readonly requests_within_slo: number;
}

/** One scale event of a row's `usage.scale_events` (one capacity type's change). */
export interface SimulationScaleEventJson {
  /** Unix seconds. */
  readonly at: number;
  readonly capacity_type: LedgerCapacityType;
  readonly from: number;
  readonly to: number;
  /** GPU-hours of the replicas the event added, until the count fell back (0 for a scale-down). */
  readonly added_gpu_hours: number;
  readonly reason: string;
}

/** A row's `usage` in `simulate --json`. */
export interface SimulationUsageJson {
  readonly bucket_seconds: number;
  /** Unix seconds measuring began and ended (after any warmup). */
  readonly from: number;
  readonly to: number;
  readonly days: readonly SimulationDayJson[];
  readonly scale_events: readonly SimulationScaleEventJson[];
}

/** What a cost report reads of a saved `simulate --json`. */
export interface SavedSimulation {
  readonly file: string;
  readonly pool: SimulationPoolJson;
  readonly rows: readonly { readonly name: string; readonly usage: SimulationUsageJson }[];
  /** The SLO attainment target the simulation checked its rows against, when it says. */
  readonly sloTarget?: number;
}

/** The `pool` object of `simulate --json` for a run of `model` of `policy`. */
export function simulationPoolJson(
  policy: Policy,
  model: string,
  startEpoch: number,
): SimulationPoolJson {
  const cost = policy.spec.cost;
  return {
    name: policy.metadata.name,
    namespace: policy.metadata.namespace ?? "",
    model,
    gpu_type: policy.spec.capacity.gpu.type,
    gpus_per_replica: policy.spec.capacity.gpu.count,
    currency: cost.currency,
    on_demand_per_gpu_hour: cost.onDemandPerGpuHour,
    spot_per_gpu_hour: cost.spotPerGpuHour,
    start_epoch: startEpoch,
  };
}

/** A row's `usage` for `simulate --json`, from what its run recorded. */
export function simulationUsageJson(
  usage: RunUsage,
  gpusPerReplica: number,
  startEpoch: number,
): SimulationUsageJson {
  const h = (s: number) => round(s / 3600, 6);
  return {
    bucket_seconds: usage.bucketSeconds,
    from: startEpoch + usage.from,
    to: startEpoch + usage.to,
    days: usage.buckets.map((b) => ({
      start: startEpoch + b.start,
      seconds: b.seconds,
      spot_gpu_hours: h(b.gpuSeconds.spot),
      on_demand_gpu_hours: h(b.gpuSeconds.onDemand),
      spot_busy_gpu_hours: h(Math.max(0, b.busyGpuSeconds.spot)),
      on_demand_busy_gpu_hours: h(Math.max(0, b.busyGpuSeconds.onDemand)),
      requests: b.requests,
      requests_within_slo: b.withinSlo,
    })),
    scale_events: addedReplicaSeconds(usage.changes, usage.initial, usage.to).map((e) => ({
      at: startEpoch + e.t,
      capacity_type: e.type,
      from: e.from,
      to: e.to,
      added_gpu_hours: round((e.replicaSeconds * gpusPerReplica) / 3600, 6),
      reason: e.reason,
    })),
  };
}

/** One capacity type's change of the desired count and the replica-seconds it added. */
export interface AddedReplicas {
  readonly t: number;
  readonly type: CapacityType;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  /** Replica-seconds of the replicas this change added (0 for a scale-down). */
  readonly replicaSeconds: number;
}

/**
 * The replica-seconds each scale-up added, per capacity type: a scale-up from `a` to `b`
 * lays a layer of `b − a` replicas on top of the count; a scale-down trims layers from the
 * top (the newest first), so a layer lasts until the count falls back to `a` or below, or
 * the end; its seconds are its height over time. Every replica-second above the starting
 * count belongs to exactly one event.
 *
 * Worked example: 2 → 5 at 0 s, 5 → 3 at 600 s, 3 → 4 at 900 s, end at 1,200 s. The first
 * event holds 3 replicas for 600 s and 1 for 300 s more, then the second event's layer
 * (3 → 4) rides on top of it: the first event's layer is then 1 replica (2 → 3) until
 * 1,200 s. First: 3×600 + 1×600 = 2,400 replica-seconds; the second: 1×300 = 300.
 */
export function addedReplicaSeconds(
  changes: readonly DesiredChange[],
  initial: ByCapacity,
  end: number,
): AddedReplicas[] {
  const out: {
    t: number;
    type: CapacityType;
    from: number;
    to: number;
    reason: string;
    s: number;
  }[] = [];
  for (const type of ["spot", "onDemand"] as const) {
    const stack: { base: number; top: number; since: number; event: number }[] = [];
    const accrue = (layer: (typeof stack)[number], t: number) => {
      out[layer.event]!.s += (layer.top - layer.base) * (t - layer.since);
      layer.since = t;
    };
    let level = initial[type];
    for (const c of changes) {
      const to = c.to[type];
      if (to === level) continue;
      const event = out.length;
      out.push({ t: c.t, type, from: level, to, reason: c.reason, s: 0 });
      if (to > level) {
        stack.push({ base: level, top: to, since: c.t, event });
      } else {
        while (stack.length > 0 && stack[stack.length - 1]!.top > to) {
          const layer = stack[stack.length - 1]!;
          accrue(layer, c.t);
          if (layer.base >= to) stack.pop();
          else layer.top = to;
        }
      }
      level = to;
    }
    for (const layer of stack) accrue(layer, end);
  }
  return out
    .sort((a, b) => a.t - b.t)
    .map((e) => ({
      t: e.t,
      type: e.type,
      from: e.from,
      to: e.to,
      reason: e.reason,
      replicaSeconds: e.s,
    }));
}

/** The ledger of one row (`name`) of a saved simulation. */
export function ledgerFromSimulation(sim: SavedSimulation, name: string): UsageLedger {
  const row = sim.rows.find((r) => r.name === name);
  if (!row) {
    throw new Error(
      `${sim.file} has no row "${name}"; rows: ${sim.rows.map((r) => r.name).join(", ")}`,
    );
  }
  const p = sim.pool;
  const u = row.usage;
  const buckets: UsageBucket[] = [];
  for (const d of u.days) {
    const busy = { spot: d.spot_busy_gpu_hours, onDemand: d.on_demand_busy_gpu_hours };
    const gpu = { spot: d.spot_gpu_hours, onDemand: d.on_demand_gpu_hours };
    const share = shares(busy, gpu);
    for (const type of ["spot", "onDemand"] as const) {
      if (gpu[type] === 0 && share[type] === 0) continue;
      buckets.push({
        pool: p.name,
        namespace: p.namespace,
        model: p.model,
        capacityType: type,
        gpuType: p.gpu_type,
        start: d.start,
        seconds: d.seconds,
        gpuHours: gpu[type],
        busyGpuHours: Math.min(busy[type], gpu[type]),
        requests: d.requests * share[type],
        requestsWithinSlo: d.requests_within_slo * share[type],
      });
    }
  }
  const scaleEvents: ScaleEventUse[] = u.scale_events.map((e) => ({
    pool: p.name,
    namespace: p.namespace,
    at: e.at,
    from: e.from,
    to: e.to,
    capacityType: e.capacity_type,
    gpuType: p.gpu_type,
    addedGpuHours: e.added_gpu_hours,
    reason: e.reason,
  }));
  return {
    source: "simulation",
    from: u.from,
    to: u.to,
    buckets,
    scaleEvents,
    notes: [
      `simulation (${sim.file === "" ? "run now" : sim.file}, row ${name}) of ${p.model.includes("+") ? `models ${p.model.split("+").join(", ")} together` : `model ${p.model} only`}; requests split over capacity types by busy GPU-hours`,
    ],
  };
}

/** Each capacity type's share of a bucket's requests. */
function shares(busy: ByCapacity, gpu: ByCapacity): ByCapacity {
  const b = busy.spot + busy.onDemand;
  if (b > 0) return { spot: busy.spot / b, onDemand: busy.onDemand / b };
  const g = gpu.spot + gpu.onDemand;
  if (g > 0) return { spot: gpu.spot / g, onDemand: gpu.onDemand / g };
  return { spot: 0, onDemand: 1 };
}

/**
 * Reads a saved `simulate --json` (text) for a report: every problem with where it is
 * (`rows[2].usage.days[0].requests: must be a number >= 0 (got "x")`), thrown together
 * as an InputError.
 */
export function parseSavedSimulation(text: string, file: string): SavedSimulation {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const { line, col } = jsonErrorPosition(text, (e as Error).message);
    // Node quotes the whole text in some messages: keep the first clause only.
    const why = (e as Error).message.replace(/, ".*$/s, "").split("\n", 1)[0];
    throw new InputError([
      {
        file,
        line,
        col,
        path: "",
        message: `not JSON (${why}): expected the output of \`tritonscale simulate --json\``,
      },
    ]);
  }
  const problems: Problem[] = [];
  const bad = (path: string, message: string) =>
    problems.push({ file, line: 0, col: 0, path, message });
  if (!isObject(doc) || !Array.isArray(doc.rows)) {
    bad("", 'not the output of `tritonscale simulate --json` (no "rows" list)');
    throw new InputError(problems);
  }
  if (!isObject(doc.pool)) {
    bad(
      "pool",
      "missing: this simulate --json was written by a tritonscale without cost reports; run `tritonscale simulate --json` again",
    );
    throw new InputError(problems);
  }
  const v = new Checker(bad);
  const pool: SimulationPoolJson = {
    name: v.str(doc.pool, "pool", "name"),
    namespace: v.str(doc.pool, "pool", "namespace"),
    model: v.str(doc.pool, "pool", "model"),
    gpu_type: v.str(doc.pool, "pool", "gpu_type"),
    gpus_per_replica: v.num(doc.pool, "pool", "gpus_per_replica"),
    currency: v.str(doc.pool, "pool", "currency"),
    on_demand_per_gpu_hour: v.num(doc.pool, "pool", "on_demand_per_gpu_hour"),
    spot_per_gpu_hour: v.num(doc.pool, "pool", "spot_per_gpu_hour"),
    start_epoch: v.num(doc.pool, "pool", "start_epoch"),
  };
  const rows: { name: string; usage: SimulationUsageJson }[] = [];
  doc.rows.forEach((r: unknown, i: number) => {
    const at = `rows[${i}]`;
    if (!isObject(r)) {
      bad(at, "must be an object");
      return;
    }
    const name = v.str(r, at, "name");
    if (!isObject(r.usage)) {
      bad(
        `${at}.usage`,
        "missing: this simulate --json was written without usage; run `tritonscale simulate --json` again",
      );
      return;
    }
    const u = r.usage;
    const ua = `${at}.usage`;
    const days = v.list(u, ua, "days").map((d, j): SimulationDayJson => {
      const da = `${ua}.days[${j}]`;
      return {
        start: v.num(d, da, "start"),
        seconds: v.num(d, da, "seconds"),
        spot_gpu_hours: v.num(d, da, "spot_gpu_hours"),
        on_demand_gpu_hours: v.num(d, da, "on_demand_gpu_hours"),
        spot_busy_gpu_hours: v.num(d, da, "spot_busy_gpu_hours"),
        on_demand_busy_gpu_hours: v.num(d, da, "on_demand_busy_gpu_hours"),
        requests: v.num(d, da, "requests"),
        requests_within_slo: v.num(d, da, "requests_within_slo"),
      };
    });
    const events = v.list(u, ua, "scale_events").map((e, j): SimulationScaleEventJson => {
      const ea = `${ua}.scale_events[${j}]`;
      const type = v.str(e, ea, "capacity_type");
      if (type !== "spot" && type !== "onDemand" && type !== "") {
        bad(`${ea}.capacity_type`, `must be "spot" or "onDemand" (got ${JSON.stringify(type)})`);
      }
      return {
        at: v.num(e, ea, "at"),
        capacity_type: type === "spot" ? "spot" : "onDemand",
        from: v.num(e, ea, "from"),
        to: v.num(e, ea, "to"),
        added_gpu_hours: v.num(e, ea, "added_gpu_hours"),
        reason: v.str(e, ea, "reason"),
      };
    });
    rows.push({
      name,
      usage: {
        bucket_seconds: v.num(u, ua, "bucket_seconds"),
        from: v.num(u, ua, "from"),
        to: v.num(u, ua, "to"),
        days,
        scale_events: events,
      },
    });
  });
  if (rows.length === 0 && problems.length === 0) bad("rows", "has no rows to report on");
  if (problems.length > 0) throw new InputError(problems);
  const target = doc.slo_target;
  const sloTarget = typeof target === "number" && target > 0 && target <= 1 ? target : undefined;
  return { file, pool, rows, ...(sloTarget === undefined ? {} : { sloTarget }) };
}

/** Field checks of a parsed JSON document, collecting problems. */
class Checker {
  constructor(private readonly bad: (path: string, message: string) => void) {}

  str(o: unknown, at: string, key: string): string {
    const x = isObject(o) ? o[key] : undefined;
    if (typeof x === "string") return x;
    this.bad(`${at}.${key}`, `must be a string (got ${describe(x)})`);
    return "";
  }

  num(o: unknown, at: string, key: string): number {
    const x = isObject(o) ? o[key] : undefined;
    if (typeof x === "number" && Number.isFinite(x) && x >= 0) return x;
    this.bad(`${at}.${key}`, `must be a number >= 0 (got ${describe(x)})`);
    return 0;
  }

  list(o: unknown, at: string, key: string): unknown[] {
    const x = isObject(o) ? o[key] : undefined;
    if (Array.isArray(x)) return x;
    this.bad(`${at}.${key}`, `must be a list (got ${describe(x)})`);
    return [];
  }
}

function describe(x: unknown): string {
  if (x === undefined) return "nothing";
  const s = JSON.stringify(x);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/**
 * Line and column of a JSON.parse error: from its `position N` when it says, else where the
 * YAML parser (a superset of JSON's syntax) first stumbles, else the start.
 */
function jsonErrorPosition(text: string, message: string): { line: number; col: number } {
  const m = /position (\d+)/.exec(message);
  if (m) {
    const pos = Math.min(Number(m[1]), text.length);
    const before = text.slice(0, pos);
    return { line: before.split("\n").length, col: pos - before.lastIndexOf("\n") };
  }
  const at = parseDocument(text).errors[0]?.linePos?.[0];
  return at ? { line: at.line, col: at.col } : { line: 1, col: 1 };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
