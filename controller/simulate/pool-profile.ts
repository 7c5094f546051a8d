import type { Problem } from "../diagnostics/problem.js";
import type { Policy, PolicyModel } from "../policy/index.js";
import {
  createLinearProfile,
  createPiecewiseProfile,
  DEFAULT_PROFILE,
  DEFAULT_PROFILE_SPEC,
  type LatencyProfile,
} from "./profile.js";

/**
 * A pool model's latency profile (`spec.models[].profile`) as the one {@link LatencyProfile}
 * type, and the one precedence every command and the control loop follow:
 *
 * 1. a profile given on the command line (`--profile`);
 * 2. else the pool model's own `profile`;
 * 3. else {@link DEFAULT_PROFILE} (`linear:a=4,b=2.2`, an assumption, not a measurement),
 *    which `validate` warns about ({@link profileWarnings}).
 */

/** Where the profile a command or the loop uses came from. */
export type ProfileOrigin = "command-line" | "pool" | "default";

/** The profile chosen for a model, and where it came from. */
export interface ChosenProfile {
  readonly profile: LatencyProfile;
  readonly origin: ProfileOrigin;
  /**
   * For output after "from": `--profile`, `the pool's spec.models[0].profile`, or
   * `the default (model m has no profile; ...)`.
   */
  readonly from: string;
}

/** Rows of a table shown in a profile's name before it is abbreviated. */
const NAMED_ROWS = 6;

/**
 * The profile a pool model declares, or undefined when it has none. The pool was
 * validated, so the profile is one of linear (a + b > 0) or a table of positive times.
 */
export function profileOfModel(model: PolicyModel): LatencyProfile | undefined {
  const p = model.profile;
  if (p === undefined) return undefined;
  const source = p.source === undefined ? "" : ` (source: ${p.source})`;
  if (p.linear !== undefined) {
    const { a, b } = p.linear;
    return createLinearProfile(a, b, {
      description: `${a} ms + ${b} ms per request, model ${model.name}'s profile${source}`,
    });
  }
  const rows = p.table ?? [];
  const shown = rows.map((r) => `${r.batch}=${r.ms}`);
  const name =
    shown.length <= NAMED_ROWS
      ? `table:${shown.join(",")}`
      : `table:${shown.slice(0, NAMED_ROWS - 1).join(",")},…,${shown.at(-1)} (${rows.length} rows)`;
  return createPiecewiseProfile(
    rows.map((r) => ({ batch: r.batch, ms: r.ms })),
    {
      name,
      maxBatch: rows.at(-1)!.batch,
      description: `${rows.map((r) => `batch ${r.batch}: ${r.ms} ms`).join(", ")}, model ${model.name}'s profile${source}`,
    },
  );
}

/**
 * The profile to use for `model` of `policy`: the command line's, else the pool's, else the
 * default (see the module comment).
 */
export function chooseProfile(
  policy: Policy,
  model: PolicyModel,
  commandLine?: LatencyProfile,
): ChosenProfile {
  if (commandLine !== undefined) {
    return { profile: commandLine, origin: "command-line", from: "--profile" };
  }
  const own = profileOfModel(model);
  const index = policy.spec.models.indexOf(model);
  if (own !== undefined) {
    return { profile: own, origin: "pool", from: `the pool's spec.models[${index}].profile` };
  }
  return {
    profile: DEFAULT_PROFILE,
    origin: "default",
    from: `the default (model ${model.name} has no profile; assumed, not measured)`,
  };
}

/**
 * A warning per model without a profile: its capacity at the SLO is estimated from the
 * default profile, an assumption. Printed by `validate` (the pool is valid: exit 0).
 */
export function profileWarnings(policy: Policy): Problem[] {
  return policy.spec.models.flatMap((m, i) =>
    m.profile !== undefined
      ? []
      : [
          policy.source.problemAt(
            `spec.models[${i}]`,
            `model "${m.name}" has no profile: its capacity per replica at the SLO is estimated from the default profile ${DEFAULT_PROFILE_SPEC} (an assumed YOLOv8s fp16 on a T4, not a measurement). Measure the model (perf_analyzer -f perf.csv) and run tritonscale tune --profile perf.csv --pool <file> --write, or set spec.models[${i}].profile (linear: { a, b } or table: [{ batch, ms }, ...])`,
          ),
        ],
  );
}

/** A pool's `spec.models[].profile` value, as `tune --write` stores it. */
export type StoredProfile =
  | { readonly linear: { readonly a: number; readonly b: number }; readonly source?: string }
  | {
      readonly table: readonly { readonly batch: number; readonly ms: number }[];
      readonly source?: string;
    };

/** Significant digits a stored table time keeps (well below a microsecond for ms values). */
const STORED_DIGITS = 6;

/**
 * What to store in `spec.models[].profile` for `profile` on a model whose largest batch is
 * `maxBatchSize`: a linear profile as is; any other as a table at its measured whole batch
 * sizes up to the largest batch (at powers of two when it has no points), plus batch 1 and
 * the largest batch when they were not measured, so the stored table computes what the
 * profile did at every measured batch the model executes and at both ends.
 */
export function storedProfileOf(
  profile: LatencyProfile,
  maxBatchSize: number,
  source?: string,
): StoredProfile {
  const src = source === undefined ? {} : { source };
  const def = profile.definition;
  if (def?.kind === "linear") return { linear: { a: def.a, b: def.b }, ...src };
  const limit = Math.max(1, maxBatchSize);
  let batches: number[];
  if (def?.kind === "points") {
    batches = def.points.map((p) => p.batch).filter((b) => Number.isInteger(b) && b <= limit);
  } else {
    batches = [];
    for (let b = 1; b <= limit; b *= 2) batches.push(b);
  }
  // Batch 1 and the largest batch bound what the model executes: keep both ends.
  batches.push(1, limit);
  const table = [...new Set(batches)]
    .sort((x, y) => x - y)
    .map((batch) => ({ batch, ms: Number(profile.computeMs(batch).toPrecision(STORED_DIGITS)) }));
  return { table, ...src };
}
