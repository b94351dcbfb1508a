import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { fetchWorker } from "../helpers/socket";

const T = Math.floor(Date.now() / 60_000) * 60_000;
const run = (durationMs: number, attempts = 1) => ({ startedAt: T + 250, durationMs, attempts });

beforeAll(async () => {
  const system = env.TOPIC.getByName("system");
  await system.publish({
    value: 1,
    runId: `system@${T}`,
    job: "system",
    scheduledTime: T,
    nextExpectedAt: T + 60_000,
    graceMs: 60_000,
    run: run(40),
  });
  await system.publish({
    value: 1,
    runId: `system@${T}`,
    job: "system",
    scheduledTime: T,
    nextExpectedAt: T + 60_000,
    graceMs: 60_000,
    run: run(10),
  });
  const uptime = env.TOPIC.getByName("uptime");
  const failure = { runId: `uptime@${T}`, job: "uptime", scheduledTime: T, nextExpectedAt: T + 300_000, graceMs: 60_000 };
  await uptime.recordFailure({ ...failure, run: run(1_500, 3), error: "PROBE_URLS is empty" });
  await env.TOPIC.getByName("announcements").publish({ value: "hello", id: "a1" });
});

describe("GET /jobs", () => {
  it("lists every job with its last run, last success, next run and status", async () => {
    const response = await fetchWorker("/jobs");
    expect(response.status).toBe(200);
    const { jobs } = (await response.json()) as { jobs: { name: string; nextRunAt: number | null }[] };
    expect(jobs).toEqual([
      {
        name: "system",
        topic: "system",
        schedule: "* * * * *",
        every: null,
        lastRun: {
          runId: `system@${T}`,
          job: "system",
          status: "duplicate",
          scheduledTime: T,
          startedAt: T + 250,
          lagMs: 250,
          durationMs: 10,
          attempts: 1,
          seq: 1,
          error: null,
        },
        lastSuccessAt: T + 250,
        nextRunAt: expect.any(Number),
        status: "ok",
        detail: "Runs arrive on time.",
      },
      {
        name: "uptime",
        topic: "uptime",
        schedule: "*/5 * * * *",
        every: null,
        lastRun: {
          runId: `uptime@${T}`,
          job: "uptime",
          status: "failed",
          scheduledTime: T,
          startedAt: T + 250,
          lagMs: 250,
          durationMs: 1_500,
          attempts: 3,
          seq: null,
          error: "PROBE_URLS is empty",
        },
        lastSuccessAt: null,
        nextRunAt: expect.any(Number),
        status: "failing",
        detail: `Run uptime@${T} failed after 3 attempts: PROBE_URLS is empty`,
      },
      {
        name: "pulse",
        topic: "pulse",
        schedule: "* * * * *",
        every: 10_000,
        lastRun: null,
        lastSuccessAt: null,
        nextRunAt: null,
        status: "ok",
        detail: "",
      },
      {
        name: "events",
        topic: "events",
        schedule: "* * * * *",
        every: null,
        lastRun: null,
        lastSuccessAt: null,
        nextRunAt: expect.any(Number),
        status: "ok",
        detail: "",
      },
      {
        name: "feed",
        topic: "feed",
        schedule: "* * * * *",
        every: null,
        lastRun: null,
        lastSuccessAt: null,
        nextRunAt: expect.any(Number),
        status: "ok",
        detail: "",
      },
    ]);
    const now = Date.now();
    const [system, uptime] = jobs;
    expect(system?.nextRunAt).toBe(Math.floor(now / 60_000) * 60_000 + 60_000);
    expect((uptime?.nextRunAt ?? 1) % 300_000).toBe(0);
    expect(uptime?.nextRunAt).toBeGreaterThan(now);
  });
});

describe("GET /jobs/:name/runs", () => {
  it("returns the ledger newest first, at most limit", async () => {
    const response = await fetchWorker("/jobs/system/runs?limit=1");
    expect(await response.json()).toEqual({
      job: "system",
      runs: [expect.objectContaining({ runId: `system@${T}`, status: "duplicate" })],
    });
    const all = (await (await fetchWorker("/jobs/system/runs")).json()) as { runs: { status: string }[] };
    expect(all.runs.map((r) => r.status)).toEqual(["duplicate", "ok"]);
  });

  it("answers 404 unknown_job and 400 bad_limit", async () => {
    const unknown = await fetchWorker("/jobs/nope/runs");
    expect([unknown.status, await unknown.json()]).toEqual([
      404,
      { error: { code: "unknown_job", message: 'No job "nope" exists.' } },
    ]);
    const bad = await fetchWorker("/jobs/system/runs?limit=201");
    expect([bad.status, ((await bad.json()) as { error: { code: string } }).error.code]).toEqual([400, "bad_limit"]);
  });
});

describe("GET /metrics", () => {
  it("exposes topics and jobs in Prometheus text format", async () => {
    const response = await fetchWorker("/metrics");
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const updated = async (topic: string) => ((await env.TOPIC.getByName(topic).snapshot()).updatedAt ?? 0) / 1000;
    expect(await response.text()).toBe(
      [
        "# HELP edgebeat_topic_subscribers Open WebSocket subscribers of the topic.",
        "# TYPE edgebeat_topic_subscribers gauge",
        'edgebeat_topic_subscribers{topic="system"} 0',
        'edgebeat_topic_subscribers{topic="uptime"} 0',
        'edgebeat_topic_subscribers{topic="pulse"} 0',
        'edgebeat_topic_subscribers{topic="events"} 0',
        'edgebeat_topic_subscribers{topic="feed"} 0',
        'edgebeat_topic_subscribers{topic="announcements"} 0',
        'edgebeat_topic_subscribers{topic="ops"} 0',
        "# HELP edgebeat_topic_messages_published_total Metrics published to the topic.",
        "# TYPE edgebeat_topic_messages_published_total counter",
        'edgebeat_topic_messages_published_total{topic="system"} 1',
        'edgebeat_topic_messages_published_total{topic="uptime"} 0',
        'edgebeat_topic_messages_published_total{topic="pulse"} 0',
        'edgebeat_topic_messages_published_total{topic="events"} 0',
        'edgebeat_topic_messages_published_total{topic="feed"} 0',
        'edgebeat_topic_messages_published_total{topic="announcements"} 1',
        'edgebeat_topic_messages_published_total{topic="ops"} 0',
        "# HELP edgebeat_topic_duplicates_suppressed_total Publishes dropped because their runId or id was seen before.",
        "# TYPE edgebeat_topic_duplicates_suppressed_total counter",
        'edgebeat_topic_duplicates_suppressed_total{topic="system"} 1',
        'edgebeat_topic_duplicates_suppressed_total{topic="uptime"} 0',
        'edgebeat_topic_duplicates_suppressed_total{topic="pulse"} 0',
        'edgebeat_topic_duplicates_suppressed_total{topic="events"} 0',
        'edgebeat_topic_duplicates_suppressed_total{topic="feed"} 0',
        'edgebeat_topic_duplicates_suppressed_total{topic="announcements"} 0',
        'edgebeat_topic_duplicates_suppressed_total{topic="ops"} 0',
        "# HELP edgebeat_topic_last_update_timestamp_seconds When the topic last published (0 if never).",
        "# TYPE edgebeat_topic_last_update_timestamp_seconds gauge",
        `edgebeat_topic_last_update_timestamp_seconds{topic="system"} ${await updated("system")}`,
        'edgebeat_topic_last_update_timestamp_seconds{topic="uptime"} 0',
        'edgebeat_topic_last_update_timestamp_seconds{topic="pulse"} 0',
        'edgebeat_topic_last_update_timestamp_seconds{topic="events"} 0',
        'edgebeat_topic_last_update_timestamp_seconds{topic="feed"} 0',
        `edgebeat_topic_last_update_timestamp_seconds{topic="announcements"} ${await updated("announcements")}`,
        'edgebeat_topic_last_update_timestamp_seconds{topic="ops"} 0',
        "# HELP edgebeat_job_runs_total Job runs by outcome.",
        "# TYPE edgebeat_job_runs_total counter",
        'edgebeat_job_runs_total{job="system",status="ok"} 1',
        'edgebeat_job_runs_total{job="system",status="failed"} 0',
        'edgebeat_job_runs_total{job="system",status="duplicate"} 1',
        'edgebeat_job_runs_total{job="system",status="skipped"} 0',
        'edgebeat_job_runs_total{job="uptime",status="ok"} 0',
        'edgebeat_job_runs_total{job="uptime",status="failed"} 1',
        'edgebeat_job_runs_total{job="uptime",status="duplicate"} 0',
        'edgebeat_job_runs_total{job="uptime",status="skipped"} 0',
        'edgebeat_job_runs_total{job="pulse",status="ok"} 0',
        'edgebeat_job_runs_total{job="pulse",status="failed"} 0',
        'edgebeat_job_runs_total{job="pulse",status="duplicate"} 0',
        'edgebeat_job_runs_total{job="pulse",status="skipped"} 0',
        'edgebeat_job_runs_total{job="events",status="ok"} 0',
        'edgebeat_job_runs_total{job="events",status="failed"} 0',
        'edgebeat_job_runs_total{job="events",status="duplicate"} 0',
        'edgebeat_job_runs_total{job="events",status="skipped"} 0',
        'edgebeat_job_runs_total{job="feed",status="ok"} 0',
        'edgebeat_job_runs_total{job="feed",status="failed"} 0',
        'edgebeat_job_runs_total{job="feed",status="duplicate"} 0',
        'edgebeat_job_runs_total{job="feed",status="skipped"} 0',
        "# HELP edgebeat_job_run_duration_seconds Time from the start of a run to its publish or final failure.",
        "# TYPE edgebeat_job_run_duration_seconds summary",
        'edgebeat_job_run_duration_seconds_sum{job="system"} 0.04',
        'edgebeat_job_run_duration_seconds_sum{job="uptime"} 1.5',
        'edgebeat_job_run_duration_seconds_sum{job="pulse"} 0',
        'edgebeat_job_run_duration_seconds_sum{job="events"} 0',
        'edgebeat_job_run_duration_seconds_sum{job="feed"} 0',
        'edgebeat_job_run_duration_seconds_count{job="system"} 1',
        'edgebeat_job_run_duration_seconds_count{job="uptime"} 1',
        'edgebeat_job_run_duration_seconds_count{job="pulse"} 0',
        'edgebeat_job_run_duration_seconds_count{job="events"} 0',
        'edgebeat_job_run_duration_seconds_count{job="feed"} 0',
        "# HELP edgebeat_job_cron_lag_seconds How late the last run started after its scheduled time.",
        "# TYPE edgebeat_job_cron_lag_seconds gauge",
        'edgebeat_job_cron_lag_seconds{job="system"} 0.25',
        'edgebeat_job_cron_lag_seconds{job="uptime"} 0.25',
        'edgebeat_job_cron_lag_seconds{job="pulse"} 0',
        'edgebeat_job_cron_lag_seconds{job="events"} 0',
        'edgebeat_job_cron_lag_seconds{job="feed"} 0',
        "# HELP edgebeat_job_stale 1 if the job's topic is stale (no run by its deadline).",
        "# TYPE edgebeat_job_stale gauge",
        'edgebeat_job_stale{job="system"} 0',
        'edgebeat_job_stale{job="uptime"} 0',
        'edgebeat_job_stale{job="pulse"} 0',
        'edgebeat_job_stale{job="events"} 0',
        'edgebeat_job_stale{job="feed"} 0',
        "# HELP edgebeat_job_failing 1 if the job's last run failed.",
        "# TYPE edgebeat_job_failing gauge",
        'edgebeat_job_failing{job="system"} 0',
        'edgebeat_job_failing{job="uptime"} 1',
        'edgebeat_job_failing{job="pulse"} 0',
        'edgebeat_job_failing{job="events"} 0',
        'edgebeat_job_failing{job="feed"} 0',
        "",
      ].join("\n"),
    );
  });
});
