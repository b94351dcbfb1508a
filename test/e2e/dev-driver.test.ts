/**
 * `npm start`'s cron driver: its due-time arithmetic, its check of the jobs' schedules and its log
 * filter; one real run that fires, publishes and stops cleanly on SIGINT; one on a port in use,
 * which must refuse before it says "ready"; and one killed outright, which must leave neither its
 * port nor a workerd behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { nextDueTime, nextFiring } from "../../scripts/dev.mjs";
import { checkJobCrons, cronWarnings } from "../../scripts/lib/cron-check.mjs";
import { dropBlock } from "../../scripts/lib/log-filter.mjs";
import { freePort, isPortFree } from "../../scripts/lib/ports.mjs";
import { groupMembers, isAlive, isGroupAlive, stopGroup } from "../../scripts/lib/process-group.mjs";
import { waitFor, withTimeout } from "../../scripts/lib/wait.mjs";
import { type MetricFrame, parseFrame } from "../../src/client/protocol";
import { makeStateDir, removeStateDir } from "./server";
import { openSocket } from "./socket";

const at = (iso: string) => Date.parse(iso);
const CRONS = ["* * * * *", "*/5 * * * *"];

describe("nextDueTime", () => {
  it("returns the next matching minute in UTC", () => {
    expect(nextDueTime("*/5 * * * *", at("2026-11-30T02:03:10Z"))).toBe(at("2026-11-30T02:05:00Z"));
    expect(nextDueTime("* * * * *", at("2026-11-30T02:03:10Z"))).toBe(at("2026-11-30T02:04:00Z"));
  });

  it("is strictly after a time that is itself due", () => {
    expect(nextDueTime("*/5 * * * *", at("2026-11-30T02:05:00Z"))).toBe(at("2026-11-30T02:10:00Z"));
    expect(nextDueTime("* * * * *", at("2026-11-30T02:05:00Z"))).toBe(at("2026-11-30T02:06:00Z"));
  });

  it("reads day-of-week 1 as Sunday, as Cron Triggers do", () => {
    // 2026-11-25 is a Wednesday; the next Sunday is 2026-11-29.
    expect(nextDueTime("0 0 * * 1", at("2026-11-25T12:00:00Z"))).toBe(at("2026-11-29T00:00:00Z"));
  });
});

describe("nextFiring", () => {
  it("returns the earliest due time and every cron due then", () => {
    expect(nextFiring(CRONS, at("2026-11-30T02:03:10Z"))).toEqual({ time: at("2026-11-30T02:04:00Z"), crons: ["* * * * *"] });
    expect(nextFiring(CRONS, at("2026-11-30T02:04:00Z"))).toEqual({ time: at("2026-11-30T02:05:00Z"), crons: CRONS });
  });

  it("with everyMs, fires every cron at the next multiple of it", () => {
    expect(nextFiring(CRONS, at("2026-11-30T02:03:10.250Z"), { everyMs: 1_000 })).toEqual({
      time: at("2026-11-30T02:03:11Z"),
      crons: CRONS,
    });
    expect(nextFiring(CRONS, at("2026-11-30T02:03:11Z"), { everyMs: 1_000 })?.time).toBe(at("2026-11-30T02:03:12Z"));
  });

  it("returns null without crons", () => {
    expect(nextFiring([], at("2026-11-30T02:03:10Z"))).toBeNull();
  });
});

describe("cronWarnings", () => {
  const job = (name: string, schedule: string, every: number | null = null) => ({ name, schedule, every });

  it("says nothing when every job's schedule is a Cron Trigger, sub-minute watchdogs included", () => {
    expect(
      cronWarnings([job("system", "* * * * *"), job("uptime", "*/5 * * * *"), job("pulse", "* * * * *", 10_000)], CRONS),
    ).toEqual([]);
  });

  it("names each unscheduled job and its schedule, then the crons line that fixes them", () => {
    expect(
      cronWarnings([job("system", "* * * * *"), job("price", "0 * * * *"), job("fast", "*/2 * * * *", 5_000)], CRONS),
    ).toEqual([
      '[dev] warning: job "price" runs on "0 * * * *", which no Cron Trigger in wrangler.toml fires: it never runs.',
      '[dev] warning: job "fast" (every 5 s) needs its watchdog cron "*/2 * * * *", which no Cron Trigger in wrangler.toml fires: it never runs.',
      '[dev] add it to wrangler.toml [triggers] (then restart npm start): crons = ["* * * * *", "*/5 * * * *", "0 * * * *", "*/2 * * * *"]',
    ]);
  });

  it("reads the jobs from the server's GET /jobs", async () => {
    const jobs = [job("system", "* * * * *"), job("price", "0 * * * *")];
    const server: Server = createServer((request, response) => {
      response.writeHead(request.url === "/jobs" ? 200 : 404, { "content-type": "application/json" });
      response.end(JSON.stringify(request.url === "/jobs" ? { jobs } : {}));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      expect(await checkJobCrons(`http://127.0.0.1:${port}`, CRONS)).toEqual([
        '[dev] warning: job "price" runs on "0 * * * *", which no Cron Trigger in wrangler.toml fires: it never runs.',
        '[dev] add it to wrangler.toml [triggers] (then restart npm start): crons = ["* * * * *", "*/5 * * * *", "0 * * * *"]',
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("dropBlock", () => {
  /** wrangler dev's warning as it prints it (colours included), between two lines that stay. */
  const NOTICE = [
    'env.BATCH ("")    Environment Variable      local\n',
    "\n",
    "\u001b[33m▲ \u001b[43;33m[\u001b[43;30mWARNING\u001b[43;33m]\u001b[0m \u001b[1mScheduled Workers are not automatically triggered during local development.\u001b[0m\n",
    "\n",
    "  To manually trigger a scheduled event, run:\n",
    '    curl "http://127.0.0.1:8787/cdn-cgi/local/scheduled"\n',
    "  For more details, see https://developers.cloudflare.com/workers/configuration/cron-triggers/#test-cron-triggers-locally\n",
    "\n",
    "[wrangler:info] Ready on http://127.0.0.1:8787\n",
  ];

  it("drops the marked line and its indented or blank continuation, and passes the rest on", () => {
    let out = "";
    const write = dropBlock("Scheduled Workers are not automatically triggered", (text) => (out += text));
    // Split mid-line, as a pipe may deliver it.
    const text = NOTICE.join("");
    write(text.slice(0, 150));
    write(text.slice(150));
    expect(out).toBe(`env.BATCH ("")    Environment Variable      local\n\n[wrangler:info] Ready on http://127.0.0.1:8787\n`);
  });

  it("passes an unfinished line on after a moment", async () => {
    let out = "";
    dropBlock("Scheduled Workers", (text) => (out += text))("? continue (y/n) ");
    expect(out).toBe("");
    await waitFor("the unfinished line", () => out === "? continue (y/n) ", 1_000, 10);
  });
});

/** What scripts/dev.mjs prints once wrangler dev serves: the group's id and the server's URL. */
const READY = /\[dev\] wrangler dev \(pid (\d+), its own process group\) ready on (\S+)/;

/** Every driver run of this file, so that afterAll can kill whatever a failed test left behind. */
const runs: { driver: ChildProcess; wranglerGroup?: number; stateDir?: string; output: string }[] = [];

/**
 * Starts `command args` (dev.mjs, or npm start) in a process group of its own, as a terminal
 * starts a job, on fresh state; resolves once dev.mjs reports wrangler dev ready.
 */
async function startDriver(command: string, args: string[]) {
  const stateDir = await makeStateDir();
  const driver = spawn(command, [...args, "--persist-to", stateDir], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const run: (typeof runs)[number] = { driver, stateDir, output: "" };
  runs.push(run);
  driver.stdout?.setEncoding("utf8").on("data", (text: string) => (run.output += text));
  driver.stderr?.setEncoding("utf8").on("data", (text: string) => (run.output += text));
  const exited = new Promise<number | null>((resolve) => driver.once("exit", (code) => resolve(code)));
  await waitFor(
    () => `${command} to report wrangler dev ready:\n${run.output}`,
    () => {
      if (driver.exitCode !== null) throw new Error(`${command} exited (${driver.exitCode}) before it was ready:\n${run.output}`);
      return READY.test(run.output);
    },
    60_000,
    100,
  );
  const [, pid, url] = run.output.match(READY) as RegExpMatchArray;
  run.wranglerGroup = Number(pid);
  return { driver, exited, url: url as string, wranglerGroup: run.wranglerGroup, output: () => run.output };
}

const isWorkerd = ({ argv }: { argv: string[] }) => /(^|\/)workerd$/.test(argv[0] ?? "");

describe("scripts/dev.mjs", () => {
  afterEach((context) => {
    if (context.task.result?.state === "fail")
      for (const run of runs) console.error(`driver output (tail):\n${run.output.slice(-10_000)}`);
  });

  afterAll(async () => {
    // Only if a test failed before its own clean stop.
    for (const { driver, wranglerGroup, stateDir } of runs) {
      if (driver.pid !== undefined) await stopGroup(driver.pid);
      if (wranglerGroup !== undefined) await stopGroup(wranglerGroup);
      await removeStateDir(stateDir);
    }
  });

  it("fires the crons every second until SIGINT, then leaves no process behind", { timeout: 90_000 }, async () => {
    const port = await freePort();
    const script = fileURLToPath(new URL("../../scripts/dev.mjs", import.meta.url));
    const { driver, exited, url, wranglerGroup, output } = await startDriver(process.execPath, [
      script,
      "--port",
      String(port),
      "--every",
      "1",
    ]);
    expect(url).toBe(`http://127.0.0.1:${port}`);

    const client = await openSocket(url, "/topics/system");
    expect(await client.nextFrame()).toMatchObject({ type: "hello", topic: "system" });
    const metrics: MetricFrame[] = [];
    while (metrics.length < 2) {
      const frame = parseFrame(await client.nextText({ timeoutMs: 5_000 }));
      if (frame.type === "metric") metrics.push(frame);
    }
    const [first, second] = metrics as [MetricFrame, MetricFrame];
    expect(second.seq).toBe(first.seq + 1);
    for (const frame of metrics) {
      // Each firing is its own whole second, so no two firings share a runId.
      expect(frame).toMatchObject({ topic: "system", job: "system", scheduledTime: expect.any(Number) });
      expect((frame.scheduledTime as number) % 1_000).toBe(0);
      expect(frame.runId).toBe(`system@${frame.scheduledTime}`);
    }
    expect(second.scheduledTime).toBeGreaterThan(first.scheduledTime as number);
    expect(output()).toMatch(/\[cron\] \* \* \* \* \* @ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z → 200 ok/);
    expect(output()).toMatch(/\[cron\] \*\/5 \* \* \* \* @ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z → 200 ok/);
    // The uptime and feed jobs read this server's own /health (wrangler.toml ships both empty).
    const latest = async (topic: string) => {
      const response = await fetch(`${url}/topics/${topic}`, { signal: AbortSignal.timeout(5_000) });
      return ((await response.json()) as { latest: MetricFrame | null }).latest?.value;
    };
    await waitFor("the uptime and feed topics' first values", async () => (await latest("feed")) !== undefined, 10_000, 200);
    await waitFor("the uptime topic's first value", async () => (await latest("uptime")) !== undefined, 10_000, 200);
    expect(await latest("feed")).toEqual({ ok: true });
    expect(await latest("uptime")).toEqual({
      probes: [{ url: `${url}/health`, ok: true, status: 200, latencyMs: expect.any(Number), error: null }],
    });
    // Every job's schedule is a Cron Trigger, and wrangler's "not automatically triggered" is filtered out.
    expect(output()).not.toContain("[dev] warning");
    expect(output()).not.toContain("[dev] could not check");
    expect(output()).not.toContain("Scheduled Workers are not automatically triggered");
    expect(output()).not.toContain("/cdn-cgi/local/scheduled");

    process.kill(driver.pid as number, "SIGINT");
    expect(await withTimeout(exited, 10_000, "dev.mjs after SIGINT")).toBe(0);
    expect(isGroupAlive(driver.pid as number)).toBe(false);
    expect(isGroupAlive(wranglerGroup)).toBe(false);
    expect(await client.closed()).toMatchObject({ code: 1006 });
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    expect(output()).toContain("[dev] stopped");
  });

  it("refuses a port in use before it says ready, naming the port and --port", { timeout: 30_000 }, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const script = fileURLToPath(new URL("../../scripts/dev.mjs", import.meta.url));
      const driver = spawn(process.execPath, [script, "--port", String(port)], {
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const run: (typeof runs)[number] = { driver, output: "" };
      runs.push(run);
      driver.stdout?.setEncoding("utf8").on("data", (text: string) => (run.output += text));
      driver.stderr?.setEncoding("utf8").on("data", (text: string) => (run.output += text));
      const code = await withTimeout(new Promise((resolve) => driver.once("exit", resolve)), 10_000, "dev.mjs on a port in use");
      expect(code).toBe(1);
      expect(run.output).toBe(
        `[dev] port ${port} on 127.0.0.1 is in use (another npm start?): stop what listens there, or pick another port with --port N\n`,
      );
      expect(isGroupAlive(driver.pid as number)).toBe(false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it.each([
    ["Ctrl-C (SIGINT to the whole job)", "SIGINT", true],
    ["SIGTERM to npm alone", "SIGTERM", false],
  ] as const)("stops everything on %s under `npm start`", { timeout: 90_000 }, async (_, signal, toGroup) => {
    const port = await freePort();
    const { driver, exited, wranglerGroup, output } = await startDriver("npm", ["start", "--", "--port", String(port)]);
    process.kill(toGroup ? -(driver.pid as number) : (driver.pid as number), signal);
    expect(await withTimeout(exited, 15_000, `npm start after ${signal}`)).toBe(0);
    await waitFor(`wrangler dev's process group ${wranglerGroup} to end`, () => !isGroupAlive(wranglerGroup), 5_000, 25);
    // npm's own process group: npm and node scripts/dev.mjs (exec'd, so no shell in between).
    await waitFor(`npm start's process group ${driver.pid} to end`, () => !isGroupAlive(driver.pid as number), 5_000, 25);
    expect(await isPortFree(port)).toBe(true);
    expect(output()).toContain("[dev] stopped\n");
  });

  it("frees its port and leaves no workerd when `npm start` is SIGKILLed", { timeout: 90_000 }, async () => {
    const port = await freePort();
    const { driver, exited, wranglerGroup } = await startDriver("npm", ["start", "--", "--port", String(port)]);
    const workerds = groupMembers(wranglerGroup).filter(isWorkerd);
    expect(workerds).toHaveLength(2);
    expect(await isPortFree(port)).toBe(false);

    // npm, its shell and node scripts/dev.mjs, all at once: none of them gets to clean up.
    process.kill(-(driver.pid as number), "SIGKILL");
    await withTimeout(exited, 5_000, "npm start after SIGKILL");
    await waitFor(`port ${port} to be free again`, () => isPortFree(port), 5_000, 50);
    await waitFor(`wrangler dev's process group ${wranglerGroup} to end`, () => !isGroupAlive(wranglerGroup), 5_000, 25);
    expect(workerds.filter(({ pid }) => isAlive(pid))).toEqual([]);
  });
});
