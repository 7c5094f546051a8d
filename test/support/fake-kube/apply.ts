/**
 * The fake API server's field ownership and server-side apply, simplified (see the
 * contract in index.ts): objects merge key by key, lists and scalars are atomic leaves
 * (no `k:{…}` list-map keys), a manager owns the leaf paths it applied (operation
 * Apply) or changed by an update (operation Update), recorded in `metadata.managedFields`
 * as FieldsV1 (`{"f:spec": {"f:replicas": {}}}`).
 */

/** A JSON object. */
export type JsonObject = { [k: string]: unknown };

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Deep equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** A deep copy of a JSON value. */
export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Metadata the server owns: never part of a manager's fields. */
const SERVER_METADATA = new Set([
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "managedFields",
  "selfLink",
]);

/** A path, encoded as the JSON of its segments (a key of {@link FieldSet}). */
type PathKey = string;
/** The leaf paths a manager owns. */
export type FieldSet = Set<PathKey>;

/**
 * The leaf paths of `obj` a manager would own: every scalar and list,
 * except apiVersion, kind, server-owned metadata and (`withStatus`) status.
 */
export function leafPaths(obj: JsonObject, part: "main" | "status" | "all"): FieldSet {
  const out: FieldSet = new Set();
  const walk = (v: unknown, path: string[]) => {
    // An empty map owns nothing (its entries are owned one by one); lists are atomic.
    if (isObject(v)) {
      for (const [k, sub] of Object.entries(v)) walk(sub, [...path, k]);
    } else out.add(JSON.stringify(path));
  };
  for (const [k, v] of Object.entries(obj)) {
    if (k === "apiVersion" || k === "kind") continue;
    if (part === "main" && k === "status") continue;
    if (part === "status" && k !== "status") continue;
    if (k === "metadata" && isObject(v)) {
      for (const [mk, mv] of Object.entries(v)) {
        if (!SERVER_METADATA.has(mk)) walk(mv, ["metadata", mk]);
      }
      continue;
    }
    walk(v, [k]);
  }
  return out;
}

function get(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const seg of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

function remove(obj: JsonObject, path: readonly string[]): void {
  const parents: JsonObject[] = [];
  let cur: unknown = obj;
  for (const seg of path.slice(0, -1)) {
    if (!isObject(cur)) return;
    parents.push(cur);
    cur = cur[seg];
  }
  if (!isObject(cur)) return;
  delete cur[path[path.length - 1]!];
  // Drop maps the removal emptied (not the top-level ones: metadata, spec).
  for (let i = path.length - 2; i >= 1; i--) {
    const parent = parents[i]!;
    const child = parent[path[i]!];
    if (isObject(child) && Object.keys(child).length === 0) delete parent[path[i]!];
    else break;
  }
}

/** `base` with `patch` merged in: objects key by key, anything else replaced. */
export function deepMerge(base: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = out[k];
    out[k] = isObject(v) && isObject(b) ? deepMerge(b, v) : clone(v);
  }
  return out;
}

/** One `metadata.managedFields` entry. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: JsonObject;
  subresource?: string;
}

/** FieldsV1 (`{"f:a": {"f:b": {}}}`) of a field set. */
export function toFieldsV1(set: FieldSet): JsonObject {
  const root: JsonObject = {};
  for (const key of [...set].sort()) {
    let node = root;
    for (const seg of JSON.parse(key) as string[]) {
      const k = `f:${seg}`;
      if (!isObject(node[k])) node[k] = {};
      node = node[k] as JsonObject;
    }
  }
  return root;
}

/** The field set of a FieldsV1 tree (leaves are the empty nodes). */
export function fromFieldsV1(tree: JsonObject): FieldSet {
  const out: FieldSet = new Set();
  const walk = (node: JsonObject, path: string[]) => {
    const keys = Object.keys(node).filter((k) => k.startsWith("f:"));
    if (keys.length === 0 && path.length > 0) out.add(JSON.stringify(path));
    for (const k of keys) walk((node[k] as JsonObject) ?? {}, [...path, k.slice(2)]);
  };
  walk(tree, []);
  return out;
}

/** Managed fields by manager and operation (the entries of an object). */
export type Ownership = Map<string, { entry: ManagedFieldsEntry; set: FieldSet }>;

const ownerKey = (manager: string, operation: string, subresource?: string) =>
  `${manager}\u0000${operation}\u0000${subresource ?? ""}`;

export function readOwnership(obj: JsonObject | undefined): Ownership {
  const out: Ownership = new Map();
  const entries = (isObject(obj?.metadata) && obj.metadata.managedFields) || [];
  for (const e of entries as ManagedFieldsEntry[]) {
    out.set(ownerKey(e.manager, e.operation, e.subresource), {
      entry: e,
      set: fromFieldsV1(e.fieldsV1 ?? {}),
    });
  }
  return out;
}

export function writeOwnership(own: Ownership): ManagedFieldsEntry[] {
  const out: ManagedFieldsEntry[] = [];
  for (const { entry, set } of own.values()) {
    if (set.size === 0) continue;
    out.push({ ...entry, fieldsV1: toFieldsV1(set) });
  }
  return out;
}

function overlaps(a: PathKey, b: PathKey): boolean {
  if (a === b) return true;
  const pa = a.slice(0, -1);
  const pb = b.slice(0, -1);
  return pa.startsWith(`${pb},`) || pb.startsWith(`${pa},`);
}

/** One field another manager owns with a different value. */
export interface ApplyConflict {
  readonly manager: string;
  readonly path: string;
}

/** What {@link serverSideApply} produced. */
export interface ApplyOutcome {
  readonly object: JsonObject;
  readonly conflicts: readonly ApplyConflict[];
}

/**
 * Server-side apply of `applied` (the manager's whole intent for `part` of the object)
 * over `current` (undefined: the object is created). Fields the manager applied before
 * and no longer applies are removed unless another manager owns them. A field another
 * manager owns with a different value is a conflict unless `force` (then it moves to
 * this manager). Returns the new object with its managedFields.
 */
export function serverSideApply(
  current: JsonObject | undefined,
  applied: JsonObject,
  opts: {
    manager: string;
    force: boolean;
    apiVersion: string;
    now: string;
    part: "main" | "status";
  },
): ApplyOutcome {
  const own = readOwnership(current);
  const sub = opts.part === "status" ? "status" : undefined;
  const mine = ownerKey(opts.manager, "Apply", sub);
  const newSet = leafPaths(applied, opts.part);
  const oldSet = own.get(mine)?.set ?? new Set<PathKey>();
  const conflicts: ApplyConflict[] = [];
  const base: JsonObject = clone(current ?? {});
  for (const [k, o] of own) {
    if (k === mine) continue;
    for (const p of o.set) {
      for (const q of newSet) {
        if (!overlaps(p, q)) continue;
        const path = JSON.parse(q) as string[];
        if (jsonEqual(get(base, path), get(applied, path))) continue;
        if (opts.force) o.set.delete(p);
        else conflicts.push({ manager: o.entry.manager, path: `.${path.join(".")}` });
      }
    }
  }
  if (conflicts.length > 0) return { object: base, conflicts };
  let out = base;
  for (const p of oldSet) {
    if (newSet.has(p)) continue;
    const ownedElsewhere = [...own].some(([k, o]) => k !== mine && o.set.has(p));
    if (!ownedElsewhere) remove(out, JSON.parse(p) as string[]);
  }
  const body: JsonObject = {};
  for (const [k, v] of Object.entries(applied)) {
    if (k === "apiVersion" || k === "kind") continue;
    if (opts.part === "main" && k === "status") continue;
    if (opts.part === "status" && k !== "status") continue;
    if (k === "metadata" && isObject(v)) {
      const m: JsonObject = {};
      for (const [mk, mv] of Object.entries(v)) if (!SERVER_METADATA.has(mk)) m[mk] = mv;
      body[k] = m;
    } else body[k] = v;
  }
  out = deepMerge(out, body);
  const prev = own.get(mine)?.entry;
  const unchanged = prev !== undefined && setsEqual(oldSet, newSet);
  own.set(mine, {
    entry: {
      manager: opts.manager,
      operation: "Apply",
      apiVersion: opts.apiVersion,
      time: unchanged ? prev.time : opts.now,
      fieldsType: "FieldsV1",
      fieldsV1: {},
      ...(sub ? { subresource: sub } : {}),
    },
    set: newSet,
  });
  setManagedFields(out, own);
  return { object: out, conflicts };
}

function setsEqual(a: FieldSet, b: FieldSet): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function setManagedFields(obj: JsonObject, own: Ownership): void {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  obj.metadata = { ...meta, managedFields: writeOwnership(own) };
}

/**
 * Records an update (create, PUT, merge or JSON patch) by `manager`: the leaf paths whose
 * value changed between `before` and `after` move to this manager's Update entry;
 * paths that no longer exist leave every entry.
 */
export function recordUpdate(
  before: JsonObject | undefined,
  after: JsonObject,
  opts: { manager: string; apiVersion: string; now: string; part: "main" | "status" | "all" },
): void {
  const own = readOwnership(before);
  const sub = opts.part === "status" ? "status" : undefined;
  const mine = ownerKey(opts.manager, "Update", sub);
  const afterSet = leafPaths(after, opts.part === "all" ? "main" : opts.part);
  const changed: FieldSet = new Set();
  for (const p of afterSet) {
    const path = JSON.parse(p) as string[];
    if (before === undefined || !jsonEqual(get(before, path), get(after, path))) changed.add(p);
  }
  const allAfter = leafPaths(after, "all");
  for (const [k, o] of own) {
    for (const p of [...o.set]) {
      if (!allAfter.has(p)) o.set.delete(p);
      else if (k !== mine && changed.has(p)) o.set.delete(p);
    }
  }
  if (changed.size > 0) {
    const prev = own.get(mine);
    own.set(mine, {
      entry: {
        manager: opts.manager,
        operation: "Update",
        apiVersion: opts.apiVersion,
        time: opts.now,
        fieldsType: "FieldsV1",
        fieldsV1: {},
        ...(sub ? { subresource: sub } : {}),
      },
      set: new Set([...(prev?.set ?? []), ...changed]),
    });
  }
  setManagedFields(after, own);
}
