/**
 * Source positions of a ModelPool: paths that name fields (`spec.models[0].template`), and
 * the index from each written field to its line and column in the YAML text.
 */

import type { Problem, SourcePos } from "../diagnostics/problem.js";
import type { PolicyPath, PolicySource } from "./schema.js";
import { scalarKeyName, taggedKeyName, type YamlDocument, type YamlNode } from "./yaml-tree.js";

/** One step of a path: a mapping key or a list index. */
export type PathSegment = string | number;

const identRe = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Formats path segments the way problems name fields: `spec.models[0].template`; keys that
 * are not identifiers are quoted: `spec.capacity.nodeSelector["cloud.google.com/gke-spot"]`.
 */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const s of segments) out = appendPath(out, s);
  return out;
}

/**
 * The formatted path of `segment` under the formatted path `parent`: the same as
 * `formatPath([...segments, segment])` where `parent` is `formatPath(segments)`, without
 * formatting the parent again (a walk over a large document stays linear).
 */
export function appendPath(parent: string, segment: PathSegment): string {
  if (typeof segment === "number") return `${parent}[${segment}]`;
  if (identRe.test(segment)) return parent === "" ? segment : `${parent}.${segment}`;
  return `${parent}[${JSON.stringify(segment)}]`;
}

const pathTokenRe =
  /([A-Za-z_][A-Za-z0-9_-]*)|\.([A-Za-z_][A-Za-z0-9_-]*)|\[([0-9]+)\]|\[("(?:[^"\\]|\\.)*")\]/y;

/**
 * Parses a path written by {@link formatPath} back into segments.
 *
 * @throws Error naming the path when it is malformed (a bug in the caller).
 */
export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  pathTokenRe.lastIndex = 0;
  while (pathTokenRe.lastIndex < path.length) {
    const at = pathTokenRe.lastIndex;
    const m = pathTokenRe.exec(path);
    if (m === null || (m[1] !== undefined && at !== 0)) {
      throw new Error(`malformed policy path ${JSON.stringify(path)} at offset ${at}`);
    }
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(m[2]);
    else if (m[3] !== undefined) out.push(Number(m[3]));
    else out.push(JSON.parse(m[4]!) as string);
  }
  return out;
}

function toSegments(path: PolicyPath): readonly PathSegment[] {
  return typeof path === "string" ? parsePath(path) : path;
}

/**
 * Where a written field is: the offsets in the text of its key (in a mapping) and its
 * value. Offsets, not lines and columns: a document has a place per node, a problem needs
 * a line and column for a few of them (converted through the {@link LineTable}).
 */
export interface Place {
  readonly key?: number;
  readonly value: number;
  /** For an alias (`*name`): the path of the node its anchor names, indexed there. */
  readonly aliasOf?: readonly PathSegment[];
}

/** Positions of every written node of a document, by formatted path. */
export class SourceIndex implements PolicySource {
  readonly file: string;
  /** False for input without positions (an API object): every position is then unknown. */
  readonly hasPositions: boolean;
  readonly #places: ReadonlyMap<string, Place>;
  readonly #lines: LineTable | undefined;

  /** `lines`: the text's line table, which the places' offsets are converted through. */
  constructor(file: string, places: ReadonlyMap<string, Place>, lines?: LineTable) {
    this.file = file;
    this.#places = places;
    this.#lines = lines;
    this.hasPositions = places.size > 0 && lines !== undefined;
  }

  #pos(offset: number | undefined): SourcePos | undefined {
    return offset === undefined || this.#lines === undefined
      ? undefined
      : this.#lines.position(offset);
  }

  positionOf(path: PolicyPath): SourcePos | undefined {
    return this.#pos(this.#find(toSegments(path))?.value);
  }

  keyPositionOf(path: PolicyPath): SourcePos | undefined {
    const place = this.#find(toSegments(path));
    return this.#pos(place?.key ?? place?.value);
  }

  /**
   * The place of a written field. A field under an alias is written when the anchored node
   * has it, and is placed at the alias itself.
   */
  #find(segs: readonly PathSegment[], formatted = formatPath(segs)): Place | undefined {
    const exact = this.#places.get(formatted);
    if (exact !== undefined) return exact;
    for (let n = segs.length - 1; n >= 0; n--) {
      const place = this.#places.get(formatPath(segs.slice(0, n)));
      if (place === undefined) continue;
      if (place.aliasOf === undefined) return undefined;
      const inAnchor = this.#find([...place.aliasOf, ...segs.slice(n)]);
      return inAnchor === undefined ? undefined : { value: place.value };
    }
    return undefined;
  }

  nearestPositionOf(path: PolicyPath): SourcePos | undefined {
    const segs = toSegments(path);
    for (let n = segs.length; n >= 0; n--) {
      const place = this.#places.get(formatPath(segs.slice(0, n)));
      if (place !== undefined) return this.#pos(place.value);
    }
    return undefined;
  }

  problemAt(path: PolicyPath, message: string, rule?: string): Problem {
    const pos = this.nearestPositionOf(path);
    return {
      file: this.file,
      line: pos?.line ?? 0,
      col: pos?.col ?? 0,
      path: formatPath(toSegments(path)),
      message,
      ...(rule === undefined ? {} : { rule }),
    };
  }

  /** A problem at the key of `path` (for unknown fields), else at its nearest position. */
  keyProblemAt(path: readonly PathSegment[], message: string): Problem {
    const formatted = formatPath(path);
    const place = this.#find(path, formatted);
    const pos = this.#pos(place?.key ?? place?.value) ?? this.nearestPositionOf(path);
    return {
      file: this.file,
      line: pos?.line ?? 0,
      col: pos?.col ?? 0,
      path: formatted,
      message,
    };
  }
}

/**
 * Line starts of a text, so positions come from offsets and not from the YAML parser's own
 * line counter (which drifts during error recovery, e.g. `6 #\n5\ns:` put an error at 2:4
 * on the one-character line 2). Columns are clamped to the line: at most its length + 1.
 */
export class LineTable {
  readonly #text: string;
  readonly #starts: number[];

  constructor(text: string) {
    this.#text = text;
    const starts = [0];
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
    this.#starts = starts;
  }

  /** The 1-based line and column of `offset` (clamped to the text). */
  position(offset: number): SourcePos {
    const at = Math.max(0, Math.min(Number.isFinite(offset) ? offset : 0, this.#text.length));
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    const start = this.#starts[lo]!;
    const next = this.#starts[lo + 1];
    let end = next === undefined ? this.#text.length : next - 1;
    if (end > start && this.#text[end - 1] === "\r") end--;
    return { line: lo + 1, col: Math.min(at, end) - start + 1 };
  }
}

/** What a key that is not a string is, for a problem. */
function describeKey(text: string, key: YamlNode): string {
  if (key.kind === "mapping") return "a mapping";
  if (key.kind === "sequence") return "a list";
  if (key.kind === "alias") return `the alias *${key.name}`;
  const e = key.event;
  if (e.tagStart < 0) return "a value that is not a string";
  return `a ${text.slice(e.tagStart, e.tagEnd).replace(/^!<tag:yaml\.org,2002:(.*)>$/, "!!$1")} value`;
}

/** What {@link indexDocument} found. */
export interface DocumentIndex {
  /** The position of every written field, by formatted path. */
  readonly places: Map<string, Place>;
  /**
   * Keys that cannot be a JS object's property (a list, a mapping or an alias as key; a
   * tagged key that is not a string), reported: leave them and their values out of the
   * document's value (yaml-tree's `documentValue`).
   */
  readonly removed: readonly YamlNode[];
}

/**
 * Records the position of every key and value of a YAML document, without expanding
 * aliases: everything under an alias is placed at the alias itself, so the walk is linear
 * in the text (check the aliases with `checkAliases` first). Reports duplicate and
 * non-string keys.
 */
export function indexDocument(
  text: string,
  doc: YamlDocument,
  lines: LineTable,
  file: string,
  problems: Problem[],
): DocumentIndex {
  const places = new Map<string, Place>();
  const removed: YamlNode[] = [];
  const posAt = (offset: number): SourcePos => lines.position(offset);
  const problemAt = (offset: number, path: string, message: string): Problem => {
    const pos = posAt(offset);
    return { file, line: pos.line, col: pos.col, path, message };
  };
  const keyOf = (node: YamlNode): string | undefined => {
    if (node.kind !== "scalar") return undefined;
    return scalarKeyName(text, node) ?? taggedKeyName(text, node);
  };

  // The path of each anchor's node, as YAML resolves them: the last one of a name so far.
  const anchors = new Map<string, readonly PathSegment[]>();
  let shadowed = 0;

  // `segs` is one stack shared by the whole walk (copied only for an anchor) and `path` its
  // formatted form, built one segment at a time: no per-node copies of the path.
  const segs: PathSegment[] = [];
  const walk = (node: YamlNode, path: string, place: Place): void => {
    if (node.kind === "alias") {
      const target = anchors.get(node.name);
      places.set(path, target === undefined ? place : { ...place, aliasOf: target });
      return;
    }
    if (node.anchor !== undefined) anchors.set(node.anchor, [...segs]);
    places.set(path, place);
    if (node.kind === "mapping") {
      const names = node.pairs.map((pair) => keyOf(pair.key));
      // Of duplicate keys the last one's value is the one YAML keeps: its fields get the
      // places; an earlier one's are kept apart (under a path no field has), for aliases.
      // Without duplicates (the usual case) every key is its own first and last one, and
      // neither map below is needed.
      let last: Map<string, number> | undefined;
      const keys = new Set<string>();
      for (const name of names) {
        if (name === undefined) continue;
        if (keys.has(name)) {
          last = new Map();
          names.forEach((n, i) => {
            if (n !== undefined) last?.set(n, i);
          });
          break;
        }
        keys.add(name);
      }
      const seen = last === undefined ? undefined : new Map<string, number>();
      node.pairs.forEach((pair, i) => {
        const keyPos = pair.key.start;
        const key = names[i];
        if (key === undefined) {
          problems.push(
            problemAt(
              keyPos,
              path,
              `mapping keys must be plain strings (got ${describeKey(text, pair.key)})`,
            ),
          );
          removed.push(pair.key, pair.value);
          return;
        }
        const childPath = appendPath(path, key);
        const first = seen?.get(key);
        if (first !== undefined) {
          problems.push(
            problemAt(keyPos, childPath, `duplicate key (first at line ${posAt(first).line})`),
          );
        } else seen?.set(key, keyPos);
        const value = pair.value;
        // An empty value (`key:` with nothing after it) is best pointed at by its key.
        const valuePos = value.kind === "scalar" && value.empty ? keyPos : value.start;
        const childPlace = { key: keyPos, value: valuePos };
        if (last === undefined || last.get(key) === i) {
          segs.push(key);
          walk(value, childPath, childPlace);
          segs.pop();
        } else {
          // Kept apart, under a path no field has (a segment of its own, from the root).
          const hidden = `\u0000shadowed ${shadowed++}`;
          const saved = segs.splice(0, segs.length, hidden);
          walk(value, formatPath(segs), childPlace);
          segs.splice(0, segs.length, ...saved);
        }
      });
      return;
    }
    if (node.kind === "sequence") {
      node.items.forEach((item, i) => {
        segs.push(i);
        walk(item, appendPath(path, i), { value: item.start });
        segs.pop();
      });
    }
  };

  if (doc.contents !== undefined) walk(doc.contents, "", { value: doc.contents.start });
  return { places, removed };
}
