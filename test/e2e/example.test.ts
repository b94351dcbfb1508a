/**
 * The library the way a user gets it: `npm pack`, then examples/hello-edgebeat copied to a folder
 * outside the repo with the tarball installed, tested, type-checked, built and run under a real
 * `wrangler dev`: a cron fires, a subscriber gets the metric, and a React page using `useTopic`
 * renders it in Chromium, keeps it through a dev-server restart with no gap, and closes on unmount.
 */
import { execFile } from "node:child_process";
import { cpSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ports.mjs";
import { type DevServer, fireCron, startDevServer } from "../../scripts/lib/wrangler-dev.mjs";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium";
import { openSocket } from "./socket";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");
const EXAMPLE = path.join(ROOT, "examples/hello-edgebeat");
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  version: string;
  exports: Record<string, string | Record<string, string>>;
};
/** Reconnects back off with jitter (up to 16 s by the sixth try), and wrangler dev takes seconds to start. */
const RECONNECT_TIMEOUT_MS = 45_000;
/** Distinct minute slots: each firing is its own run (the same slot twice would publish once). */
const SLOT = Math.floor(Date.now() / 60_000) * 60_000;
const minuteOf = (slot: number) => new Date(slot).toISOString().slice(11, 16);

let work: string;
let app: string;
let packed: { files: { path: string }[] };
let port: number;
let server: DevServer | undefined;
let browser: Browser | undefined;

/** Runs `npm …` in `cwd`; a failure shows npm's output. */
async function npm(cwd: string, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run("npm", args, { cwd, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, CI: "true" } });
    return stdout;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(" ")} failed in ${cwd}:\n${stdout.slice(-3_000)}\n${stderr.slice(-3_000)}`);
  }
}

function startApp(): Promise<DevServer> {
  return startDevServer({ root: app, port, persistTo: path.join(work, "state") });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "edgebeat-example-"));
  app = path.join(work, "hello-edgebeat");
  // prepack (the library build) prints its summary before npm's JSON.
  const output = await npm(ROOT, "pack", "--json", "--pack-destination", work);
  [packed] = JSON.parse(output.slice(output.indexOf("[")));
  cpSync(EXAMPLE, app, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|\.wrangler|build|worker-configuration\.d\.ts)$/.test(source),
  });
  await npm(app, "install", "--prefer-offline", "--no-audit", "--no-fund", `../edgebeat-${pkg.version}.tgz`);
  port = await freePort();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe("the packed library", () => {
  it("holds dist/ and package metadata only, with every export's JavaScript and types", () => {
    const files = packed.files.map((file) => file.path);
    expect(files.filter((file) => !file.startsWith("dist/") && !["package.json", "README.md"].includes(file))).toEqual([]);
    const targets = Object.values(pkg.exports).flatMap((target) => (typeof target === "string" ? [] : Object.values(target)));
    for (const target of targets) expect(files, target).toContain(target.replace(/^\.\//, ""));
  });
});

describe("examples/hello-edgebeat, outside the repo, on the tarball", () => {
  it("passes its crons test, type-checks against the packed .d.ts files and builds", async () => {
    expect(await npm(app, "test")).toMatch(/# pass 1\n# fail 0/);
    await npm(app, "run", "typecheck");
    await npm(app, "exec", "--", "wrangler", "deploy", "--dry-run", "--outdir", path.join(work, "dry-run"));
  }, 120_000);

  it("runs under wrangler dev: a cron fires and a subscriber gets the metric", async () => {
    server = await startApp();
    const socket = await openSocket(server.url, "/topics/audience");
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", topic: "audience", seq: 0 });
    expect(await fireCron(server.url, "* * * * *", SLOT)).toEqual({ status: 200, body: "ok" });
    expect(await socket.nextFrame({ timeoutMs: 10_000 })).toMatchObject({
      type: "metric",
      topic: "audience",
      seq: 1,
      value: { subscribers: 1, minute: minuteOf(SLOT) },
      runId: `audience@${SLOT}`,
    });
    socket.ws.close();
  }, 90_000);

  it("renders useTopic in Chromium, keeps every value through a restart, and closes on unmount", async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const page: Page = await browser.newPage();
    const current = () => server as DevServer;
    await page.goto(`${current().url}/`);
    await page.locator("#state", { hasText: "live" }).waitFor();
    await expect.poll(() => page.locator("#seqs").textContent()).toBe("1");

    await fireCron(current().url, "* * * * *", SLOT + 60_000);
    await expect.poll(() => page.locator("#value").textContent()).toBe(`1 watching at ${minuteOf(SLOT + 60_000)} UTC`);

    await current().stop();
    await page.locator("#state", { hasText: "reconnecting" }).waitFor();
    server = await startApp();
    await page.locator("#state", { hasText: "live" }).waitFor({ timeout: RECONNECT_TIMEOUT_MS });
    await fireCron(current().url, "* * * * *", SLOT + 120_000);
    await expect.poll(() => page.locator("#seqs").textContent(), { timeout: 10_000 }).toBe("1,2,3");

    await page.locator("#toggle").click();
    await page.locator("#unmounted").waitFor();
    await expect
      .poll(async () => ((await (await fetch(`${current().url}/topics/audience`)).json()) as { subscribers: number }).subscribers)
      .toBe(0);
  }, 150_000);
});
