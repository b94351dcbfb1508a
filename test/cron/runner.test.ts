import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Json } from "../../src/client/protocol";
import { declaredTopics, listVar } from "../../src/config";
import { defineJob, type Job, PermanentError, type StaticJob, worstCaseRunMs } from "../../src/cron/job";
import { feed } from "../../src/cron/jobs/feed";
import { uptime } from "../../src/cron/jobs/uptime";
import {
  callTopic,
  JobTimeoutError,
  type RunnerDeps,
  runDue,
  runJob,
  TOPIC_CALL_RETRY,
  withTimeout,
} from "../../src/cron/runner";
import { jobsRunBy, TOPICS } from "../helpers/registry";
import { FAILING_HERE, fireCron } from "../helpers/scheduled";
import { openSocket, openTopicSocket } from "../helpers/socket";

/** This minute: recent enough that no freshness deadline (next run + 60 s grace) has passed yet. */
const T = Math.floor(Date.now() / 60_000) * 60_000;
const CRON = "* * * * *";

function testJob(name: string, compute: Job["compute"], extra: Partial<StaticJob> = {}): StaticJob {
  return { ...defineJob({ name, topic: name, schedule: CRON, timeoutMs: 1_000, compute }), ...extra };
}

/** A clock that only moves when the runner sleeps, and a random source that returns `r`. */
function fakeDeps(r = 0.5): RunnerDeps & { sleeps: number[] } {
  let now = T + 1_500;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    random: () => r,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

const topicsOf = (jobs: readonly StaticJob[]) => declaredTopics(jobs, env);

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

describe("worst case", () => {
  it("bounds a whole run: every attempt timing out plus every wait at its cap", () => {
    expect(worstCaseRunMs({ timeoutMs: 1_000, retry: { attempts: 3, baseMs: 500, maxMs: 5_000 } })).toBe(3_000 + 500 + 1_000);
  });
});

describe("runJob", () => {
  it("retries a failing compute with jittered backoff and records the attempts", async () => {
    let calls = 0;
    const job = testJob("retry-then-ok", async ({ attempt }) => {
      calls++;
      if (attempt < 3) throw new Error(`flaky ${attempt}`);
      return { attempt };
    });
    const deps = fakeDeps(0.5);
    const report = await runJob(job, T, env, topicsOf([job]), deps);
    expect(report).toEqual({ job: job.name, topic: job.name, runId: `${job.name}@${T}`, status: "ok", seq: 1, attempts: 3 });
    expect(calls).toBe(3);
    expect(deps.sleeps).toEqual([250, 500]);
    const [run] = await env.TOPIC.getByName(job.topic).runs(10);
    expect(run).toEqual({
      runId: `${job.name}@${T}`,
      job: job.name,
      status: "ok",
      scheduledTime: T,
      startedAt: T + 1_500,
      lagMs: 1_500,
      durationMs: 750,
      attempts: 3,
      seq: 1,
      error: null,
    });
  });

  it("gives up after retry.attempts and records the failure with its error", async () => {
    const job = testJob("always-fails", async () => {
      throw new Error("database unreachable");
    });
    const deps = fakeDeps(1);
    const report = await runJob(job, T, env, topicsOf([job]), deps);
    expect(report).toEqual({
      job: job.name,
      topic: job.name,
      runId: `${job.name}@${T}`,
      status: "failed",
      error: "database unreachable",
      attempts: 3,
    });
    expect(deps.sleeps).toEqual([500, 1_000]);
    const stub = env.TOPIC.getByName(job.topic);
    expect(await stub.runs(10)).toMatchObject([{ status: "failed", attempts: 3, error: "database unreachable", seq: null }]);
    expect(await stub.snapshot()).toMatchObject({ seq: 0, status: "failing" });
  });

  it("runs a whileWatched job only while its topic has a subscriber, and records the slots it rested through", async () => {
    let computed = 0;
    const job = testJob(
      "watched",
      async () => {
        computed++;
        return computed;
      },
      { whileWatched: true },
    );
    const stub = env.TOPIC.getByName(job.topic);
    for (const slot of [T, T + 60_000, T + 60_000]) {
      expect(await runJob(job, slot, env, topicsOf([job]))).toEqual({
        job: job.name,
        topic: job.topic,
        runId: `${job.name}@${slot}`,
        status: "rested",
        attempts: 0,
      });
    }
    expect(computed).toBe(0);
    // One row for the whole rest, counting its two slots (the repeated firing counted once).
    expect(await stub.runs(10)).toMatchObject([
      { status: "rested", runId: `${job.name}@${T + 60_000}`, scheduledTime: T, attempts: 2 },
    ]);
    // Not stale while nobody watches: the deadline moved on with each rested slot.
    expect(await stub.jobHealth()).toMatchObject({
      status: "ok",
      detail: "Resting: nobody is watching; the next slot after a subscriber joins runs.",
    });
    const socket = await openTopicSocket(job.topic);
    await socket.nextFrame();
    expect(await runJob(job, T + 120_000, env, topicsOf([job]))).toMatchObject({ status: "ok", seq: 1 });
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 1, value: 1, runId: `${job.name}@${T + 120_000}` });
    expect((await stub.metrics()).counters.runs_rested).toBe(2);
    socket.ws.close();
  });

  it("counts a long-poll client as watching, also between its polls", async () => {
    const job = testJob("polled", async () => 1, { whileWatched: true });
    const stub = env.TOPIC.getByName(job.topic);
    expect(await stub.poll(0, 10, 1)).toMatchObject({ messages: [] }); // one poll that waited (and timed out)
    expect(await runJob(job, T, env, topicsOf([job]))).toMatchObject({ status: "ok", seq: 1 });
  });

  it("does not retry a PermanentError", async () => {
    const job = testJob("permanent", async () => {
      throw new PermanentError("PROBE_URLS is empty");
    });
    const deps = fakeDeps();
    expect(await runJob(job, T, env, topicsOf([job]), deps)).toMatchObject({
      status: "failed",
      attempts: 1,
      error: "PROBE_URLS is empty",
    });
    expect(deps.sleeps).toEqual([]);
  });

  it("times out each attempt and retries it", async () => {
    const job = testJob("hangs", () => new Promise<never>(() => {}), { timeoutMs: 30 });
    expect(await runJob(job, T, env, topicsOf([job]), fakeDeps(0))).toMatchObject({
      status: "failed",
      attempts: 3,
      error: "timed out after 30 ms",
    });
  });
});

describe("callTopic", () => {
  const retryable = () => Object.assign(new Error("Network connection lost."), { retryable: true });

  it("retries a retryable error after a jittered wait, with a fresh stub each time", async () => {
    const deps = fakeDeps(0.5);
    const stubs: unknown[] = [];
    const result = await callTopic(
      env,
      "call-retry",
      async (stub) => {
        stubs.push(stub);
        if (stubs.length < 3) throw retryable();
        return "done";
      },
      deps,
    );
    expect(result).toBe("done");
    expect(deps.sleeps).toEqual([TOPIC_CALL_RETRY.baseMs * 0.5, TOPIC_CALL_RETRY.baseMs * 2 * 0.5]);
    expect(new Set(stubs).size).toBe(3);
  });

  it("gives up after its attempts, and never retries an overloaded or non-retryable error", async () => {
    for (const error of [retryable(), Object.assign(retryable(), { overloaded: true }), new Error("bad input")]) {
      const deps = fakeDeps();
      let calls = 0;
      const failing = callTopic(
        env,
        "call-retry",
        async () => {
          calls += 1;
          throw error;
        },
        deps,
      );
      await expect(failing).rejects.toBe(error);
      expect(calls).toBe("overloaded" in error || !("retryable" in error) ? 1 : TOPIC_CALL_RETRY.attempts);
      expect(deps.sleeps).toHaveLength(calls - 1);
    }
  });
});

describe("runDue", () => {
  it("runs only the jobs whose schedule is the cron, and names runs job@scheduledTime", async () => {
    const jobs = [testJob("due-a", async () => 1), testJob("due-b", async () => 2, { schedule: "0 * * * *" })];
    const { runs } = await runDue(jobs, { cron: CRON, scheduledTime: T }, env);
    expect(runs).toEqual([{ job: "due-a", topic: "due-a", runId: `due-a@${T}`, status: "ok", seq: 1, attempts: 1 }]);
    const [frame] = await env.TOPIC.getByName("due-a").history(0, 10);
    expect(frame).toMatchObject({ runId: `due-a@${T}`, job: "due-a", scheduledTime: T, nextExpectedAt: T + 60_000 });
  });

  it("isolates failures: a throwing job never stops the others", async () => {
    const fails = async (): Promise<Json> => {
      throw new PermanentError("broken");
    };
    const jobs = [testJob("iso-throws", fails), testJob("iso-fine", async () => ({ ok: true }))];
    const { runs } = await runDue(jobs, { cron: CRON, scheduledTime: T }, env);
    expect(runs.map((run) => [run.job, run.status])).toEqual([
      ["iso-throws", "failed"],
      ["iso-fine", "ok"],
    ]);
  });

  it("publishes a repeated firing once and records it as a duplicate", async () => {
    let calls = 0;
    const jobs = [testJob("dup-run", async () => ++calls)];
    const firing = { cron: CRON, scheduledTime: T };
    const socket = await openTopicSocket("dup-run");
    await socket.nextFrame();
    expect((await runDue(jobs, firing, env)).runs).toMatchObject([{ status: "ok", seq: 1 }]);
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 1, value: 1 });
    expect((await runDue(jobs, firing, env)).runs).toMatchObject([{ status: "duplicate", seq: 1 }]);
    await socket.expectSilence();
    expect((await env.TOPIC.getByName("dup-run").runs(10)).map((run) => [run.status, run.seq])).toEqual([
      ["duplicate", 1],
      ["ok", 1],
    ]);
  });

  it("re-arms a sub-minute job's cadence instead of running it", async () => {
    const job = testJob("fast", async () => 1, { every: 10_000 });
    const { runs, watchdogs } = await runDue([job], { cron: CRON, scheduledTime: T }, env);
    expect(runs).toEqual([]);
    expect(watchdogs).toEqual([{ job: "fast", topic: "fast", rearmed: true, nextSlot: expect.any(Number) }]);
    expect((watchdogs[0]?.nextSlot ?? 1) % 10_000).toBe(0);
  });
});

describe("scheduled handler", () => {
  it("broadcasts the system job's counts of every public topic to a connected socket", async () => {
    const socket = await openSocket("/topics/system");
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", topic: "system", seq: 0 });
    await fireCron(CRON, T);
    expect(await socket.nextFrame()).toEqual({
      type: "metric",
      topic: "system",
      seq: 1,
      value: {
        topics: TOPICS.filter((info) => !info.private).map(({ topic }) => ({
          topic,
          subscribers: topic === "system" ? 1 : 0,
          published: 0,
        })),
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
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", seq: 1 });
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 1 }); // last value on join
    const later = T + 60_000;
    for (let i = 0; i < 2; i++) await fireCron(CRON, later);
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 2, runId: `system@${later}` });
    await socket.expectSilence(300);
    expect(await (await exports.default.fetch("http://edgebeat.test/topics/system")).json()).toMatchObject({ seq: 2 });
  });

  it("isolates the failing feed job: every other job of the firing publishes, the feed topic turns failing", async () => {
    const later = T + 120_000;
    await fireCron(CRON, later);
    const latest = async (job: StaticJob) => (await env.TOPIC.getByName(job.topic).runs(1))[0];
    const outcomes = await Promise.all(
      jobsRunBy(CRON).map(async (job) => {
        const run = await latest(job);
        return [run?.runId, run?.status];
      }),
    );
    expect(outcomes).toEqual(
      jobsRunBy(CRON).map((job) => [`${job.name}@${later}`, FAILING_HERE.includes(job.name) ? "failed" : "ok"]),
    );
    expect(await latest(feed)).toMatchObject({
      runId: `feed@${later}`,
      status: "failed",
      attempts: 1,
      error: "FEED_URL is not set: point it at a JSON endpoint in wrangler.toml [vars]",
    });
    expect((await env.TOPIC.getByName(feed.topic).snapshot()).status).toBe("failing");
  });

  it("records an unreachable probe as a result with ok: false, not a failure", async () => {
    await fireCron(uptime.schedule, T);
    const [frame] = await env.TOPIC.getByName(uptime.topic).history(0, 1);
    expect(frame?.value).toEqual({
      probes: listVar(env.PROBE_URLS).map((url) => ({
        url,
        ok: false,
        status: null,
        latencyMs: expect.any(Number),
        error: expect.any(String),
      })),
    });
  });
});
