/** Subscriptions off WebSockets sharing one multiplexed connection per server, against fake servers of those routes. */
import { afterEach, describe, expect, it } from "vitest";
import type { MetricFrame, ServerFrame } from "../../src/client/protocol";
import { type Subscription, subscribe } from "../../src/client/subscribe";
import { fakeEnvironment } from "./fake-socket";

const HOST = "http://edgebeat.test";
const EPOCH = "epoch-1";
const metric = (topic: string, seq: number): MetricFrame => ({
  type: "metric",
  topic,
  seq,
  value: seq,
  ts: seq,
  runId: `post:${seq}`,
});
const hello = (topic: string, seq: number, recovered?: boolean): ServerFrame => ({
  type: "hello",
  topic,
  seq,
  epoch: EPOCH,
  serverTime: 0,
  ...(recovered === undefined ? {} : { recovered }),
});

const subscriptions: Subscription[] = [];
afterEach(() => {
  for (const subscription of subscriptions.splice(0)) subscription.close();
});

const waitFor = async (done: () => boolean, what: string) => {
  for (let i = 0; i < 400 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!done()) throw new Error(`timed out waiting for ${what}`);
};

/** An open request to the fake server's `GET /events?topics=`: the test writes its events and ends it. */
interface FakeStream {
  query: Record<string, string>;
  aborted: boolean;
  send(...frames: ServerFrame[]): void;
  end(): void;
}

/** A fake server with the multiplexed stream (and snapshots that answer 200), or one that refuses it with `refuse`. */
function streamServer(refuse?: (query: Record<string, string>) => Response | null) {
  const streams: FakeStream[] = [];
  const asked: string[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(String(input));
    asked.push(`${url.pathname}${url.search}`);
    const query = Object.fromEntries(url.searchParams);
    if (url.pathname !== "/events")
      return Response.json({ topic: url.pathname.split("/")[2], seq: 0, latest: null, status: "ok" });
    const refusal = refuse?.(query);
    if (refusal) return refusal;
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
      },
    });
    const stream: FakeStream = {
      query,
      aborted: false,
      send: (...frames) =>
        controller?.enqueue(new TextEncoder().encode(frames.map((f) => `data: ${JSON.stringify(f)}\n\n`).join(""))),
      end: () => controller?.close(),
    };
    init?.signal?.addEventListener("abort", () => {
      stream.aborted = true;
      controller?.error(new Error("aborted"));
    });
    streams.push(stream);
    return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
  };
  return { fetch, streams, asked };
}

/** Subscribes to `topic` on `fetch`'s server and records what the subscription reports. */
function follow(topic: string, fetch: typeof globalThis.fetch, transports: ("sse" | "longpoll")[] = ["sse"]) {
  const seen = { seqs: [] as number[], states: [] as string[], resets: 0 };
  const subscription = subscribe(
    `${HOST}/topics/${topic}`,
    {
      onMetric: (frame) => seen.seqs.push(frame.seq),
      onReset: () => seen.resets++,
      onState: (state, detail) => seen.states.push(detail === undefined ? state : `${state}: ${detail}`),
    },
    { ...fakeEnvironment(), fetch, transports },
  );
  subscriptions.push(subscription);
  return { subscription, seen };
}

describe("one shared stream", () => {
  it("carries every subscription of one server: the joins of one tick make one request, each gets its own frames once", async () => {
    const server = streamServer();
    const [a, b, c] = ["a", "b", "c"].map((topic) => follow(topic, server.fetch));
    await waitFor(() => server.streams.length > 0, "the shared stream");
    expect(server.streams.map((stream) => stream.query)).toEqual([{ topics: "a,b,c" }]);
    server.streams[0]?.send(
      hello("a", 1),
      metric("a", 1),
      hello("b", 0),
      hello("c", 0),
      metric("b", 1),
      metric("a", 2),
      metric("a", 2),
    );
    await waitFor(() => a?.seen.seqs.length === 2 && b?.seen.seqs.length === 1, "the metrics");
    expect([a?.seen.seqs, b?.seen.seqs, c?.seen.seqs]).toEqual([[1, 2], [1], []]);
    expect([a, b, c].map((each) => [each?.subscription.state, each?.subscription.transport])).toEqual(
      Array(3).fill(["live", "sse"]),
    );
  });

  it("reopens with every member's position when a topic joins or leaves, and closes with the last", async () => {
    const server = streamServer();
    const a = follow("a", server.fetch);
    const b = follow("b", server.fetch);
    await waitFor(() => server.streams.length === 1, "the first stream");
    server.streams[0]?.send(hello("a", 2), metric("a", 2), hello("b", 0), metric("b", 1));
    await waitFor(() => b.seen.seqs.length === 1, "b's metric");
    const c = follow("c", server.fetch);
    const d = follow("d", server.fetch);
    await waitFor(() => server.streams.length === 2, "the reopened stream");
    expect(server.streams[0]?.aborted).toBe(true);
    expect(server.streams[1]?.query).toEqual({ topics: "a,b,c,d", lastEventId: `a=${EPOCH}:2,b=${EPOCH}:1` });
    // The new stream's join replays what a member had already; it is delivered once.
    server.streams[1]?.send(
      hello("a", 3, true),
      metric("a", 3),
      hello("b", 1, true),
      hello("c", 0),
      hello("d", 0),
      metric("c", 1),
    );
    await waitFor(() => c.seen.seqs.length === 1 && a.seen.seqs.length === 2, "the new stream's metrics");
    expect([a.seen.seqs, b.seen.seqs, c.seen.seqs, d.seen.seqs]).toEqual([[2, 3], [1], [1], []]);
    b.subscription.close();
    await waitFor(() => server.streams.length === 3, "the stream without b");
    expect(server.streams[2]?.query).toEqual({ topics: "a,c,d", lastEventId: `a=${EPOCH}:3,c=${EPOCH}:1` });
    for (const each of [a, c, d]) each.subscription.close();
    await waitFor(() => server.streams[2]?.aborted === true, "the last stream to close");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.streams).toHaveLength(3);
  });

  it("reconnects every member at one time, over one request, when the shared stream ends", async () => {
    const server = streamServer();
    const members = ["a", "b", "c"].map((topic) => follow(topic, server.fetch));
    await waitFor(() => server.streams.length === 1, "the stream");
    server.streams[0]?.send(hello("a", 1), metric("a", 1), hello("b", 0), hello("c", 0));
    await waitFor(() => members.every((each) => each.subscription.state === "live"), "all live");
    server.streams[0]?.end();
    await waitFor(() => server.streams.length === 2, "the stream again");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.streams.map((stream) => stream.query)).toEqual([
      { topics: "a,b,c" },
      { topics: "a,b,c", lastEventId: `a=${EPOCH}:1` },
    ]);
    expect(members.map((each) => each.seen.states.at(-1))).toEqual(Array(3).fill("reconnecting: the stream ended"));
  });

  it("goes per topic on a server without the multiplexed stream, as before it", async () => {
    const notFound = Response.json({ error: { code: "not_found", message: "No route for GET /events." } }, { status: 404 });
    const server = streamServer(() => notFound.clone());
    // Its per-topic streams: each says hello and stays open.
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const topic = /\/topics\/([^/]+)\/events$/.exec(new URL(String(input)).pathname)?.[1];
      if (topic === undefined) return server.fetch(input, init);
      server.asked.push(`/topics/${topic}/events`);
      const body = new ReadableStream<Uint8Array>({
        start: (controller) => controller.enqueue(new TextEncoder().encode(`data: ${JSON.stringify(hello(topic, 0))}\n\n`)),
      });
      return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
    };
    const members = [follow("a", fetch), follow("b", fetch)];
    await waitFor(() => members.every((each) => each.subscription.state === "live"), "both live");
    expect(server.asked).toEqual(["/events?topics=a%2Cb", "/topics/a/events", "/topics/b/events"]);
    expect(server.streams).toEqual([]);
    // A later subscription on that server goes per topic at once.
    follow("c", fetch);
    await waitFor(() => server.asked.length === 4, "c's own stream");
    expect(server.asked.at(-1)).toBe("/topics/c/events");
  });

  it("closes a refused topic alone: the others go live on the next stream", async () => {
    const server = streamServer((query) =>
      query.topics?.split(",").includes("nope")
        ? Response.json({ error: { code: "unknown_topic", message: 'No topic "nope" is declared.' } }, { status: 404 })
        : null,
    );
    const fetch: typeof globalThis.fetch = async (input, init) =>
      String(input) === `${HOST}/topics/nope`
        ? Response.json({ error: { code: "unknown_topic", message: 'No topic "nope" is declared.' } }, { status: 404 })
        : server.fetch(input, init);
    const a = follow("a", fetch);
    const nope = follow("nope", fetch);
    await waitFor(() => server.streams.length === 1, "a stream without the refused topic");
    expect(server.streams[0]?.query).toEqual({ topics: "a" });
    expect(nope.subscription.state).toBe("closed");
    expect(nope.seen.states.at(-1)).toBe('closed: 404 unknown_topic: No topic "nope" is declared.');
    server.streams[0]?.send(hello("a", 0));
    await waitFor(() => a.subscription.state === "live", "a live");
  });
});

describe("one shared long-poll", () => {
  it("polls every topic in one loop: fresh joins, then resumes from the cursor, and a rejoin in another epoch", async () => {
    const page = (epoch: string, seqs: number[], topic: string) => ({
      topic,
      epoch,
      status: "ok",
      detail: "",
      messages: seqs.map((seq) => metric(topic, seq)),
    });
    const answers = [
      { topics: { a: page(EPOCH, [3], "a"), b: page(EPOCH, [], "b") }, cursor: `a=${EPOCH}:3,b=${EPOCH}:0` },
      { topics: { a: page(EPOCH, [4], "a"), b: page(EPOCH, [1], "b") }, cursor: `a=${EPOCH}:4,b=${EPOCH}:1` },
      { topics: { a: page("epoch-2", [1], "a"), b: page(EPOCH, [], "b") }, cursor: `a=epoch-2:1,b=${EPOCH}:1` },
    ];
    const asked: Record<string, string>[] = [];
    const fetch: typeof globalThis.fetch = async (input) => {
      const url = new URL(String(input));
      if (url.pathname !== "/history") return Response.json({ seq: 0 });
      asked.push(Object.fromEntries(url.searchParams));
      const answer = answers.shift();
      return answer === undefined ? new Promise<Response>(() => {}) : Response.json(answer);
    };
    const a = follow("a", fetch, ["longpoll"]);
    const b = follow("b", fetch, ["longpoll"]);
    await waitFor(() => asked.length === 4, "four polls");
    expect(asked).toEqual([
      { topics: "a,b" },
      { topics: "a,b", cursor: `a=${EPOCH}:3,b=${EPOCH}:0`, wait: "25" },
      { topics: "a,b", cursor: `a=${EPOCH}:4,b=${EPOCH}:1`, wait: "25" },
      { topics: "a,b", cursor: `a=epoch-2:1,b=${EPOCH}:1`, wait: "25" },
    ]);
    expect([a.seen.seqs, b.seen.seqs]).toEqual([[3, 4, 1], [1]]);
    expect([a.seen.resets, a.subscription.epoch, b.subscription.epoch]).toEqual([1, "epoch-2", EPOCH]);
    expect([a.subscription.state, b.subscription.transport]).toEqual(["live", "longpoll"]);
  });

  it("takes an answer cut off mid-body (a restart) for a failed poll, tried again on the shared route", async () => {
    const page = (topic: string, seqs: number[]) => ({
      topic,
      epoch: EPOCH,
      status: "ok",
      detail: "",
      messages: seqs.map((seq) => metric(topic, seq)),
    });
    const cut = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start: (controller) => {
            controller.enqueue(new TextEncoder().encode('{"topics":{'));
            controller.error(new Error("socket closed"));
          },
        }),
        { headers: { "Content-Type": "application/json" } },
      );
    const answers: (() => Response)[] = [
      () => Response.json({ topics: { a: page("a", [1]) }, cursor: `a=${EPOCH}:1` }),
      cut,
      () => Response.json({ topics: { a: page("a", [2]) }, cursor: `a=${EPOCH}:2` }),
    ];
    const asked: string[] = [];
    const fetch: typeof globalThis.fetch = async (input) => {
      const url = new URL(String(input));
      asked.push(url.pathname);
      if (url.pathname !== "/history") return Response.json({ seq: 0 });
      return answers.shift()?.() ?? new Promise<Response>(() => {});
    };
    const a = follow("a", fetch, ["longpoll"]);
    await waitFor(() => a.seen.seqs.length === 2, "both metrics");
    expect(a.seen.seqs).toEqual([1, 2]);
    expect(asked.filter((path) => path !== "/topics/a")).toEqual(["/history", "/history", "/history", "/history"]);
    expect(a.subscription.transport).toBe("longpoll");
  });
});
