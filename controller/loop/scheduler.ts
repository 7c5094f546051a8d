/**
 * The loop's cron port: fires a callback at every start of a cron schedule, in the
 * schedule's IANA time zone. Live it is node-cron (io/cron-scheduler.ts); tests fire it by
 * hand. It only triggers: whether a schedule is active is decided by scaling/schedule.ts
 * when the woken loop reconciles, so a trigger too many or a dialect difference in the
 * timer library can cost an extra reconcile, never a wrong decision.
 */
export interface Scheduler {
  /**
   * Calls `fire` at every time `expression` (5-field cron, as `spec.scaling.schedules[].cron`)
   * matches in `timeZone`. Throws for an expression the implementation cannot run.
   */
  cron(expression: string, timeZone: string, fire: () => void): ScheduledWake;
}

/** A registered cron trigger. */
export interface ScheduledWake {
  /** Stops it; no `fire` after this returns. */
  stop(): void;
}
