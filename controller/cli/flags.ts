/**
 * Command-line values that are numbers or names: parsed once, with a message that names
 * the flag, the value and what would be valid. A bad value is a bad command line (exit 2).
 */
import { closest } from "../diagnostics/suggest.js";
import { parseDuration } from "../policy/index.js";
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

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * A point in time given to `--flag` (e.g. `report cost --from-time`), in Unix seconds:
 * `now`, `now-<duration>` (`now-24h`, a week is `now-168h`), an RFC 3339
 * time with its zone (`2026-12-01T00:00:00Z`, `2026-12-01T09:00:00+09:00`) or Unix seconds.
 * A string is the message for a bad value.
 */
export function timeFlag(flag: string, text: string, nowSeconds: number): number | string {
  const s = text.trim();
  const valid =
    "valid: now, now-<duration> such as now-24h, an RFC 3339 time with its zone such as 2026-12-01T00:00:00Z, or Unix seconds";
  if (s === "now") return nowSeconds;
  if (s.startsWith("now-")) {
    try {
      return nowSeconds - parseDuration(s.slice(4));
    } catch (e) {
      return `--${flag} ${JSON.stringify(text)}: ${(e as Error).message}`;
    }
  }
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const m = RFC3339.exec(s);
  if (m) {
    const ms = Date.parse(s.replace(" ", "T"));
    // Date.parse rolls 2026-02-30 over to March: a date that does not exist is refused.
    const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (
      Number.isFinite(ms) &&
      day.getUTCDate() === Number(m[3]) &&
      Number(m[4]) < 24 &&
      Number(m[5]) < 60 &&
      Number(m[6]) < 61
    ) {
      return ms / 1000;
    }
    return `--${flag} ${JSON.stringify(text)} is not a real time; ${valid}`;
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?$/.test(s)) {
    return `--${flag} ${JSON.stringify(text)} has no zone (which one is meant?): add Z for UTC or an offset such as +02:00`;
  }
  return `--${flag} ${JSON.stringify(text)}: ${valid}`;
}

/** Unix seconds as an RFC 3339 UTC time, whole seconds. */
export function isoSeconds(t: number): string {
  return new Date(Math.round(t) * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/**
 * `--from-time` / `--to-time` (report cost, dashboard --preview): each in the forms of
 * {@link timeFlag}; `--to-time` defaults to now and `--from-time` to `defaultSeconds` before
 * it. The period must end after it starts and not in the future (a minute of clock skew
 * allowed). A string is the message for a bad value.
 */
export function timeRangeFlags(
  fromText: string | undefined,
  toText: string | undefined,
  nowSeconds: number,
  defaultSeconds: number,
): { from: number; to: number } | string {
  const to = toText === undefined ? nowSeconds : timeFlag("to-time", toText, nowSeconds);
  if (typeof to === "string") return to;
  const from =
    fromText === undefined ? to - defaultSeconds : timeFlag("from-time", fromText, nowSeconds);
  if (typeof from === "string") return from;
  if (!(from < to)) {
    return `--from-time must be before --to-time (got ${isoSeconds(from)} and ${isoSeconds(to)})`;
  }
  if (to > nowSeconds + 60) return `--to-time ${isoSeconds(to)} is in the future`;
  return { from, to };
}

/**
 * `--prometheus <url>` (report cost, dashboard --preview): an http(s) URL, as the pool's
 * `spec.monitoring.prometheusAddress` must be. Undefined when good; else the message.
 */
export function prometheusUrlProblem(url: string | undefined): string | undefined {
  if (url === undefined || /^https?:\/\/[^\s/]+[^\s]*$/.test(url)) return undefined;
  return `--prometheus must be an http(s) URL such as http://127.0.0.1:9090 (got ${JSON.stringify(url)})`;
}
