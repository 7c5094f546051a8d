/**
 * Lint rules for the dynamic batcher's priority levels and queue policies, and their
 * interplay with `preserve_ordering`.
 *
 * Each rule is registered by name in `registry.ts`; see `rule.ts` for what a rule sees.
 */
import type { ModelQueuePolicy } from "../model-config.js";
import { forModel } from "./common.js";
import type { Finding, LintContext } from "./rule.js";

/** core ValidateModelConfig: "default priority level must be in range [1, N] for X". */
export function* defaultPriorityLevel(ctx: LintContext): Generator<Finding> {
  const db = ctx.config.dynamic_batching;
  const levels = db?.priority_levels ?? 0n;
  if (db === undefined || levels === 0n) return;
  const level = db.default_priority_level ?? 0n;
  if (level !== 0n && level <= levels) return;
  yield {
    path: "dynamic_batching.default_priority_level",
    message: `default priority level must be in range [1, ${levels}]${forModel(ctx)} (got ${level}${db.default_priority_level === undefined ? ", not set" : ""}); with priority_levels: ${levels}, set default_priority_level to a level from 1 (highest) to ${levels}`,
  };
}

/** core ValidateModelConfig: "priority queue policy must have priority level in range [1, N] for X". */
export function* priorityQueuePolicyLevel(ctx: LintContext): Generator<Finding> {
  const db = ctx.config.dynamic_batching;
  const levels = db?.priority_levels ?? 0n;
  if (db === undefined || levels === 0n) return;
  for (const key of Object.keys(db.priority_queue_policy ?? {})) {
    const level = BigInt(key);
    if (level !== 0n && level <= levels) continue;
    yield {
      path: `dynamic_batching.priority_queue_policy[${key}]`,
      message: `priority queue policy must have priority level in range [1, ${levels}]${forModel(ctx)} (got key ${key}); key each policy by a level from 1 to priority_levels (${levels})`,
    };
  }
}

/**
 * Not a Triton load error: `default_priority_level` and `priority_queue_policy` are
 * ignored while `priority_levels` is 0 (priorities disabled).
 */
export function* priorityLevelsUnset(ctx: LintContext): Generator<Finding> {
  const db = ctx.config.dynamic_batching;
  if (db === undefined || (db.priority_levels ?? 0n) !== 0n) return;
  const ignored = [
    ...((db.default_priority_level ?? 0n) !== 0n ? ["default_priority_level"] : []),
    ...(Object.keys(db.priority_queue_policy ?? {}).length > 0 ? ["priority_queue_policy"] : []),
  ];
  if (ignored.length === 0) return;
  yield {
    path: `dynamic_batching.${ignored[0]}`,
    message: `${ignored.join(" and ")} ${ignored.length > 1 ? "are" : "is"} ignored because priority_levels is 0 (priorities disabled); set priority_levels to the number of levels, or remove ${ignored.length > 1 ? "them" : "it"}`,
  };
}

/** core ValidateModelConfig: "Only one priority level is allowed when 'preserve_ordering' is true for X". */
export function* preserveOrderingPriority(ctx: LintContext): Generator<Finding> {
  const db = ctx.config.dynamic_batching;
  if (!db?.preserve_ordering || (db.priority_levels ?? 0n) <= 1n) return;
  yield {
    path: "dynamic_batching.priority_levels",
    message: `Only one priority level is allowed when 'preserve_ordering' is true${forModel(ctx)} (got priority_levels: ${db.priority_levels}); set priority_levels to 0 or 1, or turn preserve_ordering off`,
  };
}

function queuePolicies(ctx: LintContext): [string, ModelQueuePolicy][] {
  const db = ctx.config.dynamic_batching;
  if (db === undefined) return [];
  return [
    ...(db.default_queue_policy
      ? [
          ["dynamic_batching.default_queue_policy", db.default_queue_policy] as [
            string,
            ModelQueuePolicy,
          ],
        ]
      : []),
    ...Object.entries(db.priority_queue_policy ?? {}).map(
      ([key, p]) =>
        [`dynamic_batching.priority_queue_policy[${key}]`, p] as [string, ModelQueuePolicy],
    ),
  ];
}

/**
 * core ValidateModelConfig: "Queue policy can not have DELAY as timeout action when
 * 'preserve_ordering' is true for X" (a DELAY policy with a non-zero default timeout).
 */
export function* preserveOrderingDelay(ctx: LintContext): Generator<Finding> {
  if (!ctx.config.dynamic_batching?.preserve_ordering) return;
  for (const [path, p] of queuePolicies(ctx)) {
    const timeout = p.default_timeout_microseconds ?? 0n;
    if (p.timeout_action !== "DELAY" || timeout === 0n) continue;
    yield {
      path: `${path}.timeout_action`,
      message: `Queue policy can not have DELAY as timeout action when 'preserve_ordering' is true${forModel(ctx)} (got timeout_action: DELAY with default_timeout_microseconds: ${timeout}); use timeout_action: REJECT, or turn preserve_ordering off`,
    };
  }
}

/**
 * Not a Triton load error: a DELAY timeout action never applies when requests cannot time
 * out (no default timeout and no per-request override).
 */
export function* queuePolicyTimeout(ctx: LintContext): Generator<Finding> {
  for (const [path, p] of queuePolicies(ctx)) {
    if (p.timeout_action !== "DELAY" || (p.default_timeout_microseconds ?? 0n) !== 0n) continue;
    if (p.allow_timeout_override) continue;
    yield {
      path: `${path}.timeout_action`,
      message:
        "timeout_action DELAY never applies: default_timeout_microseconds is 0 (no timeout) and allow_timeout_override is false; set a default_timeout_microseconds, allow the override, or drop timeout_action",
    };
  }
}
