/** Job health end to end: a failing feed turns a connected client's topic failing, then ok; a silent job turns stale by itself. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fireCron } from "../../scripts/lib/wrangler-dev.mjs";
import { getJson, setUpServer } from "./server";

let feed: Server;
/** What the feed answers: a status and a body the test switches between. */
let feedAnswer = { status: 200, body: '{"queue": 7}' };
let feedUrl = "";

// A real HTTP endpoint on loopback for the feed job to pull from (started before the dev server).
beforeAll(async () => {
  feed = createServer((_req, res) =>
    res.writeHead(feedAnswer.status, { "Content-Type": "application/json" }).end(feedAnswer.body),
  );
  await new Promise<void>((resolve) => feed.listen(0, "127.0.0.1", resolve));
  feedUrl = `http://127.0.0.1:${(feed.address() as AddressInfo).port}/metric`;
});

afterAll(async () => {
  await new Promise((resolve) => feed?.close(resolve));
});

const dev = setUpServer(() => ({ FEED_URL: feedUrl }));
const subscribe = (path: string) => dev.subscribe(path);

const MINUTE = Math.floor(Date.now() / 60_000) * 60_000;

describe("a failing job, seen by a connected client", () => {
  it("publishes the feed, turns failing when it breaks, and ok when it recovers", async () => {
    const client = await subscribe("/topics/feed");
    expect(await client.nextFrame()).toMatchObject({ type: "hello", topic: "feed", seq: 0 });

    expect((await fireCron(dev.server.url, "* * * * *", MINUTE)).status).toBe(200);
    expect(await client.nextFrame()).toMatchObject({ type: "metric", seq: 1, value: { queue: 7 }, runId: `feed@${MINUTE}` });

    feedAnswer = { status: 503, body: '{"error": "maintenance"}' };
    const broken = MINUTE + 60_000;
    // The firing fails as a whole (the feed job failed after its retries), but it still answers.
    expect((await fireCron(dev.server.url, "* * * * *", broken)).status).toBe(500);
    expect(await client.nextFrame({ timeoutMs: 15_000 })).toEqual({
      type: "status",
      topic: "feed",
      state: "failing",
      detail: expect.stringMatching(
        new RegExp(`^Run feed@${broken} failed after 3 attempts: http://127\\.0\\.0\\.1:\\d+/metric answered 503$`),
      ),
    });
    const { body } = await getJson(dev.server, "/jobs");
    const feedJob = (
      body as { jobs: { name: string; status: string; lastRun: { status: string; attempts: number } }[] }
    ).jobs.find((job) => job.name === "feed");
    expect(feedJob).toMatchObject({ status: "failing", lastRun: { status: "failed", attempts: 3 } });

    feedAnswer = { status: 200, body: '{"queue": 3}' };
    expect((await fireCron(dev.server.url, "* * * * *", MINUTE + 120_000)).status).toBe(200);
    expect(await client.nextFrame()).toMatchObject({ type: "metric", seq: 2, value: { queue: 3 } });
    expect(await client.nextFrame()).toEqual({ type: "status", topic: "feed", state: "ok", detail: "Runs arrive on time." });
  });
});

describe("a job that stops being scheduled", () => {
  it("turns its topic stale on connected clients within its grace period, with no cron firing", async () => {
    const client = await subscribe("/topics/uptime");
    await client.nextFrame();
    // A late run of an old slot: its successor was due long ago, so its deadline has passed too,
    // and the topic object's own alarm (no cron involved) turns it stale right after.
    const fiveMinutes = Math.floor(Date.now() / 300_000) * 300_000;
    expect((await fireCron(dev.server.url, "*/5 * * * *", fiveMinutes - 600_000)).status).toBe(200);
    expect(await client.nextFrame()).toMatchObject({ type: "metric", topic: "uptime", seq: 1 });
    const stale = await client.nextFrame({ timeoutMs: 10_000 });
    expect(stale).toMatchObject({ type: "status", topic: "uptime", state: "stale" });
    expect(await getJson(dev.server, "/topics/uptime")).toMatchObject({ body: { status: "stale" } });
  });
});
