import { expect } from "chai";
import { parseCron } from "../../controller/policy/index.js";
import {
  activeWindow,
  nextStart,
  previousStart,
  scheduleFloor,
  upcomingWindow,
} from "../../controller/scaling/index.js";
import { pool } from "./support.js";

/** Unix seconds of a UTC time written as ISO-8601. */
const at = (iso: string): number => Date.parse(iso) / 1000;

describe("scaling/schedule: parseCron", () => {
  const valid: {
    name: string;
    expr: string;
    field: "minutes" | "hours" | "daysOfMonth" | "months" | "daysOfWeek";
    want: number[];
  }[] = [
    {
      name: "step over all minutes",
      expr: "*/15 * * * *",
      field: "minutes",
      want: [0, 15, 30, 45],
    },
    {
      name: "range with step",
      expr: "0 8-18/2 * * 1-5",
      field: "hours",
      want: [8, 10, 12, 14, 16, 18],
    },
    {
      name: "start with step runs to the maximum",
      expr: "5/20 * * * *",
      field: "minutes",
      want: [5, 25, 45],
    },
    { name: "weekday 7 is Sunday", expr: "0 0 * * 5-7", field: "daysOfWeek", want: [0, 5, 6] },
    { name: "month names, any case", expr: "0 0 * JAN,jul *", field: "months", want: [1, 7] },
    { name: "weekday names", expr: "30 6 * * MON-FRI", field: "daysOfWeek", want: [1, 2, 3, 4, 5] },
    { name: "list of days", expr: "0 0 1,15 * *", field: "daysOfMonth", want: [1, 15] },
  ];
  for (const c of valid) {
    it(`parses: ${c.name}`, () => {
      const cron = parseCron(c.expr);
      expect([...cron[c.field]].sort((a, b) => a - b)).to.deep.equal(c.want);
    });
  }

  const invalid: { name: string; expr: string; error: string }[] = [
    {
      name: "four fields",
      expr: "* * * *",
      error:
        'cron "* * * *": must have 5 fields "minute hour day-of-month month day-of-week" such as "0 8 * * 1-5", found 4',
    },
    {
      name: "hour out of range",
      expr: "0 25 * * *",
      error: 'cron "0 25 * * *": hour value 25 is out of range 0-23',
    },
    {
      name: "unknown weekday name",
      expr: "0 0 * * FUN",
      error:
        'cron "0 0 * * FUN": day-of-week value "FUN" must be a number or one of SUN, MON, TUE, WED, THU, FRI, SAT',
    },
    {
      name: "backwards range",
      expr: "0 0 * * 5-1",
      error: 'cron "0 0 * * 5-1": day-of-week range "5-1" runs backwards',
    },
    {
      name: "zero step",
      expr: "*/0 * * * *",
      error: 'cron "*/0 * * * *": minute step in "*/0" must be >= 1',
    },
    {
      name: "empty list item",
      expr: "1,,2 * * * *",
      error: 'cron "1,,2 * * * *": minute field "1,,2" is not a valid cron field',
    },
  ];
  for (const c of invalid) {
    it(`rejects: ${c.name}`, () => {
      expect(() => parseCron(c.expr)).to.throw(c.error);
    });
  }

  it("flags which day fields are restricted (Vixie cron's * rule)", () => {
    const c = parseCron("0 0 */2 * MON");
    expect([c.restrictsDayOfMonth, c.restrictsDayOfWeek]).to.deep.equal([false, true]);
  });
});

describe("scaling/schedule: cron starts in a time zone", () => {
  const cases: {
    name: string;
    expr: string;
    tz: string;
    fn: "previous" | "next";
    t: string;
    span: number;
    want: string | undefined;
  }[] = [
    {
      name: "weekday start in New York winter time (UTC-5)",
      expr: "30 6 * * MON-FRI",
      tz: "America/New_York",
      fn: "previous",
      t: "2024-01-08T12:00:00Z",
      span: 4.5 * 3600,
      want: "2024-01-08T11:30:00Z",
    },
    {
      name: "no weekday start within the lookback on a Saturday",
      expr: "30 6 * * MON-FRI",
      tz: "America/New_York",
      fn: "previous",
      t: "2024-01-06T12:00:00Z",
      span: 4.5 * 3600,
      want: undefined,
    },
    {
      name: "summer time (UTC-4)",
      expr: "30 6 * * MON-FRI",
      tz: "America/New_York",
      fn: "next",
      t: "2024-07-08T10:00:00Z",
      span: 3600,
      want: "2024-07-08T10:30:00Z",
    },
    {
      name: "a start the spring-forward gap skipped runs as if the clock had not jumped",
      expr: "30 2 * * *",
      tz: "America/New_York",
      fn: "previous",
      t: "2024-03-10T08:00:00Z",
      span: 3600,
      want: "2024-03-10T07:30:00Z",
    },
    {
      name: "the day after the change",
      expr: "30 2 * * *",
      tz: "America/New_York",
      fn: "next",
      t: "2024-03-10T12:00:00Z",
      span: 86400,
      want: "2024-03-11T06:30:00Z",
    },
    {
      name: "a repeated fall-back time runs at its first occurrence",
      expr: "30 1 * * *",
      tz: "America/New_York",
      fn: "next",
      t: "2024-11-03T00:00:00Z",
      span: 86400,
      want: "2024-11-03T05:30:00Z",
    },
    {
      name: "east of UTC: Berlin summer time (UTC+2), start the previous local day",
      expr: "0 23 * * *",
      tz: "Europe/Berlin",
      fn: "previous",
      t: "2024-07-01T00:30:00Z",
      span: 4 * 3600,
      want: "2024-06-30T21:00:00Z",
    },
    {
      name: "both day fields restricted: the 1st OR a Monday (a Thursday 1st)",
      expr: "0 0 1 * MON",
      tz: "UTC",
      fn: "next",
      t: "2024-01-31T12:00:00Z",
      span: 86400,
      want: "2024-02-01T00:00:00Z",
    },
    {
      name: "both day fields restricted: the next Monday",
      expr: "0 0 1 * MON",
      tz: "UTC",
      fn: "next",
      t: "2024-02-01T12:00:00Z",
      span: 7 * 86400,
      want: "2024-02-05T00:00:00Z",
    },
    {
      name: "day-of-month starting with *: odd days AND Mondays (skips Monday the 12th)",
      expr: "0 0 */2 * MON",
      tz: "UTC",
      fn: "next",
      t: "2024-02-06T00:00:00Z",
      span: 30 * 86400,
      want: "2024-02-19T00:00:00Z",
    },
    {
      name: "nothing beyond the horizon",
      expr: "0 8 * * *",
      tz: "UTC",
      fn: "next",
      t: "2024-02-06T07:00:00Z",
      span: 1800,
      want: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const cron = parseCron(c.expr);
      const got =
        c.fn === "previous"
          ? previousStart(cron, c.tz, at(c.t), c.span)
          : nextStart(cron, c.tz, at(c.t), c.span);
      expect(got === undefined ? undefined : new Date(got * 1000).toISOString()).to.equal(
        c.want === undefined ? undefined : new Date(c.want).toISOString(),
      );
    });
  }
});

describe("scaling/schedule: schedule windows and the floor", () => {
  const p = pool({
    maxReplicas: 24,
    schedules: [
      {
        name: "weekday-morning",
        cron: "30 6 * * MON-FRI",
        timezone: "America/New_York",
        duration: "4h30m",
        minReplicas: 8,
      },
      {
        name: "lunch",
        cron: "0 12 * * *",
        timezone: "America/New_York",
        duration: "1h",
        minReplicas: 3,
      },
    ],
  });
  const schedules = p.spec.scaling.schedules;

  it("an occurrence is active from its start, inclusive, to its end, exclusive", () => {
    const morning = schedules[0]!;
    expect(activeWindow(morning, at("2024-01-08T11:30:00Z"))?.start).to.equal(
      at("2024-01-08T11:30:00Z"),
    );
    expect(activeWindow(morning, at("2024-01-08T15:59:59Z"))?.end).to.equal(
      at("2024-01-08T16:00:00Z"),
    );
    expect(activeWindow(morning, at("2024-01-08T16:00:00Z"))).to.equal(undefined);
    expect(upcomingWindow(morning, at("2024-01-08T11:28:00Z"), 180)?.minReplicas).to.equal(8);
  });

  const floors: { name: string; t: string; lead: number; min: number; reason: RegExp }[] = [
    {
      name: "Monday 07:00 New York: the morning schedule is active",
      t: "2024-01-08T12:00:00Z",
      lead: 90,
      min: 8,
      reason: /^schedule weekday-morning is active \(1800 s of 16200 s\): at least 8$/,
    },
    {
      name: "06:28: starts within coldStart 180 s → pre-warm",
      t: "2024-01-08T11:28:00Z",
      lead: 180,
      min: 8,
      reason: /starts in 120 s \(within the 180 s new capacity takes\): pre-warming to at least 8/,
    },
    {
      name: "06:28 with a 60 s cold start: not yet",
      t: "2024-01-08T11:28:00Z",
      lead: 60,
      min: 0,
      reason: /^$/,
    },
    {
      name: "Monday 12:30: only lunch",
      t: "2024-01-08T17:30:00Z",
      lead: 90,
      min: 3,
      reason: /schedule lunch is active/,
    },
    { name: "Saturday 07:00: nothing", t: "2024-01-06T12:00:00Z", lead: 90, min: 0, reason: /^$/ },
    {
      name: "at the morning's end, 11:00: nothing",
      t: "2024-01-08T16:00:00Z",
      lead: 90,
      min: 0,
      reason: /^$/,
    },
  ];
  for (const c of floors) {
    it(c.name, () => {
      const f = scheduleFloor(schedules, at(c.t), c.lead);
      expect(f.minReplicas).to.equal(c.min);
      expect(f.reason).to.match(c.reason);
    });
  }
});
