/**
 * The dashboard in a real Chromium against a real `wrangler dev`: every public topic live, values
 * appearing as crons fire, and a server restart on the same port and storage that the page rides
 * out by itself, resuming without a gap. No console errors, page errors or outside requests.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, fireCron } from "../../scripts/lib/wrangler-dev.mjs";
import { E2E_SECRETS, makeStateDir, printServerOutputOnFailure, removeStateDir, startServer } from "./server";

const CHROMIUM = "/usr/bin/chromium";
const LAUNCH_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const PUBLIC_TOPICS = ["system", "uptime", "pulse", "events", "feed", "announcements"];
const SCREENSHOT = "test-results/dashboard.png";
/** Reconnects back off with jitter (up to 16 s by the sixth try), and wrangler dev takes seconds to start. */
const RECONNECT_TIMEOUT_MS = 45_000;

/** What the page records for tests (src/client/dashboard/main.ts). */
declare const window: { __edgebeat: { metrics: Record<string, number[]>; states: Record<string, string> } };

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && !process.env.CI) {
  console.warn(`Skipping the browser tests: ${CHROMIUM} is missing. Install it with: apt-get install -y chromium`);
}

let stateDir: string;
let server: DevServer | undefined;
let browser: Browser | undefined;
let page: Page;
/** Console errors, page errors, failed or outside requests; during the outage, only those it explains are left out. */
const problems: string[] = [];
let outage = false;
const socketUrls: string[] = [];

printServerOutputOnFailure();

/** Console and network noise that a stopped or restarting server explains: refused or reset connections, nothing else. */
const OUTAGE_NOISE = [
  // A reconnect attempt (a resume, or a join for a topic that had no metric yet), refused while the
  // server is down, or reset by wrangler's proxy, which accepts before the restarted runtime serves ...
  /^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/topics\/[a-z.]+(\?since=\d+&epoch=[\w-]+)?' failed: (Error in connection establishment: net::ERR_CONNECTION_REFUSED|Error during WebSocket handshake: net::ERR_CONNECTION_RESET)$/,
  // ... the client's check whether the refusal is final, and a "Recent runs" refresh.
  /^Failed to load resource: net::ERR_CONNECTION_REFUSED( \(http:\/\/127\.0\.0\.1:\d+\/(topics\/[a-z.]+|jobs)\))?$/,
];

function report(problem: string): void {
  if (outage && OUTAGE_NOISE.some((pattern) => pattern.test(problem))) return;
  problems.push(problem);
}

async function openDashboard(url: string): Promise<Page> {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  const opened = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  opened.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") report(message.text());
  });
  opened.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  opened.on("request", (request) => {
    if (!request.url().startsWith(`${url}/`)) problems.push(`outside request: ${request.url()}`);
  });
  opened.on("requestfailed", (request) => report(`Failed to load resource: ${request.failure()?.errorText} (${request.url()})`));
  opened.on("response", (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
  });
  opened.on("websocket", (socket) => socketUrls.push(socket.url()));
  await opened.goto(`${url}/`);
  return opened;
}

/** Waits until the page has delivered exactly `seqs` for `topic` (it fails on any other list once it is as long). */
async function expectSeqs(topic: string, seqs: number[]): Promise<void> {
  await page.waitForFunction(([name, length]) => (window.__edgebeat.metrics[name as string]?.length ?? 0) >= (length as number), [
    topic,
    seqs.length,
  ] as const);
  expect(await page.evaluate((name) => window.__edgebeat.metrics[name], topic)).toEqual(seqs);
}

async function waitUntilAllLive(timeout = 15_000): Promise<void> {
  await page.waitForFunction((topics) => topics.every((topic) => window.__edgebeat.states[topic] === "live"), PUBLIC_TOPICS, {
    timeout,
  });
}

/** The last scheduledTime fired: each firing gets a later one (a repeated one would publish nothing). */
let lastSlot = 0;

/**
 * Fires `cron` as `npm start -- --every` does: at a whole second of its own, now or just after
 * `after`. So the events job counts the minute before now, and every nextExpectedAt is the real
 * next firing, which keeps the topics from turning stale mid-test.
 */
async function fire(cron: string, { after = 0 } = {}): Promise<void> {
  const slot = Math.max(lastSlot + 1_000, Math.floor(after / 1_000) * 1_000 + 1_000, Math.floor(Date.now() / 1_000) * 1_000);
  // Never ahead of the clock, as the platform fires (a run's lag stays positive).
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, slot - Date.now())));
  lastSlot = slot;
  expect(await fireCron(server?.url ?? "", cron, slot)).toEqual({ status: 200, body: "ok" });
}

async function post(path: string, body: unknown): Promise<void> {
  const response = await fetch(`${server?.url}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${E2E_SECRETS.PUBLISH_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBeLessThan(300);
}

function card(topic: string) {
  return page.locator(`article.card[data-topic="${topic}"]`);
}

beforeAll(async () => {
  stateDir = await makeStateDir();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await removeStateDir(stateDir);
});

describe.runIf(hasChromium || Boolean(process.env.CI))("the dashboard in Chromium", () => {
  it("finds Chromium", () => {
    if (!hasChromium) throw new Error(`${CHROMIUM} is missing: CI must install it (apt-get install -y chromium; see .ci/run).`);
  });

  it("shows a live card per public topic and each value as its cron fires", { timeout: 60_000 }, async () => {
    server = await startServer(stateDir);
    page = await openDashboard(server.url);
    await waitUntilAllLive();
    expect(
      await page.locator("article.card").evaluateAll((cards) => cards.map((element) => element.getAttribute("data-topic"))),
    ).toEqual(PUBLIC_TOPICS);

    for (const value of [3, 5, 4, 8, 6]) await post("/topics/announcements", { value });
    await fire("* * * * *");
    await fire("*/5 * * * *");
    await expectSeqs("system", [1]);
    await expect.poll(() => card("system").locator(".seq").textContent()).toBe("1");
    await expect.poll(() => card("system").locator(".value").textContent()).toBe("6 topics, 6 subscribers");

    // Three events, then a firing whose window (the minute before it) holds them.
    for (const [type, value] of [
      ["signup", 2],
      ["signup", 1.5],
      ["page.view", undefined],
    ] as const) {
      await post("/events", value === undefined ? { type } : { type, value });
    }
    await fire("* * * * *", { after: Date.now() });
    await expectSeqs("system", [1, 2]);
    await expectSeqs("announcements", [1, 2, 3, 4, 5]);
    await expect.poll(() => card("events").locator(".value").textContent()).toBe("3 events, 2 types");
    await expect.poll(() => card("uptime").locator(".value").textContent()).toBe("1 of 1 up");
    // The system value's counts reach every card: one subscriber (this page) each.
    await expect.poll(() => card("feed").locator(".subscribers").textContent()).toBe("1");
    await expect(card("announcements").locator(".chart canvas").count()).resolves.toBeGreaterThan(0);
  });

  it("reconnects by itself after a restart on the same port and storage, and misses no seq", { timeout: 120_000 }, async () => {
    const { port } = server ?? { port: 0 };
    outage = true;
    await server?.stop();
    await page.waitForFunction(() => window.__edgebeat.states.system === "reconnecting");
    expect(await card("system").locator(".connection").textContent()).toBe("reconnecting");
    expect(await page.locator("#connection").getAttribute("data-state")).toBe("reconnecting");
    expect(await page.locator("#connection-news").textContent()).toBe("Connection lost; reconnecting.");

    server = await startServer(stateDir, {}, { port });
    // Fired while the page may still be away: it comes back as a replay on resume, or live.
    await fire("* * * * *");
    await waitUntilAllLive(RECONNECT_TIMEOUT_MS);
    outage = false;
    await fire("* * * * *");
    await expectSeqs("system", [1, 2, 3, 4]);
    // It resumed after the last seq it had (since + epoch) rather than joining afresh.
    expect(socketUrls).toContainEqual(expect.stringMatching(/\/topics\/system\?since=2&epoch=[\w-]+$/));
    expect(await page.locator("#connection").textContent()).toBe("Live: 6 topics");
    expect(await page.locator("#connection-news").textContent()).toBe("Live: every topic is connected.");
    await expect.poll(() => card("system").locator(".seq").textContent()).toBe("4");
  });

  it("back-fills a reloaded page's charts from the kept history", async () => {
    await page.reload();
    await waitUntilAllLive();
    // A join delivers only the latest metric; the chart reads the earlier ones from /history.
    await expectSeqs("announcements", [5]);
    await expect
      .poll(() => card("announcements").locator(".chart").getAttribute("aria-label"))
      .toBe("Line chart of value: the last 5 values");
  });

  it("leaves no console error, page error or outside request, and screenshots well", async () => {
    await page.locator(".jobs td.last-run .badge").first().waitFor();
    await mkdir("test-results", { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(problems).toEqual([]);
  });
});
