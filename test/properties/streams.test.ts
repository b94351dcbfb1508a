/**
 * Property tests for the inputs of streams and long-polls: any Last-Event-ID, lastEventId, since,
 * epoch, token, wait or limit is never a 5xx, is refused with the error envelope or answered as the
 * resume rule says, and never changes the topic.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { parseEventId } from "../../src/client/positions";
import { MAX_WAIT_SECONDS } from "../../src/routes/validate";
import { publishHeaders, subscribeToken } from "../helpers/auth";
import { postedTopic, TOPICS } from "../helpers/registry";
import { fetchWorker } from "../helpers/socket";

const RUNS = 100;
const topic = postedTopic();
const secret = TOPICS.find((info) => info.private)?.topic as string;

/** Runs a property RUNS times, prints how many cases ran, and fails with fast-check's report. */
async function check<T>(name: string, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>): Promise<void> {
  const details = await fc.check(fc.asyncProperty(arbitrary, predicate), { numRuns: RUNS });
  console.log(`property "${name}": ${details.numRuns} cases, ${details.failed ? "FAILED" : "held"}`);
  if (details.failed) throw new Error(`${fc.defaultReportMessage(details)}\n${String(details.errorInstance)}`);
  expect(details.numRuns).toBe(RUNS);
}

/** One block of a stream, in the order it came: a `retry:` line, or an event with its id and frame. */
type Block = { retry: number } | { id: string | null; frame: Record<string, unknown> };

/**
 * Reads a stream's blocks until `events` events have come (or fails after `timeoutMs`), and always
 * cancels the body: an open stream keeps the object in memory, and the test would leak it.
 */
async function readBlocks(response: Response, events: number, timeoutMs = 2_000): Promise<Block[]> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const blocks: Block[] = [];
  let buffer = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`fewer than ${events} events within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    while (blocks.filter((block) => "frame" in block).length < events) {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk.done) throw new Error("the stream ended");
      buffer += decoder.decode(chunk.value, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const lines = buffer.slice(0, end).split("\n");
        buffer = buffer.slice(end + 2);
        if (lines[0]?.startsWith(":")) continue;
        const retry = lines.find((line) => line.startsWith("retry: "));
        if (retry !== undefined) blocks.push({ retry: Number(retry.slice(7)) });
        const data = lines.find((line) => line.startsWith("data: "));
        if (data === undefined) continue;
        const id = lines.find((line) => line.startsWith("id: "))?.slice(4) ?? null;
        blocks.push({ id, frame: JSON.parse(data.slice(6)) as Record<string, unknown> });
      }
    }
    return blocks;
  } finally {
    clearTimeout(timer);
    await reader.cancel();
  }
}

/** The topic as the tests compare it: seq and epoch, from the object itself (not through the routes under test). */
const state = async (name: string) => {
  const stub = env.TOPIC.getByName(name);
  const page = await stub.poll(0, 1000);
  return { seq: (await stub.snapshot()).seq, epoch: page.epoch, history: JSON.stringify(page.messages) };
};

/** Open streams, counted by the object; cancelled streams must leave it. */
async function settledSubscribers(name: string, expected: number): Promise<number> {
  let count = -1;
  for (let attempt = 0; attempt < 50; attempt++) {
    count = (await env.TOPIC.getByName(name).snapshot()).subscribers;
    if (count === expected) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return count;
}

const WHOLE = /^\d{1,15}$/;
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 2 });
const search = (query: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined));

/** Strings that the validators must tell apart: near misses of numbers and ids, huge ones, unicode and blanks. */
const hostile = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("", " ", "\t", " 1", "1 ", "-1", "+1", "1.5", "1e3", "0x10", "NaN", "Infinity", "٣", "１", "00", "0"),
  fc.integer({ min: -50, max: 60 }).map(String),
  fc.double().map(String),
  fc.stringMatching(/^\d{14,18}$/),
  fc.nat({ max: 5000 }).map((n) => "9".repeat(n)),
);

let epoch = "";
let seq = 0;

beforeAll(async () => {
  for (const value of ["a", "b", "c", "d"]) {
    const init = { method: "POST", headers: publishHeaders(), body: JSON.stringify({ value }) };
    expect((await fetchWorker(`/topics/${topic}`, init)).status).toBe(202);
  }
  ({ epoch, seq } = await state(topic));
  expect(seq).toBe(4);
});

/** Event ids: the topic's own (seq in range and past it), another epoch's, and broken ones. */
const ids = () =>
  fc.oneof(
    fc.nat({ max: seq + 3 }).map((n) => `${epoch}:${n}`),
    fc.nat({ max: seq }).map((n) => `another-epoch:${n}`),
    fc.constantFrom(":1", "-1", "1.5", " 1", "", "999999999999999", "1000000000000000").map((tail) => `${epoch}:${tail}`),
    fc.tuple(fc.stringMatching(/^[\w-]{0,70}$/), hostile).map(([e, s]) => `${e}:${s}`),
    hostile,
  );

/** A header value as the Worker will see it (Headers trims it), or undefined when fetch itself refuses it. */
function asHeader(value: string): string | null | undefined {
  try {
    return new Headers({ "Last-Event-ID": value }).get("Last-Event-ID");
  } catch {
    return undefined;
  }
}

type StreamCase = Record<"header" | "lastEventId" | "since" | "epoch" | "token", string | undefined>;

/**
 * The resume rule written out: the first bad parameter's code, or the events the stream starts with,
 * with their ids. A resumed hello is id'd at the resume point, so a cut during the replay loses nothing.
 */
function expectedStream(input: StreamCase): { code: string } | { events: Block[] } {
  if (input.since !== undefined && !WHOLE.test(input.since)) return { code: "bad_since" };
  if (input.epoch !== undefined && (input.epoch.length < 1 || input.epoch.length > 64)) return { code: "bad_epoch" };
  const last = input.header ?? input.lastEventId;
  if (last !== undefined && last !== "" && parseEventId(last) === null) return { code: "bad_last_event_id" };
  const point =
    parseEventId(last ?? null) ?? (input.since === undefined ? null : { since: Number(input.since), epoch: input.epoch });
  const hello = { type: "hello", topic, seq, epoch, serverTime: expect.any(Number) };
  const latest = { type: "metric", topic, seq, value: "d", ts: expect.any(Number), runId: expect.any(String) };
  const at = `${epoch}:${seq}`;
  if (point === null)
    return {
      events: [
        { id: at, frame: hello },
        { id: at, frame: latest },
      ],
    };
  if (point.epoch !== epoch || point.since > seq) {
    const reset = { id: null, frame: { type: "reset", topic, seq } };
    return { events: [{ id: at, frame: { ...hello, recovered: false } }, reset, { id: at, frame: latest }] };
  }
  const missed = ["a", "b", "c", "d"].map((value, index) => ({ ...latest, seq: index + 1, value })).slice(point.since);
  const replay = missed.map((frame) => ({ id: `${epoch}:${frame.seq}`, frame }));
  return { events: [{ id: `${epoch}:${point.since}`, frame: { ...hello, recovered: true } }, ...replay] };
}

describe("stream inputs (GET /topics/:topic/events)", () => {
  it("never answers 5xx, refuses with the envelope, and resumes only a valid id of this epoch", { timeout: 60_000 }, async () => {
    const before = await state(topic);
    const input = fc.record({
      header: optional(ids()),
      lastEventId: optional(ids()),
      since: optional(fc.oneof(fc.nat({ max: seq + 3 }).map(String), hostile)),
      epoch: optional(fc.oneof(fc.constantFrom(epoch, "another-epoch"), hostile)),
      token: optional(hostile),
    });
    await check("stream inputs", input, async (raw) => {
      const header = raw.header === undefined ? undefined : asHeader(raw.header);
      fc.pre(header !== undefined || raw.header === undefined);
      const headers: Record<string, string> = raw.header === undefined ? {} : { "Last-Event-ID": raw.header };
      const { lastEventId, since, epoch: sentEpoch, token } = raw;
      const response = await fetchWorker(`/topics/${topic}/events?${search({ lastEventId, since, epoch: sentEpoch, token })}`, {
        headers,
      });
      expect(response.status).toBeLessThan(500);
      const expected = expectedStream({ ...raw, header: header ?? undefined });
      if ("code" in expected) {
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({ error: { code: expected.code, message: expect.any(String) } });
      } else {
        expect(response.status).toBe(200);
        const blocks = await readBlocks(response, expected.events.length);
        expect(blocks).toEqual([{ retry: 1000 }, ...expected.events]);
      }
      expect(await state(topic)).toEqual(before);
    });
    expect(await settledSubscribers(topic, 0)).toBe(0);
  });

  it("admits a private topic's stream only with its token, whatever else is sent", { timeout: 60_000 }, async () => {
    const before = await state(secret);
    const good = await subscribeToken({ topic: secret });
    const other = await subscribeToken({ topic: topic });
    const expired = await subscribeToken({ topic: secret }, { exp: -10 });
    const token = fc.oneof(fc.constantFrom(good, other, expired, `${good}x`, good.toUpperCase()), hostile);
    const input = fc.record({ token: fc.option(token, { nil: undefined }), header: fc.option(ids(), { nil: undefined }) });
    await check("private stream tokens", input, async ({ token: sent, header }) => {
      const seen = header === undefined ? undefined : asHeader(header);
      const headers = seen === undefined || header === undefined ? undefined : { "Last-Event-ID": header };
      const refused = seen !== undefined && seen !== null && seen !== "" && parseEventId(seen) === null;
      const response = await fetchWorker(`/topics/${secret}/events?${search({ token: sent })}`, { headers });
      expect(response.status).toBeLessThan(500);
      if (sent !== good) {
        expect([401, 403]).toContain(response.status);
        expect(await response.json()).toEqual({ error: { code: expect.stringMatching(/^token_/), message: expect.any(String) } });
      } else if (refused) {
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({ error: { code: "bad_last_event_id", message: expect.any(String) } });
      } else {
        expect(response.status).toBe(200);
        const [retry, hello] = await readBlocks(response, 1);
        expect(retry).toEqual({ retry: 1000 });
        expect(hello).toMatchObject({ frame: { type: "hello", topic: secret } });
      }
      expect(await state(secret)).toEqual(before);
    });
    expect(await settledSubscribers(secret, 0)).toBe(0);
  });
});

describe("long-poll inputs (GET /topics/:topic/history?since=&limit=&wait=)", () => {
  it("accepts wait 0..30, refuses anything else as bad_wait, and answers the page /history would", {
    timeout: 60_000,
  }, async () => {
    const before = await state(topic);
    const input = fc.record({
      wait: optional(
        fc.oneof(fc.integer({ min: 0, max: MAX_WAIT_SECONDS + 2 }).map(String), fc.constantFrom("030", "0030"), hostile),
      ),
      since: optional(fc.oneof(fc.nat({ max: seq + 2 }).map(String), hostile)),
      limit: optional(
        fc.oneof(fc.integer({ min: 0, max: 5 }).map(String), fc.integer({ min: 0, max: 1002 }).map(String), hostile),
      ),
    });
    await check("long-poll inputs", input, async (raw) => {
      const valid = {
        wait: raw.wait === undefined || (WHOLE.test(raw.wait) && Number(raw.wait) <= MAX_WAIT_SECONDS),
        since: raw.since === undefined || WHOLE.test(raw.since),
        limit: raw.limit === undefined || (WHOLE.test(raw.limit) && Number(raw.limit) >= 1 && Number(raw.limit) <= 1000),
      };
      const since = raw.since === undefined ? 0 : Number(raw.since);
      // Keep the waits tiny: an accepted wait that would hold gets a since below the topic's seq, so it answers at once.
      const holds = valid.wait && valid.since && valid.limit && Number(raw.wait ?? 0) > 0 && since >= seq;
      const query = { ...raw, since: holds ? String(seq - 1) : raw.since };
      const response = await fetchWorker(`/topics/${topic}/history?${search(query)}`);
      expect(response.status).toBeLessThan(500);
      const bad = (["wait", "since", "limit"] as const).find((key) => !valid[key]);
      if (bad !== undefined) {
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({ error: { code: `bad_${bad}`, message: expect.any(String) } });
      } else {
        expect(response.status).toBe(200);
        const from = holds ? seq - 1 : since;
        const limit = query.limit === undefined ? 100 : Number(query.limit);
        const seqs = Array.from({ length: Math.max(0, Math.min(seq, from + limit) - from) }, (_, index) => from + 1 + index);
        const body = (await response.json()) as { topic: string; epoch: string; messages: { seq: number }[] };
        expect([body.topic, body.epoch, body.messages.map((message) => message.seq)]).toEqual([topic, epoch, seqs]);
      }
      expect(await state(topic)).toEqual(before);
    });
  });
});
