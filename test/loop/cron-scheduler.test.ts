import { expect } from "chai";
import { createCronScheduler } from "../../controller/io/cron-scheduler.js";
import { parseCron } from "../../controller/policy/index.js";
import { nextStart } from "../../controller/scaling/schedule.js";

/**
 * node-cron only triggers; the pure schedule code decides. These rows check that node-cron
 * reads the policy's cron expressions (with their zones) as scaling/schedule.ts does, by
 * asking each for the next start from now: no timer is awaited.
 */
describe("io/cron-scheduler: node-cron triggers at the starts the schedule code computes", () => {
  const rows = [
    { name: "weekday mornings in Berlin", cron: "0 8 * * MON-FRI", zone: "Europe/Berlin" },
    { name: "every 15 minutes, UTC", cron: "*/15 * * * *", zone: "UTC" },
    {
      name: "evenings in New York, numeric weekdays",
      cron: "30 18 * * 1-5",
      zone: "America/New_York",
    },
    { name: "first of the month in Tokyo", cron: "0 9 1 * *", zone: "Asia/Tokyo" },
  ];
  const scheduler = createCronScheduler();
  for (const r of rows) {
    it(r.name, () => {
      let fired = 0;
      const wake = scheduler.cron(r.cron, r.zone, () => fired++);
      try {
        const now = Date.now() / 1000;
        const ours = nextStart(parseCron(r.cron), r.zone, now, 40 * 86400);
        const theirs = wake.nextRun();
        expect(theirs, "node-cron has a next run").to.not.equal(null);
        expect(Math.round(theirs!.getTime() / 1000)).to.equal(ours);
      } finally {
        wake.stop();
      }
      expect(fired).to.equal(0);
    });
  }

  it("refuses an expression node-cron cannot run, saying the loop still wakes on its clock", () => {
    expect(() => scheduler.cron("not a cron", "UTC", () => {})).to.throw(
      /node-cron cannot run cron expression "not a cron"/,
    );
  });
});
