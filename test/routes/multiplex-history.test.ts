/** `GET /history?topics=&cursor=&wait=`: one long-poll for many topics, each page exactly what its own /history answers. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { maxStreams } from "../../src/config";
import { subscribeToken } from "../helpers/auth";
import { PUBLIC, positionOf, publishTo, SECRET, settledSubscribers } from "../helpers/multiplex";
import { fetchWorker } from "../helpers/socket";

const [a, b, c, d] = PUBLIC as [string, string, string, string];
type Page = { topic: string; epoch: string; messages: { seq: number; value: unknown }[] };
type Answer = { topics: Record<string, Page>; cursor: string; error: { code: string; message: string } };

const poll = async (query: string, headers: Record<string, string> = {}) => {
  const response = await fetchWorker(`/history${query}`, { headers });
  return { status: response.status, body: (await response.json()) as Answer };
};
/** What `GET /topics/:topic/history?since=` answers: each page of a multiplexed answer must be exactly that. */
const ownPage = async (topic: string, since: number) => (await fetchWorker(`/topics/${topic}/history?since=${since}`)).json();
const cursorOf = async (topics: string[]) =>
  (await Promise.all(topics.map(async (topic) => ({ topic, ...(await positionOf(topic)) }))))
    .map(({ topic, epoch, seq }) => `${topic}=${epoch}:${seq}`)
    .join(",");

describe("GET /history?topics=", () => {
  it("answers at once with each topic's join page (its latest value) and the cursor to ask with next", async () => {
    await publishTo(a, "a1");
    await publishTo(a, "a2");
    await publishTo(b, "b1");
    const { status, body } = await poll(`?topics=${a},${b},${c}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      topics: { [a]: await ownPage(a, 1), [b]: await ownPage(b, 0), [c]: await ownPage(c, 0) },
      cursor: await cursorOf([a, b, c]),
    });
    expect(body.topics[a]?.messages.map((m) => m.value)).toEqual(["a2"]);
    expect(body.topics[c]?.messages).toEqual([]);
  });

  it("holds until any topic has a metric after its position, then answers every topic's page", async () => {
    const cursor = await cursorOf([a, b, c]);
    const started = Date.now();
    const held = poll(`?topics=${a},${b},${c}&cursor=${cursor}&wait=10`);
    // While it holds, it watches each topic (as a stream).
    for (const topic of [a, b, c]) expect(await settledSubscribers(topic, 1)).toBe(1);
    const [pa, pb, pc] = await Promise.all([a, b, c].map(positionOf));
    await publishTo(c, "c1");
    const { status, body } = await held;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(status).toBe(200);
    expect(body).toEqual({
      topics: { [a]: await ownPage(a, pa?.seq ?? 0), [b]: await ownPage(b, pb?.seq ?? 0), [c]: await ownPage(c, pc?.seq ?? 0) },
      cursor: await cursorOf([a, b, c]),
    });
    expect(body.topics[c]?.messages.map((m) => m.value)).toEqual(["c1"]);
    for (const topic of [a, b, c]) expect(await settledSubscribers(topic, 0)).toBe(0);
  });

  it("answers at once when a metric is already kept, a page at most `limit` long", async () => {
    const [pa, pb] = await Promise.all([a, b].map(positionOf));
    const before = await cursorOf([a, b]);
    await publishTo(b, "b2");
    await publishTo(b, "b3");
    const { body } = await poll(`?topics=${a},${b}&cursor=${before}&wait=10&limit=1`);
    expect(body.topics[b]?.messages.map((m) => [m.seq, m.value])).toEqual([[(pb?.seq ?? 0) + 1, "b2"]]);
    expect(body.topics[a]?.messages).toEqual([]);
    expect(body.cursor).toBe(`${a}=${pa?.epoch}:${pa?.seq},${b}=${pb?.epoch}:${(pb?.seq ?? 0) + 1}`);
  });

  it("answers empty pages, the cursor unchanged, when the wait ends", async () => {
    const cursor = await cursorOf([a, b]);
    const started = Date.now();
    const { body } = await poll(`?topics=${a},${b}&cursor=${cursor}&wait=1`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(Object.values(body.topics).map((page) => page.messages)).toEqual([[], []]);
    expect(body.cursor).toBe(cursor);
  });

  it("rejoins a topic missing from the cursor, in another epoch, or past its seq, and answers at once", async () => {
    const pa = await positionOf(a);
    const pb = await positionOf(b);
    for (const cursor of [`${b}=${pb.epoch}:${pb.seq}`, `${a}=another-epoch:1,${b}=${pb.epoch}:${pb.seq}`]) {
      const { body } = await poll(`?topics=${a},${b}&cursor=${cursor}&wait=10`);
      expect(body.topics[a]).toEqual(await ownPage(a, pa.seq - 1));
      expect(body.cursor).toBe(await cursorOf([a, b]));
    }
    // Past its seq (in its own epoch): its stream says reset, so it rejoins too.
    const started = Date.now();
    const { body } = await poll(`?topics=${a},${b}&cursor=${a}=${pa.epoch}:${pa.seq + 5},${b}=${pb.epoch}:${pb.seq}&wait=10`);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(body.topics[a]).toEqual(await ownPage(a, pa.seq - 1));
    expect(body.cursor).toBe(await cursorOf([a, b]));
  });

  it("refuses every bad input with the error envelope, naming the fix", async () => {
    const cursor = await cursorOf([a]);
    const badCursor =
      'Query parameter "cursor" must be a cursor this server sent: topic=<epoch>:<seq> entries, comma-separated, each topic once, at most 50.';
    const cases: [string, number, string, string][] = [
      ["", 400, "bad_topics", 'Query parameter "topics" must list 1 to 50 topics, comma-separated: ?topics=a,b.'],
      [
        `?topics=${a},A`,
        400,
        "bad_topics",
        'Query parameter "topics" lists "A", which is not a topic name: use 1-64 of a-z 0-9 . _ - starting with a letter or digit.',
      ],
      [`?topics=not-declared,${a}`, 404, "unknown_topic", 'No topic "not-declared" is declared.'],
      [`?topics=${SECRET},${a}`, 401, "token_required", `Topic "${SECRET}" is private: pass a subscribe token as ?token=.`],
      [`?topics=${a}&cursor=nonsense`, 400, "bad_cursor", badCursor],
      [`?topics=${a}&cursor=${cursor},${cursor}`, 400, "bad_cursor", badCursor],
      [`?topics=${a}&cursor=${cursor}&wait=31`, 400, "bad_wait", 'Query parameter "wait" must be from 0 to 30 seconds.'],
      [`?topics=${a}&wait=-1`, 400, "bad_wait", 'Query parameter "wait" must be a whole number from 0.'],
      [`?topics=${a}&limit=0`, 400, "bad_limit", 'Query parameter "limit" must be from 1 to 1000.'],
    ];
    for (const [query, status, code, message] of cases) {
      expect({ query, ...(await poll(query)) }).toEqual({ query, status, body: { error: { code, message } } });
    }
  });

  it("admits private topics only with one token that grants every one of them, prefix grants included", async () => {
    const query = (token: string) => `?topics=${a},${SECRET}&token=${token}`;
    expect(await poll(query(await subscribeToken({ topic: a })))).toEqual({
      status: 403,
      body: { error: { code: "token_wrong_topic", message: `The subscribe token does not grant topic "${SECRET}".` } },
    });
    for (const grant of [{ topics: [SECRET] }, { topics: [a, `${SECRET.slice(0, 1)}*`] }]) {
      const { status, body } = await poll(query(await subscribeToken(grant)));
      expect(status).toBe(200);
      expect(Object.keys(body.topics)).toEqual([a, SECRET]);
    }
  });

  it("refuses a held long-poll at a topic's MAX_STREAMS cap, as a stream; one that answers at once is served", async () => {
    const max = maxStreams(env);
    const full = env.TOPIC.getByName(d);
    const held = await Promise.all(
      Array.from({ length: max }, () => full.fetch(new Request(`https://edgebeat.internal/topics/${d}/events`))),
    );
    const cursor = await cursorOf([a, d]);
    expect(await poll(`?topics=${a},${d}&cursor=${cursor}&wait=5`)).toEqual({
      status: 503,
      body: { error: { code: "topic_full", message: `Topic "${d}" has ${max} streams, its maximum.` } },
    });
    expect(await settledSubscribers(a, 0)).toBe(0);
    expect((await poll(`?topics=${a},${d}&cursor=${cursor}&wait=0`)).status).toBe(200);
    expect((await poll(`?topics=${a},${d}&wait=5`)).status).toBe(200);
    await Promise.all(held.map((stream) => stream.body?.cancel()));
    expect(await settledSubscribers(d, 0)).toBe(0);
  });
});
