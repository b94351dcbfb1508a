/** `GET /events?topics=`: many topics' streams merged into one, ids a combined cursor that resumes every topic. */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { combinedCursor, MAX_TOPICS_PER_CONNECTION, parseCursor } from "../../src/client/positions";
import { maxStreams } from "../../src/config";
import { subscribeToken } from "../helpers/auth";
import { byTopic, PUBLIC, positionOf, publishTo, readRawUntil, SECRET, settledSubscribers } from "../helpers/multiplex";
import { fetchWorker } from "../helpers/socket";
import { readSse } from "../helpers/sse";

const [a, b, c, d] = PUBLIC as [string, string, string, string];
const open = (query: string, headers: Record<string, string> = {}) => fetchWorker(`/events${query}`, { headers });
const hello = (topic: string, seq: number, epoch: string, recovered?: boolean) => ({
  type: "hello",
  topic,
  seq,
  epoch,
  serverTime: expect.any(Number),
  ...(recovered === undefined ? {} : { recovered }),
});
const metric = (topic: string, seq: number, value: string) => ({
  type: "metric",
  topic,
  seq,
  value,
  ts: expect.any(Number),
  runId: `post:${value}`,
});
/** An event's id, read as each topic's position: the id must be a combined cursor. */
const positions = (id: string | null) => Object.fromEntries(parseCursor(id ?? "") ?? [["not a cursor", id]]);

describe("GET /events?topics=", () => {
  it("streams every topic's join, then each broadcast, each event id'd with every topic's position", async () => {
    await publishTo(a, "a1");
    await publishTo(b, "b1");
    await publishTo(b, "b2");
    const [pa, pb, pc] = await Promise.all([a, b, c].map(positionOf));
    const response = await open(`?topics=${a},${b},${c}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/event-stream; charset=utf-8");
    const events = readSse(response);
    const join = await byTopic(events, 5);
    expect(events.retry()).toBe(1000);
    expect(Object.fromEntries(Object.entries(join.topics).map(([topic, list]) => [topic, list.map((e) => e.frame)]))).toEqual({
      [a]: [hello(a, 1, pa?.epoch as string), metric(a, 1, "a1")],
      [b]: [hello(b, 2, pb?.epoch as string), metric(b, 2, "b2")],
      [c]: [hello(c, 0, pc?.epoch as string)],
    });
    // Each event's id holds its own topic's position after it; the last one, every topic's, in the order listed.
    for (const event of join.all) {
      const frame = event.frame as { topic: string; seq: number };
      expect(positions(event.id)[frame.topic]).toEqual({ epoch: (await positionOf(frame.topic)).epoch, since: frame.seq });
    }
    const all = `${a}=${pa?.epoch}:1,${b}=${pb?.epoch}:2,${c}=${pc?.epoch}:0`;
    expect(join.all.at(-1)?.id).toBe(all);
    for (const topic of [a, b, c]) expect(await settledSubscribers(topic, 1)).toBe(1);

    await publishTo(b, "b3");
    expect(await events.next()).toEqual({ id: all.replace(`${pb?.epoch}:2`, `${pb?.epoch}:3`), frame: metric(b, 3, "b3") });
    await events.close();
    // A client gone away cancels every topic's stream.
    for (const topic of [a, b, c]) expect(await settledSubscribers(topic, 0)).toBe(0);
  });

  it("resumes each topic from the combined cursor as its own stream resumes from <epoch>:<seq>", async () => {
    const [pa, pb, pc] = await Promise.all([a, b, c].map(positionOf));
    await publishTo(a, "a2");
    await publishTo(b, "b4");
    const cursor = `${a}=${pa?.epoch}:${pa?.seq},${b}=another-epoch:2`;
    for (const headers of [{ "Last-Event-ID": cursor }, {} as Record<string, string>]) {
      const query = `?topics=${a},${b},${c}${"Last-Event-ID" in headers ? "" : `&lastEventId=${cursor}`}`;
      const events = readSse(await open(query, headers));
      const join = await byTopic(events, 6);
      // a resumes (its replay), b is in another epoch (reset, then the latest), c is missing: it starts fresh.
      expect(join.topics).toEqual({
        [a]: [
          { id: expect.any(String), frame: hello(a, 2, pa?.epoch as string, true) },
          { id: expect.any(String), frame: metric(a, 2, "a2") },
        ],
        [b]: [
          { id: expect.any(String), frame: hello(b, 4, pb?.epoch as string, false) },
          { id: null, frame: { type: "reset", topic: b, seq: 4 } },
          { id: expect.any(String), frame: metric(b, 4, "b4") },
        ],
        [c]: [{ id: expect.any(String), frame: hello(c, 0, pc?.epoch as string) }],
      });
      // The resumed hello is id'd at the resume point, as on a topic's own stream.
      expect(positions(join.topics[a]?.[0]?.id ?? null)[a]).toEqual({ epoch: pa?.epoch, since: 1 });
      expect(join.all.filter((event) => event.id !== null).at(-1)?.id).toBe(
        `${a}=${pa?.epoch}:2,${b}=${pb?.epoch}:4,${c}=${pc?.epoch}:0`,
      );
      await events.close();
    }
  });

  it("collapses duplicates and ignores cursor entries of topics it does not list", async () => {
    const [pa, pb] = await Promise.all([a, b].map(positionOf));
    const events = readSse(await open(`?topics=${a},${a},${b},${a}&lastEventId=${d}=e-1:3`));
    const join = await byTopic(events, 4);
    expect(Object.keys(join.topics).sort()).toEqual([a, b].sort());
    expect(join.topics[a]?.map((event) => event.frame.type)).toEqual(["hello", "metric"]);
    expect(join.all.at(-1)?.id).toBe(`${a}=${pa?.epoch}:${pa?.seq},${b}=${pb?.epoch}:${pb?.seq}`);
    expect(await settledSubscribers(a, 1)).toBe(1);
    await events.close();
    expect(await settledSubscribers(a, 0)).toBe(0);
  });

  it("refuses every bad input with the error envelope, naming the fix", async () => {
    const many = Array.from({ length: MAX_TOPICS_PER_CONNECTION + 1 }, (_, i) => `t${i}`);
    const badCursor =
      "Last-Event-ID (or ?lastEventId=) must be an id this stream sent: topic=<epoch>:<seq> entries, comma-separated, each topic once, at most 50.";
    const notName = (name: string) =>
      `Query parameter "topics" lists "${name}", which is not a topic name: use 1-64 of a-z 0-9 . _ - starting with a letter or digit.`;
    const list = 'Query parameter "topics" must list 1 to 50 topics, comma-separated: ?topics=a,b.';
    const cases: [string, Record<string, string>, number, string, string][] = [
      ["", {}, 400, "bad_topics", list],
      ["?topics=", {}, 400, "bad_topics", list],
      [`?topics=${a},,${b}`, {}, 400, "bad_topics", notName("")],
      [`?topics=${a},Nope`, {}, 400, "bad_topics", notName("Nope")],
      [
        `?topics=${many.join(",")}`,
        {},
        400,
        "bad_topics",
        'Query parameter "topics" lists 51 topics; one connection carries at most 50: split them over two.',
      ],
      [`?topics=${many.slice(1).join(",")}`, {}, 404, "unknown_topic", 'No topic "t1" is declared.'],
      [`?topics=${a},not-declared`, {}, 404, "unknown_topic", 'No topic "not-declared" is declared.'],
      [`?topics=${a},${SECRET}`, {}, 401, "token_required", `Topic "${SECRET}" is private: pass a subscribe token as ?token=.`],
      [`?topics=${a}`, { "Last-Event-ID": "not-a-cursor" }, 400, "bad_last_event_id", badCursor],
      [`?topics=${a}`, { "Last-Event-ID": `${a}=e-1:1,${a}=e-1:2` }, 400, "bad_last_event_id", badCursor],
      [`?topics=${a}&lastEventId=${a}=e-1:x`, {}, 400, "bad_last_event_id", badCursor],
      [`?topics=${a}&lastEventId=e-1:1`, {}, 400, "bad_last_event_id", badCursor],
      [`?topics=${a}&lastEventId=${many.map((name) => `${name}=e:1`).join(",")}`, {}, 400, "bad_last_event_id", badCursor],
      [
        `?topics=${a}`,
        { Origin: "https://elsewhere.example" },
        403,
        "origin_not_allowed",
        "Origin https://elsewhere.example may not subscribe; see ALLOWED_ORIGINS.",
      ],
    ];
    for (const [query, headers, status, code, message] of cases) {
      const response = await open(query, headers);
      expect({ query, status: response.status, body: await response.json() }).toEqual({
        query,
        status,
        body: { error: { code, message } },
      });
    }
    for (const topic of [a, b]) expect(await settledSubscribers(topic, 0)).toBe(0);
  });

  it("admits private topics only with one token that grants every one of them, prefix grants included", async () => {
    const query = (token: string) => `?topics=${a},${SECRET}&token=${token}`;
    const refusals: [string, number, string][] = [
      [await subscribeToken({ topic: a }), 403, `The subscribe token does not grant topic "${SECRET}".`],
      [await subscribeToken({ topic: SECRET }, { exp: -10 }), 401, "The subscribe token has expired."],
      [
        await subscribeToken({ topic: SECRET }, { secret: "not-the-secret" }),
        401,
        expect.stringMatching(/^The subscribe token is not valid/),
      ],
    ];
    for (const [token, status, message] of refusals) {
      const response = await open(query(token));
      expect([response.status, ((await response.json()) as { error: { message: string } }).error.message]).toEqual([
        status,
        message,
      ]);
    }
    for (const grant of [{ topic: SECRET }, { topics: [a, `${SECRET.slice(0, 1)}*`] }]) {
      const response = await open(query(await subscribeToken(grant)), { Origin: env.ALLOWED_ORIGINS });
      expect(response.status).toBe(200);
      expect(response.headers.get("Access-Control-Allow-Origin")).toBe(env.ALLOWED_ORIGINS);
      const events = readSse(response);
      const join = await byTopic(events, (await positionOf(SECRET)).seq > 0 ? 4 : 3);
      expect(Object.keys(join.topics).sort()).toEqual([a, SECRET].sort());
      await events.close();
    }
  });

  it("refuses as the per-topic route does when a topic is at its MAX_STREAMS cap, and leaves no stream open", async () => {
    const max = maxStreams(env);
    const full = env.TOPIC.getByName(d);
    const held = await Promise.all(
      Array.from({ length: max }, () => full.fetch(new Request(`https://edgebeat.internal/topics/${d}/events`))),
    );
    expect(held.map((response) => response.status)).toEqual(Array(max).fill(200));
    const response = await open(`?topics=${a},${d}`);
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("30");
    expect(await response.json()).toEqual({
      error: { code: "topic_full", message: `Topic "${d}" has ${max} streams, its maximum.` },
    });
    expect(await settledSubscribers(a, 0)).toBe(0);
    await Promise.all(held.map((stream) => stream.body?.cancel()));
    expect(await settledSubscribers(d, 0)).toBe(0);
  });

  it("passes on one keep-alive per interval, not one per topic", async () => {
    const topics = [a, b, c];
    const response = await open(`?topics=${topics.join(",")}`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const joined = await Promise.all(topics.map(positionOf));
    const cursor = combinedCursor(
      topics.map((topic, i) => [topic, { epoch: joined[i]?.epoch as string, since: joined[i]?.seq ?? 0 }]),
    );
    await readRawUntil(reader, (text) => text.includes(`id: ${cursor}\n`));
    const keepAlive = async () => {
      for (const topic of topics) {
        await runInDurableObject(env.TOPIC.getByName(topic), (_instance, state) => {
          state.storage.sql.exec("UPDATE schedules SET at = ? WHERE kind = 'keepalive'", Date.now() - 1);
        });
        await runDurableObjectAlarm(env.TOPIC.getByName(topic));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    };
    await keepAlive();
    await keepAlive(); // within the interval: none passes
    await publishTo(a, "a-after-keepalive");
    const seq = (await positionOf(a)).seq;
    const text = await readRawUntil(reader, (read) => read.includes('"value":"a-after-keepalive"'));
    expect(text).toMatch(
      new RegExp(`^: keep-alive\\n\\nid: [^\\n]+\\ndata: \\{"type":"metric","topic":"${a}","seq":${seq},[^\\n]+\\n\\n$`),
    );
    await reader.cancel();
  });

  it("ends when one topic's stream ends, and cancels the others, so the client resumes with the cursor", async () => {
    const response = await open(`?topics=${a},${b},${c}`);
    const events = readSse(response);
    await byTopic(events, (await positionOf(a)).seq > 0 ? 5 : 4);
    // An object reset (as a deploy or a crash resets it) ends its streams.
    await runInDurableObject(env.TOPIC.getByName(b), (_instance, state) => state.abort()).catch(() => {});
    await expect(events.next(3_000)).rejects.toThrow("the stream ended");
    for (const topic of [a, b, c]) expect(await settledSubscribers(topic, 0)).toBe(0);
  });
});
