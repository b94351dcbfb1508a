/**
 * Where a reader is in a topic's stream, as Server-Sent Events ids and the multiplexed routes'
 * combined cursors carry it (`<epoch>:<seq>`, `topic=<epoch>:<seq>,…`), and the keep-alive those
 * streams send. Apart from the frames (protocol.ts): these change with the resume rules, not the wire frames.
 */
import { isTopicName } from "./protocol";

/** How often a Server-Sent Events stream carries a keep-alive comment (`: keep-alive`) so proxies keep it open. */
export const KEEPALIVE_MS = 25_000;

/** The `id:` of a Server-Sent Events event (`GET /topics/:topic/events`): the epoch and the last seq it carries, as a resume needs them. */
export function eventId(epoch: string, seq: number): string {
  return `${epoch}:${seq}`;
}

/** A topic's place in a stream: the last seq it carried, of that epoch. */
export interface Position {
  since: number;
  epoch: string;
}

/** A Last-Event-ID as `since` and `epoch`; null when absent, malformed or out of range. */
export function parseEventId(text: string | null): Position | null {
  const match = /^([\w-]{1,64}):(\d{1,15})$/.exec(text ?? "");
  return match ? { epoch: match[1] as string, since: Number(match[2]) } : null;
}

/** The most topics one multiplexed stream or long-poll (`GET /events?topics=`, `GET /history?topics=`) carries. */
export const MAX_TOPICS_PER_CONNECTION = 50;

/**
 * The combined cursor of a multiplexed stream (its events' `id:`) or long-poll (`cursor`): each
 * topic's position as `topic=<epoch>:<seq>`, joined by `,`. Neither `=`, `,` nor `:` may appear in
 * a topic name or an epoch, so it reads one way only. Topics without a position are left out.
 */
export function combinedCursor(positions: Iterable<readonly [string, Position]>): string {
  return Array.from(positions, ([topic, { epoch, since }]) => `${topic}=${eventId(epoch, since)}`).join(",");
}

/** A combined cursor as each topic's position (empty text: none); null when an entry is malformed, a topic comes twice, or there are too many. */
export function parseCursor(text: string): Map<string, Position> | null {
  const positions = new Map<string, Position>();
  const entries = text === "" ? [] : text.split(",");
  if (entries.length > MAX_TOPICS_PER_CONNECTION) return null;
  for (const entry of entries) {
    const [topic = "", id = "", ...rest] = entry.split("=");
    const position = parseEventId(id);
    if (rest.length > 0 || !isTopicName(topic) || position === null || positions.has(topic)) return null;
    positions.set(topic, position);
  }
  return positions;
}
