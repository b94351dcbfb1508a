/**
 * One multiplexed Server-Sent Events stream (`GET /events?topics=`) made of each topic's own stream:
 * every event passes through as its topic's stream sent it (the frame carries its `topic`), but an
 * event that moves a resume point gets the combined cursor of every topic's position as its `id:`,
 * so one `Last-Event-ID` resumes all of them. The first topic stream to end (its lifetime, an error)
 * ends the merged one, and a client gone away cancels them all: the client reconnects with the cursor.
 */
import { combinedCursor, KEEPALIVE_MS, type Position, parseEventId } from "../client/positions";
import { readBlocks, type Upstream } from "./upstreams";

/** What EventSource waits before it reconnects, as the topic streams say (their first block is skipped). */
const RETRY_MS = 1_000;
/**
 * Keep-alives pass on at most once per interval, whichever topic's comes: every topic object sends
 * one every KEEPALIVE_MS on its own alarm, and alarms may run a little early or late.
 */
const KEEPALIVE_GAP_MS = KEEPALIVE_MS - 5_000;
/** A client this far behind (bytes queued) is dropped, as a topic stream drops one: it resumes from its cursor. */
const MAX_QUEUED_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

/** The merged stream of `upstreams`, whose clients resumed at `start` (positions of topics not listed are ignored). */
export function mergeStreams(
  upstreams: readonly Upstream[],
  start: ReadonlyMap<string, Position>,
  signal: AbortSignal,
): Response {
  const topics = upstreams.map((upstream) => upstream.topic);
  const positions = new Map<string, Position>();
  for (const topic of topics) {
    const position = start.get(topic);
    if (position !== undefined) positions.set(topic, position);
  }
  // The queue is the writable side's, counted in bytes, so desiredSize says how far behind the client is.
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>(undefined, {
    highWaterMark: MAX_QUEUED_BYTES,
    size: (chunk) => chunk.byteLength,
  });
  const writer = writable.getWriter();
  const readers = upstreams.map((upstream) => upstream.body.pipeThrough(new TextDecoderStream()).getReader());
  let ended = false;
  let lastKeepAlive = Number.NEGATIVE_INFINITY;

  const end = () => {
    if (ended) return;
    ended = true;
    for (const reader of readers) reader.cancel().catch(() => {});
    writer.close().catch(() => {}); // already errored: the client went away first
  };
  const write = (text: string) => {
    const room = writer.desiredSize;
    if (ended || text === "") return;
    if (room !== null && room < 0) return end();
    writer.write(encoder.encode(text)).catch(end);
  };
  /** The combined cursor now, topics in the order the request listed them. */
  const cursor = () =>
    combinedCursor(
      topics.flatMap((topic) => {
        const position = positions.get(topic);
        return position === undefined ? [] : [[topic, position] as const];
      }),
    );
  /** One event as the merged stream sends it ("" for none: the topic stream's `retry:`, or a keep-alive too soon after the last). */
  const merged = (topic: string, lines: string[]): string => {
    if (lines.every((line) => line.startsWith(":") || line === "")) {
      const now = Date.now();
      if (now - lastKeepAlive < KEEPALIVE_GAP_MS) return "";
      lastKeepAlive = now;
      return ": keep-alive\n\n";
    }
    if (!lines.some((line) => line.startsWith("data:"))) return "";
    const id = lines.find((line) => line.startsWith("id: "));
    const position = id === undefined ? null : parseEventId(id.slice(4));
    if (position !== null) positions.set(topic, position);
    const rest = lines.filter((line) => !line.startsWith("id: ")).join("\n");
    return `${position === null ? "" : `id: ${cursor()}\n`}${rest}\n\n`;
  };

  // The runtime aborts the request when its client goes away; a cancelled body errors the writer.
  signal.addEventListener("abort", end);
  writer.closed.catch(end);
  if (signal.aborted) end();
  write(`retry: ${RETRY_MS}\n\n`);
  readers.forEach((reader, index) => {
    const topic = topics[index] as string;
    // What one read brings is written at once: the join frames of a topic arrive together.
    void readBlocks(reader, (blocks) => write(blocks.map((lines) => merged(topic, lines)).join(""))).then(end);
  });
  return new Response(readable, {
    headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store", "X-Accel-Buffering": "no" },
  });
}
