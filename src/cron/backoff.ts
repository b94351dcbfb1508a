/** The runner's retry arithmetic: pure, so tests inject the random source. */
import { fullJitterDelay } from "../backoff";
import type { Job, RetryPolicy } from "./job";

/** The wait before attempt `attempt + 1`: full jitter, random() × min(maxMs, baseMs × 2^(attempt−1)). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  return fullJitterDelay(attempt, policy, random);
}

/** The longest a run can take: every attempt timing out, every wait at its cap. */
export function worstCaseRunMs(job: Pick<Job, "timeoutMs" | "retry">): number {
  let total = job.retry.attempts * job.timeoutMs;
  for (let attempt = 1; attempt < job.retry.attempts; attempt++) total += backoffDelay(attempt, job.retry, () => 1);
  return total;
}
