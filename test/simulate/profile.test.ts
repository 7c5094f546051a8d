import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { InputError } from "../../controller/diagnostics/problem.js";
import {
  createLinearProfile,
  createPiecewiseProfile,
  DEFAULT_PROFILE,
  DEFAULT_PROFILE_SPEC,
  type LatencyProfile,
  parseLinearProfile,
  parseModelAnalyzerCsv,
  parsePerfAnalyzerCsv,
  parseProfile,
} from "../../controller/simulate/profile.js";
import { requireReference } from "../support/reference.js";

function expectTimes(p: LatencyProfile, expected: Record<number, number>): void {
  for (const [n, ms] of Object.entries(expected)) {
    expect(p.computeMs(Number(n)), `computeMs(${n})`).to.be.closeTo(ms, 1e-9 * Math.max(1, ms));
  }
}

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  return expect.fail("no InputError");
}

describe("linear profiles", () => {
  const valid: { name: string; spec: string; times: Record<number, number>; maxBatch?: number }[] =
    [
      { name: "a + b·n", spec: "linear:a=4,b=2.2", times: { 1: 6.2, 8: 21.6, 16: 39.2 } },
      { name: "b = 0 explicitly", spec: "linear:a=5,b=0", times: { 4: 5 } },
      { name: "a = 0: proportional", spec: "linear:a=0,b=3", times: { 1: 3, 10: 30 } },
      {
        name: "values in ms, with a max batch and spaces",
        spec: "linear: a=4ms, b=2.5ms, maxBatch=16",
        times: { 2: 9 },
        maxBatch: 16,
      },
    ];
  for (const c of valid) {
    it(`reads ${c.name}: ${c.spec}`, () => {
      const p = parseLinearProfile(c.spec);
      expectTimes(p, c.times);
      expect(p.maxBatch).to.equal(c.maxBatch);
      expect(parseProfile(c.spec, "--profile").computeMs(3)).to.equal(p.computeMs(3));
    });
  }

  const invalid: { name: string; spec: string; messages: string[] }[] = [
    {
      name: "missing a",
      spec: "linear:b=2",
      messages: [
        "a: missing: the fixed milliseconds per batch (0 for none); both a and b are required",
      ],
    },
    // Regression (issue 7): `linear:a=4` was taken as b=0 (capacity 12x too high) while
    // `linear:b=2` was refused: both are required.
    {
      name: "missing b (was taken as b = 0)",
      spec: "linear:a=4",
      messages: [
        "b: missing: the milliseconds per request in the batch (0 for a constant time); both a and b are required, e.g. linear:a=4,b=2.2",
      ],
    },
    { name: "missing both", spec: "linear:", messages: ["a: missing", "b: missing"] },
    {
      name: "a value too large for a double",
      spec: "linear:a=1e309,b=1",
      messages: ["a: must be a finite number >= 0 (got 1e309)"],
    },
    {
      name: "a hexadecimal value",
      spec: "linear:a=0x10,b=1",
      messages: ['a: must be a number >= 0 (got "0x10")'],
    },
    {
      name: "a max batch too large for a double",
      spec: "linear:a=4,b=1,maxBatch=1e309",
      messages: ["maxBatch: must be a whole number >= 1 (got 1e309)"],
    },
    {
      name: "unknown key",
      spec: "linear:a=4,bb=1",
      messages: ['bb: unknown key; did you mean "b"?'],
    },
    {
      name: "negative",
      spec: "linear:a=-1,b=1",
      messages: ["a: must be >= 0 (got -1)"],
    },
    {
      name: "not a number",
      spec: "linear:a=4,b=fast",
      messages: ['b: must be a number >= 0 (got "fast")'],
    },
    { name: "both zero", spec: "linear:a=0,b=0", messages: ["b: a + b must be > 0"] },
    {
      name: "bad max batch",
      spec: "linear:a=4,b=1,maxBatch=0",
      messages: ["maxBatch: must be a whole number >= 1"],
    },
    { name: "given twice", spec: "linear:a=4,a=5", messages: ["a: given twice"] },
    { name: "no value", spec: "linear:a", messages: ['expected key=value, got "a"'] },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name}: ${c.spec}`, () => {
      const e = inputError(() => parseProfile(c.spec, "--profile"));
      expect(e.message).to.include(`invalid profile ${JSON.stringify(c.spec)}`);
      for (const m of c.messages) expect(e.message).to.include(`--profile: ${m}`);
    });
  }

  it("createLinearProfile validates, naming the values", () => {
    expect(() => createLinearProfile(-1, 2)).to.throw(RangeError, "a=-1");
    expect(() => createLinearProfile(0, 0)).to.throw(RangeError, "a + b > 0");
  });
});

describe("the default profile", () => {
  it("is the stated YOLOv8s-on-T4 assumption, and parseProfile('default') returns it", () => {
    expect(DEFAULT_PROFILE_SPEC).to.equal("linear:a=4,b=2.2");
    expectTimes(DEFAULT_PROFILE, { 1: 6.2, 8: 21.6 });
    expect(DEFAULT_PROFILE.description).to.include("assumed");
    expect(parseProfile("default", "--profile")).to.equal(DEFAULT_PROFILE);
    expectTimes(parseProfile(DEFAULT_PROFILE_SPEC, "--profile"), { 4: 12.8 });
  });
});

describe("createPiecewiseProfile", () => {
  const p = createPiecewiseProfile([
    { batch: 8, ms: 16 },
    { batch: 1, ms: 5 },
    { batch: 4, ms: 8 },
  ]);
  const cases: { name: string; batch: number; ms: number }[] = [
    { name: "a measured point", batch: 4, ms: 8 },
    { name: "between 1 and 4", batch: 2, ms: 6 },
    { name: "between 4 and 8", batch: 6, ms: 12 },
    { name: "a fractional batch", batch: 5.5, ms: 11 },
    { name: "beyond the last point: the last slope", batch: 16, ms: 32 },
    { name: "far beyond the lookup table", batch: 10_000, ms: 20_000 },
    { name: "below the first point: the first slope", batch: 0.5, ms: 4.5 },
  ];
  for (const c of cases) {
    it(`interpolates ${c.name}: computeMs(${c.batch}) = ${c.ms}`, () => {
      expect(p.computeMs(c.batch)).to.be.closeTo(c.ms, 1e-9);
    });
  }

  it("never extrapolates down faster than proportionally", () => {
    const steep = createPiecewiseProfile([
      { batch: 2, ms: 2 },
      { batch: 3, ms: 10 },
    ]);
    expect(steep.computeMs(1)).to.equal(1);
  });

  it("with one point, assumes time proportional to batch size", () => {
    expectTimes(createPiecewiseProfile([{ batch: 2, ms: 10 }]), { 1: 5, 2: 10, 8: 40 });
  });

  it("rejects no points, bad points and repeated batch sizes", () => {
    expect(() => createPiecewiseProfile([])).to.throw(RangeError, "at least one");
    expect(() => createPiecewiseProfile([{ batch: 0, ms: 1 }])).to.throw(RangeError, "batch=0");
    expect(() =>
      createPiecewiseProfile([
        { batch: 2, ms: 1 },
        { batch: 2, ms: 3 },
      ]),
    ).to.throw(RangeError, "two points for batch 2");
  });
});

const PA_HEADER =
  "Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency";

describe("perf_analyzer CSV profiles", () => {
  it("estimates server batch sizes from a saturated concurrency sweep (Little's law)", () => {
    // A model that takes 4 + 2n ms: batch 1 = 6 ms, 4 = 12 ms, 8 = 20 ms. At concurrency 8
    // the GPU is saturated with batches of 4: 333.3 inferences/s × 12 ms = 4.
    const csv = [
      PA_HEADER,
      "1,100,200,1000,50,500,5000,500,0,7000,8000,8500,9000",
      "16,400,200,1000,20000,2000,16000,2000,0,40000,41000,42000,43000",
      "8,333.3,200,1000,9000,1000,10000,1000,0,22000,23000,24000,25000",
    ].join("\n");
    const p = parsePerfAnalyzerCsv(csv, "perf.csv");
    expectTimes(p, { 1: 6, 4: 12, 8: 20, 2: 8, 6: 16, 16: 36 });
    expect(p.name).to.equal("perf_analyzer:perf.csv");
    expect(p.description).to.include("Server Compute Input + Infer + Output");
  });

  it("uses a Batch column and (ms) units when a merged sweep has them", () => {
    const csv = [
      "Batch,Concurrency,Inferences/Second,Server Compute Input (ms),Server Compute Infer (ms),Server Compute Output (ms),p99 latency (ms)",
      "1,1,150,0.5,5,0.5,7",
      "4,1,333.3,1,10,1,13",
    ].join("\n");
    expectTimes(parseProfile(csv, "merged.csv"), { 1: 6, 4: 12, 2: 8 });
  });

  it("makes compute time non-decreasing in batch size (isotonic fit of noisy rows)", () => {
    const csv = [
      "Batch,Concurrency,Inferences/Second,Server Compute Infer",
      "1,1,10,10000",
      "2,1,10,8000",
      "4,1,10,16000",
    ].join("\n");
    expectTimes(parsePerfAnalyzerCsv(csv, "noisy.csv"), { 1: 9, 2: 9, 4: 16 });
  });

  it("honours the instance count and client batch size options", () => {
    const csv = [PA_HEADER, "8,400,0,0,5000,0,10000,0,0,0,0,0,0"].join("\n");
    // 400/s × 10 ms = 4 inferences in compute: batch 4 on one instance, 2 on two.
    expect(parsePerfAnalyzerCsv(csv, "p.csv").description).to.include("batch 4: 10 ms");
    expect(parsePerfAnalyzerCsv(csv, "p.csv", { instances: 2 }).description).to.include(
      "batch 2: 10 ms",
    );
    expect(parsePerfAnalyzerCsv(csv, "p.csv", { batchSize: 8 }).description).to.include(
      "batch 8: 10 ms",
    );
  });

  const invalid: { name: string; text: string; messages: string[] }[] = [
    {
      name: "no server statistics",
      text: "Concurrency,Inferences/Second,Client Send\n1,10,5\n",
      messages: ['p.csv:1:1: no "Server Compute Infer" column'],
    },
    {
      name: "a bad throughput cell, with its line and column",
      text: `${PA_HEADER}\n1,10,1,1,1,1,1000,1,1,1,1,1,1\n2,fast,1,1,1,1,1000,1,1,1,1,1,1\n`,
      messages: [
        'p.csv:3:3: Inferences/Second: must be a number > 0 and <= 1000000000 (got "fast")',
      ],
    },
    {
      name: "a zero compute time",
      text: `${PA_HEADER}\n1,10,1,1,1,1,0,1,1,1,1,1,1\n`,
      messages: ["p.csv:2:14: Server Compute Infer: must be > 0 and <= 1000000000 (got 0)"],
    },
    // Cells are read by the one number parser: `0x10` was read as 16 (issue 7).
    {
      name: "an infinite throughput",
      text: `${PA_HEADER}\n1,Infinity,1,1,1,1,1000,1,1,1,1,1,1\n`,
      messages: [
        'p.csv:2:3: Inferences/Second: must be a number > 0 and <= 1000000000 (got "Infinity")',
      ],
    },
    {
      name: "a throughput too large for a double",
      text: `${PA_HEADER}\n1,1e309,1,1,1,1,1000,1,1,1,1,1,1\n`,
      messages: [
        "p.csv:2:3: Inferences/Second: must be a finite number > 0 and <= 1000000000 (got 1e309)",
      ],
    },
    {
      name: "a hexadecimal compute time",
      text: `${PA_HEADER}\n1,10,1,1,1,1,0x10,1,1,1,1,1,1\n`,
      messages: [
        'p.csv:2:14: Server Compute Infer: must be a number > 0 and <= 1000000000 (got "0x10")',
      ],
    },
    {
      name: "only a header",
      text: `${PA_HEADER}\n`,
      messages: ["p.csv:1:1: no measurement rows under the header"],
    },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name}`, () => {
      const e = inputError(() => parseProfile(c.text, "p.csv"));
      for (const m of c.messages) expect(e.message).to.include(m);
    });
  }
});

describe("Model Analyzer CSV profiles", () => {
  it("uses the compute columns when present", () => {
    const csv = [
      "Model,Batch,Concurrency,Model Config Path,Instance Group,Max Batch Size,Throughput (infer/sec),Server Compute Input (ms),Server Compute Infer (ms),Server Compute Output (ms)",
      "yolo,1,1,yolo_config_default,1:GPU,16,150,0.5,5,0.5",
      "yolo,1,8,yolo_config_default,1:GPU,16,333.3,1,10,1",
    ].join("\n");
    const p = parseModelAnalyzerCsv(csv, "ma.csv");
    expectTimes(p, { 1: 6, 4: 12, 2: 8 });
    expect(p.maxBatch).to.equal(16);
  });

  it("without compute columns, uses batch × busy instances / throughput at the lowest concurrency", () => {
    const csv = [
      "Model,Batch,Concurrency,Model Config Path,Instance Group,Max Batch Size,Satisfies Constraints,Throughput (infer/sec),p99 Latency (ms)",
      "m,1,4,m_config_0,2:GPU,8,Yes,900,1",
      "m,1,1,m_config_0,2:GPU,8,Yes,200,1",
      "m,4,2,m_config_0,2:GPU,8,Yes,1000,1",
    ].join("\n");
    // batch 1 at concurrency 1: 1 × 1 / 200 = 5 ms; batch 4 at concurrency 2 (both busy): 4 × 2 / 1000 = 8 ms.
    expectTimes(parseModelAnalyzerCsv(csv, "ma.csv"), { 1: 5, 4: 8, 2: 6 });
  });

  it("rejects an unknown config, listing the ones in the file", () => {
    const csv =
      "Model,Batch,Concurrency,Model Config Path,Throughput (infer/sec)\nm,1,1,m_config_0,10\nm,1,1,m_config_1,20\n";
    const e = inputError(() => parseModelAnalyzerCsv(csv, "ma.csv", { config: "m_config_7" }));
    expect(e.message).to.include('ma.csv:1:25: no rows for config "m_config_7"');
    expect(e.message).to.include('the file has "m_config_0", "m_config_1"');
  });

  it("rejects a malformed instance group", () => {
    const csv = "Batch,Concurrency,Instance Group,Throughput (infer/sec)\n1,1,GPU,10\n";
    const e = inputError(() => parseModelAnalyzerCsv(csv, "ma.csv"));
    expect(e.message).to.include(
      'ma.csv:2:5: Instance Group: expected <count>:<kind> with a count from 1 to 1000000, such as "1:GPU"',
    );
  });
});

describe("profiles from the reference CSVs", () => {
  let dir = "";
  before(function () {
    dir = requireReference(this, "triton");
  });

  it("perf_analyzer-example.csv: batch 1 at the mean of Server Compute Input + Infer + Output", () => {
    const p = parseProfile(
      readFileSync(join(dir, "perf_analyzer-example.csv"), "utf8"),
      "perf_analyzer-example.csv",
    );
    // (206+11781+19 + 209+11742+17 + 233+11731+18 + 190+11346+17) µs / 4 = 11.87725 ms; every
    // row estimates batch 1 (e.g. 84.2/s × 11.968 ms = 1.01), so time is taken as proportional.
    expectTimes(p, { 1: 11.87725, 2: 23.7545 });
    expect(p.name).to.equal("perf_analyzer:perf_analyzer-example.csv");
    expect(p.description).to.include("one batch size measured");
  });

  it("Model Analyzer golden metrics: the default config, then another by name", () => {
    const text = readFileSync(
      join(dir, "model_analyzer", "single-model__golden-metrics-model-inference.csv"),
      "utf8",
    );
    const p = parseProfile(text, "ma.csv");
    expect(p.name).to.equal("model_analyzer:add_sub/add_sub_config_default");
    expect(p.maxBatch).to.equal(8);
    // Lowest concurrency (1) per batch, one instance: 1/2508 s and 2/4876.1 s.
    expectTimes(p, { 1: 1000 / 2508, 2: 2000 / 4876.1 });

    const two = parseModelAnalyzerCsv(text, "ma.csv", { config: "add_sub_config_3" });
    expect(two.maxBatch).to.equal(2);
    // 1000/1752.1 = 0.571 ms > 2000/3988.7 = 0.501 ms: pooled to keep time non-decreasing.
    const pooled = (1000 / 1752.1 + 2000 / 3988.7) / 2;
    expectTimes(two, { 1: pooled, 2: pooled });
  });
});

describe("parseProfile", () => {
  it("rejects text that is no profile, listing what would be", () => {
    const e = inputError(() => parseProfile("a,b,c\n1,2,3\n", "x.csv"));
    expect(e.message).to.include("x.csv: not a profile: expected");
    expect(e.message).to.include('"linear:a=<ms>,b=<ms>"');
  });
});
