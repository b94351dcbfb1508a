/** `npm start`'s cron driver: its due-time arithmetic, and one real run that fires, publishes and stops cleanly. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { nextDueTime, nextFiring } from "../../scripts/dev.mjs";
import { freePort, isGroupAlive } from "../../scripts/dev-server.mjs";
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

describe("scripts/dev.mjs", () => {
  let driver: ChildProcess | undefined;
  let stateDir: string | undefined;
  let wranglerPid: number | undefined;
  let output = "";

  afterEach((context) => {
    if (context.task.result?.state === "fail") console.error(`dev.mjs output (tail):\n${output.slice(-10_000)}`);
  });

  afterAll(async () => {
    // Only if the test failed before its own clean stop.
    for (const pgid of [driver?.pid, wranglerPid]) {
      if (pgid === undefined) continue;
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await removeStateDir(stateDir);
  });

  it("fires the crons every second until SIGINT, then leaves no process behind", async () => {
    const port = await freePort();
    stateDir = await makeStateDir();
    const script = fileURLToPath(new URL("../../scripts/dev.mjs", import.meta.url));
    const child = spawn(process.execPath, [script, "--port", String(port), "--every", "1", "--persist-to", stateDir], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    driver = child;
    child.stdout?.setEncoding("utf8").on("data", (text: string) => (output += text));
    child.stderr?.setEncoding("utf8").on("data", (text: string) => (output += text));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

    const ready = /\[dev\] wrangler dev \(pid (\d+), its own process group\) ready on (\S+)/;
    const deadline = Date.now() + 60_000;
    while (!ready.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`dev.mjs did not get ready:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const [, pid, url] = output.match(ready) as RegExpMatchArray;
    wranglerPid = Number(pid);
    expect(url).toBe(`http://127.0.0.1:${port}`);

    const client = await openSocket(url as string, "/topics/system");
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
    expect(output).toMatch(/\[cron\] \* \* \* \* \* @ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z → 200 ok/);
    expect(output).toMatch(/\[cron\] \*\/5 \* \* \* \* @ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z → 200 ok/);

    process.kill(child.pid as number, "SIGINT");
    expect(await withTimeout(exited, 10_000)).toBe(0);
    expect(isGroupAlive(child.pid as number)).toBe(false);
    expect(isGroupAlive(wranglerPid)).toBe(false);
    expect(await client.closed()).toMatchObject({ code: 1006 });
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    expect(output).toContain("[dev] stopped");
  });
});

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
