/**
 * Limits on the shape of ModelPool YAML, checked before anything walks it, so that any
 * text ends in problems with a line and column instead of a crash or a hang:
 *
 * - nesting depth, from a cheap scan of the text before the YAML parser sees it (deeply
 *   nested flow collections made the `yaml` library, read before, abort the process);
 * - aliases: a recursive alias (`a: &a [*a]`) and aliases that expand to more than
 *   {@link MAX_ALIAS_EXPANSION} nodes ("billion laughs": 300 bytes, 531,441 nodes) are
 *   problems, found by one linear walk of the written nodes.
 *
 * A ModelPool nests 7 levels deep and has a few thousand nodes at most, so the limits
 * never refuse a real pool.
 */

import type { Problem } from "../diagnostics/problem.js";
import type { LineTable } from "./source.js";
import type { YamlDocument, YamlNode } from "./yaml-tree.js";

/** Most lists and mappings inside each other, as written or once aliases are expanded. */
export const MAX_NESTING = 64;

/** Most nodes all aliases together may expand to (each alias counts its anchor's nodes). */
export const MAX_ALIAS_EXPANSION = 10_000;

const isBlank = (c: string | undefined) => c === " " || c === "\t";
const endsToken = (c: string | undefined) =>
  c === undefined || isBlank(c) || c === "\r" || c === "\n";

/**
 * The offset at which the nesting of `text` first exceeds `limit`, or undefined. Counts
 * flow collections (`[`, `{` outside quotes and comments), block indentation levels and
 * block sequence dashes (`- - x`); block scalars and quoted strings are skipped. A line that
 * continues a plain scalar (`b: c` then a deeper `  k: v`) and has a `key:` on it counts one
 * level deeper than the line before, and so does each such line after it at the same
 * indentation: that is never valid YAML (a key over several lines), but yaml's parser nests
 * one mapping per line there, and ran out of stack on 2,000 such lines. It may count more
 * levels than the YAML really has, never fewer, and takes time linear in the text.
 */
export function findDeepNesting(text: string, limit = MAX_NESTING): number | undefined {
  let flow = 0;
  let quote: '"' | "'" | undefined;
  const indents: number[] = [];
  // While >= 0: lines indented deeper than this (or blank) are the content of a block scalar.
  let blockScalarIndent = -1;
  // The last content line: whether it ended in a plain scalar outside quotes and flows
  // (which a line indented deeper than the scalar's mapping key or `-` continues), that
  // column, and whether the line itself continued a scalar with a key.
  let afterPlain = false;
  let lastParent = 0;
  let lastContinued = false;
  for (let start = 0; start <= text.length; ) {
    const nl = text.indexOf("\n", start);
    const end = nl < 0 ? text.length : nl;
    let i = start;
    while (text[i] === " ") i++;
    const indent = i - start;
    let block = indents.length;
    // This line continues a plain scalar: a `key:` on it nests one level deeper.
    let continues = false;
    let plain = false;
    let parent = indent;
    let tokenCol = indent;
    if (quote === undefined && flow === 0) {
      const content = i < end && text[i] !== "#" && text[i] !== "\r";
      if (blockScalarIndent >= 0 && (!content || indent > blockScalarIndent)) {
        start = end + 1;
        continue;
      }
      blockScalarIndent = -1;
      if (content) {
        const marker = text.startsWith("---", start) || text.startsWith("...", start);
        continues = afterPlain && (indent > lastParent || (lastContinued && indent === lastParent));
        if (indent === 0 && marker && endsToken(text[start + 3])) {
          indents.length = 0;
          i = start + 3;
          continues = false;
        } else if (continues) {
          // Part of the scalar until a `key:` shows (see below).
        } else {
          while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
          indents.push(indent);
          if (indents.length > limit) return i;
        }
        block = indents.length;
      }
    }
    const blank = i >= end || text[i] === "\r";
    let commented = false;
    let keyed = false;
    let tokenStart = true;
    for (; i < end; i++) {
      const c = text[i]!;
      if (quote !== undefined) {
        if (quote === '"' && c === "\\") i++;
        else if (c === quote) {
          if (quote === "'" && text[i + 1] === "'") i++;
          else {
            quote = undefined;
            tokenStart = false;
          }
        }
        continue;
      }
      if (c === "#" && (i === start || isBlank(text[i - 1]))) {
        commented = true;
        break;
      }
      // A byte order mark is stripped by the parser: it starts nothing and ends nothing.
      if (isBlank(c) || c === "\r" || c === "\uFEFF") continue;
      if (tokenStart) tokenCol = i - start;
      if (tokenStart && (c === '"' || c === "'")) {
        quote = c;
        plain = false;
        continue;
      }
      if ((flow > 0 || tokenStart) && (c === "[" || c === "{")) {
        flow++;
        plain = false;
        if (block + flow > limit) return i;
        tokenStart = true;
        continue;
      }
      if (flow > 0 && (c === "]" || c === "}")) {
        flow--;
        tokenStart = false;
        continue;
      }
      // JSON-style flow: `{"a":"b"}` starts a value right after the `:`.
      if (flow > 0 && (c === "," || (c === ":" && text[i - 1] === '"'))) {
        tokenStart = true;
        continue;
      }
      const next = text[i + 1];
      if (
        (c === ":" &&
          (endsToken(next) || (flow > 0 && (next === "," || next === "]" || next === "}")))) ||
        ((c === "-" || c === "?") && tokenStart && endsToken(next))
      ) {
        if (c === "-" && flow === 0) {
          block++;
          if (block + flow > limit) return i;
        }
        if (flow === 0) parent = c === ":" ? tokenCol : i - start;
        if (c === ":" && flow === 0 && continues) {
          continues = false;
          keyed = true;
          indents.push(indent);
          block = indents.length;
          if (block > limit) return i;
        }
        plain = false;
        tokenStart = true;
        continue;
      }
      if (tokenStart && (c === "&" || c === "!")) {
        while (i + 1 < end && !endsToken(text[i + 1])) i++;
        plain = false;
        continue;
      }
      if (tokenStart && flow === 0 && (c === "|" || c === ">")) {
        blockScalarIndent = indent;
        plain = false;
        break;
      }
      if (flow === 0) plain = true;
      tokenStart = false;
    }
    if (!blank) {
      afterPlain = plain && !commented && quote === undefined && flow === 0;
      // A continued line without a key is more of the same scalar: its parent stays.
      if (!continues) {
        lastParent = parent;
        lastContinued = keyed;
      }
    }
    start = end + 1;
  }
  return undefined;
}

/**
 * Checks the aliases of a parsed document before anything expands them: every alias must
 * name an anchor written before it and outside it, the expansion must stay within
 * {@link MAX_ALIAS_EXPANSION} nodes and {@link MAX_NESTING} levels. One walk over the
 * written nodes; anchors are resolved as YAML does (the last one of that name before the
 * alias). Returns the problems, each at its alias.
 */
export function checkAliases(doc: YamlDocument, lines: LineTable, file: string): Problem[] {
  const problems: Problem[] = [];
  const at = (node: YamlNode, message: string): Problem => {
    const pos = lines.position(node.start);
    return { file, line: pos.line, col: pos.col, path: "", message };
  };
  /** Expanded size (nodes) and height (nesting levels) of every node walked so far. */
  const measured = new Map<YamlNode, { size: number; height: number }>();
  const anchors = new Map<string, YamlNode>();
  const open = new Set<YamlNode>();
  let expanded = 0;
  let tooMany = false;

  const measure = (node: YamlNode, level: number): { size: number; height: number } => {
    if (node.kind === "alias") {
      const target = anchors.get(node.name);
      if (target === undefined) {
        problems.push(at(node, `alias *${node.name} names no anchor written before it`));
        return { size: 1, height: 0 };
      }
      if (open.has(target)) {
        problems.push(
          at(
            node,
            `alias *${node.name} is inside the node its anchor &${node.name} names, so it would repeat forever; copy the values instead`,
          ),
        );
        return { size: 1, height: 0 };
      }
      const m = measured.get(target) ?? { size: 1, height: 0 };
      expanded += m.size;
      if (expanded > MAX_ALIAS_EXPANSION && !tooMany) {
        tooMany = true;
        problems.push(
          at(
            node,
            `aliases expand to more than ${MAX_ALIAS_EXPANSION} nodes; a ModelPool never needs that many (write the values out or use fewer aliases)`,
          ),
        );
      }
      if (level + m.height > MAX_NESTING && !tooMany) {
        tooMany = true;
        problems.push(
          at(
            node,
            `alias *${node.name} nests the document deeper than ${MAX_NESTING} levels of lists and mappings`,
          ),
        );
      }
      return m;
    }
    if (node.anchor !== undefined) anchors.set(node.anchor, node);
    if (node.kind === "scalar") return { size: 1, height: 0 };
    open.add(node);
    let size = 1;
    let height = 0;
    const child = (c: YamlNode) => {
      if (tooMany) return;
      const m = measure(c, level + 1);
      size += m.size;
      height = Math.max(height, m.height);
    };
    if (node.kind === "mapping") {
      for (const pair of node.pairs) {
        child(pair.key);
        child(pair.value);
      }
    } else for (const item of node.items) child(item);
    open.delete(node);
    const m = { size, height: height + 1 };
    measured.set(node, m);
    return m;
  };
  if (doc.contents !== undefined) measure(doc.contents, 0);
  return problems;
}

/**
 * Whether a plain value (a custom resource from the API server) nests lists and mappings
 * deeper than `limit`. Stops at the limit, so a cyclic value ends too.
 */
export function nestsDeeperThan(value: unknown, limit = MAX_NESTING): boolean {
  const deeper = (v: unknown, level: number): boolean => {
    if (typeof v !== "object" || v === null) return false;
    if (level >= limit) return true;
    for (const child of Object.values(v)) if (deeper(child, level + 1)) return true;
    return false;
  };
  return deeper(value, 0);
}
