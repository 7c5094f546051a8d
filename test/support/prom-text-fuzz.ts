/**
 * Random Prometheus text-format inputs for the agreement test against a real Prometheus
 * (test/integration/prom-text-prometheus.test.ts): valid texts that use every corner of the
 * format (blanks between tokens, escapes, special values, comments, HELP/TYPE, timestamps,
 * a missing final newline), and one-character mutations of them, which may or may not stay
 * valid. Seeded, so a failure reproduces.
 *
 * What the generator avoids, because Prometheus changes it after parsing (not a parser
 * difference): label names starting with `__` (dropped after relabeling), the target labels
 * `job`, `instance` and `case`, names starting with `up`/`scrape_` (Prometheus's own
 * series), and two samples of one series (after dropping empty label values, which
 * Prometheus does).
 */

/** A small seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const NAME_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:";
const NAME_REST = `${NAME_START}0123456789`;
const LABEL_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LABEL_REST = `${LABEL_START}_0123456789`;
const RESERVED = new Set(["job", "instance", "case"]);

function word(r: () => number, start: string, rest: string, max: number): string {
  let s = pick(r, [...start]);
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += pick(r, [...rest]);
  return s;
}

function metricName(r: () => number): string {
  for (;;) {
    const n =
      r() < 0.5 ? `nv_${word(r, NAME_REST, NAME_REST, 12)}` : word(r, NAME_START, NAME_REST, 14);
    if (!/^(up|scrape_)/.test(n) && !n.startsWith("__")) return n;
  }
}

function labelName(r: () => number): string {
  for (;;) {
    const n = word(r, LABEL_START, LABEL_REST, 8);
    if (!RESERVED.has(n)) return n;
  }
}

const VALUE_CHARS = [..."abcXYZ019 _-.:/{}=,#+", "é", "✓", "日本", "😀", "\t"];

/** A label value and its escaped form. */
function labelValue(r: () => number): { raw: string; text: string } {
  let raw = "";
  let text = "";
  const n = Math.floor(r() * 10);
  for (let i = 0; i < n; i++) {
    const k = r();
    if (k < 0.08) {
      raw += "\\";
      text += "\\\\";
    } else if (k < 0.16) {
      raw += '"';
      text += '\\"';
    } else if (k < 0.24) {
      raw += "\n";
      text += "\\n";
    } else if (k < 0.26) {
      // A raw newline: not in the format's spec, but Prometheus keeps it, and so do we.
      raw += "\n";
      text += "\n";
    } else if (k < 0.28) {
      // An escape Prometheus keeps as written.
      raw += "\\t";
      text += "\\t";
    } else {
      const c = pick(r, VALUE_CHARS);
      raw += c;
      text += c;
    }
  }
  return { raw, text };
}

const SPECIAL_VALUES = ["NaN", "nan", "+Inf", "-Inf", "Inf", "+inf", "-Infinity", "infinity"];

function valueText(r: () => number): string {
  const k = r();
  if (k < 0.12) return pick(r, SPECIAL_VALUES);
  if (k < 0.4) return String(Math.floor(r() * 1e6));
  if (k < 0.5) return String(Math.floor(r() * 2 ** 53) * (r() < 0.5 ? 1 : 1024));
  if (k < 0.6)
    return pick(r, [
      ".5",
      "1.",
      "-0",
      "+7",
      "007",
      "1e3",
      "1E-3",
      "-2.5e+10",
      "5e-324",
      "1.7976931348623157e308",
      "1e-400",
    ]);
  if (k < 0.8) return (r() * 1e4 - 5e3).toString();
  return (r() * 10 ** Math.floor(r() * 30 - 15)).toExponential(Math.floor(r() * 17));
}

const blanks = (r: () => number, p: number): string =>
  r() < p ? pick(r, [" ", "  ", "\t", " \t"]) : "";

/** A valid text of up to `maxSamples` samples; `timestampMs` set → some samples carry it. */
export function validText(r: () => number, maxSamples: number, timestampMs?: number): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  const n = 1 + Math.floor(r() * maxSamples);
  let name = metricName(r);
  for (let i = 0; i < n; i++) {
    if (r() < 0.3) name = metricName(r);
    const k = r();
    if (k < 0.05) lines.push(pick(r, ["", "   ", "\t"]));
    else if (k < 0.1)
      lines.push(pick(r, ["#", "# a comment", "#HELP not meta", "# TYPEx y", "#  HELP x y"]));
    else if (k < 0.15) lines.push(`# HELP ${name} ${labelValue(r).text.replace(/\n/g, "\\n")}`);
    else if (k < 0.2)
      lines.push(
        `# TYPE ${name} ${pick(r, ["counter", "gauge", "histogram", "summary", "untyped"])}`,
      );
    const labels: { name: string; raw: string; text: string }[] = [];
    const nl = Math.floor(r() * 4);
    const used = new Set<string>();
    for (let j = 0; j < nl; j++) {
      const ln = labelName(r);
      if (used.has(ln)) continue;
      used.add(ln);
      labels.push({ name: ln, ...labelValue(r) });
    }
    const key = `${name}{${labels
      .filter((l) => l.raw !== "")
      .map((l) => `${l.name}=${JSON.stringify(l.raw)}`)
      .sort()
      .join(",")}}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let line = name;
    if (labels.length > 0 || r() < 0.2) {
      line += `${blanks(r, 0.2)}{`;
      line += labels
        .map(
          (l) =>
            `${blanks(r, 0.2)}${l.name}${blanks(r, 0.1)}=${blanks(r, 0.1)}"${l.text}"${blanks(r, 0.1)}`,
        )
        .join(",");
      if (labels.length > 0 && r() < 0.2) line += ",";
      line += `}${blanks(r, 0.5) || (r() < 0.8 ? " " : "")}`;
    } else line += pick(r, [" ", "\t", "  "]);
    line += valueText(r);
    if (timestampMs !== undefined && r() < 0.3) line += ` ${timestampMs}`;
    line += blanks(r, 0.1);
    lines.push(line);
  }
  const text = lines.join("\n");
  return r() < 0.15 ? text : `${text}\n`;
}

const MUTATIONS = [
  "{",
  "}",
  '"',
  "=",
  ",",
  "#",
  " ",
  "\t",
  "\r",
  "\u0000",
  "x",
  "9",
  ".",
  "-",
  "\\",
  "\n",
];

/** `text` with one character inserted, replaced or deleted at a random place. */
export function mutate(r: () => number, text: string): string {
  if (text.length === 0) return pick(r, MUTATIONS);
  const at = Math.floor(r() * text.length);
  const k = r();
  if (k < 0.4) return text.slice(0, at) + pick(r, MUTATIONS) + text.slice(at);
  if (k < 0.8) return text.slice(0, at) + pick(r, MUTATIONS) + text.slice(at + 1);
  return text.slice(0, at) + text.slice(at + 1);
}
