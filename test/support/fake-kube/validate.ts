/**
 * What the fake API server checks before it stores an object: a custom resource against
 * its CRD's openAPIV3Schema (with Ajv, the JSON-schema validator kubernetes-models
 * itself uses, and its Kubernetes formats), MicroTime fields (exactly 6 fractional
 * digits), object names.
 */
import { formats } from "@kubernetes-models/validate";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { isObject, type JsonObject } from "./apply.js";

/** One invalid field, as a Status cause. */
export interface Cause {
  readonly reason: "FieldValueInvalid" | "FieldValueRequired" | "FieldValueNotSupported";
  readonly field: string;
  readonly message: string;
}

/** How unknown fields are treated (`?fieldValidation=`). */
export type FieldValidation = "Strict" | "Warn" | "Ignore";

/** The outcome of checking a custom resource against its schema. */
export interface SchemaCheck {
  /** Invalid fields: the request fails with 422. */
  readonly causes: readonly Cause[];
  /** Unknown fields pruned (Warn/Ignore) — returned as `Warning` headers under Warn. */
  readonly unknown: readonly string[];
}

/**
 * A structural schema made ready for Ajv: objects with `properties` and neither
 * `additionalProperties` nor `x-kubernetes-preserve-unknown-fields` get
 * `additionalProperties: false`, which is how the API server treats unknown fields
 * (pruned, or refused under fieldValidation=Strict).
 */
function closeObjects(schema: unknown, depth = 0): unknown {
  if (Array.isArray(schema)) return schema.map((s) => closeObjects(s, depth));
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] =
      k === "properties" && isObject(v)
        ? Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, closeObjects(pv, depth + 1)]))
        : k === "enum" || k === "required" || k === "default" || k === "example"
          ? v
          : closeObjects(v, depth + 1);
  }
  // OpenAPI 3.0's boolean exclusiveMinimum/Maximum are numbers in the JSON Schema Ajv reads.
  for (const [ex, bound] of [
    ["exclusiveMinimum", "minimum"],
    ["exclusiveMaximum", "maximum"],
  ] as const) {
    if (out[ex] === true && typeof out[bound] === "number") {
      out[ex] = out[bound];
      delete out[bound];
    } else if (out[ex] === false) delete out[ex];
  }
  if (
    isObject(out.properties) &&
    out.additionalProperties === undefined &&
    out["x-kubernetes-preserve-unknown-fields"] !== true
  ) {
    out.additionalProperties = false;
  }
  return out;
}

/**
 * Ajv with the Kubernetes formats, the list-map keys keyword and OpenAPI's `nullable`;
 * `admitting` also removes unknown fields and fills `default`s, as the API server prunes
 * and defaults a custom resource.
 */
function createAjv(admitting: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    removeAdditional: admitting,
    useDefaults: admitting,
    formats,
  });
  ajv.addKeyword({
    keyword: "x-kubernetes-list-map-keys",
    type: "array",
    errors: true,
    validate: function unique(keys: string[], data: unknown[]) {
      const seen = new Set<string>();
      for (const item of data) {
        const id = JSON.stringify(keys.map((k) => (isObject(item) ? item[k] : undefined)));
        if (seen.has(id)) {
          (unique as { errors?: unknown[] }).errors = [
            {
              keyword: "x-kubernetes-list-map-keys",
              message: `Duplicate value: ${id}`,
              params: {},
            },
          ];
          return false;
        }
        seen.add(id);
      }
      return true;
    },
  });
  return ajv;
}

const strictAjv = createAjv(false);
const admittingAjv = createAjv(true);

/** A compiled CRD version schema. */
export interface CompiledSchema {
  /** Checks only (unknown fields are errors). */
  readonly strict: ValidateFunction;
  /** Prunes unknown fields and fills defaults, in place. */
  readonly admit: ValidateFunction;
}

export function compileSchema(openAPIV3Schema: unknown): CompiledSchema {
  const closed = closeObjects(openAPIV3Schema) as JsonObject;
  return { strict: strictAjv.compile(closed), admit: admittingAjv.compile(closed) };
}

/** `.spec.models[0].name` from Ajv's `/spec/models/0/name`. */
function fieldOf(e: ErrorObject): string {
  const segs = e.instancePath.split("/").slice(1);
  let out = "";
  for (const s of segs) out += /^\d+$/.test(s) ? `[${s}]` : `.${s.replace(/~1/g, "/")}`;
  if (e.keyword === "required")
    out += `.${(e.params as { missingProperty: string }).missingProperty}`;
  if (e.keyword === "additionalProperties") {
    out += `.${(e.params as { additionalProperty: string }).additionalProperty}`;
  }
  return out.replace(/^\./, "") || "<root>";
}

/**
 * Checks a custom resource against its schema; when it is valid (unknown fields aside,
 * unless Strict), prunes its unknown fields and fills the schema's defaults, in place.
 * Returns the invalid fields and the unknown ones.
 */
export function checkCustomResource(
  schema: CompiledSchema,
  obj: JsonObject,
  mode: FieldValidation,
): SchemaCheck {
  const causes: Cause[] = [];
  const unknown: string[] = [];
  if (!schema.strict(obj)) {
    for (const e of schema.strict.errors ?? []) {
      const field = fieldOf(e);
      if (e.keyword === "additionalProperties") {
        unknown.push(field);
        if (mode === "Strict") {
          causes.push({
            reason: "FieldValueInvalid",
            field,
            message: `unknown field "${field}"`,
          });
        }
      } else if (e.keyword === "required") {
        causes.push({ reason: "FieldValueRequired", field, message: "Required value" });
      } else if (e.keyword === "enum") {
        const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
        causes.push({
          reason: "FieldValueNotSupported",
          field,
          message: `Unsupported value: ${JSON.stringify(valueAt(obj, e.instancePath))}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(", ")}`,
        });
      } else if (e.keyword === "if" || e.keyword === "anyOf" || e.keyword === "oneOf") {
      } else {
        causes.push({
          reason: "FieldValueInvalid",
          field,
          message: `Invalid value: ${JSON.stringify(valueAt(obj, e.instancePath))}: ${field} in body ${e.message ?? "is invalid"}`,
        });
      }
    }
  }
  if (causes.length === 0) schema.admit(obj);
  return { causes, unknown };
}

function valueAt(obj: unknown, pointer: string): unknown {
  let cur = obj;
  for (const s of pointer.split("/").slice(1)) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isObject(cur)) cur = cur[s.replace(/~1/g, "/").replace(/~0/g, "~")];
    else return undefined;
  }
  return cur;
}

/** Go's RFC3339Micro layout, as metav1.MicroTime parses it: exactly 6 fractional digits. */
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

/** The MicroTime fields of the kinds that have them, by kind. */
const MICRO_TIME_FIELDS: Record<string, readonly string[][]> = {
  Lease: [
    ["spec", "acquireTime"],
    ["spec", "renewTime"],
  ],
  Event: [["eventTime"], ["series", "lastObservedTime"]],
};

/**
 * A MicroTime field that metav1.MicroTime would not decode (the request is a 400, as the
 * body cannot be decoded at all), or undefined.
 */
export function microTimeError(kind: string, obj: JsonObject): string | undefined {
  for (const path of MICRO_TIME_FIELDS[kind] ?? []) {
    let cur: unknown = obj;
    for (const seg of path) cur = isObject(cur) ? cur[seg] : undefined;
    if (cur === undefined || cur === null) continue;
    if (typeof cur !== "string" || !MICRO_TIME.test(cur)) {
      return `${kind} in version "v1" cannot be handled as a ${kind}: parsing time ${JSON.stringify(cur)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse ${path.join(".")} as RFC3339Micro (6 fractional digits)`;
    }
  }
  return undefined;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `name` is not a valid object name (a DNS-1123 subdomain), or undefined. */
export function nameError(name: unknown): string | undefined {
  if (typeof name !== "string" || name === "") return "name: Required value";
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return `metadata.name: Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`;
  }
  return undefined;
}
