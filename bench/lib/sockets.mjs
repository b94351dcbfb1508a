/** Opening many subscribers without a thundering herd of our own: batches of 100, a timeout each. */

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

/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what
 * @returns {Promise<T>}
 */
export function withTimeout(promise, ms, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Resolves once `done()` is true (checked every `everyMs`), or rejects after `timeoutMs`.
 * @param {string} what
 * @param {() => boolean} done
 * @param {number} timeoutMs
 * @param {number} [everyMs]
 */
export async function waitFor(what, done, timeoutMs, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
