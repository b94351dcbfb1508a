/** What the multiplexed route tests share: topics to use, publishing straight at a topic, its position, and reading a merged stream. */
import { env } from "cloudflare:workers";
import type { ServerFrame } from "../../src/client/protocol";
import { TOPICS } from "./registry";
import type { SseEvent, SseReader } from "./sse";

/** The public declared topics, in the order GET /topics lists them; the tests need at least four. */
export const PUBLIC = TOPICS.filter((info) => !info.private).map((info) => info.topic);
/** A private declared topic. */
export const SECRET = TOPICS.find((info) => info.private)?.topic as string;
if (PUBLIC.length < 4 || SECRET === undefined) throw new Error("The multiplex tests need 4 public topics and a private one");

/** Publishes `value` straight at a topic's object (a job's topic too), with `value` as its idempotency key. */
export const publishTo = (topic: string, value: string) => env.TOPIC.getByName(topic).publish({ value, id: value });

/** A topic's epoch and latest seq, from its object (not through the routes under test). */
export async function positionOf(topic: string): Promise<{ epoch: string; seq: number }> {
  const stub = env.TOPIC.getByName(topic);
  return { epoch: (await stub.poll(0, 1)).epoch, seq: (await stub.snapshot()).seq };
}

/** Waits until a topic's object counts `expected` subscribers (cancelled streams leave it a moment later), and returns the count. */
export async function settledSubscribers(topic: string, expected: number): Promise<number> {
  let count = -1;
  for (let attempt = 0; attempt < 100; attempt++) {
    count = (await env.TOPIC.getByName(topic).snapshot()).subscribers;
    if (count === expected) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return count;
}

/** Reads `count` events and groups them by topic, each topic's in the order they came (topics interleave at random). */
export async function byTopic(
  events: SseReader,
  count: number,
): Promise<{ all: SseEvent[]; topics: Record<string, SseEvent[]> }> {
  const all: SseEvent[] = [];
  for (let i = 0; i < count; i++) all.push(await events.next());
  const topics: Record<string, SseEvent[]> = {};
  for (const event of all) {
    const topic = (event.frame as Exclude<ServerFrame, { type: "error" }>).topic;
    topics[topic] = [...(topics[topic] ?? []), event];
  }
  return { all, topics };
}

/** Reads a stream's raw text (comments included) until `done` holds for what was read, or fails after `timeoutMs`. */
export async function readRawUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  done: (text: string) => boolean,
  timeoutMs = 3_000,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  while (!done(text)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`the stream did not say what was awaited; it said: ${JSON.stringify(text)}`);
    const chunk = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`nothing more; it said: ${JSON.stringify(text)}`)), left),
      ),
    ]);
    if (chunk.done) throw new Error(`the stream ended; it said: ${JSON.stringify(text)}`);
    text += decoder.decode(chunk.value, { stream: true });
  }
  return text;
}
