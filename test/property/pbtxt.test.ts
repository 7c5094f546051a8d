/**
 * Properties of the protobuf text-format parser and formatter (controller/repository/pbtxt/):
 * canonical text is a fixed point of format∘parse, values survive the round trip, and
 * parsing any text ends in a value or positioned problems, never another exception.
 */

import { expect } from "chai";
import fc from "fast-check";
import {
  type DataType,
  formatModelConfig,
  type ModelConfig,
  type ModelInstanceGroup_Kind,
  parseModelConfig,
} from "../../controller/repository/model-config.js";
import { check, expectInvariants, expectNoFailure, tokenSoup } from "./support.js";

const DATA_TYPES: readonly DataType[] = [
  "TYPE_BOOL",
  "TYPE_UINT8",
  "TYPE_INT32",
  "TYPE_INT64",
  "TYPE_FP16",
  "TYPE_FP32",
  "TYPE_STRING",
  "TYPE_BF16",
];
const KINDS: readonly ModelInstanceGroup_Kind[] = ["KIND_AUTO", "KIND_GPU", "KIND_CPU"];

/** Any string a protobuf `string` field can hold (valid Unicode, so valid UTF-8), often a tricky one. */
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "__proto__",
      "constructor",
      "\uFEFFa",
      "\uFEFF",
      "a\\\nb",
      "\u0000",
      "\u2028",
      "'\"",
      "\u{1F600}",
    ),
  },
);
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const dims = fc.array(fc.bigInt({ min: -1n, max: 2n ** 63n - 1n }), { maxLength: 4 });

const tensor = fc.record(
  { name: text, data_type: fc.constantFrom(...DATA_TYPES), dims },
  { requiredKeys: [] },
);

/** ModelConfigs over the field kinds the parser has: strings, ints, int64s, enums, lists, maps, messages. */
const modelConfig: fc.Arbitrary<ModelConfig> = fc.record(
  {
    name: text,
    platform: text,
    backend: fc.constantFrom("onnxruntime", "tensorrt", "python", ""),
    max_batch_size: int32,
    input: fc.array(tensor, { maxLength: 3 }),
    output: fc.array(tensor, { maxLength: 3 }),
    instance_group: fc.array(
      fc.record(
        {
          count: fc.integer({ min: 0, max: 16 }),
          kind: fc.constantFrom(...KINDS),
          gpus: fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 3 }),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 2 },
    ),
    dynamic_batching: fc.record(
      {
        preferred_batch_size: fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 4 }),
        max_queue_delay_microseconds: uint64,
        preserve_ordering: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
    parameters: fc.dictionary(text, fc.record({ string_value: text }), { maxKeys: 4 }),
  },
  { requiredKeys: [] },
);

/** The canonical text and the config it came from, for matching known defects. */
function evidence(canonical: string, config: ModelConfig): string {
  return `${canonical}\n${JSON.stringify(config, (_k, v) => (typeof v === "bigint" ? String(v) : v))}`;
}

describe("property: pbtxt format and parse", () => {
  it("canonical text is a fixed point: format(parse(format(c))) = format(c), without problems", () => {
    check(300, modelConfig, (config) => {
      const canonical = formatModelConfig(config);
      const parsed = parseModelConfig(canonical, "config.pbtxt");
      if (parsed.problems.length > 0) {
        expectNoFailure("pbtxt", evidence(canonical, config), {
          kind: "invariant",
          message: `canonical text has problems: ${parsed.problems[0]!.message}`,
        });
        return;
      }
      expect(parsed.complete).to.equal(true);
      const again = formatModelConfig(parsed.config);
      if (again !== canonical) {
        expectNoFailure("pbtxt", evidence(canonical, config), {
          kind: "invariant",
          message: "format(parse(x)) differs from canonical x",
        });
      }
    });
  });

  it("strings, 64-bit integers and map keys survive the round trip exactly", () => {
    check(300, modelConfig, (config) => {
      const canonical = formatModelConfig(config);
      const back = parseModelConfig(canonical, "config.pbtxt").config;
      const lost: string[] = [];
      if ((config.name ?? "") !== (back.name ?? ""))
        lost.push(`name ${JSON.stringify(config.name)}`);
      for (const [k, v] of Object.entries(config.parameters ?? {})) {
        const got = Object.hasOwn(back.parameters ?? {}, k) ? back.parameters![k] : undefined;
        if ((got?.string_value ?? "") !== (v.string_value ?? "")) {
          lost.push(`parameters[${JSON.stringify(k)}]`);
        }
      }
      const delay = config.dynamic_batching?.max_queue_delay_microseconds ?? 0n;
      if ((back.dynamic_batching?.max_queue_delay_microseconds ?? 0n) !== delay) {
        lost.push(`max_queue_delay_microseconds ${delay}`);
      }
      (config.input ?? []).forEach((t, i) => {
        const d = back.input?.[i]?.dims ?? [];
        if (JSON.stringify((t.dims ?? []).map(String)) !== JSON.stringify(d.map(String))) {
          lost.push(`input[${i}].dims`);
        }
      });
      if (lost.length > 0) {
        expectNoFailure("pbtxt", evidence(canonical, config), {
          kind: "invariant",
          message: `lost in the round trip: ${lost.join(", ")}`,
        });
      }
    });
  });

  const TOKENS = [
    "name",
    "max_batch_size",
    "input",
    "dims",
    "parameters",
    "key",
    "value",
    "string_value",
    "dynamic_batching",
    "data_type",
    "TYPE_FP32",
    "unknown_field",
    "{",
    "}",
    "[",
    "]",
    "<",
    ">",
    ":",
    ",",
    ";",
    "-",
    "#",
    '"s"',
    "'s'",
    '"\\',
    "1",
    "-1",
    "0x1F",
    "1e309",
    "18446744073709551616",
    "inf",
    "nan",
    "1.5f",
    "\uFEFF",
  ];

  it("parses any token soup to a value or problems with a line and column", () => {
    check(2000, tokenSoup(TOKENS), (t) => expectInvariants("pbtxt", t));
  });

  it("parses any Unicode text to a value or problems with a line and column", () => {
    check(1000, fc.string({ unit: "binary", maxLength: 200 }), (t) => expectInvariants("pbtxt", t));
  });
});
