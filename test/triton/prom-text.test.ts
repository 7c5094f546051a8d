import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import {
  type PromSample,
  PromTextParser,
  parsePromSamples,
  parsePromValue,
  promTextWork,
} from "../../controller/triton/prom-text.js";
import { referenceDir, requireReference } from "../support/reference.js";

const s = (
  name: string,
  labels: Record<string, string>,
  value: number,
  timestampMs?: number,
): PromSample =>
  timestampMs === undefined ? { name, labels, value } : { name, labels, value, timestampMs };

interface Valid {
  readonly name: string;
  readonly text: string;
  readonly want: readonly PromSample[];
}

// Each row's behaviour was checked against Debian's Prometheus 2.42 scraping the same text.
const VALID: readonly Valid[] = [
  { name: "empty text", text: "", want: [] },
  { name: "blank lines, with blanks", text: "\n   \n\t\n", want: [] },
  { name: "plain sample", text: "a 1\n", want: [s("a", {}, 1)] },
  { name: "no final newline", text: "a 1", want: [s("a", {}, 1)] },
  { name: "tab separator and trailing blank", text: "a\t1 \n", want: [s("a", {}, 1)] },
  { name: "colon in metric name", text: "a:b_c 2\n", want: [s("a:b_c", {}, 2)] },
  {
    name: "labels with blanks around every token and a trailing comma",
    text: 'a { x = "1" , y="2", } 3\n',
    want: [s("a", { x: "1", y: "2" }, 3)],
  },
  { name: "empty braces, value right after", text: "a{}4\n", want: [s("a", {}, 4)] },
  { name: "empty label value", text: 'a{x=""} 1\n', want: [s("a", { x: "" }, 1)] },
  {
    name: 'escapes: \\\\ \\" \\n unescaped, others kept',
    text: 'a{x="q\\"b\\\\n\\n\\t"} 1\n',
    want: [s("a", { x: 'q"b\\n\n\\t' }, 1)],
  },
  {
    name: "raw newlines in label values (Prometheus keeps them), lines counted on",
    text: 'a{x="1\n2",y="\n\\"\n"} 1\nb 2\n',
    want: [s("a", { x: "1\n2", y: '\n"\n' }, 1), s("b", {}, 2)],
  },
  { name: "non-ASCII label value", text: 'a{x="é✓"} 1\n', want: [s("a", { x: "é✓" }, 1)] },
  {
    name: "NaN, +Inf, -Inf, Infinity, lower case",
    text: "a NaN\nb +Inf\nc -Inf\nd -Infinity\ne nan\nf INF\n",
    want: [
      s("a", {}, Number.NaN),
      s("b", {}, Infinity),
      s("c", {}, -Infinity),
      s("d", {}, -Infinity),
      s("e", {}, Number.NaN),
      s("f", {}, Infinity),
    ],
  },
  {
    name: "decimal forms",
    text: "a .5\nb 1.\nc 007\nd +1\ne -1.5E+3\nf 1e-999\n",
    want: [
      s("a", {}, 0.5),
      s("b", {}, 1),
      s("c", {}, 7),
      s("d", {}, 1),
      s("e", {}, -1500),
      s("f", {}, 0),
    ],
  },
  { name: "timestamp", text: "a 1 1700000000123\n", want: [s("a", {}, 1, 1700000000123)] },
  {
    name: "comments, HELP and TYPE in any order, repeated",
    text: "# hi\n#\n#HELP a x\n# HELP a first\n# HELP a second\n# TYPE a counter\na 1\n# TYPE a gauge\n #  TYPE b gauge\n",
    want: [s("a", {}, 1)],
  },
  { name: "HELP without text", text: "# HELP a\na 1\n", want: [s("a", {}, 1)] },
  {
    name: "name-ish garbage after a value is a timestamp-less value split (a-1 2: a = -1 at t 2)",
    text: "a-1 2\n",
    want: [s("a", {}, -1, 2)],
  },
];

interface Invalid {
  readonly name: string;
  readonly text: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

const INVALID: readonly Invalid[] = [
  { name: "CRLF line end", text: "a 1\r\n", line: 1, col: 3, message: '"1\\r" is not a number' },
  { name: "hex float", text: "a 0x1p3\n", line: 1, col: 3, message: "is not a number" },
  { name: "underscore in number", text: "a 1_000\n", line: 1, col: 3, message: "is not a number" },
  { name: "signed NaN", text: "a -NaN\n", line: 1, col: 3, message: "is not a number" },
  { name: "overflow", text: "a 1e999\n", line: 1, col: 3, message: "is not a number" },
  { name: "exponent without digits", text: "a 1e\n", line: 1, col: 3, message: "is not a number" },
  { name: "missing value", text: "x 1\na\n", line: 2, col: 2, message: "expected a value after a" },
  {
    name: "leading blank before a sample",
    text: "\ta 1\n",
    line: 1,
    col: 1,
    message: "must start with its metric name",
  },
  {
    name: "digit starts a name",
    text: "1a 1\n",
    line: 1,
    col: 1,
    message: "expected a metric name",
  },
  {
    name: "duplicate label",
    text: 'a{x="1",x="2"} 1\n',
    line: 1,
    col: 9,
    message: "label x appears twice",
  },
  {
    name: "__name__ as a label",
    text: 'a{__name__="b"} 1\n',
    line: 1,
    col: 3,
    message: "label __name__ is the metric name",
  },
  {
    name: "colon in label name",
    text: 'a{x:y="1"} 1\n',
    line: 1,
    col: 4,
    message: 'expected "=" after label name x',
  },
  {
    name: "unquoted label value",
    text: "a{x=1} 1\n",
    line: 1,
    col: 5,
    message: "expected a double-quoted value",
  },
  {
    name: "unterminated label value",
    text: 'a 1\nb{x="1} 2\nc 3\n',
    line: 2,
    col: 5,
    message: "unterminated value of label x: no closing '\"' before the end of the text",
  },
  {
    name: "a fault after a label value with a raw newline, on the record's second line",
    text: 'a{x="1\n2",y=3} 1\n',
    line: 2,
    col: 6,
    message: "expected a double-quoted value of label y",
  },
  {
    name: "missing comma",
    text: 'a{x="1" y="2"} 1\n',
    line: 1,
    col: 9,
    message: 'expected "," or "}"',
  },
  {
    name: "negative timestamp",
    text: "a 1 -5\n",
    line: 1,
    col: 5,
    message: "expected a timestamp",
  },
  {
    name: "fractional timestamp",
    text: "a 1 1.5\n",
    line: 1,
    col: 5,
    message: "expected a timestamp",
  },
  {
    name: "three fields",
    text: "a 1 2 3\n",
    line: 1,
    col: 7,
    message: "expected the end of the line",
  },
  {
    name: "timestamp beyond int64",
    text: "a 1 99999999999999999999\n",
    line: 1,
    col: 5,
    message: "timestamp out of range",
  },
  {
    name: "unknown TYPE",
    text: "# TYPE a foo\n",
    line: 1,
    col: 10,
    message: 'invalid metric type "foo"',
  },
  {
    name: "TYPE with two blanks",
    text: "# TYPE a  counter\n",
    line: 1,
    col: 10,
    message: 'invalid metric type " counter"',
  },
  {
    name: "TYPE without type",
    text: "# TYPE a\n",
    line: 1,
    col: 9,
    message: 'invalid metric type ""',
  },
  {
    name: "HELP without a name",
    text: "# HELP \n",
    line: 1,
    col: 8,
    message: "expected a metric name after # HELP",
  },
  {
    name: "exemplar (OpenMetrics only)",
    text: 'a 1 # {t="x"} 2\n',
    line: 1,
    col: 5,
    message: "expected a timestamp",
  },
  {
    name: "binary garbage",
    text: "\u0000\u0001\n",
    line: 1,
    col: 1,
    message: "control character U+0000",
  },
];

function same(got: readonly PromSample[], want: readonly PromSample[]): void {
  expect(got.length).to.equal(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect(g.name).to.equal(w.name);
    expect(g.labels).to.deep.equal(w.labels);
    expect(Object.is(g.value, w.value) || g.value === w.value).to.equal(
      true,
      `${g.name}: ${g.value} vs ${w.value}`,
    );
    expect(g.timestampMs).to.equal(w.timestampMs);
  });
}

describe("triton/prom-text: the Prometheus text format parser", () => {
  for (const row of VALID) {
    it(`parses ${row.name}`, () => {
      const r = parsePromSamples(row.text);
      expect(r.problem, JSON.stringify(r.problem)).to.equal(undefined);
      same(r.samples, row.want);
    });
  }
  for (const row of INVALID) {
    it(`refuses ${row.name}, at line and column`, () => {
      const r = parsePromSamples(row.text, "pod-a:8002/metrics");
      expect(r.problem).to.not.equal(undefined);
      const p = r.problem!;
      expect(p.message).to.contain(row.message);
      expect([p.file, p.line, p.col]).to.deep.equal(["pod-a:8002/metrics", row.line, row.col]);
    });
  }

  it("gives the same samples whatever the chunking (every split point of a text)", () => {
    const text =
      '# HELP a x\n# TYPE a counter\na{model="m",version="1"} 12 1700000000000\nb{x="q\\"\\n"} NaN\n\nd{x="raw\nnew\\\nline",y="2"} 4\nc -Inf';
    const whole = parsePromSamples(text).samples;
    for (let k = 0; k <= text.length; k++) {
      const got: PromSample[] = [];
      const p = new PromTextParser({
        sample: (name, labels, value, ts) => {
          const o: Record<string, string> = {};
          for (let i = 0; i < labels.length; i += 2) o[labels[i]!] = labels[i + 1]!;
          got.push(
            ts === undefined
              ? { name, labels: o, value }
              : { name, labels: o, value, timestampMs: ts },
          );
        },
      });
      expect(p.write(text.slice(0, k))).to.equal(undefined);
      expect(p.write(text.slice(k))).to.equal(undefined);
      expect(p.end()).to.equal(undefined);
      same(got, whole);
    }
  });

  it("gives the same samples for any three-way chunking of a record with raw newlines", () => {
    const text = 'a 1\nb{x="p\nq\\"r\n",y="s"} 2\nc{z="\n"} 3\n';
    const whole = parsePromSamples(text).samples;
    expect(whole.map((x) => x.name)).to.deep.equal(["a", "b", "c"]);
    for (let k = 0; k <= text.length; k++) {
      for (let m = k; m <= text.length; m++) {
        const got: string[] = [];
        const p = new PromTextParser({
          sample: (name, labels) => void got.push(`${name}${JSON.stringify(labels)}`),
        });
        for (const part of [text.slice(0, k), text.slice(k, m), text.slice(m)])
          expect(p.write(part)).to.equal(undefined);
        expect(p.end()).to.equal(undefined);
        expect(got).to.deep.equal(
          whole.map((x) => `${x.name}${JSON.stringify(Object.entries(x.labels).flat())}`),
        );
      }
    }
    const bad = new PromTextParser({ sample: () => {} });
    bad.write('a 1\nb{x="p\nq');
    bad.write("\nr 2\n");
    expect(bad.end()).to.include({ line: 2, col: 5 });
  });

  it("counts lines across chunks in its problems, and stops at the first", () => {
    const p = new PromTextParser({ sample: () => {} }, "f");
    expect(p.write("a 1\nb")).to.equal(undefined);
    const first = p.write(" 2\nc x\nd 1\n");
    expect(first).to.include({ line: 3, col: 3 });
    expect(p.write("e 1\n")).to.equal(first);
    expect(p.end()).to.equal(first);
  });

  it("checks unwanted samples as fully as wanted ones, but hands out only the wanted", () => {
    const got: string[] = [];
    const h = { want: (n: string) => n === "a", sample: (n: string) => void got.push(n) };
    const ok = new PromTextParser(h);
    ok.write('a{x="1"} 1\nb{x="1",y="2"} 2\na 3\n');
    expect(ok.end()).to.equal(undefined);
    expect(got).to.deep.equal(["a", "a"]);
    const bad = new PromTextParser(h);
    expect(bad.write('b{x="1",y="2",x="3"} 2\n')).to.include({ line: 1, col: 15 });
    expect(new PromTextParser(h).write("b{} one\n")?.message).to.contain('"one" is not a number');
  });

  it("checks duplicate label names in linear work: 10,000 labels on one sample", () => {
    const labels = Array.from({ length: 10_000 }, (_, i) => `l${i}="v"`);
    const before = promTextWork.labelComparisons;
    const r = parsePromSamples(`a{${labels.join(",")}} 1\n`);
    expect(r.problem).to.equal(undefined);
    expect(Object.keys(r.samples[0]!.labels)).to.have.length(10_000);
    expect(promTextWork.labelComparisons - before).to.be.at.most((16 * 15) / 2);
    const dup = parsePromSamples(`a{${labels.join(",")},l9999="w"} 1\n`);
    expect(dup.problem?.message).to.contain("label l9999 appears twice");
    const early = parsePromSamples('a{x="1",y="2",x="3"} 1\n');
    expect(early.problem).to.include({ col: 15 });
  });

  it("hands out HELP and TYPE", () => {
    const seen: string[] = [];
    const p = new PromTextParser({
      sample: () => {},
      help: (n, t) => seen.push(`help ${n} ${JSON.stringify(t)}`),
      type: (n, t) => seen.push(`type ${n} ${t}`),
    });
    p.write("# HELP a one\\ntwo \\\\ \\x\n# TYPE a summary\n");
    expect(p.end()).to.equal(undefined);
    expect(seen).to.deep.equal(['help a "one\\ntwo \\\\ \\\\x"', "type a summary"]);
  });

  it("reads values as Go's ParseFloat does, decimal only", () => {
    const rows: [string, number | undefined][] = [
      ["1", 1],
      ["-0", -0],
      ["+.5e1", 5],
      ["Infinity", Infinity],
      ["+infinity", Infinity],
      ["infinit", undefined],
      ["+nan", undefined],
      ["", undefined],
      ["1e+", undefined],
      [".", undefined],
      ["1.2.3", undefined],
      ["0x10", undefined],
    ];
    for (const [text, want] of rows) {
      const got = parsePromValue(text);
      expect(got === undefined ? undefined : got, text).to.satisfy((g: number | undefined) =>
        want === undefined ? g === undefined : Object.is(g, want),
      );
    }
  });

  it("parses the Triton reference sample (docs and perf_analyzer fragments)", function () {
    const dir = requireReference(this, "triton");
    const file = join(dir, "metrics-sample.txt");
    if (!existsSync(file)) this.skip();
    const r = parsePromSamples(readFileSync(file, "utf8"), file);
    expect(r.problem, JSON.stringify(r.problem)).to.equal(undefined);
    const util = r.samples.filter((x) => x.name === "nv_gpu_utilization").map((x) => x.value);
    expect(util).to.deep.equal([0.41, 0.77]);
    expect(r.samples.find((x) => x.name === "nv_inference_request_success")).to.deep.equal(
      s("nv_inference_request_success", { model: "my_model", version: "1" }, 161),
    );
    void referenceDir;
  });
});
