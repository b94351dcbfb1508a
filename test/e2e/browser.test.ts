/**
 * The dashboard in a real Chromium against a real `wrangler dev`: every public topic live (as
 * `GET /topics` lists them), values appearing as crons fire, an honest header and countdowns, a
 * server restart on the same port and storage that the page rides out by itself, resuming without
 * a gap in seqs and with one in its charts, runtime schedules listed with the admin token (and
 * their topics grouped apart), and a layout that fits a phone. No console errors, page errors or
 * outside requests. `UPDATE_SCREENSHOTS=1` also writes the screenshots to docs/.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, fireCron } from "../../scripts/lib/wrangler-dev.mjs";
import type { Schedule } from "../../src/client/schedule";
import { brokenWords, cronFirings, healthOfCards, overflowsOf, recordProblems, screenshotTo, startFeed } from "./browser-helpers";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium";
import { E2E_SECRETS, getJson, makeStateDir, printServerOutputOnFailure, removeStateDir, startServer } from "./server";

const SCREENSHOTS = ["test-results", ...(process.env.UPDATE_SCREENSHOTS === "1" ? ["docs"] : [])];
const PHONE = { width: 390, height: 844 };
/** Reconnects back off with jitter (up to 16 s by the sixth try), and wrangler dev takes seconds to start. */
const RECONNECT_TIMEOUT_MS = 45_000;
/** Two periods of the 10-second `pulse` job: long enough down that a run of it is certainly missed. */
const OUTAGE_MS = 20_000;
/** The page's language and zone, so the test words times as the page does; the zone is neither UTC nor a schedule's. */
const LOCALE = "en-US";
const VIEWER_ZONE = "Europe/Berlin";
/** How "Schedules" words a next run (src/client/dashboard/format.ts), written out again here. */
const NEXT_RUN_FORMAT: Intl.DateTimeFormatOptions = {
  weekday: "short",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZoneName: "short",
};

/** What the page records for tests (src/client/dashboard/main.ts). */
declare const window: { __edgebeat: { metrics: Record<string, number[]>; states: Record<string, string> } };

const hasChromium = existsSync(CHROMIUM_PATH);
if (!hasChromium && !process.env.CI) {
  console.warn(`Skipping the browser tests: ${CHROMIUM_PATH} is missing. Install it with: apt-get install -y chromium`);
}

let stateDir: string;
let feed: Awaited<ReturnType<typeof startFeed>>;
let server: DevServer | undefined;
let browser: Browser | undefined;
let page: Page;
let seen: ReturnType<typeof recordProblems>;
/** What the page is given by `GET /topics`: the public topics, in order, and how many of them a job feeds. */
let publicTopics: string[] = [];
let jobTopics = 0;

printServerOutputOnFailure();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function start(options: { port?: number } = {}): Promise<DevServer> {
  return startServer(stateDir, { FEED_URL: feed.url }, options);
}

async function openDashboard(url: string): Promise<Page> {
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const opened = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: LOCALE, timezoneId: VIEWER_ZONE });
  seen = recordProblems(opened, url);
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
  await page.waitForFunction((topics) => topics.every((topic) => window.__edgebeat.states[topic] === "live"), publicTopics, {
    timeout,
  });
}

const firings = cronFirings(fireCron, () => server?.url ?? "");
const fire = firings.fire;
const systemSeqs = () => Array.from({ length: firings.minutes }, (_, index) => index + 1);

async function post(path: string, body: unknown): Promise<void> {
  const response = await fetch(`${server?.url}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${E2E_SECRETS.PUBLISH_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBeLessThan(300);
}

/** A schedules API call with the admin token; the status and the parsed body (null for none). */
async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Schedule | null }> {
  const response = await fetch(`${server?.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${E2E_SECRETS.ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : (JSON.parse(text) as Schedule) };
}

/** Every row of "Schedules", each as the text of its cells. */
function scheduleRows(): Promise<string[][]> {
  return page
    .locator(".schedules tbody tr")
    .evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent ?? "")));
}

/** The header's job health is the count of the cards' health (both are read together, until they agree). */
async function expectHeaderAgreesWithCards(): Promise<void> {
  const reading = async () => ({ header: await page.locator("#health").textContent(), cards: await healthOfCards(page) });
  await expect
    .poll(async () => {
      const { header, cards } = await reading();
      return header === cards ? "agree" : `header "${header}", cards "${cards}"`;
    })
    .toBe("agree");
}

function card(topic: string) {
  return page.locator(`article.card[data-topic="${topic}"]`);
}

const connected = (live: number) => `Live: ${live} of ${publicTopics.length} topics connected`;

const screenshot = (name: string) => screenshotTo(page, SCREENSHOTS, name);

beforeAll(async () => {
  stateDir = await makeStateDir();
  feed = await startFeed();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await feed?.close();
  await removeStateDir(stateDir);
});

describe.runIf(hasChromium || Boolean(process.env.CI))("the dashboard in Chromium", () => {
  it("finds Chromium", () => {
    if (!hasChromium)
      throw new Error(`${CHROMIUM_PATH} is missing: CI must install it (apt-get install -y chromium; see .ci/run).`);
  });

  it("shows a live card per public topic and each value as its cron fires", { timeout: 60_000 }, async () => {
    server = await start();
    const declared = (await getJson(server, "/topics")).body as {
      topics: { topic: string; job: string | null; private: boolean }[];
    };
    const shown = declared.topics.filter((info) => !info.private);
    publicTopics = shown.map((info) => info.topic);
    jobTopics = shown.filter((info) => info.job !== null).length;
    page = await openDashboard(server.url);
    await waitUntilAllLive();
    expect(await page.locator("article.card").evaluateAll((cards) => cards.map((element) => element.dataset.topic))).toEqual(
      publicTopics,
    );

    for (const value of [3, 5, 4, 8, 6]) await post("/topics/announcements", { value });
    await fire("* * * * *");
    await fire("*/5 * * * *");
    await expectSeqs("system", [1]);
    await expect.poll(() => card("system").locator(".seq").textContent()).toBe("1");
    const n = publicTopics.length;
    await expect.poll(() => card("system").locator(".value").textContent()).toBe(`${n} topics, ${n} subscribers`);
    // A window without events (none is posted yet) says so, instead of a made-up row.
    await expect.poll(() => card("events").locator(".value").textContent()).toBe("0 events, 0 types");
    expect(await card("events").locator(".value-view").textContent()).toMatch(/^Events \S+–\S+: no events were posted\.$/);

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
    // An object value charts its numeric field, and the card says which.
    await expect.poll(() => card("feed").locator(".value").textContent()).toMatch(/^\{"usd":62\d{3}\.\d+\}$/);
    expect(await card("feed").locator(".chart-caption").textContent()).toBe("usd (field of the value)");
    await expect(card("feed").locator(".chart canvas").count()).resolves.toBeGreaterThan(0);
    expect(await page.locator("#connection").textContent()).toBe(connected(n));
  });

  it("counts a failing job in the header, apart from the connections, which stay live", { timeout: 60_000 }, async () => {
    feed.down = true;
    await fire("* * * * *", { failing: true });
    await expect.poll(() => page.locator("#health").textContent(), { timeout: 20_000 }).toMatch(/^Jobs: 1 failing, /);
    await expectHeaderAgreesWithCards();
    expect(await page.locator("#health").getAttribute("data-state")).toBe("failing");
    expect(await card("feed").locator(".detail").textContent()).toMatch(/ answered 503$/);
    expect(await page.locator("#connection").textContent()).toBe(connected(publicTopics.length));

    feed.down = false;
    await fire("* * * * *");
    await expect.poll(() => card("feed").locator(".health .badge").getAttribute("data-state")).toBe("ok");
    await expectHeaderAgreesWithCards();
    await expectSeqs("system", systemSeqs());
  });

  it("counts a healthy 10-second job down from its own runs, alike on its card and in Recent runs", {
    timeout: 60_000,
  }, async () => {
    await fire("*/5 * * * *");
    await page.waitForFunction(() => (window.__edgebeat.metrics.pulse?.length ?? 0) >= 2, undefined, { timeout: 30_000 });
    await expect.poll(() => page.locator("#health").textContent()).toBe(`Jobs: ${jobTopics} ok`);
    // Over a whole period, twice a second: never "due … ago", and the card and its row agree.
    const next = page.locator('article.card[data-topic="pulse"] .next, .jobs tr[data-job="pulse"] td.next');
    for (let sample = 0; sample < 24; sample++) {
      const [onCard, inTable] = await next.allTextContents();
      expect(onCard).toMatch(/^(in \d+ s|due now)$/);
      expect(inTable).toBe(onCard);
      expect(await page.locator(".overdue").count()).toBe(0);
      await sleep(500);
    }
  });

  it("reconnects by itself after a restart on the same port and storage, misses no seq, and breaks lines at missed runs", {
    timeout: 150_000,
  }, async () => {
    const { port } = server ?? { port: 0 };
    const lastSeq = firings.minutes;
    seen.outage = true;
    await server?.stop();
    await page.waitForFunction(() => window.__edgebeat.states.system === "reconnecting");
    expect(await card("system").locator(".connection").textContent()).toBe("reconnecting");
    expect(await page.locator("#connection").getAttribute("data-state")).toBe("reconnecting");
    expect(await page.locator("#connection").textContent()).toMatch(/^Reconnecting: \d of \d topics connected$/);
    expect(await page.locator("#connection-news").textContent()).toBe("Connection lost; reconnecting.");
    await sleep(OUTAGE_MS);

    server = await start({ port });
    // Fired while the page may still be away: it comes back as a replay on resume, or live.
    await fire("* * * * *");
    await waitUntilAllLive(RECONNECT_TIMEOUT_MS);
    seen.outage = false;
    await fire("* * * * *");
    await fire("*/5 * * * *");
    await expectSeqs("system", systemSeqs());
    // It resumed after the last seq it had (since + epoch) rather than joining afresh.
    expect(seen.socketUrls).toContainEqual(expect.stringMatching(new RegExp(`/topics/system\\?since=${lastSeq}&epoch=[\\w-]+$`)));
    expect(await page.locator("#connection").textContent()).toBe(connected(publicTopics.length));
    expect(await page.locator("#connection-news").textContent()).toBe("Live: every topic is connected.");
    await expect.poll(() => card("system").locator(".seq").textContent()).toBe(String(firings.minutes));
    // The pulse runs missed while the server was down leave a gap in its line instead of a bridge.
    await expect
      .poll(() => card("pulse").locator(".chart").getAttribute("aria-label"), { timeout: 30_000 })
      .toMatch(/, broken at \d+ gaps? where runs are missing$/);
  });

  it("back-fills a reloaded page's charts from the kept history, gaps included", async () => {
    await page.reload();
    await waitUntilAllLive();
    // A join delivers only the latest metric; the chart reads the earlier ones from /history.
    await expectSeqs("announcements", [5]);
    await expect
      .poll(() => card("announcements").locator(".chart").getAttribute("aria-label"))
      .toBe("Line chart of value: the last 5 values");
    await expect.poll(() => card("pulse").locator(".chart").getAttribute("aria-label")).toMatch(/, broken at \d+ gaps?/);
  });

  it("lists the runtime schedules with the admin token, and groups their topics apart", { timeout: 90_000 }, async () => {
    const url = server?.url ?? "";
    const probe = { job: "uptime", params: { url: `${url}/health` } };
    expect((await admin("PUT", "/schedules/acme-api", { ...probe, every: "5s" })).status).toBe(201);
    const morning = await admin("PUT", "/schedules/acme-morning", { ...probe, cron: "0 9 * * *", timezone: "America/New_York" });
    expect(morning.status).toBe(201);
    const nextRunAt = morning.body?.nextRunAt ?? 0;

    // The page reads GET /topics once: reloaded, it has a card for each schedule's topic, in a group of their own.
    const listed = (await getJson(server as DevServer, "/topics")).body as {
      topics: { topic: string; private: boolean; scheduleId?: string }[];
    };
    const shown = listed.topics.filter((info) => !info.private);
    const declared = publicTopics;
    publicTopics = shown.map((info) => info.topic);
    const scheduleTopics = shown.filter((info) => info.scheduleId !== undefined).map((info) => info.topic);
    expect(scheduleTopics).toEqual(["uptime.acme-api", "uptime.acme-morning"]);
    await page.reload();
    await waitUntilAllLive();
    const topicsOf = (selector: string) =>
      page.locator(`${selector} article.card`).evaluateAll((cards) => cards.map((element) => element.dataset.topic));
    expect(await topicsOf("#topics")).toEqual(declared);
    expect(await topicsOf("#schedule-grid")).toEqual(scheduleTopics);
    expect(await page.locator("#connection").textContent()).toBe(connected(publicTopics.length));
    expect(await card("uptime.acme-api").locator(".job").textContent()).toBe("job uptime · every 5s · schedule acme-api");

    // acme-api runs within 5 s, so its topic is fresh; then it is paused, and its topic rests (still ok).
    await expect.poll(() => card("uptime.acme-api").locator(".value").textContent(), { timeout: 20_000 }).toBe("1 of 1 up");
    expect((await admin("POST", "/schedules/acme-api/pause")).body?.state).toBe("paused");
    await expect.poll(() => card("uptime.acme-api").locator(".health .badge").getAttribute("data-state")).toBe("ok");
    await expect.poll(() => page.locator("#schedule-topics-summary").textContent()).toMatch(/^2 topics of runtime schedules: /);

    // Without a token: how to get one, and nothing else.
    const note = page.locator("#schedules .note");
    expect(await note.textContent()).toBe(
      "The schedules need the admin token: npm run secrets writes ADMIN_TOKEN into .dev.vars (a deployment has it as a secret). It is kept in this tab only.",
    );
    expect(await page.locator("#schedules .table-wrap").isHidden()).toBe(true);

    // The token goes in the Authorization header, never in a URL; the page stays where it is.
    const reads: { url: string; authorization: string | undefined }[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/schedules")
        reads.push({ url: request.url(), authorization: request.headers().authorization });
    });

    // A wrong token is refused, forgotten, and shows nothing.
    seen.expected = [
      /^401 for http:\/\/127\.0\.0\.1:\d+\/schedules\?limit=200$/,
      /^Failed to load resource: the server responded with a status of 401 \(Unauthorized\)$/,
    ];
    await page.fill("#admin-token", "not-the-admin-token");
    await page.click("#schedules button[type=submit]");
    await expect
      .poll(() => note.textContent())
      .toBe("The admin token was refused: enter the ADMIN_TOKEN of .dev.vars (or of the deployment).");
    expect(await page.locator("#schedules .table-wrap").isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem("edgebeat.adminToken"))).toBeNull();
    seen.expected = [];

    await page.fill("#admin-token", E2E_SECRETS.ADMIN_TOKEN);
    await page.click("#schedules button[type=submit]");
    await expect.poll(() => note.textContent()).toMatch(/^2 schedules, as read at \d\d:\d\d:\d\d; read again every 15 s\.$/);
    expect(reads.map((read) => read.url.replace(url, ""))).toEqual(["/schedules?limit=200", "/schedules?limit=200"]);
    expect(reads.map((read) => read.authorization)).toEqual(["Bearer not-the-admin-token", `Bearer ${E2E_SECRETS.ADMIN_TOKEN}`]);
    expect(page.url()).toBe(`${url}/`);
    expect(await page.evaluate(() => [sessionStorage.getItem("edgebeat.adminToken"), localStorage.length])).toEqual([
      E2E_SECRETS.ADMIN_TOKEN,
      0,
    ]);

    // The cron's next run at 09:00 in New York, and the same instant in the viewer's zone.
    const zoned = new Intl.DateTimeFormat(LOCALE, { ...NEXT_RUN_FORMAT, timeZone: "America/New_York" }).format(nextRunAt);
    const local = new Intl.DateTimeFormat(LOCALE, { ...NEXT_RUN_FORMAT, timeZone: VIEWER_ZONE }).format(nextRunAt);
    expect(zoned).toMatch(/, 09:00 E[SD]T$/);
    const morningHealth = await card("uptime.acme-morning").locator(".health .badge").getAttribute("data-state");
    expect(morningHealth).toBe("waiting");
    expect(await scheduleRows()).toEqual([
      ["acme-api", "uptime", "uptime.acme-api", "every 5s UTC", "paused", "–", "ok"],
      [
        "acme-morning",
        "uptime",
        "uptime.acme-morning",
        "0 9 * * * America/New_York",
        "active",
        `${zoned} yours: ${local}`,
        "waiting",
      ],
    ]);
    const morningRow = page.locator('.schedules tr[data-schedule="acme-morning"]');
    expect(await morningRow.locator(".zoned").textContent()).toBe(zoned);
    expect(await morningRow.locator(".local time").textContent()).toBe(local);
    expect(await morningRow.locator(".state .badge").getAttribute("data-state")).toBe("active");
    expect(
      await page.locator(".schedules td.topic a").evaluateAll((links) => links.map((link) => link.getAttribute("href"))),
    ).toEqual(["#topic-uptime.acme-api", "#topic-uptime.acme-morning"]);
    // A paused schedule's card has no next run to count down to; the active one counts down to its slot.
    await expect.poll(() => card("uptime.acme-api").locator(".next").textContent()).toBe("paused");
    expect(await card("uptime.acme-morning").locator(".next").textContent()).toMatch(/^in \d+ (d|h|min)/);
  });

  it("screenshots well at 1280 px: no word split, no raw ISO time", async () => {
    await page.locator(".jobs td.last-run .badge").first().waitFor();
    expect(await brokenWords(page)).toEqual([]);
    // The page's own times are local and readable; a job's value is shown as the job published it.
    const ownText = await page.evaluate<string>(`(() => {
      const copy = document.body.cloneNode(true);
      for (const value of copy.querySelectorAll(".value, .value-view")) value.remove();
      return copy.textContent ?? "";
    })()`);
    expect(ownText).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    await screenshot("dashboard.png");
  });

  it("fits a 390 px phone: nothing off the right edge, every run's cell on screen, no word split", async () => {
    await page.setViewportSize(PHONE);
    await expect.poll(() => overflowsOf(page, PHONE.width)).toEqual([]);
    expect(await brokenWords(page)).toEqual([]);
    await screenshot("dashboard-phone.png");
  });

  it("leaves no console error, page error or outside request", () => {
    expect(seen.problems).toEqual([]);
  });
});
