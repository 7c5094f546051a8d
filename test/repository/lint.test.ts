import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runConfig } from "../../controller/cli/config.js";
import { createInputReader } from "../../controller/cli/read-input.js";
import { formatProblem, type Problem } from "../../controller/diagnostics/problem.js";
import { suggestWork } from "../../controller/diagnostics/suggest.js";
import { MAX_LISTED } from "../../controller/repository/lint/common.js";
import {
  type LintOptions,
  type LintRuleName,
  lintModelConfig,
  lintRules,
} from "../../controller/repository/lint/index.js";
import { lintFiles } from "../../controller/repository/lint-files.js";
import {
  formatModelConfig,
  type ModelConfig,
  type ParsedModelConfig,
  parseModelConfig,
} from "../../controller/repository/model-config.js";
import { capture } from "../support/io.js";
import { projectRoot, requireReference } from "../support/reference.js";

/** `line:col rule` of each problem, the shape most assertions compare. */
function where(problems: readonly Problem[]): string[] {
  return problems.map((p) => `${p.line}:${p.col} ${p.rule ?? "-"}`);
}

function lint(text: string, options: LintOptions = {}, file = "c.pbtxt"): Problem[] {
  const parsed = parseModelConfig(text, file);
  expect(parsed.problems.map(formatProblem), "the row must parse").to.deep.equal([]);
  return lintModelConfig(parsed, options);
}

const fixtureRepo = join(projectRoot, "test", "fixtures", "lint-repo");

// ---------------------------------------------------------------------------------------
// The reference configs Triton rejects

interface Rejected {
  /** Flattened name in reference/triton/configs, without `__config.pbtxt` / `__expected`. */
  readonly file: string;
  readonly rule: LintRuleName;
  /** Triton's error, exactly as its `__expected` file holds it (a grep pattern). */
  readonly triton: RegExp;
}

const NOAUTOFILL = "server__qa__L0_model_config__noautofill_platform__";
const REJECTED: readonly Rejected[] = [
  {
    file: `${NOAUTOFILL}default_priority_level0`,
    rule: "default-priority-level",
    triton: /default priority level must be in range \[1, 3\] for default_priority_level0/,
  },
  {
    file: `${NOAUTOFILL}default_priority_level1`,
    rule: "default-priority-level",
    triton: /default priority level must be in range \[1, 3\] for default_priority_level1/,
  },
  {
    file: `${NOAUTOFILL}preserve_ordering0`,
    rule: "preserve-ordering-priority",
    triton:
      /Only one priority level is allowed when 'preserve_ordering' is true for preserve_ordering0/,
  },
  {
    file: `${NOAUTOFILL}preserve_ordering1`,
    rule: "preserve-ordering-delay",
    triton:
      /Queue policy can not have DELAY as timeout action when 'preserve_ordering' is true for preserve_ordering1/,
  },
  {
    file: `${NOAUTOFILL}preserve_ordering2`,
    rule: "preserve-ordering-delay",
    triton:
      /Queue policy can not have DELAY as timeout action when 'preserve_ordering' is true for preserve_ordering2/,
  },
  {
    file: `${NOAUTOFILL}priority_level0`,
    rule: "priority-queue-policy-level",
    triton: /priority queue policy must have priority level in range \[1, 3\] for priority_level0/,
  },
  {
    file: `${NOAUTOFILL}priority_level1`,
    rule: "priority-queue-policy-level",
    triton: /priority queue policy must have priority level in range \[1, 3\] for priority_level1/,
  },
  {
    file: "server__qa__L0_model_config__autofill_noplatform__ensemble__model_warm_up_set",
    rule: "ensemble-forbidden-field",
    triton: /model_warmup can not be specified for ensemble 'model_warmup_set'/,
  },
];

/**
 * The noautofill_platform configs say `platform: "onnxruntime"`, which is a placeholder:
 * qa/L0_model_config/test.sh deletes the platform line and appends each of its TRIALS
 * (`sed -i '/platform:/d' $CONFIG; echo "platform: \"$TRIAL\"" >> $CONFIG`) before starting
 * Triton. As written, Triton would reject the placeholder itself ("unexpected platform type
 * 'onnxruntime'"), so the linter reports that too, under platform-backend.
 */
const HARNESS_PLATFORMS = [
  "tensorflow_savedmodel",
  "tensorflow_graphdef",
  "tensorrt_plan",
  "onnxruntime_onnx",
  "pytorch_libtorch",
] as const;

/**
 * Reference configs outside the brief's list of 8 that Triton also refuses to load; each
 * is pinned to the rule that reports it.
 */
const ALSO_REJECTED: readonly { file: string; rule: LintRuleName; reason: string }[] = [
  {
    file: "server__qa__L0_response_cache__models__decoupled_cache__config.pbtxt",
    rule: "response-cache",
    reason:
      "a negative test: qa/L0_response_cache/test.sh starts Triton with --load-model=decoupled_cache and " +
      'fails if the server starts (\'Check that server fails to start for a "decoupled" model with cache ' +
      "enabled'); core ValidateModelConfig: 'Response Cache does not currently support model ... with " +
      "'decoupled' transaction policy'",
  },
];

describe("config lint: the reference configs", () => {
  let configsDir = "";
  let pbtxt: string[] = [];

  before(function () {
    configsDir = join(requireReference(this, "triton"), "configs");
    pbtxt = readdirSync(configsDir).filter((f) => f.endsWith(".pbtxt"));
  });

  function lintReference(file: string): Problem[] {
    const parsed = parseModelConfig(readFileSync(join(configsDir, file), "utf8"), file);
    return [...parsed.problems, ...lintModelConfig(parsed)];
  }

  it("has the 62 upstream configs", () => {
    expect(pbtxt).to.have.lengthOf(62);
  });

  describe("rejects the 8 configs Triton rejects, with the rule matching Triton's error", () => {
    for (const row of REJECTED) {
      it(row.file.replace(/^server__qa__L0_model_config__/, ""), () => {
        const expected = readFileSync(join(configsDir, `${row.file}__expected`), "utf8").trim();
        expect(expected, "the table's regex is Triton's __expected text").to.equal(
          row.triton.source,
        );

        const problems = lintReference(`${row.file}__config.pbtxt`);
        const hits = problems.filter((p) => p.rule === row.rule);
        expect(hits, `${row.rule} fires`).to.have.lengthOf(1);
        expect(hits[0]?.message).to.match(row.triton);
        const others = problems.filter((p) => p.rule !== row.rule).map((p) => p.rule);
        const allowed = row.file.startsWith(NOAUTOFILL) ? ["platform-backend"] : [];
        expect(others, "no other findings than the documented placeholder platform").to.deep.equal(
          allowed,
        );
      });
    }
  });

  describe("with the platform line replaced as Triton's QA harness does, only Triton's error remains", () => {
    for (const row of REJECTED.filter((r) => r.file.startsWith(NOAUTOFILL))) {
      it(row.file.slice(NOAUTOFILL.length), () => {
        const text = readFileSync(join(configsDir, `${row.file}__config.pbtxt`), "utf8");
        for (const platform of HARNESS_PLATFORMS) {
          const trial = `${text
            .split("\n")
            .filter((l) => !l.includes("platform:"))
            .join("\n")}\nplatform: "${platform}"\n`;
          const problems = lint(trial, {}, `${platform}.pbtxt`);
          expect(
            problems.map((p) => p.rule),
            platform,
          ).to.deep.equal([row.rule]);
          expect(problems[0]?.message).to.match(row.triton);
        }
      });
    }
  });

  it("lints every other reference config clean (Triton loads them)", () => {
    const special = new Set([
      ...REJECTED.map((r) => `${r.file}__config.pbtxt`),
      ...ALSO_REJECTED.map((r) => r.file),
    ]);
    const clean = pbtxt.filter((f) => !special.has(f));
    expect(clean).to.have.lengthOf(53);
    const found = clean.flatMap((f) => lintReference(f).map(formatProblem));
    expect(found, found.join("\n")).to.deep.equal([]);
  });

  describe("pins the documented exceptions", () => {
    for (const row of ALSO_REJECTED) {
      it(`${row.file}: ${row.rule}`, () => {
        expect(
          lintReference(row.file).map((p) => p.rule),
          row.reason,
        ).to.deep.equal([row.rule]);
      });
    }
  });

  it("the failing-warmup config lints clean: its warmup request fails at run time, not at validation", () => {
    expect(lintReference("server__qa__L0_warmup__failing_infer__config.pbtxt")).to.deep.equal([]);
  });

  it("lintFiles over the whole folder finds exactly the per-file findings", async () => {
    const r = await lintFiles([configsDir], createInputReader());
    expect(r.files).to.have.lengthOf(62);
    const files = new Set(r.problems.map((p) => p.file.slice(configsDir.length + 1)));
    expect([...files].sort()).to.deep.equal(
      [
        ...REJECTED.map((x) => `${x.file}__config.pbtxt`),
        ...ALSO_REJECTED.map((x) => x.file),
      ].sort(),
    );
  });
});

// ---------------------------------------------------------------------------------------
// One or more small bad configs per rule

/** A valid batching ONNX model (lines 1-5); rows append their mistake from line 6. */
function model(...extra: string[]): string {
  return [
    'name: "m"',
    'platform: "onnxruntime_onnx"',
    "max_batch_size: 8",
    'input [{ name: "x" data_type: TYPE_FP32 dims: [ 3 ] }]',
    'output [{ name: "y" data_type: TYPE_FP32 dims: [ 3 ] }]',
    ...extra,
  ].join("\n");
}

const STEP_A =
  '  { model_name: "a" input_map { key: "x" value: "IN" } output_map { key: "y" value: "T" } },';
const STEP_B =
  '  { model_name: "b" input_map { key: "x" value: "T" } output_map { key: "y" value: "OUT" } }';

/** A valid ensemble IN → a → T → b → OUT (steps from line 7, extra fields after the closing line). */
function ensemble(steps: readonly string[], extra: readonly string[] = []): string {
  return [
    'name: "e"',
    'platform: "ensemble"',
    "max_batch_size: 8",
    'input [{ name: "IN" data_type: TYPE_FP32 dims: [ 3 ] }]',
    'output [{ name: "OUT" data_type: TYPE_FP32 dims: [ 3 ] }]',
    "ensemble_scheduling { step [",
    ...steps,
    "] }",
    ...extra,
  ].join("\n");
}

interface Row {
  readonly name: string;
  readonly text: string;
  /** Every finding, as `line:col rule`, in order. */
  readonly want: readonly string[];
  /** What the first finding's message must say (the problem, the received value, the fix). */
  readonly says: RegExp;
  readonly folder?: string;
}

const ROWS: readonly Row[] = [
  {
    name: "negative max_batch_size",
    text: 'name: "m"\nbackend: "identity"\nmax_batch_size: -1',
    want: ["3:1 max-batch-size"],
    says: /'max_batch_size' must be non-negative value for m \(got -1\)/,
  },
  {
    name: "name differs from the model folder",
    text: 'name: "yolo"\nbackend: "identity"',
    folder: "detector",
    want: ["1:1 model-name-directory"],
    says: /unexpected directory name 'detector' for model 'yolo', directory name must equal model name/,
  },
  {
    name: "unknown platform without backend",
    text: 'platform: "onnx"',
    want: ["1:1 platform-backend"],
    says: /unexpected platform type 'onnx': with no backend, platform must be one of tensorrt_plan, .*onnxruntime_onnx/,
  },
  {
    name: "a backend name written as platform",
    text: 'platform: "onnxruntime"',
    want: ["1:1 platform-backend"],
    says: /write backend: "onnxruntime" or platform: "onnxruntime_onnx"/,
  },
  {
    name: "platform and backend disagree",
    text: 'platform: "tensorrt_plan"\nbackend: "onnxruntime"',
    want: ["2:1 platform-backend"],
    says: /unexpected 'platform' and 'backend' pair, got:tensorrt_plan, onnxruntime; backend "onnxruntime" takes platform "onnxruntime_onnx"/,
  },
  {
    name: "misspelled official backend",
    text: 'backend: "onnxrutime"',
    want: ["1:1 backend-name"],
    says: /libtriton_onnxrutime\.so; did you mean "onnxruntime"\?/,
  },
  {
    name: "dynamic batching with an explicit max_batch_size 0",
    text: 'backend: "identity"\nmax_batch_size: 0\ndynamic_batching { }',
    want: ["3:1 dynamic-batching-max-batch-size"],
    says: /dynamic batching needs max_batch_size > 0 \(got max_batch_size: 0/,
  },
  {
    name: "preferred batch size above max_batch_size",
    text: model("dynamic_batching { preferred_batch_size: [ 4, 16 ] }"),
    want: ["6:47 preferred-batch-size"],
    says: /preferred size must be <= max batch size for m \(got 16, max_batch_size is 8\); use a size from 1 to max_batch_size \(8\)/,
  },
  {
    name: "preferred batch size 0",
    text: model("dynamic_batching { preferred_batch_size: 0 }"),
    want: ["6:42 preferred-batch-size"],
    says: /dynamic batching preferred size must be positive for m \(got 0\)/,
  },
  {
    name: "sequence batcher oldest preferred batch size above max_batch_size",
    text: model("sequence_batching { oldest { preferred_batch_size: [ 9 ] } }"),
    want: ["6:54 preferred-batch-size"],
    says: /sequence batching preferred batch size must be <= max batch size for m \(got 9/,
  },
  {
    name: "preferred batch size listed twice",
    text: model("dynamic_batching { preferred_batch_size: [ 4, 4 ] }"),
    want: ["6:47 preferred-batch-size-duplicate"],
    says: /preferred batch size 4 is listed twice \(first at dynamic_batching\.preferred_batch_size\[0\]\)/,
  },
  {
    name: "default priority level above priority_levels",
    text: model("dynamic_batching { priority_levels: 2 default_priority_level: 3 }"),
    want: ["6:39 default-priority-level"],
    says: /default priority level must be in range \[1, 2\] for m \(got 3\)/,
  },
  {
    name: "queue policy for a level above priority_levels",
    text: model(
      "dynamic_batching {",
      "  priority_levels: 2",
      "  default_priority_level: 1",
      "  priority_queue_policy { key: 3 value { } }",
      "}",
    ),
    want: ["9:25 priority-queue-policy-level"],
    says: /priority queue policy must have priority level in range \[1, 2\] for m \(got key 3\)/,
  },
  {
    name: "default priority level without priority_levels",
    text: model("dynamic_batching { default_priority_level: 1 }"),
    want: ["6:20 priority-levels-unset"],
    says: /default_priority_level is ignored because priority_levels is 0/,
  },
  {
    name: "preserve_ordering with two priority levels",
    text: model(
      "dynamic_batching { preserve_ordering: true priority_levels: 2 default_priority_level: 1 }",
    ),
    want: ["6:44 preserve-ordering-priority"],
    says: /Only one priority level is allowed when 'preserve_ordering' is true for m \(got priority_levels: 2\)/,
  },
  {
    name: "preserve_ordering with a DELAY queue policy",
    text: model(
      "dynamic_batching {",
      "  preserve_ordering: true",
      "  default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 100 }",
      "}",
    ),
    want: ["8:26 preserve-ordering-delay"],
    says: /Queue policy can not have DELAY as timeout action when 'preserve_ordering' is true for m \(got timeout_action: DELAY with default_timeout_microseconds: 100\)/,
  },
  {
    name: "DELAY without any timeout",
    text: model("dynamic_batching { default_queue_policy { timeout_action: DELAY } }"),
    want: ["6:43 queue-policy-timeout"],
    says: /timeout_action DELAY never applies: default_timeout_microseconds is 0/,
  },
  {
    name: "KIND_CPU group with GPUs",
    text: model("instance_group [{ kind: KIND_CPU gpus: [ 0 ] }]"),
    want: ["6:34 instance-group-gpus"],
    says: /instance group #0 of model 'm' has kind KIND_CPU but specifies one or more GPUs \(got gpus: \[0\]\)/,
  },
  {
    name: "KIND_MODEL group with GPUs",
    text: model("instance_group [{ kind: KIND_MODEL gpus: [ 0, 1 ] }]"),
    want: ["6:36 instance-group-gpus"],
    says: /has kind KIND_MODEL but specifies one or more GPUs \(got gpus: \[0, 1\]\)/,
  },
  {
    name: "negative GPU id",
    text: model("instance_group [{ kind: KIND_GPU gpus: [ 0, -1 ] }]"),
    want: ["6:45 instance-group-gpu-id"],
    says: /specifies invalid gpu id -1/,
  },
  {
    name: "negative instance count",
    text: model("instance_group [{ count: -2 kind: KIND_CPU }]"),
    want: ["6:19 instance-group-count"],
    says: /has count -2; Triton treats a count below 1 as unset/,
  },
  {
    name: "TensorRT profile on an ONNX model",
    text: model('instance_group [{ kind: KIND_GPU profile: [ "0" ] }]'),
    want: ["6:34 instance-group-profile"],
    says: /and platform onnxruntime_onnx specifies profile field which is only supported for TensorRT models/,
  },
  {
    name: "TensorRT profile that is not an index",
    text: 'platform: "tensorrt_plan"\ninstance_group [{ kind: KIND_GPU profile: [ "0", "one" ] }]',
    want: ["2:50 instance-group-profile"],
    says: /specifies invalid profile "one"; a profile is the string form of a non-negative integer/,
  },
  {
    name: "rate limiter resource both global and per-device",
    text: model(
      "instance_group [",
      '  { kind: KIND_GPU rate_limiter { resources [{ name: "R1" global: true count: 1 }] } },',
      '  { kind: KIND_CPU rate_limiter { resources [{ name: "R1" count: 2 }] } }',
      "]",
    ),
    want: ["8:46 rate-limiter-resource"],
    says: /resource "R1" is present as both global and device-specific resource/,
  },
  {
    name: "input without a name, output name twice",
    text: [
      'backend: "identity"',
      "input [{ data_type: TYPE_FP32 dims: [ 1 ] }]",
      'output [{ name: "y" data_type: TYPE_FP32 dims: [ 1 ] }, { name: "y" data_type: TYPE_FP32 dims: [ 1 ] }]',
    ].join("\n"),
    want: ["2:8 io-name", "3:59 io-name"],
    says: /model input must specify 'name'/,
  },
  {
    name: "input without data_type",
    text: 'backend: "identity"\ninput [{ name: "x" dims: [ 1 ] }]',
    want: ["2:8 io-data-type"],
    says: /model input 'x' must specify 'data_type' \(got none\); valid: TYPE_BOOL, .*TYPE_FP32/,
  },
  {
    name: "input without dims, output dims 0 and -2",
    text: [
      'backend: "identity"',
      'input [{ name: "x" data_type: TYPE_FP32 }]',
      'output [{ name: "y" data_type: TYPE_FP32 dims: [ 2, 0, -2 ] }]',
    ].join("\n"),
    want: ["2:8 io-dims", "3:53 io-dims", "3:56 io-dims"],
    says: /model input 'x' must specify 'dims'; .*dims: \[ 1 \] with reshape: \{ shape: \[ \] \}/,
  },
  {
    name: "reshape changes the element count",
    text: [
      'backend: "identity"',
      "max_batch_size: 4",
      'input [{ name: "x" data_type: TYPE_FP32 dims: [ 4 ] reshape { shape: [ 3 ] } }]',
      'output [{ name: "y" data_type: TYPE_FP32 dims: [ 2, -1 ] reshape { shape: [ -1, 3 ] } }]',
    ].join("\n"),
    want: ["3:53 io-reshape", "4:58 io-reshape"],
    says: /model input 'x' has different size for dims and reshape \(dims \[4\], reshape \[3\]\)/,
  },
  {
    name: "empty reshape on a non-batching model, reshape dimension 0",
    text: [
      'backend: "identity"',
      "max_batch_size: 0",
      'input [{ name: "x" data_type: TYPE_FP32 dims: [ 1 ] reshape { shape: [ ] } }]',
      'output [{ name: "y" data_type: TYPE_FP32 dims: [ 4 ] reshape { shape: [ 0 ] } }]',
    ].join("\n"),
    want: ["3:53 io-reshape", "4:73 io-reshape"],
    says: /cannot have empty reshape for non-batching model as scalar tensors are not supported/,
  },
  {
    name: "reshape with another number of -1 dimensions (and a valid [2,4,-1,6] → [8,-1,2,3])",
    text: [
      'backend: "identity"',
      "max_batch_size: 4",
      'input [{ name: "x" data_type: TYPE_FP32 dims: [ 2, -1, 6 ] reshape { shape: [ 2, -1, -1, 6 ] } }]',
      'output [{ name: "y" data_type: TYPE_FP32 dims: [ 2, 4, -1, 6 ] reshape { shape: [ 8, -1, 2, 3 ] } }]',
    ].join("\n"),
    want: ["3:60 io-reshape"],
    says: /has different number of variable-size dimensions for dims and reshape/,
  },
  {
    name: "NCHW input with the batch dimension in dims",
    text: 'platform: "onnxruntime_onnx"\ninput [{ name: "x" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [ 1, 3, 640, 640 ] }]',
    want: ["2:41 io-format"],
    says: /model input NHWC\/NCHW require 3 dims \(input 'x' has format FORMAT_NCHW and 4 dims \[1, 3, 640, 640\]\)/,
  },
  {
    name: "shape tensor on an ONNX model",
    text: model('input [{ name: "s" data_type: TYPE_INT32 dims: [ 2 ] is_shape_tensor: true }]'),
    want: ["6:54 io-shape-tensor"],
    says: /shape tensors are only supported for TensorRT platform \(input 's' has is_shape_tensor: true, platform is onnxruntime_onnx\)/,
  },
  {
    name: "non-linear IO format on an ONNX model",
    text: model(
      'output [{ name: "z" data_type: TYPE_FP16 dims: [ 3, 224, 224 ] is_non_linear_format_io: true }]',
    ),
    want: ["6:64 io-non-linear-format"],
    says: /Non-linear IO format is only supported for the TensorRT platform/,
  },
  {
    name: "non-linear IO format with 2 dims on TensorRT",
    text: 'backend: "tensorrt"\ninput [{ name: "x" data_type: TYPE_FP16 dims: [ 224, 224 ] is_non_linear_format_io: true }]',
    want: ["2:60 io-non-linear-format"],
    says: /Non-linear IO format input requires 3 dims \(got 2: \[224, 224\]\)/,
  },
  {
    name: "batch input of type FP16 from an unknown input",
    text: model(
      'batch_input [{ kind: BATCH_ELEMENT_COUNT target_name: "n" data_type: TYPE_FP16 source_input: "w" }]',
    ),
    want: ["6:59 batch-io", "6:94 batch-io"],
    says: /batch input data type must be TYPE_INT32 or TYPE_FP32 \(got TYPE_FP16\)/,
  },
  {
    name: "batch output with a target twice and two sources",
    text: model('batch_output [{ target_name: [ "y", "y" ] source_input: [ "x", "x" ] }]'),
    want: ["6:37 batch-io", "6:43 batch-io"],
    says: /target output name 'y' can only be specified once/,
  },
  {
    name: "START control with 3 values, CORRID of type FP32",
    text: model(
      "sequence_batching {",
      '  control_input [{ name: "START" control [{ kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1, 2 ] }] }]',
      '  control_input [{ name: "CORRID" control [{ kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_FP32 }] }]',
      "}",
    ),
    want: ["7:74 sequence-batching-control", "8:76 sequence-batching-control"],
    says: /control 'int32_false_true' must have exactly 2 entries for CONTROL_SEQUENCE_START for m \(got 3\)/,
  },
  {
    name: "READY control without values, a tensor for two kinds, END with two value kinds",
    text: model(
      "sequence_batching {",
      '  control_input [{ name: "S" control [{ kind: CONTROL_SEQUENCE_READY }] }]',
      '  control_input [{ name: "S" control [{ kind: CONTROL_SEQUENCE_END fp32_false_true: [ 0, 1 ] bool_false_true: [ false, true ] }] }]',
      "}",
    ),
    want: [
      "7:39 sequence-batching-control",
      "8:20 sequence-batching-control",
      "8:39 sequence-batching-control",
    ],
    says: /must specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for CONTROL_SEQUENCE_READY/,
  },
  {
    name: "minimum slot utilization above 1",
    text: model("sequence_batching { direct { minimum_slot_utilization: 1.5 } }"),
    want: ["6:30 sequence-batching-slot-utilization"],
    says: /minimum slot utilization must be in range \(0\.0, 1\.0\] for m \(got 1\.5\)/,
  },
  {
    name: "response cache on a decoupled model",
    text: 'name: "m"\nbackend: "identity"\nmodel_transaction_policy { decoupled: true }\nresponse_cache { enable: true }',
    want: ["4:18 response-cache"],
    says: /Response Cache does not currently support model m with 'decoupled' transaction policy/,
  },
  {
    name: "response cache with the sequence batcher",
    text: 'name: "m"\nbackend: "identity"\nsequence_batching { }\nresponse_cache { enable: true }',
    want: ["4:18 response-cache"],
    says: /Response Cache does not currently support model m with sequence batching scheduler/,
  },
  {
    name: "metric controls without histogram or identifier",
    text: model(
      'model_metrics { metric_control [{ metric_identifier { family: "f" } }, { histogram_options { buckets: [ ] } }] }',
    ),
    want: ["6:33 model-metrics", "6:72 model-metrics", "6:74 model-metrics"],
    says: /metric control must specify 'histogram_options'/,
  },
  {
    name: "TensorRT accelerator on a TensorRT plan",
    text: 'platform: "tensorrt_plan"\noptimization { execution_accelerators { gpu_execution_accelerator [{ name: "tensorrt" }] } }',
    want: ["2:68 execution-accelerator"],
    says: /execution accelerator 'tensorrt' has no effect with the tensorrt backend: only onnxruntime .* and tensorflow/,
  },
  {
    name: "openvino as a GPU accelerator, a misspelled accelerator",
    text: model(
      'optimization { execution_accelerators { gpu_execution_accelerator [{ name: "openvino" }, { name: "tensorrtt" }] } }',
    ),
    want: ["6:70 execution-accelerator", "6:92 execution-accelerator"],
    says: /unknown Execution Accelerator 'openvino' is requested: .* takes "tensorrt", "cuda"; "openvino" belongs in cpu_execution_accelerator/,
  },
  {
    name: "TensorFlow: TF-TRT with auto mixed precision, a CPU accelerator",
    text: [
      'platform: "tensorflow_savedmodel"',
      "optimization { execution_accelerators {",
      '  gpu_execution_accelerator [{ name: "tensorrt" }, { name: "auto_mixed_precision" }]',
      '  cpu_execution_accelerator [{ name: "openvino" }]',
      "} }",
    ].join("\n"),
    want: ["3:3 execution-accelerator", "4:30 execution-accelerator"],
    says: /Auto mixed precision can not be set with TFTRT optimization/,
  },
  {
    name: "onnxruntime TensorRT parameters: bad precision, unknown key, bad boolean",
    text: model(
      "optimization { execution_accelerators { gpu_execution_accelerator [{",
      '  name: "tensorrt"',
      '  parameters { key: "precision_mode" value: "FP8" }',
      '  parameters { key: "max_workspace_size" value: "1" }',
      '  parameters { key: "trt_engine_cache_enable" value: "yes" }',
      "}] } }",
    ),
    want: [
      "8:14 execution-accelerator-parameter",
      "9:14 execution-accelerator-parameter",
      "10:14 execution-accelerator-parameter",
    ],
    says: /unsupported precision mode 'FP8' is requested; precision_mode must be one of FP32, FP16, BF16, INT8/,
  },
  {
    name: "TensorFlow TF-TRT precision INT8",
    text: 'platform: "tensorflow_graphdef"\noptimization { execution_accelerators { gpu_execution_accelerator [{ name: "tensorrt" parameters { key: "precision_mode" value: "INT8" } }] } }',
    want: ["2:98 execution-accelerator-parameter"],
    says: /unsupported precision mode 'INT8' is requested; precision_mode must be one of FP32, FP16$/,
  },
  {
    name: "ensemble platform without ensemble_scheduling",
    text: 'name: "e"\nplatform: "ensemble"\nmax_batch_size: 8',
    want: ["2:1 ensemble-scheduling-required"],
    says: /ensemble scheduling must be set for ensemble e whose platform is ensemble/,
  },
  {
    name: "ensemble_scheduling on an ONNX model",
    text: model(
      'ensemble_scheduling { step [{ model_name: "a" input_map { key: "x" value: "x" } output_map { key: "y" value: "y" } }] }',
    ),
    want: ["6:1 ensemble-platform"],
    says: /ensemble scheduling cannot be set for model 'm' whose platform is not ensemble \(got platform "onnxruntime_onnx"\)/,
  },
  {
    name: "ensemble with a backend",
    text: ensemble([STEP_A, STEP_B], ['backend: "python"']),
    want: ["10:1 ensemble-platform"],
    says: /Ensemble model 'e' must have platform type 'ensemble' and empty backend type \(got backend "python"\)/,
  },
  {
    name: "ensemble with instance groups, optimization and warmup",
    text: ensemble(
      [STEP_A, STEP_B],
      ["instance_group [{ kind: KIND_CPU }]", "optimization { }", "model_warmup [{ }]"],
    ),
    want: [
      "10:1 ensemble-forbidden-field",
      "11:1 ensemble-forbidden-field",
      "12:1 ensemble-forbidden-field",
    ],
    says: /instance group should not be specified for ensemble 'e'/,
  },
  {
    name: "ensemble without steps",
    text: 'name: "e"\nplatform: "ensemble"\nensemble_scheduling { }',
    want: ["3:1 ensemble-step"],
    says: /must specify 'step' for ensemble 'e'/,
  },
  {
    name: "step without model_name and output_map",
    text: ensemble(['  { input_map { key: "x" value: "IN" } }']),
    want: ["5:9 ensemble-output-unwritten", "7:3 ensemble-step", "7:3 ensemble-step"],
    says: /output 'OUT' for ensemble 'e' is not written: no step's output_map has it as a value/,
  },
  {
    name: "two steps write one tensor",
    text: ensemble([
      STEP_A,
      '  { model_name: "b" input_map { key: "x" value: "IN" } output_map { key: "y" value: "T" } },',
      STEP_B,
    ]),
    want: ["8:67 ensemble-tensor-duplicate"],
    says: /ensemble tensor 'T' can appear in an output map only once for ensemble 'e' step 1 \(already written by step 0 \(model 'a'\)\)/,
  },
  {
    name: "a step reads a tensor nothing writes",
    text: ensemble([
      STEP_A,
      '  { model_name: "b" input_map { key: "x" value: "Tt" } output_map { key: "y" value: "OUT" } }',
    ]),
    want: ["7:67 ensemble-tensor-unused", "8:31 ensemble-tensor-source"],
    says: /ensemble tensor 'T' is unused in ensemble 'e': step 0 \(model 'a'\) writes it but no step reads it/,
  },
  {
    name: "an ensemble input no step reads",
    text: ensemble([STEP_A, STEP_B]).replace(
      'input [{ name: "IN" data_type: TYPE_FP32 dims: [ 3 ] }]',
      'input [{ name: "IN" data_type: TYPE_FP32 dims: [ 3 ] }, { name: "EXTRA" data_type: TYPE_FP32 dims: [ 3 ] }]',
    ),
    want: ["4:57 ensemble-input-unused"],
    says: /ensemble input 'EXTRA' for ensemble 'e' is not used/,
  },
  {
    name: "an ensemble output written under another name",
    text: ensemble([
      STEP_A,
      '  { model_name: "b" input_map { key: "x" value: "T" } output_map { key: "y" value: "OUTT" } }',
    ]),
    want: ["5:9 ensemble-output-unwritten", "8:66 ensemble-tensor-unused"],
    says: /output 'OUT' for ensemble 'e' is not written: .*step outputs: 'T', 'OUTT'; did you mean "OUTT"\?/,
  },
  {
    name: "steps in a cycle",
    text: ensemble([
      '  { model_name: "a" input_map { key: "x" value: "U" } output_map { key: "y" value: "T" } },',
      '  { model_name: "b" input_map { key: "x" value: "T" } output_map [{ key: "y" value: "OUT" }, { key: "z" value: "U" }] }',
    ]),
    want: ["4:8 ensemble-input-unused", "5:9 ensemble-output-unwritten"],
    says: /ensemble input 'IN' for ensemble 'e' is not used/,
  },
  {
    name: "a written tensor nobody reads",
    text: ensemble([
      STEP_A,
      '  { model_name: "b" input_map { key: "x" value: "T" } output_map [{ key: "y" value: "OUT" }, { key: "z" value: "SPARE" }] }',
    ]),
    want: ["8:94 ensemble-tensor-unused"],
    says: /ensemble tensor 'SPARE' is unused in ensemble 'e'/,
  },
];

/** Cross-model findings in the fixture repository, as `file line:col rule`. */
const FIXTURE_FINDINGS: readonly string[] = [
  "broken_detection/config.pbtxt 22:17 ensemble-tensor-consistency",
  "broken_detection/config.pbtxt 26:7 ensemble-batch-size",
  "broken_detection/config.pbtxt 27:7 ensemble-step-tensors",
  "broken_detection/config.pbtxt 27:17 ensemble-step-tensors",
  "broken_detection/config.pbtxt 31:7 ensemble-model-missing",
  "misnamed/config.pbtxt 1:1 model-name-directory",
];

describe("config lint: rules", () => {
  it("a valid model and a valid ensemble lint clean", () => {
    expect(lint(model())).to.deep.equal([]);
    expect(lint(ensemble([STEP_A, STEP_B]))).to.deep.equal([]);
  });

  for (const row of ROWS) {
    it(row.name, () => {
      const problems = lint(row.text, row.folder === undefined ? {} : { modelFolder: row.folder });
      expect(where(problems), problems.map(formatProblem).join("\n")).to.deep.equal(row.want);
      expect(problems[0]?.message).to.match(row.says);
      for (const p of problems) {
        expect(p.file).to.equal("c.pbtxt");
        expect(p.path, "every finding names its field").to.not.equal("");
      }
    });
  }

  it("every rule has at least one bad-config row or fixture finding", () => {
    const covered = new Set([
      ...ROWS.flatMap((r) => r.want.map((w) => w.split(" ")[1])),
      ...FIXTURE_FINDINGS.map((f) => f.split(" ")[2]),
    ]);
    const missing = Object.keys(lintRules).filter((r) => !covered.has(r));
    expect(missing).to.deep.equal([]);
  });

  it("rule names are kebab-case", () => {
    for (const name of Object.keys(lintRules)) expect(name).to.match(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it("reports a field once: no rule fires on a field that has a schema problem", () => {
    const parsed = parseModelConfig(
      'backend: "identity"\ninput [{ name: "x" data_type: TYPE_FP33 dims: [ 1 ] }]',
      "c.pbtxt",
    );
    expect(parsed.problems.map((p) => p.path)).to.deep.equal(["input[0].data_type"]);
    expect(lintModelConfig(parsed)).to.deep.equal([]);
  });

  it("runs no rule after a syntax error (the rest of the config is missing)", () => {
    const parsed = parseModelConfig(
      'name: "m"\nmax_batch_size: -1\ninput [{ name: "x" ',
      "c.pbtxt",
    );
    expect(parsed.problems).to.have.lengthOf(1);
    expect(lintModelConfig(parsed)).to.deep.equal([]);
  });

  it("checks the name against the folder of a <model>/config.pbtxt, and only there", () => {
    const text = 'name: "yolo"\nbackend: "identity"';
    expect(where(lint(text, {}, "models/detector/config.pbtxt"))).to.deep.equal([
      "1:1 model-name-directory",
    ]);
    expect(lint(text, {}, "models/yolo/config.pbtxt")).to.deep.equal([]);
    expect(lint(text, {}, "detector__config.pbtxt")).to.deep.equal([]);
    expect(lint('backend: "identity"', {}, "models/detector/config.pbtxt")).to.deep.equal([]);
  });

  it("does not require what auto-complete fills (max_batch_size, platform, inputs)", () => {
    expect(
      lint('backend: "onnxruntime"\ndynamic_batching { preferred_batch_size: [ 4 ] }'),
    ).to.deep.equal([]);
    expect(lint('name: "m"')).to.deep.equal([]);
  });
});

// ---------------------------------------------------------------------------------------
// The repository fixture: cross-model checks

describe("config lint: large configs", () => {
  /** A parsed config built directly (no text), for sizes the parser would take long to read. */
  function parsedOf(config: ModelConfig): ParsedModelConfig {
    return { file: "c.pbtxt", config, positions: new Map(), problems: [], complete: true };
  }

  it("an ensemble of 20,000 chained steps from a missing tensor: findings, not a stack overflow", () => {
    const n = 20000;
    const step = Array.from({ length: n }, (_, i) => ({
      model_name: "m",
      input_map: { x: i === 0 ? "nowhere" : `t${i}` },
      output_map: { y: `t${i + 1}` },
    }));
    const config: ModelConfig = {
      name: "e",
      platform: "ensemble",
      input: [{ name: "IN", data_type: "TYPE_FP32", dims: [1n] }],
      output: [{ name: `t${n}`, data_type: "TYPE_FP32", dims: [1n] }],
      ensemble_scheduling: { step },
    };
    // The output is cut off by the missing tensor, which ensemble-tensor-source reports once.
    expect(lintModelConfig(parsedOf(config)).map((p) => `${p.path} ${p.rule}`)).to.deep.equal([
      'ensemble_scheduling.step[0].input_map["x"] ensemble-tensor-source',
      "input[0] ensemble-input-unused",
    ]);
  });

  it("bounds did-you-mean work: 5,000 unknown batch sources among 1,000 inputs", () => {
    const input = Array.from({ length: 1000 }, (_, i) => ({
      name: `input_${i}`,
      data_type: "TYPE_FP32" as const,
      dims: [1n],
    }));
    const batch_input = Array.from({ length: 5000 }, (_, i) => ({
      kind: "BATCH_ELEMENT_COUNT" as const,
      data_type: "TYPE_FP32" as const,
      source_input: [`inptu_${i}`],
    }));
    suggestWork.comparisons = 0;
    const found = lintModelConfig(parsedOf({ backend: "identity", input, batch_input }));
    expect(found.filter((p) => p.rule === "batch-io")).to.have.lengthOf(5000);
    expect(found[0]?.message).to.match(/did you mean "input_0"\?$/);
    // Unbounded, each of the 5,000 would be compared with up to 1,000 names.
    expect(suggestWork.comparisons).to.be.at.most(10000);
  });

  it(`lists at most ${MAX_LISTED} names in a message, then counts the rest`, () => {
    const input = Array.from({ length: 25 }, (_, i) => ({
      name: `i${i}`,
      data_type: "TYPE_FP32" as const,
      dims: [1n],
    }));
    const config: ModelConfig = {
      backend: "identity",
      input,
      batch_input: [{ kind: "BATCH_ELEMENT_COUNT", data_type: "TYPE_FP32", source_input: ["z"] }],
    };
    const [finding] = lintModelConfig(parsedOf(config));
    const shown = input.slice(0, MAX_LISTED).map((io) => `'${io.name}'`);
    expect(finding?.message).to.equal(
      `unknown source input name 'z'; inputs: ${shown.join(", ")}, ... and 5 more`,
    );
  });
});

describe("config lint: model repository (cross-model checks)", () => {
  it("finds each mistake of the broken ensemble, and nothing in the valid models", async () => {
    const r = await lintFiles([fixtureRepo], createInputReader());
    expect(r.files.map((f) => f.slice(fixtureRepo.length + 1))).to.deep.equal([
      "broken_detection/config.pbtxt",
      "detection/config.pbtxt",
      "detector/config.pbtxt",
      "misnamed/config.pbtxt",
      "postprocess/config.pbtxt",
      "preprocess/config.pbtxt",
    ]);
    expect(
      r.problems.map((p) => `${p.file.slice(fixtureRepo.length + 1)} ${p.line}:${p.col} ${p.rule}`),
    ).to.deep.equal(FIXTURE_FINDINGS);
    const says = r.problems.map((p) => p.message);
    expect(says).to.satisfy((m: string[]) =>
      m.some((s) =>
        /ensemble tensor RAW_IMAGE: inconsistent data type: TYPE_FP32 is inferred from model broken_detection while TYPE_UINT8 is inferred from model preprocess/.test(
          s,
        ),
      ),
    );
    expect(says).to.satisfy((m: string[]) =>
      m.some((s) =>
        /ensemble broken_detection allows maximum batch size 16, but it contains model detector which only allows maximum batch size to be 8/.test(
          s,
        ),
      ),
    );
    expect(says).to.satisfy((m: string[]) =>
      m.some((s) =>
        /ensemble tensor preprocessed is mapping to non-existing input image in model detector; inputs of detector: 'images'; did you mean "images"\?/.test(
          s,
        ),
      ),
    );
    expect(says).to.satisfy((m: string[]) =>
      m.some((s) => /input images in model detector is not mapped to any ensemble tensors/.test(s)),
    );
    expect(says).to.satisfy((m: string[]) =>
      m.some((s) =>
        /step 2 runs model 'tracker', which is not in the model repository .*lint-repo; models there: 'broken_detection', 'detection'/.test(
          s,
        ),
      ),
    );
  });

  it("checks one ensemble against its sibling models when linted alone", async () => {
    const good = await lintFiles(
      [join(fixtureRepo, "detection", "config.pbtxt")],
      createInputReader(),
    );
    expect(good.problems).to.deep.equal([]);
    const broken = await lintFiles(
      [join(fixtureRepo, "broken_detection", "config.pbtxt")],
      createInputReader(),
    );
    expect(broken.problems.map((p) => p.rule)).to.include("ensemble-model-missing");
  });

  it("skips the cross-model checks for a file outside a repository, keeping the in-ensemble ones", () => {
    const text = readFileSync(join(fixtureRepo, "broken_detection", "config.pbtxt"), "utf8");
    expect(lint(text, {}, "broken_detection__config.pbtxt")).to.deep.equal([]);
    const unwired = text.replace(
      'input_map { key: "detections" value: "detections" }',
      'input_map { key: "detections" value: "detection" }',
    );
    expect(where(lint(unwired, {}, "broken.pbtxt"))).to.deep.equal([
      "28:18 ensemble-tensor-unused",
      "32:17 ensemble-tensor-source",
    ]);
  });
});

// ---------------------------------------------------------------------------------------
// lintFiles: paths, parse problems

describe("config lint: lintFiles", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-lint-"));
    mkdirSync(join(dir, "repo", "m"), { recursive: true });
    mkdirSync(join(dir, "empty"));
    writeFileSync(
      join(dir, "repo", "m", "config.pbtxt"),
      'name: "m"\nbackend: "identity"\nmax_batch_size: -1\nbogus: 1\n',
    );
    writeFileSync(join(dir, "syntax.pbtxt"), 'name: "m"\nmax_batch_size: -1\ninput [{ name: "x"\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("labels parse problems schema or syntax, and still lints after schema problems", async () => {
    const r = await lintFiles([join(dir, "repo"), join(dir, "syntax.pbtxt")], createInputReader());
    expect(
      r.problems.map((p) => `${p.file.slice(dir.length + 1)}:${p.line}:${p.col} ${p.rule}`),
    ).to.deep.equal([
      "repo/m/config.pbtxt:3:1 max-batch-size",
      "repo/m/config.pbtxt:4:1 schema",
      "syntax.pbtxt:4:1 syntax",
    ]);
  });

  it("indexes sibling models behind symbolic links and version-only folders", async () => {
    const repo = join(dir, "linked-repo");
    mkdirSync(join(repo, "ens"), { recursive: true });
    mkdirSync(join(repo, "bare", "1"), { recursive: true });
    mkdirSync(join(dir, "elsewhere", "real"), { recursive: true });
    writeFileSync(
      join(dir, "elsewhere", "real", "config.pbtxt"),
      'name: "real"\nbackend: "identity"\ninput [{ name: "x" data_type: TYPE_FP32 dims: [ 1 ] }]\noutput [{ name: "y" data_type: TYPE_FP32 dims: [ 1 ] }]\n',
    );
    symlinkSync(join(dir, "elsewhere", "real"), join(repo, "real"));
    const step = (m: string, from: string, to: string) =>
      `{ model_name: "${m}" input_map { key: "x" value: "${from}" } output_map { key: "y" value: "${to}" } }`;
    writeFileSync(
      join(repo, "ens", "config.pbtxt"),
      [
        'platform: "ensemble"',
        'input [{ name: "IN" data_type: TYPE_FP32 dims: [ 1 ] }]',
        'output [{ name: "OUT" data_type: TYPE_FP32 dims: [ 1 ] }]',
        `ensemble_scheduling { step [ ${step("real", "IN", "T")}, ${step("bare", "T", "OUT")} ] }`,
      ].join("\n"),
    );
    const r = await lintFiles([join(repo, "ens", "config.pbtxt")], createInputReader());
    expect(r.problems.map(formatProblem)).to.deep.equal([]);
  });

  it("lints a config with 70,000 inputs (210,000 findings) without overflowing the call stack", async () => {
    const file = join(dir, "many-inputs.pbtxt");
    writeFileSync(file, "input {}\n".repeat(70000));
    const r = await lintFiles([file], createInputReader());
    expect(r.problems).to.have.lengthOf(210000);
    expect(r.problems.slice(0, 3).map((p) => `${p.line}:${p.col} ${p.rule}`)).to.deep.equal([
      "1:7 io-name",
      "1:7 io-data-type",
      "1:7 io-dims",
    ]);
  });

  it("reports a missing path and a folder without configs under rule file", async () => {
    const r = await lintFiles([join(dir, "nope.pbtxt"), join(dir, "empty")], createInputReader());
    expect(r.problems.map((p) => `${p.rule}: ${p.message}`)).to.deep.equal([
      "file: no config.pbtxt or *.pbtxt files in this directory",
      "file: cannot read: no such file or directory",
    ]);
  });
});

// ---------------------------------------------------------------------------------------
// The command line

describe("tritonscale config", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-config-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("lint: prints every problem sorted, a summary on stderr, and exits 1", async () => {
    const c = capture();
    const code = await runConfig(["lint", fixtureRepo], c.io);
    expect(code).to.equal(1);
    const lines = c.out().trimEnd().split("\n");
    expect(lines).to.have.lengthOf(FIXTURE_FINDINGS.length);
    expect(lines[0]).to.match(
      /broken_detection\/config\.pbtxt:22:17: ensemble-tensor-consistency: ensemble_scheduling\.step\[0\]\.input_map\["raw"\]: in ensemble broken_detection, ensemble tensor RAW_IMAGE: inconsistent data type/,
    );
    expect(lines[5]).to.match(
      /misnamed\/config\.pbtxt:1:1: model-name-directory: name: unexpected directory name 'misnamed'/,
    );
    expect(c.err()).to.equal("6 problems in 2 files\n");
  });

  it("lint: says ok and exits 0 for clean files", async () => {
    const c = capture();
    const files = ["detection", "detector", "preprocess"].map((m) =>
      join(fixtureRepo, m, "config.pbtxt"),
    );
    expect(await runConfig(["lint", ...files], c.io)).to.equal(0);
    expect(c.out()).to.equal("");
    expect(c.err()).to.equal("ok: 3 files\n");
  });

  it("exits 2 on a bad command line, with usage", async () => {
    for (const argv of [
      [],
      ["lint"],
      ["lint", "--bogus", "x"],
      ["lnit", "x"],
      ["format"],
      ["format", "a", "b"],
    ]) {
      const c = capture();
      expect(await runConfig(argv, c.io), argv.join(" ")).to.equal(2);
      expect(c.err(), argv.join(" ")).to.match(/Usage: tritonscale config/);
    }
    const c = capture();
    await runConfig(["lnit"], c.io);
    expect(c.err()).to.match(/unknown command "lnit"; did you mean "lint"\?/);
  });

  it("prints help and exits 0", async () => {
    for (const argv of [["--help"], ["lint", "--help"], ["format", "-h"]]) {
      const c = capture();
      expect(await runConfig(argv, c.io)).to.equal(0);
      expect(c.out()).to.match(/^Usage: tritonscale config/);
    }
  });

  it("format: prints the canonical form without touching the file", async () => {
    const file = join(dir, "print.pbtxt");
    const original = readFileSync(join(fixtureRepo, "detector", "config.pbtxt"), "utf8");
    writeFileSync(file, original);
    const c = capture();
    expect(await runConfig(["format", file], c.io)).to.equal(0);
    expect(c.out()).to.equal(formatModelConfig(parseModelConfig(original, file).config));
    expect(readFileSync(file, "utf8")).to.equal(original);
  });

  it("format --write: rewrites once, then reports the file unchanged", async () => {
    const folder = join(dir, "detection");
    mkdirSync(folder);
    const file = join(folder, "config.pbtxt");
    const original = readFileSync(join(fixtureRepo, "detection", "config.pbtxt"), "utf8");
    writeFileSync(file, original);

    const first = capture();
    expect(await runConfig(["format", file, "--write"], first.io)).to.equal(0);
    expect(first.out()).to.equal(`formatted ${file}\n`);
    expect(first.err()).to.match(/comments are not kept/);
    const written = readFileSync(file, "utf8");
    expect(written).to.equal(formatModelConfig(parseModelConfig(original, file).config));
    expect(parseModelConfig(written, file).config).to.deep.equal(
      parseModelConfig(original, file).config,
    );

    const second = capture();
    expect(await runConfig(["format", "-w", file], second.io)).to.equal(0);
    expect(second.out()).to.equal(`${file} unchanged\n`);
    expect(readFileSync(file, "utf8")).to.equal(written);
    expect(readdirSync(folder), "no temporary file left behind").to.deep.equal(["config.pbtxt"]);
  });

  it("format: refuses a file that does not parse, printing its problems", async () => {
    const file = join(dir, "bad.pbtxt");
    const text = 'name: "m"\nmax_batch_sise: 4\n';
    writeFileSync(file, text);
    const c = capture();
    expect(await runConfig(["format", "--write", file], c.io)).to.equal(1);
    expect(c.err()).to.match(
      /bad\.pbtxt:2:1: max_batch_sise: unknown field "max_batch_sise" in inference\.ModelConfig; did you mean "max_batch_size"\?/,
    );
    expect(c.err()).to.match(/not formatting .*bad\.pbtxt: 1 problem\n$/);
    expect(readFileSync(file, "utf8")).to.equal(text);
  });

  it("format: a missing file exits 1", async () => {
    const c = capture();
    expect(await runConfig(["format", join(dir, "missing.pbtxt")], c.io)).to.equal(1);
    expect(c.err()).to.match(/missing\.pbtxt: cannot read: no such file or directory/);
  });
});
