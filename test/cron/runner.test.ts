import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Job } from "../../src/cron/job";
import { JobTimeoutError, runDue, withTimeout } from "../../src/cron/runner";
import worker from "../../src/index";
import { openSocket, openTopicSocket } from "../helpers/socket";

const T = Date.parse("2026-11-30T02:00:00Z");

function testJob(name: string, compute: Job["compute"], timeoutMs = 1_000): Job {
  return { name, topic: name, schedule: "*/7 * * * *", timeoutMs, compute };
}

describe("withTimeout", () => {
  it("resolves with the work's value in time", async () => {
    expect(await withTimeout(500, async () => 42)).toBe(42);
  });

  it("rejects with JobTimeoutError and aborts the signal when the work overruns", async () => {
    let seen: AbortSignal | undefined;
    const never = (signal: AbortSignal) => {
      seen = signal;
      return new Promise<never>(() => {});
    };
    await expect(withTimeout(50, never)).rejects.toThrow(JobTimeoutError);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(JobTimeoutError);
  });
});

describe("runDue", () => {
  it("runs only the jobs whose schedule is the cron, and names runs job@scheduledTime", async () => {
    const jobs = [testJob("due-a", async () => 1), { ...testJob("due-b", async () => 2), schedule: "0 * * * *" }];
    const reports = await runDue(jobs, jobs, { cron: "*/7 * * * *", scheduledTime: T }, env);
    expect(reports).toEqual([{ job: "due-a", topic: "due-a", runId: `due-a@${T}`, status: "ok", seq: 1 }]);
    const [frame] = await env.TOPIC.getByName("due-a").history(0, 10);
    expect(frame).toMatchObject({ runId: `due-a@${T}`, job: "due-a", scheduledTime: T, nextExpectedAt: T + 7 * 60_000 - 0 });
  });

  it("isolates failures: a throwing job and a timed-out job never stop the others", async () => {
    const jobs = [
      testJob("iso-throws", async () => {
        throw new Error("database unreachable");
      }),
      testJob("iso-hangs", () => new Promise<never>(() => {}), 50),
      testJob("iso-fine", async () => ({ ok: true })),
    ];
    const reports = await runDue(jobs, jobs, { cron: "*/7 * * * *", scheduledTime: T }, env);
    expect(reports).toEqual([
      { job: "iso-throws", topic: "iso-throws", runId: `iso-throws@${T}`, status: "failed", error: "database unreachable" },
      { job: "iso-hangs", topic: "iso-hangs", runId: `iso-hangs@${T}`, status: "failed", error: "timed out after 50 ms" },
      { job: "iso-fine", topic: "iso-fine", runId: `iso-fine@${T}`, status: "ok", seq: 1 },
    ]);
    expect((await env.TOPIC.getByName("iso-throws").snapshot()).seq).toBe(0);
  });

  it("reports a repeated firing as a duplicate with the first seq", async () => {
    let calls = 0;
    const jobs = [testJob("dup-run", async () => ++calls)];
    const firing = { cron: "*/7 * * * *", scheduledTime: T };
    const socket = await openTopicSocket("dup-run");
    await socket.nextFrame();
    expect(await runDue(jobs, jobs, firing, env)).toMatchObject([{ status: "ok", seq: 1 }]);
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 1, value: 1 });
    expect(await runDue(jobs, jobs, firing, env)).toMatchObject([{ status: "duplicate", seq: 1 }]);
    await socket.expectSilence();
  });
});

describe("scheduled handler", () => {
  it("broadcasts the system job's counts to a connected socket", async () => {
    const socket = await openSocket("/topics/system");
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", topic: "system", seq: 0 });
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: T, cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const frame = await socket.nextFrame();
    expect(frame).toEqual({
      type: "metric",
      topic: "system",
      seq: 1,
      value: {
        topics: [
          { topic: "system", subscribers: 1, published: 0 },
          { topic: "uptime", subscribers: 0, published: 0 },
          { topic: "announcements", subscribers: 0, published: 0 },
          { topic: "ops", subscribers: 0, published: 0 },
        ],
      },
      ts: expect.any(Number),
      runId: `system@${T}`,
      job: "system",
      scheduledTime: T,
      nextExpectedAt: T + 60_000,
    });
  });

  it("publishes the same cron and scheduledTime once", async () => {
    const socket = await openSocket("/topics/system");
    const hello = await socket.nextFrame();
    const seqBefore = (hello as { seq: number }).seq;
    expect(seqBefore).toBe(1); // the previous test published once
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 1 }); // last value on join
    const later = T + 60_000;
    for (let i = 0; i < 2; i++) {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ scheduledTime: later, cron: "* * * * *" }), env, ctx);
      await waitOnExecutionContext(ctx);
    }
    const latest = await socket.nextFrame();
    expect(latest).toMatchObject({ type: "metric", seq: seqBefore + 1, runId: `system@${later}` });
    await socket.expectSilence(300);
    const snapshot = await (await exports.default.fetch("http://edgebeat.test/topics/system")).json();
    expect(snapshot).toMatchObject({ seq: seqBefore + 1 });
  });

  it("records an unreachable probe as a result with ok: false, not a failure", async () => {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: T, cron: "*/5 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const [frame] = await env.TOPIC.getByName("uptime").history(0, 1);
    expect(frame?.value).toEqual({
      probes: [
        {
          url: "http://localhost:8787/health",
          ok: false,
          status: null,
          latencyMs: expect.any(Number),
          error: expect.any(String),
        },
      ],
    });
  });
});
