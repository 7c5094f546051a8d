/**
 * Label and field selectors as the API server reads them from `?labelSelector=` and
 * `?fieldSelector=`. A malformed selector is a 400, like the real server.
 */

type Labels = Readonly<Record<string, string>>;
type Requirement = (labels: Labels) => boolean;

/** A selector that does not parse. */
export class SelectorError extends Error {}

/** Splits on commas that are not inside `( … )`. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== "");
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_./]*[a-z0-9A-Z])?)$/;

function key(k: string, whole: string): string {
  if (!KEY.test(k)) throw new SelectorError(`invalid label key "${k}" in selector "${whole}"`);
  return k;
}

/**
 * Parses an equality- or set-based label selector (`a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`), every requirement ANDed. Empty selects everything.
 */
export function parseLabelSelector(s: string): (labels: Labels) => boolean {
  const reqs: Requirement[] = [];
  for (const part of splitTop(s)) {
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) {
      const k = key(m[1]!, s);
      const values = new Set(
        m[3]!
          .split(",")
          .map((v) => v.trim())
          .filter((v) => v !== ""),
      );
      reqs.push(
        m[2] === "in"
          ? (l) => l[k] !== undefined && values.has(l[k]!)
          : (l) => l[k] === undefined || !values.has(l[k]!),
      );
      continue;
    }
    m = /^([^!=\s]+)\s*(==|=|!=)\s*([^!=\s]*)$/.exec(part);
    if (m) {
      const k = key(m[1]!, s);
      const v = m[3]!;
      reqs.push(m[2] === "!=" ? (l) => l[k] !== v : (l) => l[k] === v);
      continue;
    }
    m = /^(!?)\s*([^!=\s()]+)$/.exec(part);
    if (m) {
      const k = key(m[2]!, s);
      reqs.push(m[1] === "!" ? (l) => l[k] === undefined : (l) => l[k] !== undefined);
      continue;
    }
    throw new SelectorError(`unable to parse requirement "${part}" in selector "${s}"`);
  }
  return (labels) => reqs.every((r) => r(labels));
}

function at(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const seg of path.split(".")) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/**
 * Parses a field selector (`metadata.name=x`, `involvedObject.kind!=Pod`, ...): each
 * term compares the string value at a dotted path.
 */
export function parseFieldSelector(s: string): (obj: unknown) => boolean {
  const reqs: ((o: unknown) => boolean)[] = [];
  for (const part of splitTop(s)) {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorError(`invalid field selector "${s}"`);
    const path = m[1]!;
    const v = m[3]!;
    const eq = (o: unknown) => String(at(o, path) ?? "") === v;
    reqs.push(m[2] === "!=" ? (o) => !eq(o) : eq);
  }
  return (o) => reqs.every((r) => r(o));
}
