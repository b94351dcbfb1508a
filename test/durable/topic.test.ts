import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { MetricFrame } from "../../src/client/protocol";
import { openTopicSocket } from "../helpers/socket";

const stubFor = (topic: string) => env.TOPIC.getByName(topic);

async function publishMany(topic: string, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) await stubFor(topic).publish({ value: i, runId: `load@${i}` });
}

describe("publish", () => {
  it("gives each publish the next seq and stores the frame", async () => {
    const stub = stubFor("pub-seq");
    expect(await stub.publish({ value: { n: 1 }, runId: "a@1" })).toEqual({ topic: "pub-seq", seq: 1, duplicate: false });
    expect(await stub.publish({ value: { n: 2 }, runId: "a@2", job: "a", scheduledTime: 2, nextExpectedAt: 3 })).toEqual({
      topic: "pub-seq",
      seq: 2,
      duplicate: false,
    });
    const history = await stub.history(0, 10);
    expect(history.map(({ ts, ...rest }) => rest)).toEqual([
      { type: "metric", topic: "pub-seq", seq: 1, value: { n: 1 }, runId: "a@1" },
      { type: "metric", topic: "pub-seq", seq: 2, value: { n: 2 }, runId: "a@2", job: "a", scheduledTime: 2, nextExpectedAt: 3 },
    ]);
    expect(history.every((frame) => typeof frame.ts === "number")).toBe(true);
  });

  it("returns the earlier seq for a runId it has seen and sends nothing", async () => {
    const stub = stubFor("pub-dedupe");
    const socket = await openTopicSocket("pub-dedupe");
    await socket.nextFrame(); // hello
    expect(await stub.publish({ value: 1, runId: "job@100" })).toEqual({ topic: "pub-dedupe", seq: 1, duplicate: false });
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 1, value: 1 });
    expect(await stub.publish({ value: 999, runId: "job@100" })).toEqual({ topic: "pub-dedupe", seq: 1, duplicate: true });
    await socket.expectSilence();
    expect((await stub.snapshot()).seq).toBe(1);
  });

  it("keeps runIds and publish ids in separate namespaces", async () => {
    const stub = stubFor("pub-namespaces");
    expect(await stub.publish({ value: 1, runId: "same" })).toMatchObject({ seq: 1, duplicate: false });
    expect(await stub.publish({ value: 2, id: "same" })).toMatchObject({ seq: 2, duplicate: false });
    expect(await stub.publish({ value: 3, id: "same" })).toMatchObject({ seq: 2, duplicate: true });
    expect(await stub.publish({ value: 4 })).toMatchObject({ seq: 3, duplicate: false });
    expect((await stub.history(1, 10)).map((frame) => frame.runId)).toEqual(["post:same", "post:3"]);
  });

  it("keeps at most HISTORY_LIMIT frames and always the newest", async () => {
    const limit = Number(env.HISTORY_LIMIT);
    await publishMany("pub-bounded", limit + 7);
    const history = await stubFor("pub-bounded").history(0, 1000);
    expect(history).toHaveLength(limit);
    expect(history[0]?.seq).toBe(8);
    expect(history.at(-1)?.seq).toBe(limit + 7);
    const rows = await runInDurableObject(stubFor("pub-bounded"), (_instance, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one(),
    );
    expect(rows.n).toBe(limit);
  });

  it("sends one identical frame to every socket", async () => {
    const sockets = await Promise.all([1, 2, 3].map(() => openTopicSocket("pub-fanout")));
    for (const socket of sockets) await socket.nextFrame();
    await stubFor("pub-fanout").publish({ value: "x", runId: "r@1" });
    const texts = await Promise.all(sockets.map((socket) => socket.nextText()));
    expect(new Set(texts).size).toBe(1);
    expect(JSON.parse(texts[0] as string)).toMatchObject({ type: "metric", topic: "pub-fanout", seq: 1, value: "x" });
    expect((await stubFor("pub-fanout").snapshot()).subscribers).toBe(3);
  });
});

describe("joining", () => {
  it("sends hello then the latest metric", async () => {
    await publishMany("join-latest", 3);
    const socket = await openTopicSocket("join-latest");
    const hello = await socket.nextFrame();
    expect(hello).toEqual({
      type: "hello",
      topic: "join-latest",
      seq: 3,
      epoch: expect.any(String),
      serverTime: expect.any(Number),
    });
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 3, value: 3 });
    await socket.expectSilence();
  });

  it("sends only hello to a topic that never published", async () => {
    const socket = await openTopicSocket("join-empty");
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", seq: 0 });
    await socket.expectSilence();
  });

  it("replays every kept metric after since, in order, with recovered: true", async () => {
    await publishMany("join-resume", 5);
    const { epoch } = (await (await openTopicSocket("join-resume")).nextFrame()) as { epoch: string };
    const socket = await openTopicSocket("join-resume", `?since=2&epoch=${epoch}`);
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", seq: 5, epoch, recovered: true });
    for (const seq of [3, 4, 5]) expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq });
    await socket.expectSilence();
    await stubFor("join-resume").publish({ value: 6, runId: "live@6" });
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 6 });
  });

  it("resumes at the head with nothing to replay", async () => {
    await publishMany("join-head", 2);
    const { epoch } = (await (await openTopicSocket("join-head")).nextFrame()) as { epoch: string };
    const socket = await openTopicSocket("join-head", `?since=2&epoch=${epoch}`);
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", seq: 2, recovered: true });
    await socket.expectSilence();
  });

  it("resets when since is older than the kept history", async () => {
    const limit = Number(env.HISTORY_LIMIT);
    await publishMany("join-old", limit + 3);
    const { epoch } = (await (await openTopicSocket("join-old")).nextFrame()) as { epoch: string };
    const socket = await openTopicSocket("join-old", `?since=2&epoch=${epoch}`);
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", seq: limit + 3, recovered: false });
    expect(await socket.nextFrame()).toEqual({ type: "reset", topic: "join-old", seq: limit + 3 });
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: limit + 3 });
    await socket.expectSilence();
  });

  it("resumes exactly at the oldest kept boundary", async () => {
    const limit = Number(env.HISTORY_LIMIT);
    await publishMany("join-edge", limit + 3);
    const { epoch } = (await (await openTopicSocket("join-edge")).nextFrame()) as { epoch: string };
    const socket = await openTopicSocket("join-edge", `?since=3&epoch=${epoch}`);
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", recovered: true });
    const first = (await socket.nextFrame()) as MetricFrame;
    expect(first.seq).toBe(4);
  });

  it("resets when the epoch differs or is missing", async () => {
    await publishMany("join-epoch", 2);
    for (const query of ["?since=1&epoch=not-this-one", "?since=1"]) {
      const socket = await openTopicSocket("join-epoch", query);
      expect(await socket.nextFrame()).toMatchObject({ type: "hello", recovered: false });
      expect(await socket.nextFrame()).toEqual({ type: "reset", topic: "join-epoch", seq: 2 });
      expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 2 });
    }
  });

  it("resets a client that claims a seq from the future", async () => {
    await publishMany("join-future", 1);
    const { epoch } = (await (await openTopicSocket("join-future")).nextFrame()) as { epoch: string };
    const socket = await openTopicSocket("join-future", `?since=9&epoch=${epoch}`);
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", recovered: false });
    expect(await socket.nextFrame()).toEqual({ type: "reset", topic: "join-future", seq: 1 });
  });
});

describe("hibernation", () => {
  it("delivers to sockets that were hibernated by an eviction", async () => {
    const socket = await openTopicSocket("hib-deliver");
    await socket.nextFrame();
    for (let round = 1; round <= 3; round++) {
      await evictDurableObject(stubFor("hib-deliver"), { webSockets: "hibernate" });
      await stubFor("hib-deliver").publish({ value: round, runId: `r@${round}` });
      expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: round, value: round });
    }
    expect((await stubFor("hib-deliver").snapshot()).subscribers).toBe(1);
  });

  it("answers ping with pong by auto-response, before and after eviction", async () => {
    const socket = await openTopicSocket("hib-ping");
    await socket.nextFrame();
    socket.ws.send("ping");
    expect(await socket.nextText()).toBe("pong");
    await evictDurableObject(stubFor("hib-ping"), { webSockets: "hibernate" });
    socket.ws.send("ping");
    expect(await socket.nextText()).toBe("pong");
    const { autoResponded } = await runInDurableObject(stubFor("hib-ping"), (_instance, state) => ({
      autoResponded: state.getWebSocketAutoResponseTimestamp(state.getWebSockets()[0] as WebSocket) !== null,
    }));
    expect(autoResponded).toBe(true);
  });

  it("keeps the epoch and seq across an eviction", async () => {
    await publishMany("hib-state", 2);
    const before = await openTopicSocket("hib-state");
    const hello = await before.nextFrame();
    await evictDurableObject(stubFor("hib-state"), { webSockets: "hibernate" });
    const after = await openTopicSocket("hib-state");
    expect(await after.nextFrame()).toMatchObject({ type: "hello", seq: 2, epoch: (hello as { epoch: string }).epoch });
  });
});

describe("client frames", () => {
  it("answers any frame but ping with an error frame and stays open", async () => {
    const socket = await openTopicSocket("frames-error");
    await socket.nextFrame();
    socket.ws.send("hello?");
    expect(await socket.nextFrame()).toEqual({
      type: "error",
      code: "unsupported_frame",
      message: 'Subscribers only send "ping"; this topic accepts no other frames.',
    });
    socket.ws.send("ping");
    expect(await socket.nextText()).toBe("pong");
  });

  it("closes with 1009 on a frame over 1 KiB", async () => {
    const socket = await openTopicSocket("frames-big");
    await socket.nextFrame();
    socket.ws.send("x".repeat(1025));
    expect((await socket.closed()).code).toBe(1009);
  });

  it("closes with 1008 past the rate limit, even across hibernation", async () => {
    const socket = await openTopicSocket("frames-rate");
    await socket.nextFrame();
    for (let i = 0; i < 10; i++) socket.ws.send(`junk ${i}`);
    for (let i = 0; i < 10; i++) expect(await socket.nextFrame()).toMatchObject({ type: "error" });
    await evictDurableObject(stubFor("frames-rate"), { webSockets: "hibernate" });
    for (let i = 0; i < 12; i++) socket.ws.send(`junk ${i}`);
    expect((await socket.closed()).code).toBe(1008);
  });
});
