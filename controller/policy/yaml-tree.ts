/**
 * ModelPool YAML as the loader reads it: js-yaml's event parser (YAML 1.2, core schema)
 * turned into a small tree of written nodes with their source offsets, from which
 * source.ts indexes positions and yaml-limits.ts checks aliases before any value is built.
 *
 * Why js-yaml's events and not the `yaml` library (still used where comments must survive
 * an edit, e.g. `tune --write`): its parser is about ten times faster, and it stops at the
 * first syntax error. The `yaml` library recovers from errors, which made a 1 MB file of
 * broken lines cost 2–3 s to read only to report its first 200 problems; and its plain
 * parse of a large valid file took most of the 1 s per MB a pool may cost.
 */

import {
  boolCoreTag,
  CORE_SCHEMA,
  constructFromEvents,
  EVENT_ID,
  type Event,
  floatCoreTag,
  getScalarValue,
  intCoreTag,
  NOT_RESOLVED,
  nullCoreTag,
  parseEvents,
  SCALAR_STYLE,
  type ScalarEvent,
  YAMLException,
} from "js-yaml";

/** A node as written. `start` is the offset of its first character (after tag and anchor). */
export type YamlNode = YamlMapping | YamlSequence | YamlScalar | YamlAlias;

interface NodeBase {
  start: number;
  /** Where the node's tag or anchor starts, when written before it; else `start`. */
  readonly propsStart: number;
  /** The anchor written on the node (`&name`), if any. */
  readonly anchor?: string;
  /** The node's events: `events[first]` up to, not including, `events[end]`. */
  readonly first: number;
  end: number;
}

export interface YamlMapping extends NodeBase {
  readonly kind: "mapping";
  pairs: YamlPair[];
}

export interface YamlPair {
  readonly key: YamlNode;
  readonly value: YamlNode;
}

export interface YamlSequence extends NodeBase {
  readonly kind: "sequence";
  readonly items: YamlNode[];
}

export interface YamlScalar extends NodeBase {
  readonly kind: "scalar";
  readonly event: ScalarEvent;
  /** Nothing written (`key:` with no value): `start` is then where it would be. */
  readonly empty: boolean;
}

export interface YamlAlias extends NodeBase {
  readonly kind: "alias";
  /** The anchor it names. */
  readonly name: string;
}

/** One document of a text. */
export interface YamlDocument {
  /** Offset of the document: its `---` when written, else its content. */
  readonly start: number;
  /** Undefined for a document with nothing in it (only comments, or a bare `---`). */
  readonly contents: YamlNode | undefined;
  readonly first: number;
  readonly end: number;
}

/** A text's documents, or the first syntax error with its offset. */
export type YamlRead =
  | { readonly ok: true; readonly documents: readonly YamlDocument[]; readonly events: Event[] }
  | { readonly ok: false; readonly offset: number; readonly message: string };

/**
 * Parses `text` into documents of written nodes. Never throws for bad input: a syntax
 * error is returned with its offset; nesting beyond `maxDepth` is a syntax error too.
 */
export function readYaml(text: string, maxDepth: number): YamlRead {
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth });
  } catch (e) {
    return failure(e);
  }
  return { ok: true, documents: buildTree(text, events), events };
}

/**
 * The JS value of a document (js-yaml's core schema; a duplicate key's last value wins),
 * leaving out the events of `removed` nodes (e.g. pairs with a list as key, which a JS
 * object cannot hold). Aliases become shared references: check them first
 * (yaml-limits.ts) and copy before changing the value.
 */
export function documentValue(
  text: string,
  events: readonly Event[],
  doc: YamlDocument,
  removed: readonly YamlNode[] = [],
): { ok: true; value: unknown } | { ok: false; offset: number; message: string } {
  let slice: Event[];
  if (removed.length === 0) slice = events.slice(doc.first, doc.end);
  else {
    const cut = [...removed].sort((a, b) => a.first - b.first);
    slice = [];
    let i = doc.first;
    for (const r of cut) {
      if (r.first < i) continue; // inside one already cut
      for (; i < r.first; i++) slice.push(events[i]!);
      i = r.end;
    }
    for (; i < doc.end; i++) slice.push(events[i]!);
  }
  try {
    const [value] = constructFromEvents(slice, {
      source: text,
      schema: CORE_SCHEMA,
      json: true,
      maxAliases: -1,
    });
    return { ok: true, value: value ?? null };
  } catch (e) {
    return failure(e);
  }
}

const implicitTags = [nullCoreTag, boolCoreTag, intCoreTag, floatCoreTag];

/**
 * The property name a scalar key becomes in the JS object, as js-yaml's object map makes
 * it: `String(value)` of the resolved scalar (`1.0` → "1", `~` → "null", `0x10` → "16").
 * Undefined for a key that is not a scalar, or one with a tag (resolved only by
 * constructing it: rare enough to let the caller construct).
 */
export function scalarKeyName(text: string, node: YamlNode): string | undefined {
  if (node.kind !== "scalar") return undefined;
  const e = node.event;
  if (e.tagStart >= 0) return undefined;
  const source = getScalarValue(text, e);
  if (e.style !== SCALAR_STYLE.PLAIN) return source;
  for (const tag of implicitTags) {
    const first = source.charAt(0);
    if (tag.implicitFirstChars !== null && !tag.implicitFirstChars.includes(first)) continue;
    const v = tag.resolve(source, false, tag.tagName);
    if (v !== NOT_RESOLVED) return String(v);
  }
  return source;
}

/**
 * The property name of a scalar key written with a tag (`!!str 1: a` → "1"), by
 * constructing it alone; undefined when the tag makes it something other than a string,
 * a number, a boolean or null (or is unknown).
 */
export function taggedKeyName(text: string, node: YamlScalar): string | undefined {
  const doc: Event = {
    type: EVENT_ID.DOCUMENT,
    explicitStart: false,
    explicitEnd: false,
    directives: [],
  };
  try {
    const [v] = constructFromEvents([doc, node.event, { type: EVENT_ID.POP }], {
      source: text,
      schema: CORE_SCHEMA,
    });
    return typeof v === "object" && v !== null ? undefined : String(v);
  } catch {
    return undefined;
  }
}

function failure(e: unknown): { ok: false; offset: number; message: string } {
  if (e instanceof YAMLException) {
    return { ok: false, offset: e.mark?.position ?? 0, message: e.reason };
  }
  if (e instanceof RangeError) {
    return { ok: false, offset: 0, message: "the YAML is nested too deeply to read" };
  }
  throw e;
}

/** The start of a scalar as written: its opening quote or block indicator. */
function scalarStart(text: string, e: ScalarEvent): number {
  if (e.valueStart < 0) return -1;
  if (e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED) {
    return e.valueStart - 1;
  }
  if (e.style === SCALAR_STYLE.LITERAL_BLOCK || e.style === SCALAR_STYLE.FOLDED_BLOCK) {
    // The content starts on the next line; the indicator (`|`, `>-`, ...) is before it.
    const nl = text.lastIndexOf("\n", e.valueStart - 1);
    const indicator = Math.max(text.lastIndexOf("|", nl), text.lastIndexOf(">", nl));
    return indicator >= 0 ? indicator : e.valueStart;
  }
  return e.valueStart;
}

type Open = { node: YamlMapping | YamlSequence; pendingKey?: YamlNode } | { doc: DocDraft };

interface DocDraft {
  explicitStart: boolean;
  first: number;
  contents?: YamlNode;
}

function buildTree(text: string, events: readonly Event[]): YamlDocument[] {
  const docs: YamlDocument[] = [];
  const stack: Open[] = [];
  const anchorOf = (e: { anchorStart: number; anchorEnd: number }): string | undefined =>
    e.anchorStart >= 0 ? text.slice(e.anchorStart, e.anchorEnd) : undefined;
  const propsOf = (e: { anchorStart: number; tagStart: number }, start: number): number => {
    let at = start;
    if (e.anchorStart > 0) at = Math.min(at, e.anchorStart - 1); // the `&`
    if (e.tagStart >= 0) at = Math.min(at, e.tagStart);
    return at;
  };

  // Where an empty scalar is pointed at: its key, else its collection, else the document.
  const attach = (node: YamlNode): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) return;
    if ("doc" in top) {
      top.doc.contents = node;
      return;
    }
    if (top.node.kind === "sequence") {
      top.node.items.push(node);
      return;
    }
    if (top.pendingKey === undefined) {
      // A block mapping starts at its first key, tag and anchor included.
      if (top.node.pairs.length === 0) top.node.start = Math.min(top.node.start, node.propsStart);
      top.pendingKey = node;
    } else {
      const key = top.pendingKey;
      // An empty key (`: value`, YAML's null) is placed at its `:`.
      if (key.kind === "scalar" && key.empty && !(node.kind === "scalar" && node.empty)) {
        const colon = text.lastIndexOf(":", node.propsStart);
        if (colon >= key.start) key.start = colon;
      }
      top.node.pairs.push({ key, value: node });
      top.pendingKey = undefined;
    }
  };
  const emptyAt = (): number => {
    const top = stack[stack.length - 1];
    if (top === undefined || "doc" in top) return 0;
    if (top.node.kind === "mapping" && top.pendingKey !== undefined) return top.pendingKey.start;
    return top.node.start;
  };

  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    switch (e.type) {
      case EVENT_ID.DOCUMENT:
        stack.push({ doc: { explicitStart: e.explicitStart, first: i } });
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const anchor = anchorOf(e);
        const base = {
          start: e.start,
          propsStart: propsOf(e, e.start),
          first: i,
          end: i + 1,
          ...(anchor ? { anchor } : {}),
        };
        const node: YamlMapping | YamlSequence =
          e.type === EVENT_ID.MAPPING
            ? { kind: "mapping", pairs: [], ...base }
            : { kind: "sequence", items: [], ...base };
        attach(node);
        stack.push({ node });
        break;
      }
      case EVENT_ID.SCALAR: {
        const anchor = anchorOf(e);
        const start = scalarStart(text, e);
        const empty = start < 0;
        attach({
          kind: "scalar",
          event: e,
          empty,
          start: empty ? emptyAt() : start,
          propsStart: propsOf(e, empty ? Number.POSITIVE_INFINITY : start),
          first: i,
          end: i + 1,
          ...(anchor ? { anchor } : {}),
        });
        break;
      }
      case EVENT_ID.ALIAS:
        attach({
          kind: "alias",
          name: text.slice(e.anchorStart, e.anchorEnd),
          start: Math.max(0, e.anchorStart - 1),
          propsStart: Math.max(0, e.anchorStart - 1),
          first: i,
          end: i + 1,
        });
        break;
      case EVENT_ID.POP: {
        const top = stack.pop();
        if (top === undefined) break;
        if ("doc" in top) {
          const contents = top.doc.contents;
          const blank =
            contents === undefined ||
            (contents.kind === "scalar" &&
              contents.empty &&
              contents.anchor === undefined &&
              contents.event.tagStart < 0);
          let start = blank ? 0 : contents.start;
          if (top.doc.explicitStart) {
            const marker = text.lastIndexOf("---", blank ? text.length : start);
            if (marker >= 0) start = marker;
          }
          docs.push({
            start,
            contents: blank ? undefined : contents,
            first: top.doc.first,
            end: i + 1,
          });
        } else top.node.end = i + 1;
        break;
      }
    }
  }
  return docs;
}
