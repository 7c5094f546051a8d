import type { Problem } from "../diagnostics/problem.js";
import { createRng, type Rng } from "./rng.js";
import type { TraceModels } from "./trace-csv.js";

/**
 * Which model each request of a multi-model pool's trace is for.
 *
 * A trace is one stream of arrival times for the whole pool (arrivals.ts); a pool of
 * several models also needs each request's model. {@link createShareSplit} draws it per
 * request from the models' shares (`simulate --mix yolov8s=0.7,yolov8m=0.3`, equal shares
 * by default), seeded, so the same seed gives the same models whatever the chunking; the
 * arrivals of model i are then a thinning of the pool's stream with probability w_i (for a
 * Poisson stream, a Poisson stream of rate w_i·λ).
 */

/** Labels a pool's arrivals with the model each is for. */
export interface ModelSplit {
  /** The pool's models, in its order (labels are indices into this). */
  readonly models: readonly string[];
  /** The models' shares of the requests, Σ = 1, for sizing (capacity for the mix). */
  readonly shares: Readonly<Record<string, number>>;
  /**
   * Writes the model index of each of `times[0, n)` into `out[0, n)`, continuing the
   * sequence of earlier calls (the next n arrivals of the trace).
   */
  label(times: Float64Array, n: number, out: Uint8Array): void;
  /** Back to the first arrival: the sequence repeats exactly. */
  reset(): void;
}

/**
 * A split drawing each request's model from `shares` (by model name, positive, Σ = 1; see
 * {@link parseModelMix}), with a stream of `seed` of its own.
 */
export function createShareSplit(
  models: readonly string[],
  shares: Readonly<Record<string, number>>,
  seed: number,
): ModelSplit {
  const cumulative = new Float64Array(models.length);
  let sum = 0;
  models.forEach((m, i) => {
    sum += shares[m] ?? 0;
    cumulative[i] = sum;
  });
  const last = models.length - 1;
  const start = (): Rng => createRng(seed).fork("model-split");
  let rng = start();
  return {
    models,
    shares,
    label(_times, n, out) {
      for (let i = 0; i < n; i++) {
        const u = rng.next() * sum;
        let k = 0;
        while (k < last && u >= cumulative[k]!) k++;
        out[i] = k;
      }
    },
    reset() {
      rng = start();
    },
  };
}

/**
 * The split a trace's `model` column gives (trace-csv.ts {@link TraceModels}): each arrival's
 * own model, in delivery order (over and over, for a trace replayed in a loop), with the
 * models' shares of the whole trace for sizing. Problems for names the pool lacks:
 * {@link checkTraceModels}.
 */
export function createTraceSplit(models: readonly string[], trace: TraceModels): ModelSplit {
  const toPool = Uint8Array.from(trace.names.map((n) => Math.max(0, models.indexOf(n))));
  const counts = new Float64Array(models.length);
  for (const l of trace.labels) counts[toPool[l]!]!++;
  const total = trace.labels.length;
  const shares: Record<string, number> = {};
  models.forEach((m, i) => {
    shares[m] = total > 0 ? counts[i]! / total : 0;
  });
  const labels = trace.labels;
  let cursor = 0;
  return {
    models,
    shares,
    label(_times, n, out) {
      for (let i = 0; i < n; i++) {
        if (cursor >= labels.length) cursor = 0;
        out[i] = toPool[labels[cursor++]!]!;
      }
    },
    reset() {
      cursor = 0;
    },
  };
}

/** A problem per model a trace's `model` column names that the pool does not have. */
export function checkTraceModels(models: readonly string[], trace: TraceModels): Problem[] {
  return trace.names.flatMap((name, i) =>
    models.includes(name)
      ? []
      : [
          {
            file: trace.file,
            line: trace.firstSeen[i]!.line,
            col: trace.firstSeen[i]!.col,
            path: "model",
            message: `the pool has no model ${JSON.stringify(name)}; its models: ${models.join(", ")}`,
          },
        ],
  );
}

/** Every model alike. */
export function equalModelShares(models: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of models) out[m] = 1 / models.length;
  return out;
}

/**
 * Reads `--mix name=share,...`: every named model must be one of `models`, each share a
 * positive number; shares are normalized to add up to 1 (`yolov8s=7,yolov8m=3` is
 * `0.7,0.3`); a model left out gets no requests. Problems name the flag, the entry's column
 * in the value and what would be valid.
 */
export function parseModelMix(
  spec: string,
  models: readonly string[],
  flag = "--mix",
): { readonly shares: Record<string, number> } | { readonly problems: Problem[] } {
  const problems: Problem[] = [];
  const raw: Record<string, number> = {};
  let col = 1;
  const at = (c: number, path: string, message: string) =>
    problems.push({ file: flag, line: 1, col: c, path, message });
  for (const part of spec.split(",")) {
    const entry = part.trim();
    const c = col + (part.length - part.trimStart().length);
    col += part.length + 1;
    if (entry === "") continue;
    const eq = entry.indexOf("=");
    const name = (eq < 0 ? entry : entry.slice(0, eq)).trim();
    const path = `${flag}.${name}`;
    if (eq < 0) {
      at(c, path, `"${entry}" needs a share: name=share, e.g. ${models[0]}=0.5`);
      continue;
    }
    if (!models.includes(name)) {
      at(c, path, `the pool has no model "${name}"; its models: ${models.join(", ")}`);
      continue;
    }
    if (raw[name] !== undefined) {
      at(c, path, `model "${name}" is named twice`);
      continue;
    }
    const text = entry.slice(eq + 1).trim();
    const share = text === "" ? Number.NaN : Number(text);
    if (!(Number.isFinite(share) && share > 0)) {
      at(c + eq + 1, path, `the share must be a positive number, e.g. ${name}=0.5 (got "${text}")`);
      continue;
    }
    raw[name] = share;
  }
  if (problems.length === 0 && Object.keys(raw).length === 0) {
    at(1, flag, `names no model; e.g. ${models.map((m) => `${m}=1`).join(",")}`);
  }
  if (problems.length > 0) return { problems };
  let sum = 0;
  for (const v of Object.values(raw)) sum += v;
  const shares: Record<string, number> = {};
  for (const m of models) if (raw[m] !== undefined) shares[m] = raw[m] / sum;
  return { shares };
}
