/**
 * What a job is: a declaration the scheduled handler (or its topic's alarm) can run and the routes
 * can list. Also the library entry `edgebeat/job`: it imports no runtime module, so job files that
 * import from it load in plain Node tests.
 */
import type { z } from "zod";
import { fullJitterDelay } from "../client/backoff";
import type { Json, TopicInfo } from "../client/protocol";
import type { EdgebeatEnv } from "../env";

/** What the routes and the `system` job need to know about a job with a static schedule, without running it. */
export interface JobInfo {
  name: string;
  topic: string;
  /** The Cron Trigger that runs the job, or, for a sub-minute job, that re-arms its cadence. */
  schedule: string;
  /** For a sub-minute job, its interval in ms (its topic's alarm runs it); otherwise null. */
  every: number | null;
}

/**
 * What a job's `compute` receives. `signal` aborts when the attempt times out. `E` is the Worker's
 * own env type, so a job can read its own bindings (a D1 database, a var) with their types.
 */
export interface JobContext<E extends EdgebeatEnv = EdgebeatEnv, P = unknown> {
  env: E;
  /** The slot's intended time (epoch ms): use it, never `Date.now()`, to name or bucket a run. */
  scheduledTime: number;
  signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /** Every declared topic, for jobs that report on the others. */
  topics: readonly TopicInfo[];
  /** A runtime schedule's params, validated by the job's `params` schema; null on a static run. */
  params: P | null;
}

/** Retries with exponential backoff and full jitter: attempt n waits random() × min(maxMs, baseMs × 2^(n−1)). */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retries). */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export interface Job<V extends Json = Json, E extends EdgebeatEnv = EdgebeatEnv, P = unknown> {
  name: string;
  /** The static schedule's topic, or null for a job that only runtime schedules run. */
  topic: string | null;
  /** The Cron Trigger of the static schedule (for a sub-minute job, its watchdog), or null for none. */
  schedule: string | null;
  /** For a sub-minute static schedule, its interval in ms; otherwise null. */
  every: number | null;
  /** The params a runtime schedule gives each run (a zod schema), or null when it cannot be scheduled at runtime. */
  params: z.ZodType<P> | null;
  /** How long one attempt may take before it is aborted and counted as failed. */
  timeoutMs: number;
  retry: RetryPolicy;
  /** How long past `nextExpectedAt` the topic waits before it calls itself stale. */
  graceMs: number;
  /** Runs a slot only while its topic has a subscriber; other slots are recorded as `rested` (default false). */
  whileWatched: boolean;
  compute(ctx: JobContext<E, P>): Promise<V>;
}

/** A job with a static schedule: what the Cron Triggers, `/jobs` and `GET /topics` know of. */
export type StaticJob<V extends Json = Json, E extends EdgebeatEnv = EdgebeatEnv, P = unknown> = Job<V, E, P> & JobInfo;

/** Whether `job` has a static schedule (and so a topic of its own). */
export function isStatic<V extends Json, E extends EdgebeatEnv, P>(job: Job<V, E, P>): job is StaticJob<V, E, P> {
  return job.schedule !== null && job.topic !== null;
}

/** A failure that retrying cannot fix (bad configuration, a 4xx): the runner stops at once. */
export class PermanentError extends Error {
  override name = "PermanentError";
}

/** The defaults a job declaration may leave out. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseMs: 500, maxMs: 5_000 };

/** What `defineJob` takes: `retry` and `graceMs` optional, `every` as text, and `topic` with `schedule` (both or neither). */
export type JobDeclaration<V extends Json, E extends EdgebeatEnv = EdgebeatEnv, P = unknown> = Omit<
  Job<V, E, P>,
  "retry" | "graceMs" | "every" | "params" | "topic" | "schedule" | "whileWatched"
> &
  Partial<Pick<Job<V, E, P>, "retry" | "graceMs" | "whileWatched">> & {
    /** The static schedule's topic; leave it and `schedule` out for a job that only runtime schedules run. */
    topic?: string;
    /** The static schedule: a Cron Trigger expression (UTC), listed in `[triggers] crons`. */
    schedule?: string;
    /** Run more often than once a minute, e.g. "10s" (1 s at least): the topic's alarm owns the cadence. */
    every?: string;
    /** Lets runtime schedules (`PUT /schedules/:id`) run the job, each with its own params of this schema. */
    params?: z.ZodType<P>;
  };

/** Parses "10s", "1500ms" or "2m" into milliseconds. */
export function parseInterval(text: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(text.trim());
  if (!match) throw new Error(`interval "${text}" must look like 10s, 1500ms or 2m`);
  const ms = Number(match[1]) * { ms: 1, s: 1_000, m: 60_000 }[match[2] as "ms" | "s" | "m"];
  if (ms < 1_000) throw new Error(`interval "${text}" is below the 1 s minimum`);
  return ms;
}

/**
 * Declares a job with defaults filled in; keeps each job's value type while the registry holds `Job`.
 * Name the Worker's env type to read its own bindings: `defineJob<MyValue, Env>({ … })`.
 */
export function defineJob<V extends Json, E extends EdgebeatEnv = EdgebeatEnv, P = unknown>(
  declaration: JobDeclaration<V, E, P> & { topic: string; schedule: string },
): StaticJob<V, E, P>;
export function defineJob<V extends Json, E extends EdgebeatEnv = EdgebeatEnv, P = unknown>(
  declaration: JobDeclaration<V, E, P>,
): Job<V, E, P>;
export function defineJob<V extends Json, E extends EdgebeatEnv = EdgebeatEnv, P = unknown>({
  every,
  params,
  topic,
  schedule,
  ...job
}: JobDeclaration<V, E, P>): Job<V, E, P> {
  if ((topic === undefined) !== (schedule === undefined)) {
    throw new Error(
      `job "${job.name}" must give both topic and schedule (a static schedule), or neither (runtime schedules only).`,
    );
  }
  if (schedule === undefined && params === undefined) {
    throw new Error(`job "${job.name}" has no schedule and no params, so nothing could ever run it: give it one or both.`);
  }
  const everyMs = every === undefined ? null : parseInterval(every);
  return {
    retry: DEFAULT_RETRY,
    whileWatched: false,
    // Sub-minute jobs are late after two missed slots; minute crons after a minute.
    graceMs: everyMs === null ? 60_000 : Math.max(5_000, 2 * everyMs),
    ...job,
    topic: topic ?? null,
    schedule: schedule ?? null,
    every: everyMs,
    params: params ?? null,
  };
}

/** The longest a run can take: every attempt timing out, every wait at its cap. */
export function worstCaseRunMs(job: Pick<Job, "timeoutMs" | "retry">): number {
  let total = job.retry.attempts * job.timeoutMs;
  for (let attempt = 1; attempt < job.retry.attempts; attempt++) total += fullJitterDelay(attempt, job.retry, () => 1);
  return total;
}
