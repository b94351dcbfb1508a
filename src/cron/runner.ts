/**
 * Runs one job for one slot (a cron firing, or a sub-minute tick of its topic's alarm): compute
 * with a per-attempt timeout and retries, then publish to the topic's object, which records the run.
 */
import { fullJitterDelay } from "../client/backoff";
import type { TopicInfo } from "../client/protocol";
import { declaredTopics } from "../config";
import type { RestingSlot, TopicRpc } from "../durable/rpc";
import type { EdgebeatEnv } from "../env";
import { isStatic, type Job, PermanentError, type StaticJob } from "./job";
import { nextRunAfter } from "./next-run";

export class JobTimeoutError extends Error {
  override name = "JobTimeoutError";
}

/** The clock, sleep and random source of a run; tests inject their own. */
export interface RunnerDeps {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

export const realDeps: RunnerDeps = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

/** What happened to one job in one slot; logged once, returned for tests and callers. */
export type RunReport =
  | { job: string; topic: string; runId: string; status: "ok" | "duplicate"; seq: number; attempts: number }
  | { job: string; topic: string; runId: string; status: "failed"; error: string; attempts: number }
  | { job: string; topic: string; runId: string; status: "rested"; attempts: 0 };

/** A run's name: the same slot always gets the same runId, so a repeated firing publishes once. */
export function runIdFor(job: Pick<Job, "name">, scheduledTime: number): string {
  return `${job.name}@${scheduledTime}`;
}

/** When the run after this slot of a static schedule is due: the next cron firing, or the next tick. */
export function nextExpectedAt(job: Pick<StaticJob, "schedule" | "every">, scheduledTime: number): number {
  return job.every === null ? nextRunAfter(job.schedule, scheduledTime) : scheduledTime + job.every;
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

class RunFailed extends Error {
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** Computes the job's value: each attempt has its own timeout; failures retry with jittered backoff. */
export async function computeWithRetries(
  job: Job,
  base: { env: EdgebeatEnv; scheduledTime: number; topics: readonly TopicInfo[]; params: unknown },
  deps: RunnerDeps,
): Promise<{ value: Awaited<ReturnType<Job["compute"]>>; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return {
        value: await withTimeout(job.timeoutMs, (signal) => job.compute({ ...base, signal, attempt })),
        attempts: attempt,
      };
    } catch (error) {
      if (error instanceof PermanentError || attempt >= job.retry.attempts) throw new RunFailed(attempt, error);
      await deps.sleep(fullJitterDelay(attempt, job.retry, deps.random));
    }
  }
}

/** How a Durable Object call is retried: 3 attempts in all, full-jitter waits of up to 100, 200 ms. */
export const TOPIC_CALL_RETRY = { attempts: 3, baseMs: 100, maxMs: 1_000 };

/**
 * Calls the topic's object, retrying only errors the platform marks retryable and not overloaded,
 * with a fresh stub and a jittered wait each time. Only for idempotent calls: publish and
 * recordFailure dedupe by runId.
 */
export async function callTopic<T>(
  env: EdgebeatEnv,
  topic: string,
  call: (stub: DurableObjectStub<TopicRpc>) => Promise<T>,
  deps: Pick<RunnerDeps, "sleep" | "random"> = realDeps,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(env.TOPIC.getByName(topic));
    } catch (error) {
      const flags = error as { retryable?: boolean; overloaded?: boolean };
      if (attempt >= TOPIC_CALL_RETRY.attempts || !flags.retryable || flags.overloaded) throw error;
      await deps.sleep(fullJitterDelay(attempt, TOPIC_CALL_RETRY, deps.random));
    }
  }
}

/** One run to make: a job, its slot, where it publishes, under which runId, and the params it gets. */
export interface RunPlan {
  job: Job;
  scheduledTime: number;
  topic: string;
  runId: string;
  /** When the run after this one is due (the topic's freshness deadline is this plus the job's grace). */
  nextExpectedAt: number;
  /** A runtime schedule's params (validated when it was saved), or null for a static run. */
  params: unknown;
  /** Run only if the topic has a subscriber (the job's `whileWatched`, or the schedule's). */
  whileWatched: boolean;
}

/** Runs one slot of a job's static schedule. */
export function runJob(
  job: StaticJob,
  scheduledTime: number,
  env: EdgebeatEnv,
  topics: readonly TopicInfo[],
  deps: RunnerDeps = realDeps,
): Promise<RunReport> {
  const plan = {
    job,
    scheduledTime,
    topic: job.topic,
    runId: runIdFor(job, scheduledTime),
    nextExpectedAt: nextExpectedAt(job, scheduledTime),
    params: null,
    whileWatched: job.whileWatched,
  };
  return runPlan(plan, env, topics, deps);
}

/** Runs one planned run and hands the outcome to its topic's object (which keeps the ledger). */
export async function runPlan(
  { job, scheduledTime, topic, runId, nextExpectedAt, params, whileWatched }: RunPlan,
  env: EdgebeatEnv,
  topics: readonly TopicInfo[],
  deps: RunnerDeps = realDeps,
): Promise<RunReport> {
  const startedAt = deps.now();
  const facts = { runId, job: job.name, scheduledTime, nextExpectedAt, graceMs: job.graceMs };
  if (whileWatched && !(await isWatched(env, topic, facts, deps))) {
    const rested = { job: job.name, topic, runId, status: "rested", attempts: 0 } as const;
    console.log(JSON.stringify({ event: "job_run", ...rested }));
    return rested;
  }
  let report: RunReport;
  try {
    const { value, attempts } = await computeWithRetries(job, { env, scheduledTime, topics, params }, deps);
    const run = { startedAt, durationMs: deps.now() - startedAt, attempts };
    const published = await callTopic(env, topic, (stub) => stub.publish({ ...facts, value, run }), deps);
    report = { job: job.name, topic, runId, status: published.duplicate ? "duplicate" : "ok", seq: published.seq, attempts };
  } catch (error) {
    const attempts = error instanceof RunFailed ? error.attempts : 0;
    const message = error instanceof Error ? error.message : String(error);
    report = { job: job.name, topic, runId, status: "failed", error: message, attempts };
    const run = { startedAt, durationMs: deps.now() - startedAt, attempts };
    await callTopic(env, topic, (stub) => stub.recordFailure({ ...facts, run, error: message }), deps).catch(
      (recordError: unknown) =>
        console.error(JSON.stringify({ event: "ledger_unreachable", job: job.name, topic, runId, error: String(recordError) })),
    );
  }
  (report.status === "failed" ? console.error : console.log)(JSON.stringify({ event: "job_run", ...report }));
  return report;
}

/** Whether the topic has a subscriber (its object records the slot as rested when not); unknown counts as watched. */
async function isWatched(env: EdgebeatEnv, topic: string, slot: RestingSlot, deps: RunnerDeps): Promise<boolean> {
  try {
    return await callTopic(env, topic, (stub) => stub.watchedOrRest(slot), deps);
  } catch (error) {
    console.error(JSON.stringify({ event: "watch_check_failed", topic, runId: slot.runId, error: String(error) }));
    return true;
  }
}

/** What the cron did for a sub-minute job: its topic's alarm runs it; the cron only re-arms a broken chain. */
export interface WatchdogReport {
  job: string;
  topic: string;
  rearmed: boolean;
  nextSlot: number;
}

/**
 * Handles one cron firing: runs every job whose schedule is exactly `firing.cron`, each isolated
 * (one failing job never stops the others), and re-arms the cadence of due sub-minute jobs.
 * `registry` is every job (the declared topics come from it).
 */
export async function runDue(
  registry: readonly Job[],
  firing: { cron: string; scheduledTime: number },
  env: EdgebeatEnv,
  deps: RunnerDeps = realDeps,
): Promise<{ runs: RunReport[]; watchdogs: WatchdogReport[] }> {
  const due = registry.filter(isStatic).filter((job) => job.schedule === firing.cron);
  if (due.length === 0) console.warn(JSON.stringify({ event: "cron_without_jobs", cron: firing.cron }));
  const topics = declaredTopics(registry.filter(isStatic), env);
  const [runs, watchdogs] = await Promise.all([
    Promise.all(due.filter((job) => job.every === null).map((job) => runJob(job, firing.scheduledTime, env, topics, deps))),
    Promise.all(due.filter((job) => job.every !== null).map((job) => watchCadence(job, env))),
  ]);
  return { runs, watchdogs };
}

async function watchCadence(job: StaticJob, env: EdgebeatEnv): Promise<WatchdogReport> {
  const { rearmed, nextSlot } = await callTopic(env, job.topic, (stub) =>
    stub.ensureCadence({ job: job.name, everyMs: job.every as number, graceMs: job.graceMs }),
  );
  const report = { job: job.name, topic: job.topic, rearmed, nextSlot };
  // Info level: the first firing after a deploy or a restart arms a chain that does not exist yet,
  // which is routine; `rearmed` in the line is what an alert on a broken chain would look for.
  console.log(JSON.stringify({ event: "cadence_watchdog", ...report }));
  return report;
}
