/**
 * The Scheduler's alarm: due slots run through the JobRunner (ctx.exports) exactly once each, by
 * the missed-run policy; deletes and pauses stop them; the heartbeat re-arms a lost alarm.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { schedulerShardNames } from "../../src/config";
import { uptime } from "../../src/cron/jobs/uptime";
import { addPendingRun } from "../../src/durable/schedule-store";
import { api, moveNextAt, REFUSED_URL, shardOf } from "../helpers/schedules";
import { openTopicSocket } from "../helpers/socket";

const MINUTE = 60_000;
const thisMinute = () => Math.floor(Date.now() / MINUTE) * MINUTE;

async function create(id: string, extra: Record<string, unknown> = {}): Promise<void> {
  const body = { job: "uptime", params: { url: REFUSED_URL }, cron: "* * * * *", ...extra };
  expect((await api("PUT", `/schedules/${id}`, body)).status).toBe(201);
}

const topic = (id: string) => env.TOPIC.getByName(`uptime.${id}`);
const runIds = async (id: string) => (await topic(id).history(0, 100)).map((frame) => frame.runId);
const ledger = async (id: string) =>
  (await topic(id).runs(100)).map(({ runId, status, error }) => ({ runId, status, ...(status === "skipped" && { error }) }));
const nextAt = (id: string) =>
  runInDurableObject(
    shardOf(id),
    (_instance, state) =>
      state.storage.sql.exec<{ next_at: number | null }>("SELECT next_at FROM runtime_schedules WHERE id = ?", id).one().next_at,
  );

/** When schedule `id`'s topic turns stale if no run arrives (its `stale` wake-up), or null when it has none. */
const staleAt = (id: string) =>
  runInDurableObject(
    topic(id),
    (_instance, state) =>
      state.storage.sql.exec<{ at: number }>("SELECT at FROM schedules WHERE kind = 'stale'").toArray()[0]?.at ?? null,
  );

describe("a Scheduler shard's alarm", () => {
  it("runs a due slot with runId <id>@<slot>, once however often the alarm repeats, and moves to the next slot", async () => {
    await create("due");
    const slot = thisMinute();
    await moveNextAt("due", slot);
    await runDurableObjectAlarm(shardOf("due"));
    const [frame] = await topic("due").history(0, 10);
    expect(frame).toMatchObject({
      seq: 1,
      runId: `due@${slot}`,
      job: "uptime",
      scheduledTime: slot,
      nextExpectedAt: slot + MINUTE,
      value: { probes: [{ url: REFUSED_URL, ok: false }] },
    });
    expect(await nextAt("due")).toBe(slot + MINUTE);
    // The platform may run an alarm twice: the same slot publishes once.
    await moveNextAt("due", slot);
    await runDurableObjectAlarm(shardOf("due"));
    expect(await runIds("due")).toEqual([`due@${slot}`]);
    expect(await ledger("due")).toEqual([
      { runId: `due@${slot}`, status: "duplicate" },
      { runId: `due@${slot}`, status: "ok" },
    ]);
  });

  it("skip: after downtime runs only an on-time slot, and records the missed ones as one skipped row", async () => {
    await create("skipper");
    const slot = thisMinute();
    await moveNextAt("skipper", slot - 5 * MINUTE);
    await runDurableObjectAlarm(shardOf("skipper"));
    expect(await runIds("skipper")).toEqual([`skipper@${slot}`]);
    const rows = await ledger("skipper");
    expect(rows).toContainEqual({
      runId: `skipper@${slot - 5 * MINUTE}`,
      status: "skipped",
      error: expect.stringMatching(/^Schedule skipper \(missed: "skip"\) passed over 5 slots from /),
    });
    expect(rows).toHaveLength(2);
  });

  it("skip runs nothing when even the newest missed slot is late; latest runs that one", async () => {
    const yearly = { cron: "0 0 1 1 *" };
    const newYear = Date.UTC(new Date().getUTCFullYear(), 0, 1);
    await create("yearly-skip", yearly);
    await create("yearly-latest", { ...yearly, missed: "latest" });
    for (const id of ["yearly-skip", "yearly-latest"]) {
      await moveNextAt(id, newYear);
      await runDurableObjectAlarm(shardOf(id));
      expect(await nextAt(id)).toBe(Date.UTC(new Date().getUTCFullYear() + 1, 0, 1));
    }
    expect(await runIds("yearly-skip")).toEqual([]);
    expect((await ledger("yearly-skip")).map((row) => row.status)).toEqual(["skipped"]);
    expect(await runIds("yearly-latest")).toEqual([`yearly-latest@${newYear}`]);
  });

  it("all: runs every missed slot oldest first, at most missedLimit (the newest), and records the rest", async () => {
    await create("catch-up", { missed: "all", missedLimit: 3 });
    const slot = thisMinute();
    await moveNextAt("catch-up", slot - 5 * MINUTE);
    await runDurableObjectAlarm(shardOf("catch-up"));
    expect(await runIds("catch-up")).toEqual([slot - 2 * MINUTE, slot - MINUTE, slot].map((at) => `catch-up@${at}`));
    expect(await ledger("catch-up")).toContainEqual({
      runId: `catch-up@${slot - 5 * MINUTE}`,
      status: "skipped",
      error: expect.stringContaining("passed over 3 slots"),
    });
  });

  it("whileWatched: rests through slots nobody watches, and runs the next one once someone subscribes", async () => {
    await create("watched", { cron: null, every: "1s", whileWatched: true });
    const first = Math.floor(Date.now() / 1_000) * 1_000;
    await moveNextAt("watched", first);
    await runDurableObjectAlarm(shardOf("watched"));
    expect(await runIds("watched")).toEqual([]);
    const [rest] = await topic("watched").runs(10);
    expect(rest).toMatchObject({ status: "rested", scheduledTime: first });
    // The same slot handed over again stays rested, even with a subscriber by then: one outcome per slot.
    const socket = await openTopicSocket("uptime.watched");
    await socket.nextFrame();
    await moveNextAt("watched", first);
    await runInDurableObject(shardOf("watched"), (_instance, state) => {
      state.storage.sql.exec("UPDATE runtime_schedules SET spec = json_set(spec, '$.missed', 'all') WHERE id = 'watched'");
    });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await runDurableObjectAlarm(shardOf("watched"));
    const published = await runIds("watched");
    expect(published.length).toBeGreaterThan(0);
    expect(published).not.toContain(`watched@${first}`);
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", runId: published[0] });
    socket.ws.close();
    // Every second it would keep its shard's alarm a second away for the tests after this one.
    expect((await api("DELETE", "/schedules/watched")).status).toBe(204);
  });

  it("hands over a run taken before a restart, and a deleted schedule's taken runs never run", async () => {
    await create("taken");
    await create("gone");
    const slot = thisMinute() - MINUTE;
    await runInDurableObject(shardOf("taken"), (_instance, state) => {
      const run = { job: "uptime", params: { url: REFUSED_URL }, slot, nextExpectedAt: slot + MINUTE };
      addPendingRun(state.storage.sql, { ...run, scheduleId: "taken", topic: "uptime.taken", runId: `taken@${slot}` });
    });
    await runInDurableObject(shardOf("gone"), (_instance, state) => {
      const run = { job: "uptime", params: { url: REFUSED_URL }, slot, nextExpectedAt: slot + MINUTE };
      addPendingRun(state.storage.sql, { ...run, scheduleId: "gone", topic: "uptime.gone", runId: `gone@${slot}` });
    });
    expect((await api("DELETE", "/schedules/gone")).status).toBe(204);
    await moveNextAt("taken", Date.now() + 3_600_000);
    await runDurableObjectAlarm(shardOf("taken"));
    await runDurableObjectAlarm(shardOf("gone"));
    expect(await runIds("taken")).toEqual([`taken@${slot}`]);
    expect(await runIds("gone")).toEqual([]);
  });

  it("leaves one schedule and one topic claim after 10 concurrent PUTs of one id with different topics", async () => {
    const puts = Array.from({ length: 10 }, (_, i) =>
      api("PUT", "/schedules/racy", { job: "uptime", params: { url: REFUSED_URL }, every: "1m", topic: `racy.${i}` }),
    );
    const answers = await Promise.all(puts);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const final = await api("GET", "/schedules/racy");
    expect(final.body.revision).toBe(10);
    const claims = (await Promise.all(schedulerShardNames(env).map((name) => env.SCHEDULER.getByName(name).listTopics())))
      .flat()
      .filter((claim) => claim.scheduleId === "racy");
    expect(claims.map((claim) => claim.topic)).toEqual([final.body.topic]);
  });
});

describe("freshness of a schedule's topic", () => {
  it("has a deadline while the schedule runs, and none while it is paused or after it is deleted", async () => {
    await create("resting");
    const slot = thisMinute();
    await moveNextAt("resting", slot);
    await runDurableObjectAlarm(shardOf("resting"));
    // The alarm may return before its hand-over ends (it leaves 100 ms before the shard's next alarm).
    await vi.waitFor(async () => expect(await staleAt("resting")).toBe(slot + MINUTE + 60_000), { timeout: 5_000 });
    await api("POST", "/schedules/resting/pause");
    expect(await staleAt("resting")).toBeNull();
    expect(await topic("resting").jobHealth()).toMatchObject({
      status: "ok",
      detail: "Schedule resting is paused: nothing runs until it resumes.",
    });
    await api("POST", "/schedules/resting/resume");
    await api("DELETE", "/schedules/resting");
    expect(await staleAt("resting")).toBeNull();
    expect((await topic("resting").jobHealth()).detail).toBe("Schedule resting was deleted: nothing runs here any more.");
  });
});

describe("a resumed schedule's next slot at its topic", () => {
  const active = (id: string, at: number) => `Schedule ${id} is active: its next run is due at ${new Date(at).toISOString()}.`;

  it("is expected again from a resume on: the pause's word is gone, and a run that never comes turns the topic stale", async () => {
    await create("firstslot");
    await api("POST", "/schedules/firstslot/pause");
    expect(await staleAt("firstslot")).toBeNull();
    await api("POST", "/schedules/firstslot/resume");
    const resumed = await nextAt("firstslot");
    if (resumed === null) throw new Error("a resumed schedule has a next slot");
    expect(await staleAt("firstslot")).toBe(resumed + uptime.graceMs);
    expect((await topic("firstslot").jobHealth()).detail).toBe(active("firstslot", resumed));
    // The first slot never arrives (its alarm is lost): the deadline passes, and the topic says so.
    await runInDurableObject(topic("firstslot"), (_instance, state) => {
      state.storage.sql.exec("UPDATE schedules SET at = ? WHERE kind = 'stale'", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(topic("firstslot"))).toBe(true);
    expect(await topic("firstslot").jobHealth()).toMatchObject({ status: "stale" });
    await api("DELETE", "/schedules/firstslot");
  });

  it("is not told by a create, nor by a change that keeps the schedule running", async () => {
    await create("steady");
    expect(await staleAt("steady")).toBeNull();
    const slot = thisMinute();
    await moveNextAt("steady", slot);
    await runDurableObjectAlarm(shardOf("steady"));
    await vi.waitFor(async () => expect(await staleAt("steady")).toBe(slot + MINUTE + uptime.graceMs), { timeout: 5_000 });
    const deadline = await staleAt("steady");
    expect((await api("PATCH", "/schedules/steady", { cron: "*/5 * * * *" })).status).toBe(200);
    expect(await staleAt("steady")).toBe(deadline);
    await api("DELETE", "/schedules/steady");
  });
});

describe("the heartbeat", () => {
  it("re-arms a shard whose alarm is lost, and leaves a healthy one alone", async () => {
    await create("beat");
    await runInDurableObject(shardOf("beat"), (_instance, state) => state.storage.deleteAlarm());
    const first = await shardOf("beat").heartbeat();
    expect(first).toMatchObject({ rearmed: true, alarm: await nextAt("beat") });
    expect(await shardOf("beat").heartbeat()).toMatchObject({ rearmed: false, alarm: first.alarm });
  });
});
