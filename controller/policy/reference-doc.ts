import { buildReferenceSchema, type JsonValue } from "./schema.js";
import { MAX_ALIAS_EXPANSION, MAX_NESTING } from "./yaml-limits.js";

/**
 * The ModelPool field reference as Markdown, rendered from the same schema the loader
 * checks against (through its CRD form, plus duration ranges), so the docs cannot drift from the code.
 * Committed as docs/modelpool.md; a test keeps it in sync (`npm run gen` rewrites it).
 */
export function renderPolicyReference(): string {
  const rows: string[] = [];
  const walk = (node: JsonValue, path: string): void => {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return;
    if (path)
      rows.push(
        `| \`${path}\` | ${typeOf(node)} | ${escapeCell(String(node.description ?? ""))} |`,
      );
    const props = node.properties;
    if (typeof props === "object" && props !== null && !Array.isArray(props)) {
      for (const [k, v] of Object.entries(props)) walk(v, path ? `${path}.${k}` : k);
    }
    const items = node.items;
    if (typeof items === "object" && items !== null && !Array.isArray(items) && items.properties) {
      for (const [k, v] of Object.entries(items.properties as Record<string, JsonValue>)) {
        walk(v, `${path}[].${k}`);
      }
    }
  };
  walk(buildReferenceSchema(), "");
  return [
    "# ModelPool reference",
    "",
    "<!-- Generated from controller/policy/schema.ts by `npm run gen`; do not edit. -->",
    "",
    "Every field of a `tritonscale.dev/v1alpha1` `ModelPool`. Durations are written like",
    "`500ms`, `90s`, `10m`, `1h30m`. Unknown fields are rejected. Keys of labels, annotations",
    "and node selectors are Kubernetes qualified names (`app`, `app.kubernetes.io/name`).",
    `A file holds one pool; lists and mappings nest at most ${MAX_NESTING} levels deep and YAML`,
    `aliases expand to at most ${MAX_ALIAS_EXPANSION} nodes. Numbers must be finite (no \`.inf\`, \`.nan\`).`,
    "",
    "| field | type | meaning |",
    "|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

function typeOf(node: { [k: string]: JsonValue }): string {
  const parts: string[] = [];
  const duration = node["x-duration"];
  if (typeof duration === "object" && duration !== null && !Array.isArray(duration)) {
    const whole = duration.wholeSeconds === true ? ", whole seconds" : "";
    return `duration (${String(duration.minimum)} to ${String(duration.maximum)}${whole})`;
  }
  if (Array.isArray(node.enum)) parts.push(node.enum.map((v) => `\`${String(v)}\``).join(" \\| "));
  else if (node.type === "array") {
    const items = node.items as { [k: string]: JsonValue } | undefined;
    parts.push(`${items ? typeOf(items) : "any"}[]`);
  } else if (node.type === "object" && node.additionalProperties) parts.push("map");
  else parts.push(String(node.type ?? "any"));
  const range: string[] = [];
  if (node.minimum !== undefined)
    range.push(`${node.exclusiveMinimum === true ? ">" : "≥"} ${node.minimum}`);
  if (node.maximum !== undefined)
    range.push(`${node.exclusiveMaximum === true ? "<" : "≤"} ${node.maximum}`);
  if (node.multipleOf !== undefined) range.push(`multiple of ${node.multipleOf}`);
  if (range.length > 0) parts.push(`(${range.join(", ")})`);
  return parts.join(" ");
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
