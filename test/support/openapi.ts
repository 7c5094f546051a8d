import type { IJSONSchemaProps } from "kubernetes-models/apiextensions.k8s.io/v1";
import { formatPath, type PathSegment } from "../../controller/policy/index.js";

type Json = { [k: string]: unknown };
const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------
// A small validator for Kubernetes structural OpenAPI v3 schemas: what the API server
// checks a custom resource against (with strict field validation: unknown fields are
// errors). Only the keywords a structural schema may use.

export const FORMATS: Record<string, (v: string | number) => boolean> = {
  "date-time": (v) =>
    typeof v === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v),
  int64: (v) => typeof v === "number" && Number.isSafeInteger(v),
};

export function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/** Every problem of `value` against `schema`, as `path: message`. */
export function validateOpenApi(
  schema: IJSONSchemaProps,
  value: unknown,
  path: PathSegment[] = [],
  out: string[] = [],
): string[] {
  const at = (msg: string) => out.push(`${formatPath(path) || "(root)"}: ${msg}`);
  if (value === null) {
    if (!schema.nullable) at("must not be null");
    return out;
  }
  switch (schema.type) {
    case "object": {
      if (!isObject(value)) {
        at(`must be an object (got ${show(value)})`);
        return out;
      }
      for (const key of schema.required ?? []) {
        if (!(key in value)) out.push(`${formatPath([...path, key])}: required`);
      }
      const extra = schema.additionalProperties;
      for (const [k, v] of Object.entries(value)) {
        const sub = schema.properties?.[k] ?? (isObject(extra) ? extra : undefined);
        if (sub !== undefined) validateOpenApi(sub as IJSONSchemaProps, v, [...path, k], out);
        else if (schema["x-kubernetes-preserve-unknown-fields"] === true) continue;
        // `metadata: {type: object}` at the root: the API server validates ObjectMeta itself.
        else if (schema.properties === undefined && extra === undefined && path.length === 1) {
        } else out.push(`${formatPath([...path, k])}: unknown field`);
      }
      break;
    }
    case "array": {
      if (!Array.isArray(value)) {
        at(`must be an array (got ${show(value)})`);
        return out;
      }
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        at(`must have at least ${schema.minItems} items (got ${value.length})`);
      }
      if (schema.maxItems !== undefined && value.length > schema.maxItems) {
        at(`must have at most ${schema.maxItems} items (got ${value.length})`);
      }
      const items = schema.items as IJSONSchemaProps;
      value.forEach((v, i) => {
        validateOpenApi(items, v, [...path, i], out);
      });
      if (schema["x-kubernetes-list-type"] === "map") {
        const keys = schema["x-kubernetes-list-map-keys"] ?? [];
        const seen = new Set<string>();
        value.forEach((v, i) => {
          const id = JSON.stringify(keys.map((k) => (isObject(v) ? v[k] : undefined)));
          if (seen.has(id)) out.push(`${formatPath([...path, i])}: duplicate entry ${id}`);
          seen.add(id);
        });
      }
      break;
    }
    case "string": {
      if (typeof value !== "string") {
        at(`must be a string (got ${show(value)})`);
        return out;
      }
      const length = [...value].length;
      if (schema.minLength !== undefined && length < schema.minLength) {
        at(`must be at least ${schema.minLength} characters`);
      }
      if (schema.maxLength !== undefined && length > schema.maxLength) {
        at(`must be at most ${schema.maxLength} characters`);
      }
      if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) {
        at(`must match ${schema.pattern} (got ${show(value)})`);
      }
      break;
    }
    case "integer":
    case "number": {
      const ok =
        typeof value === "number" &&
        Number.isFinite(value) &&
        (schema.type === "number" || Number.isInteger(value));
      if (!ok) {
        at(`must be ${schema.type === "integer" ? "an integer" : "a number"} (got ${show(value)})`);
        return out;
      }
      const n = value as number;
      if (schema.minimum !== undefined) {
        if (schema.exclusiveMinimum ? n <= schema.minimum : n < schema.minimum) {
          at(`must be ${schema.exclusiveMinimum ? ">" : ">="} ${schema.minimum} (got ${n})`);
        }
      }
      if (schema.maximum !== undefined) {
        if (schema.exclusiveMaximum ? n >= schema.maximum : n > schema.maximum) {
          at(`must be ${schema.exclusiveMaximum ? "<" : "<="} ${schema.maximum} (got ${n})`);
        }
      }
      if (schema.multipleOf !== undefined && !Number.isInteger(n / schema.multipleOf)) {
        at(`must be a multiple of ${schema.multipleOf} (got ${n})`);
      }
      break;
    }
    case "boolean":
      if (typeof value !== "boolean") at(`must be a boolean (got ${show(value)})`);
      break;
    default:
      // Untyped nodes: x-kubernetes-int-or-string and x-kubernetes-preserve-unknown-fields.
      if (schema["x-kubernetes-int-or-string"] === true) {
        if (typeof value !== "string" && !(typeof value === "number" && Number.isInteger(value))) {
          at(`must be an integer or a string (got ${show(value)})`);
        }
      } else if (schema["x-kubernetes-preserve-unknown-fields"] !== true) {
        at(`schema has unsupported type ${show(schema.type)}`);
      }
  }
  if (
    schema.enum !== undefined &&
    !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))
  ) {
    at(`must be one of ${schema.enum.map(show).join(", ")} (got ${show(value)})`);
  }
  if (schema.format !== undefined && (typeof value === "string" || typeof value === "number")) {
    const check = FORMATS[schema.format];
    if (check !== undefined && !check(value)) at(`must be a ${schema.format} (got ${show(value)})`);
  }
  return out;
}
