/**
 * The topic streams a multiplexed route is made of: each topic's own Server-Sent Events stream from
 * its Topic object, opened exactly as `GET /topics/:topic/events` opens it (that topic's resume
 * point as its `Last-Event-ID`), and the reading of their events, block by block.
 */
import { eventId, type Position } from "../client/positions";
import type { EdgebeatEnv } from "../env";
import { ApiError } from "./errors";

/** One topic's open stream: its name and the body its object writes to. */
export interface Upstream {
  topic: string;
  body: ReadableStream<Uint8Array>;
}

/** The request a topic object reads as a stream (its path ends in `/topics/<topic>/events`), resumed at `position`. */
function streamRequest(topic: string, position: Position | undefined): Request {
  const headers: Record<string, string> =
    position === undefined ? {} : { "Last-Event-ID": eventId(position.epoch, position.since) };
  return new Request(`https://edgebeat.internal/topics/${topic}/events`, { headers });
}

/**
 * Opens every topic's stream at once and waits only for their headers: an invocation may have 6
 * subrequests waiting for response headers, and a topic object answers a stream's at once, so 50
 * open without a queue, and no body is read before every header is in. A topic that refuses (its
 * `MAX_STREAMS` cap: 503 topic_full) refuses the whole request as the per-topic route would, and
 * the streams already open are cancelled, so none is left behind.
 */
export async function openUpstreams(
  env: EdgebeatEnv,
  topics: readonly string[],
  positions: ReadonlyMap<string, Position>,
): Promise<Upstream[]> {
  const settled = await Promise.allSettled(
    topics.map((topic) => env.TOPIC.getByName(topic).fetch(streamRequest(topic, positions.get(topic)))),
  );
  const responses = settled.map((result) => (result.status === "fulfilled" ? result.value : null));
  const refused = settled.findIndex((result, index) => result.status === "rejected" || !responses[index]?.ok);
  if (refused < 0)
    return responses.map((response, index) => ({ topic: topics[index] as string, body: response?.body as ReadableStream }));
  for (const [index, response] of responses.entries()) if (index !== refused) cancel(response?.body);
  const failure = settled[refused] as PromiseSettledResult<Response>;
  if (failure.status === "rejected") throw failure.reason;
  throw await refusalOf(failure.value, topics[refused] as string);
}

/** A topic object's refusal as the error envelope it carries (with its Retry-After). */
async function refusalOf(response: Response, topic: string): Promise<Error> {
  const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  const retryAfter = response.headers.get("Retry-After");
  return new ApiError(
    response.status === 503 ? 503 : 502,
    body?.error?.code ?? "topic_refused",
    body?.error?.message ?? `Topic "${topic}" refused its stream (${response.status}).`,
    retryAfter === null ? {} : { "Retry-After": retryAfter },
  );
}

/** Cancels a stream's body, whatever state it is in (the object forgets the stream). */
export function cancel(body: ReadableStream<Uint8Array> | null | undefined): void {
  body?.cancel().catch(() => {});
}

/**
 * Reads a stream's events: calls `onBlocks` with the blocks (each the lines between blank lines)
 * that each read completes, in order, and resolves when the stream ends, fails or is cancelled.
 */
export async function readBlocks(
  reader: ReadableStreamDefaultReader<string>,
  onBlocks: (blocks: string[][]) => void,
): Promise<void> {
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      const end = buffer.lastIndexOf("\n\n");
      if (end < 0) continue;
      const blocks = buffer.slice(0, end).split("\n\n");
      buffer = buffer.slice(end + 2);
      onBlocks(blocks.map((block) => block.split("\n")));
    }
  } catch {
    // Cancelled, or the object's end of it errored: either way the stream is over.
  }
}
