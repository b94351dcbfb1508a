/**
 * The library's entry (`import … from "edgebeat"`): `createEdgebeat({ jobs })` returns everything a
 * Worker exports to run those jobs and serve their topics; the rest are the pieces jobs are made of.
 */
import type { Hono } from "hono";
import { isTopicName } from "./client/protocol";
import { createJobRunner, type JobRunnerClass } from "./cron/entrypoint";
import { isStatic, type Job, worstCaseRunMs } from "./cron/job";
import { assertSchedule } from "./cron/next-run";
import { createScheduled } from "./cron/scheduled";
import { Scheduler } from "./durable/scheduler";
import { TopicShard } from "./durable/shard";
import { Topic } from "./durable/topic";
import type { EdgebeatEnv } from "./env";
import { createApp } from "./routes/app";
import type { AppEnv } from "./routes/env";

export type * from "./client/protocol";
export { isTopicName } from "./client/protocol";
export type { MissedPolicy, Schedule, ScheduleState } from "./client/schedule";
export {
  DEFAULT_RETRY,
  defineJob,
  type Job,
  type JobContext,
  type JobDeclaration,
  type JobInfo,
  PermanentError,
  type RetryPolicy,
} from "./cron/job";
export type { RunReport } from "./cron/runner";
export type { EdgebeatBindings, EdgebeatEnv, EdgebeatVars } from "./env";
export { type PublishRequest, requirePublishToken } from "./routes/auth";
export type { AppEnv } from "./routes/env";
export { ApiError } from "./routes/errors";
export { parseJsonBody } from "./routes/validate";
export { Scheduler, Topic, TopicShard };

export interface EdgebeatOptions {
  /** Every job the Worker runs; `[triggers] crons` must list exactly their schedules (see `edgebeat/testing`). */
  jobs: readonly Job[];
}

/** What a Worker exports to run edgebeat: its handlers, its Durable Object and entrypoint classes. */
export interface Edgebeat {
  /** The HTTP handler (the `app`'s fetch): `/health`, `/topics…`, `/jobs…`, `/metrics`. */
  fetch: (request: Request, env: EdgebeatEnv, ctx: ExecutionContext) => Response | Promise<Response>;
  /** The Cron Trigger handler: runs the jobs whose schedule is the firing's cron. */
  scheduled: (controller: ScheduledController, env: EdgebeatEnv, ctx: ExecutionContext) => Promise<void>;
  /** The Hono app behind `fetch`: add routes to it, or mount it in your own app with `app.route("/live", edgebeat.app)`. */
  app: Hono<AppEnv>;
  /** Export as `Topic` and bind as `TOPIC` (SQLite-backed). */
  Topic: typeof Topic;
  /** Export as `TopicShard` and bind as `SHARD` (SQLite-backed). */
  TopicShard: typeof TopicShard;
  /** Export as `Scheduler` and bind as `SCHEDULER` (SQLite-backed) to run runtime schedules (`/schedules`). */
  Scheduler: typeof Scheduler;
  /** Export as `JobRunner`: topics' alarms reach it through `ctx.exports` to run sub-minute jobs. */
  JobRunner: JobRunnerClass;
  jobs: readonly Job[];
}

/**
 * Builds the Worker for `jobs`. Throws at start-up, naming the job, when two jobs share a name or
 * a topic, a topic name or schedule is invalid, or a job's worst case outlasts its slot.
 */
export function createEdgebeat({ jobs }: EdgebeatOptions): Edgebeat {
  assertJobs(jobs);
  const app = createApp(jobs);
  return {
    fetch: (request, env, ctx) => app.fetch(request, env, ctx),
    scheduled: createScheduled(jobs),
    app,
    Topic,
    TopicShard,
    Scheduler,
    JobRunner: createJobRunner(jobs),
    jobs,
  };
}

function assertJobs(jobs: readonly Job[]): void {
  const names = new Set<string>();
  const topics = new Set<string>();
  for (const job of jobs) {
    const where = `job "${job.name}"`;
    if (names.has(job.name)) throw new Error(`Two jobs are named "${job.name}": give each job its own name.`);
    names.add(job.name);
    if (!isStatic(job)) continue;
    if (topics.has(job.topic)) throw new Error(`${where} publishes to topic "${job.topic}", which another job already uses.`);
    if (!isTopicName(job.topic)) {
      throw new Error(`${where} has topic "${job.topic}", which is not a topic name (^[a-z0-9][a-z0-9._-]{0,63}$).`);
    }
    try {
      assertSchedule(job.schedule);
    } catch (error) {
      throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (job.every !== null && job.schedule !== "* * * * *") {
      throw new Error(`${where} runs every ${job.every} ms, so its schedule (its watchdog) must be "* * * * *".`);
    }
    const limit = job.every ?? 120_000;
    if (worstCaseRunMs(job) > limit) {
      throw new Error(
        `${where} can take ${worstCaseRunMs(job)} ms (every attempt timing out, every backoff at its cap), over its ${limit} ms: lower timeoutMs or retry.attempts.`,
      );
    }
    topics.add(job.topic);
  }
}
