import { type FieldInfo, isInt64, type MessageInfo } from "./descriptor.js";
import { isPbMessage, type PbMessage, type PbValue } from "./value.js";

/**
 * Canonical protobuf text format: fields in field-number order, two-space indent, one
 * field per line, repeated scalars as one `[a, b]` list, repeated messages as one block
 * each, map entries sorted by key. The same value always gives the same bytes, so
 * generated files diff cleanly. Absent (`undefined`) fields are left out; present ones
 * are written even when they hold the proto3 default, since the author chose to say them.
 */
export function formatTextFormat(info: MessageInfo, message: PbMessage): string {
  const lines: string[] = [];
  writeBody(info, message, "", lines, "");
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

function writeBody(
  info: MessageInfo,
  msg: PbMessage,
  indent: string,
  out: string[],
  path: string,
): void {
  for (const key of Object.keys(msg)) {
    if (msg[key] !== undefined && !info.byName.has(key)) {
      throw new Error(`${path ? `${path}.` : ""}${key}: ${info.fullName} has no field "${key}"`);
    }
  }
  for (const field of info.inOrder) {
    const value = msg[field.name];
    if (value === undefined) continue;
    const fieldPath = path ? `${path}.${field.name}` : field.name;
    if (field.mapEntry) {
      if (!isPbMessage(value)) throw new Error(`${fieldPath}: a map must be an object`);
      writeMap(field, value, indent, out, fieldPath);
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new Error(`${fieldPath}: a repeated field must be an array`);
      if (field.kind === "message") {
        value.forEach((el: PbValue, i: number) => {
          writeMessage(field.name, field.message!, el, indent, out, `${fieldPath}[${i}]`);
        });
      } else if (value.length > 0) {
        const items = value.map((el: PbValue, i: number) =>
          formatScalar(field, el, `${fieldPath}[${i}]`),
        );
        out.push(`${indent}${field.name}: [${items.join(", ")}]`);
      }
    } else if (field.kind === "message") {
      writeMessage(field.name, field.message!, value, indent, out, fieldPath);
    } else {
      out.push(`${indent}${field.name}: ${formatScalar(field, value, fieldPath)}`);
    }
  }
}

function writeMessage(
  name: string,
  info: MessageInfo,
  value: PbValue,
  indent: string,
  out: string[],
  path: string,
): void {
  if (!isPbMessage(value)) throw new Error(`${path}: expected a ${info.fullName} object`);
  const inner: string[] = [];
  writeBody(info, value, `${indent}  `, inner, path);
  if (inner.length === 0) {
    out.push(`${indent}${name} {}`);
  } else {
    out.push(`${indent}${name} {`);
    for (const line of inner) out.push(line);
    out.push(`${indent}}`);
  }
}

function writeMap(
  field: FieldInfo,
  map: PbMessage,
  indent: string,
  out: string[],
  path: string,
): void {
  const entry = field.mapEntry!;
  const keyField = entry.byName.get("key")!;
  const numericKey = keyField.kind !== "string";
  const keys = Object.keys(map).sort((a, b) => {
    if (!numericKey) return a < b ? -1 : a > b ? 1 : 0;
    const d = BigInt(a) - BigInt(b);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  });
  for (const k of keys) {
    const v = map[k];
    if (v === undefined) continue;
    const keyValue = numericKey ? (isInt64(keyField.kind) ? BigInt(k) : Number(k)) : k;
    const entryMsg: PbMessage = { key: keyValue, value: v };
    const inner: string[] = [];
    writeBody(entry, entryMsg, `${indent}  `, inner, `${path}[${JSON.stringify(k)}]`);
    out.push(`${indent}${field.name} {`);
    for (const line of inner) out.push(line);
    out.push(`${indent}}`);
  }
}

/** One scalar or enum value as text. */
function formatScalar(field: FieldInfo, v: PbValue, path: string): string {
  switch (field.kind) {
    case "string":
      if (typeof v !== "string") throw new Error(`${path}: expected a string, got ${typeof v}`);
      return quote(ENCODER.encode(v), true);
    case "bytes":
      if (!(v instanceof Uint8Array)) throw new Error(`${path}: expected bytes`);
      return quote(v, false);
    case "bool":
      if (typeof v !== "boolean") throw new Error(`${path}: expected a boolean, got ${typeof v}`);
      return v ? "true" : "false";
    case "enum": {
      const e = field.enumType!;
      if (typeof v === "string" && Object.hasOwn(e.values, v)) return v;
      if (typeof v === "number" && e.valuesById[v] !== undefined) return e.valuesById[v];
      throw new Error(`${path}: ${String(v)} is not a ${e.name} value`);
    }
    case "float":
    case "double":
      if (typeof v !== "number") throw new Error(`${path}: expected a number, got ${typeof v}`);
      return formatFloat(v);
    default:
      if (isInt64(field.kind)) {
        if (typeof v === "bigint") return v.toString();
        if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
        throw new Error(`${path}: expected a 64-bit integer (bigint), got ${String(v)}`);
      }
      if (typeof v !== "number" || !Number.isInteger(v)) {
        throw new Error(`${path}: expected an integer, got ${String(v)}`);
      }
      return String(v);
  }
}

/** Shortest text that reads back as the same number; `inf`, `-inf`, `nan` as Google writes them. */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Number.POSITIVE_INFINITY) return "inf";
  if (v === Number.NEGATIVE_INFINITY) return "-inf";
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

/** Keeps a U+FEFF: in a string value it is content, not a byte-order mark. */
const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });
const ENCODER = new TextEncoder();
const NAMED_ESCAPES: ReadonlyMap<number, string> = new Map([
  [10, "\\n"],
  [13, "\\r"],
  [9, "\\t"],
  [34, '\\"'],
  [39, "\\'"],
  [92, "\\\\"],
]);

/**
 * A double-quoted string with C escapes for quotes, backslashes and control bytes.
 * For `string` fields UTF-8 is kept readable; for `bytes` every non-ASCII byte is octal.
 * Runs of bytes written as they are go out in one piece, so the work is linear.
 */
function quote(bytes: Uint8Array, utf8: boolean): string {
  const out: string[] = ['"'];
  const plain = (b: number): boolean =>
    (b >= 0x20 && b < 0x7f && !NAMED_ESCAPES.has(b)) || (utf8 && b >= 0x80);
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (plain(b)) {
      // A run of printable ASCII and (for strings) whole UTF-8 sequences: continuation
      // bytes are >= 0x80 too, so a run never splits a character.
      let j = i + 1;
      while (j < bytes.length && plain(bytes[j]!)) j++;
      out.push(UTF8.decode(bytes.subarray(i, j)));
      i = j;
      continue;
    }
    out.push(NAMED_ESCAPES.get(b) ?? `\\${b.toString(8).padStart(3, "0")}`);
    i++;
  }
  out.push('"');
  return out.join("");
}
