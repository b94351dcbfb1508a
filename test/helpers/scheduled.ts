/** Fires the real scheduled handler as a Cron Trigger would, and checks the one error it may report. */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../../src/index";
import { jobsRunBy } from "./registry";

/** The jobs that fail in every firing inside workerd: feed, as vitest.config.ts sets no FEED_URL. */
export const FAILING_HERE: readonly string[] = ["feed"];

/** The scheduled handler's error for a firing of `cron` here, naming the due jobs that fail; null if none do. */
export function firingError(cron: string): string | null {
  const runs = jobsRunBy(cron);
  const failed = runs.filter((job) => FAILING_HERE.includes(job.name)).map((job) => job.name);
  return failed.length === 0 ? null : `${failed.length} of ${runs.length} jobs failed for cron "${cron}": ${failed.join(", ")}`;
}

/** Runs the Worker's `scheduled` handler for one firing; it rejects with exactly `firingError(cron)`, or resolves. */
export async function fireCron(cron: string, scheduledTime: number): Promise<void> {
  const ctx = createExecutionContext();
  const fired = worker.scheduled(createScheduledController({ scheduledTime, cron }), env, ctx);
  const error = firingError(cron);
  if (error === null) await fired;
  else await expect(fired).rejects.toThrow(new Error(error));
  await waitOnExecutionContext(ctx);
}
