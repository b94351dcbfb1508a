/**
 * Property tests for the multiplexed routes' inputs: any `topics`, combined cursor (Last-Event-ID,
 * lastEventId, cursor), token, wait or limit is never a 5xx, is refused with the error envelope
 * by the rule written out below, or answered as each topic's own stream or /history would, and
 * never changes a topic.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { combinedCursor, MAX_TOPICS_PER_CONNECTION, type Position, parseCursor } from "../../src/client/positions";
import { isTopicName } from "../../src/client/protocol";
import { MAX_WAIT_SECONDS } from "../../src/routes/validate";
import { subscribeToken } from "../helpers/auth";
import { byTopic, PUBLIC, positionOf, publishTo, SECRET, settledSubscribers } from "../helpers/multiplex";
import { fetchWorker } from "../helpers/socket";
import { readSse } from "../helpers/sse";

const RUNS = 100;
const DECLARED = [...PUBLIC, SECRET];
/** Each declared topic's epoch and seq, read once the topics hold their values. */
const states = new Map<string, { epoch: string; seq: number }>();
/** Subscribe tokens the properties pick from: each granting, or failing, in its own way. */
const tokens: Record<"good" | "prefix" | "wrong" | "expired", string> = { good: "", prefix: "", wrong: "", expired: "" };

async function check<T>(name: string, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>): Promise<void> {
  const details = await fc.check(fc.asyncProperty(arbitrary, predicate), { numRuns: RUNS });
  console.log(`property "${name}": ${details.numRuns} cases, ${details.failed ? "FAILED" : "held"}`);
  if (details.failed) throw new Error(`${fc.defaultReportMessage(details)}\n${String(details.errorInstance)}`);
  expect(details.numRuns).toBe(RUNS);
}

/** Every declared topic as the tests compare it, from the objects themselves. */
const snapshot = async () =>
  JSON.stringify(await Promise.all(DECLARED.map(async (topic) => [topic, await env.TOPIC.getByName(topic).poll(0, 1000)])));

beforeAll(async () => {
  for (const value of ["a", "b", "c", "d"]) await publishTo(PUBLIC[0] as string, value);
  for (const value of ["e", "f"]) await publishTo(PUBLIC[1] as string, value);
  await publishTo(SECRET, "s");
  for (const topic of DECLARED) states.set(topic, await positionOf(topic));
  tokens.good = await subscribeToken({ topic: SECRET });
  tokens.prefix = await subscribeToken({ topics: [`${SECRET.slice(0, 2)}*`] });
  tokens.wrong = await subscribeToken({ topic: PUBLIC[0] });
  tokens.expired = await subscribeToken({ topic: SECRET }, { exp: -10 });
});

const hostile = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.constantFrom("", " ", ",", ",,", "=", ":", "a=", "=e:1", "A", "-a", "a b", "%2C", "\u0000"),
  fc.stringMatching(/^[a-z0-9][a-z0-9._-]{60,70}$/),
);
/** Topic names: declared ones most often (the private one too), valid undeclared ones, and hostile text. */
const name = fc.oneof(
  { weight: 24, arbitrary: fc.constantFrom(...DECLARED) },
  { weight: 1, arbitrary: fc.constantFrom("not-declared", "t0", "zz.q_1") },
  { weight: 1, arbitrary: hostile },
);
/** A `topics` value: absent, a list of names (sometimes more than 50), or any text. */
const topicsArbitrary = fc.oneof(
  { weight: 16, arbitrary: fc.array(name, { minLength: 1, maxLength: 5 }).map((names) => names.join(",")) },
  { weight: 1, arbitrary: fc.constant(Array.from({ length: MAX_TOPICS_PER_CONNECTION + 1 }, (_, i) => `t${i}`).join(",")) },
  { weight: 1, arbitrary: hostile },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
/** A cursor entry: a declared topic at a real position, one of another epoch or past its seq, or a broken entry. */
const entry = fc.oneof(
  { weight: 24, arbitrary: fc.tuple(fc.constantFrom(...DECLARED), fc.boolean(), fc.nat({ max: 6 })) },
  { weight: 1, arbitrary: hostile },
);
const cursorArbitrary = fc.oneof(
  {
    weight: 16,
    arbitrary: fc.array(entry, { maxLength: 5 }).map((entries) =>
      entries
        .map((item) => {
          if (typeof item === "string") return item;
          const [topic, sameEpoch, since] = item;
          return `${topic}=${sameEpoch ? states.get(topic)?.epoch : "another-epoch"}:${since}`;
        })
        .join(","),
    ),
  },
  { weight: 1, arbitrary: hostile },
);
/** A token: one of `tokens` by name (a granting one most often), any text, or none. */
const tokenArbitrary = fc.option(
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("good", "prefix") },
    { weight: 2, arbitrary: fc.constantFrom("wrong", "expired") },
    { weight: 1, arbitrary: hostile },
  ),
  { nil: undefined, freq: 4 },
);
const tokenOf = (choice: string | undefined) =>
  choice !== undefined && choice in tokens ? tokens[choice as keyof typeof tokens] : choice;

/** The rule, written out: the refusal the route gives `topics` and `token`, or the topics it serves. */
function expectedTopics(
  topics: string | undefined,
  token: string | undefined,
): { status: number; code: string } | { names: string[] } {
  const names = [...new Set((topics ?? "").split(","))];
  if (topics === undefined || topics === "" || !names.every(isTopicName) || names.length > MAX_TOPICS_PER_CONNECTION)
    return { status: 400, code: "bad_topics" };
  const unknown = names.find((topic) => !DECLARED.includes(topic));
  if (unknown !== undefined) return { status: 404, code: "unknown_topic" };
  if (!names.includes(SECRET) || token === "good" || token === "prefix") return { names };
  if (token === undefined || token === "") return { status: 401, code: "token_required" };
  if (token === "wrong") return { status: 403, code: "token_wrong_topic" };
  return { status: 401, code: token === "expired" ? "token_expired" : "token_invalid" };
}

const search = (query: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(query).filter((pair): pair is [string, string] => pair[1] !== undefined));

/** A header value as the Worker will see it, or undefined when fetch itself refuses it. */
function asHeader(value: string): string | null | undefined {
  try {
    return new Headers({ "Last-Event-ID": value }).get("Last-Event-ID");
  } catch {
    return undefined;
  }
}

/** The join a topic's own stream sends from `position`, as frame types with seqs (the resume rule). */
function joinOf(topic: string, position: Position | undefined): string[] {
  const { epoch, seq } = states.get(topic) as { epoch: string; seq: number };
  const latest = seq > 0 ? [`metric ${seq}`] : [];
  if (position === undefined) return [`hello ${seq}`, ...latest];
  if (position.epoch !== epoch || position.since > seq) return [`hello ${seq} false`, `reset ${seq}`, ...latest];
  const replay = Array.from({ length: seq - position.since }, (_, i) => `metric ${position.since + 1 + i}`);
  return [`hello ${seq} true`, ...replay];
}

describe("multiplexed stream inputs (GET /events?topics=)", () => {
  it("never answers 5xx, refuses by the rule with the envelope, and joins each topic as its own stream would", {
    timeout: 120_000,
  }, async () => {
    const before = await snapshot();
    const input = fc.record({
      topics: topicsArbitrary,
      header: fc.option(cursorArbitrary, { nil: undefined }),
      lastEventId: fc.option(cursorArbitrary, { nil: undefined }),
      token: tokenArbitrary,
    });
    await check("multiplexed stream inputs", input, async (raw) => {
      const header = raw.header === undefined ? undefined : asHeader(raw.header);
      fc.pre(header !== undefined || raw.header === undefined);
      const query = search({ topics: raw.topics, lastEventId: raw.lastEventId, token: tokenOf(raw.token) });
      const response = await fetchWorker(`/events?${query}`, {
        headers: raw.header === undefined ? {} : { "Last-Event-ID": raw.header },
      });
      expect(response.status).toBeLessThan(500);
      const cursorText = header ?? raw.lastEventId;
      const positions = parseCursor(cursorText ?? "");
      const topics = expectedTopics(raw.topics, raw.token);
      const expected = "code" in topics ? topics : positions === null ? { status: 400, code: "bad_last_event_id" } : topics;
      if ("code" in expected) {
        expect([response.status, await response.json()]).toEqual([
          expected.status,
          { error: { code: expected.code, message: expect.any(String) } },
        ]);
      } else {
        expect(response.status).toBe(200);
        const joins = expected.names.map((topic) => joinOf(topic, positions?.get(topic)));
        const events = readSse(response);
        const read = await byTopic(events, joins.flat().length);
        await events.close();
        const seen = (topic: string) =>
          (read.topics[topic] ?? []).map(({ frame }) => {
            const { type, seq, recovered } = frame as { type: string; seq: number; recovered?: boolean };
            return [type, seq, recovered].filter((part) => part !== undefined).join(" ");
          });
        expect(expected.names.map(seen)).toEqual(joins);
        const final = expected.names.map(
          (topic) => [topic, { ...(states.get(topic) as { epoch: string }), since: states.get(topic)?.seq ?? 0 }] as const,
        );
        expect(read.all.filter((event) => event.id !== null).at(-1)?.id).toBe(combinedCursor(final));
      }
      expect(await snapshot()).toEqual(before);
    });
    for (const topic of DECLARED) expect(await settledSubscribers(topic, 0)).toBe(0);
  });
});

describe("multiplexed long-poll inputs (GET /history?topics=&cursor=&wait=&limit=)", () => {
  it("never answers 5xx, refuses by the rule, and answers each topic's page as its own /history would", {
    timeout: 120_000,
  }, async () => {
    const before = await snapshot();
    const input = fc.record({
      topics: topicsArbitrary,
      cursor: fc.option(cursorArbitrary, { nil: undefined }),
      wait: fc.option(
        fc.oneof(
          { weight: 8, arbitrary: fc.integer({ min: 0, max: MAX_WAIT_SECONDS + 2 }).map(String) },
          { weight: 1, arbitrary: hostile },
        ),
        { nil: undefined },
      ),
      limit: fc.option(
        fc.oneof(
          { weight: 8, arbitrary: fc.integer({ min: 0, max: 5 }).map(String) },
          { weight: 1, arbitrary: fc.constantFrom("1000", "1001") },
          { weight: 1, arbitrary: hostile },
        ),
        { nil: undefined },
      ),
      token: tokenArbitrary,
    });
    await check("multiplexed long-poll inputs", input, async (raw) => {
      const topics = expectedTopics(raw.topics, raw.token);
      const WHOLE = /^\d{1,15}$/;
      const valid = {
        wait: raw.wait === undefined || (WHOLE.test(raw.wait) && Number(raw.wait) <= MAX_WAIT_SECONDS),
        limit: raw.limit === undefined || (WHOLE.test(raw.limit) && Number(raw.limit) >= 1 && Number(raw.limit) <= 1000),
        cursor: raw.cursor === undefined || parseCursor(raw.cursor) !== null,
      };
      const bad = (["wait", "limit", "cursor"] as const).find((key) => !valid[key]);
      let cursor = raw.cursor;
      const positions = parseCursor(cursor ?? "") ?? new Map<string, Position>();
      const wait = Number(raw.wait ?? 0);
      const limit = Number(raw.limit ?? 100);
      // Keep the waits tiny: a case that would hold for its whole wait drops its first topic's entry (that topic joins: news).
      if (!("code" in topics) && bad === undefined && wait > 0) {
        const news = topics.names.some((topic) => {
          const at = positions.get(topic);
          const state = states.get(topic) as { epoch: string; seq: number };
          return at === undefined || at.epoch !== state.epoch || at.since !== state.seq;
        });
        if (!news) positions.delete(topics.names[0] as string);
        cursor = combinedCursor(positions);
      }
      const query = search({ topics: raw.topics, cursor, wait: raw.wait, limit: raw.limit, token: tokenOf(raw.token) });
      const response = await fetchWorker(`/history?${query}`);
      expect(response.status).toBeLessThan(500);
      const expected = "code" in topics ? topics : bad !== undefined ? { status: 400, code: `bad_${bad}` } : topics;
      if ("code" in expected) {
        expect([response.status, await response.json()]).toEqual([
          expected.status,
          { error: { code: expected.code, message: expect.any(String) } },
        ]);
      } else {
        expect(response.status).toBe(200);
        // The model: a topic without a position, in another epoch, or (when nothing else is news) past its seq, joins.
        const at = (topic: string) => positions.get(topic);
        const state = (topic: string) => states.get(topic) as { epoch: string; seq: number };
        const joins = (topic: string) => at(topic) === undefined || at(topic)?.epoch !== state(topic).epoch;
        const news = expected.names.some((topic) => joins(topic) || (at(topic)?.since ?? 0) < state(topic).seq);
        const sinceOf = (topic: string) =>
          joins(topic) || (wait > 0 && !news && (at(topic)?.since ?? 0) > state(topic).seq)
            ? Math.max(0, state(topic).seq - 1)
            : (at(topic)?.since as number);
        const pages = await Promise.all(
          expected.names.map(
            async (topic) => [topic, { topic, ...(await env.TOPIC.getByName(topic).poll(sinceOf(topic), limit)) }] as const,
          ),
        );
        const after = pages.map(
          ([topic, page]) => [topic, { epoch: page.epoch, since: page.messages.at(-1)?.seq ?? sinceOf(topic) }] as const,
        );
        expect(await response.json()).toEqual({ topics: Object.fromEntries(pages), cursor: combinedCursor(after) });
      }
      expect(await snapshot()).toEqual(before);
    });
    for (const topic of DECLARED) expect(await settledSubscribers(topic, 0)).toBe(0);
  });
});
