/**
 * The client's three ways to reach a topic, each handing the subscriber the same serialized frames:
 * - `websocket`: the topic URL upgraded (pings keep it alive and find a dead one);
 * - `sse`: `GET /topics/:topic/events` read as a fetch stream (so Node needs no EventSource);
 * - `longpoll`: `GET /topics/:topic` to join, then `GET …/history?since=&wait=25` in a loop, whose
 *   pages become the frames a socket would have sent (hello, metric, status, reset).
 * A transport opens, delivers texts, and ends once; resuming is the subscriber's (since + epoch).
 * These are one connection per topic; subscriptions on `sse` or `longpoll` share one multiplexed
 * connection instead (src/client/shared.ts), and fall back to these where a server has none.
 */
import type { BackoffPolicy } from "./backoff";
import { readEventStream } from "./event-stream";
import { type Page, PageReader } from "./pages";
import { PING, PONG, type TopicSnapshot } from "./protocol";

export type TransportName = "websocket" | "sse" | "longpoll";

/** Where a new connection starts: after `since` of `epoch`, or afresh (both null). */
export interface Resume {
  since: number | null;
  epoch: string | null;
}

/** What a transport tells the subscriber. `end` comes once (before `open` for a failed open). */
export interface TransportEvents {
  open(): void;
  text(text: string): void;
  /** `retryAt` (epoch ms): when to reconnect, for connections that several subscriptions share, so they come back together. */
  end(reason: string, retryAt?: number): void;
}

export interface TransportOptions {
  /** The topic's http(s) URL. */
  url: string;
  token?: string;
  WebSocket: typeof WebSocket;
  fetch: typeof fetch;
  pingIntervalMs: number;
  /** The reconnect backoff, and its random source, for a shared connection's own retries. */
  backoff: BackoffPolicy;
  random: () => number;
}

export interface Connection {
  close(reason: string): void;
}

/** How long a long-poll holds (the server's longest is 30 s). */
export const POLL_WAIT_SECONDS = 25;

/** `url` with `path` appended and the query parameters that are set. */
export function withQuery(url: string, path: string, query: Record<string, string | number | null | undefined>): string {
  const target = new URL(url);
  target.pathname = target.pathname.replace(/\/$/, "") + path;
  for (const [key, value] of Object.entries(query))
    if (value !== null && value !== undefined) target.searchParams.set(key, String(value));
  return target.toString();
}

const resumeQuery = ({ since, epoch }: Resume) => (since !== null && epoch !== null ? { since, epoch } : {});

/** Opens one topic's own connection on `name`, resuming where `resume()` says now. */
export function openTransport(
  name: TransportName,
  options: TransportOptions,
  resume: () => Resume,
  events: TransportEvents,
): Connection {
  if (name === "websocket") return openSocket(options, resume(), events);
  if (name === "sse") return openStream(options, resume(), events);
  return openPoll(options, resume(), events);
}

function openSocket(options: TransportOptions, resume: Resume, events: TransportEvents): Connection {
  const url = withQuery(options.url, "", { token: options.token, ...resumeQuery(resume) }).replace(/^http/, "ws");
  const ws = new options.WebSocket(url);
  let done = false;
  let lastHeard = 0;
  let lastPingAt = 0;
  let pingTimer: ReturnType<typeof setTimeout> | undefined;
  const finish = (reason: string, code?: number) => {
    if (done) return;
    done = true;
    if (pingTimer !== undefined) clearTimeout(pingTimer);
    if (code !== undefined) ws.close(code, reason);
    events.end(reason);
  };
  const keepAlive = () => {
    pingTimer = setTimeout(() => {
      // Dead only if nothing came back since the last ping: robust to background tabs, whose
      // timers the browser may delay to once a minute.
      if (lastPingAt > lastHeard) return finish("no answer to ping", 4000);
      lastPingAt = Date.now();
      ws.send(PING);
      keepAlive();
    }, options.pingIntervalMs);
  };
  ws.addEventListener("open", () => {
    lastHeard = Date.now();
    keepAlive();
    events.open();
  });
  ws.addEventListener("message", (event) => {
    if (done) return;
    lastHeard = Date.now();
    if (typeof event.data === "string" && event.data !== PONG) events.text(event.data);
  });
  ws.addEventListener("close", (event) => finish(`closed with ${event.code}`));
  // Some clients (Node's) report a refused upgrade with `error` alone, and no `close`.
  ws.addEventListener("error", () => finish("socket error"));
  return { close: (reason) => finish(reason, reason === "closed by the client" ? 1000 : 4000) };
}

function openStream(options: TransportOptions, resume: Resume, events: TransportEvents): Connection {
  const url = withQuery(options.url, "/events", { token: options.token, ...resumeQuery(resume) });
  return readEventStream(options.fetch, url, {
    open: () => events.open(),
    data: (text) => events.text(text),
    end: (reason) => events.end(reason),
  });
}

function openPoll(options: TransportOptions, resume: Resume, events: TransportEvents): Connection {
  const controller = new AbortController();
  let done = false;
  const finish = (reason: string) => {
    if (done) return;
    done = true;
    controller.abort();
    events.end(reason);
  };
  const get = async <T>(path: string, query: Record<string, number>): Promise<T> => {
    const response = await options.fetch(withQuery(options.url, path, { token: options.token, ...query }), {
      signal: controller.signal,
    });
    if (!response.ok) throw new Error(`answered ${response.status}`);
    return (await response.json()) as T;
  };
  const topic = decodeURIComponent(new URL(options.url).pathname.split("/").at(-1) ?? "");
  const pages = new PageReader(topic, (text) => {
    if (!done) events.text(text);
  });
  const send = pages.send.bind(pages);
  const deliver = (page: Page, since: number) => pages.deliver(page, since);
  void (async () => {
    let since: number;
    let epoch: string;
    if (resume.since === null || resume.epoch === null) {
      // Join as a socket does: hello, then the latest value.
      const snapshot = await get<TopicSnapshot>("", {});
      const current = await get<Page>("/history", { since: snapshot.seq });
      epoch = current.epoch;
      events.open();
      send({ type: "hello", topic, seq: snapshot.seq, epoch, serverTime: Date.now() });
      if (snapshot.latest !== null) send(snapshot.latest);
      since = deliver(current, snapshot.seq);
    } else {
      const current = await get<Page>("/history", { since: resume.since });
      epoch = current.epoch;
      events.open();
      const recovered = current.epoch === resume.epoch;
      send({ type: "hello", topic, seq: resume.since, epoch, recovered, serverTime: Date.now() });
      // Another epoch: its seqs are not this client's; the subscriber starts afresh after the reset.
      if (!recovered) {
        send({ type: "reset", topic, seq: resume.since });
        finish("epoch changed");
        return;
      }
      since = deliver(current, resume.since);
    }
    while (!done) {
      const page = await get<Page>("/history", { since, wait: POLL_WAIT_SECONDS });
      if (page.epoch !== epoch) {
        send({ type: "reset", topic, seq: since });
        return finish("epoch changed");
      }
      since = deliver(page, since);
    }
  })().catch((error: unknown) => finish(`poll failed: ${error instanceof Error ? error.message : String(error)}`));
  return { close: finish };
}
