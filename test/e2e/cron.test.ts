/** Cron firings against a real `wrangler dev`: one frame per run to every subscriber, repeats published once, join and resume. */
import { describe, expect, it } from "vitest";
import { fireCron } from "../../scripts/lib/wrangler-dev.mjs";
import { type HelloFrame, type MetricFrame, parseFrame } from "../../src/client/protocol";
import { getJson, setUpServer } from "./server";
import type { E2eSocket } from "./socket";

/**
 * The slots the platform would fire right now. Not fixed constants: after a run, each topic arms a
 * staleness alarm at nextExpectedAt + grace on the real clock, so a slot long past would make the
 * topic send `stale` status frames in the middle of the test.
 */
const NOW = Date.now();
const MINUTE = NOW - (NOW % 60_000);
const FIVE_MINUTES = NOW - (NOW % 300_000);
/** Topics whose counts this file controls; any other (say a sub-minute job's) may publish on its own alarm. */
const KNOWN_TOPICS = ["system", "uptime", "announcements"];

const dev = setUpServer();
const subscribe = (path: string) => dev.subscribe(path);

// The tests run in order and build on each other: one server, one topic history.
describe("cron firings on a real wrangler dev", () => {
  let clients: E2eSocket[] = [];
  let epoch = "";
  let metric: MetricFrame;

  it("greets each subscriber with hello at seq 0", async () => {
    const before = Date.now();
    clients = await Promise.all([1, 2, 3].map(() => subscribe("/topics/system")));
    const hellos = await Promise.all(clients.map((client) => client.nextFrame()));
    const after = Date.now();
    epoch = (hellos[0] as HelloFrame).epoch;
    expect(epoch).toMatch(/.+/);
    for (const hello of hellos) {
      expect(hello).toEqual({ type: "hello", topic: "system", seq: 0, epoch, serverTime: expect.any(Number) });
      expect((hello as HelloFrame).serverTime).toBeGreaterThanOrEqual(before);
      expect((hello as HelloFrame).serverTime).toBeLessThanOrEqual(after);
    }
  });

  it("sends every subscriber the same single metric frame for a firing", async () => {
    // The value lists every declared public topic: the job topics in job order, then wrangler.toml's TOPICS.
    const declared = (await getJson(dev.server, "/topics")).body as { topics: { topic: string; private: boolean }[] };
    const names = declared.topics.filter((info) => !info.private).map((info) => info.topic);
    expect(names).not.toContain("ops");
    expect(names).toEqual(expect.arrayContaining(KNOWN_TOPICS));
    expect(names.slice(0, 2)).toEqual(["system", "uptime"]);
    const before = Date.now();
    expect(await fireCron(dev.server.url, "* * * * *", MINUTE)).toEqual({ status: 200, body: "ok" });
    const after = Date.now();
    const texts = await Promise.all(clients.map((client) => client.nextText()));
    // Serialized once, sent as the same string to every socket.
    expect(new Set(texts).size).toBe(1);
    metric = parseFrame(texts[0] as string) as MetricFrame;
    expect(metric).toEqual({
      type: "metric",
      topic: "system",
      seq: 1,
      // Counted before the publish: system has 3 subscribers and nothing published yet.
      value: {
        topics: names.map((topic) => ({
          topic,
          subscribers: topic === "system" ? 3 : 0,
          published: KNOWN_TOPICS.includes(topic) ? 0 : expect.any(Number),
        })),
      },
      ts: expect.any(Number),
      runId: `system@${MINUTE}`,
      job: "system",
      scheduledTime: MINUTE,
      nextExpectedAt: MINUTE + 60_000,
    });
    expect(metric.ts).toBeGreaterThanOrEqual(before);
    expect(metric.ts).toBeLessThanOrEqual(after);
  });

  it("publishes a repeated firing of the same cron and time only once", async () => {
    expect(await fireCron(dev.server.url, "* * * * *", MINUTE)).toEqual({ status: 200, body: "ok" });
    await Promise.all(clients.map((client) => client.expectSilence(500)));
    expect(await getJson(dev.server, "/topics/system")).toEqual({
      status: 200,
      body: { topic: "system", seq: 1, latest: metric, subscribers: 3, updatedAt: metric.ts, status: "ok" },
    });
  });

  it("runs only the jobs whose schedule is the fired cron", async () => {
    const watcher = await subscribe("/topics/uptime");
    expect(await watcher.nextFrame()).toEqual({
      type: "hello",
      topic: "uptime",
      seq: 0,
      epoch: expect.any(String),
      serverTime: expect.any(Number),
    });
    expect(await fireCron(dev.server.url, "*/5 * * * *", FIVE_MINUTES)).toEqual({ status: 200, body: "ok" });
    const frame = await watcher.nextFrame();
    expect(frame).toEqual({
      type: "metric",
      topic: "uptime",
      seq: 1,
      value: { probes: [{ url: `${dev.server.url}/health`, ok: true, status: 200, latencyMs: expect.any(Number), error: null }] },
      ts: expect.any(Number),
      runId: `uptime@${FIVE_MINUTES}`,
      job: "uptime",
      scheduledTime: FIVE_MINUTES,
      nextExpectedAt: FIVE_MINUTES + 300_000,
    });
    const probe = (frame as MetricFrame & { value: { probes: { latencyMs: number }[] } }).value.probes[0];
    expect(probe?.latencyMs).toBeGreaterThanOrEqual(0);
    await Promise.all(clients.map((client) => client.expectSilence(500)));
  });

  it("sends a late joiner hello, then the latest metric", async () => {
    const late = await subscribe("/topics/system");
    expect(await late.nextFrame()).toEqual({ type: "hello", topic: "system", seq: 1, epoch, serverTime: expect.any(Number) });
    expect(await late.nextFrame()).toEqual(metric);
    await late.expectSilence(300);
  });

  it("replays every metric after since to a resume with the same epoch", async () => {
    const resumed = await subscribe(`/topics/system?since=0&epoch=${encodeURIComponent(epoch)}`);
    expect(await resumed.nextFrame()).toEqual({
      type: "hello",
      topic: "system",
      seq: 1,
      epoch,
      recovered: true,
      serverTime: expect.any(Number),
    });
    expect(await resumed.nextFrame()).toEqual(metric);
    await resumed.expectSilence(300);
  });

  it("resets a resume with another epoch, then sends the latest metric", async () => {
    const stale = await subscribe("/topics/system?since=0&epoch=not-this-epoch");
    expect(await stale.nextFrame()).toEqual({
      type: "hello",
      topic: "system",
      seq: 1,
      epoch,
      recovered: false,
      serverTime: expect.any(Number),
    });
    expect(await stale.nextFrame()).toEqual({ type: "reset", topic: "system", seq: 1 });
    expect(await stale.nextFrame()).toEqual(metric);
  });
});
