import protobuf from "protobufjs";
import { INT64_TYPES, SCALAR_TYPES } from "./schema.js";

/**
 * A flattened view of one field of a protobuf message, as the text-format parser and
 * formatter need it. Built from a protobufjs descriptor; map entries get a synthetic
 * two-field (`key`, `value`) message view so they parse like any message.
 */
export interface FieldInfo {
  readonly name: string;
  readonly id: number;
  /** Scalar type name (`uint64`, `string`, ...), or `message` / `enum`. */
  readonly kind: string;
  readonly repeated: boolean;
  /** For message fields (and map values that are messages): the message view. */
  readonly message?: MessageInfo;
  /** For enum fields: the enum descriptor. */
  readonly enumType?: protobuf.Enum;
  /** For map fields: the synthetic entry message (`key`, `value`). */
  readonly mapEntry?: MessageInfo;
  /** The oneof this field belongs to, if any (proto3 `optional` synthetic oneofs excluded). */
  readonly oneof?: string;
}

/** A message view: its name and fields, by name and in field-number order. */
export interface MessageInfo {
  readonly fullName: string;
  readonly byName: ReadonlyMap<string, FieldInfo>;
  readonly inOrder: readonly FieldInfo[];
}

const cache = new WeakMap<protobuf.Type, MessageInfo>();

function scalarOrRef(
  typeName: string,
  resolved: protobuf.Type | protobuf.Enum | null,
): Pick<FieldInfo, "kind" | "message" | "enumType"> {
  if (SCALAR_TYPES.has(typeName) && resolved === null) return { kind: typeName };
  if (resolved instanceof protobuf.Enum) return { kind: "enum", enumType: resolved };
  if (resolved instanceof protobuf.Type)
    return { kind: "message", message: describeMessage(resolved) };
  throw new Error(`field type ${typeName} is not resolved: call root.resolveAll() first`);
}

/** The message view of a protobufjs type (cached; recursion-safe). */
export function describeMessage(type: protobuf.Type): MessageInfo {
  const hit = cache.get(type);
  if (hit) return hit;
  const byName = new Map<string, FieldInfo>();
  const inOrder: FieldInfo[] = [];
  const info: MessageInfo = { fullName: type.fullName.replace(/^\./, ""), byName, inOrder };
  cache.set(type, info);
  for (const f of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    const oneof =
      f.partOf && !(f.partOf.oneof.length === 1 && f.partOf.name.startsWith("_"))
        ? f.partOf.name
        : undefined;
    let fi: FieldInfo;
    if (f instanceof protobuf.MapField) {
      const value = scalarOrRef(f.type, f.resolvedType);
      const keyField: FieldInfo = { name: "key", id: 1, kind: f.keyType, repeated: false };
      const valueField: FieldInfo = { name: "value", id: 2, repeated: false, ...value };
      const mapEntry: MessageInfo = {
        fullName: `${info.fullName}.${f.name}Entry`,
        byName: new Map([
          ["key", keyField],
          ["value", valueField],
        ]),
        inOrder: [keyField, valueField],
      };
      fi = {
        name: f.name,
        id: f.id,
        kind: "map",
        repeated: true,
        mapEntry,
        ...(oneof ? { oneof } : {}),
      };
    } else {
      fi = {
        name: f.name,
        id: f.id,
        repeated: f.repeated,
        ...scalarOrRef(f.type, f.resolvedType),
        ...(oneof ? { oneof } : {}),
      };
    }
    byName.set(fi.name, fi);
    inOrder.push(fi);
  }
  return info;
}

/** Whether a scalar kind is held as `bigint`. */
export function isInt64(kind: string): boolean {
  return INT64_TYPES.has(kind);
}
