/**
 * The client's transports: falling back from WebSocket to SSE only when WebSockets are what fails,
 * and long-poll's frames. The fake servers here have only the per-topic routes (as servers before
 * the multiplexed ones): test/client/shared.test.ts covers the shared connections.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { MetricFrame, ServerFrame } from "../../src/client/protocol";
import { FALLBACK_AFTER, type Subscription, subscribe } from "../../src/client/subscribe";
import { FakeSocket, fakeEnvironment } from "./fake-socket";

const TOPIC = "announcements";
const URL_HTTP = `http://edgebeat.test/topics/${TOPIC}`;
const EPOCH = "epoch-1";
const metric = (seq: number): MetricFrame => ({ type: "metric", topic: TOPIC, seq, value: seq, ts: seq, runId: `post:${seq}` });
const hello = (seq: number) => ({ type: "hello", topic: TOPIC, seq, epoch: EPOCH, serverTime: 0 }) as const;

/** A socket that fails to open, as on a network that blocks WebSockets. */
class BlockedSocket extends FakeSocket {
  constructor(url: string) {
    super(url);
    setTimeout(() => this.fail(), 0);
  }
}

const subscriptions: Subscription[] = [];
afterEach(() => {
  for (const subscription of subscriptions.splice(0)) subscription.close();
  FakeSocket.opened.length = 0;
});

const waitFor = async (done: () => boolean, what: string) => {
  for (let i = 0; i < 400 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!done()) throw new Error(`timed out waiting for ${what}`);
};

const json = (body: unknown) => new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json" } });
const sse = (frames: ServerFrame[]) =>
  new Response(frames.map((frame) => `data: ${JSON.stringify(frame)}\n\n`).join(""), {
    headers: { "Content-Type": "text/event-stream" },
  });

/**
 * The fake servers here are older ones, with the per-topic routes only: the multiplexed routes
 * answer 404 `not_found` (as a server without them does), and the client goes on per topic.
 */
function olderServer(fetch: typeof globalThis.fetch, asked: string[]): typeof globalThis.fetch {
  return async (input, init) => {
    const url = new URL(String(input));
    if (url.pathname.startsWith("/topics/")) return fetch(input, init);
    asked.push(`${url.pathname}${url.search}`);
    return Response.json({ error: { code: "not_found", message: `No route for GET ${url.pathname}.` } }, { status: 404 });
  };
}

function start(fetch: typeof globalThis.fetch, extra: Parameters<typeof subscribe>[2] = {}) {
  const seen = { seqs: [] as number[], states: [] as string[], resets: 0, multiplexed: [] as string[] };
  const subscription = subscribe(
    URL_HTTP,
    {
      onMetric: (frame) => seen.seqs.push(frame.seq),
      onReset: () => seen.resets++,
      onState: (state, detail, transport) => seen.states.push(`${transport} ${state}${detail ? `: ${detail}` : ""}`),
    },
    {
      ...fakeEnvironment(),
      WebSocket: BlockedSocket as unknown as typeof WebSocket,
      fetch: olderServer(fetch, seen.multiplexed),
      ...extra,
    },
  );
  subscriptions.push(subscription);
  return { subscription, seen };
}

describe("falling back", () => {
  it(`moves to SSE after ${FALLBACK_AFTER} failed socket opens while the topic answers over HTTP, and delivers the same`, async () => {
    const requests: string[] = [];
    const { subscription, seen } = start(async (input) => {
      const url = String(input);
      requests.push(url);
      if (url.endsWith("/events")) return sse([hello(2), metric(2), metric(3)]);
      return json({ topic: TOPIC, seq: 2 });
    });
    await waitFor(() => seen.seqs.length === 2, "two metrics over SSE");
    expect(seen.seqs).toEqual([2, 3]);
    expect(subscription.transport).toBe("sse");
    expect(FakeSocket.opened).toHaveLength(FALLBACK_AFTER);
    expect(seen.states).toContain(`sse reconnecting: websocket failed ${FALLBACK_AFTER} times; trying sse`);
    expect(seen.states.at(-1)).toMatch(/^sse (live|reconnecting: the stream ended)$/);
    expect(requests.filter((url) => url.endsWith("/events"))[0]).toBe(`${URL_HTTP}/events`);
    // The server has no GET /events?topics=: the client asked once, then streamed the topic itself.
    expect(seen.multiplexed).toEqual([`/events?topics=${TOPIC}`]);
  });

  it("moves on from SSE to long-poll when streams fail too, and delivers the same", async () => {
    const { subscription, seen } = start(async (input) => {
      const url = new URL(String(input));
      if (url.pathname.endsWith("/events")) return new Response("blocked", { status: 502 });
      if (url.pathname.endsWith("/history")) {
        const since = Number(url.searchParams.get("since"));
        if (since >= 3) return new Promise<Response>(() => {}); // the next long-poll holds
        return json({
          topic: TOPIC,
          epoch: EPOCH,
          status: "ok",
          detail: "",
          messages: since === 2 && url.searchParams.has("wait") ? [metric(3)] : [],
        });
      }
      return json({ topic: TOPIC, seq: 2, latest: metric(2), status: "ok" });
    });
    await waitFor(() => seen.seqs.length === 2, "two metrics by long-poll");
    expect(seen.seqs).toEqual([2, 3]);
    expect(subscription.transport).toBe("longpoll");
    expect(seen.states).toContain(`longpoll reconnecting: sse failed ${FALLBACK_AFTER} times; trying longpoll`);
  });

  it("stays on WebSocket while the server is unreachable: an outage is not a blocked network", async () => {
    const { subscription } = start(async () => {
      throw new TypeError("fetch failed");
    });
    await waitFor(() => FakeSocket.opened.length >= FALLBACK_AFTER + 3, "more socket attempts");
    expect(subscription.transport).toBe("websocket");
  });
});

describe("long-poll", () => {
  it("joins with the latest value, then turns each page into metrics, once each and in order", async () => {
    const pages = [
      { epoch: EPOCH, status: "ok", detail: "", messages: [] },
      { epoch: EPOCH, status: "ok", detail: "", messages: [metric(5), metric(6)] },
      { epoch: EPOCH, status: "stale", detail: "late", messages: [metric(7)] },
    ];
    const asked: string[] = [];
    const { subscription, seen } = start(
      async (input) => {
        const url = new URL(String(input));
        asked.push(`${url.pathname}${url.search}`);
        if (!url.pathname.endsWith("/history")) return json({ topic: TOPIC, seq: 4, latest: metric(4), status: "ok" });
        const page = pages.shift();
        if (page === undefined) return new Promise<Response>(() => {}); // the next long-poll holds
        return json({ topic: TOPIC, ...page });
      },
      { transports: ["longpoll"] },
    );
    await waitFor(() => seen.seqs.length === 4, "four metrics by long-poll");
    expect(seen.seqs).toEqual([4, 5, 6, 7]);
    expect(subscription.transport).toBe("longpoll");
    expect(subscription.epoch).toBe(EPOCH);
    expect(seen.multiplexed).toEqual([`/history?topics=${TOPIC}`]);
    expect(asked.slice(0, 4)).toEqual([
      `/topics/${TOPIC}`,
      `/topics/${TOPIC}/history?since=4`,
      `/topics/${TOPIC}/history?since=4&wait=25`,
      `/topics/${TOPIC}/history?since=6&wait=25`,
    ]);
  });

  it("says reset when the server no longer has the metrics after its seq, then goes on from what it has", async () => {
    const pages = [
      { epoch: EPOCH, status: "ok", detail: "", messages: [] },
      { epoch: EPOCH, status: "ok", detail: "", messages: [metric(9), metric(10)] },
    ];
    const { seen } = start(
      async (input) => {
        if (!String(input).includes("/history")) return json({ topic: TOPIC, seq: 4, latest: metric(4), status: "ok" });
        const page = pages.shift();
        return page === undefined ? new Promise<Response>(() => {}) : json({ topic: TOPIC, ...page });
      },
      { transports: ["longpoll"] },
    );
    await waitFor(() => seen.seqs.length === 3, "the metrics after the reset");
    expect(seen.seqs).toEqual([4, 9, 10]);
    expect(seen.resets).toBe(1);
  });
});
