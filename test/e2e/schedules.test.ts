/**
 * Runtime schedules on a real `wrangler dev`, on their real clock: a schedule's slots run with no
 * step of the test's own; a kill -9 of the whole dev server with `missed: "all"` loses no slot and
 * doubles none; a paused schedule runs nothing, and a deleted one runs nothing, even after a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ports.mjs";
import { isGroupAlive } from "../../scripts/lib/process-group.mjs";
import { sleep, waitFor } from "../../scripts/lib/wait.mjs";
import { type DevServer, fireCron } from "../../scripts/lib/wrangler-dev.mjs";
import type { MetricFrame } from "../../src/client/protocol";
import type { Schedule } from "../../src/client/schedule";
import { E2E_SECRETS, getJson, makeStateDir, printServerOutputOnFailure, removeStateDir, startServer } from "./server";
import { type E2eSocket, openSocket } from "./socket";

let port: number;
let stateDir: string | undefined;
let server: DevServer | undefined;
const sockets: E2eSocket[] = [];

printServerOutputOnFailure();

beforeAll(async () => {
  port = await freePort();
  stateDir = await makeStateDir();
  server = await startServer(stateDir, {}, { port });
});

afterAll(async () => {
  for (const socket of sockets) socket.ws.close();
  await server?.stop();
  await removeStateDir(stateDir);
});

const base = () => `http://127.0.0.1:${port}`;

/** Kills the whole `wrangler dev` process group with SIGKILL and starts a new one on the same state and port. */
async function killAndRestart(downMs: number): Promise<void> {
  const old = server;
  server = undefined;
  await old?.stop();
  expect(old !== undefined && !isGroupAlive(old.pid)).toBe(true);
  await sleep(downMs);
  server = await startServer(stateDir as string, {}, { port });
}

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Schedule }> {
  const response = await fetch(`${base()}${path}`, {
    method,
    headers: { Authorization: `Bearer ${E2E_SECRETS.ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text === "" ? null : JSON.parse(text)) as Schedule };
}

/** Every metric a topic keeps, oldest first. */
async function history(topic: string): Promise<MetricFrame[]> {
  const { status, body } = await getJson(current(), `/topics/${topic}/history?limit=1000`);
  expect(status).toBe(200);
  return (body as { messages: MetricFrame[] }).messages;
}

function current(): DevServer {
  if (server === undefined) throw new Error("the dev server is not running");
  return server;
}

/** The slot in a schedule's runId `<id>@<slot>`. */
const slotOf = (frame: MetricFrame, id: string): number => {
  expect(frame.runId).toMatch(new RegExp(`^${id}@\\d+$`));
  return Number(frame.runId.slice(id.length + 1));
};

const range = (first: number, last: number, step: number) =>
  Array.from({ length: (last - first) / step + 1 }, (_, i) => first + i * step);

const uptime = (extra: Record<string, unknown>) => ({ job: "uptime", params: { url: `${base()}/health` }, ...extra });

// The tests run in order on one server and one state directory: restarts in later tests keep the earlier schedules.
describe("runtime schedules on a real wrangler dev", () => {
  let tickHistory: MetricFrame[] = [];
  let deletedAt = 0;

  it("runs a schedule on its real time, with no extra step: each 2 s slot once, in order", async () => {
    const put = await admin("PUT", "/schedules/tick", uptime({ every: "2s" }));
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ id: "tick", every: "2s", topic: "uptime.tick", state: "active" });
    const socket = await openSocket(base(), "/topics/uptime.tick");
    sockets.push(socket);
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", topic: "uptime.tick" });
    const metrics: MetricFrame[] = [];
    while (metrics.length < 3) {
      const frame = await socket.nextFrame({ timeoutMs: 5_000 });
      if (frame.type === "metric") metrics.push(frame);
      else expect(frame).toMatchObject({ type: "status" });
    }
    const slots = metrics.map((frame) => slotOf(frame, "tick"));
    expect(slots[0]).toBe(put.body.nextRuns[0]);
    expect(slots).toEqual(range(slots[0] as number, (slots[0] as number) + 4_000, 2_000));
    for (const slot of slots) expect(slot % 2_000).toBe(0);
    expect(metrics.map((frame) => frame.seq)).toEqual([1, 2, 3]);
    for (const frame of metrics) {
      expect(frame).toMatchObject({ type: "metric", topic: "uptime.tick", job: "uptime" });
      expect(frame.value).toEqual({
        probes: [{ url: `${base()}/health`, ok: true, status: 200, latencyMs: expect.any(Number), error: null }],
      });
    }
  });

  it("runs nothing while paused, over several of its slots", async () => {
    const paused = await admin("POST", "/schedules/tick/pause");
    expect(paused.body).toMatchObject({ enabled: false, state: "paused", nextRunAt: null, nextRuns: [] });
    await sleep(1_000); // a run handed over just before the pause may still land
    tickHistory = await history("uptime.tick");
    await sleep(6_500); // over three of its 2 s slots
    expect(await history("uptime.tick")).toEqual(tickHistory);
  });

  it("loses no slot and doubles none across a kill -9 of the dev server, with missed: all", { timeout: 60_000 }, async () => {
    const id = "burst";
    const put = await admin("PUT", `/schedules/${id}`, uptime({ every: "1s", missed: "all" }));
    expect(put.status).toBe(201);
    // A schedule deleted before the crash: its slots must not come back with the restart.
    expect((await admin("PUT", "/schedules/doomed", uptime({ every: "1s" }))).status).toBe(201);
    await waitFor("doomed to run", async () => (await history("uptime.doomed")).length >= 2, 10_000, 200);
    deletedAt = Date.now();
    expect((await admin("DELETE", "/schedules/doomed")).status).toBe(204);
    await waitFor("burst to run 3 slots", async () => (await history(`uptime.${id}`)).length >= 3, 10_000, 200);
    await sleep(1_000); // let a doomed run handed over before the DELETE land
    const killedAt = Date.now();
    const beforeKill = await history(`uptime.${id}`);
    await killAndRestart(3_000);
    const restartedAt = Date.now();

    // The alarm survives the restart by itself: slots after the restart run with no heartbeat.
    await waitFor(
      "burst to run a slot after the restart without a heartbeat",
      async () => (await history(`uptime.${id}`)).some((frame) => slotOf(frame, id) > restartedAt),
      10_000,
      200,
    );
    // The heartbeat finds nothing to re-arm then, and changes nothing.
    expect(await fireCron(base(), "* * * * *", Math.floor(Date.now() / 60_000) * 60_000)).toEqual({ status: 200, body: "ok" });
    await sleep(2_000);
    expect((await admin("POST", `/schedules/${id}/pause`)).body.state).toBe("paused");
    await sleep(1_000);

    const frames = await history(`uptime.${id}`);
    const slots = frames.map((frame) => slotOf(frame, id));
    const sorted = [...slots].sort((a, b) => a - b);
    const first = sorted[0] as number;
    const last = sorted.at(-1) as number;
    // Every 1 s slot from the first to the last exactly once, the outage's caught up; seqs 1..n.
    expect(sorted).toEqual(range(first, last, 1_000));
    expect(frames.map((frame) => frame.seq)).toEqual(range(1, frames.length, 1));
    expect(frames.slice(0, beforeKill.length)).toEqual(beforeKill);
    expect(first).toBe(put.body.nextRunAt);
    expect(sorted.filter((slot) => slot > killedAt && slot < restartedAt).length).toBeGreaterThanOrEqual(3);
    expect(last).toBeGreaterThan(restartedAt);
    for (const frame of frames) expect((frame.value as { probes: { ok: boolean }[] }).probes[0]?.ok).toBe(true);
    console.log(
      `schedules e2e: ${slots.length} slots of ${id}, ${sorted.filter((s) => s > killedAt && s < restartedAt).length} during the ${restartedAt - killedAt} ms outage`,
    );
  });

  it("a deleted schedule runs nothing after the restart; the paused one neither", async () => {
    expect((await getJson(current(), "/topics/uptime.doomed")).status).toBe(404);
    const doomed = await history("uptime.doomed").catch(() => null);
    expect(doomed).toBeNull(); // undeclared once deleted: re-declare it paused to read what it kept
    expect(
      (await admin("PUT", "/schedules/doomed-reader", uptime({ every: "1s", enabled: false, topic: "uptime.doomed" }))).status,
    ).toBe(201);
    const kept = await history("uptime.doomed");
    const slots = kept.map((frame) => slotOf(frame, "doomed"));
    expect(kept.map((frame) => frame.seq)).toEqual(range(1, kept.length, 1));
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...slots)).toBeLessThanOrEqual(deletedAt); // no slot after the DELETE, across the restart
    expect(await history("uptime.tick")).toEqual(tickHistory);
    expect((await admin("GET", "/schedules/tick")).body).toMatchObject({ state: "paused", nextRunAt: null });
    expect((await admin("GET", "/schedules/doomed")).status).toBe(404);
  });
});
