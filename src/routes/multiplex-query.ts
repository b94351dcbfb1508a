/**
 * The inputs of the multiplexed routes (`GET /events?topics=`, `GET /history?topics=`): the topic
 * list and the combined cursor, one validator each, refused as `400` with a sentence naming the fix.
 */
import { z } from "zod";
import { MAX_TOPICS_PER_CONNECTION, type Position, parseCursor } from "../client/positions";
import { isTopicName } from "../client/protocol";
import { ApiError } from "./errors";
import { historyQuery, parseQuery } from "./validate";

const MAX = MAX_TOPICS_PER_CONNECTION;
/** How a combined cursor reads, for the messages that refuse one. */
const CURSOR_FORM = `topic=<epoch>:<seq> entries, comma-separated, each topic once, at most ${MAX}`;

const topicList = z.string({ error: `must list 1 to ${MAX} topics, comma-separated: ?topics=a,b` }).transform((text, ctx) => {
  const names = [...new Set(text.split(","))];
  const bad = names.find((name) => !isTopicName(name));
  const fail = (message: string) => {
    ctx.issues.push({ code: "custom", message, input: text });
    return z.NEVER;
  };
  if (text === "") return fail(`must list 1 to ${MAX} topics, comma-separated: ?topics=a,b`);
  if (bad !== undefined) {
    return fail(
      `lists "${bad.slice(0, 80)}", which is not a topic name: use 1-64 of a-z 0-9 . _ - starting with a letter or digit`,
    );
  }
  if (names.length > MAX) return fail(`lists ${names.length} topics; one connection carries at most ${MAX}: split them over two`);
  return names;
});

const cursor = z.string().transform((text, ctx) => {
  const positions = parseCursor(text);
  if (positions !== null) return positions;
  ctx.issues.push({ code: "custom", message: `must be a cursor this server sent: ${CURSOR_FORM}`, input: text });
  return z.NEVER;
});

const topicsQuery = z.object({ topics: topicList });

const multiHistoryQuery = historyQuery.pick({ wait: true, limit: true }).extend({ cursor: cursor.optional() });

/** `?topics=a,b`: 1 to MAX_TOPICS_PER_CONNECTION topic names, duplicates collapsed, in their first order (`400 bad_topics`). */
export function parseTopicsQuery(query: Record<string, string>): string[] {
  return parseQuery(topicsQuery, query).topics;
}

/** A multiplexed long-poll's `cursor`, `wait` (0–30 s) and `limit` (per topic), as `/topics/:topic/history` reads the last two. */
export function parseMultiHistoryQuery(query: Record<string, string>): {
  positions: Map<string, Position>;
  wait: number;
  limit: number;
} {
  const { cursor: positions = new Map(), wait, limit } = parseQuery(multiHistoryQuery, query);
  return { positions, wait, limit };
}

/** A multiplexed stream's resume point: the `Last-Event-ID` header or `lastEventId` (empty or absent: none), a combined cursor. */
export function parseResumeCursor(text: string | undefined): Map<string, Position> {
  const result = cursor.safeParse(text ?? "");
  if (result.success) return result.data;
  throw new ApiError(
    400,
    "bad_last_event_id",
    `Last-Event-ID (or ?lastEventId=) must be an id this stream sent: ${CURSOR_FORM}.`,
  );
}
