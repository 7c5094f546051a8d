/**
 * An OpenCost allocation CSV export as GPU prices: the cluster's effective price per
 * GPU-hour of each pool's Triton Deployments, by namespace, pool and capacity type, to
 * price a ledger with instead of the pool's `spec.cost`.
 *
 * OpenCost's CSV export (opencost `csv_export.go`) writes one row per allocation and day:
 * Date, Namespace, ControllerKind, ControllerName, Pod, Container, ..., GPUs, ...,
 * GPUCost, TotalCost (later versions add Labels and Label_<x>). A row belongs to a pool
 * when its ControllerName is one of the pool's Deployments, `<pool>-triton` or
 * `<pool>-triton-ondemand` (on-demand) and `<pool>-triton-spot` (Spot), as `render` names
 * them. The effective price is the rows' summed GPUCost over their summed GPU-hours.
 *
 * GPU-hours: OpenCost's `GPUs` is the allocation's average GPU count over the time it ran
 * that day, not GPU-hours, and the export has no running time. A `GPUHours` column (the
 * allocation API's `gpuHours`) is used when present, else `Minutes` × GPUs / 60; without
 * either each row is taken to have run the whole day (24 h), which makes the price too low
 * for pods that ran part of the day: the report says so in its notes.
 */
import { moreProblems, type Problem } from "../diagnostics/problem.js";
import { splitCsvLine } from "../simulate/csv.js";
import type { GpuPrice } from "./cost.js";
import type { LedgerCapacityType } from "./usage.js";

/** Columns a file must have. */
export const OPENCOST_REQUIRED_COLUMNS = [
  "Date",
  "Namespace",
  "ControllerName",
  "GPUs",
  "GPUCost",
] as const;

/** Most problems listed per file before the rest are summed up in one line. */
const MAX_PROBLEMS = 20;

/** A pool the export is read for. */
export interface OpenCostPool {
  readonly pool: string;
  /** The pool's namespace; "" matches rows of any namespace. */
  readonly namespace: string;
}

/** Effective prices, or every problem of the file. */
export type OpenCostResult =
  | { readonly ok: true; readonly prices: readonly GpuPrice[]; readonly notes: readonly string[] }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * The capacity type of a Deployment of `pool`, by its name, or undefined when the name is
 * not one of the pool's (kube/render/triton.ts `deploymentsOf` names them).
 */
export function deploymentCapacity(pool: string, name: string): LedgerCapacityType | undefined {
  const base = `${pool}-triton`;
  if (name === base || name === `${base}-ondemand`) return "onDemand";
  if (name === `${base}-spot`) return "spot";
  return undefined;
}

/**
 * Reads an OpenCost allocation CSV (text) and returns the effective GPU price of each of
 * `pools`' capacity types that has rows, in `currency` (OpenCost's CSV carries none).
 */
export function parseOpenCostCsv(
  text: string,
  file: string,
  pools: readonly OpenCostPool[],
  currency: string,
): OpenCostResult {
  const problems: Problem[] = [];
  let more = 0;
  const bad = (line: number, col: number, path: string, message: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ file, line, col, path, message });
    else more++;
  };
  const lines = text.split(/\r?\n/);
  let headerAt = lines.findIndex((l) => l.trim() !== "");
  if (headerAt < 0) {
    return {
      ok: false,
      problems: [
        {
          file,
          line: 0,
          col: 0,
          path: "",
          message: `empty: expected an OpenCost allocation CSV with columns ${OPENCOST_REQUIRED_COLUMNS.join(", ")}`,
        },
      ],
    };
  }
  const header = splitCsvLine(lines[headerAt]!.replace(/^\uFEFF/, ""));
  const names = header.fields.map((h) => h.trim());
  const index = (name: string) => names.indexOf(name);
  const missing = OPENCOST_REQUIRED_COLUMNS.filter((c) => index(c) < 0);
  if (missing.length > 0) {
    return {
      ok: false,
      problems: missing.map((c) => ({
        file,
        line: headerAt + 1,
        col: 1,
        path: c,
        message: `missing column "${c}": an OpenCost allocation CSV has ${OPENCOST_REQUIRED_COLUMNS.join(", ")} (got ${names.join(", ")})`,
      })),
    };
  }
  const col = {
    date: index("Date"),
    namespace: index("Namespace"),
    controller: index("ControllerName"),
    gpus: index("GPUs"),
    gpuCost: index("GPUCost"),
    gpuHours: index("GPUHours"),
    minutes: index("Minutes"),
  };
  const sums = new Map<
    string,
    { key: OpenCostPool & { type: LedgerCapacityType }; cost: number; hours: number; rows: number }
  >();
  let matched = 0;
  let assumedDays = 0;
  headerAt++;
  for (let i = headerAt; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    const { fields, cols } = splitCsvLine(line);
    const lineNo = i + 1;
    const field = (c: number) => (fields[c] ?? "").trim();
    const where = (c: number) => cols[c] ?? cols[cols.length - 1] ?? 1;
    const number = (c: number, name: string): number | undefined => {
      if (c < 0) return undefined;
      const s = field(c);
      const x = s === "" ? Number.NaN : Number(s);
      if (!(Number.isFinite(x) && x >= 0)) {
        bad(
          lineNo,
          where(c),
          name,
          fields[c] === undefined
            ? `missing: the line has ${fields.length} fields, the header ${names.length}`
            : `must be a number >= 0 (got ${JSON.stringify(s)})`,
        );
        return undefined;
      }
      return x;
    };
    const date = field(col.date);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) {
      bad(
        lineNo,
        where(col.date),
        "Date",
        `must be a date YYYY-MM-DD (got ${JSON.stringify(date)})`,
      );
    }
    const gpus = number(col.gpus, "GPUs");
    const cost = number(col.gpuCost, "GPUCost");
    const gpuHoursCol = number(col.gpuHours, "GPUHours");
    const minutes = number(col.minutes, "Minutes");
    const namespace = field(col.namespace);
    const controller = field(col.controller);
    const pool = pools.find(
      (p) =>
        (p.namespace === "" || p.namespace === namespace) &&
        deploymentCapacity(p.pool, controller) !== undefined,
    );
    if (!pool || gpus === undefined || cost === undefined) continue;
    const type = deploymentCapacity(pool.pool, controller)!;
    let hours: number;
    if (gpuHoursCol !== undefined) hours = gpuHoursCol;
    else if (minutes !== undefined) hours = (gpus * minutes) / 60;
    else {
      hours = gpus * 24;
      if (gpus > 0) assumedDays++;
    }
    if (hours === 0 && cost === 0) continue;
    const k = JSON.stringify([namespace, pool.pool, type]);
    let s = sums.get(k);
    if (!s) {
      s = { key: { pool: pool.pool, namespace, type }, cost: 0, hours: 0, rows: 0 };
      sums.set(k, s);
    }
    s.cost += cost;
    s.hours += hours;
    s.rows++;
    matched++;
  }
  if (more > 0) problems.push(moreProblems(file, more));
  if (problems.length > 0) return { ok: false, problems };
  const prices: GpuPrice[] = [];
  const notes: string[] = [];
  for (const s of sums.values()) {
    if (s.hours <= 0) {
      notes.push(
        `OpenCost ${file}: ${s.key.namespace}/${s.key.pool} ${s.key.type} has GPU cost but no GPU-hours: not used`,
      );
      continue;
    }
    prices.push({
      pool: s.key.pool,
      namespace: s.key.namespace,
      gpuType: "",
      capacityType: s.key.type,
      perGpuHour: s.cost / s.hours,
      currency,
      source: `OpenCost ${file} for ${s.key.namespace}/${s.key.pool} ${s.key.type} (${s.rows} rows, ${round(s.hours)} GPU-hours, ${round(s.cost / s.hours)} per GPU-hour)`,
    });
  }
  if (matched === 0) {
    notes.push(
      `OpenCost ${file}: no row of ${pools.map((p) => `${p.namespace ? `${p.namespace}/` : ""}${p.pool}-triton*`).join(", ")}: the pool's prices are used`,
    );
  }
  if (assumedDays > 0) {
    notes.push(
      `OpenCost ${file}: no GPUHours or Minutes column, so ${assumedDays} rows are taken to have run all day (GPUs × 24 h); pods that ran less make the effective price too low`,
    );
  }
  return { ok: true, prices, notes };
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
