import { didYouMean } from "../diagnostics/suggest.js";

/**
 * Cron expressions of ModelPool schedules: minute hour day-of-month month day-of-week,
 * with lists, ranges, steps and month/weekday names (Vixie cron's grammar).
 */

/** A parsed 5-field cron expression. */
export interface CronExpression {
  /** The expression as written. */
  readonly source: string;
  /** Allowed values, ascending: minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-6. */
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  /** Whether the day-of-month field does not start with `*` (Vixie's DOM_STAR negated). */
  readonly restrictsDayOfMonth: boolean;
  /** Whether the day-of-week field does not start with `*`. */
  readonly restrictsDayOfWeek: boolean;
}

const FIELDS = [
  { name: "minute", min: 0, max: 59, names: [] as readonly string[] },
  { name: "hour", min: 0, max: 23, names: [] },
  { name: "day-of-month", min: 1, max: 31, names: [] },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  { name: "day-of-week", min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
] as const;

const ITEM = /^(?:\*|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:\/([0-9]+))?$/;

const parsed = new Map<string, CronExpression>();

/** A cron expression the grammar rejects; `detail` is the message without the expression. */
export class CronError extends Error {
  constructor(
    readonly expression: string,
    readonly detail: string,
  ) {
    super(`cron ${JSON.stringify(expression)}: ${detail}`);
    this.name = "CronError";
  }
}

/**
 * Parses a 5-field cron expression: the one grammar the policy loader validates and the
 * scaler's schedules run. Throws a CronError naming the bad field and value, e.g.
 * `cron "0 25 * * *": hour value 25 is out of range 0-23`.
 */
export function parseCron(expr: string): CronExpression {
  const cached = parsed.get(expr);
  if (cached !== undefined) return cached;
  function fail(msg: string): never {
    throw new CronError(expr, msg);
  }
  const texts = expr.trim().split(/\s+/);
  if (texts.length !== 5) {
    fail(
      `must have 5 fields "minute hour day-of-month month day-of-week" such as "0 8 * * 1-5", found ${texts.length}`,
    );
  }
  const sets = FIELDS.map((spec, i) => {
    const text = texts[i]!;
    const names: readonly string[] = spec.names;
    const value = (t: string): number => {
      let v: number;
      if (/^[0-9]+$/.test(t)) {
        v = Number(t);
      } else {
        const k = names.indexOf(t.toUpperCase());
        if (k < 0) {
          const allowed = names.length > 0 ? ` or one of ${names.join(", ")}` : "";
          fail(
            `${spec.name} value "${t}" must be a number${allowed}${didYouMean(t.toUpperCase(), names)}`,
          );
        }
        v = k + spec.min;
      }
      if (v < spec.min || v > spec.max) {
        fail(`${spec.name} value ${v} is out of range ${spec.min}-${spec.max}`);
      }
      return v;
    };
    const values = new Set<number>();
    for (const item of text.split(",")) {
      const m = ITEM.exec(item);
      if (m === null) fail(`${spec.name} field "${text}" is not a valid cron field`);
      const [, from, to, every] = m;
      const lo = from === undefined ? spec.min : value(from);
      const hi =
        to !== undefined ? value(to) : from === undefined || every !== undefined ? spec.max : lo;
      const step = every === undefined ? 1 : Number(every);
      if (step < 1) fail(`${spec.name} step in "${item}" must be >= 1`);
      if (lo > hi) fail(`${spec.name} range "${item}" runs backwards`);
      for (let v = lo; v <= hi; v += step) values.add(spec.name === "day-of-week" ? v % 7 : v);
    }
    return values;
  });
  const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);
  const cron: CronExpression = {
    source: expr,
    minutes: sorted(sets[0]!),
    hours: sorted(sets[1]!),
    daysOfMonth: sets[2]!,
    months: sets[3]!,
    daysOfWeek: sets[4]!,
    restrictsDayOfMonth: !texts[2]!.startsWith("*"),
    restrictsDayOfWeek: !texts[4]!.startsWith("*"),
  };
  parsed.set(expr, cron);
  return cron;
}
