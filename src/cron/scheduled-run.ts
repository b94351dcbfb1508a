/**
 * A runtime schedule's slot as a run: its job (found by name), its params (checked again by the
 * job's schema, which may have changed since the schedule was saved), topic and runId.
 */
import type { ScheduledRun } from "../durable/scheduler-rpc";
import { DEFAULT_RETRY, type Job, PermanentError } from "./job";
import type { RunPlan } from "./runner";

/** The plan for `run`; when its job or params no longer fit, a plan that fails at once, so its topic records why. */
export function planScheduledRun(jobs: readonly Job[], run: ScheduledRun): RunPlan {
  const plan = {
    scheduledTime: run.slot,
    topic: run.topic,
    runId: run.runId,
    nextExpectedAt: run.nextExpectedAt,
    whileWatched: run.whileWatched ?? false,
  };
  const job = jobs.find((candidate) => candidate.name === run.job);
  const schedule = `schedule ${run.scheduleId}`;
  if (job === undefined) {
    const why = `${schedule} runs job "${run.job}", which this Worker no longer has: delete the schedule or add the job back`;
    return { ...plan, job: failing(run.job, why), params: null };
  }
  if (job.params === null) {
    return {
      ...plan,
      job: failing(job.name, `${schedule} runs job "${job.name}", which no longer takes params: delete it`),
      params: null,
    };
  }
  const params = job.params.safeParse(run.params);
  if (!params.success) {
    const why = `${schedule}'s params no longer fit job "${job.name}" (${params.error.issues[0]?.message ?? "invalid"}): PATCH them`;
    return { ...plan, job: failing(job.name, why), params: null };
  }
  return { ...plan, job, params: params.data };
}

/** How late a run of schedule job `name` may be before its topic turns stale (a job no longer here: a failing run's). */
export function scheduleGraceMs(jobs: readonly Job[], name: string): number {
  return jobs.find((candidate) => candidate.name === name)?.graceMs ?? FAILING_GRACE_MS;
}

const FAILING_GRACE_MS = 60_000;

/** A job whose run fails at once with `message`, without retrying. */
function failing(name: string, message: string): Job {
  return {
    name,
    topic: null,
    schedule: null,
    every: null,
    params: null,
    timeoutMs: 1_000,
    retry: { ...DEFAULT_RETRY, attempts: 1 },
    graceMs: FAILING_GRACE_MS,
    whileWatched: false,
    async compute() {
      throw new PermanentError(message);
    },
  };
}
