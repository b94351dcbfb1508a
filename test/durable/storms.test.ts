/** Duplicate storms: the same firing, the same publish id, the same alarm slot, each delivered many times at once. */
import { createExecutionContext, createScheduledController, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { publishHeaders } from "../helpers/auth";
import { fetchWorker, openSocket } from "../helpers/socket";

describe("duplicate storms", () => {
  it("publishes the same cron and scheduledTime fired 10 times concurrently once", async () => {
    const socket = await openSocket("/topics/system");
    await socket.nextFrame();
    const T = Math.floor(Date.now() / 60_000) * 60_000;
    // Each firing also runs the feed job, which has no FEED_URL in the tests: it fails, and is not what this counts.
    await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        worker.scheduled(createScheduledController({ scheduledTime: T, cron: "* * * * *" }), env, createExecutionContext()),
      ),
    );
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 1, runId: `system@${T}` });
    await socket.expectSilence(300);
    const runs = await env.TOPIC.getByName("system").runs(20);
    expect(
      runs
        .filter((run) => run.runId === `system@${T}`)
        .map((run) => run.status)
        .sort(),
    ).toEqual([...Array(9).fill("duplicate"), "ok"]);
    expect(runs.every((run) => run.seq === 1)).toBe(true);
    expect((await env.TOPIC.getByName("system").metrics()).counters).toMatchObject({ published: 1, duplicates: 9 });
  });

  it("publishes the same publish id posted 10 times concurrently once", async () => {
    const socket = await openSocket("/topics/announcements");
    await socket.nextFrame();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        fetchWorker("/topics/announcements", {
          method: "POST",
          headers: publishHeaders(),
          body: JSON.stringify({ value: i, id: "storm" }),
        }),
      ),
    );
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as { seq: number; duplicate: boolean }[];
    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(202));
    expect(bodies.filter((body) => !body.duplicate)).toHaveLength(1);
    expect(new Set(bodies.map((body) => body.seq))).toEqual(new Set([1]));
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 1, runId: "post:storm" });
    await socket.expectSilence(300);
  });

  it("publishes a sub-minute slot whose alarm is delivered twice once, with the duplicate in the ledger", async () => {
    const stub = env.TOPIC.getByName("pulse");
    await stub.ensureCadence({ job: "pulse", everyMs: 10_000, graceMs: 20_000 });
    const slot = Date.now() - 1;
    for (let delivery = 0; delivery < 2; delivery++) {
      await runInDurableObject(stub, (_instance, state) => {
        state.storage.sql.exec("UPDATE schedules SET at = ? WHERE kind = 'tick'", slot);
      });
      await runDurableObjectAlarm(stub);
    }
    const runs = (await stub.runs(10)).filter((run) => run.runId === `pulse@${slot}`);
    expect(runs.map((run) => run.status)).toEqual(["duplicate", "ok"]);
    expect((await stub.history(0, 10)).filter((frame) => frame.runId === `pulse@${slot}`)).toHaveLength(1);
  });
});
