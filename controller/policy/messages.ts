/**
 * Schema errors → problems: TypeBox `Value.Errors` of a document, one message per field
 * saying what would be valid, at the field's position.
 */

import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import type { Problem } from "../diagnostics/problem.js";
import { createSuggester, didYouMean } from "../diagnostics/suggest.js";
import { formatDuration, isDuration, parseDuration } from "./duration.js";
import { qualifiedNameProblem } from "./labels.js";
import {
  type DurationBounds,
  durationBoundsOf,
  isDurationSchema,
  modelPoolSchema,
} from "./schema.js";
import { formatPath, type PathSegment, type SourceIndex } from "./source.js";

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

/** A JSON pointer segment as the key it names (`~1` is `/`, `~0` is `~`). */
function unescapePointer(raw: string): string {
  return raw.includes("~") ? raw.replace(/~1/g, "/").replace(/~0/g, "~") : raw;
}

/** Turns a JSON pointer into path segments, making indices into lists numbers. */
function pointerToSegments(pointer: string, root: unknown): PathSegment[] {
  if (pointer === "") return [];
  const out: PathSegment[] = [];
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = unescapePointer(raw);
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

/** The schema's verdict on a document: its problems, up to a limit, and what was left out. */
export interface SchemaCheck {
  /** At most `limit` problems, each with its position and message. */
  readonly problems: Problem[];
  /**
   * Fields that failed the schema beyond the limit, counted (one problem each) but not
   * written out: the file already has more problems than anyone reads in one go.
   */
  readonly more: number;
  /**
   * Dotted paths of every field that failed the schema other than as an unknown field,
   * the ones beyond the limit included (the cross-field rules read them as absent).
   */
  readonly invalidBeyondLimit: readonly string[];
}

/**
 * Every schema error of `doc`, one problem per field, with positions, the first `limit` of
 * them written out (in the schema's order) and the rest only counted: building a message
 * and a position for each of 60,000 unknown fields in a 1 MB file cost more than parsing
 * it. The did-you-mean hints of unknown fields share one budget per document (see
 * `createSuggester`): a file with 20,000 unknown fields gets hints for the first few
 * thousand and the list of valid fields for the rest.
 */
export function schemaProblems(
  doc: Record<string, unknown>,
  source: SourceIndex,
  limit = Number.POSITIVE_INFINITY,
): SchemaCheck {
  const suggest = createSuggester();
  const byPath = new Map<string, ValueError[]>();
  for (const e of Value.Errors(modelPoolSchema, doc)) {
    // The header check reported these already, better.
    if (e.path === "/apiVersion" || e.path === "/kind") continue;
    const list = byPath.get(e.path);
    if (list === undefined) byPath.set(e.path, [e]);
    else list.push(e);
  }
  const out: Problem[] = [];
  // Per object schema, its field names and the list of them (an object may have 20,000
  // unknown fields); per mapping pointer, its segments.
  const fieldsOf = new Map<SchemaNode, { known: string[]; valid: string }>();
  const unknownField = (key: string, schema: SchemaNode): string => {
    let fields = fieldsOf.get(schema);
    if (fields === undefined) {
      const known = Object.keys(schema.properties ?? {});
      fields = { known, valid: known.length > 0 ? `; valid fields: ${known.join(", ")}` : "" };
      fieldsOf.set(schema, fields);
    }
    return `unknown field${suggest(key, fields.known) || fields.valid}`;
  };
  const parents = new Map<string, PathSegment[]>();
  let more = 0;
  const invalidBeyondLimit: string[] = [];
  for (const [pointer, errors] of byPath) {
    if (out.length >= limit) {
      more++;
      // An unknown field is no field a rule reads; any other failed field must read as absent.
      if (errors.some((e) => e.type !== ValueErrorType.ObjectAdditionalProperties)) {
        invalidBeyondLimit.push(formatPath(pointerToSegments(pointer, doc)));
      }
      continue;
    }
    if (errors.length === 1 && errors[0]!.type === ValueErrorType.ObjectAdditionalProperties) {
      // The common case, cut short: one unknown field, under a mapping reached before.
      const slash = pointer.lastIndexOf("/");
      const parentPointer = pointer.slice(0, slash);
      let parent = parents.get(parentPointer);
      if (parent === undefined) {
        parent = pointerToSegments(parentPointer, doc);
        parents.set(parentPointer, parent);
      }
      const key = unescapePointer(pointer.slice(slash + 1));
      out.push(
        source.keyProblemAt([...parent, key], unknownField(key, errors[0]!.schema as SchemaNode)),
      );
      continue;
    }
    const segs = pointerToSegments(pointer, doc);
    const unknown = errors.filter((e) => e.type === ValueErrorType.ObjectAdditionalProperties);
    for (const e of unknown) {
      const key = String(segs[segs.length - 1]);
      out.push(source.keyProblemAt(segs, unknownField(key, e.schema as SchemaNode)));
    }
    const rest = errors.filter((e) => e.type !== ValueErrorType.ObjectAdditionalProperties);
    if (rest.length === 0) continue;
    const message = messageFor(rest);
    if (message !== undefined) out.push(source.problemAt(segs, message));
  }
  for (const p of extensionProblems(modelPoolSchema, doc)) {
    if (out.length >= limit) {
      more++;
      invalidBeyondLimit.push(formatPath(p.path));
      continue;
    }
    out.push(
      p.atKey ? source.keyProblemAt(p.path, p.message) : source.problemAt(p.path, p.message),
    );
  }
  return { problems: out, more, invalidBeyondLimit };
}

/** A list longer than its schema's `maxItems`, cut to it by {@link cutLongLists}. */
export interface CutList {
  readonly path: readonly PathSegment[];
  readonly message: string;
}

/**
 * Cuts every list longer than its schema's `maxItems` down to it, in place, and says which:
 * one problem per list (`must have at most 64 entries (got 17516); entries after the 64th
 * were not checked`), instead of checking thousands of entries no valid pool can have —
 * each with defaults to fill and several missing fields to report.
 */
export function cutLongLists(schema: unknown, value: unknown): CutList[] {
  const out: CutList[] = [];
  const walk = (s: SchemaNode | undefined, v: unknown, path: PathSegment[]): void => {
    if (s === undefined) return;
    if (Array.isArray(v)) {
      if (s.maxItems !== undefined && v.length > s.maxItems) {
        out.push({
          path,
          message: `must have at most ${s.maxItems} entries (got ${v.length}); entries after the ${ordinal(s.maxItems)} were not checked`,
        });
        v.length = s.maxItems;
      }
      for (let i = 0; i < v.length; i++) walk(s.items, v[i], [...path, i]);
      return;
    }
    if (!isRecord(v) || s.properties === undefined) return;
    for (const [key, child] of Object.entries(s.properties)) {
      if (Object.hasOwn(v, key)) walk(child as SchemaNode, v[key], [...path, key]);
    }
  };
  walk(schema as SchemaNode, value, []);
  return out;
}

/** `1st`, `2nd`, `3rd`, `64th`, `111th`. */
function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${suffix}`;
}

/** A problem found through the schema's own extensions (`x-duration`, `x-keys`). */
interface ExtensionProblem {
  readonly path: readonly PathSegment[];
  readonly message: string;
  /** Whether the problem is the key (reported at the key) rather than the value. */
  readonly atKey: boolean;
}

/** A schema node as the extension checks need it. */
interface ExtendedSchema {
  properties?: Record<string, unknown>;
  items?: unknown;
  "x-keys"?: string;
}

/**
 * Checks what JSON Schema cannot say, from metadata on the schema nodes, walking the schema
 * beside the value: every duration within its `x-duration` range, every key of an
 * `x-keys: qualified-name` map a Kubernetes qualified name. Values of the wrong type or
 * syntax are left to the schema's own errors.
 */
function extensionProblems(schema: unknown, value: unknown): ExtensionProblem[] {
  const out: ExtensionProblem[] = [];
  const walk = (s: ExtendedSchema | undefined, v: unknown, path: PathSegment[]): void => {
    if (s === undefined) return;
    const bounds = durationBoundsOf(s);
    if (bounds !== undefined) {
      if (typeof v === "string" && isDuration(v)) {
        const message = durationProblem(v, bounds);
        if (message !== undefined) out.push({ path, message, atKey: false });
      }
      return;
    }
    if (Array.isArray(v)) {
      if (s.items === undefined) return;
      for (let i = 0; i < v.length; i++) walk(s.items as ExtendedSchema, v[i], [...path, i]);
      return;
    }
    if (!isRecord(v)) return;
    if (s.properties !== undefined) {
      for (const [key, child] of Object.entries(s.properties)) {
        if (Object.hasOwn(v, key)) walk(child as ExtendedSchema, v[key], [...path, key]);
      }
      return;
    }
    if (s["x-keys"] === "qualified-name") {
      for (const key of Object.keys(v)) {
        const problem = qualifiedNameProblem(key);
        if (problem === undefined) continue;
        const shown = JSON.stringify(key.length > 60 ? `${key.slice(0, 57)}...` : key);
        out.push({
          path: [...path, key],
          message: `invalid key ${shown}: ${problem}`,
          atKey: true,
        });
      }
    }
  };
  walk(schema as ExtendedSchema, value, []);
  return out;
}

/** What is wrong with a well-formed duration against its bounds, or undefined. */
function durationProblem(text: string, bounds: DurationBounds): string | undefined {
  const seconds = parseDuration(text);
  if (seconds < parseDuration(bounds.minimum) || seconds > parseDuration(bounds.maximum)) {
    return `must be between ${bounds.minimum} and ${bounds.maximum} (got ${text})`;
  }
  if (bounds.wholeSeconds === true && !Number.isInteger(seconds)) {
    const lo = Math.max(Math.floor(seconds), parseDuration(bounds.minimum));
    return `must be a whole number of seconds (got ${text}; e.g. ${formatDuration(lo === 0 ? 1 : lo)})`;
  }
  return undefined;
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

/** A decimal number as YAML's core schema writes one (`1e309`, `-1.5E+400`). */
const overflowRe = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

function typeMessage(s: SchemaNode, value: unknown): string {
  const enumValues = enumOf(s);
  if (enumValues !== undefined) {
    const hint = typeof value === "string" ? didYouMean(value, enumValues) : "";
    return `must be one of ${enumValues.map((v) => `"${v}"`).join(", ")} (got ${describe(value)})${hint}`;
  }
  if (
    typeof value === "number" &&
    !Number.isFinite(value) &&
    (s.type === "integer" || s.type === "number")
  ) {
    const rest = expectation(s, { withType: false, range: true, multiple: true });
    return `must be a finite ${s.type}${rest ? `, ${rest}` : ""} (got ${describe(value)})`;
  }
  const what = expectation(s, { withType: true, range: true, multiple: true });
  let got = describe(value);
  if (typeof value === "number" && !Number.isFinite(value)) {
    // `.inf` or `1e309` where a string belongs: no quoting hint would help.
  } else if (isDurationSchema(s) && typeof value === "number") {
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
    overflowRe.test(value) &&
    !Number.isFinite(Number(value))
  ) {
    // YAML reads a number beyond the largest double (1.8e308) as text, not as .inf.
    got += "; a number that large cannot be held (the largest is about 1.8e308)";
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
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (typeof value === "number" && !Number.isFinite(value)) {
    return Number.isNaN(value) ? ".nan" : value > 0 ? ".inf" : "-.inf";
  }
  return String(value);
}

/**
 * Sets `record[key]` as an own property, so that a key such as `__proto__` stays an
 * ordinary key instead of replacing the prototype (and vanishing).
 */
export function setOwn(record: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(record, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else record[key] = value;
}

/** Whether `v` is a mapping (a plain object, not a list or null). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
