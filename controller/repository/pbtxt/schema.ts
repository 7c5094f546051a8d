import { join } from "node:path";
import protobuf from "protobufjs";
import { protosDir } from "../../util/package-root.js";

/**
 * The `inference.ModelConfig` descriptor, loaded once from `protos/model_config.proto`.
 * The text-format parser and formatter walk this descriptor; no field list is kept by hand.
 */

let cached: protobuf.Root | undefined;

/** Loads a .proto file (keeping snake_case field names) and resolves every type. */
export function loadProtoRoot(file: string): protobuf.Root {
  const root = new protobuf.Root();
  root.loadSync(file, { keepCase: true });
  root.resolveAll();
  return root;
}

/** The root holding package `inference` from the project's `protos/model_config.proto`. */
export function modelConfigRoot(): protobuf.Root {
  cached ??= loadProtoRoot(join(protosDir, "model_config.proto"));
  return cached;
}

/** The `inference.ModelConfig` message type. */
export function modelConfigType(root: protobuf.Root = modelConfigRoot()): protobuf.Type {
  return root.lookupType("inference.ModelConfig");
}

/** Fields of a message in field-number order (the canonical output order). */
export function fieldsByNumber(type: protobuf.Type): readonly protobuf.Field[] {
  return [...type.fieldsArray].sort((a, b) => a.id - b.id);
}

/** The scalar type names protobuf knows. */
export const SCALAR_TYPES = new Set([
  "double",
  "float",
  "int32",
  "int64",
  "uint32",
  "uint64",
  "sint32",
  "sint64",
  "fixed32",
  "fixed64",
  "sfixed32",
  "sfixed64",
  "bool",
  "string",
  "bytes",
]);

/** 64-bit integer types: held as `bigint` so no precision is lost. */
export const INT64_TYPES = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);

/** Range of each integer type, inclusive. */
export const INT_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};
