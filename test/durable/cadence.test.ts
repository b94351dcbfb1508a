/** The sub-minute cadence: the pulse topic's alarm runs the pulse job through ctx.exports.JobRunner. */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { openTopicSocket } from "../helpers/socket";

const EVERY = 10_000;
const stub = () => env.TOPIC.getByName("pulse");
const tick = { job: "pulse", everyMs: EVERY, graceMs: 20_000 };

/** Moves the pending tick to `at`, as if its time had come. */
async function moveTick(at: number): Promise<void> {
  await runInDurableObject(stub(), (_instance, state) => {
    state.storage.sql.exec("UPDATE schedules SET at = ? WHERE kind = 'tick'", at);
  });
}

/** Parks every schedule an hour away, so no real alarm fires in the middle of the next test. */
async function park(): Promise<void> {
  await runInDurableObject(stub(), async (_instance, state) => {
    const later = Date.now() + 3_600_000;
    state.storage.sql.exec("UPDATE schedules SET at = ?", later);
    await state.storage.setAlarm(later);
  });
}

const tickAt = () =>
  runInDurableObject(
    stub(),
    (_instance, state) => state.storage.sql.exec<{ at: number }>("SELECT at FROM schedules WHERE kind = 'tick'").one().at,
  );

describe("sub-minute cadence", () => {
  afterEach(park);

  it("arms the first tick at the next interval boundary, and leaves a healthy chain alone", async () => {
    const first = await stub().ensureCadence(tick);
    expect(first.rearmed).toBe(true);
    expect(first.nextSlot % EVERY).toBe(0);
    expect(first.nextSlot).toBeGreaterThan(Date.now() - EVERY);
    expect(await stub().ensureCadence(tick)).toEqual({ rearmed: false, nextSlot: first.nextSlot });
  });

  it("runs the due slot through the same runner, then arms the next slot", async () => {
    const socket = await openTopicSocket("pulse");
    await socket.nextFrame();
    const slot = Date.now() - 5; // due, and less than one interval late
    await moveTick(slot);
    expect(await runDurableObjectAlarm(stub())).toBe(true);
    const frame = await socket.nextFrame();
    expect(frame).toMatchObject({
      type: "metric",
      topic: "pulse",
      runId: `pulse@${slot}`,
      job: "pulse",
      scheduledTime: slot,
      nextExpectedAt: slot + EVERY,
      value: { lagMs: expect.any(Number) },
    });
    expect(await tickAt()).toBe(slot + EVERY);
    expect((await stub().runs(1))[0]).toMatchObject({ runId: `pulse@${slot}`, status: "ok", attempts: 1 });
  });

  it("publishes a repeated alarm for the same slot once, and records the duplicate", async () => {
    const socket = await openTopicSocket("pulse");
    await socket.nextFrame();
    await socket.nextFrame();
    const slot = Date.now() - 3;
    await moveTick(slot);
    await runDurableObjectAlarm(stub());
    await moveTick(slot);
    await runDurableObjectAlarm(stub());
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", runId: `pulse@${slot}` });
    await socket.expectSilence(300);
    const [latest, before] = await stub().runs(2);
    expect([latest?.runId, latest?.status]).toEqual([`pulse@${slot}`, "duplicate"]);
    expect([before?.runId, before?.status]).toEqual([`pulse@${slot}`, "ok"]);
  });

  it("runs only the newest due slot of a late alarm and records the skipped ones", async () => {
    const first = Date.now() - 3 * EVERY - 7;
    const newest = first + 3 * EVERY;
    await moveTick(first);
    await runDurableObjectAlarm(stub());
    const [ran, skipped] = await stub().runs(2);
    expect(ran).toMatchObject({ runId: `pulse@${newest}`, status: "ok" });
    expect(skipped).toMatchObject({ runId: `pulse@${first}`, status: "skipped", attempts: 0 });
    expect(skipped?.error).toMatch(/; 3 slots skipped\.$/);
    expect(await tickAt()).toBe(newest + EVERY);
  });

  it("re-arms a broken chain from the minute cron's watchdog", async () => {
    await runInDurableObject(stub(), async (_instance, state) => {
      await state.storage.deleteAlarm();
    });
    const { rearmed, nextSlot } = await stub().ensureCadence(tick);
    expect(rearmed).toBe(true);
    const alarm = await runInDurableObject(stub(), (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBe(Math.min(nextSlot, alarm ?? Number.POSITIVE_INFINITY));
    expect(alarm).not.toBeNull();
  });

  it("keeps ticking on its own, with no cron and no test helper", async () => {
    const socket = await openTopicSocket("pulse");
    const hello = (await socket.nextFrame()) as { seq: number };
    await socket.nextFrame();
    await moveTick(Date.now() + 300);
    await runInDurableObject(stub(), async (_instance, state) => {
      await state.storage.setAlarm(Date.now() + 300);
    });
    expect(await socket.nextFrame({ timeoutMs: 5_000 })).toMatchObject({ type: "metric", seq: hello.seq + 1 });
  });
});
