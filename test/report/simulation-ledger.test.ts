import { expect } from "chai";
import { InputError } from "../../controller/diagnostics/problem.js";
import {
  ledgerFromSimulation,
  parseSavedSimulation,
  type SavedSimulation,
  type SimulationDayJson,
} from "../../controller/report/simulation-ledger.js";

/** A saved simulate --json read back, and its rows as ledgers (figures by hand). */

const T0 = Date.UTC(2026, 0, 5) / 1000;

const POOL = {
  name: "yolo",
  namespace: "vision",
  model: "yolov8s",
  gpu_type: "nvidia-tesla-t4",
  gpus_per_replica: 1,
  currency: "USD",
  on_demand_per_gpu_hour: 0.5,
  spot_per_gpu_hour: 0.2,
  start_epoch: T0,
};

function day(o: Partial<SimulationDayJson>): SimulationDayJson {
  return {
    start: T0,
    seconds: 86_400,
    spot_gpu_hours: 0,
    on_demand_gpu_hours: 0,
    spot_busy_gpu_hours: 0,
    on_demand_busy_gpu_hours: 0,
    requests: 0,
    requests_within_slo: 0,
    ...o,
  };
}

function saved(days: SimulationDayJson[]): SavedSimulation {
  return {
    file: "sim.json",
    pool: POOL,
    rows: [
      {
        name: "tritonscale",
        usage: { bucket_seconds: 86_400, from: T0, to: T0 + 86_400, days, scale_events: [] },
      },
    ],
  };
}

describe("report/simulation-ledger: a simulation row as a ledger", () => {
  const rows: {
    name: string;
    day: SimulationDayJson;
    /** [capacity type, GPU-hours, requests, within SLO] by hand. */
    want: [string, number, number, number][];
  }[] = [
    {
      name: "requests split by busy GPU-hours: 3 busy on Spot, 1 on on-demand → 3/4 and 1/4",
      day: day({
        spot_gpu_hours: 5,
        on_demand_gpu_hours: 2,
        spot_busy_gpu_hours: 3,
        on_demand_busy_gpu_hours: 1,
        requests: 1000,
        requests_within_slo: 800,
      }),
      want: [
        ["spot", 5, 750, 600],
        ["onDemand", 2, 250, 200],
      ],
    },
    {
      name: "no busy time: split by GPU-hours (1 and 3 → 1/4 and 3/4)",
      day: day({ spot_gpu_hours: 1, on_demand_gpu_hours: 3, requests: 400 }),
      want: [
        ["spot", 1, 100, 0],
        ["onDemand", 3, 300, 0],
      ],
    },
    {
      name: "no GPU-hours at all (every request failed): the requests go to on-demand",
      day: day({ requests: 50 }),
      want: [["onDemand", 0, 50, 0]],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const l = ledgerFromSimulation(saved([row.day]), "tritonscale");
      expect(
        l.buckets.map((b) => [b.capacityType, b.gpuHours, b.requests, b.requestsWithinSlo]),
      ).to.deep.equal(row.want);
      expect(l.buckets.every((b) => b.pool === "yolo" && b.model === "yolov8s")).to.equal(true);
    });
  }

  it("a row the simulation does not have is an error naming its rows", () => {
    expect(() => ledgerFromSimulation(saved([]), "hpa-gpu")).to.throw(
      'sim.json has no row "hpa-gpu"; rows: tritonscale',
    );
  });
});

describe("report/simulation-ledger: reading a saved simulate --json", () => {
  const good = JSON.stringify({ ...saved([day({ on_demand_gpu_hours: 1 })]), file: undefined });

  it("reads what simulate --json writes", () => {
    const s = parseSavedSimulation(good, "sim.json");
    expect(s.pool).to.deep.equal(POOL);
    expect(s.rows.map((r) => r.usage.days.length)).to.deep.equal([1]);
  });

  const bad: { name: string; text: string; problems: string[] }[] = [
    {
      name: "every bad field, with its path",
      text: good
        .replace('"currency":"USD"', '"currency":3')
        .replace('"requests":0', '"requests":"many"')
        .replace('"scale_events":[]', '"scale_events":{}'),
      problems: [
        "sim.json: pool.currency: must be a string (got 3)",
        'sim.json: rows[0].usage.days[0].requests: must be a number >= 0 (got "many")',
        "sim.json: rows[0].usage.scale_events: must be a list (got {})",
      ],
    },
    {
      name: "a simulate --json from before cost reports (no pool)",
      text: '{"rows": [{"name": "tritonscale", "requests": 3}]}',
      problems: [
        "sim.json: pool: missing: this simulate --json was written by a tritonscale without cost reports; run `tritonscale simulate --json` again",
      ],
    },
    {
      name: "not JSON, with the line and column",
      text: '{\n  "rows": [\n    }',
      problems: [
        "sim.json:3:5: not JSON (Unexpected token '}'): expected the output of `tritonscale simulate --json`",
      ],
    },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}`, () => {
      let problems: string[] = [];
      try {
        parseSavedSimulation(c.text, "sim.json");
      } catch (e) {
        expect(e).to.be.instanceOf(InputError);
        problems = (e as InputError).problems.map(
          (p) =>
            `${p.file}${p.line > 0 ? `:${p.line}:${p.col}` : ""}: ${p.path ? `${p.path}: ` : ""}${p.message}`,
        );
      }
      expect(problems).to.deep.equal(c.problems);
    });
  }
});
