/**
 * The client's fallbacks in Node 22 against a real `wrangler dev`: with WebSockets blocked it moves
 * to Server-Sent Events, or it is told to long-poll; either way the subscriptions of one server
 * share one multiplexed connection (`GET /events?topics=`, `GET /history?topics=`), here for more
 * topics than a browser's 6 connections per origin, and every seq of every topic arrives once, in
 * order, across a restart of the dev server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ports.mjs";
import { waitFor } from "../../scripts/lib/wait.mjs";
import type { DevServer } from "../../scripts/lib/wrangler-dev.mjs";
import type { TopicInfo } from "../../src/client/protocol";
import { type SubscribeOptions, type Subscription, subscribe } from "../../src/client/subscribe";
import { E2E_SECRETS, makeStateDir, moreTopics, printServerOutputOnFailure, removeStateDir, startServer } from "./server";

let port: number;
let stateDir: string;
let server: DevServer | undefined;
const subscriptions: Subscription[] = [];

/** A WebSocket that never opens, as on a network whose proxy kills upgrades. */
class BlockedWebSocket extends EventTarget {
  constructor(readonly url: string) {
    super();
    setTimeout(() => {
      this.dispatchEvent(new Event("error"));
      this.dispatchEvent(Object.assign(new Event("close"), { code: 1006 }));
    }, 10);
  }
  send(): void {}
  close(): void {}
}

/**
 * The client's fetch, watched: every path it asked for, and the multiplexed streams open now (one
 * opens with its 200, and closes when the client aborts it, which it does whenever a stream ends).
 */
function watchedFetch() {
  const seen = { paths: [] as string[], openStreams: new Set<string>() };
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(String(input));
    seen.paths.push(url.pathname);
    const response = await globalThis.fetch(input, init);
    if (url.pathname === "/events" && response.ok) {
      const topics = url.searchParams.get("topics") ?? "";
      seen.openStreams.add(topics);
      init?.signal?.addEventListener("abort", () => seen.openStreams.delete(topics));
    }
    return response;
  };
  return { fetch, seen };
}

const start = async () => {
  server = await startServer(stateDir, moreTopics(7), { port });
};

printServerOutputOnFailure();

beforeAll(async () => {
  port = await freePort();
  stateDir = await makeStateDir();
  await start();
});

afterAll(async () => {
  for (const subscription of subscriptions.splice(0)) subscription.close();
  await server?.stop();
  await removeStateDir(stateDir);
});

async function publish(topic: string, value: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/topics/${topic}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${E2E_SECRETS.PUBLISH_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ value }),
    signal: AbortSignal.timeout(5_000),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { seq: number }).seq;
}

/** Follows every topic of `topics` with `options`, recording each one's seqs and the transports it went live on. */
function watchAll(topics: readonly string[], options: SubscribeOptions) {
  return topics.map((topic) => {
    const seen = { topic, seqs: [] as number[], transports: new Set<string>() };
    const subscription = subscribe(
      `http://127.0.0.1:${port}/topics/${topic}`,
      {
        onMetric: (frame) => seen.seqs.push(frame.seq),
        onState: (state, _detail, transport) => {
          if (state === "live") seen.transports.add(transport);
        },
      },
      { backoff: { baseMs: 200, maxMs: 1_000 }, ...options },
    );
    subscriptions.push(subscription);
    return { subscription, seen };
  });
}

describe("the client's fallbacks against wrangler dev", () => {
  it("follows more than 6 topics over one stream (WebSockets blocked) and one long-poll, every seq once, through a restart", {
    timeout: 180_000,
  }, async () => {
    const listed = (await (await fetch(`http://127.0.0.1:${port}/topics`)).json()) as { topics: TopicInfo[] };
    const topics = listed.topics.filter((info) => !info.private).map((info) => info.topic);
    const posted = listed.topics.filter((info) => !info.private && info.job === null).map((info) => info.topic);
    expect(posted.length).toBeGreaterThan(6);
    const expected = new Map<string, number[]>();
    const publishAll = async (value: number) => {
      for (const topic of posted) expected.set(topic, [...(expected.get(topic) ?? []), await publish(topic, value)]);
    };
    await publishAll(0);

    const streamed = watchedFetch();
    const polled = watchedFetch();
    const streams = watchAll(topics, { WebSocket: BlockedWebSocket as unknown as typeof WebSocket, fetch: streamed.fetch });
    const polls = watchAll(topics, { transports: ["longpoll"], fetch: polled.fetch });
    const allLive = () => [...streams, ...polls].every(({ subscription }) => subscription.state === "live");
    await waitFor(
      () => "every subscription live",
      async () => allLive(),
      60_000,
    );
    expect(new Set(streams.map(({ subscription }) => subscription.transport))).toEqual(new Set(["sse"]));
    expect(new Set(polls.map(({ subscription }) => subscription.transport))).toEqual(new Set(["longpoll"]));
    // One connection carries them all.
    await waitFor(
      () => `one stream, open: ${[...streamed.seen.openStreams]}`,
      async () => streamed.seen.openStreams.size === 1,
      10_000,
    );
    expect([...streamed.seen.openStreams].map((list) => list.split(",").sort())).toEqual([[...topics].sort()]);
    for (const value of [1, 2]) await publishAll(value);

    await server?.stop();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await start();
    for (const value of [3, 4, 5]) await publishAll(value);

    for (const { seen } of [...streams, ...polls].filter(({ seen }) => posted.includes(seen.topic))) {
      const want = expected.get(seen.topic) ?? [];
      await waitFor(
        () => `${seen.topic}: seqs ${want}, got ${seen.seqs}`,
        async () => seen.seqs.length >= want.length,
        60_000,
      );
    }
    for (const group of [streams, polls]) {
      expect(
        Object.fromEntries(group.filter(({ seen }) => posted.includes(seen.topic)).map(({ seen }) => [seen.topic, seen.seqs])),
      ).toEqual(Object.fromEntries(expected));
    }
    // The restart never sent a blocked client back to WebSockets, nor the outage further down.
    for (const { seen } of streams) expect([...seen.transports]).toEqual(["sse"]);
    for (const { seen } of polls) expect([...seen.transports]).toEqual(["longpoll"]);
    // Never a connection per topic: streams and polls only by the multiplexed routes (snapshots are the fallback's probes).
    await waitFor(
      () => `one stream again, open: ${[...streamed.seen.openStreams]}`,
      async () => streamed.seen.openStreams.size === 1,
      10_000,
    );
    expect(streamed.seen.paths.filter((path) => /^\/topics\/[^/]+\/events$/.test(path))).toEqual([]);
    expect(polled.seen.paths.filter((path) => path !== "/history" && !/^\/topics\/[^/]+$/.test(path))).toEqual([]);
    expect(polled.seen.paths.filter((path) => path === "/history").length).toBeGreaterThan(2);
  });
});
