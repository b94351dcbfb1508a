/** What a job is: a declaration the scheduled handler can run and the routes can list. */
import type { Json } from "../client/protocol";
import type { JobInfo, TopicInfo } from "../config";

/** What a job's `compute` receives. `signal` aborts when the attempt times out. */
export interface JobContext {
  env: Env;
  /** The cron's intended fire time (epoch ms): use it, never `Date.now()`, to name or bucket a run. */
  scheduledTime: number;
  signal: AbortSignal;
  attempt: number;
  /** Every declared topic, for jobs that report on the others. */
  topics: readonly TopicInfo[];
}

export interface Job<V extends Json = Json> extends JobInfo {
  /** How long one attempt may take before it is aborted and counted as failed. */
  timeoutMs: number;
  compute(ctx: JobContext): Promise<V>;
}

/** Declares a job; the identity function keeps each job's value type while the registry holds `Job`. */
export function defineJob<V extends Json>(job: Job<V>): Job<V> {
  return job;
}
