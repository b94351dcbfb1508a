/** Full-jitter exponential backoff: the one backoff of job retries, Durable Object call retries and the client's reconnects. */

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * The wait before retry number `retry` (1 for the first): random() × min(maxMs, baseMs × 2^(retry−1)).
 * Full jitter spreads a crowd of clients over the whole window instead of a thundering herd.
 */
export function fullJitterDelay(retry: number, policy: BackoffPolicy, random: () => number): number {
  return Math.floor(random() * Math.min(policy.maxMs, policy.baseMs * 2 ** (retry - 1)));
}
