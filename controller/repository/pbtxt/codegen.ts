import protobuf from "protobufjs";
import { INT64_TYPES } from "./schema.js";

/**
 * Renders TypeScript declarations for every message and enum of a protobuf namespace,
 * matching the plain-object values the text-format parser produces (see value.ts).
 * The output is committed as `model-config.generated.ts`; a test keeps it in sync with
 * `protos/model_config.proto`.
 */
export function renderTypeDeclarations(ns: protobuf.Namespace, source: string): string {
  const out: string[] = [
    `// Generated from ${source} by controller/repository/pbtxt/codegen.ts.`,
    "// Do not edit: run `npm run gen` after changing the .proto.",
    "",
  ];
  const emit = (obj: protobuf.ReflectionObject): void => {
    if (obj instanceof protobuf.Enum) {
      const values = Object.keys(obj.values).map((v) => JSON.stringify(v));
      out.push(`/** Enum \`${fullName(obj)}\`, by value name. */`);
      out.push(`export type ${tsName(obj)} =\n  | ${values.join("\n  | ")};`, "");
      return;
    }
    if (obj instanceof protobuf.Type) {
      out.push(`/** Message \`${fullName(obj)}\`. */`);
      if (obj.fieldsArray.length === 0) {
        out.push(`export type ${tsName(obj)} = Record<string, never>;`, "");
      } else {
        out.push(`export interface ${tsName(obj)} {`);
        for (const f of [...obj.fieldsArray].sort((a, b) => a.id - b.id)) {
          out.push(`  ${f.name}?: ${fieldType(f)};`);
        }
        out.push("}", "");
      }
    }
    if (obj instanceof protobuf.Namespace) {
      for (const nested of obj.nestedArray) emit(nested);
    }
  };
  for (const nested of ns.nestedArray) emit(nested);
  return `${out.join("\n").trimEnd()}\n`;
}

function fullName(obj: protobuf.ReflectionObject): string {
  return obj.fullName.replace(/^\./, "");
}

/** `inference.ModelOptimizationPolicy.Cuda.GraphSpec` → `ModelOptimizationPolicy_Cuda_GraphSpec`. */
function tsName(obj: protobuf.ReflectionObject): string {
  return fullName(obj).split(".").slice(1).join("_");
}

function scalarType(type: string, resolved: protobuf.Type | protobuf.Enum | null): string {
  if (resolved) return tsName(resolved);
  if (INT64_TYPES.has(type)) return "bigint";
  if (type === "bool") return "boolean";
  if (type === "string") return "string";
  if (type === "bytes") return "Uint8Array";
  return "number";
}

function fieldType(f: protobuf.Field): string {
  const t = scalarType(f.type, f.resolvedType);
  if (f instanceof protobuf.MapField) return `{ [key: string]: ${t} }`;
  return f.repeated ? `${t}[]` : t;
}
