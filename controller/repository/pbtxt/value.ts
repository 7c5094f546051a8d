/**
 * Plain-object values of protobuf messages, as the text format reads and writes them:
 * field names as in the .proto (snake_case); 32-bit integers and floats as `number`,
 * 64-bit integers as `bigint`, enums by value name, `bytes` as `Uint8Array`, repeated
 * fields as arrays, maps as objects keyed by the key's decimal or string form.
 */
export type PbScalar = string | number | bigint | boolean | Uint8Array;

/** Any field value. */
export type PbValue = PbScalar | PbMessage | readonly PbValue[];

/** A message (or a map) as a plain object. */
export interface PbMessage {
  readonly [field: string]: PbValue | undefined;
}

/** Whether a value is a message/map object (not an array, bytes or scalar). */
export function isPbMessage(v: PbValue | undefined): v is PbMessage {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
