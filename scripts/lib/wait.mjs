/** Waiting without hanging: a sleep, a poll with a deadline, a race against a timer, and "does this URL answer 200". */

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves once `done()` is true (checked every `everyMs`), or rejects after `timeoutMs` with an
 * error naming `what` (a function is called then, so it can report what it saw).
 * @param {string | (() => string)} what
 * @param {() => boolean | Promise<boolean>} done
 * @param {number} timeoutMs
 * @param {number} [everyMs]
 * @returns {Promise<void>}
 */
export async function waitFor(what, done, timeoutMs, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "function" ? what() : what}`);
    }
    await sleep(everyMs);
  }
}

/**
 * `promise`, or a rejection naming `what` once `ms` have passed without it settling.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} [what]
 * @returns {Promise<T>}
 */
export function withTimeout(promise, ms, what = "promise") {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {Promise<never>} */
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Whether a GET of `url` answers 200 within 2 s; false while nothing listens there yet.
 * @param {string} url
 * @returns {Promise<boolean>}
 */
export async function isServing(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}
