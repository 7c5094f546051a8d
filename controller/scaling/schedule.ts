import { type CronExpression, type PolicySchedule, parseCron } from "../policy/index.js";
import { formatNumber } from "./types.js";

/**
 * Cron schedules (`spec.scaling.schedules[]`): when a schedule is active, and when it next
 * starts, so the scaler can keep its minimum and pre-warm ahead of cold start.
 *
 * Cron as Vixie cron / Kubernetes CronJob read it: 5 fields "minute hour day-of-month month
 * day-of-week"; lists `a,b`, ranges `a-b`, steps `*\/n`, `a-b/n` and `a/n` (= `a-max/n`);
 * month and weekday names (JAN, MON); weekday 0 and 7 are Sunday. When both day fields are
 * restricted (neither starts with `*`) a day matches if either matches, else both must.
 * Times are wall-clock times in the schedule's IANA time zone. In a spring-forward gap a
 * start at a skipped time (02:30) runs as if the clock had not jumped (03:30); a repeated
 * time in a fall-back hour runs once, at its first occurrence.
 *
 * A schedule started at `s` is active on [s, s + duration). `now` is Unix seconds: the
 * simulator must put its clock on a real date for schedules to mean anything.
 */

/** Whether a calendar date (year, month 1-12, day) is a day the cron runs on. */
function matchesDay(cron: CronExpression, y: number, mo: number, d: number): boolean {
  if (!cron.months.has(mo)) return false;
  const dom = cron.daysOfMonth.has(d);
  const dow = cron.daysOfWeek.has(new Date(Date.UTC(y, mo - 1, d)).getUTCDay());
  if (cron.restrictsDayOfMonth && cron.restrictsDayOfWeek) return dom || dow;
  return dom && dow;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Seconds the zone's wall clock is ahead of UTC at Unix time `utc` (e.g. -14400 for EDT). */
function offsetSeconds(utc: number, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  const whole = Math.floor(utc);
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(whole * 1000)) {
    if (part.type !== "literal") p[part.type] = Number(part.value);
  }
  const local = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) / 1000;
  return local - whole;
}

/** The calendar date (y, month 1-12, day) of a wall-clock time given as seconds "as if UTC". */
function dateOf(localAsUtc: number): [number, number, number] {
  const d = new Date(localAsUtc * 1000);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

/** Offsets bracketing a date, by `zone midnight` (a bounded memo: Intl is slow). */
const dayOffsets = new Map<string, readonly [number, number]>();

/**
 * The zone's offsets at the two ends of [midnight - 14 h, midnight + 36 h] (`midnight` of
 * a date, as if UTC): zones are within UTC-12..UTC+14, so this brackets the whole local
 * date and the whole UTC date. Equal offsets mean no change in between.
 */
function offsetsAround(midnight: number, timeZone: string): readonly [number, number] {
  const key = `${timeZone} ${midnight}`;
  let offsets = dayOffsets.get(key);
  if (offsets === undefined) {
    offsets = [
      offsetSeconds(midnight - 14 * 3600, timeZone),
      offsetSeconds(midnight + 36 * 3600, timeZone),
    ];
    if (dayOffsets.size >= 4096) dayOffsets.clear();
    dayOffsets.set(key, offsets);
  }
  return offsets;
}

/** The zone's offset at Unix time `t`, from the memo when no change is near. */
function offsetAt(t: number, timeZone: string): number {
  const [before, after] = offsetsAround(Math.floor(t / 86400) * 86400, timeZone);
  return before === after ? before : offsetSeconds(t, timeZone);
}

/**
 * A converter from wall-clock (hour, minute) on one date to Unix seconds. Constant offset
 * when the zone does not change offset around that date (the common case: no Intl call per
 * candidate), else exact per time with the gap rule above.
 */
function dayClock(
  y: number,
  mo: number,
  d: number,
  timeZone: string,
): (h: number, mi: number) => number {
  const midnight = Date.UTC(y, mo - 1, d) / 1000;
  const [before, after] = offsetsAround(midnight, timeZone);
  if (before === after) return (h, mi) => midnight + h * 3600 + mi * 60 - before;
  return (h, mi) => {
    const local = midnight + h * 3600 + mi * 60;
    const first = local - offsetSeconds(local, timeZone);
    const second = local - offsetSeconds(first, timeZone);
    // A time the clock skipped maps back across the gap: keep the later reading.
    return second + offsetSeconds(second, timeZone) === local ? second : Math.max(first, second);
  };
}

/**
 * The latest start of `cron` (in `timeZone`) in (t - lookbackSeconds, t], or undefined.
 * Scans at most lookback/1 day + 2 calendar days backwards.
 */
export function previousStart(
  cron: CronExpression,
  timeZone: string,
  t: number,
  lookbackSeconds: number,
): number | undefined {
  const [y, mo, d] = dateOf(t + offsetAt(t, timeZone));
  const days = Math.ceil(lookbackSeconds / 86400) + 1;
  for (let k = 0; k <= days; k++) {
    const [yy, mm, dd] = dateOf(Date.UTC(y, mo - 1, d - k) / 1000);
    if (!matchesDay(cron, yy, mm, dd)) continue;
    const at = dayClock(yy, mm, dd, timeZone);
    let latest: number | undefined;
    for (const h of cron.hours) {
      for (const mi of cron.minutes) {
        const s = at(h, mi);
        if (s <= t && (latest === undefined || s > latest)) latest = s;
      }
    }
    if (latest !== undefined) return latest > t - lookbackSeconds ? latest : undefined;
  }
  return undefined;
}

/** The earliest start of `cron` (in `timeZone`) in (t, t + horizonSeconds], or undefined. */
export function nextStart(
  cron: CronExpression,
  timeZone: string,
  t: number,
  horizonSeconds: number,
): number | undefined {
  const [y, mo, d] = dateOf(t + offsetAt(t, timeZone));
  const days = Math.ceil(horizonSeconds / 86400) + 1;
  for (let k = 0; k <= days; k++) {
    const [yy, mm, dd] = dateOf(Date.UTC(y, mo - 1, d + k) / 1000);
    if (!matchesDay(cron, yy, mm, dd)) continue;
    const at = dayClock(yy, mm, dd, timeZone);
    let earliest: number | undefined;
    for (const h of cron.hours) {
      for (const mi of cron.minutes) {
        const s = at(h, mi);
        if (s > t && (earliest === undefined || s < earliest)) earliest = s;
      }
    }
    if (earliest !== undefined) return earliest <= t + horizonSeconds ? earliest : undefined;
  }
  return undefined;
}

/** One occurrence of a schedule: [start, end) with its minimum. */
export interface ScheduleWindow {
  readonly name: string;
  /** Unix seconds the occurrence starts. */
  readonly start: number;
  /** Unix seconds it ends (start + duration), exclusive. */
  readonly end: number;
  readonly minReplicas: number;
}

/** The occurrence of `schedule` active at `t` (start <= t < end), or undefined. */
export function activeWindow(schedule: PolicySchedule, t: number): ScheduleWindow | undefined {
  const start = previousStart(
    parseCron(schedule.cron),
    schedule.timezone,
    t,
    schedule.durationSeconds,
  );
  return start === undefined ? undefined : windowOf(schedule, start);
}

/** The next occurrence of `schedule` starting in (t, t + horizonSeconds], or undefined. */
export function upcomingWindow(
  schedule: PolicySchedule,
  t: number,
  horizonSeconds: number,
): ScheduleWindow | undefined {
  const start = nextStart(parseCron(schedule.cron), schedule.timezone, t, horizonSeconds);
  return start === undefined ? undefined : windowOf(schedule, start);
}

function windowOf(schedule: PolicySchedule, start: number): ScheduleWindow {
  return {
    name: schedule.name,
    start,
    end: start + schedule.durationSeconds,
    minReplicas: schedule.minReplicas,
  };
}

/** The minimum the schedules impose at a time, and which schedule imposes it. */
export interface ScheduleFloor {
  /** Replicas to keep at least (0 when no schedule applies). */
  readonly minReplicas: number;
  /** The schedule behind the minimum, when one applies. */
  readonly window?: ScheduleWindow;
  /** Whether that schedule has not started yet (pre-warming for it). */
  readonly upcoming: boolean;
  /** A sentence for the decision's reason, empty when no schedule applies. */
  readonly reason: string;
}

/**
 * The highest minimum among the schedules active at `t` or starting within
 * `leadSeconds` after it (pre-warming: replicas ordered then are Ready at the start). A
 * schedule with `minReplicas` 0 never applies.
 */
export function scheduleFloor(
  schedules: readonly PolicySchedule[],
  t: number,
  leadSeconds: number,
): ScheduleFloor {
  let best: ScheduleFloor = { minReplicas: 0, upcoming: false, reason: "" };
  for (const s of schedules) {
    const active = activeWindow(s, t);
    const window = active ?? (leadSeconds > 0 ? upcomingWindow(s, t, leadSeconds) : undefined);
    if (window === undefined || window.minReplicas <= best.minReplicas) continue;
    const upcoming = active === undefined;
    const reason = upcoming
      ? `schedule ${s.name} starts in ${formatNumber(window.start - t)} s (within the ${formatNumber(leadSeconds)} s new capacity takes): pre-warming to at least ${window.minReplicas}`
      : `schedule ${s.name} is active (${formatNumber(t - window.start)} s of ${formatNumber(s.durationSeconds)} s): at least ${window.minReplicas}`;
    best = { minReplicas: window.minReplicas, window, upcoming, reason };
  }
  return best;
}
