/**
 * Inputs that grow in one direction (many unknown fields, many map entries, many labels,
 * many list entries, many rows), for the scaling ratios of `npm run bench` (2k vs 20k
 * entries: linear ≈ 10) and the 1 MB ceiling of `npm run fuzz` (no input over 1 s at 1 MB).
 * No timings here: the callers measure.
 */

import { parseModelPool } from "../../controller/policy/load.js";
import { parseModelConfig } from "../../controller/repository/model-config.js";
import { parseTraceCsv } from "../../controller/simulate/trace-csv.js";

/** One input family: `make(n)` has n entries; `parse` runs the parser on it. */
export interface ScalingCase {
  readonly name: string;
  /** The fuzz target (test/fuzz/targets.ts) whose parser this is. */
  readonly target: string;
  make(n: number): string;
  parse(text: string): void;
}

function lines(n: number, line: (i: number) => string): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(line(i));
  return out.join("");
}

const PB_HEAD = 'name: "m"\nbackend: "onnxruntime"\nmax_batch_size: 8\n';

/** A valid pool with `metadata` lines and `spec` lines added (self-contained: no example file). */
function pool(metadata = "", spec = ""): string {
  return `apiVersion: tritonscale.dev/v1alpha1
kind: ModelPool
metadata:
  name: yolo-detect
  namespace: vision
${metadata}spec:
  models:
    - name: yolov8s
      template: yolov8-onnx
      imageSize: 640
      classes: 80
  slo: { latencyP99Ms: 85 }
${spec}`;
}

const parseConfig = (text: string): void => {
  parseModelConfig(text, "config.pbtxt");
};
const parsePool = (text: string): void => {
  parseModelPool(text, "pool.yaml");
};

/** The families the benchmark and the fuzz runner measure. */
export const SCALING_CASES: readonly ScalingCase[] = [
  {
    target: "pbtxt",
    name: "pbtxt: unknown fields",
    make: (n) => PB_HEAD + lines(n, (i) => `unknown_field_${i}: ${i}\n`),
    parse: parseConfig,
  },
  {
    target: "pbtxt",
    name: "pbtxt: parameters map entries",
    make: (n) =>
      PB_HEAD + lines(n, (i) => `parameters { key: "k${i}" value { string_value: "v${i}" } }\n`),
    parse: parseConfig,
  },
  {
    target: "pbtxt",
    name: "pbtxt: input tensors (list entries)",
    make: (n) =>
      PB_HEAD + lines(n, (i) => `input { name: "in${i}" data_type: TYPE_FP32 dims: [ 3 ] }\n`),
    parse: parseConfig,
  },
  {
    target: "modelpool",
    name: "ModelPool: labels",
    make: (n) => pool(`  labels:\n${lines(n, (i) => `    label-${i}: v${i}\n`)}`),
    parse: parsePool,
  },
  {
    target: "modelpool",
    name: "ModelPool: unknown metadata fields",
    make: (n) => pool(lines(n, (i) => `  unknown${i}: x\n`)),
    parse: parsePool,
  },
  {
    target: "modelpool",
    name: "ModelPool: tolerations (list entries)",
    make: (n) =>
      pool(
        "",
        `  capacity:\n    tolerations:\n${lines(n, (i) => `      - { key: k${i}.example.com/x, operator: Exists, effect: NoSchedule }\n`)}`,
      ),
    parse: parsePool,
  },
  {
    target: "trace-csv",
    name: "trace CSV: count rows",
    // Ten-second rows: 1 MB of them spans about 12 days, inside the 31-day trace limit.
    make: (n) => `time,count\n${lines(n, (i) => `${i * 10},${i % 97}\n`)}`,
    parse: (text) => {
      parseTraceCsv(text, "trace.csv", 1);
    },
  },
];

/** The entry count that makes `c` about `bytes` long. */
export function entriesFor(c: ScalingCase, bytes: number): number {
  const small = c.make(1000).length;
  const base = c.make(0).length;
  return Math.max(1, Math.ceil(((bytes - base) * 1000) / Math.max(1, small - base)));
}
