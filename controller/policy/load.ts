/**
 * Loading a ModelPool: YAML text (or a custom resource object) → validated, defaulted,
 * frozen {@link Policy}, or every problem found, each at file:line:col.
 *
 * Steps, each in its own file:
 * 1. limits on the text and its aliases, before anything walks them (yaml-limits.ts);
 * 2. parse YAML (yaml-tree.ts: js-yaml's events, stopping at the first syntax error) and
 *    index the position of every written field (source.ts);
 * 3. check apiVersion / kind, fill defaults (here);
 * 4. schema errors as messages saying what is valid, plus the checks the schema carries as
 *    metadata: duration ranges and label keys (messages.ts, labels.ts);
 * 5. cross-field rules over the typed, schema-checked document (rules.ts);
 * 6. freeze, adding `<duration>Seconds` beside every duration (here).
 */

import {
  InputError,
  moreProblems,
  type Problem,
  type SourcePos,
  sortProblems,
} from "../diagnostics/problem.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { parseDuration } from "./duration.js";
import { cutLongLists, describe, isRecord, schemaProblems, setOwn } from "./messages.js";
import { crossFieldRules, RuleContext, templateRule } from "./rules.js";
import {
  API_GROUP,
  API_VERSION,
  batchingSchema,
  isDurationSchema,
  KIND,
  type ModelPoolDocument,
  modelPoolSchema,
  type Policy,
} from "./schema.js";
import { indexDocument, LineTable, SourceIndex } from "./source.js";
import { checkAliases, findDeepNesting, MAX_NESTING, nestsDeeperThan } from "./yaml-limits.js";
import { documentValue, readYaml } from "./yaml-tree.js";

export { formatPath, type PathSegment, parsePath } from "./source.js";

/** What the loader knows beyond the pool itself. */
export interface ParseOptions {
  /**
   * Names of the model templates that exist (folders of repo-templates/ or `--templates`):
   * when given, a model naming another template is a problem found together with every
   * other one. Default: template names are only checked for their syntax.
   */
  readonly templates?: readonly string[];
}

/** What {@link parseModelPool} returns: a policy when there were no problems. */
export interface ModelPoolResult {
  /** The policy, present exactly when `problems` is empty. */
  readonly policy?: Policy;
  /** Every problem found, sorted by position. */
  readonly problems: readonly Problem[];
}

// ---------------------------------------------------------------------------------------
// Entry points

/**
 * Parses and validates a ModelPool YAML file's text. Never throws for bad input: returns
 * the policy, or every problem found (YAML syntax, unknown keys, types, ranges, cross-field
 * rules), each with `file`:line:col.
 */
export function parseModelPool(
  text: string,
  file: string,
  options: ParseOptions = {},
): ModelPoolResult {
  const problems: Problem[] = [];
  const at = (pos: SourcePos, message: string, path = ""): Problem => ({
    file,
    line: pos.line,
    col: pos.col,
    path,
    message,
  });
  const lines = new LineTable(text);
  const deep = findDeepNesting(text);
  if (deep !== undefined) {
    return {
      problems: [
        at(
          lines.position(deep),
          `lists and mappings nest deeper than ${MAX_NESTING} levels here; a ${KIND} needs fewer than 10`,
        ),
      ],
    };
  }
  const read = readYaml(text, MAX_NESTING + 1);
  if (!read.ok) {
    const message = `invalid YAML: ${clip(read.message)}${YAML_HINTS.get(read.message) ?? ""}`;
    return { problems: [at(lines.position(read.offset), message)] };
  }
  const written = read.documents.filter((d) => d.contents !== undefined);
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
          lines.position(second.start),
          `found ${written.length} YAML documents; a ${KIND} file must hold exactly one (put each pool in its own file)`,
        ),
      ],
    };
  }
  const doc = written[0]!;
  // Aliases first: nothing below may expand them until they are known to be bounded. A text
  // without a `&` has no anchor, so no alias that resolves (an alias without its anchor is
  // reported by checkAliases): then the value shares no part with another, so `check`
  // need not copy it. (A `*` is in every cron.)
  const aliasFree = !text.includes("&");
  const aliasProblems = aliasFree ? [] : checkAliases(doc, lines, file);
  if (aliasProblems.length > 0) return { problems: capProblems(aliasProblems, 0, file) };
  const index = indexDocument(text, doc, lines, file, problems);
  const source = new SourceIndex(file, index.places, lines);
  const built = documentValue(text, read.events, doc, index.removed);
  if (!built.ok) {
    // An alias of an anchor under a key indexDocument removed (and reported) is unresolved:
    // the key's problem says it all.
    if (problems.length === 0) {
      problems.push(at(lines.position(built.offset), `invalid YAML: ${clip(built.message)}`));
    }
    return { problems: sortProblems(problems) };
  }
  const value = built.value;
  return check(value, source, problems, options, aliasFree);
}

/**
 * Parses and validates a ModelPool YAML file's text.
 *
 * @throws InputError carrying every problem found.
 */
export function loadModelPool(text: string, file: string, options: ParseOptions = {}): Policy {
  const r = parseModelPool(text, file, options);
  if (r.policy === undefined) throw new InputError(r.problems, `${file}: invalid ${KIND}`);
  return r.policy;
}

/**
 * The `metadata.name` and `metadata.namespace` a ModelPool text means to have, read even
 * when the pool is invalid (so that a broken file still stands for its pool); undefined
 * when the text is not a single YAML mapping with a name. Cheap: no validation, aliases
 * are not expanded.
 */
export function readPoolName(
  text: string,
): { readonly name: string; readonly namespace?: string } | undefined {
  if (findDeepNesting(text) !== undefined) return undefined;
  const read = readYaml(text, MAX_NESTING + 1);
  if (!read.ok) return undefined;
  const written = read.documents.filter((d) => d.contents !== undefined);
  if (written.length !== 1) return undefined;
  const built = documentValue(text, read.events, written[0]!);
  if (!built.ok || !isRecord(built.value) || !isRecord(built.value.metadata)) return undefined;
  const { name, namespace } = built.value.metadata;
  if (typeof name !== "string" || name === "") return undefined;
  return typeof namespace === "string" ? { name, namespace } : { name };
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
export function parseModelPoolObject(
  value: unknown,
  origin: string,
  options: ParseOptions = {},
): ModelPoolResult {
  const source = new SourceIndex(origin, new Map());
  if (nestsDeeperThan(value)) {
    const message = `lists and mappings nest deeper than ${MAX_NESTING} levels; a ${KIND} needs fewer than 10`;
    return { problems: [source.problemAt([], message)] };
  }
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
  return check(input, source, [], options);
}

// ---------------------------------------------------------------------------------------
// Validation

/**
 * What usually causes the YAML reader's terser errors, appended to them: the reader stops at
 * the first error, on the line where the structure broke, which may be below the mistake.
 */
const YAML_HINTS = new Map<string, string>([
  [
    "deficient indentation",
    ": a [, { or quote opened above may be missing its end, or this line is indented less than the value it continues",
  ],
  [
    "bad indentation of a mapping entry",
    ': keys of one mapping start in the same column, and a value holding ": " needs quotes',
  ],
  [
    "end of the stream or a document separator is expected",
    ": this line does not fit the structure above it (check its indentation, and that no tab indents it)",
  ],
]);

/** A parser message cut to a readable length (it may quote a whole token of the input). */
function clip(message: string, max = 200): string {
  return message.length > max ? `${message.slice(0, max - 3)}...` : message;
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
      setOwn(out, k, copyTree(v)); // a `__proto__` key stays a key (and is reported)
    }
    return out as T;
  }
  return value;
}

/**
 * Checks a plain value (from YAML or an API object) and builds the policy. `owned`: the
 * value is the loader's own, a tree without shared parts, which defaults may fill in place.
 */
function check(
  raw: unknown,
  source: SourceIndex,
  problems: Problem[],
  options: ParseOptions,
  owned = false,
): ModelPoolResult {
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

  const doc = owned ? raw : copyTree(raw);
  const invalid = new Set<string>();
  for (const cut of cutLongLists(modelPoolSchema, doc)) {
    const p = source.problemAt(cut.path, cut.message);
    problems.push(p);
    invalid.add(p.path);
  }
  applyDefaults(modelPoolSchema, doc);
  defaultBatching(doc);

  const schema = schemaProblems(doc, source, MAX_PROBLEMS);
  for (const p of schema.problems) {
    problems.push(p);
    invalid.add(p.path);
  }
  for (const path of schema.invalidBeyondLimit) invalid.add(path);
  const context = new RuleContext(doc, source, invalid, problems);
  for (const rule of crossFieldRules) rule(context);
  if (options.templates !== undefined) templateRule(context, options.templates);

  const unique = dedupe(problems);
  if (unique.length > 0) return { problems: capProblems(unique, schema.more, source.file) };
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

/**
 * The most problems a ModelPool file reports one by one; the rest are summed up in one
 * closing line (`and 59,800 more problems`). A pool has a few hundred fields: a file with
 * more problems than this is not a pool with typos, and listing each would cost more time
 * than parsing it (60,000 unknown fields in a 1 MB file).
 */
export const MAX_PROBLEMS = 200;

/** The first `MAX_PROBLEMS` problems by position, then the summary of the rest. */
function capProblems(problems: readonly Problem[], uncounted: number, file: string): Problem[] {
  const sorted = sortProblems(problems);
  const more = uncounted + Math.max(0, sorted.length - MAX_PROBLEMS);
  if (more === 0) return sorted;
  return [...sorted.slice(0, MAX_PROBLEMS), moreProblems(file, more)];
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
  for (const key of Object.keys(value).sort()) setOwn(out, key, value[key]);
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
