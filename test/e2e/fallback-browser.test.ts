/**
 * The dashboard in a real Chromium whose page blocks WebSockets, as a proxy that kills upgrades
 * does: every public topic (more of them than the 6 connections per origin a browser opens over
 * HTTP/1.1, which `wrangler dev` speaks) falls back to Server-Sent Events by itself after
 * FALLBACK_AFTER failed opens, and all of them share one stream (`GET /events?topics=`); every
 * topic's seqs arrive once each and in order, across a restart of `wrangler dev` on the same port
 * and storage. (Long-poll needs the page to block streams too, which only `transports` can force,
 * and the dashboard passes none: transports.test.ts covers it.)
 */
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page, type Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../scripts/lib/wait.mjs";
import { type DevServer, fireCron } from "../../scripts/lib/wrangler-dev.mjs";
import { FALLBACK_AFTER } from "../../src/client/subscribe";
import { recordProblems } from "./browser-helpers";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium";
import {
  E2E_SECRETS,
  getJson,
  makeStateDir,
  moreTopics,
  printServerOutputOnFailure,
  removeStateDir,
  startServer,
} from "./server";

/** Reconnects back off with jitter (up to 16 s by the sixth try), and wrangler dev takes seconds to start. */
const RECONNECT_TIMEOUT_MS = 40_000;
/** Long enough down that the page's streams end and its first retries are refused. */
const OUTAGE_MS = 3_000;
/** Topics declared besides wrangler.toml's, so that the page follows more than 6 (5 job topics and TOPICS' public ones too). */
const EXTRA_TOPICS = 4;
/**
 * What the shared stream leaves in the log by design: the client aborts it each time a topic joins
 * (it reopens with every member's position), and Chromium reports the aborted request.
 */
const REOPEN_NOISE = [/^Failed to load resource: net::ERR_ABORTED \(http:\/\/127\.0\.0\.1:\d+\/events\?topics=[^ ]+\)$/];
/**
 * Beyond recordProblems' outage noise: the open stream, cut off mid-body when the server stops
 * (Chromium logs that without its URL), and the stream retries the stopped server refuses.
 */
const OUTAGE_STREAM_NOISE = [
  ...REOPEN_NOISE,
  /^Failed to load resource: net::ERR_INCOMPLETE_CHUNKED_ENCODING$/,
  /^Failed to load resource: net::ERR_[A-Z_]+ \(http:\/\/127\.0\.0\.1:\d+\/events\?topics=[^ ]+\)$/,
];

/**
 * Runs in the page before its scripts: a WebSocket whose every connection fails a moment later with
 * `error` then `close` 1006 and never opens, and a record of the URLs it was asked for.
 */
const BLOCK_WEBSOCKETS = `
  window.__blockedSockets = [];
  window.WebSocket = class BlockedWebSocket extends EventTarget {
    static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
    constructor(url) {
      super();
      this.url = String(url);
      this.readyState = 0;
      this.protocol = "";
      this.extensions = "";
      this.binaryType = "blob";
      this.bufferedAmount = 0;
      this.onopen = this.onmessage = this.onerror = this.onclose = null;
      window.__blockedSockets.push(this.url);
      setTimeout(() => {
        this.readyState = 3;
        const error = new Event("error");
        this.onerror?.(error);
        this.dispatchEvent(error);
        const close = new CloseEvent("close", { code: 1006, reason: "", wasClean: false });
        this.onclose?.(close);
        this.dispatchEvent(close);
      }, 20);
    }
    send() { throw new DOMException("Still in CONNECTING state.", "InvalidStateError"); }
    close() { this.readyState = 3; }
  };
`;

/** What the page records for tests (src/client/dashboard/main.ts), and the blocked sockets' URLs. */
declare const window: {
  __edgebeat: { metrics: Record<string, number[]>; states: Record<string, string>; transports: Record<string, string> };
  __blockedSockets: string[];
};

const hasChromium = existsSync(CHROMIUM_PATH);

let stateDir: string;
let server: DevServer | undefined;
let browser: Browser | undefined;
let page: Page;
let seen: ReturnType<typeof recordProblems>;
let publicTopics: string[] = [];
/** The public topics no job feeds, so only this test publishes to them. */
let posted: string[] = [];
/** The page's shared streams (`/events?topics=`): each with its topics, and whether it answered a stream and is still open. */
const streams = new Map<Request, { topics: string[]; url: string; open: boolean }>();
/** Streams of one topic (`/topics/:topic/events`) and long-poll reads (`…/history?…wait=`): none while the shared stream works. */
const ownStreams: string[] = [];
const polls: string[] = [];

printServerOutputOnFailure();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const start = (options: { port?: number } = {}) => startServer(stateDir, moreTopics(EXTRA_TOPICS), options);

/** Records the page's streams and polls, by the requests it makes. */
function watchTransports(watched: Page): void {
  watched.on("request", (request) => {
    const { pathname, searchParams } = new URL(request.url());
    if (pathname === "/events")
      streams.set(request, { topics: (searchParams.get("topics") ?? "").split(","), url: request.url(), open: false });
    if (/^\/topics\/[^/]+\/events$/.test(pathname)) ownStreams.push(request.url());
    if (pathname.endsWith("/history") && searchParams.has("wait")) polls.push(request.url());
  });
  watched.on("response", (response) => {
    const stream = streams.get(response.request());
    if (stream !== undefined)
      stream.open = response.status() === 200 && response.headers()["content-type"]?.startsWith("text/event-stream") === true;
  });
  const ended = (request: Request) => {
    const stream = streams.get(request);
    if (stream !== undefined) stream.open = false;
  };
  watched.on("requestfinished", ended);
  watched.on("requestfailed", ended);
}

/** Waits until the one shared stream open is the one of every topic (the page reopens it as each topic joins), and checks so. */
async function expectOneStream(): Promise<void> {
  const want = JSON.stringify([[...publicTopics].sort()]);
  await waitFor(
    () => `one stream of every topic, not ${JSON.stringify(openStreams())}`,
    async () => JSON.stringify(openStreams()) === want,
    10_000,
  ).catch(() => {});
  expect(openStreams()).toEqual([[...publicTopics].sort()]);
}

/** The shared streams open now, each as its sorted topics. */
const openStreams = () => [...streams.values()].filter((stream) => stream.open).map((stream) => [...stream.topics].sort());

async function waitUntilAllLive(timeout: number): Promise<void> {
  await page.waitForFunction((topics) => topics.every((topic) => window.__edgebeat.states[topic] === "live"), publicTopics, {
    timeout,
  });
}

/** Waits until the page has delivered as many seqs for `topic` as `seqs` holds, then expects exactly those. */
async function expectSeqs(topic: string, seqs: number[]): Promise<void> {
  await page.waitForFunction(([name, length]) => (window.__edgebeat.metrics[name as string]?.length ?? 0) >= (length as number), [
    topic,
    seqs.length,
  ] as const);
  expect(await page.evaluate((name) => window.__edgebeat.metrics[name], topic)).toEqual(seqs);
}

async function publish(topic: string, values: number[]): Promise<void> {
  for (const value of values) {
    const response = await fetch(`${server?.url}/topics/${topic}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${E2E_SECRETS.PUBLISH_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ value }),
    });
    expect(response.status).toBe(202);
  }
}

/** Fires the minute's cron, so the job topics get a value each (their runId is the slot: never twice the same). */
async function fireMinute(): Promise<void> {
  const slot = Math.floor(Date.now() / 1_000) * 1_000;
  expect(await fireCron(server?.url ?? "", "* * * * *", slot)).toEqual({ status: 200, body: "ok" });
}

/** A topic's kept seqs from `first` on, as the server has them. */
async function keptSeqs(topic: string, first: number): Promise<number[]> {
  const { body } = await getJson(server as DevServer, `/topics/${topic}/history?since=${first - 1}&limit=1000`);
  return (body as { messages: { seq: number }[] }).messages.map((message) => message.seq);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

beforeAll(async () => {
  stateDir = await makeStateDir();
  server = await start();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await removeStateDir(stateDir);
});

describe.runIf(hasChromium || Boolean(process.env.CI))("the dashboard in Chromium with WebSockets blocked", () => {
  it("finds Chromium", () => {
    if (!hasChromium)
      throw new Error(`${CHROMIUM_PATH} is missing: CI must install it (apt-get install -y chromium; see .ci/run).`);
  });

  it(`puts every public topic live over Server-Sent Events after ${FALLBACK_AFTER} failed socket opens`, {
    timeout: 60_000,
  }, async () => {
    const declared = (await getJson(server as DevServer, "/topics")).body as {
      topics: { topic: string; job: string | null; private: boolean }[];
    };
    // Every public topic the dashboard shows (it lists them from GET /topics): more than 6 connections would hold.
    publicTopics = declared.topics.filter((info) => !info.private).map((info) => info.topic);
    posted = declared.topics.filter((info) => info.job === null && !info.private).map((info) => info.topic);
    expect(publicTopics.length).toBeGreaterThan(6);

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    await page.addInitScript({ content: BLOCK_WEBSOCKETS });
    seen = recordProblems(page, (server as DevServer).url);
    seen.expected = REOPEN_NOISE;
    watchTransports(page);
    await page.goto(`${server?.url}/`);
    // Each topic tries its socket FALLBACK_AFTER times, with backoff, before its stream: allow for a busy machine.
    await waitUntilAllLive(45_000);

    // Each topic's socket was tried FALLBACK_AFTER times (the first a join, without since), and none opened.
    const tried = await page.evaluate(() => window.__blockedSockets);
    const wsUrl = (topic: string) => `${server?.url.replace(/^http/, "ws")}/topics/${encodeURIComponent(topic)}`;
    expect([...tried].sort()).toEqual(publicTopics.flatMap((topic) => Array(FALLBACK_AFTER).fill(wsUrl(topic))).sort());
    expect(seen.socketUrls).toEqual([]);
    // One stream carries every topic; none of its own, no long-poll.
    await expectOneStream();
    expect(ownStreams).toEqual([]);
    expect(polls).toEqual([]);
    // The page says so: each topic's transport, and on its card.
    expect(await page.evaluate(() => window.__edgebeat.transports)).toEqual(
      Object.fromEntries(publicTopics.map((topic) => [topic, "sse"])),
    );
    const labels = await page.locator("article.card .connection").allTextContents();
    expect(new Set(labels)).toEqual(new Set(["live · SSE"]));
  });

  it("delivers every topic's seqs once and in order, across a restart on the same port and storage", {
    timeout: 90_000,
  }, async () => {
    for (const topic of posted) await publish(topic, [3, 5, 4]);
    await fireMinute();
    for (const topic of posted) await expectSeqs(topic, range(1, 3));
    const [first] = posted as [string];

    const { port } = server as DevServer;
    seen.outage = true;
    seen.expected = OUTAGE_STREAM_NOISE;
    await server?.stop();
    await page.waitForFunction((topic) => window.__edgebeat.states[topic] === "reconnecting", first);
    expect(openStreams()).toEqual([]);
    await sleep(OUTAGE_MS);
    const before = streams.size;

    server = await start({ port });
    await waitUntilAllLive(RECONNECT_TIMEOUT_MS);
    seen.outage = false;
    seen.expected = REOPEN_NOISE;
    for (const topic of posted) await publish(topic, [8, 6, 7]);
    await fireMinute();
    for (const topic of posted) await expectSeqs(topic, range(1, 6));

    // Every topic, job topics too: each seq the server keeps from the page's first on, once, in order.
    for (const topic of publicTopics) {
      const shown = async () => (await page.evaluate((name) => window.__edgebeat.metrics[name], topic)) ?? [];
      const first = (await shown())[0];
      const kept = first === undefined ? [] : await keptSeqs(topic, first);
      await waitFor(
        () => `${topic} to show ${kept}`,
        async () => (await shown()).length >= kept.length,
        15_000,
      );
      const seqs = await shown();
      expect([topic, seqs.slice(0, kept.length)]).toEqual([topic, kept]);
      expect([topic, seqs]).toEqual([
        topic,
        seqs.length === 0 ? [] : range(seqs[0] as number, (seqs[0] as number) + seqs.length - 1),
      ]);
    }
    // It resumed after seq 3 of the epoch it had, over one shared stream again: no socket opened, no long-poll.
    const resumed = [...streams.values()]
      .slice(before)
      .map((stream) => new URL(stream.url).searchParams.get("lastEventId") ?? "");
    expect(resumed).toContainEqual(expect.stringMatching(new RegExp(`(^|,)${first.replace(".", "\\.")}=[\\w-]+:3(,|$)`)));
    await expectOneStream();
    expect(ownStreams).toEqual([]);
    expect(seen.socketUrls).toEqual([]);
    expect(polls).toEqual([]);
  });

  it("leaves no console error, page error or outside request", () => {
    expect(seen.problems).toEqual([]);
  });
});
