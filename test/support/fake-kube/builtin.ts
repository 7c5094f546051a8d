/**
 * What the API server does to a few built-in kinds on admission that a controller can
 * trip over: defaults it fills on create, values it allocates, fields it refuses to change.
 *
 * - Deployment: `spec.replicas` defaults to 1 on create (an applied Deployment without
 *   replicas starts at 1 until its autoscaler acts); `spec.selector` is immutable (422).
 * - Service: a `spec.clusterIP` (and `clusterIPs`) is allocated on create unless the type
 *   is ExternalName or it is "None"; an update that leaves it out keeps it; one that
 *   changes it is refused (422).
 */
import { isObject, type JsonObject, jsonEqual } from "./apply.js";
import type { Cause } from "./validate.js";

let nextIp = 1;

function spec(o: JsonObject | undefined): JsonObject {
  return o && isObject(o.spec) ? o.spec : {};
}

/** Applies the rules above to `obj` (in place); returns the refused fields. */
export function admitBuiltin(
  group: string,
  kind: string,
  obj: JsonObject,
  old: JsonObject | undefined,
): Cause[] {
  const causes: Cause[] = [];
  const s = spec(obj);
  if (group === "apps" && kind === "Deployment") {
    if (!old && s.replicas === undefined) obj.spec = { ...s, replicas: 1 };
    if (old && !jsonEqual(spec(old).selector, s.selector)) {
      causes.push({
        reason: "FieldValueInvalid",
        field: "spec.selector",
        message: `Invalid value: ${JSON.stringify(s.selector)}: field is immutable`,
      });
    }
  }
  if (group === "" && kind === "Service" && s.type !== "ExternalName") {
    const before = spec(old).clusterIP;
    if (s.clusterIP === undefined || s.clusterIP === "") {
      const ip = before ?? `10.96.${Math.floor(nextIp / 250) % 250}.${(nextIp++ % 250) + 1}`;
      obj.spec = { ...s, clusterIP: ip, clusterIPs: [ip] };
    } else if (before !== undefined && s.clusterIP !== before) {
      causes.push({
        reason: "FieldValueInvalid",
        field: "spec.clusterIP",
        message: `Invalid value: ${JSON.stringify(s.clusterIP)}: field is immutable`,
      });
    } else if (s.clusterIPs === undefined) {
      obj.spec = { ...s, clusterIPs: [s.clusterIP] };
    }
  }
  return causes;
}
