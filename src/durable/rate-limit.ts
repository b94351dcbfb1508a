/** A token bucket for client frames. Pure: it takes the bucket and a clock, and returns the next bucket. */

export interface Bucket {
  tokens: number;
  /** When `tokens` was last computed (epoch ms). */
  at: number;
}

export interface RatePolicy {
  burst: number;
  perSecond: number;
}

export function fullBucket(policy: RatePolicy, now: number): Bucket {
  return { tokens: policy.burst, at: now };
}

/** Refills the bucket for the time passed, then spends one token if there is one. */
export function takeToken(bucket: Bucket, policy: RatePolicy, now: number): { allowed: boolean; bucket: Bucket } {
  const elapsedSeconds = Math.max(0, now - bucket.at) / 1000;
  const tokens = Math.min(policy.burst, bucket.tokens + elapsedSeconds * policy.perSecond);
  if (tokens < 1) return { allowed: false, bucket: { tokens, at: now } };
  return { allowed: true, bucket: { tokens: tokens - 1, at: now } };
}
