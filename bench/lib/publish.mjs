/** Publishing to a topic the way a careful publisher does: an id per value, retried until accepted. */
import { sleep } from "./sockets.mjs";

/** Answers that retrying cannot fix: the bench itself is wrong. */
const FATAL = new Set([400, 401, 403, 404, 409, 413]);

/**
 * POSTs `value` with idempotency key `id` until the server answers 202; a network error, a
 * timeout or a 5xx is retried after `retryMs` with the same id, so the value is published once.
 * @param {string} topicUrl e.g. http://127.0.0.1:8787/topics/announcements
 * @param {{ value: unknown, id: string, token: string, timeoutMs?: number, retryMs?: number }} options
 * @returns {Promise<{ seq: number, duplicate: boolean, attempts: number, errors: string[], ms: number }>}
 */
export async function publishUntilAccepted(topicUrl, { value, id, token, timeoutMs = 5_000, retryMs = 200 }) {
  const started = performance.now();
  /** @type {string[]} */
  const errors = [];
  for (let attempts = 1; ; attempts++) {
    try {
      const response = await fetch(topicUrl, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ value, id }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      if (response.status === 202) {
        const { seq, duplicate } = JSON.parse(text);
        return { seq, duplicate, attempts, errors, ms: Math.round(performance.now() - started) };
      }
      if (FATAL.has(response.status)) throw new Error(`POST ${topicUrl} answered ${response.status}: ${text.slice(0, 200)}`);
      errors.push(`${response.status}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("POST ")) throw error;
      const cause = /** @type {{ cause?: { code?: string } }} */ (error).cause?.code;
      errors.push(cause ?? (error instanceof Error ? error.name : String(error)));
    }
    await sleep(retryMs);
  }
}
