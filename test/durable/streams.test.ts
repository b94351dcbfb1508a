/** The Streams of a topic owner: the cap, the lifetime after which the client resumes, keep-alive only while open. */
import { describe, expect, it } from "vitest";
import { eventId, parseEventId } from "../../src/client/positions";
import { encodeFrame } from "../../src/client/protocol";
import { isStreamRequest, Streams, sseEvent } from "../../src/durable/streams";
import { readSse } from "../helpers/sse";

const hello = encodeFrame({ type: "hello", topic: "t", seq: 3, epoch: "e-1", serverTime: 0 });
const request = (headers: Record<string, string> = {}) => new Request("http://topic/topics/t/events", { headers });

describe("Streams", () => {
  it("answers 503 with Retry-After past its cap, and frees a place when a stream ends", async () => {
    const streams = new Streams(1, 60_000);
    const first = streams.accept(request(), "t", () => [hello]);
    expect(first.status).toBe(200);
    const full = streams.accept(request(), "t", () => [hello]);
    expect(full.status).toBe(503);
    expect(full.headers.get("Retry-After")).toBe("30");
    expect(await full.json()).toEqual({ error: { code: "topic_full", message: 'Topic "t" has 1 streams, its maximum.' } });
    await readSse(first).close();
    expect(streams.count()).toBe(0);
    expect(streams.accept(request(), "t", () => [hello]).status).toBe(200);
  });

  it("ends a stream after its lifetime, so the client reconnects with its Last-Event-ID", async () => {
    const streams = new Streams(10, 50);
    const events = readSse(streams.accept(request(), "t", () => [hello]));
    expect(await events.next()).toMatchObject({ id: "e-1:3", frame: { type: "hello" } });
    await expect(events.next(2_000)).rejects.toThrow("the stream ended");
    expect(streams.count()).toBe(0);
  });

  it("starts at the resume point the Last-Event-ID names, and ids each metric with the epoch", async () => {
    const streams = new Streams(10, 60_000);
    let asked: unknown;
    const response = streams.accept(request({ "Last-Event-ID": "e-1:2" }), "t", (since, epoch) => {
      asked = { since, epoch };
      return [hello];
    });
    expect(asked).toEqual({ since: 2, epoch: "e-1" });
    const events = readSse(response);
    await events.next();
    streams.broadcast(sseEvent('{"type":"metric","topic":"t","seq":4}', eventId("e-1", 4)));
    expect(await events.next()).toEqual({ id: "e-1:4", frame: { type: "metric", topic: "t", seq: 4 } });
    await events.close();
    expect(parseEventId("e-1:x")).toBeNull();
    expect(parseEventId("")).toBeNull();
  });
});

describe("isStreamRequest", () => {
  it("keeps a stream open through many events sent in one tick (a batch flush), and ends one whose reader is 1 MiB behind", async () => {
    const streams = new Streams(10, 60_000);
    const events = readSse(streams.accept(request(), "t", () => [hello]));
    expect(await events.next()).toMatchObject({ frame: { type: "hello" } });
    const metric = (seq: number) =>
      sseEvent(encodeFrame({ type: "metric", topic: "t", seq, value: seq, ts: 0, runId: `r@${seq}` }), eventId("e-1", seq));
    for (let seq = 4; seq <= 13; seq++) streams.broadcast(metric(seq));
    for (let seq = 4; seq <= 13; seq++) expect(await events.next()).toMatchObject({ id: `e-1:${seq}`, frame: { seq } });
    expect(streams.count()).toBe(1);
    await events.close();
    expect(streams.count()).toBe(0);
    // Nobody reads this one: once more than 1 MiB waits, the next write ends it (its client resumes).
    const unread = streams.accept(request(), "t", () => [hello]);
    const chunk = `: ${"x".repeat(64 * 1024 - 4)}\n\n`; // 64 KiB
    for (let i = 0; i < 16; i++) streams.broadcast(chunk);
    expect(streams.count()).toBe(1);
    streams.broadcast(chunk);
    expect(streams.count()).toBe(0);
    await unread.body?.cancel();
  });

  it("is the events path of a topic, under any prefix, and not the socket of a topic named events", () => {
    const is = (path: string) => isStreamRequest(new Request(`http://topic${path}`));
    expect([is("/topics/t/events"), is("/live/topics/t/events"), is("/topics/events"), is("/topics/events/events")]).toEqual([
      true,
      true,
      false,
      true,
    ]);
  });
});
