import { expect } from "chai";
import { formatProblem } from "../../controller/diagnostics/problem.js";
import { loadModelPool, parseModelPool } from "../../controller/policy/index.js";
import { pool } from "../support/pool-text.js";

/** `spec.models[].profile`: what is valid, and problems with line and column. */

function problemsOf(yaml: string): string[] {
  return parseModelPool(yaml, "pool.yaml").problems.map((p) =>
    formatProblem(p).replace(/^pool\.yaml:/, ""),
  );
}

describe("spec.models[].profile: valid profiles", () => {
  const rows: { name: string; lines: string[]; profile: unknown }[] = [
    {
      name: "linear a, b",
      lines: ["      profile: { linear: { a: 4, b: 2.2 } }"],
      profile: { linear: { a: 4, b: 2.2 } },
    },
    {
      name: "linear with b = 0 (a constant time)",
      lines: ["      profile: { linear: { a: 12, b: 0 } }"],
      profile: { linear: { a: 12, b: 0 } },
    },
    {
      name: "a table with a source, batches within maxBatchSize",
      lines: [
        "      maxBatchSize: 8",
        "      profile:",
        "        source: perf_analyzer:perf.csv",
        "        table:",
        "          - { batch: 1, ms: 6.3 }",
        "          - { batch: 4, ms: 10 }",
        "          - { batch: 8, ms: 14.3 }",
      ],
      profile: {
        source: "perf_analyzer:perf.csv",
        table: [
          { batch: 1, ms: 6.3 },
          { batch: 4, ms: 10 },
          { batch: 8, ms: 14.3 },
        ],
      },
    },
    {
      name: "a one-row table of batch 1 for a model without batching (maxBatchSize 0)",
      lines: ["      maxBatchSize: 0", "      profile: { table: [{ batch: 1, ms: 7 }] }"],
      profile: { table: [{ batch: 1, ms: 7 }] },
    },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const p = loadModelPool(pool({}, ...r.lines), "pool.yaml");
      expect(p.spec.models[0]!.profile).to.deep.equal(r.profile);
    });
  }

  it("is absent when not written (no default is filled in)", () => {
    const p = loadModelPool(pool({}), "pool.yaml");
    expect(p.spec.models[0]!.profile).to.equal(undefined);
  });
});

describe("spec.models[].profile: problems with line and column", () => {
  const rows: { name: string; lines: string[]; expected: string[] }[] = [
    {
      name: "both linear and table",
      lines: [
        "      profile:",
        "        linear: { a: 4, b: 2 }",
        "        table: [{ batch: 1, ms: 6 }]",
      ],
      expected: [
        "13:9: spec.models[0].profile.table: give either linear or table (line 12), not both: a profile is one of them",
      ],
    },
    {
      name: "neither linear nor table",
      lines: ["      profile: { source: perf.csv }"],
      expected: [
        "11:7: spec.models[0].profile: needs linear: { a: <ms>, b: <ms> } (a batch of n computes in a + b·n ms) or table: [{ batch: <n>, ms: <ms> }, ...] (measured; tritonscale tune --write fills it)",
      ],
    },
    {
      name: "linear missing b",
      lines: ["      profile: { linear: { a: 4 } }"],
      expected: [
        "11:26: spec.models[0].profile.linear.b: missing required field (a number between 0 and 600000)",
      ],
    },
    {
      name: "linear a = b = 0",
      lines: ["      profile: { linear: { a: 0, b: 0 } }"],
      expected: [
        "11:37: spec.models[0].profile.linear.b: a + b must be > 0: a batch cannot take no time (got a = 0, b = 0)",
      ],
    },
    {
      name: "linear with a negative a",
      lines: ["      profile: { linear: { a: -1, b: 2 } }"],
      expected: ["11:31: spec.models[0].profile.linear.a: must be between 0 and 600000 (got -1)"],
    },
    {
      name: "linear with an unknown key, with a suggestion",
      lines: ["      profile: { linear: { a: 4, bb: 2 } }"],
      expected: [
        "11:26: spec.models[0].profile.linear.b: missing required field (a number between 0 and 600000)",
        '11:34: spec.models[0].profile.linear.bb: unknown field; did you mean "b"?',
      ],
    },
    {
      name: "a table time of 0",
      lines: ["      profile: { table: [{ batch: 1, ms: 0 }] }"],
      expected: ["11:42: spec.models[0].profile.table[0].ms: must be > 0 and <= 600000 (got 0)"],
    },
    {
      name: "a table time of .inf",
      lines: ["      profile: { table: [{ batch: 1, ms: .inf }] }"],
      expected: [
        "11:42: spec.models[0].profile.table[0].ms: must be a finite number, > 0 and <= 600000 (got .inf)",
      ],
    },
    {
      name: "a table time of .nan",
      lines: ["      profile: { table: [{ batch: 1, ms: .nan }] }"],
      expected: [
        "11:42: spec.models[0].profile.table[0].ms: must be a finite number, > 0 and <= 600000 (got .nan)",
      ],
    },
    {
      name: "a table batch that is not a whole number",
      lines: ["      profile: { table: [{ batch: 1.5, ms: 3 }] }"],
      expected: [
        "11:35: spec.models[0].profile.table[0].batch: must be an integer between 1 and 1024 (got 1.5)",
      ],
    },
    {
      name: "table batch sizes not strictly increasing",
      lines: [
        "      profile:",
        "        table:",
        "          - { batch: 4, ms: 10 }",
        "          - { batch: 2, ms: 8 }",
        "          - { batch: 2, ms: 9 }",
      ],
      expected: [
        "14:22: spec.models[0].profile.table[1].batch: must be greater than the batch before it (4): table batch sizes are strictly increasing (got 2)",
        "15:22: spec.models[0].profile.table[2].batch: must be greater than the batch before it (2): table batch sizes are strictly increasing (got 2)",
      ],
    },
    {
      name: "a table batch above maxBatchSize",
      lines: [
        "      maxBatchSize: 4",
        "      profile: { table: [{ batch: 1, ms: 6 }, { batch: 8, ms: 14 }] }",
      ],
      expected: [
        "12:56: spec.models[0].profile.table[1].batch: must be <= maxBatchSize (4), the largest batch the model executes (got 8)",
      ],
    },
    {
      name: "a table batch above the default maxBatchSize",
      lines: ["      profile: { table: [{ batch: 16, ms: 30 }] }"],
      expected: [
        "11:35: spec.models[0].profile.table[0].batch: must be <= maxBatchSize (8, the default), the largest batch the model executes (got 16)",
      ],
    },
    {
      name: "a table batch above 1 for a model without batching",
      lines: ["      maxBatchSize: 0", "      profile: { table: [{ batch: 2, ms: 7 }] }"],
      expected: [
        "12:35: spec.models[0].profile.table[0].batch: must be 1: maxBatchSize (0) means batches of 1 (got 2)",
      ],
    },
    {
      name: "an empty table",
      lines: ["      profile: { table: [] }"],
      expected: ["11:25: spec.models[0].profile.table: must have at least 1 entry (got 0)"],
    },
    {
      name: "a source of two lines",
      lines: ['      profile: { linear: { a: 1, b: 1 }, source: "a\\nb" }'],
      expected: [
        '11:50: spec.models[0].profile.source: must be one line of text such as "perf_analyzer:perf.csv" (got "a\\nb")',
      ],
    },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const got = problemsOf(pool({}, ...r.lines));
      expect(got).to.deep.equal(r.expected);
    });
  }
});
