/**
 * Command-line values that are numbers or names: parsed once, with a message that names
 * the flag, the value and what would be valid. A bad value is a bad command line (exit 2).
 */
import { closest } from "../diagnostics/suggest.js";
import { type NumberBounds, parseNumber } from "../util/number.js";

/** Parses the number given to `--flag`; a string is the message for a bad value. */
export function flagNumber(
  flag: string,
  text: string | undefined,
  fallback: number,
  bounds: NumberBounds,
): number | string {
  if (text === undefined) return fallback;
  const r = parseNumber(text, bounds);
  return r.ok ? r.value : `--${flag} ${r.message}`;
}

/**
 * Checks a `--model` name against the pool's models; returns a message naming the pool's
 * models (and the closest one) when it is not one of them.
 */
export function checkModelName(
  name: string | undefined,
  pool: {
    readonly metadata: { readonly name: string };
    readonly spec: { readonly models: readonly { readonly name: string }[] };
  },
): string | undefined {
  if (name === undefined) return undefined;
  const names = pool.spec.models.map((m) => m.name);
  if (names.includes(name)) return undefined;
  const near = closest(name, names);
  return `--model "${name}": pool ${pool.metadata.name} has no such model${near ? `; did you mean "${near}"?` : ""} (its models: ${names.join(", ")})`;
}

/**
 * `--slo-target` (simulate, tune): a share of requests in (0, 1), or undefined for the
 * pool's `spec.slo.targetAttainment`; a string is the message for a bad value.
 */
export function sloTargetFlag(text: string | undefined): number | undefined | string {
  if (text === undefined) return undefined;
  const r = flagNumber("slo-target", text, 0, { greaterThan: 0, max: 1 });
  if (typeof r === "string" || r >= 1) {
    return `--slo-target must be a share of requests > 0 and < 1, e.g. 0.995 for 99.5% (got ${JSON.stringify(text)})`;
  }
  return r;
}
