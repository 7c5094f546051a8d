/**
 * Regression cases from fuzzing the ModelPool loader (issue 7): inputs that threw, hung,
 * aborted the process, were reported at the wrong place, or were silently accepted. Work is
 * checked by structure and counters, never by time.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runGenerate } from "../../controller/cli/generate.js";
import { formatProblem } from "../../controller/diagnostics/problem.js";
import { suggestWork } from "../../controller/diagnostics/suggest.js";
import { parseModelPool, parseModelPoolObject } from "../../controller/policy/index.js";
import { MAX_PROBLEMS } from "../../controller/policy/load.js";
import { findDeepNesting, MAX_NESTING } from "../../controller/policy/yaml-limits.js";
import { runCaptured } from "../support/io.js";
import { pool } from "../support/pool-text.js";

function problemsOf(yaml: string, templates?: readonly string[]): string[] {
  const options = templates === undefined ? {} : { templates };
  return parseModelPool(yaml, "pool.yaml", options).problems.map((p) =>
    formatProblem(p).replace(/^pool\.yaml:/, ""),
  );
}

/** 6 levels of 9 aliases each: 300 bytes that expand to 531,441 nodes. */
function billionLaughs(): string {
  const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i <= 6; i++) {
    lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(", ")}]`);
  }
  return `${lines.join("\n")}\n`;
}

/** Anchors each nesting 20 levels around an alias of the one before: deep once expanded. */
function deepAliases(): string {
  const lines = ["x0: &x0 1"];
  for (let i = 1; i <= 5; i++)
    lines.push(`x${i}: &x${i} ${"[".repeat(20)}*x${i - 1}${"]".repeat(20)}`);
  return `${lines.join("\n")}\n`;
}

const FIELD_HINT =
  'the name must be at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit (e.g. "app" or "app.kubernetes.io/name")';
const INF = "got .inf";

describe("loadModelPool: hostile input ends in problems", () => {
  const rows: { name: string; yaml: string; expected: string[] }[] = [
    {
      name: "a recursive alias (11 bytes) is a problem, not a RangeError",
      yaml: "a: &a [*a]",
      expected: [
        "1:8: alias *a is inside the node its anchor &a names, so it would repeat forever; copy the values instead",
      ],
    },
    {
      name: "a recursive alias used twice returns (no exponential walk over aliases)",
      yaml: "a: &a [*a, *a]",
      expected: [
        "1:8: alias *a is inside the node its anchor &a names, so it would repeat forever; copy the values instead",
        "1:12: alias *a is inside the node its anchor &a names, so it would repeat forever; copy the values instead",
      ],
    },
    {
      name: "billion laughs (6 levels × 9 aliases) stops at the alias limit, before positions are indexed",
      yaml: billionLaughs(),
      expected: [
        "5:10: aliases expand to more than 10000 nodes; a ModelPool never needs that many (write the values out or use fewer aliases)",
      ],
    },
    {
      name: "aliases that nest deeper than the limit once expanded",
      yaml: deepAliases(),
      expected: ["5:29: alias *x3 nests the document deeper than 64 levels of lists and mappings"],
    },
    {
      name: "two documents of 1,000 nested [ stop before the YAML parser (was a V8 abort, exit 134)",
      yaml: `${"[".repeat(1000)}\n---\n${"[".repeat(1000)}\n`,
      expected: [
        "1:64: lists and mappings nest deeper than 64 levels here; a ModelPool needs fewer than 10",
      ],
    },
    {
      name: "1,000 nested { in one document",
      yaml: `a: ${"{b: ".repeat(1000)}`,
      expected: [
        "1:256: lists and mappings nest deeper than 64 levels here; a ModelPool needs fewer than 10",
      ],
    },
    {
      name: "after a duplicate key, problems in the later value are placed in it (was inside the first)",
      yaml: pool(
        { 3: "metadata:\n  name: a\nmetadata:\n  namespace: v\n  bogus: 1" },
        "  capacity: { gpu: &g { type: nvidia-l4 } }",
        "  capacity: { gpu: { type: nvidia-l4, bogus2: 1 } }",
      ),
      expected: [
        "5:1: metadata: duplicate key (first at line 3)",
        '6:3: metadata.name: missing required field (a DNS label such as "yolo-detect" (lowercase letters, digits and "-"))',
        "7:3: metadata.bogus: unknown field; valid fields: name, namespace, labels, annotations",
        "16:3: spec.capacity: duplicate key (first at line 15)",
        "16:39: spec.capacity.gpu.bogus2: unknown field; valid fields: type, count, resourceName",
      ],
    },
    {
      name: "a key in the later value is placed by an alias of an anchor in the first (shadowed) value",
      yaml: pool({ 3: "metadata: &m { name: a, bogus: 1 }\nmetadata: *m" }),
      expected: [
        "4:1: metadata: duplicate key (first at line 3)",
        "4:11: metadata.bogus: unknown field; valid fields: name, namespace, labels, annotations",
      ],
    },
    {
      name: "3,000 over-indented key lines stop at the nesting limit (was a RangeError out of yaml's parser)",
      yaml: `a:\n  b: c\n${Array.from({ length: 3000 }, (_, i) => `    k${i}: v\n`).join("")}- 1\n`,
      expected: [
        "65:8: lists and mappings nest deeper than 64 levels here; a ModelPool needs fewer than 10",
      ],
    },
    {
      name: "2,236 nested block sequences before a key stop at the nesting limit",
      yaml: `${"- ".repeat(2236)}: x\n  y: 8\n`,
      expected: [
        "1:127: lists and mappings nest deeper than 64 levels here; a ModelPool needs fewer than 10",
      ],
    },
    {
      name: "a !!binary key is a problem at the key, not an unknown field of stringified bytes",
      yaml: "!!binary apiVersion: x\n",
      expected: [
        // The mapping starts at its first key's tag.
        '1:1: apiVersion: missing required field; expected "tritonscale.dev/v1alpha1"',
        '1:1: kind: missing required field; expected "ModelPool"',
        "1:1: metadata: missing required field (a mapping with name)",
        "1:1: spec: missing required field (a mapping with models, slo)",
        "1:10: mapping keys must be plain strings (got a !!binary value)",
      ],
    },
    {
      name: "mapping and list keys are problems at the key",
      yaml: pool({ 3: "metadata: { name: p, labels: { { a: 1 }: x, [b]: y } }" }),
      expected: [
        "3:32: metadata.labels: mapping keys must be plain strings (got a mapping)",
        "3:45: metadata.labels: mapping keys must be plain strings (got a list)",
      ],
    },
    {
      name: "an alias of an anchor inside a refused key adds no follow-on problem",
      yaml: pool({}, "? &k { a: 1 }", ": x", "y: *k"),
      expected: ["11:6: mapping keys must be plain strings (got a mapping)"],
    },
    {
      name: "block sequences nested 100 deep on one line",
      yaml: `${"- ".repeat(100)}x\n`,
      expected: [
        "1:127: lists and mappings nest deeper than 64 levels here; a ModelPool needs fewer than 10",
      ],
    },
    {
      name: "block mappings indented 100 levels",
      yaml: Array.from({ length: 100 }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n"),
      expected: [
        "65:65: lists and mappings nest deeper than 64 levels here; a ModelPool needs fewer than 10",
      ],
    },
    {
      name: "a follow-on YAML error is placed by offset on its real line (was 2:4 on a one-character line)",
      yaml: "6 #\n5\ns:",
      expected: [
        "2:1: invalid YAML: end of the stream or a document separator is expected: this line does not fit the structure above it (check its indentation, and that no tab indents it)",
      ],
    },
    {
      name: "the label __proto__ in metadata.labels is a key, reported, not dropped",
      yaml: pool({ 3: "metadata: { name: yolo-detect, labels: { __proto__: x } }" }),
      expected: [`3:42: metadata.labels.__proto__: invalid key "__proto__": ${FIELD_HINT}`],
    },
    {
      name: "the label __proto__ in monitoring.labels, nodeSelector and annotations",
      yaml: pool(
        {},
        "  monitoring: { labels: { __proto__: x } }",
        "  capacity: { nodeSelector: { __proto__: x } }",
        "metadata2: {}",
      ).replace(
        "metadata: { name: yolo-detect, namespace: vision }",
        "metadata: { name: yolo-detect, annotations: { __proto__: x } }",
      ),
      expected: [
        `3:47: metadata.annotations.__proto__: invalid key "__proto__": ${FIELD_HINT}`,
        `11:27: spec.monitoring.labels.__proto__: invalid key "__proto__": ${FIELD_HINT}`,
        `12:31: spec.capacity.nodeSelector.__proto__: invalid key "__proto__": ${FIELD_HINT}`,
        '13:1: metadata2: unknown field; did you mean "metadata"?',
      ],
    },
    {
      name: "a label key with a space",
      yaml: pool({}, "  monitoring: { labels: { 'a b': x } }"),
      expected: [`11:27: spec.monitoring.labels["a b"]: invalid key "a b": ${FIELD_HINT}`],
    },
    {
      name: "a label key with a bad prefix, an empty name, and two slashes",
      yaml: pool(
        {},
        "  capacity:",
        "    nodeSelector:",
        "      Example.com/gpu: x",
        "      example.com/: x",
        "      a/b/c: x",
      ),
      expected: [
        '13:7: spec.capacity.nodeSelector["Example.com/gpu"]: invalid key "Example.com/gpu": the prefix before "/" must be a DNS subdomain (lowercase letters, digits, "-" and ".", at most 253 characters, e.g. "example.com") (e.g. "app" or "app.kubernetes.io/name")',
        '14:7: spec.capacity.nodeSelector["example.com/"]: invalid key "example.com/": the name must not be empty (e.g. "app" or "app.kubernetes.io/name")',
        '15:7: spec.capacity.nodeSelector["a/b/c"]: invalid key "a/b/c": must be a name, optionally after a DNS-subdomain prefix and one "/" (e.g. "app" or "app.kubernetes.io/name")',
      ],
    },
    {
      name: "a label key of 64 characters",
      yaml: pool({}, `  monitoring: { labels: { ${"a".repeat(64)}: x } }`),
      expected: [
        `11:27: spec.monitoring.labels.${"a".repeat(64)}: invalid key "${"a".repeat(57)}...": ${FIELD_HINT}`,
      ],
    },
    {
      name: "a label value with a space, and one of 64 characters",
      yaml: pool({}, `  monitoring: { labels: { a: 'x y', b: ${"v".repeat(64)} } }`),
      expected: [
        '11:30: spec.monitoring.labels.a: must be a Kubernetes label value (at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends) (got "x y")',
        "11:40: spec.monitoring.labels.b: must be at most 63 characters (got 64)",
      ],
    },
    {
      name: "a toleration key and value Kubernetes would refuse",
      yaml: pool({}, "  capacity: { tolerations: [{ key: 'gpu type', value: 'a b' }] }"),
      expected: [
        '11:36: spec.capacity.tolerations[0].key: must be a Kubernetes qualified name such as "nvidia.com/gpu" (an optional DNS-subdomain prefix and "/", then at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends), or empty (got "gpu type")',
        '11:55: spec.capacity.tolerations[0].value: must be a Kubernetes label value (at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends) (got "a b")',
      ],
    },
    {
      name: "a GPU type that cannot be a node label value, a resource name with a space",
      yaml: pool({}, '  capacity: { gpu: { type: "NVIDIA L4", resourceName: "gpu count" } }'),
      expected: [
        '11:28: spec.capacity.gpu.type: must be a GPU name such as "nvidia-l4" (it becomes a node label value: at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends) (got "NVIDIA L4")',
        '11:55: spec.capacity.gpu.resourceName: must be a Kubernetes resource name such as "nvidia.com/gpu" (an optional DNS-subdomain prefix and "/", then at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends) (got "gpu count")',
      ],
    },
    {
      name: ".inf, .nan and 1e309 are not finite numbers",
      yaml: pool(
        { 5: "  slo: { latencyP99Ms: .inf }", 9: "      imageSize: 1e309" },
        "  cost: { spotPerGpuHour: .nan, onDemandPerGpuHour: -.inf }",
      ),
      expected: [
        `5:24: spec.slo.latencyP99Ms: must be a finite number, > 0 and <= 60000 (${INF})`,
        // YAML reads a number beyond the largest double as text, which no number field takes.
        '9:18: spec.models[0].imageSize: must be an integer multiple of 32 between 32 and 4096 (got "1e309"; a number that large cannot be held (the largest is about 1.8e308))',
        "11:27: spec.cost.spotPerGpuHour: must be a finite number, >= 0 (got .nan)",
        "11:53: spec.cost.onDemandPerGpuHour: must be a finite number, >= 0 (got -.inf)",
      ],
    },
    {
      name: ".inf where a string belongs gets no quoting hint",
      yaml: pool({}, "  monitoring: { labels: { a: .inf } }"),
      expected: [
        '11:30: spec.monitoring.labels.a: must be a Kubernetes label value (at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends) (got .inf)',
      ],
    },
  ];

  for (const row of rows) {
    it(row.name, () => {
      expect(problemsOf(row.yaml)).to.deep.equal(row.expected);
    });
  }

  it("accepts valid prefixed label keys and an empty label value", () => {
    const r = parseModelPool(
      pool(
        {},
        "  monitoring: { labels: { app.kubernetes.io/name: yolo, release: '' } }",
        "  capacity: { nodeSelector: { cloud.google.com/gke-accelerator: nvidia-l4 } }",
      ),
      "pool.yaml",
    );
    expect(r.problems).to.deep.equal([]);
    expect(r.policy?.spec.monitoring.labels).to.deep.equal({
      "app.kubernetes.io/name": "yolo",
      release: "",
    });
  });

  it("accepts a section aliased into many places", () => {
    const models = Array.from({ length: 40 }, (_, i) =>
      [
        `    - name: m${i}`,
        "      template: yolov8-onnx",
        "      imageSize: 640",
        "      classes: 80",
        i === 0 ? "      batching: &b { maxQueueDelayMicroseconds: 500 }" : "      batching: *b",
      ].join("\n"),
    );
    const r = parseModelPool(pool({ 7: models.join("\n"), 8: "", 9: "", 10: "" }), "pool.yaml");
    expect(r.problems).to.deep.equal([]);
    expect(r.policy?.spec.models[39]?.batching?.maxQueueDelayMicroseconds).to.equal(500);
  });

  it("places a field under an alias at the alias when the anchored node has it", () => {
    const r = parseModelPool(
      pool(
        {},
        "      batching: &b { maxQueueDelayMicroseconds: 500 }",
        "    - name: yolov5s",
        "      template: yolov5-onnx",
        "      imageSize: 640",
        "      classes: 80",
        "      batching: *b",
      ),
      "pool.yaml",
    );
    const source = r.policy!.source;
    expect(source.positionOf("spec.models[1].batching.maxQueueDelayMicroseconds")).to.deep.equal({
      line: 16,
      col: 17,
    });
    expect(source.positionOf("spec.models[1].batching.preserveOrdering")).to.equal(undefined);
    expect(source.positionOf("spec.models[0].batching.maxQueueDelayMicroseconds")).to.deep.equal({
      line: 11,
      col: 49,
    });
  });

  it("does bounded did-you-mean work for a 16 KB time zone and a 16 KB enum value", () => {
    const before = suggestWork.comparisons;
    const tz = `Europe/${"x".repeat(16_384)}`;
    const problems = problemsOf(
      pool(
        {},
        "  scaling:",
        "    schedules:",
        `      - { name: peak, cron: "0 8 * * *", duration: 1h, minReplicas: 1, timezone: ${tz} }`,
        `    engine: ${"k".repeat(16_384)}`,
      ),
    );
    expect(suggestWork.comparisons - before).to.equal(0);
    expect(problems).to.have.length(2);
    expect(problems[0]).to.match(
      /^13:82: spec\.scaling\.schedules\[0\]\.timezone: must be an IANA time zone such as "UTC" or "Europe\/Berlin" \(got "Europe\/x{50}\.\.\."\)$/,
    );
    expect(problems[1]).to.equal(
      `14:13: spec.scaling.engine: must be one of "keda", "hpa" (got "${"k".repeat(57)}...")`,
    );
  });
});

describe("parseModelPoolObject: hostile objects", () => {
  it("a custom resource nested 10,000 deep (or cyclic) is a problem, not a RangeError", () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 10_000; i++) deep = deep.a = {} as Record<string, unknown>;
    const cyclic: Record<string, unknown> = { kind: "ModelPool" };
    cyclic.spec = cyclic;
    for (const value of [{ kind: "ModelPool", spec: root }, cyclic]) {
      expect(
        parseModelPoolObject(value, "modelpool v/p").problems.map(formatProblem),
      ).to.deep.equal([
        "modelpool v/p: lists and mappings nest deeper than 64 levels; a ModelPool needs fewer than 10",
      ]);
    }
  });
});

describe("findDeepNesting", () => {
  const rows: { name: string; text: string; at: number | undefined }[] = [
    { name: "flat text", text: "a: 1\nb: [1, 2]\n", at: undefined },
    { name: "exactly the limit", text: `${"[".repeat(MAX_NESTING - 1)}`, at: undefined },
    { name: "one over the limit", text: `${"[".repeat(MAX_NESTING)}`, at: MAX_NESTING - 1 },
    { name: "after a byte order mark", text: `\uFEFF${"[".repeat(100)}`, at: MAX_NESTING },
    { name: "brackets in a quoted string", text: `a: "${"[".repeat(200)}"\n`, at: undefined },
    {
      name: "brackets in a single-quoted string",
      text: `a: '${"{".repeat(200)}'\n`,
      at: undefined,
    },
    {
      name: "brackets in a JSON-style string right after its key",
      text: `{"a":"${"[".repeat(200)}"}\n`,
      at: undefined,
    },
    { name: "brackets in a comment", text: `a: 1 # ${"[".repeat(200)}\n`, at: undefined },
    {
      name: "brackets inside a block-context plain scalar",
      text: `a: x${"[".repeat(200)}\n`,
      at: undefined,
    },
    {
      name: "a block scalar indented deeper on every line",
      text: `a: |\n${Array.from({ length: 100 }, (_, i) => `${" ".repeat(i + 2)}x`).join("\n")}\nb: 1\n`,
      at: undefined,
    },
    {
      name: "a plain scalar continued by key lines: each nests one level deeper",
      // `a` and `b` are 2 levels; the `:` of key line 63 (offset 10 + 9 × 62 + 5) is level 65.
      text: `a:\n  b: c\n${"    k: v\n".repeat(MAX_NESTING)}`,
      at: 10 + 9 * (MAX_NESTING - 2) + 5,
    },
    {
      name: "a mapping in a list item under a plain value is not a continuation",
      text: `${Array.from({ length: 100 }, (_, i) => `- name: x${i}\n  b: c\n`).join("")}`,
      at: undefined,
    },
    {
      name: "a plain scalar continued over many lines without keys",
      text: `a: x\n${"  more words\n".repeat(200)}b: 1\n`,
      at: undefined,
    },
    {
      name: "a quoted string over several lines",
      text: `a: "x\n${Array.from({ length: 100 }, (_, i) => `${" ".repeat(i + 2)}[`).join("\n")}"\n`,
      at: undefined,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(findDeepNesting(row.text)).to.equal(row.at);
    });
  }
});

describe("template names in the same pass as the schema", () => {
  const templates = ["yolov8-onnx", "yolov8-trt"];

  it("reports an unknown template beside the schema's problems", () => {
    expect(
      problemsOf(pool({ 8: "      template: yolov8-onx", 9: "      imageSize: 650" }), templates),
    ).to.deep.equal([
      '8:17: spec.models[0].template: template "yolov8-onx" does not exist; did you mean "yolov8-onnx"?; templates: yolov8-onnx, yolov8-trt',
      "9:18: spec.models[0].imageSize: must be a multiple of 32 (got 650; nearest valid: 640 or 672)",
    ]);
  });

  it("generate reports an unknown template and the schema's problems at once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tritonscale-load-"));
    try {
      const file = join(dir, "pool.yaml");
      writeFileSync(file, pool({ 8: "      template: yolov8-onx", 9: "      imageSize: 650" }));
      const r = await runCaptured(runGenerate, [file, "--out", join(dir, "out")]);
      expect(r.code).to.equal(1);
      expect(r.err).to.contain(
        `${file}:8:17: spec.models[0].template: template "yolov8-onx" does not exist`,
      );
      expect(r.err).to.contain(`${file}:9:18: spec.models[0].imageSize: must be a multiple of 32`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("loadModelPool: a file with more problems than anyone reads is cut, cheaply", () => {
  const unknownFields = (n: number): string => {
    const extra = [];
    for (let i = 0; i < n; i++) extra.push(`  unknown${i}: x`);
    return pool({ 3: "metadata:\n  name: p\n  namespaces: v" }).replace(
      "  namespaces: v\n",
      `  namespaces: v\n${extra.join("\n")}\n`,
    );
  };

  it(`20,000 unknown metadata fields: the first ${MAX_PROBLEMS} by line, then one summary line; did-you-mean runs for those only`, () => {
    const before = suggestWork.comparisons;
    const problems = problemsOf(unknownFields(20_000));
    // Was 20,001 problems and up to 10,000 did-you-mean comparisons (the budget per file).
    expect(suggestWork.comparisons - before).to.be.at.most(MAX_PROBLEMS * 8);
    expect(problems).to.have.length(MAX_PROBLEMS + 1);
    expect(problems[0]).to.equal(
      '5:3: metadata.namespaces: unknown field; did you mean "namespace"?',
    );
    expect(problems[MAX_PROBLEMS - 1]).to.match(/^204:3: metadata\.unknown198: unknown field/);
    expect(problems[MAX_PROBLEMS]).to.equal(` and ${20_001 - MAX_PROBLEMS} more problems`);
  });

  it("a file just at the limit lists every problem, with no summary line", () => {
    const problems = problemsOf(unknownFields(MAX_PROBLEMS - 1));
    expect(problems).to.have.length(MAX_PROBLEMS);
    expect(problems.at(-1)).to.match(/metadata\.unknown198: unknown field/);
  });

  it("a wrong field beyond the limit still reads as absent to the cross-field rules", () => {
    // minReplicas: 1.5 fails the schema (an integer) after 300 unknown fields: it is counted, not listed,
    // and the rule minReplicas <= maxReplicas must not read it (no message of its own).
    const yaml = unknownFields(300).replace(
      "  slo: { latencyP99Ms: 85 }\n",
      "  slo: { latencyP99Ms: 85 }\n  scaling: { minReplicas: 1.5, maxReplicas: 1 }\n",
    );
    const problems = problemsOf(yaml);
    expect(problems).to.have.length(MAX_PROBLEMS + 1);
    expect(problems.at(-1)).to.equal(` and ${302 - MAX_PROBLEMS} more problems`);
    expect(problems.join("\n")).not.to.contain("maxReplicas");
  });
});
