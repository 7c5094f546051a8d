/**
 * Loading a ModelPool: YAML text (or a custom resource object) → validated, defaulted,
 * frozen {@link Policy}, or every problem found, each at file:line:col.
 *
 * Steps: parse YAML keeping node positions → check apiVersion / kind → fill defaults →
 * schema errors (TypeBox `Value.Errors`, mapped from JSON pointers to YAML positions) →
 * cross-field rules → freeze, adding `<duration>Seconds` beside every duration.
 */

import { readFile } from "node:fs/promises";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
} from "yaml";
import { InputError, type Problem, type SourcePos, sortProblems } from "../diagnostics/problem.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { CronError, parseCron } from "./cron.js";
import { parseDuration } from "./duration.js";
import {
  API_GROUP,
  API_VERSION,
  batchingSchema,
  isDurationSchema,
  KIND,
  type ModelPoolDocument,
  modelPoolSchema,
  type Policy,
  type PolicyPath,
  type PolicySource,
} from "./schema.js";

/** What {@link parseModelPool} returns: a policy when there were no problems. */
export interface ModelPoolResult {
  /** The policy, present exactly when `problems` is empty. */
  readonly policy?: Policy;
  /** Every problem found, sorted by position. */
  readonly problems: readonly Problem[];
}

/** One step of a path: a mapping key or a list index. */
export type PathSegment = string | number;

// ---------------------------------------------------------------------------------------
// Paths

const identRe = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Formats path segments the way problems name fields: `spec.models[0].template`; keys that
 * are not identifiers are quoted: `spec.capacity.nodeSelector["cloud.google.com/gke-spot"]`.
 */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (identRe.test(s)) out += out === "" ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

const pathTokenRe =
  /([A-Za-z_][A-Za-z0-9_-]*)|\.([A-Za-z_][A-Za-z0-9_-]*)|\[([0-9]+)\]|\[("(?:[^"\\]|\\.)*")\]/y;

/**
 * Parses a path written by {@link formatPath} back into segments.
 *
 * @throws Error naming the path when it is malformed (a bug in the caller).
 */
export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  pathTokenRe.lastIndex = 0;
  while (pathTokenRe.lastIndex < path.length) {
    const at = pathTokenRe.lastIndex;
    const m = pathTokenRe.exec(path);
    if (m === null || (m[1] !== undefined && at !== 0)) {
      throw new Error(`malformed policy path ${JSON.stringify(path)} at offset ${at}`);
    }
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(m[2]);
    else if (m[3] !== undefined) out.push(Number(m[3]));
    else out.push(JSON.parse(m[4]!) as string);
  }
  return out;
}

function toSegments(path: PolicyPath): readonly PathSegment[] {
  return typeof path === "string" ? parsePath(path) : path;
}

// ---------------------------------------------------------------------------------------
// Source positions

interface Place {
  readonly key?: SourcePos;
  readonly value: SourcePos;
}

/** Positions of every written node of a document, by formatted path. */
class SourceIndex implements PolicySource {
  readonly file: string;
  /** False for input without positions (an API object): every position is then unknown. */
  readonly hasPositions: boolean;
  readonly #places: ReadonlyMap<string, Place>;

  constructor(file: string, places: ReadonlyMap<string, Place>) {
    this.file = file;
    this.#places = places;
    this.hasPositions = places.size > 0;
  }

  positionOf(path: PolicyPath): SourcePos | undefined {
    return this.#places.get(formatPath(toSegments(path)))?.value;
  }

  keyPositionOf(path: PolicyPath): SourcePos | undefined {
    const place = this.#places.get(formatPath(toSegments(path)));
    return place?.key ?? place?.value;
  }

  nearestPositionOf(path: PolicyPath): SourcePos | undefined {
    const segs = toSegments(path);
    for (let n = segs.length; n >= 0; n--) {
      const place = this.#places.get(formatPath(segs.slice(0, n)));
      if (place !== undefined) return place.value;
    }
    return undefined;
  }

  problemAt(path: PolicyPath, message: string, rule?: string): Problem {
    const pos = this.nearestPositionOf(path);
    return {
      file: this.file,
      line: pos?.line ?? 0,
      col: pos?.col ?? 0,
      path: formatPath(toSegments(path)),
      message,
      ...(rule === undefined ? {} : { rule }),
    };
  }

  /** A problem at the key of `path` (for unknown fields), else at its nearest position. */
  keyProblemAt(path: readonly PathSegment[], message: string): Problem {
    const pos = this.keyPositionOf(path) ?? this.nearestPositionOf(path);
    return {
      file: this.file,
      line: pos?.line ?? 0,
      col: pos?.col ?? 0,
      path: formatPath(path),
      message,
    };
  }
}

/** Records the position of every key and value of a YAML document; reports duplicate and non-string keys. */
function indexDocument(
  doc: Document.Parsed,
  lineCounter: LineCounter,
  file: string,
  problems: Problem[],
): Map<string, Place> {
  const places = new Map<string, Place>();
  const posAt = (offset: number): SourcePos => lineCounter.linePos(offset);
  const rangeStart = (node: unknown): number | undefined => {
    const r = (node as { range?: readonly number[] | null } | null)?.range;
    return r?.[0];
  };

  const walk = (node: unknown, segs: PathSegment[], place: Place, depth: number): void => {
    places.set(formatPath(segs), place);
    if (depth > 64) return;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target !== undefined) walk(target, segs, place, depth + 1);
      return;
    }
    if (isMap(node)) {
      const seen = new Map<string, SourcePos>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyStart = rangeStart(pair.key);
        const keyPos = keyStart === undefined ? place.value : posAt(keyStart);
        if (!isScalar(pair.key)) {
          problems.push({
            file,
            line: keyPos.line,
            col: keyPos.col,
            path: formatPath(segs),
            message: "mapping keys must be plain strings",
          });
          continue;
        }
        const key = String(pair.key.value);
        const childSegs = [...segs, key];
        const first = seen.get(key);
        if (first !== undefined) {
          problems.push({
            file,
            line: keyPos.line,
            col: keyPos.col,
            path: formatPath(childSegs),
            message: `duplicate key (first at line ${first.line})`,
          });
          continue;
        }
        seen.set(key, keyPos);
        const value = pair.value;
        const valueStart = rangeStart(value);
        // An empty value (`key:` with nothing after it) is best pointed at by its key.
        const empty = isScalar(value) && value.value === null && value.source === "";
        const valuePos = valueStart === undefined || empty ? keyPos : posAt(valueStart);
        walk(value, childSegs, { key: keyPos, value: valuePos }, depth + 1);
      }
      return;
    }
    if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const start = rangeStart(item);
        walk(
          item,
          [...segs, i],
          { value: start === undefined ? place.value : posAt(start) },
          depth + 1,
        );
      });
    }
  };

  const rootStart = rangeStart(doc.contents) ?? 0;
  walk(doc.contents, [], { value: posAt(rootStart) }, 0);
  return places;
}

// ---------------------------------------------------------------------------------------
// Entry points

/**
 * Parses and validates a ModelPool YAML file's text. Never throws for bad input: returns
 * the policy, or every problem found (YAML syntax, unknown keys, types, ranges, cross-field
 * rules), each with `file`:line:col.
 */
export function parseModelPool(text: string, file: string): ModelPoolResult {
  const problems: Problem[] = [];
  const at = (pos: SourcePos, message: string, path = ""): Problem => ({
    file,
    line: pos.line,
    col: pos.col,
    path,
    message,
  });
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  // One syntax error per line: the parser's follow-on errors on the same line are noise.
  const linesWithErrors = new Set<number>();
  for (const doc of docs) {
    for (const e of doc.errors) {
      const pos = lineCounter.linePos(e.pos[0]);
      if (linesWithErrors.has(pos.line)) continue;
      linesWithErrors.add(pos.line);
      problems.push(at(pos, `invalid YAML: ${e.message}`));
    }
  }
  if (problems.length > 0) return { problems: sortProblems(problems) };

  const written = docs.filter((d) => !isEmptyDocument(d));
  if (written.length === 0) {
    return {
      problems: [at({ line: 1, col: 1 }, `the file is empty; expected a ${KIND} document`)],
    };
  }
  if (written.length > 1) {
    const second = written[1]!;
    return {
      problems: [
        at(
          lineCounter.linePos(second.range[0]),
          `found ${written.length} YAML documents; a ${KIND} file must hold exactly one (put each pool in its own file)`,
        ),
      ],
    };
  }
  const doc = written[0]!;
  const places = indexDocument(doc, lineCounter, file, problems);
  const source = new SourceIndex(file, places);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    problems.push(at({ line: 1, col: 1 }, `invalid YAML: ${(e as Error).message}`));
    return { problems: sortProblems(problems) };
  }
  return check(value, source, problems);
}

/**
 * Parses and validates a ModelPool YAML file's text.
 *
 * @throws InputError carrying every problem found.
 */
export function loadModelPool(text: string, file: string): Policy {
  const r = parseModelPool(text, file);
  if (r.policy === undefined) throw new InputError(r.problems, `${file}: invalid ${KIND}`);
  return r.policy;
}

/** Reads and validates a ModelPool file; a file that cannot be read is a problem too. */
export async function parseModelPoolFile(path: string): Promise<ModelPoolResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory, not a file"
          : (e as Error).message;
    return {
      problems: [{ file: path, line: 0, col: 0, path: "", message: `cannot read: ${why}` }],
    };
  }
  return parseModelPool(text, path);
}

/**
 * Reads and validates a ModelPool file.
 *
 * @throws InputError carrying every problem found (including an unreadable file).
 */
export async function loadModelPoolFile(path: string): Promise<Policy> {
  const r = await parseModelPoolFile(path);
  if (r.policy === undefined) throw new InputError(r.problems, `${path}: invalid ${KIND}`);
  return r.policy;
}

/** Metadata fields the API server sets; ignored when validating a custom resource. */
const serverMetadata = [
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "finalizers",
  "ownerReferences",
  "generateName",
  "selfLink",
];

/**
 * Validates a ModelPool custom resource as read from the API server (or any object without
 * source positions): `status` and server-set metadata are ignored; problems carry line 0
 * and name `origin` (e.g. `modelpool vision/yolo-detect`) as their file.
 */
export function parseModelPoolObject(value: unknown, origin: string): ModelPoolResult {
  let input = value;
  if (isRecord(value)) {
    const { status: _status, ...rest } = value;
    input = rest;
    if (isRecord(rest.metadata)) {
      const metadata: Record<string, unknown> = { ...rest.metadata };
      for (const k of serverMetadata) delete metadata[k];
      input = { ...rest, metadata };
    }
  }
  return check(input, new SourceIndex(origin, new Map()), []);
}

// ---------------------------------------------------------------------------------------
// Validation

function isEmptyDocument(doc: Document.Parsed): boolean {
  const c = doc.contents;
  return c === null || (isScalar(c) && c.value === null && c.source === "");
}

/**
 * A deep copy that does not keep shared references: YAML aliases (`*anchor`) give one JS
 * object several places in the tree, and each place gets its own defaults.
 */
function copyTree<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => copyTree(v)) as T;
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // defineProperty, so a `__proto__` key stays a key (and is reported as unknown).
      Object.defineProperty(out, k, {
        value: copyTree(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out as T;
  }
  return value;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks a plain value (from YAML or an API object) and builds the policy. */
function check(raw: unknown, source: SourceIndex, problems: Problem[]): ModelPoolResult {
  if (!isRecord(raw)) {
    problems.push(
      source.problemAt(
        [],
        `must be a mapping with apiVersion, kind, metadata and spec (got ${describe(raw)})`,
      ),
    );
    return { problems: sortProblems(problems) };
  }
  if (!checkHeader(raw, source, problems)) return { problems: sortProblems(problems) };

  const doc = copyTree(raw);
  applyDefaults(modelPoolSchema, doc);
  defaultBatching(doc);

  const invalid = new Set<string>();
  for (const p of schemaProblems(doc, source)) {
    problems.push(p);
    invalid.add(p.path);
  }
  const fields = new Fields(doc, source, invalid, problems);
  for (const rule of crossFieldRules) rule(fields);

  const unique = dedupe(problems);
  if (unique.length > 0) return { problems: sortProblems(unique) };
  return { policy: buildPolicy(doc as ModelPoolDocument, source), problems: [] };
}

/** apiVersion and kind; false when the document is not a ModelPool at all (stop there). */
function checkHeader(
  raw: Record<string, unknown>,
  source: SourceIndex,
  problems: Problem[],
): boolean {
  const { kind, apiVersion } = raw;
  let kindProblem: Problem | undefined;
  if (kind === undefined) {
    kindProblem = source.problemAt(["kind"], `missing required field; expected "${KIND}"`);
  } else if (kind !== KIND) {
    const hint = typeof kind === "string" ? didYouMean(kind, [KIND]) : "";
    kindProblem = source.problemAt(
      ["kind"],
      `must be "${KIND}" (got ${describe(kind)})${hint || "; this file is not a ModelPool"}`,
    );
    // Another kind of resource: its other fields would only add noise.
    if (hint === "") {
      problems.push(kindProblem);
      return false;
    }
  }
  if (apiVersion === undefined) {
    problems.push(
      source.problemAt(["apiVersion"], `missing required field; expected "${API_VERSION}"`),
    );
  } else if (apiVersion !== API_VERSION) {
    const message =
      typeof apiVersion === "string" && apiVersion.startsWith(`${API_GROUP}/`)
        ? `unsupported version ${describe(apiVersion)}; this tritonscale reads "${API_VERSION}"`
        : `must be "${API_VERSION}" (got ${describe(apiVersion)})`;
    problems.push(source.problemAt(["apiVersion"], message));
  }
  if (kindProblem !== undefined) problems.push(kindProblem);
  return true;
}

/** Fills absent fields that have a default, walking the schema; leaves wrong types alone. */
function applyDefaults(schema: unknown, value: unknown): unknown {
  const s = schema as { default?: unknown; properties?: Record<string, unknown>; items?: unknown };
  let v = value;
  if (v === undefined && "default" in s) v = structuredClone(s.default);
  if (isRecord(v) && s.properties !== undefined) {
    for (const [key, child] of Object.entries(s.properties)) {
      const filled = applyDefaults(child, v[key]);
      if (filled !== undefined) v[key] = filled;
    }
  } else if (Array.isArray(v) && s.items !== undefined) {
    for (let i = 0; i < v.length; i++) v[i] = applyDefaults(s.items, v[i]);
  }
  return v;
}

/** Models that batch (maxBatchSize > 0) get dynamic batching with its defaults. */
function defaultBatching(doc: Record<string, unknown>): void {
  const spec = doc.spec;
  if (!isRecord(spec) || !Array.isArray(spec.models)) return;
  for (const m of spec.models) {
    if (
      isRecord(m) &&
      m.batching === undefined &&
      typeof m.maxBatchSize === "number" &&
      m.maxBatchSize > 0
    ) {
      m.batching = applyDefaults(batchingSchema, {});
    }
  }
}

function dedupe(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.line}:${p.col}:${p.path}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

// ---------------------------------------------------------------------------------------
// Schema errors → problems

/** A schema node as the messages need it. */
interface SchemaNode {
  type?: string;
  const?: unknown;
  anyOf?: SchemaNode[];
  properties?: Record<string, unknown>;
  required?: string[];
  items?: SchemaNode;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  "x-valid"?: string;
}

const typeErrors = new Set<ValueErrorType>([
  ValueErrorType.Integer,
  ValueErrorType.Number,
  ValueErrorType.String,
  ValueErrorType.Boolean,
  ValueErrorType.Object,
  ValueErrorType.Array,
  ValueErrorType.Union,
  ValueErrorType.Literal,
]);
const rangeErrors = new Set<ValueErrorType>([
  ValueErrorType.IntegerMinimum,
  ValueErrorType.IntegerMaximum,
  ValueErrorType.IntegerExclusiveMinimum,
  ValueErrorType.IntegerExclusiveMaximum,
  ValueErrorType.NumberMinimum,
  ValueErrorType.NumberMaximum,
  ValueErrorType.NumberExclusiveMinimum,
  ValueErrorType.NumberExclusiveMaximum,
]);
const multipleErrors = new Set<ValueErrorType>([
  ValueErrorType.IntegerMultipleOf,
  ValueErrorType.NumberMultipleOf,
]);

/** Turns a JSON pointer into path segments, making indices into lists numbers. */
function pointerToSegments(pointer: string, root: unknown): PathSegment[] {
  if (pointer === "") return [];
  const out: PathSegment[] = [];
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) {
      out.push(Number(key));
      cur = cur[Number(key)];
    } else {
      out.push(key);
      cur = isRecord(cur) ? cur[key] : undefined;
    }
  }
  return out;
}

/** Every schema error of `doc`, one problem per field, with positions. */
function schemaProblems(doc: Record<string, unknown>, source: SourceIndex): Problem[] {
  const byPath = new Map<string, ValueError[]>();
  for (const e of Value.Errors(modelPoolSchema, doc)) {
    // The header check reported these already, better.
    if (e.path === "/apiVersion" || e.path === "/kind") continue;
    const list = byPath.get(e.path);
    if (list === undefined) byPath.set(e.path, [e]);
    else list.push(e);
  }
  const out: Problem[] = [];
  for (const [pointer, errors] of byPath) {
    const segs = pointerToSegments(pointer, doc);
    const unknown = errors.filter((e) => e.type === ValueErrorType.ObjectAdditionalProperties);
    for (const e of unknown) {
      const known = Object.keys((e.schema as SchemaNode).properties ?? {});
      const key = String(segs[segs.length - 1]);
      const hint =
        didYouMean(key, known) || (known.length > 0 ? `; valid fields: ${known.join(", ")}` : "");
      out.push(source.keyProblemAt(segs, `unknown field${hint}`));
    }
    const rest = errors.filter((e) => e.type !== ValueErrorType.ObjectAdditionalProperties);
    if (rest.length === 0) continue;
    const message = messageFor(rest);
    if (message !== undefined) out.push(source.problemAt(segs, message));
  }
  return out;
}

/** One message for all errors of one field. */
function messageFor(errors: readonly ValueError[]): string | undefined {
  const required = errors.find((e) => e.type === ValueErrorType.ObjectRequiredProperty);
  if (required !== undefined) {
    const s = required.schema as SchemaNode;
    const what =
      s.type === "object" && s.required !== undefined
        ? `a mapping with ${s.required.join(", ")}`
        : s.type === "array" && s.items?.required !== undefined
          ? `a list of mappings with ${s.items.required.join(", ")}`
          : expectation(s, { withType: true, range: true, multiple: true });
    return `missing required field${what ? ` (${what})` : ""}`;
  }
  const first = errors[0]!;
  const schema = first.schema as SchemaNode;
  const value = first.value;
  const typeError = errors.find((e) => typeErrors.has(e.type));
  if (typeError !== undefined) return typeMessage(typeError.schema as SchemaNode, value);

  const parts: string[] = [];
  const range = errors.some((e) => rangeErrors.has(e.type));
  const multiple = errors.some((e) => multipleErrors.has(e.type));
  if (range || multiple) {
    let msg = `must be ${expectation(schema, { withType: false, range, multiple })} (got ${describe(value)}`;
    if (multiple && !range && typeof value === "number" && schema.multipleOf !== undefined) {
      const lo = Math.floor(value / schema.multipleOf) * schema.multipleOf;
      const hi = lo + schema.multipleOf;
      const valid = [lo, hi].filter((n) => n > 0 && inRange(schema, n));
      if (valid.length > 0) msg += `; nearest valid: ${valid.join(" or ")}`;
    }
    parts.push(`${msg})`);
  }
  for (const e of errors) {
    switch (e.type) {
      case ValueErrorType.StringPattern:
        parts.push(
          `must be ${schema["x-valid"] ?? `a string matching /${schema.pattern}/`} (got ${describe(value)})`,
        );
        break;
      case ValueErrorType.StringMinLength:
        parts.push(
          schema.minLength === 1
            ? "must not be empty"
            : `must be at least ${schema.minLength} characters (got ${String(value).length})`,
        );
        break;
      case ValueErrorType.StringMaxLength:
        parts.push(`must be at most ${schema.maxLength} characters (got ${String(value).length})`);
        break;
      case ValueErrorType.ArrayMinItems:
        parts.push(
          `must have at least ${schema.minItems} ${schema.minItems === 1 ? "entry" : "entries"} (got ${Array.isArray(value) ? value.length : 0})`,
        );
        break;
      case ValueErrorType.ArrayMaxItems:
        parts.push(
          `must have at most ${schema.maxItems} entries (got ${Array.isArray(value) ? value.length : 0})`,
        );
        break;
      default:
        if (!rangeErrors.has(e.type) && !multipleErrors.has(e.type)) parts.push(e.message);
    }
  }
  return parts.length > 0 ? parts.join("; ") : undefined;
}

function inRange(s: SchemaNode, n: number): boolean {
  return (
    (s.minimum === undefined || n >= s.minimum) &&
    (s.maximum === undefined || n <= s.maximum) &&
    (s.exclusiveMinimum === undefined || n > s.exclusiveMinimum) &&
    (s.exclusiveMaximum === undefined || n < s.exclusiveMaximum)
  );
}

/** `between 32 and 4096`, `>= 0`, `> 0 and <= 1`, or undefined without bounds. */
function rangePhrase(s: SchemaNode): string | undefined {
  if (s.minimum !== undefined && s.maximum !== undefined) {
    return `between ${s.minimum} and ${s.maximum}`;
  }
  const parts: string[] = [];
  if (s.minimum !== undefined) parts.push(`>= ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) parts.push(`<= ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${s.exclusiveMaximum}`);
  return parts.length > 0 ? parts.join(" and ") : undefined;
}

/** What a valid value looks like: `an integer multiple of 32 between 32 and 4096`. */
function expectation(
  s: SchemaNode,
  opts: { withType: boolean; range: boolean; multiple: boolean },
): string {
  const enumValues = enumOf(s);
  if (enumValues !== undefined) return `one of ${enumValues.map((v) => `"${v}"`).join(", ")}`;
  if (s.const !== undefined) return `"${String(s.const)}"`;
  const words: string[] = [];
  if (opts.withType) words.push(typeWord(s));
  if (opts.multiple && s.multipleOf !== undefined) {
    words.push(opts.withType ? `multiple of ${s.multipleOf}` : `a multiple of ${s.multipleOf}`);
  }
  const range = opts.range ? rangePhrase(s) : undefined;
  if (range !== undefined) words.push(range);
  if (opts.withType && s.type === "string" && s["x-valid"] !== undefined) return s["x-valid"];
  return words.filter((w) => w !== "").join(" ");
}

function enumOf(s: SchemaNode): string[] | undefined {
  if (!Array.isArray(s.anyOf)) return undefined;
  return s.anyOf.map((v) => String(v.const));
}

function typeWord(s: SchemaNode): string {
  switch (s.type) {
    case "integer":
      return "an integer";
    case "number":
      return "a number";
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "object":
      return "a mapping";
    case "array":
      return "a list";
    default:
      return "";
  }
}

const yamlOneOneBooleans = new Set(["yes", "no", "on", "off", "y", "n", "true", "false"]);

function typeMessage(s: SchemaNode, value: unknown): string {
  const enumValues = enumOf(s);
  if (enumValues !== undefined) {
    const hint = typeof value === "string" ? didYouMean(value, enumValues) : "";
    return `must be one of ${enumValues.map((v) => `"${v}"`).join(", ")} (got ${describe(value)})${hint}`;
  }
  const what = expectation(s, { withType: true, range: true, multiple: true });
  let got = describe(value);
  if (isDurationSchema(s) && typeof value === "number") {
    got += `; add a unit, e.g. "${value}s"`;
  } else if (
    s.type === "string" &&
    (typeof value === "number" || typeof value === "boolean") &&
    (s.pattern === undefined || new RegExp(s.pattern).test(String(value)))
  ) {
    got += `; quote it: "${String(value)}"`;
  } else if (
    (s.type === "integer" || s.type === "number") &&
    typeof value === "string" &&
    value.trim() !== "" &&
    Number.isFinite(Number(value))
  ) {
    got += "; remove the quotes";
  } else if (
    s.type === "boolean" &&
    typeof value === "string" &&
    yamlOneOneBooleans.has(value.toLowerCase())
  ) {
    got += "; write true or false without quotes";
  }
  return `must be ${what} (got ${got})`;
}

/** A received value, for messages: `"fp8"`, `-5`, `a list`, `a mapping`, `an empty value`. */
function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  return String(value);
}

// ---------------------------------------------------------------------------------------
// Cross-field rules

/**
 * Read access to a defaulted document for the cross-field rules. A field that failed the
 * schema (or sits under one that did) reads as undefined, so a rule never reports a
 * mistake the schema already reported.
 */
class Fields {
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

/** Durations whose range the pattern cannot express: [path, min s, max s, min text, max text]. */
const durationLimits: readonly (readonly [string, number, number, string, string])[] = [
  ["spec.slo.window", 1, 86_400, "1s", "24h"],
  ["spec.scaling.syncPeriod", 1, 300, "1s", "5m"],
  ["spec.scaling.scaleUp.period", 1, 1800, "1s", "30m"],
  ["spec.scaling.scaleDown.period", 1, 1800, "1s", "30m"],
  ["spec.scaling.scaleUp.stabilizationWindow", 0, 3600, "0s", "1h"],
  ["spec.scaling.scaleDown.stabilizationWindow", 0, 3600, "0s", "1h"],
];

/** Durations within their ranges (the schema pattern only checks the syntax). */
function durationRules(f: Fields): void {
  for (const [path, lo, hi, loText, hiText] of durationLimits) {
    const s = f.seconds(path);
    if (s !== undefined && (s < lo || s > hi)) {
      f.report(path, `must be between ${loText} and ${hiText} (got ${f.str(path)})`);
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
    if (f.seconds(`${at}.duration`) === 0) {
      f.report(
        `${at}.duration`,
        `must be longer than 0s (got ${describe(f.str(`${at}.duration`))})`,
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
 * The rules that span fields, in the order their problems are found. Adding a rule is one
 * function here and one row in the test table.
 */
const crossFieldRules: readonly ((f: Fields) => void)[] = [
  modelRules,
  durationRules,
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

// ---------------------------------------------------------------------------------------
// The policy

/**
 * Copies a valid document in schema key order (so generators see a stable order whatever
 * the YAML order), adding `<field>Seconds` after every duration.
 */
function resolve(schema: unknown, value: unknown): unknown {
  const s = schema as {
    properties?: Record<string, unknown>;
    patternProperties?: Record<string, unknown>;
    items?: unknown;
  };
  if (Array.isArray(value)) return value.map((v) => resolve(s.items, v));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  if (s.properties !== undefined) {
    for (const [key, child] of Object.entries(s.properties)) {
      if (!(key in value)) continue;
      const v = value[key];
      out[key] = resolve(child, v);
      if (isDurationSchema(child) && typeof v === "string") out[`${key}Seconds`] = parseDuration(v);
    }
    return out;
  }
  for (const key of Object.keys(value).sort()) out[key] = value[key];
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function buildPolicy(doc: ModelPoolDocument, source: SourceIndex): Policy {
  const resolved = resolve(modelPoolSchema, doc) as object;
  // Non-enumerable: the source stays out of JSON output and deep-equality checks.
  Object.defineProperty(resolved, "source", { value: Object.freeze(source), enumerable: false });
  return deepFreeze(resolved) as Policy;
}
