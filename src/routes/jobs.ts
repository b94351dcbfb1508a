/** `/jobs`: every job with its last run, next run and status; `/jobs/:name/runs`: its run ledger. */
import { Hono } from "hono";
import type { JobStatus } from "../client/protocol";
import { schedulerShardNames } from "../config";
import { nextRunAfter } from "../cron/next-run";
import type { EdgebeatEnv } from "../env";
import type { AppEnv } from "./env";
import { ApiError } from "./errors";
import { parseRunsQuery } from "./validate";

export const jobs = new Hono<AppEnv>();

jobs.get("/", async (c) => {
  const now = Date.now();
  const counts = await scheduleCounts(c.env);
  const list = await Promise.all(
    c.get("jobs").map(async (job) => {
      const health = await c.env.TOPIC.getByName(job.topic).jobHealth();
      return {
        name: job.name,
        topic: job.topic,
        schedule: job.schedule,
        every: job.every,
        lastRun: health.lastRun,
        lastSuccessAt: health.lastSuccessAt,
        // A sub-minute job's next run is its topic's next tick; a cron job's is the cron's next firing.
        nextRunAt: job.every === null ? nextRunAfter(job.schedule, now) : health.nextTickAt,
        status: health.status,
        detail: health.detail,
        schedules: counts[job.name] ?? 0,
      } satisfies JobStatus;
    }),
  );
  return c.json({ jobs: list });
});

jobs.get("/:name/runs", async (c) => {
  const name = c.req.param("name");
  const job = c.get("jobs").find((candidate) => candidate.name === name);
  if (!job) throw new ApiError(404, "unknown_job", `No job "${name.slice(0, 80)}" exists.`);
  const { limit } = parseRunsQuery(c.req.query());
  return c.json({ job: job.name, runs: await c.env.TOPIC.getByName(job.topic).runs(limit) });
});

/** Runtime schedules per job, over every Scheduler shard; none without a SCHEDULER binding. */
async function scheduleCounts(env: EdgebeatEnv): Promise<Record<string, number>> {
  const namespace = env.SCHEDULER;
  if (namespace === undefined) return {};
  const counts = await Promise.all(schedulerShardNames(env).map((name) => namespace.getByName(name).countByJob()));
  const total: Record<string, number> = {};
  for (const shard of counts) for (const [job, n] of Object.entries(shard)) total[job] = (total[job] ?? 0) + n;
  return total;
}
