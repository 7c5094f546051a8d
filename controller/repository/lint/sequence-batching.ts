/**
 * Lint rules for sequence batching: control tensors, and the direct strategy's slot
 * utilization.
 *
 * Each rule is registered by name in `registry.ts`; see `rule.ts` for what a rule sees.
 */
import type { DataType, ModelSequenceBatching_Control_Kind } from "../model-config.js";
import { forModel } from "./common.js";
import type { Finding, LintContext } from "./rule.js";

const BOOLEAN_CONTROLS: readonly ModelSequenceBatching_Control_Kind[] = [
  "CONTROL_SEQUENCE_START",
  "CONTROL_SEQUENCE_END",
  "CONTROL_SEQUENCE_READY",
];
const CORRID_TYPES: readonly DataType[] = [
  "TYPE_UINT64",
  "TYPE_INT64",
  "TYPE_UINT32",
  "TYPE_INT32",
  "TYPE_STRING",
];

/**
 * core GetBooleanSequenceControlProperties / GetTypedSequenceControlProperties: each
 * control tensor has a name used for one control kind; each kind appears at most once;
 * START/END/READY give exactly one of int32/fp32/bool `_false_true` with 2 entries; CORRID
 * gives none of those and a data type of TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 or TYPE_STRING.
 */
export function* sequenceBatchingControl(ctx: LintContext): Generator<Finding> {
  const inputs = ctx.config.sequence_batching?.control_input ?? [];
  const tensorsSeen = new Set<string>();
  const kindSeen = new Map<string, string>();
  for (const [i, ci] of inputs.entries()) {
    const base = `sequence_batching.control_input[${i}]`;
    const name = ci.name ?? "";
    if (name === "") {
      yield {
        path: `${base}.name`,
        message: `sequence batching control tensor must have a name${forModel(ctx)}`,
      };
    } else if (tensorsSeen.has(name)) {
      yield {
        path: `${base}.name`,
        message: `sequence batching control tensor '${name}' is specified for multiple control kinds${forModel(ctx)}; put all of a tensor's controls in one control_input`,
      };
    }
    tensorsSeen.add(name);
    for (const [j, ctl] of (ci.control ?? []).entries()) {
      const path = `${base}.control[${j}]`;
      const kind = ctl.kind ?? "CONTROL_SEQUENCE_START";
      const first = kindSeen.get(kind);
      if (first !== undefined) {
        yield {
          path,
          message: `sequence batching specifies multiple ${kind} tensors${forModel(ctx)} (first at ${first})`,
        };
        continue;
      }
      kindSeen.set(kind, path);
      const given = [
        ["int32_false_true", ctl.int32_false_true ?? []],
        ["fp32_false_true", ctl.fp32_false_true ?? []],
        ["bool_false_true", ctl.bool_false_true ?? []],
      ].filter(([, v]) => (v as readonly unknown[]).length > 0) as [string, readonly unknown[]][];
      if (kind === "CONTROL_SEQUENCE_CORRID") {
        if (given.length > 0) {
          yield {
            path,
            message: `sequence batching must not specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for ${kind}${forModel(ctx)} (got ${given.map(([f]) => f).join(", ")}); give data_type instead`,
          };
        } else if (!CORRID_TYPES.includes(ctl.data_type ?? "TYPE_INVALID")) {
          yield {
            path: `${path}.data_type`,
            message: `unexpected data type for control ${kind}${forModel(ctx)} (got ${ctl.data_type ?? "none"}). Allowed data types are TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 and TYPE_STRING`,
          };
        }
        continue;
      }
      if (!BOOLEAN_CONTROLS.includes(kind)) continue;
      const only = given[0];
      if (only === undefined) {
        yield {
          path,
          message: `sequence batching must specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for ${kind}${forModel(ctx)}`,
        };
      } else if (given.length > 1) {
        yield {
          path,
          message: `sequence batching specifies more than one from 'int32_false_true', 'fp32_false_true' and 'bool_false_true' for ${kind}${forModel(ctx)} (got ${given.map(([f]) => f).join(", ")})`,
        };
      } else if (only[1].length !== 2) {
        yield {
          path: `${path}.${only[0]}`,
          message: `sequence batching control '${only[0]}' must have exactly 2 entries for ${kind}${forModel(ctx)} (got ${only[1].length}); give the false value then the true value, e.g. [ 0, 1 ]`,
        };
      }
    }
  }
}

/** core ValidateModelConfig: "sequence batching minimum slot utilization must be in range (0.0, 1.0]". */
export function* sequenceBatchingSlotUtilization(ctx: LintContext): Generator<Finding> {
  const u = ctx.config.sequence_batching?.direct?.minimum_slot_utilization;
  if (u === undefined || (u >= 0 && u <= 1)) return;
  yield {
    path: "sequence_batching.direct.minimum_slot_utilization",
    message: `sequence batching minimum slot utilization must be in range (0.0, 1.0]${forModel(ctx)} (got ${u})`,
  };
}
