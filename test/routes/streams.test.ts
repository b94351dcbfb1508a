/** `GET /topics/:topic/events`: the WebSocket's frames as Server-Sent Events, resumed by Last-Event-ID. */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KEEPALIVE_MS } from "../../src/durable/streams";
import { publishHeaders, subscribeToken } from "../helpers/auth";
import { postedTopic, TOPICS } from "../helpers/registry";
import { fetchWorker } from "../helpers/socket";
import { readSse } from "../helpers/sse";

const topic = postedTopic();
const publish = (value: unknown) =>
  fetchWorker(`/topics/${topic}`, { method: "POST", headers: publishHeaders(), body: JSON.stringify({ value }) });
const open = (query = "", headers: Record<string, string> = {}) => fetchWorker(`/topics/${topic}/events${query}`, { headers });

describe("GET /topics/:topic/events", () => {
  it("streams hello, then every metric with id <epoch>:<seq>, and counts as a subscriber", async () => {
    const response = await open();
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/event-stream; charset=utf-8");
    const events = readSse(response);
    const hello = await events.next();
    expect(hello.frame).toMatchObject({ type: "hello", topic, seq: 0 });
    const epoch = (hello.frame as { epoch: string }).epoch;
    expect(hello.id).toBe(`${epoch}:0`);
    expect(events.retry()).toBe(1000);
    expect((await env.TOPIC.getByName(topic).snapshot()).subscribers).toBe(1);
    await publish({ n: 1 });
    expect(await events.next()).toEqual({
      id: `${epoch}:1`,
      frame: { type: "metric", topic, seq: 1, value: { n: 1 }, ts: expect.any(Number), runId: "post:1" },
    });
    await events.close();
    // A client gone away is forgotten: the cancel reaches the object through the Worker.
    for (let i = 0; i < 100 && (await env.TOPIC.getByName(topic).snapshot()).subscribers > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await env.TOPIC.getByName(topic).snapshot()).subscribers).toBe(0);
  });

  it("resumes from Last-Event-ID exactly as since + epoch does, and resets on another epoch", async () => {
    const first = readSse(await open());
    const hello = await first.next();
    const epoch = (hello.frame as { epoch: string }).epoch;
    const seq = (hello.frame as { seq: number }).seq;
    await first.close();
    await publish("a");
    await publish("b");
    const resumed = readSse(await open("", { "Last-Event-ID": `${epoch}:${seq}` }));
    // The hello is id'd at the resume point, so a stream cut during the replay resumes there again.
    expect(await resumed.next()).toMatchObject({
      id: `${epoch}:${seq}`,
      frame: { type: "hello", seq: seq + 2, recovered: true },
    });
    expect([(await resumed.next()).frame, (await resumed.next()).frame]).toMatchObject([
      { type: "metric", seq: seq + 1, value: "a" },
      { type: "metric", seq: seq + 2, value: "b" },
    ]);
    await resumed.close();
    const byQuery = readSse(await open(`?since=${seq + 1}&epoch=${epoch}`));
    expect((await byQuery.next()).frame).toMatchObject({ type: "hello", recovered: true });
    expect((await byQuery.next()).frame).toMatchObject({ seq: seq + 2 });
    await byQuery.close();
    const other = readSse(await open("", { "Last-Event-ID": `another-epoch:${seq}` }));
    expect((await other.next()).frame).toMatchObject({ type: "hello", seq: seq + 2, recovered: false });
    expect((await other.next()).frame).toEqual({ type: "reset", topic, seq: seq + 2 });
    await other.close();
  });

  it("refuses what a WebSocket subscriber would be refused, as HTTP errors", async () => {
    // ALLOWED_ORIGINS (the test env lists one origin) applies to streams as to sockets.
    const elsewhere = await open("", { Origin: "https://elsewhere.example" });
    expect(elsewhere.status).toBe(403);
    expect(((await elsewhere.json()) as { error: { code: string } }).error.code).toBe("origin_not_allowed");
    const listed = await open("", { Origin: env.ALLOWED_ORIGINS.split(",")[0] as string });
    expect(listed.status).toBe(200);
    await listed.body?.cancel();
    const cases: [string, Record<string, string>, number, string][] = [
      ["", { "Last-Event-ID": "not-an-id" }, 400, "bad_last_event_id"],
      ["?since=x", {}, 400, "bad_since"],
    ];
    for (const [query, headers, status, code] of cases) {
      const response = await open(query, headers);
      expect({ status: response.status, code: ((await response.json()) as { error: { code: string } }).error.code }).toEqual({
        status,
        code,
      });
    }
    expect((await fetchWorker("/topics/not-declared/events")).status).toBe(404);
    const secret = TOPICS.find((info) => info.private)?.topic as string;
    expect((await fetchWorker(`/topics/${secret}/events`)).status).toBe(401);
    const token = await subscribeToken({ topic: secret });
    const granted = await fetchWorker(`/topics/${secret}/events?token=${token}`);
    expect(granted.status).toBe(200);
    await granted.body?.cancel();
  });
});

describe("the keep-alive", () => {
  const keepAliveAt = () =>
    runInDurableObject(env.TOPIC.getByName(topic), (_instance, state) => {
      return state.storage.sql.exec<{ at: number }>("SELECT at FROM schedules WHERE kind = 'keepalive'").toArray()[0]?.at ?? null;
    });
  const due = () =>
    runInDurableObject(env.TOPIC.getByName(topic), (_instance, state) => {
      state.storage.sql.exec("UPDATE schedules SET at = ? WHERE kind = 'keepalive'", Date.now() - 1);
    });

  it("runs on the topic's alarm every 25 s while a stream is open, and stops with the last one", async () => {
    const before = Date.now();
    const response = await open();
    const raw = (response.body as ReadableStream<Uint8Array>).getReader();
    await raw.read(); // retry and hello
    // About KEEPALIVE_MS after the stream opened (workerd's clocks move only with I/O: allow 1 s).
    const aheadOf = async (from: number) => ((await keepAliveAt()) ?? 0) - from;
    expect(await aheadOf(before)).toBeGreaterThan(KEEPALIVE_MS - 1_000);
    expect(await aheadOf(Date.now())).toBeLessThanOrEqual(KEEPALIVE_MS);
    await due();
    await runDurableObjectAlarm(env.TOPIC.getByName(topic));
    expect(new TextDecoder().decode((await raw.read()).value)).toBe(": keep-alive\n\n");
    expect(await aheadOf(Date.now())).toBeGreaterThan(KEEPALIVE_MS - 1_000);
    await raw.cancel();
    for (let i = 0; i < 100 && (await env.TOPIC.getByName(topic).snapshot()).subscribers > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await due();
    await runDurableObjectAlarm(env.TOPIC.getByName(topic));
    expect(await keepAliveAt()).toBeNull();
  });
});

describe("GET /topics/:topic/history?wait= (long-poll)", () => {
  const latest = async () => (await env.TOPIC.getByName(topic).snapshot()).seq;
  const poll = async (query: string) => {
    const response = await fetchWorker(`/topics/${topic}/history${query}`);
    return { status: response.status, body: (await response.json()) as { messages: { seq: number }[]; error: { code: string } } };
  };

  it("holds until a metric after since exists, then answers as /history does", async () => {
    const since = await latest();
    const started = Date.now();
    const held = poll(`?since=${since}&wait=10`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await publish("late");
    const { status, body } = await held;
    expect(status).toBe(200);
    expect(body).toEqual({
      topic,
      epoch: expect.stringMatching(/^[\w-]+$/),
      status: "ok",
      detail: "",
      messages: [expect.objectContaining({ type: "metric", seq: since + 1, value: "late" })],
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    // A metric already kept answers at once.
    expect((await poll(`?since=${since}&wait=10`)).body.messages).toHaveLength(1);
  });

  it("answers an empty page when the wait ends, and refuses a wait over 30 s", async () => {
    const started = Date.now();
    expect((await poll(`?since=${await latest()}&wait=1`)).body.messages).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(await poll("?wait=31")).toMatchObject({ status: 400, body: { error: { code: "bad_wait" } } });
  });
});
