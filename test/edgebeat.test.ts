/** The library's surface: createEdgebeat's start-up checks, mounting its app, and the crons check of edgebeat/testing. */
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createEdgebeat, defineJob, type Job } from "../src/edgebeat";
import { assertCronsMatchJobs, cronMismatch } from "../src/testing";
import { readFrames } from "./helpers/frames";
import { JOBS, TOPICS } from "./helpers/registry";

const job = (name: string, extra: Partial<Parameters<typeof defineJob>[0]> = {}): Job =>
  defineJob({ name, topic: name, schedule: "* * * * *", timeoutMs: 1_000, compute: async () => 1, ...extra });

describe("createEdgebeat", () => {
  it("returns the Worker's handlers, its classes and the Hono app", () => {
    const edgebeat = createEdgebeat({ jobs: JOBS });
    expect(Object.keys(edgebeat).sort()).toEqual([
      "JobRunner",
      "Scheduler",
      "Topic",
      "TopicShard",
      "app",
      "fetch",
      "jobs",
      "scheduled",
    ]);
    expect(edgebeat.jobs).toBe(JOBS);
  });

  it("refuses, naming the job and the fix, jobs that could not run as declared", () => {
    const cases: [Job[], RegExp][] = [
      [[job("a"), job("a")], /Two jobs are named "a"/],
      [[job("a"), job("b", { topic: "a" })], /job "b" publishes to topic "a", which another job already uses/],
      [[job("a", { topic: "Not A Topic" })], /job "a" has topic "Not A Topic", which is not a topic name/],
      [[job("a", { schedule: "* * * *" })], /job "a": cron "\* \* \* \*" must have five fields/],
      [[job("a", { every: "10s", schedule: "*/5 * * * *" })], /its schedule \(its watchdog\) must be "\* \* \* \* \*"/],
      [[job("a", { timeoutMs: 60_000 })], /job "a" can take 181500 ms .* over its 120000 ms: lower timeoutMs or retry.attempts/],
    ];
    for (const [jobs, message] of cases) expect(() => createEdgebeat({ jobs }), String(message)).toThrow(message);
  });

  it("serves its topics when mounted under a prefix of another Hono app", async () => {
    const outer = new Hono().route("/live", createEdgebeat({ jobs: JOBS }).app);
    const listed = await outer.request("/live/topics", {}, env);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual({ topics: TOPICS });
    const upgrade = await outer.request(`/live/topics/${JOBS[0]?.topic}`, { headers: { Upgrade: "websocket" } }, env);
    expect(upgrade.status).toBe(101);
    const ws = upgrade.webSocket as WebSocket;
    const frames = readFrames(ws, "mounted");
    ws.accept();
    expect(await frames.nextFrame()).toMatchObject({ type: "hello", topic: JOBS[0]?.topic });
    ws.close();
    const missing = await outer.request("/live/topics/not-declared", {}, env);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: "unknown_topic", message: 'No topic "not-declared" is declared.' } });
  });
});

describe("edgebeat/testing crons check", () => {
  const jobs = [job("a"), job("b", { schedule: "*/5 * * * *" })];

  it("passes when the crons are exactly the jobs' schedules", () => {
    expect(() => assertCronsMatchJobs(jobs, '[triggers]\ncrons = ["*/5 * * * *", "* * * * *"]')).not.toThrow();
    expect(() => assertCronsMatchJobs(jobs, { triggers: { crons: ["* * * * *", "*/5 * * * *"] } })).not.toThrow();
  });

  it("names every job no trigger fires, every unused cron and every repeat", () => {
    expect(cronMismatch(jobs, ["* * * * *", "0 * * * *", "0 * * * *"])).toEqual({
      unscheduled: [{ job: "b", schedule: "*/5 * * * *" }],
      unused: ["0 * * * *"],
      repeated: ["0 * * * *"],
    });
    expect(() => assertCronsMatchJobs(jobs, { triggers: { crons: ["* * * * *", "0 * * * *", "0 * * * *"] } })).toThrow(
      [
        "The Worker's crons do not match its jobs:",
        '- job "b" runs on "*/5 * * * *", which no Cron Trigger fires: add it to [triggers] crons',
        '- cron "0 * * * *" runs no job: remove it from [triggers] crons',
        '- cron "0 * * * *" is listed more than once: list it once',
      ].join("\n"),
    );
  });

  it("needs the heartbeat's * * * * * when the Worker binds SCHEDULER, and counts it as used", () => {
    const hourly = [job("c", { schedule: "0 * * * *" })];
    const scheduler = { durable_objects: { bindings: [{ name: "SCHEDULER", class_name: "Scheduler" }] } };
    expect(() => assertCronsMatchJobs(hourly, { ...scheduler, triggers: { crons: ["0 * * * *"] } })).toThrow(
      `- job "(runtime schedules' heartbeat)" runs on "* * * * *", which no Cron Trigger fires: add it to [triggers] crons`,
    );
    expect(() => assertCronsMatchJobs(hourly, { ...scheduler, triggers: { crons: ["0 * * * *", "* * * * *"] } })).not.toThrow();
    expect(() => assertCronsMatchJobs(hourly, { triggers: { crons: ["0 * * * *", "* * * * *"] } })).toThrow(
      '- cron "* * * * *" runs no job: remove it from [triggers] crons',
    );
  });

  it("treats a config without triggers as no crons", () => {
    expect(() => assertCronsMatchJobs(jobs, 'name = "x"')).toThrow(
      /job "a" runs on "\* \* \* \* \*", which no Cron Trigger fires/,
    );
  });
});
