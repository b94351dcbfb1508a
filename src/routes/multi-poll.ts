/**
 * The multiplexed long-poll (`GET /history?topics=&cursor=&wait=`): each topic's page is exactly
 * what `GET /topics/:topic/history` answers (Topic.poll), after that topic's cursor position, and
 * the answer comes as soon as any topic has news or when the wait ends.
 *
 * It waits on streams, not on held calls: a held `poll` per topic would be up to 50 subrequests
 * waiting for their answer, and an invocation may have only 6 waiting for a response (the rest
 * queue behind them, a wait at a time). Each topic's stream answers its headers at once, so the
 * route holds those instead and reads the pages again when one of them carries a metric.
 */
import { combinedCursor, type Position } from "../client/positions";
import type { HistoryPage } from "../durable/rpc";
import type { EdgebeatEnv } from "../env";
import { openUpstreams, readBlocks } from "./upstreams";

/** One topic's part of the answer: what `GET /topics/:topic/history` answers. */
export interface TopicPage extends HistoryPage {
  topic: string;
}

/** The answer: each topic's page, and the cursor to ask with next (every topic's position after its page). */
export interface MultiPage {
  topics: Record<string, TopicPage>;
  cursor: string;
}

export interface MultiPollQuery {
  positions: ReadonlyMap<string, Position>;
  wait: number;
  limit: number;
}

/** A 1 ms wait: the object counts the reader as a long-poll client (whileWatched jobs run for it), yet answers at once. */
const MARK_POLLED_MS = 1;

interface Read {
  topic: string;
  page: HistoryPage;
  since: number;
  /** A metric after the position, or a join: worth answering at once. */
  news: boolean;
}

/**
 * One topic's page after its position. Without one, in another epoch, or after a resume point the
 * topic does not have (`rejoin`), it is a join: the page after the latest seq but one, the last
 * value on join, as a socket's join sends it; a join is news.
 */
async function readPage(
  env: EdgebeatEnv,
  topic: string,
  position: Position | undefined,
  limit: number,
  waitMs: number,
  rejoin: boolean,
): Promise<Read> {
  const stub = env.TOPIC.getByName(topic);
  if (position !== undefined && !rejoin) {
    const page = await stub.poll(position.since, limit, waitMs);
    if (page.epoch === position.epoch) return { topic, page, since: position.since, news: page.messages.length > 0 };
  }
  const since = Math.max(0, (await stub.snapshot()).seq - 1);
  return { topic, page: await stub.poll(since, limit, waitMs), since, news: true };
}

/** Answers the multiplexed long-poll for `topics` (validated and authorized). */
export async function multiPoll(
  env: EdgebeatEnv,
  topics: readonly string[],
  query: MultiPollQuery,
  signal: AbortSignal,
): Promise<MultiPage> {
  const mark = query.wait > 0 ? MARK_POLLED_MS : 0;
  const readAll = (rejoin: ReadonlySet<string>) =>
    Promise.all(topics.map((topic) => readPage(env, topic, query.positions.get(topic), query.limit, mark, rejoin.has(topic))));
  let reads = await readAll(new Set());
  if (query.wait > 0 && !reads.some((read) => read.news)) {
    reads = await readAll(await nextNews(env, topics, query.positions, query.wait * 1_000, signal));
  }
  const pages: Record<string, TopicPage> = {};
  const after: [string, Position][] = [];
  for (const { topic, page, since } of reads) {
    pages[topic] = { topic, ...page };
    after.push([topic, { epoch: page.epoch, since: page.messages.at(-1)?.seq ?? since }]);
  }
  return { topics: pages, cursor: combinedCursor(after) };
}

/**
 * Holds every topic's stream, resumed at its position, until one carries a metric, a batch or a
 * reset (a metric published since the pages were read is in its replay), the wait ends, a stream
 * ends, or the client goes away. Returns the topics whose stream said `reset`: they rejoin.
 */
async function nextNews(
  env: EdgebeatEnv,
  topics: readonly string[],
  positions: ReadonlyMap<string, Position>,
  waitMs: number,
  signal: AbortSignal,
): Promise<Set<string>> {
  const upstreams = await openUpstreams(env, topics, positions);
  const readers = upstreams.map((upstream) => upstream.body.pipeThrough(new TextDecoderStream()).getReader());
  const resets = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await new Promise<void>((resolve) => {
    timer = setTimeout(resolve, waitMs);
    signal.addEventListener("abort", () => resolve());
    readers.forEach((reader, index) => {
      const topic = upstreams[index]?.topic as string;
      const onBlocks = (blocks: string[][]) => {
        for (const type of blocks.map(frameType)) {
          if (type === "reset") resets.add(topic);
          if (type === "metric" || type === "batch" || type === "reset") resolve();
        }
      };
      void readBlocks(reader, onBlocks).then(() => resolve());
    });
  });
  if (timer !== undefined) clearTimeout(timer);
  for (const reader of readers) reader.cancel().catch(() => {});
  return resets;
}

/** The `type` of the frame an event carries, or null for a comment or the `retry:` block. */
function frameType(lines: readonly string[]): string | null {
  const data = lines.find((line) => line.startsWith("data: "));
  if (data === undefined) return null;
  try {
    return (JSON.parse(data.slice(6)) as { type?: string }).type ?? null;
  } catch {
    return null;
  }
}
