/**
 * The dashboard in a real Chromium whose page blocks WebSockets, as a proxy that kills upgrades
 * does: every public topic falls back to Server-Sent Events by itself after FALLBACK_AFTER failed
 * opens and goes live; a posted topic's seqs arrive once each and in order, across a restart of
 * `wrangler dev` on the same port and storage. (Long-poll needs the page to block streams too,
 * which only `transports` can force, and the dashboard passes none: transports.test.ts covers it.)
 */
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page, type Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevServer } from "../../scripts/lib/wrangler-dev.mjs";
import { FALLBACK_AFTER } from "../../src/client/subscribe";
import { recordProblems } from "./browser-helpers";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium";
import { E2E_SECRETS, getJson, makeStateDir, printServerOutputOnFailure, removeStateDir, startServer } from "./server";

/** Reconnects back off with jitter (up to 16 s by the sixth try), and wrangler dev takes seconds to start. */
const RECONNECT_TIMEOUT_MS = 40_000;
/** Long enough down that the page's streams end and its first retries are refused. */
const OUTAGE_MS = 3_000;
/**
 * Beyond recordProblems' outage noise: each open stream, cut off mid-body when the server stops
 * (Chromium logs that without its URL), and the stream retries the stopped server refuses.
 */
const OUTAGE_STREAM_NOISE = [
  /^Failed to load resource: net::ERR_INCOMPLETE_CHUNKED_ENCODING$/,
  /^Failed to load resource: net::ERR_[A-Z_]+ \(http:\/\/127\.0\.0\.1:\d+\/topics\/[a-z.]+\/events(\?since=\d+&epoch=[\w-]+)?\)$/,
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
/** A public topic no job feeds, so only this test publishes to it. */
let posted: string;
/** The page's Server-Sent Events requests: each with its topic, and whether it answered a stream and is still open. */
const streams = new Map<Request, { topic: string; url: string; open: boolean }>();
/** The page's long-poll reads (`/history?…wait=`): none while streams work. */
const polls: string[] = [];

printServerOutputOnFailure();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const start = (options: { port?: number } = {}) => startServer(stateDir, {}, options);

/** Records the page's streams and polls, by the requests it makes. */
function watchTransports(watched: Page): void {
  watched.on("request", (request) => {
    const { pathname, searchParams } = new URL(request.url());
    const stream = pathname.match(/^\/topics\/([^/]+)\/events$/);
    if (stream?.[1] !== undefined)
      streams.set(request, { topic: decodeURIComponent(stream[1]), url: request.url(), open: false });
    if (/^\/topics\/[^/]+\/history$/.test(pathname) && searchParams.has("wait")) polls.push(request.url());
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

/** The topics with a Server-Sent Events stream open now, sorted, each as often as it has one. */
/** Topics the page streams at once: HTTP/1.1 allows 6 connections per origin, and the page also reads /jobs and /metrics. */
const STREAMED_TOPICS = 4;

const openStreams = () =>
  [...streams.values()]
    .filter((stream) => stream.open)
    .map((stream) => stream.topic)
    .sort();

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

async function publish(values: number[]): Promise<void> {
  for (const value of values) {
    const response = await fetch(`${server?.url}/topics/${posted}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${E2E_SECRETS.PUBLISH_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ value }),
    });
    expect(response.status).toBe(202);
  }
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
    const candidate = declared.topics.find((info) => info.job === null && !info.private);
    if (candidate === undefined) throw new Error("The test needs a public topic without a job: list one in TOPICS");
    posted = candidate.topic;
    // Over HTTP/1.1 (wrangler dev) a browser opens at most 6 connections per origin, and each stream
    // holds one: the page is shown STREAMED_TOPICS topics (the posted one among them), so the test
    // does not depend on how many jobs the registry has. Production speaks HTTP/2 (docs/client.md).
    const shown = [candidate, ...declared.topics.filter((info) => !info.private && info !== candidate)].slice(0, STREAMED_TOPICS);
    publicTopics = declared.topics.filter((info) => shown.includes(info)).map((info) => info.topic);

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    await page.addInitScript({ content: BLOCK_WEBSOCKETS });
    seen = recordProblems(page, (server as DevServer).url);
    watchTransports(page);
    await page.route("**/topics", (route) =>
      route.fulfill({ json: { topics: declared.topics.filter((info) => publicTopics.includes(info.topic)) } }),
    );
    await page.goto(`${server?.url}/`);
    // Each topic tries its socket FALLBACK_AFTER times, with backoff, before its stream: allow for a busy machine.
    await waitUntilAllLive(45_000);

    // Each topic's socket was tried FALLBACK_AFTER times (the first a join, without since), and none opened.
    const tried = await page.evaluate(() => window.__blockedSockets);
    const wsUrl = (topic: string) => `${server?.url.replace(/^http/, "ws")}/topics/${encodeURIComponent(topic)}`;
    expect([...tried].sort()).toEqual(publicTopics.flatMap((topic) => Array(FALLBACK_AFTER).fill(wsUrl(topic))).sort());
    expect(seen.socketUrls).toEqual([]);
    // One open stream per topic, and no long-poll.
    expect(openStreams()).toEqual([...publicTopics].sort());
    expect(polls).toEqual([]);
    // The page says so: each topic's transport, and on its card.
    expect(await page.evaluate(() => window.__edgebeat.transports)).toEqual(
      Object.fromEntries(publicTopics.map((topic) => [topic, "sse"])),
    );
    const labels = await page.locator("article.card .connection").allTextContents();
    expect(new Set(labels)).toEqual(new Set(["live · SSE"]));
  });

  it("delivers every posted seq once and in order, across a restart on the same port and storage", {
    timeout: 70_000,
  }, async () => {
    await publish([3, 5, 4]);
    await expectSeqs(posted, range(1, 3));

    const { port } = server as DevServer;
    seen.outage = true;
    seen.expected = OUTAGE_STREAM_NOISE;
    await server?.stop();
    await page.waitForFunction((topic) => window.__edgebeat.states[topic] === "reconnecting", posted);
    expect(openStreams()).toEqual([]);
    await sleep(OUTAGE_MS);
    const before = streams.size;

    server = await start({ port });
    await waitUntilAllLive(RECONNECT_TIMEOUT_MS);
    seen.outage = false;
    seen.expected = [];
    await publish([8, 6, 7]);
    await expectSeqs(posted, range(1, 6));

    // It resumed after seq 3 of the epoch it had, over a stream again: no socket opened, no long-poll.
    const resumed = [...streams.values()].slice(before).filter((stream) => stream.topic === posted);
    expect(resumed.map((stream) => new URL(stream.url).search)).toContainEqual(expect.stringMatching(/^\?since=3&epoch=[\w-]+$/));
    expect(openStreams()).toEqual([...publicTopics].sort());
    expect(seen.socketUrls).toEqual([]);
    expect(polls).toEqual([]);
  });

  it("leaves no console error, page error or outside request", () => {
    expect(seen.problems).toEqual([]);
  });
});
