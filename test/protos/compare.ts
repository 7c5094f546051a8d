import { dirname, isAbsolute, resolve } from "node:path";
import protobuf from "protobufjs";

/**
 * Structural comparison of two protobufjs roots: ours (a .proto we wrote from upstream facts)
 * against upstream's. Comments and formatting are ignored; names, numbers, types, labels,
 * maps, oneofs, enum values, rpc signatures and options are compared.
 */

/** A message, enum or service: the definitions a .proto file declares. */
export type Definition = protobuf.Type | protobuf.Enum | protobuf.Service;

export interface CompareOptions {
  /** Walk only the definitions declared in this file of `ours` (absent: every definition). */
  oursFile?: string;
  /** The upstream twin of `oursFile`, for its packages' file options (absent: all). */
  upstreamFile?: string;
  /** Fields must be declared in the upstream order. */
  checkOrder: boolean;
}

/** Loads a .proto (and its imports, resolved beside the importing file) with field names as written. */
export function loadProto(file: string): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (origin: string, target: string): string =>
    isAbsolute(target) ? target : resolve(origin === "" ? "." : dirname(origin), target);
  root.loadSync(file, { keepCase: true });
  root.resolveAll();
  return root;
}

/** Parses .proto source held in memory (no imports). */
export function parseProto(source: string): protobuf.Root {
  const root = new protobuf.Root();
  protobuf.parse(source, root, { keepCase: true });
  root.resolveAll();
  return root;
}

/** A full name without protobufjs's leading dot. */
function nameOf(obj: protobuf.ReflectionObject): string {
  return obj.fullName.replace(/^\./, "");
}

function kindOf(def: Definition): string {
  if (def instanceof protobuf.Type) return "message";
  if (def instanceof protobuf.Enum) return "enum";
  return "service";
}

/** Every message, enum and service under `ns`, nested ones too, keyed by full name. */
export function collectDefinitions(
  ns: protobuf.NamespaceBase,
  file?: string,
  out: Map<string, Definition> = new Map(),
): Map<string, Definition> {
  for (const obj of ns.nestedArray) {
    const mine = file === undefined || obj.filename === file;
    if (obj instanceof protobuf.Type || obj instanceof protobuf.Service) {
      if (mine) out.set(nameOf(obj), obj);
      collectDefinitions(obj, file, out);
    } else if (obj instanceof protobuf.Enum) {
      if (mine) out.set(nameOf(obj), obj);
    } else if (obj instanceof protobuf.Namespace) {
      collectDefinitions(obj, file, out);
    }
  }
  return out;
}

/** Package namespaces (not messages or services) that hold a definition of `file`. */
function packagesOf(defs: Map<string, Definition>): Map<string, protobuf.Namespace> {
  const out = new Map<string, protobuf.Namespace>();
  for (const def of defs.values()) {
    let p = def.parent;
    while (p !== null && (p instanceof protobuf.Type || p instanceof protobuf.Service)) {
      p = p.parent;
    }
    if (p instanceof protobuf.Namespace && !(p instanceof protobuf.Root)) out.set(nameOf(p), p);
  }
  return out;
}

/** Options as a canonical string (sorted keys), so equal options compare equal. */
function optionsText(options: { [k: string]: unknown } | undefined): string {
  if (options === undefined) return "{}";
  const sorted = Object.keys(options)
    .sort()
    .map((k) => [k, options[k]]);
  return JSON.stringify(sorted);
}

/** repeated, map, proto3 `optional`, proto2 optional/required, or plain singular. */
function labelOf(f: protobuf.FieldBase): string {
  if (f instanceof protobuf.MapField) return "map";
  if (f.repeated) return "repeated";
  const proto3Optional: unknown = f.getOption("proto3_optional");
  if (proto3Optional === true) return "optional (proto3)";
  if (f.rule === "required" || f.rule === "optional") return f.rule;
  return "singular";
}

/** The value type: a scalar keyword, or the resolved full name of a message/enum. */
function typeOf(f: protobuf.FieldBase): string {
  return f.resolvedType === null ? f.type : nameOf(f.resolvedType);
}

function describeField(f: protobuf.FieldBase): string {
  const key = f instanceof protobuf.MapField ? `<${f.keyType}, ${typeOf(f)}>` : ` ${typeOf(f)}`;
  return `${labelOf(f)}${key} = ${f.id}`;
}

function same(what: string, path: string, ours: unknown, upstream: unknown, out: string[]): void {
  if (ours !== upstream) {
    out.push(
      `${path}: ${what} differs: ours ${JSON.stringify(ours)}, upstream ${JSON.stringify(upstream)}`,
    );
  }
}

function missingFields(name: string, ours: protobuf.Type, up: protobuf.Type, out: string[]): void {
  for (const u of up.fieldsArray) {
    if (ours.fields[u.name] === undefined) {
      out.push(`${name}.${u.name}: upstream field (${describeField(u)}) is missing from ours`);
    }
  }
  for (const u of up.oneofsArray) {
    if (ours.oneofs?.[u.name] === undefined) {
      out.push(`${name}: upstream oneof ${u.name} is missing from ours`);
    }
  }
}

function missingValues(name: string, ours: protobuf.Enum, up: protobuf.Enum, out: string[]): void {
  for (const [value, num] of Object.entries(up.values)) {
    if (ours.values[value] === undefined) {
      out.push(`${name}.${value}: upstream enum value (= ${num}) is missing from ours`);
    }
  }
}

function missingMethods(
  name: string,
  ours: protobuf.Service,
  up: protobuf.Service,
  out: string[],
): void {
  for (const u of up.methodsArray) {
    if (ours.methods[u.name] === undefined) {
      out.push(`${name}.${u.name}: upstream rpc ${methodSignature(u)} is missing from ours`);
    }
  }
}

function compareField(
  path: string,
  ours: protobuf.FieldBase,
  up: protobuf.FieldBase,
  out: string[],
): void {
  same("field number", path, ours.id, up.id, out);
  same("type", path, typeOf(ours), typeOf(up), out);
  same("label", path, labelOf(ours), labelOf(up), out);
  const oursKey = ours instanceof protobuf.MapField ? ours.keyType : null;
  const upKey = up instanceof protobuf.MapField ? up.keyType : null;
  same("map key type", path, oursKey, upKey, out);
  same("oneof", path, ours.partOf?.name ?? null, up.partOf?.name ?? null, out);
  same("options", path, optionsText(ours.options), optionsText(up.options), out);
}

function compareMessage(
  name: string,
  ours: protobuf.Type,
  up: protobuf.Type,
  opts: CompareOptions,
  out: string[],
): void {
  for (const f of ours.fieldsArray) {
    const u = up.fields[f.name];
    if (u === undefined) {
      out.push(`${name}.${f.name}: field (${describeField(f)}) is not in upstream`);
    } else {
      compareField(`${name}.${f.name}`, f, u, out);
    }
  }
  missingFields(name, ours, up, out);
  for (const o of ours.oneofsArray) {
    const u = up.oneofs?.[o.name];
    if (u === undefined) out.push(`${name}: oneof ${o.name} is not in upstream`);
    else same(`oneof ${o.name} members`, name, o.oneof.join(","), u.oneof.join(","), out);
  }
  same(
    "reserved",
    name,
    JSON.stringify(ours.reserved ?? []),
    JSON.stringify(up.reserved ?? []),
    out,
  );
  same("options", name, optionsText(ours.options), optionsText(up.options), out);
  if (opts.checkOrder) {
    const upNames = new Set(up.fieldsArray.map((f) => f.name));
    const oursOrder = ours.fieldsArray.map((f) => f.name).filter((n) => upNames.has(n));
    const oursNames = new Set(oursOrder);
    const upOrder = up.fieldsArray.map((f) => f.name).filter((n) => oursNames.has(n));
    same("field order", name, oursOrder.join(","), upOrder.join(","), out);
  }
}

function compareEnum(name: string, ours: protobuf.Enum, up: protobuf.Enum, out: string[]): void {
  for (const [value, num] of Object.entries(ours.values)) {
    const u = up.values[value];
    if (u === undefined) out.push(`${name}.${value}: enum value (= ${num}) is not in upstream`);
    else same("enum number", `${name}.${value}`, num, u, out);
  }
  missingValues(name, ours, up, out);
  same(
    "reserved",
    name,
    JSON.stringify(ours.reserved ?? []),
    JSON.stringify(up.reserved ?? []),
    out,
  );
  same("options", name, optionsText(ours.options), optionsText(up.options), out);
}

function methodSignature(m: protobuf.Method): string {
  const req = m.resolvedRequestType === null ? m.requestType : nameOf(m.resolvedRequestType);
  const res = m.resolvedResponseType === null ? m.responseType : nameOf(m.resolvedResponseType);
  const stream = (s: boolean | undefined): string => (s === true ? "stream " : "");
  return `(${stream(m.requestStream)}${req}) returns (${stream(m.responseStream)}${res})`;
}

function compareService(
  name: string,
  ours: protobuf.Service,
  up: protobuf.Service,
  out: string[],
): void {
  for (const m of ours.methodsArray) {
    const u = up.methods[m.name];
    if (u === undefined) {
      out.push(`${name}.${m.name}: rpc ${methodSignature(m)} is not in upstream`);
    } else {
      same("rpc signature", `${name}.${m.name}`, methodSignature(m), methodSignature(u), out);
      same("options", `${name}.${m.name}`, optionsText(m.options), optionsText(u.options), out);
    }
  }
  same("options", name, optionsText(ours.options), optionsText(up.options), out);
}

/**
 * Compares every definition of ours with the upstream definition of the same full name and
 * returns every mismatch found (empty: none). A message or enum we declare must have all its
 * upstream fields, oneofs and values; a service we declare may hold a subset of the upstream
 * rpcs (use `missingFromOurs` to require them all).
 */
export function compareRoots(
  ours: protobuf.Root,
  upstream: protobuf.Root,
  opts: CompareOptions,
): string[] {
  const out: string[] = [];
  const oursDefs = collectDefinitions(ours, opts.oursFile);
  const upDefs = collectDefinitions(upstream);
  if (oursDefs.size === 0) out.push("ours declares no message, enum or service");

  for (const [name, def] of oursDefs) {
    const up = upDefs.get(name);
    if (up === undefined) {
      out.push(`${name}: ${kindOf(def)} is not in upstream`);
    } else if (def instanceof protobuf.Type && up instanceof protobuf.Type) {
      compareMessage(name, def, up, opts, out);
    } else if (def instanceof protobuf.Enum && up instanceof protobuf.Enum) {
      compareEnum(name, def, up, out);
    } else if (def instanceof protobuf.Service && up instanceof protobuf.Service) {
      compareService(name, def, up, out);
    } else {
      out.push(`${name}: ours is a ${kindOf(def)}, upstream a ${kindOf(up)}`);
    }
  }

  // File-level options (e.g. go_package) live on the package namespace.
  const oursPkgs = packagesOf(oursDefs);
  const upPkgs = packagesOf(collectDefinitions(upstream, opts.upstreamFile));
  for (const [name, ns] of oursPkgs) {
    const up = upPkgs.get(name);
    if (up === undefined) out.push(`package ${name} is not in upstream`);
    else
      same(
        "file options",
        `package ${name}`,
        optionsText(ns.options),
        optionsText(up.options),
        out,
      );
  }
  for (const name of upPkgs.keys()) {
    if (!oursPkgs.has(name)) out.push(`upstream package ${name} is missing from ours`);
  }
  return out;
}

/**
 * Completeness: every message, enum and service declared in `upstreamFile` (every one, if
 * absent), every field and oneof of those messages, every enum value and every rpc must exist
 * in ours under the same full name. Returns what is missing (empty: nothing).
 */
export function missingFromOurs(
  ours: protobuf.Root,
  upstream: protobuf.Root,
  upstreamFile?: string,
): string[] {
  const out: string[] = [];
  const oursDefs = collectDefinitions(ours);
  for (const [name, up] of collectDefinitions(upstream, upstreamFile)) {
    const def = oursDefs.get(name);
    if (def === undefined) out.push(`${name}: upstream ${kindOf(up)} is missing from ours`);
    else if (def instanceof protobuf.Type && up instanceof protobuf.Type) {
      missingFields(name, def, up, out);
    } else if (def instanceof protobuf.Enum && up instanceof protobuf.Enum) {
      missingValues(name, def, up, out);
    } else if (def instanceof protobuf.Service && up instanceof protobuf.Service) {
      missingMethods(name, def, up, out);
    } else out.push(`${name}: ours is a ${kindOf(def)}, upstream a ${kindOf(up)}`);
  }
  return out;
}
