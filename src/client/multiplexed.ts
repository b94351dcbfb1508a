/**
 * The multiplexed connections subscriptions share (src/client/shared.ts): one stream,
 * `GET /events?topics=` (each event's frame names its topic), or one long-poll loop,
 * `GET /history?topics=&cursor=&wait=25`, whose pages become each topic's frames as the per-topic
 * long-poll makes them. Each opens at every member's position, hands each member its own frames
 * (only while the hub says it is current), and ends once.
 */
import { readEventStream } from "./event-stream";
import { type Page, PageReader } from "./pages";
import { combinedCursor, type Position, parseCursor } from "./positions";
import {
  type Connection,
  POLL_WAIT_SECONDS,
  type Resume,
  type TransportEvents,
  type TransportOptions,
  withQuery,
} from "./transports";

/** One subscription on a multiplexed connection. */
export interface Member {
  topic: string;
  /** Where it would resume now: its last delivered seq and epoch. */
  resume(): Resume;
  events: TransportEvents;
}

/** A multiplexed connection and the members it was opened for. */
export interface Link extends Connection {
  readonly members: readonly Member[];
}

export interface LinkHandlers {
  /** Whether `member` still takes this connection's frames (it has not left, and the hub has not reopened). */
  isCurrent(member: Member): boolean;
  /** The server accepted it. */
  opened(): void;
  /** It is over, once; `legacy` when the server has no multiplexed route (an older edgebeat, or another app). */
  ended(reason: string, legacy: boolean): void;
}

/** The answer of `GET /history?topics=`. */
interface MultiPage {
  topics: Record<string, Page>;
  cursor: string;
}

export function openMultiplexed(
  name: "sse" | "longpoll",
  base: string,
  options: TransportOptions,
  members: readonly Member[],
  handlers: LinkHandlers,
): Link {
  const connection = (name === "sse" ? openStream : openPoll)(base, options, members, handlers);
  return { members, close: (reason) => connection.close(reason) };
}

/** Where members resume, those that have a position, as a combined cursor ("" for none). */
function cursorOf(members: readonly Member[]): string {
  return combinedCursor(
    members.flatMap((member) => {
      const { since, epoch } = member.resume();
      return since === null || epoch === null ? [] : [[member.topic, { since, epoch }] as const];
    }),
  );
}

/**
 * Whether an answer says the route is not there: a 404 that is not about a topic, or a 2xx that is
 * not what the route answers. An answer whose body cannot be read (cut off by a restart) says nothing.
 */
async function isLegacy(response: Response | undefined): Promise<boolean> {
  if (response === undefined) return false;
  const text = await response.text().catch(() => null);
  return text !== null && isLegacyAnswer(response, text);
}

function isLegacyAnswer(response: Response, text: string): boolean {
  if (response.ok) return true;
  if (response.status !== 404) return false;
  return (parseJson(text) as { error?: { code?: string } } | null)?.error?.code !== "unknown_topic";
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function topicOf(text: string): unknown {
  return (parseJson(text) as { topic?: unknown } | null)?.topic;
}

function openStream(base: string, options: TransportOptions, members: readonly Member[], handlers: LinkHandlers): Connection {
  const byTopic = new Map(members.map((member) => [member.topic, member]));
  const cursor = cursorOf(members);
  const query = { topics: [...byTopic.keys()].join(","), token: options.token, lastEventId: cursor === "" ? undefined : cursor };
  const stream = {
    open: () => handlers.opened(),
    data: (text: string) => {
      const member = byTopic.get(topicOf(text) as string);
      if (member !== undefined && handlers.isCurrent(member)) member.events.text(text);
    },
    end: (reason: string, refused?: Response) => {
      void isLegacy(refused).then((legacy) => handlers.ended(reason, legacy));
    },
  };
  return readEventStream(options.fetch, withQuery(base, "/events", query), stream, { eventStreamOnly: true });
}

function openPoll(base: string, options: TransportOptions, members: readonly Member[], handlers: LinkHandlers): Connection {
  const controller = new AbortController();
  let done = false;
  const finish = (reason: string, legacy = false) => {
    if (done) return;
    done = true;
    controller.abort();
    handlers.ended(reason, legacy);
  };
  const followers = members.map((member) => new PollFollower(member, () => !done && handlers.isCurrent(member)));
  const topics = members.map((member) => member.topic).join(",");
  void (async () => {
    // The first ask does not wait, so every member hears its hello at once.
    for (let first = true; !done; first = false) {
      const cursor = combinedCursor(followers.flatMap((follower) => follower.entry()));
      const query = {
        topics,
        token: options.token,
        cursor: cursor === "" ? undefined : cursor,
        wait: first ? undefined : POLL_WAIT_SECONDS,
      };
      const response = await options.fetch(withQuery(base, "/history", query), { signal: controller.signal });
      // A body cut off (a restart mid-answer) throws here: a failed poll, tried again, not an older server.
      const text = await response.text();
      const answer = response.ok ? (parseJson(text) as MultiPage | null) : null;
      if (typeof answer?.topics !== "object" || answer.topics === null || typeof answer.cursor !== "string") {
        return finish(`long-poll answered ${response.status}`, isLegacyAnswer(response, text));
      }
      if (first) handlers.opened();
      const after = parseCursor(answer.cursor) ?? new Map<string, Position>();
      for (const follower of followers) {
        const page = answer.topics[follower.topic];
        const position = after.get(follower.topic);
        if (page !== undefined && position !== undefined) follower.take(page, position);
      }
    }
  })().catch((error: unknown) => finish(`poll failed: ${error instanceof Error ? error.message : String(error)}`));
  return { close: (reason) => finish(reason) };
}

/** One member of a multiplexed long-poll: its position, and its pages turned into frames. */
class PollFollower {
  #position: Position | null;
  #joined = false;
  readonly #pages: PageReader;

  constructor(
    readonly member: Member,
    live: () => boolean,
  ) {
    const { since, epoch } = member.resume();
    this.#position = since === null || epoch === null ? null : { since, epoch };
    this.#pages = new PageReader(member.topic, (text) => {
      if (live()) member.events.text(text);
    });
  }

  get topic(): string {
    return this.member.topic;
  }

  /** Its entry of the cursor to ask with. */
  entry(): [string, Position][] {
    return this.#position === null ? [] : [[this.topic, this.#position]];
  }

  /**
   * Turns its page into frames, as a socket's join and broadcasts: a fresh join (hello, the latest);
   * a resume (hello `recovered`, the metrics after it); or, when the server rejoined it (another
   * epoch, or a position past what the topic has: `after` is behind it), hello not recovered, reset, the latest.
   */
  take(page: Page, after: Position): void {
    const at = this.#position;
    const hello = (seq: number, recovered?: boolean) =>
      this.#pages.send({
        type: "hello",
        topic: this.topic,
        seq,
        epoch: page.epoch,
        ...(recovered === undefined ? {} : { recovered }),
        serverTime: Date.now(),
      });
    if (at === null) {
      hello(after.since);
      this.#pages.deliver(page, after.since, { gapCheck: false });
    } else if (at.epoch !== page.epoch || after.since < at.since) {
      hello(after.since, false);
      this.#pages.send({ type: "reset", topic: this.topic, seq: after.since });
      this.#pages.deliver(page, after.since, { gapCheck: false });
    } else {
      if (!this.#joined) hello(at.since, true);
      this.#pages.deliver(page, at.since);
    }
    this.#joined = true;
    this.#position = after;
  }
}
