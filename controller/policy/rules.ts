/**
 * Cross-field rules: what the schema cannot say about one field alone (minReplicas <=
 * maxReplicas, preferred batch sizes within maxBatchSize, cron and time zones, ...).
 */

import type { Problem } from "../diagnostics/problem.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { promqlFindings } from "../util/promql.js";
import { CronError, parseCron } from "./cron.js";
import { parseDuration } from "./duration.js";
import { describe, isRecord, setOwn } from "./messages.js";
import { type ModelPoolDocument, modelPoolSchema, type RepositorySource } from "./schema.js";
import { appendPath, formatPath, type PathSegment, parsePath, type SourceIndex } from "./source.js";

/**
 * A document as the rules see it: the defaulted document with every field that failed the
 * schema (and everything under it) removed, so what is left has its schema type. A rule
 * reads it through these types, so a misspelt field is a compile error, not a rule that
 * silently never fires; and it never reports a mistake the schema already reported.
 */
export type CheckedDocument = Checked<ModelPoolDocument>;

/** `T` with every field optional, deeply; list entries may be missing too. */
export type Checked<T> = T extends readonly (infer U)[]
  ? readonly (Checked<U> | undefined)[]
  : T extends object
    ? { readonly [K in keyof T]?: Checked<T[K]> }
    : T;

/**
 * What a rule gets: the checked document, and ways to report at a path. Report paths are
 * checked against the schema, so a misspelt one fails every test of its rule loudly.
 */
export class RuleContext {
  /** The document, each field present only when it passed the schema. */
  readonly doc: CheckedDocument;
  readonly #source: SourceIndex;
  readonly #invalid: ReadonlySet<string>;
  readonly #problems: Problem[];

  constructor(
    doc: Record<string, unknown>,
    source: SourceIndex,
    invalid: ReadonlySet<string>,
    problems: Problem[],
  ) {
    this.doc = prune(doc, modelPoolSchema, "", invalid, ancestorsOf(invalid)) as CheckedDocument;
    this.#source = source;
    this.#invalid = invalid;
    this.#problems = problems;
  }

  /** Whether `path` failed the schema (it then reads as absent). */
  invalid(path: string): boolean {
    return this.#invalid.has(formatPath(checkedPath(path)));
  }

  /** A checked duration in seconds. */
  seconds(duration: string | undefined): number | undefined {
    return duration === undefined ? undefined : parseDuration(duration);
  }

  /** How a referenced field reads in a message: `maxReplicas (12)`, `maxReplicas (10, the default)`. */
  ref(path: string, value: unknown, shown: string): string {
    const defaulted =
      this.#source.hasPositions && this.#source.positionOf(checkedPath(path)) === undefined;
    return `${shown} (${String(value)}${defaulted ? ", the default" : ""})`;
  }

  /** ` (line 7)` for a written field, else empty. */
  lineOf(path: string): string {
    const pos = this.#source.positionOf(checkedPath(path));
    return pos === undefined ? "" : ` (line ${pos.line})`;
  }

  /** Whether the user wrote `path` (false without positions). */
  written(path: string): boolean {
    return this.#source.positionOf(checkedPath(path)) !== undefined;
  }

  /** Reports `message` at `path` (its nearest written position). */
  report(path: string, message: string): void {
    this.#problems.push(this.#source.problemAt(checkedPath(path), message));
  }

  /** Reports at the key of `path`: for "remove this section" problems. */
  reportAtKey(path: string, message: string): void {
    this.#problems.push(this.#source.keyProblemAt(checkedPath(path), message));
  }
}

/** Every proper ancestor of the paths in `invalid` (`""` for the root), formatted. */
function ancestorsOf(invalid: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const path of invalid) {
    const segs = parsePath(path);
    let p = "";
    out.add(p);
    for (const seg of segs.slice(0, -1)) {
      p = appendPath(p, seg);
      out.add(p);
    }
  }
  return out;
}

/**
 * A copy of `value` without the paths in `invalid` (and all under them), and without the
 * fields its schema does not name: those were reported as unknown, and no rule can read
 * them (the rules see {@link CheckedDocument}), so a file with 60,000 unknown fields is not
 * walked 60,000 times more.
 */
function prune(
  value: unknown,
  schema: unknown,
  path: string,
  invalid: ReadonlySet<string>,
  dirty: ReadonlySet<string>,
): unknown {
  if (invalid.has(path)) return undefined;
  // Nothing under `path` failed: the checked document may share it (the rules only read).
  if (!dirty.has(path)) return value;
  const s = schema as { properties?: Record<string, unknown>; items?: unknown } | undefined;
  if (Array.isArray(value)) {
    return value.map((v, i) => prune(v, s?.items, appendPath(path, i), invalid, dirty));
  }
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  const fields = s?.properties;
  const keys =
    fields === undefined
      ? Object.keys(value) // a map (labels) or a schema without fields: every key
      : Object.keys(fields).filter((k) => Object.hasOwn(value, k));
  for (const k of keys) {
    const kept = prune(value[k], fields?.[k], appendPath(path, k), invalid, dirty);
    if (kept === undefined) continue;
    setOwn(out, k, kept);
  }
  return out;
}

/**
 * The segments of `path`, after checking that the schema has such a field.
 *
 * @throws Error naming the path when it does not (a bug in a rule).
 */
function checkedPath(path: string): PathSegment[] {
  const segs = parsePath(path);
  let node: unknown = modelPoolSchema;
  for (const s of segs) {
    const n = node as {
      properties?: Record<string, unknown>;
      patternProperties?: Record<string, unknown>;
      items?: unknown;
    };
    if (typeof s === "number") node = n.items;
    else if (n.properties !== undefined) node = n.properties[s];
    else if (n.patternProperties !== undefined) node = Object.values(n.patternProperties)[0];
    else node = undefined;
    if (node === undefined)
      throw new Error(
        `a cross-field rule names ${JSON.stringify(path)}, which the ModelPool schema does not have`,
      );
  }
  return segs;
}

/** Names must be unique within a list: reports every repeat at its name. */
function uniqueNames(
  c: RuleContext,
  list: string,
  entries: readonly ({ readonly name?: string } | undefined)[] | undefined,
  what: string,
): void {
  const first = new Map<string, number>();
  (entries ?? []).forEach((entry, i) => {
    const name = entry?.name;
    if (name === undefined) return;
    const j = first.get(name);
    if (j === undefined) first.set(name, i);
    else {
      c.report(
        `${list}[${i}].name`,
        `duplicate ${what} name "${name}"; ${list}[${j}]${c.lineOf(`${list}[${j}].name`)} already uses it`,
      );
    }
  });
}

/** Model names are unique; batching agrees with maxBatchSize and fits in the SLO. */
function modelRules(c: RuleContext): void {
  const spec = c.doc.spec;
  uniqueNames(c, "spec.models", spec?.models, "model");
  const latencyMs = spec?.slo?.latencyP99Ms;
  (spec?.models ?? []).forEach((model, i) => {
    const m = `spec.models[${i}]`;
    const maxBatch = model?.maxBatchSize;
    const batching = model?.batching;
    if (maxBatch === 0 && batching !== undefined) {
      c.reportAtKey(
        `${m}.batching`,
        "dynamic batching needs maxBatchSize > 0 (maxBatchSize is 0); remove batching or raise maxBatchSize",
      );
    }
    const sizes = `${m}.batching.preferredBatchSizes`;
    if (maxBatch !== undefined && maxBatch > 0) {
      let prev: number | undefined;
      (batching?.preferredBatchSizes ?? []).forEach((size, k) => {
        if (size === undefined) return;
        if (size > maxBatch) {
          c.report(
            `${sizes}[${k}]`,
            `must be <= ${c.ref(`${m}.maxBatchSize`, maxBatch, "maxBatchSize")} (got ${size})`,
          );
        } else if (prev !== undefined && size <= prev) {
          c.report(
            `${sizes}[${k}]`,
            `must be greater than the size before it (${prev}): preferred batch sizes are strictly increasing (got ${size})`,
          );
        }
        prev = size;
      });
    }
    profileRules(c, m, model?.profile, maxBatch);
    const delayUs = batching?.maxQueueDelayMicroseconds;
    if (delayUs !== undefined && latencyMs !== undefined && delayUs >= latencyMs * 1000) {
      c.report(
        `${m}.batching.maxQueueDelayMicroseconds`,
        `must be less than the latency SLO, spec.slo.latencyP99Ms ${latencyMs} ms = ${latencyMs * 1000} µs (got ${delayUs})`,
      );
    }
  });
}

/**
 * A model's profile is exactly one of `linear` and `table`; a linear one takes some time
 * (a + b > 0); a table's batch sizes are strictly increasing and within the batches the
 * model executes (maxBatchSize, or 1 when it is 0).
 */
function profileRules(
  c: RuleContext,
  m: string,
  profile: Checked<ModelPoolDocument["spec"]["models"][number]["profile"]>,
  maxBatch: number | undefined,
): void {
  if (profile === undefined) return;
  const at = `${m}.profile`;
  const hasLinear = profile.linear !== undefined || c.invalid(`${at}.linear`);
  const hasTable = profile.table !== undefined || c.invalid(`${at}.table`);
  if (hasLinear && hasTable) {
    c.reportAtKey(
      `${at}.table`,
      `give either linear or table${c.lineOf(`${at}.linear`)}, not both: a profile is one of them`,
    );
  } else if (!hasLinear && !hasTable) {
    c.reportAtKey(
      at,
      "needs linear: { a: <ms>, b: <ms> } (a batch of n computes in a + b·n ms) or table: [{ batch: <n>, ms: <ms> }, ...] (measured; tritonscale tune --write fills it)",
    );
  }
  const a = profile.linear?.a;
  const b = profile.linear?.b;
  if (a !== undefined && b !== undefined && a + b <= 0) {
    c.report(`${at}.linear.b`, "a + b must be > 0: a batch cannot take no time (got a = 0, b = 0)");
  }
  const limit = maxBatch === undefined ? undefined : Math.max(1, maxBatch);
  let prev: number | undefined;
  (profile.table ?? []).forEach((row, k) => {
    const batch = row?.batch;
    if (batch === undefined) return;
    const path = `${at}.table[${k}].batch`;
    if (limit !== undefined && batch > limit) {
      c.report(
        path,
        maxBatch === 0
          ? `must be 1: ${c.ref(`${m}.maxBatchSize`, maxBatch, "maxBatchSize")} means batches of 1 (got ${batch})`
          : `must be <= ${c.ref(`${m}.maxBatchSize`, maxBatch, "maxBatchSize")}, the largest batch the model executes (got ${batch})`,
      );
    } else if (prev !== undefined && batch <= prev) {
      c.report(
        path,
        `must be greater than the batch before it (${prev}): table batch sizes are strictly increasing (got ${batch})`,
      );
    }
    prev = batch;
  });
}

/** Replica bounds, the engine's limits and the rate limits of spec.scaling. */
function scalingRules(c: RuleContext): void {
  const sc = "spec.scaling";
  const scaling = c.doc.spec?.scaling;
  const minR = scaling?.minReplicas;
  const maxR = scaling?.maxReplicas;
  if (minR !== undefined && maxR !== undefined && minR > maxR) {
    c.report(
      `${sc}.minReplicas`,
      `must be <= ${c.ref(`${sc}.maxReplicas`, maxR, "maxReplicas")} (got ${minR})`,
    );
  }
  // Facts: the HPA does not scale a target that sits at 0 replicas.
  if (scaling?.engine === "hpa" && minR === 0) {
    if (c.written(`${sc}.minReplicas`)) {
      c.report(
        `${sc}.minReplicas`,
        'must be >= 1 with engine "hpa": the HPA never scales a target at 0 replicas (got 0); set minReplicas >= 1 or use engine "keda"',
      );
    } else {
      c.report(
        `${sc}.engine`,
        '"hpa" cannot scale to zero but minReplicas is 0 (the default); set spec.scaling.minReplicas >= 1 or use engine "keda"',
      );
    }
  }
  const sync = c.seconds(scaling?.syncPeriod);
  const stale = c.seconds(scaling?.staleAfter);
  if (sync !== undefined && stale !== undefined && stale < sync) {
    c.report(
      `${sc}.staleAfter`,
      `must be >= ${c.ref(`${sc}.syncPeriod`, scaling?.syncPeriod, "syncPeriod")}, or every metric counts as stale (got ${scaling?.staleAfter})`,
    );
  }
  for (const [dir, verb] of [
    ["scaleUp", "up"],
    ["scaleDown", "down"],
  ] as const) {
    const behavior = scaling?.[dir];
    if (behavior?.maxPodsPerPeriod === 0 && behavior.maxPercentPerPeriod === 0) {
      c.report(
        `${sc}.${dir}`,
        `maxPodsPerPeriod and maxPercentPerPeriod are both 0, so the pool could never scale ${verb}; set one of them > 0`,
      );
    }
  }
}

/** Schedules: unique names, valid cron fields and time zones, minimums within maxReplicas. */
function scheduleRules(c: RuleContext): void {
  const list = "spec.scaling.schedules";
  const scaling = c.doc.spec?.scaling;
  uniqueNames(c, list, scaling?.schedules, "schedule");
  const maxR = scaling?.maxReplicas;
  (scaling?.schedules ?? []).forEach((schedule, i) => {
    const at = `${list}[${i}]`;
    const cron = schedule?.cron;
    const cronIssue = cron === undefined ? undefined : checkCron(cron);
    if (cronIssue !== undefined) c.report(`${at}.cron`, `${cronIssue} (got ${describe(cron)})`);
    const tz = schedule?.timezone;
    if (tz !== undefined && !isTimeZone(tz)) {
      const hint = didYouMean(tz, Intl.supportedValuesOf("timeZone"));
      c.report(
        `${at}.timezone`,
        `must be an IANA time zone such as "UTC" or "Europe/Berlin" (got ${describe(tz)})${hint}`,
      );
    }
    const min = schedule?.minReplicas;
    if (min !== undefined && maxR !== undefined && min > maxR) {
      c.report(
        `${at}.minReplicas`,
        `must be <= ${c.ref("spec.scaling.maxReplicas", maxR, "spec.scaling.maxReplicas")} (got ${min})`,
      );
    }
  });
}

/** The on-demand base of a Spot pool fits within maxReplicas. */
function capacityRules(c: RuleContext): void {
  const spot = c.doc.spec?.capacity?.spot;
  const base = spot?.onDemandBase;
  const maxR = c.doc.spec?.scaling?.maxReplicas;
  if (spot?.enabled === true && base !== undefined && maxR !== undefined && base > maxR) {
    c.report(
      "spec.capacity.spot.onDemandBase",
      `must be <= ${c.ref("spec.scaling.maxReplicas", maxR, "spec.scaling.maxReplicas")} (got ${base})`,
    );
  }
}

/** Triton flags tritonscale sets from policy fields, with the field to use instead. */
const managedFlags: Record<string, string> = {
  "--model-repository": "spec.triton.modelRepository",
  "--model-store": "spec.triton.modelRepository",
  "--model-control-mode": "spec.triton.modelControlMode",
  "--strict-model-config": "spec.triton.strictModelConfig",
  "--disable-auto-complete-config": "spec.triton.strictModelConfig",
  "--http-port": "spec.triton.ports.http",
  "--grpc-port": "spec.triton.ports.grpc",
  "--metrics-port": "spec.triton.ports.metrics",
};

/** URI scheme each bucket source needs. */
const bucketPrefixes: Readonly<Partial<Record<RepositorySource, string>>> = {
  s3: "s3://",
  gcs: "gs://",
  azure: "as://",
};

/** The repository fields that go with its source; distinct ports; no managed flags in args. */
function tritonRules(c: RuleContext): void {
  const repo = "spec.triton.modelRepository";
  const triton = c.doc.spec?.triton;
  const r = triton?.modelRepository;
  const source = r?.source;
  if (source !== undefined) {
    const prefix = bucketPrefixes[source];
    const uri = r?.uri;
    const buckets = `only valid with source "s3", "gcs" or "azure" (source is "${source}")`;
    if (prefix === undefined) {
      if (uri !== undefined) c.report(`${repo}.uri`, buckets);
      if (r?.credentialsSecret !== undefined) c.report(`${repo}.credentialsSecret`, buckets);
    } else if (uri === undefined && !c.invalid(`${repo}.uri`)) {
      c.report(
        `${repo}.uri`,
        `missing required field for source "${source}" (e.g. ${prefix}bucket/models)`,
      );
    } else if (uri !== undefined && !uri.startsWith(prefix)) {
      c.report(
        `${repo}.uri`,
        `must start with "${prefix}" for source "${source}" (got ${describe(uri)})`,
      );
    }
    const claim = r?.claimName;
    if (source === "pvc" && claim === undefined && !c.invalid(`${repo}.claimName`)) {
      c.report(`${repo}.claimName`, 'missing required field for source "pvc"');
    } else if (source !== "pvc" && claim !== undefined) {
      c.report(`${repo}.claimName`, `only valid with source "pvc" (source is "${source}")`);
    }
  }
  const used = new Map<number, string>();
  for (const name of ["http", "grpc", "metrics"] as const) {
    const port = triton?.ports?.[name];
    if (port === undefined) continue;
    const other = used.get(port);
    if (other === undefined) used.set(port, name);
    else c.report(`spec.triton.ports.${name}`, `must differ from ports.${other} (both ${port})`);
  }
  (triton?.args ?? []).forEach((arg, i) => {
    const flag = arg?.split("=")[0];
    const field = flag === undefined ? undefined : managedFlags[flag];
    if (field !== undefined) {
      c.report(`spec.triton.args[${i}]`, `${flag} is set from ${field}; set that field instead`);
    }
  });
}

/**
 * The one wording for a template that is not among `known` (the folders of `folder`, the
 * templates directory), used by this rule and by the generator's template loader.
 */
export function unknownTemplateMessage(
  name: string,
  known: readonly string[],
  folder = "the templates folder",
): string {
  const which =
    known.length === 0
      ? `; ${folder} holds no templates (folders with a template.yaml)`
      : `${didYouMean(name, known)}; templates: ${known.join(", ")}`;
  return `template "${name}" does not exist${which}`;
}

/**
 * Every model names a template that exists (`known`): reported with the schema's problems,
 * not only once they are fixed.
 */
export function templateRule(c: RuleContext, known: readonly string[]): void {
  const names = new Set(known);
  (c.doc.spec?.models ?? []).forEach((model, i) => {
    const name = model?.template;
    if (name === undefined || names.has(name)) return;
    c.report(`spec.models[${i}].template`, unknownTemplateMessage(name, known));
  });
}

/**
 * The rules that span fields, in the order their problems are found. Adding a rule is one
 * function here and one row in the test table.
 */
/**
 * The PromQL a pool names itself (`spec.monitoring.frontDoor`), which the controller sends
 * to Prometheus as written: it must be a query Prometheus accepts.
 */
function monitoringRules(c: RuleContext): void {
  const door = c.doc.spec?.monitoring?.frontDoor;
  const queries = [
    ["spec.monitoring.frontDoor.requests", door?.requests],
    ["spec.monitoring.frontDoor.pending", door?.pending],
  ] as const;
  for (const [path, expr] of queries) {
    if (expr === undefined) continue;
    // The first finding: a syntax error's follow-on error nodes would only repeat it.
    const [f] = promqlFindings(expr);
    if (f !== undefined) c.report(path, `Prometheus would refuse this query: ${f.message}`);
  }
}

export const crossFieldRules: readonly ((c: RuleContext) => void)[] = [
  modelRules,
  scalingRules,
  scheduleRules,
  capacityRules,
  tritonRules,
  monitoringRules,
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
