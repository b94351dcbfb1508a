/** The demo jobs' failures name their fix: a D1 without migrations, an unreachable feed. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PermanentError } from "../../src/cron/job";
import { events } from "../../src/cron/jobs/events";
import { feed } from "../../src/cron/jobs/feed";

const context = (overrides: Partial<Env> = {}) => ({
  env: { ...env, ...overrides },
  scheduledTime: Math.floor(Date.now() / 60_000) * 60_000,
  signal: new AbortController().signal,
  attempt: 1,
  topics: [],
  params: null,
});

describe("job errors", () => {
  it("tells how to apply the migrations when D1 has no events table", async () => {
    await env.DB.exec("ALTER TABLE events RENAME TO events_away");
    try {
      const run = events.compute(context());
      await expect(run).rejects.toBeInstanceOf(PermanentError);
      await expect(run).rejects.toThrow(
        "D1 has no events table: apply the migrations with `npx wrangler d1 migrations apply DB --local` (npm start does it for you; `--remote` for production)",
      );
    } finally {
      await env.DB.exec("ALTER TABLE events_away RENAME TO events");
    }
  });

  it("names the feed URL it could not reach", async () => {
    const url = "http://127.0.0.1:9/feed.json";
    await expect(feed.compute(context({ FEED_URL: url }))).rejects.toThrow(
      new RegExp(`^${url.replaceAll(".", "\\.")} is unreachable: .+`),
    );
  });
});
