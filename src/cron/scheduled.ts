/**
 * The `scheduled` handler: a Cron Trigger fired, so run the jobs whose schedule is that cron. The
 * `* * * * *` firing is also the runtime schedules' heartbeat: it re-arms any Scheduler shard whose
 * alarm is missing or overdue (the alarms run the schedules; the heartbeat only watches them).
 */
import { schedulerShardNames } from "../config";
import type { HeartbeatReport } from "../durable/scheduler-rpc";
import type { EdgebeatEnv } from "../env";
import type { Job } from "./job";
import { runDue } from "./runner";

/** The cron that beats for the runtime schedules. */
export const HEARTBEAT_CRON = "* * * * *";

/** The Worker's `scheduled` handler for `jobs`. */
export function createScheduled(jobs: readonly Job[]) {
  return async function scheduled(controller: ScheduledController, env: EdgebeatEnv, _ctx: ExecutionContext): Promise<void> {
    const beat = controller.cron === HEARTBEAT_CRON ? heartbeat(env) : Promise.resolve([]);
    const [{ runs }] = await Promise.all([runDue(jobs, controller, env), beat]);
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

/** Asks every Scheduler shard to check its alarm; a shard that cannot be reached is logged, never fatal. */
export async function heartbeat(env: EdgebeatEnv): Promise<HeartbeatReport[]> {
  const namespace = env.SCHEDULER;
  if (namespace === undefined) return [];
  const results = await Promise.allSettled(schedulerShardNames(env).map((name) => namespace.getByName(name).heartbeat()));
  const reports: HeartbeatReport[] = [];
  for (const result of results) {
    if (result.status === "rejected") console.error(JSON.stringify({ event: "heartbeat_failed", error: String(result.reason) }));
    else {
      reports.push(result.value);
      if (result.value.rearmed) console.log(JSON.stringify({ event: "scheduler_rearmed", ...result.value }));
    }
  }
  return reports;
}
