/** Runs one job for one cron firing: compute with a timeout, then publish to the topic's object. */
import { declaredTopics } from "../config";
import type { Job } from "./job";
import { nextRunAfter } from "./schedule";

export class JobTimeoutError extends Error {
  override name = "JobTimeoutError";
}

/** What happened to one job in one firing; logged once, returned for tests and callers. */
export type RunReport =
  | { job: string; topic: string; runId: string; status: "ok" | "duplicate"; seq: number }
  | { job: string; topic: string; runId: string; status: "failed"; error: string };

/** A cron run's name: the same cron firing always gets the same runId, so retries publish once. */
export function runIdFor(job: Pick<Job, "name">, scheduledTime: number): string {
  return `${job.name}@${scheduledTime}`;
}

/** Resolves with `work`'s value, or rejects with a JobTimeoutError (and aborts `signal`) after `timeoutMs`. */
export async function withTimeout<T>(timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new JobTimeoutError(`timed out after ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * Runs every job in `jobs` whose schedule is exactly `cron`, each isolated: one failing job never
 * stops the others. `registry` is every job (the declared topics come from it).
 */
export async function runDue(
  registry: readonly Job[],
  jobs: readonly Job[],
  firing: { cron: string; scheduledTime: number },
  env: Env,
): Promise<RunReport[]> {
  const due = jobs.filter((job) => job.schedule === firing.cron);
  if (due.length === 0) console.warn(JSON.stringify({ event: "cron_without_jobs", cron: firing.cron }));
  const topics = declaredTopics(registry, env);
  return Promise.all(due.map((job) => runJob(job, firing.scheduledTime, env, topics)));
}

async function runJob(job: Job, scheduledTime: number, env: Env, topics: ReturnType<typeof declaredTopics>): Promise<RunReport> {
  const runId = runIdFor(job, scheduledTime);
  const base = { job: job.name, topic: job.topic, runId };
  try {
    const value = await withTimeout(job.timeoutMs, (signal) => job.compute({ env, scheduledTime, signal, attempt: 1, topics }));
    const nextExpectedAt = nextRunAfter(job.schedule, scheduledTime);
    const published = await env.TOPIC.getByName(job.topic).publish({
      value,
      runId,
      job: job.name,
      scheduledTime,
      nextExpectedAt,
    });
    const report = { ...base, status: published.duplicate ? "duplicate" : "ok", seq: published.seq } as const;
    console.log(JSON.stringify({ event: "job_run", ...report }));
    return report;
  } catch (error) {
    const report = { ...base, status: "failed", error: error instanceof Error ? error.message : String(error) } as const;
    console.error(JSON.stringify({ event: "job_run", ...report }));
    return report;
  }
}
