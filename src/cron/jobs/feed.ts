/**
 * `feed`: pulls a JSON document from `FEED_URL` and publishes it — the classic "a task fetches a
 * fresh metric from an API". An unreachable feed, a non-2xx answer or a body that is not JSON is a
 * failed attempt (retried); an unset FEED_URL is a PermanentError that /jobs shows until it is set.
 */
import type { Json } from "../../client/protocol";
import { defineJob, PermanentError } from "../../edgebeat";

/** The largest feed body the job accepts; a metric larger than this belongs in storage, not a frame. */
export const MAX_FEED_BYTES = 32 * 1024;

export const feed = defineJob<Json, Env>({
  name: "feed",
  topic: "feed",
  schedule: "* * * * *",
  timeoutMs: 5_000,
  async compute({ env, signal }) {
    const url = env.FEED_URL.trim();
    if (url === "") throw new PermanentError("FEED_URL is not set: point it at a JSON endpoint in wrangler.toml [vars]");
    let response: Response;
    try {
      response = await fetch(url, { signal, headers: { Accept: "application/json" } });
    } catch (error) {
      // The runtime's message ("Network connection lost.") does not say which URL it could not reach.
      throw new Error(`${url} is unreachable: ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = await response.text();
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    if (text.length > MAX_FEED_BYTES) throw new PermanentError(`${url} sent ${text.length} bytes; at most ${MAX_FEED_BYTES}`);
    try {
      return JSON.parse(text) as Json;
    } catch {
      throw new Error(`${url} did not send JSON`);
    }
  },
});
