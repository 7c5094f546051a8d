import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { formatProblem } from "../../controller/diagnostics/problem.js";
import { deploymentsOf } from "../../controller/kube/render/triton.js";
import { loadModelPool } from "../../controller/policy/index.js";
import { deploymentCapacity, parseOpenCostCsv } from "../../controller/report/opencost.js";
import { projectRoot } from "../support/reference.js";

/**
 * OpenCost allocation CSV → effective price per GPU-hour. Prices are written by hand as
 * summed GPUCost / summed GPU-hours of the rows of the pool's Deployments.
 */

/** OpenCost's CSV export header (csv_export.go) with the later Labels column. */
const HEADER =
  "Date,Namespace,ControllerKind,ControllerName,Pod,Container,CPUCoreUsageAverage,CPUCoreRequestAverage,RAMBytesUsageAverage,RAMBytesRequestAverage,NetworkReceiveBytes,NetworkTransferBytes,GPUs,PVBytes,CPUCost,RAMCost,NetworkCost,PVCost,GPUCost,TotalCost,Labels";

/** One export row: only the fields the report reads vary. */
function row(o: {
  date?: string;
  ns?: string;
  controller: string;
  gpus: string;
  gpuCost: string;
  extra?: string[];
}): string {
  return [
    o.date ?? "2026-01-05",
    o.ns ?? "vision",
    "deployment",
    o.controller,
    `${o.controller}-7d9f-abcde`,
    "triton",
    "1.2",
    "2",
    "4000000000",
    "8000000000",
    "1000",
    "2000",
    o.gpus,
    "0",
    "0.5",
    "0.2",
    "0",
    "0",
    o.gpuCost,
    "99",
    '"app.kubernetes.io/name:triton,tritonscale.dev/pool:yolo-detect"',
    ...(o.extra ?? []),
  ].join(",");
}

const POOLS = [{ pool: "yolo-detect", namespace: "vision" }];

describe("report/opencost: effective GPU prices from an allocation export", () => {
  const ok: {
    name: string;
    header: string;
    rows: string[];
    /** [capacity type, price per GPU-hour] by hand. */
    prices: [string, number][];
    note?: RegExp;
  }[] = [
    {
      name: "Minutes column: 24 h at 12.00 and 6 h at 3.60 on-demand, 12 h at 2.40 Spot",
      header: `${HEADER},Minutes`,
      rows: [
        row({
          controller: "yolo-detect-triton-ondemand",
          gpus: "1",
          gpuCost: "12",
          extra: ["1440"],
        }),
        row({
          controller: "yolo-detect-triton-ondemand",
          gpus: "1",
          gpuCost: "3.6",
          extra: ["360"],
        }),
        row({ controller: "yolo-detect-triton-spot", gpus: "1", gpuCost: "2.4", extra: ["720"] }),
        // Another namespace's Deployment of the same name, and another Deployment: not the pool's.
        row({
          ns: "other",
          controller: "yolo-detect-triton-ondemand",
          gpus: "1",
          gpuCost: "99",
          extra: ["60"],
        }),
        row({ controller: "grafana", gpus: "0", gpuCost: "0", extra: ["1440"] }),
      ],
      prices: [
        ["onDemand", (12 + 3.6) / (24 + 6)],
        ["spot", 2.4 / 12],
      ],
    },
    {
      name: "GPUHours column used as it is",
      header: `${HEADER},GPUHours`,
      rows: [row({ controller: "yolo-detect-triton", gpus: "2", gpuCost: "10", extra: ["20"] })],
      prices: [["onDemand", 10 / 20]],
    },
    {
      name: "neither: each row taken as a whole day (GPUs × 24 h), and the note says so",
      header: HEADER,
      rows: [row({ controller: "yolo-detect-triton", gpus: "2", gpuCost: "24" })],
      prices: [["onDemand", 24 / (2 * 24)]],
      note: /no GPUHours or Minutes column, so 1 rows are taken to have run all day/,
    },
    {
      name: "no row of the pool: no prices, and a note that the pool's are used",
      header: HEADER,
      rows: [row({ controller: "grafana", gpus: "0", gpuCost: "0" })],
      prices: [],
      note: /no row of vision\/yolo-detect-triton\*/,
    },
  ];
  for (const c of ok) {
    it(c.name, () => {
      const r = parseOpenCostCsv([c.header, ...c.rows, ""].join("\n"), "oc.csv", POOLS, "USD");
      expect(r.ok, JSON.stringify(r)).to.equal(true);
      if (!r.ok) return;
      expect(r.prices.map((p) => p.capacityType)).to.deep.equal(c.prices.map((p) => p[0]));
      c.prices.forEach(([, price], i) => {
        expect(r.prices[i]!.perGpuHour).to.be.closeTo(price, 1e-12);
        expect([r.prices[i]!.pool, r.prices[i]!.namespace]).to.deep.equal([
          "yolo-detect",
          "vision",
        ]);
      });
      if (c.note) expect(r.notes.join("\n")).to.match(c.note);
    });
  }

  const bad: { name: string; text: string; problems: string[] }[] = [
    {
      name: "a missing column names it, with the header's line",
      text: [HEADER.replace(",GPUCost", ""), "x"].join("\n"),
      problems: [
        'oc.csv:1:1: GPUCost: missing column "GPUCost": an OpenCost allocation CSV has Date, Namespace, ControllerName, GPUs, GPUCost (got Date, Namespace, ControllerKind, ControllerName, Pod, Container, CPUCoreUsageAverage, CPUCoreRequestAverage, RAMBytesUsageAverage, RAMBytesRequestAverage, NetworkReceiveBytes, NetworkTransferBytes, GPUs, PVBytes, CPUCost, RAMCost, NetworkCost, PVCost, TotalCost, Labels)',
      ],
    },
    {
      name: "a bad number and a bad date: file, line, column and the column's name",
      text: [
        HEADER,
        row({ controller: "yolo-detect-triton", gpus: "one", gpuCost: "1" }),
        row({ date: "05/01/2026", controller: "yolo-detect-triton", gpus: "1", gpuCost: "-2" }),
      ].join("\n"),
      problems: [
        `oc.csv:2:${row({ controller: "yolo-detect-triton", gpus: "one", gpuCost: "1" }).indexOf(",one,") + 2}: GPUs: must be a number >= 0 (got "one")`,
        'oc.csv:3:1: Date: must be a date YYYY-MM-DD (got "05/01/2026")',
        `oc.csv:3:${row({ date: "05/01/2026", controller: "yolo-detect-triton", gpus: "1", gpuCost: "-2" }).indexOf(",-2,") + 2}: GPUCost: must be a number >= 0 (got "-2")`,
      ],
    },
    {
      name: "an empty file",
      text: "\n\n",
      problems: [
        "oc.csv: empty: expected an OpenCost allocation CSV with columns Date, Namespace, ControllerName, GPUs, GPUCost",
      ],
    },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}`, () => {
      const r = parseOpenCostCsv(c.text, "oc.csv", POOLS, "USD");
      expect(r.ok).to.equal(false);
      if (r.ok) return;
      expect(r.problems.map(formatProblem)).to.deep.equal(c.problems);
    });
  }

  it("names Deployments as render does (kube/render/triton.ts deploymentsOf)", () => {
    for (const file of ["yolov8-pool.yaml", "yolo-fleet-spot.yaml"]) {
      const path = join(projectRoot, "examples", file);
      const policy = loadModelPool(readFileSync(path, "utf8"), path);
      const deployments = deploymentsOf(policy);
      expect(deployments.length, file).to.be.above(0);
      for (const d of deployments) {
        expect(deploymentCapacity(policy.metadata.name, d.name), d.name).to.equal(d.type);
      }
      expect(deploymentCapacity(policy.metadata.name, `${policy.metadata.name}-other`)).to.equal(
        undefined,
      );
    }
  });
});
