import cron from "node-cron";
import type { ScheduledWake, Scheduler } from "../loop/scheduler.js";

/**
 * The loop's cron port on node-cron: a task per schedule, in the schedule's time zone,
 * calling the loop's wake at every start. It only triggers; scaling/schedule.ts decides
 * what is active when the woken loop reconciles, and the loop also wakes itself on its
 * clock at every boundary it computes (loop/boundaries.ts), so a trigger node-cron reads
 * differently from the policy's cron dialect costs at most an extra reconcile.
 */

/** A wake registered with node-cron; `nextRun` is node-cron's own answer, for checks. */
export interface CronWake extends ScheduledWake {
  nextRun(): Date | null;
}

/** The node-cron scheduler: its wakes also say when node-cron will next fire. */
export interface CronScheduler extends Scheduler {
  cron(expression: string, timeZone: string, fire: () => void): CronWake;
}

/**
 * Creates the node-cron scheduler. `unref` (default true) keeps a pending trigger from
 * holding the process open: the loop's own timers and servers decide when it exits.
 */
export function createCronScheduler(options: { readonly unref?: boolean } = {}): CronScheduler {
  return {
    cron(expression, timeZone, fire): CronWake {
      if (!cron.validate(expression)) {
        throw new Error(
          `node-cron cannot run cron expression ${JSON.stringify(expression)}: the loop still wakes at its boundaries on its own clock`,
        );
      }
      const task = cron.schedule(expression, () => fire(), {
        timezone: timeZone,
        noOverlap: true,
        unref: options.unref ?? true,
      });
      return {
        stop: () => {
          void task.destroy();
        },
        nextRun: () => task.getNextRun(),
      };
    },
  };
}
