import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fullJitterDelay } from "../../src/client/backoff";
import { DEFAULT_BACKOFF } from "../../src/client/subscribe";

describe("full-jitter backoff (job retries and reconnects)", () => {
  it("waits random() times the capped exponential step", () => {
    const policy = { baseMs: 100, maxMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((n) => fullJitterDelay(n, policy, () => 0.5))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((n) => fullJitterDelay(n, policy, () => 0))).toEqual([0, 0, 0, 0, 0]);
    expect(fullJitterDelay(30, policy, () => 0.999)).toBe(999);
  });

  it("stays within [0, min(maxMs, baseMs × 2^(retry−1))) for any retry and random value", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, r) => {
        const cap = Math.min(DEFAULT_BACKOFF.maxMs, DEFAULT_BACKOFF.baseMs * 2 ** (retry - 1));
        const delay = fullJitterDelay(retry, DEFAULT_BACKOFF, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(cap);
      }),
      { numRuns: 1_000 },
    );
  });

  it("grows the window exponentially up to the cap", () => {
    const windows = [1, 2, 3, 4, 5, 6, 7, 8].map((retry) => fullJitterDelay(retry, DEFAULT_BACKOFF, () => 0.999_999) + 1);
    expect(windows).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it("spreads a crowd of clients evenly over the window instead of a thundering herd", () => {
    // 10,000 clients on their 6th retry, each with its own random draw (a seeded generator here).
    let state = 42;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const cap = 16_000;
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const delay = fullJitterDelay(6, DEFAULT_BACKOFF, random);
      buckets[Math.floor((delay / cap) * 10)] = (buckets[Math.floor((delay / cap) * 10)] ?? 0) + 1;
    }
    // Every tenth of the window gets 10 % ± 1.5 % of the reconnects.
    for (const count of buckets) expect(Math.abs(count - 1_000)).toBeLessThan(150);
  });
});
