/**
 * What browser.test.ts needs besides the dashboard itself: a price feed for the `feed` job, a
 * record of everything the page did wrong, and layout checks that read the rendered page.
 */
import { mkdir } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { expect } from "vitest";

type FireCron = (url: string, cron: string, scheduledTime: number) => Promise<{ status: number; body: string }>;

/**
 * Fires crons on the server at `url()` as `npm start -- --every` does: each at a whole second of
 * its own (a repeated slot would publish nothing), now or just after `after`. So the events job
 * counts the minute before now, and every nextExpectedAt is the real next firing, which keeps the
 * topics from turning stale mid-test. A firing with a failing job fails as a whole (as the
 * platform records it), after every other job has run. `minutes` counts the "* * * * *" firings:
 * each publishes one `system` value.
 */
export function cronFirings(fireCron: FireCron, url: () => string) {
  let lastSlot = 0;
  const firings = {
    minutes: 0,
    async fire(cron: string, { after = 0, failing = false } = {}): Promise<void> {
      const slot = Math.max(lastSlot + 1_000, Math.floor(after / 1_000) * 1_000 + 1_000, Math.floor(Date.now() / 1_000) * 1_000);
      // Never ahead of the clock, as the platform fires (a run's lag stays positive).
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, slot - Date.now())));
      lastSlot = slot;
      if (cron === "* * * * *") firings.minutes++;
      const outcome = failing ? { status: 500, body: "exception" } : { status: 200, body: "ok" };
      expect(await fireCron(url(), cron, slot)).toEqual(outcome);
    },
  };
  return firings;
}

/** A local stand-in for a price API: `{"usd": …}`, a different price each read, or 503 while `down`. */
export async function startFeed() {
  let reads = 0;
  const feed = { url: "", down: false, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  const server = createServer((_request, response) => {
    if (feed.down) {
      response.writeHead(503).end();
      return;
    }
    const usd = 62_360.77 + 37.5 * (reads++ % 5);
    response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ usd }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  feed.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/price`;
  return feed;
}

/** Console and network noise that a stopped or restarting server explains: refused or reset connections, nothing else. */
const OUTAGE_NOISE = [
  // A reconnect attempt (a resume, or a join for a topic that had no metric yet), refused while the
  // server is down, or reset by wrangler's proxy, which accepts before the restarted runtime serves ...
  /^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/topics\/[a-z0-9._-]+(\?since=\d+&epoch=[\w-]+)?' failed: (Error in connection establishment: net::ERR_CONNECTION_REFUSED|Error during WebSocket handshake: net::ERR_CONNECTION_RESET)$/,
  // ... the client's check whether the refusal is final, and a "Recent runs" read (refused, or reset likewise).
  /^Failed to load resource: net::ERR_CONNECTION_(REFUSED|RESET)( \(http:\/\/127\.0\.0\.1:\d+\/(topics\/[a-z0-9._-]+|jobs)\))?$/,
];

/**
 * Console errors, page errors, failed or outside requests of `page`, and answers of 400 or more;
 * during an outage, only those it explains are left out, and while a test sets `expected` (a
 * refused token, say), those that match it.
 */
export function recordProblems(page: Page, origin: string) {
  const record = { problems: [] as string[], socketUrls: [] as string[], outage: false, expected: [] as RegExp[] };
  const report = (problem: string) => {
    if (record.outage && OUTAGE_NOISE.some((pattern) => pattern.test(problem))) return;
    if (record.expected.some((pattern) => pattern.test(problem))) return;
    record.problems.push(problem);
  };
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") report(message.text());
  });
  page.on("pageerror", (error) => record.problems.push(`page error: ${error.message}`));
  page.on("request", (request) => {
    if (!request.url().startsWith(`${origin}/`)) record.problems.push(`outside request: ${request.url()}`);
  });
  page.on("requestfailed", (request) => report(`Failed to load resource: ${request.failure()?.errorText} (${request.url()})`));
  page.on("response", (response) => {
    if (response.status() >= 400) report(`${response.status()} for ${response.url()}`);
  });
  page.on("websocket", (socket) => record.socketUrls.push(socket.url()));
  return record;
}

/**
 * The words the page shows split over two lines. A word is a run of characters between spaces and
 * the `/ . _ -` after which names and URLs may wrap; each should sit on one line.
 */
export function brokenWords(page: Page): Promise<string[]> {
  const selector =
    "h3, .job, .value, .detail, .values th, .values td, .stacked th, .stacked td, .chart-caption, .note, .summary, summary";
  return page.locator(selector).evaluateAll((elements) => {
    const broken: string[] = [];
    // (The e2e project has no DOM types: the page's nodes are typed as the elements given.)
    const visit = (node: (typeof elements)[number]) => {
      if (node.nodeType !== 3) return node.childNodes.forEach(visit);
      for (const match of (node.textContent ?? "").matchAll(/[^\s/._-]+/g)) {
        const range = node.ownerDocument?.createRange();
        if (range === undefined) continue;
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.bottom)));
        if (lines.size > 1) broken.push(match[0]);
      }
    };
    for (const element of elements) visit(element);
    return broken;
  });
}

/**
 * What does not fit a screen `width` wide: the page scrolling sideways, a cell of "Recent runs" or
 * "Schedules" past the right edge, or a table scrolling inside its card. Empty on a layout that fits.
 */
export async function overflowsOf(page: Page, width: number): Promise<string[]> {
  const pageWidth = await page.locator("html").evaluate((html) => html.scrollWidth);
  const cells = await page
    .locator(".stacked tbody th, .stacked td")
    .evaluateAll((all) => all.map((cell) => ({ text: cell.textContent ?? "", right: cell.getBoundingClientRect().right })));
  const tables = await page
    .locator(".table-wrap")
    .evaluateAll((wraps) =>
      wraps
        .filter((wrap) => wrap.scrollWidth > wrap.clientWidth)
        .map(
          (wrap) =>
            `${wrap.closest("[data-topic]")?.dataset.topic ?? wrap.getAttribute("aria-labelledby")}: ${wrap.scrollWidth} > ${wrap.clientWidth}`,
        ),
    );
  return [
    ...(pageWidth > width ? [`the page is ${pageWidth} px wide`] : []),
    ...cells.filter((cell) => cell.right > width).map((cell) => `"${cell.text}" ends at ${cell.right} px`),
    ...tables.map((table) => `a table scrolls (${table})`),
  ];
}

/** A full-page screenshot of `page` as `name` in each of `dirs`. */
export async function screenshotTo(page: Page, dirs: readonly string[], name: string): Promise<void> {
  for (const dir of dirs) {
    await mkdir(dir, { recursive: true });
    await page.screenshot({ path: `${dir}/${name}`, fullPage: true });
  }
}

/** The header's job line as the cards' own badges add up: "Jobs: 1 failing, 4 ok", worst first. */
export async function healthOfCards(page: Page): Promise<string> {
  const states = await page
    .locator("article.card .health .badge")
    .evaluateAll((badges) => badges.map((badge) => badge.dataset.state));
  const counts = ["failing", "stale", "waiting", "ok"]
    .map((state) => [state, states.filter((each) => each === state).length] as const)
    .filter(([, count]) => count > 0);
  return `Jobs: ${counts.map(([state, count]) => `${count} ${state}`).join(", ")}`;
}
