import { expect } from "chai";
import { formatProblem } from "../../controller/diagnostics/problem.js";
import { suggestWork } from "../../controller/diagnostics/suggest.js";
import {
  formatModelConfig,
  type ModelConfig,
  parseModelConfig,
} from "../../controller/repository/model-config.js";
import type { FieldInfo } from "../../controller/repository/pbtxt/descriptor.js";
import {
  MAX_DEPTH,
  type ParseResult,
  parseTextFormat,
  parseWork,
} from "../../controller/repository/pbtxt/parse.js";

function problems(text: string): string[] {
  return parseModelConfig(text, "c.pbtxt").problems.map(formatProblem);
}

describe("parseModelConfig", () => {
  const valid: { name: string; text: string; want: ModelConfig }[] = [
    {
      name: "scalars of each kind",
      text: 'name: "m" max_batch_size: 8 platform: "onnxruntime_onnx"',
      want: { name: "m", max_batch_size: 8, platform: "onnxruntime_onnx" },
    },
    {
      name: "uint64 beyond 2^53 keeps every digit",
      text: "dynamic_batching { max_queue_delay_microseconds: 18446744073709551615 }",
      want: { dynamic_batching: { max_queue_delay_microseconds: 18446744073709551615n } },
    },
    {
      name: "enums by name and by number",
      text: "input { data_type: TYPE_FP32 } input { data_type: 10 }",
      want: { input: [{ data_type: "TYPE_FP32" }, { data_type: "TYPE_FP16" }] },
    },
    {
      name: "nested message with and without colon, and angle brackets",
      text: "dynamic_batching: { } optimization < >",
      want: { dynamic_batching: {}, optimization: {} },
    },
    {
      name: "repeated scalars one per line and as a list, -1 dims, hex and octal",
      text: "input { dims: -1 dims: 3 } output [{ dims: [ -1, 0x10, 010 ] }]",
      want: { input: [{ dims: [-1n, 3n] }], output: [{ dims: [-1n, 16n, 8n] }] },
    },
    {
      name: "maps with key/value entries, list form, and uint64 keys",
      text: [
        'parameters { key: "a" value { string_value: "x" } }',
        'parameters [{ key: "b" value: { string_value: "y" } }]',
        "dynamic_batching { priority_queue_policy { key: 2 value { max_queue_size: 4 } } }",
      ].join("\n"),
      want: {
        parameters: { a: { string_value: "x" }, b: { string_value: "y" } },
        dynamic_batching: { priority_queue_policy: { "2": { max_queue_size: 4 } } },
      },
    },
    {
      name: "oneof member, comments, separators",
      text: "# a comment\nensemble_scheduling { step [ { model_name: 'p'; model_version: -1 } ] } # trailing",
      want: { ensemble_scheduling: { step: [{ model_name: "p", model_version: -1n }] } },
    },
    {
      name: "quoted strings with escapes and concatenation",
      text: String.raw`name: "a\"b\\c\n\t\x41\101\u00e9" 'd' "e"`,
      want: { name: 'a"b\\c\n\tAAéde' },
    },
    {
      name: "floats: exponent, suffix, inf, nan, integers",
      text: "model_metrics { metric_control { histogram_options { buckets: [1e-3, 2.5f, inf, -inf, 7, -1.5E2] } } }",
      want: {
        model_metrics: {
          metric_control: [
            { histogram_options: { buckets: [0.001, 2.5, Infinity, -Infinity, 7, -150] } },
          ],
        },
      },
    },
    {
      name: "bools in every spelling Google accepts",
      text: "response_cache { enable: t } instance_group [{ passive: True }, { passive: 0 }]",
      want: {
        response_cache: { enable: true },
        instance_group: [{ passive: true }, { passive: false }],
      },
    },
    {
      name: "map key __proto__ as an ordinary key (not a prototype assignment)",
      text: 'parameters { key: "__proto__" value { string_value: "x" } } parameters { key: "constructor" value {} }',
      want: {
        parameters: JSON.parse('{"__proto__": {"string_value": "x"}, "constructor": {}}'),
      },
    },
    {
      name: "U+FEFF at the start of a string value, written or escaped, is kept",
      text: 'name: "\uFEFFm" platform: "\\uFEFFp"',
      want: { name: "\uFEFFm", platform: "\uFEFFp" },
    },
    {
      name: "a byte-order mark at the start of the file is skipped",
      text: '\uFEFFname: "m"',
      want: { name: "m" },
    },
    {
      name: "octal and hex integers with many leading zeros",
      text: `max_batch_size: 0${"0".repeat(100)}17 input { dims: 0x${"0".repeat(100)}1F }`,
      want: { max_batch_size: 15, input: [{ dims: [31n] }] },
    },
  ];
  for (const c of valid) {
    it(`reads ${c.name}`, () => {
      const r = parseModelConfig(c.text, "c.pbtxt");
      expect(r.problems.map(formatProblem)).to.deep.equal([]);
      expect(r.config).to.deep.equal(c.want);
    });
  }

  const invalid: { name: string; text: string; want: string[] }[] = [
    {
      name: "unknown field, with a suggestion",
      text: 'name: "m"\nmax_batch_sise: 8',
      want: [
        'c.pbtxt:2:1: max_batch_sise: unknown field "max_batch_sise" in inference.ModelConfig; did you mean "max_batch_size"?',
      ],
    },
    {
      name: "unknown nested field",
      text: "dynamic_batching {\n  prefered_batch_size: [4]\n}",
      want: [
        'c.pbtxt:2:3: dynamic_batching.prefered_batch_size: unknown field "prefered_batch_size" in inference.ModelDynamicBatching; did you mean "preferred_batch_size"?',
      ],
    },
    {
      name: "bad enum name",
      text: "input { data_type: TYPE_FLOAT32 }",
      want: [
        'c.pbtxt:1:20: input[0].data_type: unknown DataType value "TYPE_FLOAT32"; did you mean "TYPE_UINT32"?; valid values: TYPE_INVALID, TYPE_BOOL, TYPE_UINT8, TYPE_UINT16, TYPE_UINT32, TYPE_UINT64, TYPE_INT8, TYPE_INT16, TYPE_INT32, TYPE_INT64, TYPE_FP16, TYPE_FP32, TYPE_FP64, TYPE_STRING, TYPE_BF16',
      ],
    },
    {
      name: "enum number that names no value",
      text: "instance_group { kind: 9 }",
      want: ["c.pbtxt:1:24: instance_group[0].kind: 9 is not a number of any Kind value"],
    },
    {
      name: "string where an integer belongs",
      text: 'max_batch_size: "8"',
      want: [
        'c.pbtxt:1:17: max_batch_size: expected an integer for int32 field "max_batch_size", found ""8""',
      ],
    },
    {
      name: "float where an integer belongs",
      text: "max_batch_size: 1.5",
      want: [
        'c.pbtxt:1:17: max_batch_size: expected an integer for int32 field "max_batch_size", found "1.5"',
      ],
    },
    {
      name: "int32 out of range",
      text: "max_batch_size: 2147483648",
      want: [
        "c.pbtxt:1:17: max_batch_size: 2147483648 is out of range for int32 (-2147483648..2147483647)",
      ],
    },
    {
      name: "negative uint64",
      text: "dynamic_batching { max_queue_delay_microseconds: -1 }",
      want: [
        "c.pbtxt:1:51: dynamic_batching.max_queue_delay_microseconds: -1 is out of range for uint64 (0..18446744073709551615)",
      ],
    },
    {
      name: "non-repeated field given twice",
      text: "max_batch_size: 1\nmax_batch_size: 2",
      want: ["c.pbtxt:2:1: max_batch_size: non-repeated field given twice (first at 1:1)"],
    },
    {
      name: "two members of one oneof",
      text: "dynamic_batching {}\nsequence_batching {}",
      want: [
        'c.pbtxt:2:1: sequence_batching: "sequence_batching" and "dynamic_batching" are both members of oneof "scheduling_choice"; set only one',
      ],
    },
    {
      name: "map key given twice",
      text: 'parameters { key: "a" value {} }\nparameters { key: "a" value {} }',
      want: ['c.pbtxt:2:12: parameters["a"]: map key "a" given twice'],
    },
    {
      name: "scalar without a colon",
      text: "max_batch_size 8",
      want: [
        'c.pbtxt:1:16: max_batch_size: expected ":" after scalar field "max_batch_size", found "8"',
      ],
    },
    {
      name: "unclosed message",
      text: "dynamic_batching {\n  max_queue_delay_microseconds: 5",
      want: [
        'c.pbtxt:2:34: dynamic_batching: expected "}" to close dynamic_batching, found end of file',
      ],
    },
    {
      name: "unterminated string",
      text: 'name: "abc\nplatform: "x"',
      want: ["c.pbtxt:1:7: string literal is not terminated before the end of the line"],
    },
    {
      name: "backslash before a newline inside a string (strings cannot span lines)",
      text: 'name: "a\\\nb"\nmax_batch_size: x',
      want: [
        'c.pbtxt:1:9: a backslash cannot continue a string onto the next line; end the string with " on this line and start another on the next (adjacent strings are joined)',
      ],
    },
    {
      name: "backslash before CRLF inside a string",
      text: "name: 'a\\\r\nb'",
      want: [
        "c.pbtxt:1:9: a backslash cannot continue a string onto the next line; end the string with ' on this line and start another on the next (adjacent strings are joined)",
      ],
    },
    {
      name: "__proto__ and constructor are not bool or float words",
      text: "response_cache { enable: __proto__ }\nmodel_metrics { metric_control { histogram_options { buckets: [constructor] } } }",
      want: [
        'c.pbtxt:1:26: response_cache.enable: expected true or false, found "__proto__"',
        'c.pbtxt:2:64: model_metrics.metric_control[0].histogram_options.buckets[0]: expected a number for double field "buckets", found "constructor"',
      ],
    },
    {
      name: "error after a byte-order mark: columns count from after it",
      text: "\uFEFFmax_batch_size: x",
      want: [
        'c.pbtxt:1:17: max_batch_size: expected an integer for int32 field "max_batch_size", found "x"',
      ],
    },
    {
      name: "a 128 KB unknown field name is shown cut, with its length",
      text: `${"x".repeat(128 * 1024)}: 1`,
      want: [
        `c.pbtxt:1:1: ${"x".repeat(64)}... (131072 characters): unknown field "${"x".repeat(64)}"... (131072 characters) in inference.ModelConfig`,
      ],
    },
    {
      name: "a 1 MB integer is out of range, shown cut",
      text: `max_batch_size: ${"9".repeat(1 << 20)}`,
      want: [
        `c.pbtxt:1:17: max_batch_size: ${"9".repeat(64)}... (1048576 characters) is out of range for int32 (-2147483648..2147483647)`,
      ],
    },
    {
      name: "problems inside a map value, named by the entry's key (even when it comes last)",
      text: [
        'parameters { key: "a" value { bogus: 1 } }',
        'parameters { value { string_value: 5 } key: "b" }',
        "dynamic_batching { priority_queue_policy { key: 1 value { timeout_action: NOPE } } }",
      ].join("\n"),
      want: [
        'c.pbtxt:1:31: parameters["a"].bogus: unknown field "bogus" in inference.ModelParameter',
        'c.pbtxt:2:36: parameters["b"].string_value: expected a quoted string, found "5"',
        'c.pbtxt:3:75: dynamic_batching.priority_queue_policy[1].timeout_action: unknown TimeoutAction value "NOPE"; valid values: REJECT, DELAY',
      ],
    },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name}`, () => {
      expect(problems(c.text)).to.deep.equal(c.want);
    });
  }

  it("stops at a syntax error, keeping the problems found before it", () => {
    expect(problems("max_batch_size: 99999999999\nmax_batch_size: -\nname: 'x'")).to.deep.equal([
      "c.pbtxt:1:17: max_batch_size: 99999999999 is out of range for int32 (-2147483648..2147483647)",
      "c.pbtxt:2:1: max_batch_size: non-repeated field given twice (first at 1:1)",
      'c.pbtxt:3:1: max_batch_size: expected an integer for int32 field "max_batch_size", found -"name"',
      'c.pbtxt:3:5: expected a field name of inference.ModelConfig, found ":"',
    ]);
  });

  it("stops at a lexical error like at any syntax error, keeping the problems before it", () => {
    const r = parseModelConfig('max_batch_size: 99999999999\nname: "abc\nplatform: "x"', "c.pbtxt");
    expect(r.problems.map(formatProblem)).to.deep.equal([
      "c.pbtxt:1:17: max_batch_size: 99999999999 is out of range for int32 (-2147483648..2147483647)",
      "c.pbtxt:2:7: string literal is not terminated before the end of the line",
    ]);
    expect(r.complete).to.equal(false);
  });

  it("collects every schema problem in one pass, with positions", () => {
    const text = [
      'name: "m"',
      "max_batch_size: 99999999999",
      "input {",
      "  name: 'x'",
      "  data_type: FP32",
      "  dimz: [1]",
      "}",
      "dynamic_batching { preserve_ordering: maybe }",
      "platfrom: 'onnxruntime_onnx'",
    ].join("\n");
    const got = problems(text);
    expect(got.map((p) => p.split(": ")[0])).to.deep.equal([
      "c.pbtxt:2:17",
      "c.pbtxt:5:14",
      "c.pbtxt:6:3",
      "c.pbtxt:8:39",
      "c.pbtxt:9:1",
    ]);
  });
});

describe("parseModelConfig work bounds", () => {
  it("parses N map entries in O(N): positions move from placeholder to key once each", () => {
    const n = 3000;
    const text = Array.from(
      { length: n },
      (_, i) => `parameters { key: "k${i}" value { string_value: "v" } }`,
    ).join("\n");
    parseWork.positionsRekeyed = 0;
    const r = parseModelConfig(text, "c.pbtxt");
    expect(r.problems).to.deep.equal([]);
    expect(Object.keys(r.config.parameters ?? {})).to.have.length(n);
    expect(r.positions.get(`parameters["k${n - 1}"].string_value`)).to.deep.equal({
      line: n,
      col: 35,
    });
    // Two positions per entry (value, value.string_value); the old code re-scanned every
    // position recorded so far for each entry (n² / 2).
    expect(parseWork.positionsRekeyed).to.be.at.most(3 * n);
  });

  const suggestions: { name: string; text: string; maxComparisons: number; problems: number }[] = [
    {
      name: "20,000 unknown fields: did-you-mean stops at its budget, every field is still reported",
      text: Array.from({ length: 20000 }, (_, i) => `unknown_field_${i}: 1`).join("\n"),
      maxComparisons: 10000,
      problems: 20000,
    },
    {
      name: "a 128 KB unknown field name is not compared",
      text: `${"x".repeat(128 * 1024)}: 1`,
      maxComparisons: 0,
      problems: 1,
    },
    {
      name: "a 256 KB enum value is not compared",
      text: `input { data_type: ${"T".repeat(256 * 1024)} }`,
      maxComparisons: 0,
      problems: 1,
    },
  ];
  for (const c of suggestions) {
    it(`bounds the work of did-you-mean: ${c.name}`, () => {
      suggestWork.comparisons = 0;
      const r = parseModelConfig(c.text, "c.pbtxt");
      expect(r.problems).to.have.length(c.problems);
      expect(suggestWork.comparisons).to.be.at.most(c.maxComparisons);
    });
  }

  it("suggests for the first misspellings of a file, and none once the budget is spent", () => {
    const text = ["nmae: 'm'", ...Array.from({ length: 5000 }, (_, i) => `unknown_${i}: 1`)];
    text.push("max_batch_sise: 1");
    const got = parseModelConfig(text.join("\n"), "c.pbtxt").problems;
    expect(got[0]?.message).to.match(/did you mean "name"\?$/);
    expect(got.at(-1)?.message).to.equal('unknown field "max_batch_sise" in inference.ModelConfig');
  });
});

describe("nesting depth", () => {
  // A message type that contains itself, as a .proto may declare.
  const node: { fullName: string; byName: Map<string, FieldInfo>; inOrder: FieldInfo[] } = {
    fullName: "test.Node",
    byName: new Map(),
    inOrder: [],
  };
  const child: FieldInfo = { name: "a", id: 1, kind: "message", repeated: false, message: node };
  node.byName.set("a", child);
  node.inOrder.push(child);

  it(`parses ${MAX_DEPTH} levels of a recursive message`, () => {
    const r = parseTextFormat(node, `${"a{".repeat(MAX_DEPTH)}${"}".repeat(MAX_DEPTH)}`, "n");
    expect(r.problems).to.deep.equal([]);
  });

  const deep: { name: string; parse: () => Omit<ParseResult, "message">; want: string[] }[] = [
    {
      name: "100,000 levels of a recursive message",
      parse: () => parseTextFormat(node, "a{".repeat(100000), "n"),
      want: [
        `n:1:${2 * MAX_DEPTH + 2}: ${"a.".repeat(MAX_DEPTH)}a: messages are nested more than 100 levels deep; a model configuration needs a handful`,
      ],
    },
    {
      name: "100,000 levels inside an unknown field",
      parse: () => parseModelConfig(`x ${"{".repeat(100000)}`, "c"),
      want: [
        'c:1:1: x: unknown field "x" in inference.ModelConfig',
        `c:1:${MAX_DEPTH + 3}: x: messages are nested more than 100 levels deep; a model configuration needs a handful`,
      ],
    },
  ];
  for (const c of deep) {
    it(`stops at a problem, not a stack overflow: ${c.name}`, () => {
      const r = c.parse();
      expect(r.problems.map(formatProblem)).to.deep.equal(c.want);
      expect(r.complete).to.equal(false);
    });
  }
});

describe("long strings", () => {
  it("decodes and re-encodes every escape kind across a long string, in pieces of any length", () => {
    const pieces: [string, string][] = [
      ["plain ", "plain "],
      [String.raw`\n\t\r\a\b\f\v\\\'\"\?`, "\n\t\r\x07\b\f\v\\'\"?"],
      [String.raw`\101\60\7`, "A0\x07"],
      [String.raw`\x41\x4`, "A\x04"],
      [String.raw`\u00e9\U0001F600é😀`, "é😀é😀"],
      [String.raw`\303\251`, "é"],
      [String.raw`\uFEFF`, "\uFEFF"],
    ];
    let text = "";
    let want = "";
    for (let i = 0; i < 20000; i++) {
      const [src, value] = pieces[(i * 3) % pieces.length]!;
      text += src;
      want += value;
    }
    const parsed = parseModelConfig(`name: "${text}"`, "c.pbtxt");
    expect(parsed.problems).to.deep.equal([]);
    expect(parsed.config.name === want, "decoded value").to.equal(true);
    const once = formatModelConfig(parsed.config);
    expect(parseModelConfig(once, "c").config.name === want, "re-read value").to.equal(true);
    expect(formatModelConfig(parseModelConfig(once, "c").config)).to.equal(once);
  });
});

describe("formatModelConfig", () => {
  it("writes canonical text: field-number order, two-space indent, lists, sorted map keys", () => {
    const config: ModelConfig = {
      parameters: { z: { string_value: "1" }, a: { string_value: "2" } },
      input: [{ name: "images", data_type: "TYPE_FP32", dims: [3n, 640n, 640n] }],
      max_batch_size: 8,
      name: "yolo",
      dynamic_batching: { preferred_batch_size: [4, 8], max_queue_delay_microseconds: 100n },
      platform: "onnxruntime_onnx",
    };
    expect(formatModelConfig(config)).to.equal(
      [
        'name: "yolo"',
        'platform: "onnxruntime_onnx"',
        "max_batch_size: 8",
        "input {",
        '  name: "images"',
        "  data_type: TYPE_FP32",
        "  dims: [3, 640, 640]",
        "}",
        "dynamic_batching {",
        "  preferred_batch_size: [4, 8]",
        "  max_queue_delay_microseconds: 100",
        "}",
        "parameters {",
        '  key: "a"',
        "  value {",
        '    string_value: "2"',
        "  }",
        "}",
        "parameters {",
        '  key: "z"',
        "  value {",
        '    string_value: "1"',
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("is a fixed point: format(parse(format(x))) == format(x)", () => {
    const text =
      'name: "m" output [{ name: "o" dims: [-1] }] dynamic_batching {} parameters { key: "k" value {} }';
    const once = formatModelConfig(parseModelConfig(text, "c").config);
    expect(formatModelConfig(parseModelConfig(once, "c").config)).to.equal(once);
    expect(once).to.contain("dynamic_batching {}");
  });

  it("round-trips the map key __proto__", () => {
    const text = 'parameters {\n  key: "__proto__"\n  value {\n    string_value: "x"\n  }\n}\n';
    const parsed = parseModelConfig(text, "c");
    expect(parsed.problems).to.deep.equal([]);
    expect(Object.keys(parsed.config.parameters ?? {})).to.deep.equal(["__proto__"]);
    expect(formatModelConfig(parsed.config)).to.equal(text);
  });

  it("keeps a U+FEFF at the start of a string, so formatting is idempotent", () => {
    const text = 'name: "\uFEFFm"\n';
    expect(formatModelConfig(parseModelConfig(text, "c").config)).to.equal(text);
  });

  it("writes a message of 200,000 lines without overflowing the call stack", () => {
    const inputMap = Object.fromEntries(Array.from({ length: 50000 }, (_, i) => [`k${i}`, "t"]));
    const text = formatModelConfig({
      ensemble_scheduling: { step: [{ model_name: "m", input_map: inputMap }] },
    });
    expect(text.split("\n")).to.have.lengthOf(200006);
  });

  it("refuses a value that does not fit the schema", () => {
    const bad = { name: "m", nope: 1 } as unknown as ModelConfig;
    expect(() => formatModelConfig(bad)).to.throw(/has no field "nope"/);
    const badEnum = { input: [{ data_type: "FP32" }] } as unknown as ModelConfig;
    expect(() => formatModelConfig(badEnum)).to.throw(
      /input\[0\]\.data_type: FP32 is not a DataType value/,
    );
  });
});
