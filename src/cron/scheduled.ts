/** The `scheduled` handler: a Cron Trigger fired, so run the jobs whose schedule is that cron. */
import type { EdgebeatEnv } from "../env";
import type { Job } from "./job";
import { runDue } from "./runner";

/** The Worker's `scheduled` handler for `jobs`. */
export function createScheduled(jobs: readonly Job[]) {
  return async function scheduled(controller: ScheduledController, env: EdgebeatEnv, _ctx: ExecutionContext): Promise<void> {
    const { runs } = await runDue(jobs, controller, env);
    const failed = runs.filter((run) => run.status === "failed");
    if (failed.length > 0) {
      // Failing the invocation marks it in the Cron Events log and lets the platform retry it;
      // a retry is harmless because each topic object dedupes by runId, so finished jobs publish once.
      throw new Error(
        `${failed.length} of ${runs.length} jobs failed for cron "${controller.cron}": ${failed.map((r) => r.job).join(", ")}`,
      );
    }
  };
}
