/** The `scheduled` handler: a Cron Trigger fired, so run the jobs whose schedule is that cron. */
import { JOBS } from "./jobs";
import { runDue } from "./runner";

export async function scheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  const { runs } = await runDue(JOBS, controller, env);
  const failed = runs.filter((run) => run.status === "failed");
  if (failed.length > 0) {
    // Failing the invocation marks it in the Cron Events log and lets the platform retry it;
    // a retry is harmless because each topic object dedupes by runId, so finished jobs publish once.
    throw new Error(
      `${failed.length} of ${runs.length} jobs failed for cron "${controller.cron}": ${failed.map((r) => r.job).join(", ")}`,
    );
  }
}
