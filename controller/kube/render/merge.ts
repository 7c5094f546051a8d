import type { IToleration } from "kubernetes-models/v1";

/**
 * Merging what the user adds (`spec.triton.args`, `spec.capacity.tolerations`) into what
 * tritonscale generates: by key, the user wins, nothing appears twice.
 */

/** A command-line flag's name: `--exit-timeout-secs=30` → `--exit-timeout-secs`. */
function flagName(arg: string): string {
  const eq = arg.indexOf("=");
  return eq < 0 ? arg : arg.slice(0, eq);
}

/**
 * The generated args, less every flag the user also sets, then the user's args in their
 * order with exact repeats dropped. A flag the user sets replaces the generated one
 * whatever its value; a flag the user gives several times (Triton's repeatable
 * `--backend-config`, `--load-model`, ...) keeps every distinct occurrence.
 *
 * @example
 * mergeArgs(["tritonserver", "--exit-timeout-secs=30"], ["--exit-timeout-secs=5", "--log-verbose=1"])
 * // ["tritonserver", "--exit-timeout-secs=5", "--log-verbose=1"]
 */
export function mergeArgs(generated: readonly string[], user: readonly string[]): string[] {
  const userFlags = new Set(user.map(flagName));
  const out = generated.filter((a) => !userFlags.has(flagName(a)));
  const seen = new Set<string>();
  for (const a of user) {
    if (seen.has(a)) continue;
    seen.add(a);
    out.push(a);
  }
  return out;
}

/**
 * What makes two tolerations the same toleration: key, operator (Kubernetes reads an
 * empty operator as Equal), effect (empty: every effect) and, for Equal, the value — two
 * Equal tolerations of one key with different values tolerate different taints, so both
 * stay. tolerationSeconds is not part of it: it is what the user may override.
 */
function tolerationKey(t: IToleration): string {
  const operator = t.operator ?? "Equal";
  const value = operator === "Equal" ? (t.value ?? "") : "";
  return JSON.stringify([t.key ?? "", operator, t.effect ?? "", value]);
}

/**
 * The generated tolerations with the user's merged in by {@link tolerationKey}: a user
 * toleration with the key of a generated one replaces it in place (the user wins), the
 * others follow in the user's order; of several user tolerations with one key the last
 * wins.
 */
export function mergeTolerations(
  generated: readonly IToleration[],
  user: readonly IToleration[],
): IToleration[] {
  const byKey = new Map<string, IToleration>();
  for (const t of generated) byKey.set(tolerationKey(t), t);
  for (const t of user) byKey.set(tolerationKey(t), { ...t });
  return [...byKey.values()];
}
