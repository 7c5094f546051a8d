/**
 * Cross-field rules: what the schema cannot say about one field alone (minReplicas <=
 * maxReplicas, preferred batch sizes within maxBatchSize, cron and time zones, ...).
 */

import type { Problem } from "../diagnostics/problem.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { CronError, parseCron } from "./cron.js";
import { parseDuration } from "./duration.js";
import { describe, isRecord } from "./messages.js";
import { formatPath, parsePath, type SourceIndex } from "./source.js";

/**
 * Read access to a defaulted document for the cross-field rules. A field that failed the
 * schema (or sits under one that did) reads as undefined, so a rule never reports a
 * mistake the schema already reported.
 */
export class Fields {
  readonly #doc: Record<string, unknown>;
  readonly #source: SourceIndex;
  readonly #invalid: ReadonlySet<string>;
  readonly #problems: Problem[];

  constructor(
    doc: Record<string, unknown>,
    source: SourceIndex,
    invalid: ReadonlySet<string>,
    problems: Problem[],
  ) {
    this.#doc = doc;
    this.#source = source;
    this.#invalid = invalid;
    this.#problems = problems;
  }

  /** The value at `path`, or undefined when absent or when it or an ancestor failed the schema. */
  get(path: string): unknown {
    const segs = parsePath(path);
    let cur: unknown = this.#doc;
    for (let n = 0; n <= segs.length; n++) {
      if (this.#invalid.has(formatPath(segs.slice(0, n)))) return undefined;
      if (n === segs.length) break;
      const s = segs[n]!;
      if (Array.isArray(cur) && typeof s === "number") cur = cur[s];
      else cur = isRecord(cur) ? cur[String(s)] : undefined;
    }
    return cur;
  }

  /** Whether `path` failed the schema. */
  invalid(path: string): boolean {
    return this.#invalid.has(path);
  }

  num(path: string): number | undefined {
    const v = this.get(path);
    return typeof v === "number" ? v : undefined;
  }

  str(path: string): string | undefined {
    const v = this.get(path);
    return typeof v === "string" ? v : undefined;
  }

  /** Length of a list field, 0 when absent or invalid. */
  count(path: string): number {
    const v = this.get(path);
    return Array.isArray(v) ? v.length : 0;
  }

  /** A valid duration field in seconds. */
  seconds(path: string): number | undefined {
    const v = this.str(path);
    if (v === undefined) return undefined;
    try {
      return parseDuration(v);
    } catch {
      return undefined;
    }
  }

  /** How a referenced field reads in a message: `maxReplicas (12)`, `maxReplicas (10, the default)`. */
  ref(path: string, shown: string): string {
    const defaulted = this.#source.hasPositions && this.#source.positionOf(path) === undefined;
    return `${shown} (${String(this.get(path))}${defaulted ? ", the default" : ""})`;
  }

  /** ` (line 7)` for a written field, else empty. */
  lineOf(path: string): string {
    const pos = this.#source.positionOf(path);
    return pos === undefined ? "" : ` (line ${pos.line})`;
  }

  /** Whether the user wrote `path` (false without positions). */
  written(path: string): boolean {
    return this.#source.positionOf(path) !== undefined;
  }

  report(path: string, message: string): void {
    this.#problems.push(this.#source.problemAt(path, message));
  }

  /** Reports at the key of `path`: for "remove this section" problems. */
  reportAtKey(path: string, message: string): void {
    this.#problems.push(this.#source.keyProblemAt(parsePath(path), message));
  }
}

/** Names must be unique within a list: reports every repeat at its name. */
function uniqueNames(f: Fields, list: string, what: string): void {
  const first = new Map<string, number>();
  for (let i = 0; i < f.count(list); i++) {
    const name = f.str(`${list}[${i}].name`);
    if (name === undefined) continue;
    const j = first.get(name);
    if (j === undefined) first.set(name, i);
    else {
      f.report(
        `${list}[${i}].name`,
        `duplicate ${what} name "${name}"; ${list}[${j}]${f.lineOf(`${list}[${j}].name`)} already uses it`,
      );
    }
  }
}

/** Model names are unique; batching agrees with maxBatchSize and fits in the SLO. */
function modelRules(f: Fields): void {
  uniqueNames(f, "spec.models", "model");
  const latencyMs = f.num("spec.slo.latencyP99Ms");
  for (let i = 0; i < f.count("spec.models"); i++) {
    const m = `spec.models[${i}]`;
    const maxBatch = f.num(`${m}.maxBatchSize`);
    if (maxBatch === 0 && f.get(`${m}.batching`) !== undefined) {
      f.reportAtKey(
        `${m}.batching`,
        "dynamic batching needs maxBatchSize > 0 (maxBatchSize is 0); remove batching or raise maxBatchSize",
      );
    }
    const sizes = `${m}.batching.preferredBatchSizes`;
    if (maxBatch !== undefined && maxBatch > 0) {
      let prev: number | undefined;
      for (let k = 0; k < f.count(sizes); k++) {
        const size = f.num(`${sizes}[${k}]`);
        if (size === undefined) continue;
        if (size > maxBatch) {
          f.report(
            `${sizes}[${k}]`,
            `must be <= ${f.ref(`${m}.maxBatchSize`, "maxBatchSize")} (got ${size})`,
          );
        } else if (prev !== undefined && size <= prev) {
          f.report(
            `${sizes}[${k}]`,
            `must be greater than the size before it (${prev}): preferred batch sizes are strictly increasing (got ${size})`,
          );
        }
        prev = size;
      }
    }
    const delayUs = f.num(`${m}.batching.maxQueueDelayMicroseconds`);
    if (delayUs !== undefined && latencyMs !== undefined && delayUs >= latencyMs * 1000) {
      f.report(
        `${m}.batching.maxQueueDelayMicroseconds`,
        `must be less than the latency SLO, spec.slo.latencyP99Ms ${latencyMs} ms = ${latencyMs * 1000} µs (got ${delayUs})`,
      );
    }
  }
}

/** Replica bounds, the engine's limits and the rate limits of spec.scaling. */
function scalingRules(f: Fields): void {
  const sc = "spec.scaling";
  const minR = f.num(`${sc}.minReplicas`);
  const maxR = f.num(`${sc}.maxReplicas`);
  if (minR !== undefined && maxR !== undefined && minR > maxR) {
    f.report(
      `${sc}.minReplicas`,
      `must be <= ${f.ref(`${sc}.maxReplicas`, "maxReplicas")} (got ${minR})`,
    );
  }
  // Facts: the HPA does not scale a target that sits at 0 replicas.
  if (f.str(`${sc}.engine`) === "hpa" && minR === 0) {
    if (f.written(`${sc}.minReplicas`)) {
      f.report(
        `${sc}.minReplicas`,
        'must be >= 1 with engine "hpa": the HPA never scales a target at 0 replicas (got 0); set minReplicas >= 1 or use engine "keda"',
      );
    } else {
      f.report(
        `${sc}.engine`,
        '"hpa" cannot scale to zero but minReplicas is 0 (the default); set spec.scaling.minReplicas >= 1 or use engine "keda"',
      );
    }
  }
  const sync = f.seconds(`${sc}.syncPeriod`);
  const stale = f.seconds(`${sc}.staleAfter`);
  if (sync !== undefined && stale !== undefined && sync <= 300 && stale < sync) {
    f.report(
      `${sc}.staleAfter`,
      `must be >= ${f.ref(`${sc}.syncPeriod`, "syncPeriod")}, or every metric counts as stale (got ${f.str(`${sc}.staleAfter`)})`,
    );
  }
  for (const [dir, verb] of [
    ["scaleUp", "up"],
    ["scaleDown", "down"],
  ] as const) {
    if (
      f.num(`${sc}.${dir}.maxPodsPerPeriod`) === 0 &&
      f.num(`${sc}.${dir}.maxPercentPerPeriod`) === 0
    ) {
      f.report(
        `${sc}.${dir}`,
        `maxPodsPerPeriod and maxPercentPerPeriod are both 0, so the pool could never scale ${verb}; set one of them > 0`,
      );
    }
  }
}

/** Schedules: unique names, valid cron fields and time zones, minimums within maxReplicas. */
function scheduleRules(f: Fields): void {
  const list = "spec.scaling.schedules";
  uniqueNames(f, list, "schedule");
  for (let i = 0; i < f.count(list); i++) {
    const at = `${list}[${i}]`;
    const cron = f.str(`${at}.cron`);
    const cronIssue = cron === undefined ? undefined : checkCron(cron);
    if (cronIssue !== undefined) f.report(`${at}.cron`, `${cronIssue} (got ${describe(cron)})`);
    const tz = f.str(`${at}.timezone`);
    if (tz !== undefined && !isTimeZone(tz)) {
      const hint = didYouMean(tz, Intl.supportedValuesOf("timeZone"));
      f.report(
        `${at}.timezone`,
        `must be an IANA time zone such as "UTC" or "Europe/Berlin" (got ${describe(tz)})${hint}`,
      );
    }
    const min = f.num(`${at}.minReplicas`);
    const maxR = f.num("spec.scaling.maxReplicas");
    if (min !== undefined && maxR !== undefined && min > maxR) {
      f.report(
        `${at}.minReplicas`,
        `must be <= ${f.ref("spec.scaling.maxReplicas", "spec.scaling.maxReplicas")} (got ${min})`,
      );
    }
  }
}

/** The on-demand base of a Spot pool fits within maxReplicas. */
function capacityRules(f: Fields): void {
  const base = f.num("spec.capacity.spot.onDemandBase");
  const maxR = f.num("spec.scaling.maxReplicas");
  if (
    f.get("spec.capacity.spot.enabled") === true &&
    base !== undefined &&
    maxR !== undefined &&
    base > maxR
  ) {
    f.report(
      "spec.capacity.spot.onDemandBase",
      `must be <= ${f.ref("spec.scaling.maxReplicas", "spec.scaling.maxReplicas")} (got ${base})`,
    );
  }
}

/** Triton flags tritonscale sets from policy fields, with the field to use instead. */
const managedFlags: Record<string, string> = {
  "--model-repository": "spec.triton.modelRepository",
  "--model-store": "spec.triton.modelRepository",
  "--model-control-mode": "spec.triton.modelControlMode",
  "--strict-model-config": "spec.triton.strictModelConfig",
  "--http-port": "spec.triton.ports.http",
  "--grpc-port": "spec.triton.ports.grpc",
  "--metrics-port": "spec.triton.ports.metrics",
};

/** URI scheme each bucket source needs. */
const bucketPrefixes: Record<string, string> = { s3: "s3://", gcs: "gs://", azure: "as://" };

/** The repository fields that go with its source; distinct ports; no managed flags in args. */
function tritonRules(f: Fields): void {
  const repo = "spec.triton.modelRepository";
  const source = f.str(`${repo}.source`);
  if (source !== undefined) {
    const prefix = bucketPrefixes[source];
    const uri = f.str(`${repo}.uri`);
    const buckets = `only valid with source "s3", "gcs" or "azure" (source is "${source}")`;
    if (prefix === undefined) {
      if (uri !== undefined) f.report(`${repo}.uri`, buckets);
      if (f.get(`${repo}.credentialsSecret`) !== undefined)
        f.report(`${repo}.credentialsSecret`, buckets);
    } else if (uri === undefined && !f.invalid(`${repo}.uri`)) {
      f.report(
        `${repo}.uri`,
        `missing required field for source "${source}" (e.g. ${prefix}bucket/models)`,
      );
    } else if (uri !== undefined && !uri.startsWith(prefix)) {
      f.report(
        `${repo}.uri`,
        `must start with "${prefix}" for source "${source}" (got ${describe(uri)})`,
      );
    }
    const claim = f.get(`${repo}.claimName`);
    if (source === "pvc" && claim === undefined && !f.invalid(`${repo}.claimName`)) {
      f.report(`${repo}.claimName`, 'missing required field for source "pvc"');
    } else if (source !== "pvc" && claim !== undefined) {
      f.report(`${repo}.claimName`, `only valid with source "pvc" (source is "${source}")`);
    }
  }
  const used = new Map<number, string>();
  for (const name of ["http", "grpc", "metrics"]) {
    const port = f.num(`spec.triton.ports.${name}`);
    if (port === undefined) continue;
    const other = used.get(port);
    if (other === undefined) used.set(port, name);
    else f.report(`spec.triton.ports.${name}`, `must differ from ports.${other} (both ${port})`);
  }
  for (let i = 0; i < f.count("spec.triton.args"); i++) {
    const flag = f.str(`spec.triton.args[${i}]`)?.split("=")[0];
    const field = flag === undefined ? undefined : managedFlags[flag];
    if (field !== undefined) {
      f.report(`spec.triton.args[${i}]`, `${flag} is set from ${field}; set that field instead`);
    }
  }
}

/**
 * Every model names a template that exists (`known`): reported with the schema's problems,
 * not only once they are fixed. The words match the generator's own check.
 */
export function templateRule(f: Fields, known: readonly string[]): void {
  const names = new Set(known);
  for (let i = 0; i < f.count("spec.models"); i++) {
    const name = f.str(`spec.models[${i}].template`);
    if (name === undefined || names.has(name)) continue;
    f.report(
      `spec.models[${i}].template`,
      `template "${name}" does not exist${didYouMean(name, known)}; templates: ${known.join(", ")}`,
    );
  }
}

/**
 * The rules that span fields, in the order their problems are found. Adding a rule is one
 * function here and one row in the test table.
 */
export const crossFieldRules: readonly ((f: Fields) => void)[] = [
  modelRules,
  scalingRules,
  scheduleRules,
  capacityRules,
  tritonRules,
];

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The problem of a cron expression, or undefined when it is valid. */
function checkCron(expr: string): string | undefined {
  try {
    parseCron(expr);
    return undefined;
  } catch (e) {
    if (e instanceof CronError) return e.detail;
    throw e;
  }
}
