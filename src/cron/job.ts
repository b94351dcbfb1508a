/** What a job is: a declaration the scheduled handler (or its topic's alarm) can run and the routes can list. */
import type { Json } from "../client/protocol";
import type { JobInfo, TopicInfo } from "../config";

/** What a job's `compute` receives. `signal` aborts when the attempt times out. */
export interface JobContext {
  env: Env;
  /** The slot's intended time (epoch ms): use it, never `Date.now()`, to name or bucket a run. */
  scheduledTime: number;
  signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /** Every declared topic, for jobs that report on the others. */
  topics: readonly TopicInfo[];
}

/** Retries with exponential backoff and full jitter: attempt n waits random() × min(maxMs, baseMs × 2^(n−1)). */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retries). */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export interface Job<V extends Json = Json> extends JobInfo {
  /** How long one attempt may take before it is aborted and counted as failed. */
  timeoutMs: number;
  retry: RetryPolicy;
  /** How long past `nextExpectedAt` the topic waits before it calls itself stale. */
  graceMs: number;
  compute(ctx: JobContext): Promise<V>;
}

/** A failure that retrying cannot fix (bad configuration, a 4xx): the runner stops at once. */
export class PermanentError extends Error {
  override name = "PermanentError";
}

/** The defaults a job declaration may leave out. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseMs: 500, maxMs: 5_000 };

type JobDeclaration<V extends Json> = Omit<Job<V>, "retry" | "graceMs" | "every"> &
  Partial<Pick<Job<V>, "retry" | "graceMs">> & {
    /** Run more often than once a minute, e.g. "10s" (1 s at least): the topic's alarm owns the cadence. */
    every?: string;
  };

/** Parses "10s", "1500ms" or "2m" into milliseconds. */
export function parseInterval(text: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(text.trim());
  if (!match) throw new Error(`interval "${text}" must look like 10s, 1500ms or 2m`);
  const ms = Number(match[1]) * { ms: 1, s: 1_000, m: 60_000 }[match[2] as "ms" | "s" | "m"];
  if (ms < 1_000) throw new Error(`interval "${text}" is below the 1 s minimum`);
  return ms;
}

/** Declares a job with defaults filled in; keeps each job's value type while the registry holds `Job`. */
export function defineJob<V extends Json>({ every, ...job }: JobDeclaration<V>): Job<V> {
  const everyMs = every === undefined ? null : parseInterval(every);
  return {
    retry: DEFAULT_RETRY,
    // Sub-minute jobs are late after two missed slots; minute crons after a minute.
    graceMs: everyMs === null ? 60_000 : Math.max(5_000, 2 * everyMs),
    ...job,
    every: everyMs,
  };
}
