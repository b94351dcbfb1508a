import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LEDGER_LIMIT } from "../../src/durable/ledger";
import { openTopicSocket } from "../helpers/socket";

const stubFor = (topic: string) => env.TOPIC.getByName(topic);
const run = (startedAt: number) => ({ startedAt, durationMs: 12, attempts: 1 });

/** A job run's publish whose next run was due `dueInMs` from now, with `graceMs` of grace. */
function jobPublish(n: number, { dueInMs = 60_000, graceMs = 60_000 } = {}) {
  const now = Date.now();
  return {
    value: n,
    runId: `job@${n}`,
    job: "job",
    scheduledTime: now - 1_000,
    nextExpectedAt: now + dueInMs,
    graceMs,
    run: run(now - 900),
  };
}

function failure(n: number, error: string) {
  const now = Date.now();
  return {
    runId: `job@${n}`,
    job: "job",
    scheduledTime: now,
    nextExpectedAt: now + 60_000,
    graceMs: 60_000,
    run: run(now),
    error,
  };
}

describe("status", () => {
  it("turns failing on a failed run, tells subscribers, and ok again on the next good run", async () => {
    const stub = stubFor("fresh-failing");
    await stub.publish(jobPublish(1));
    const socket = await openTopicSocket("fresh-failing");
    await socket.nextFrame();
    await socket.nextFrame();
    await stub.recordFailure(failure(2, "upstream 502"));
    expect(await socket.nextFrame()).toEqual({
      type: "status",
      topic: "fresh-failing",
      state: "failing",
      detail: "Run job@2 failed after 1 attempt: upstream 502",
    });
    expect((await stub.snapshot()).status).toBe("failing");
    await stub.publish(jobPublish(3));
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 2, value: 3 });
    expect(await socket.nextFrame()).toEqual({
      type: "status",
      topic: "fresh-failing",
      state: "ok",
      detail: "Runs arrive on time.",
    });
    expect((await stub.runs(10)).map((r) => [r.runId, r.status, r.error])).toEqual([
      ["job@3", "ok", null],
      ["job@2", "failed", "upstream 502"],
      ["job@1", "ok", null],
    ]);
  });

  it("sends a joining subscriber the current status when it is not ok", async () => {
    const stub = stubFor("fresh-join");
    await stub.publish(jobPublish(1));
    await stub.recordFailure(failure(2, "boom"));
    const socket = await openTopicSocket("fresh-join");
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", seq: 1 });
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 1 });
    expect(await socket.nextFrame()).toMatchObject({ type: "status", state: "failing" });
  });

  it("does not turn failing when the failed run's slot already published", async () => {
    const stub = stubFor("fresh-late-failure");
    await stub.publish(jobPublish(1));
    await stub.recordFailure(failure(1, "retry of a finished slot"));
    expect((await stub.snapshot()).status).toBe("ok");
  });
});

describe("freshness alarm", () => {
  it("turns stale when the deadline passes with no run, through the alarm", async () => {
    const stub = stubFor("fresh-stale");
    await stub.publish(jobPublish(1));
    const socket = await openTopicSocket("fresh-stale");
    await socket.nextFrame();
    await socket.nextFrame();
    // Pretend the deadline (a minute away) has passed, then run the pending alarm now.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE schedules SET at = ? WHERE kind = 'stale'", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await socket.nextFrame()).toMatchObject({ type: "status", topic: "fresh-stale", state: "stale" });
    expect(await stub.snapshot()).toMatchObject({ status: "stale" });
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });

  it("turns stale on its own, with no cron and no test helper firing anything", async () => {
    const stub = stubFor("fresh-deadman");
    await stub.publish(jobPublish(1, { dueInMs: 0, graceMs: 400 }));
    const socket = await openTopicSocket("fresh-deadman");
    await socket.nextFrame();
    await socket.nextFrame();
    expect(await socket.nextFrame({ timeoutMs: 5_000 })).toMatchObject({ type: "status", state: "stale" });
  });

  it("never moves the deadline earlier for a late run of an older slot", async () => {
    const stub = stubFor("fresh-monotonic");
    await stub.publish(jobPublish(2, { dueInMs: 120_000 }));
    await stub.publish(jobPublish(1, { dueInMs: -120_000, graceMs: 1_000 }));
    const deadline = await runInDurableObject(
      stub,
      (_instance, state) => state.storage.sql.exec<{ at: number }>("SELECT at FROM schedules WHERE kind = 'stale'").one().at,
    );
    expect(deadline).toBeGreaterThan(Date.now() + 170_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot()).status).toBe("ok");
  });

  it("leaves an earlier alarm where it is when a publish moves the deadline later; that alarm moves itself on", async () => {
    const stub = stubFor("fresh-lazy");
    const alarmAndDeadline = () =>
      runInDurableObject(stub, async (_instance, state) => ({
        alarm: await state.storage.getAlarm(),
        deadline: state.storage.sql.exec<{ at: number }>("SELECT at FROM schedules WHERE kind = 'stale'").one().at,
      }));
    await stub.publish(jobPublish(1, { dueInMs: 60_000 }));
    const first = await alarmAndDeadline();
    expect(first.alarm).toBe(first.deadline);
    // The next run's deadline is later: no alarm write on this publish (the hot path), only the deadline moves.
    await stub.publish(jobPublish(2, { dueInMs: 120_000 }));
    const second = await alarmAndDeadline();
    expect(second.alarm).toBe(first.alarm);
    expect(second.deadline).toBeGreaterThan(first.deadline);
    // The early alarm finds nothing due, keeps the topic ok and points itself at the deadline.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot()).status).toBe("ok");
    expect(await alarmAndDeadline()).toEqual({ alarm: second.deadline, deadline: second.deadline });
  });

  it("keeps the topic ok while runs keep arriving before their deadline", async () => {
    const stub = stubFor("fresh-ok");
    await stub.publish(jobPublish(1));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot()).status).toBe("ok");
  });
});

describe("ledger", () => {
  it("keeps the newest LEDGER_LIMIT runs per job", async () => {
    const stub = stubFor("fresh-ledger");
    for (let n = 1; n <= LEDGER_LIMIT + 5; n++) await stub.publish(jobPublish(n));
    const runs = await stub.runs(1_000);
    expect(runs).toHaveLength(LEDGER_LIMIT);
    expect(runs[0]?.runId).toBe(`job@${LEDGER_LIMIT + 5}`);
    expect(runs.at(-1)?.runId).toBe("job@6");
    expect((await stub.metrics()).counters).toMatchObject({ published: LEDGER_LIMIT + 5, runs_ok: LEDGER_LIMIT + 5 });
  });
});
