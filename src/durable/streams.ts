/**
 * A topic owner's Server-Sent Events streams (`GET /topics/:topic/events`): the same frames as its
 * WebSockets, each as one `data:` event, metrics (and `hello`) with `id: <epoch>:<seq>` so that
 * EventSource's own reconnect (`Last-Event-ID`) resumes exactly like `since` + `epoch`.
 * Unlike a hibernated socket, an open stream keeps the object in memory: streams are capped per
 * topic, each ends after a maximum lifetime (the client reconnects and resumes), and one shared
 * keep-alive (a comment line, sent from the topic's alarm: its `keepalive` wake-up) runs only while a
 * stream is open.
 */

import { eventId, KEEPALIVE_MS, parseEventId } from "../client/positions";
import type { ServerFrame } from "../client/protocol";
import type { Wakeup } from "./wakeups";

/** Most streams one topic holds open; past it, a new one gets 503 with Retry-After. */
export const DEFAULT_MAX_STREAMS = 1_000;
/** A stream ends after this long; EventSource reconnects after `retry` ms with its Last-Event-ID. */
export const DEFAULT_STREAM_LIFETIME_MS = 5 * 60_000;
export { KEEPALIVE_MS };

/** The keep-alive wake-up after one at `now`. */
export function keepAliveAt(now: number): Wakeup {
  return { kind: "keepalive", at: now + KEEPALIVE_MS, data: {} };
}
/** What EventSource waits before it reconnects, told in each stream's first line. */
const RETRY_MS = 1_000;

const encoder = new TextEncoder();

interface Stream {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  timer: ReturnType<typeof setTimeout>;
}

/** A stream whose reader is this far behind (bytes queued) is dropped; its client resumes from its Last-Event-ID. */
const MAX_QUEUED_BYTES = 1024 * 1024;

/** One serialized frame as an event; `id` when it moves the resume point (hello, metric, batch). */
export function sseEvent(text: string, id: string | null): string {
  return `${id === null ? "" : `id: ${id}\n`}data: ${text}\n\n`;
}

/** The resume point a frame moves to, or null for frames that do not (status, pong). */
export function frameSeq(frame: ServerFrame): number | null {
  if (frame.type === "hello") return frame.seq;
  if (frame.type === "metric") return frame.seq;
  if (frame.type === "batch") return frame.frames.at(-1)?.seq ?? null;
  return null;
}

/** Whether a request to the topic object is for a stream (the route forwards `/topics/:topic/events`). */
export function isStreamRequest(request: Request): boolean {
  // `/topics/<topic>/events`, under any prefix the app is mounted at; not `/topics/events`, the
  // WebSocket of a topic named "events".
  return /\/topics\/[^/]+\/events$/.test(new URL(request.url).pathname);
}

/** Where a stream starts: Last-Event-ID (header, or `lastEventId` for a first connect), else `since` + `epoch`. */
function resumePoint(request: Request): { since: number | null; epoch: string | null } {
  const params = new URL(request.url).searchParams;
  const last = parseEventId(request.headers.get("Last-Event-ID") ?? params.get("lastEventId"));
  if (last !== null) return last;
  return { since: params.has("since") ? Number(params.get("since")) : null, epoch: params.get("epoch") };
}

export class Streams {
  readonly #open = new Set<Stream>();

  constructor(
    private readonly max: number,
    private readonly lifetimeMs: number,
  ) {}

  count(): number {
    return this.#open.size;
  }

  /** Whether another stream may open. */
  isFull(): boolean {
    return this.#open.size >= this.max;
  }

  /**
   * Accepts a stream: 503 past the cap, else a stream that starts with the join frames for its
   * resume point (computed in one synchronous step, so no publish is missed or repeated).
   */
  accept(request: Request, topic: string, join: (since: number | null, epoch: string | null) => string[]): Response {
    if (this.isFull()) {
      const error = { code: "topic_full", message: `Topic "${topic}" has ${this.max} streams, its maximum.` };
      return Response.json({ error }, { status: 503, headers: { "Retry-After": "30" } });
    }
    const { since, epoch } = resumePoint(request);
    let streamEpoch = epoch ?? "";
    const events = join(since, epoch).map((text) => {
      const frame = JSON.parse(text) as ServerFrame;
      if (frame.type === "hello") streamEpoch = frame.epoch;
      // A resumed hello is id'd at the resume point, not the topic's seq: a stream cut during the
      // replay that follows resumes from there again, so a plain EventSource misses nothing either.
      const seq = frame.type === "hello" && frame.recovered === true && since !== null ? since : frameSeq(frame);
      return sseEvent(text, seq === null ? null : eventId(streamEpoch, seq));
    });
    return this.open(events, request.signal);
  }

  /** A new stream that starts with `events` (already encoded) and then gets every broadcast until it ends. */
  open(events: readonly string[], signal?: AbortSignal): Response {
    // A TransformStream, so that a client gone away shows: its readable side is cancelled, which
    // errors the writer (writer.closed rejects, and so does every later write). The byte count is
    // the writable side's, where writes wait while the client reads slowly: its desiredSize is how
    // far behind the client is (on the readable side, the writer would count writes, not bytes).
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>(undefined, {
      highWaterMark: MAX_QUEUED_BYTES,
      size: (chunk) => chunk.byteLength,
    });
    const writer = writable.getWriter();
    const stream: Stream = { writer, timer: setTimeout(() => this.#end(stream), this.lifetimeMs) };
    // The runtime aborts the request when its client goes away (request.signal, on by default from 2026-11-17).
    signal?.addEventListener("abort", () => this.#end(stream));
    this.#open.add(stream);
    writer.closed.catch(() => this.#forget(stream));
    this.#write(stream, encoder.encode(`retry: ${RETRY_MS}\n\n${events.join("")}`));
    return new Response(readable, {
      headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store", "X-Accel-Buffering": "no" },
    });
  }

  /** Sends the keep-alive comment to every open stream; false when none is open (the keep-alive can stop). */
  keepAlive(): boolean {
    this.broadcast(": keep-alive\n\n");
    return this.#open.size > 0;
  }

  /** Sends one event to every open stream. */
  broadcast(event: string): void {
    if (this.#open.size > 0) this.#send(event);
  }

  #send(text: string): void {
    const bytes = encoder.encode(text);
    for (const stream of this.#open) this.#write(stream, bytes);
  }

  /** Writes to one stream; a failed write (the client went away) or a reader too far behind ends it. */
  #write(stream: Stream, bytes: Uint8Array): void {
    const queued = stream.writer.desiredSize;
    if (queued !== null && queued < 0) {
      this.#end(stream);
      return;
    }
    stream.writer.write(bytes).catch(() => this.#forget(stream));
  }

  #end(stream: Stream): void {
    stream.writer.close().catch(() => {}); // already errored: the client went away first
    this.#forget(stream);
  }

  #forget(stream: Stream): void {
    if (!this.#open.delete(stream)) return;
    clearTimeout(stream.timer);
  }
}
