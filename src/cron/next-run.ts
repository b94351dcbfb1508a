/** Cron arithmetic with croner, read the way Cloudflare reads a Cron Trigger: UTC, five fields, 1 = Sunday. Shared by cron and routes. */
import { Cron } from "croner";

function parse(schedule: string): Cron {
  if (schedule.trim().split(/\s+/).length !== 5) {
    throw new Error(`cron "${schedule}" must have five fields (minute hour day month weekday), as Cron Triggers do`);
  }
  return new Cron(schedule, { timezone: "UTC", alternativeWeekdays: true });
}

/** Throws an Error naming the problem if `schedule` is not a valid Cron Trigger expression. */
export function assertSchedule(schedule: string): void {
  parse(schedule);
}

/** The first time after `after` (epoch ms) that `schedule` fires, in epoch ms. */
export function nextRunAfter(schedule: string, after: number): number {
  const next = parse(schedule).nextRun(new Date(after));
  if (next === null) throw new Error(`cron "${schedule}" never fires after ${new Date(after).toISOString()}`);
  return next.getTime();
}
