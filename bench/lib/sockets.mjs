/** Opening many subscribers without a thundering herd of our own: batches of 100, a timeout each. */
import { withTimeout } from "../../scripts/lib/wait.mjs";

/**
 * Calls `open(i)` for i = 0..n-1, `batchSize` at a time; each open must settle within `timeoutMs`.
 * @template T
 * @param {number} n
 * @param {(i: number) => Promise<T>} open
 * @param {{ batchSize?: number, timeoutMs?: number, onBatch?: (opened: number, failed: number) => void }} [options]
 * @returns {Promise<{ opened: T[], failures: { index: number, error: string }[] }>}
 */
export async function openInBatches(n, open, { batchSize = 100, timeoutMs = 15_000, onBatch } = {}) {
  /** @type {T[]} */
  const opened = [];
  /** @type {{ index: number, error: string }[]} */
  const failures = [];
  for (let start = 0; start < n; start += batchSize) {
    const indexes = Array.from({ length: Math.min(batchSize, n - start) }, (_, k) => start + k);
    const results = await Promise.allSettled(indexes.map((i) => withTimeout(open(i), timeoutMs, `subscriber ${i}`)));
    results.forEach((result, k) => {
      if (result.status === "fulfilled") opened.push(result.value);
      else failures.push({ index: start + k, error: String(result.reason?.message ?? result.reason) });
    });
    onBatch?.(opened.length, failures.length);
  }
  return { opened, failures };
}

// The benches' waiting helpers are the dev server's own; re-exported here, where the benches import them.
export { sleep, waitFor, withTimeout } from "../../scripts/lib/wait.mjs";
