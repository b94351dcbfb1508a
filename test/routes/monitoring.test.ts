import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { JobStatus, RunRecord } from "../../src/client/protocol";
import type { StaticJob as Job } from "../../src/cron/job";
import { nextRunAfter } from "../../src/cron/next-run";
import { nextExpectedAt } from "../../src/cron/runner";
import { CRON_JOBS, JOBS, postedTopic, TOPICS } from "../helpers/registry";
import { fetchWorker } from "../helpers/socket";

const T = Math.floor(Date.now() / 60_000) * 60_000;
const run = (durationMs: number, attempts = 1) => ({ startedAt: T + 250, durationMs, attempts });

// Two cron jobs of the registry get a history: `healthy` one run and a repeat of it, `failing` one
// failed run. Every other job and topic has none, and the expectations below say so for each.
const [healthy, failing] = CRON_JOBS as [Job, Job];
const posted = postedTopic();
const facts = (job: Job) => ({
  runId: `${job.name}@${T}`,
  job: job.name,
  scheduledTime: T,
  nextExpectedAt: nextExpectedAt(job, T),
  graceMs: job.graceMs,
});

/** The ledger rows beforeAll leaves: its publishes, repeat and failure, as the topic objects record them. */
const started = { scheduledTime: T, startedAt: T + 250, lagMs: 250 };
const healthyRun = (status: "ok" | "duplicate", durationMs: number): RunRecord => ({
  ...started,
  runId: `${healthy.name}@${T}`,
  job: healthy.name,
  status,
  durationMs,
  attempts: 1,
  seq: 1,
  error: null,
});
const failedRun: RunRecord = {
  ...started,
  runId: `${failing.name}@${T}`,
  job: failing.name,
  status: "failed",
  durationMs: 1_500,
  attempts: 3,
  seq: null,
  error: "probe target down",
};

beforeAll(async () => {
  expect(CRON_JOBS.length, "these tests need two cron jobs in src/cron/jobs").toBeGreaterThanOrEqual(2);
  const stub = env.TOPIC.getByName(healthy.topic);
  await stub.publish({ ...facts(healthy), value: 1, run: run(40) });
  await stub.publish({ ...facts(healthy), value: 1, run: run(10) });
  await env.TOPIC.getByName(failing.topic).recordFailure({ ...facts(failing), run: run(1_500, 3), error: "probe target down" });
  await env.TOPIC.getByName(posted).publish({ value: "hello", id: "a1" });
});

/** A job's next run as /jobs reports it, read at some moment between `before` and `after`. */
const nextRunBetween = (job: Job, before: number, after: number) =>
  job.every === null
    ? expect.toBeOneOf([...new Set([nextRunAfter(job.schedule, before), nextRunAfter(job.schedule, after)])])
    : null; // a sub-minute job's next tick, and this file never arms one

describe("GET /jobs", () => {
  it("lists every job with its last run, last success, next run and status", async () => {
    const before = Date.now();
    const response = await fetchWorker("/jobs");
    const after = Date.now();
    expect(response.status).toBe(200);
    const untouched = (job: Job): JobStatus => ({
      name: job.name,
      topic: job.topic,
      schedule: job.schedule,
      every: job.every,
      lastRun: null,
      lastSuccessAt: null,
      nextRunAt: nextRunBetween(job, before, after),
      status: "ok",
      detail: "",
      schedules: 0,
    });
    const seeded: Record<string, Partial<JobStatus>> = {
      [healthy.name]: { lastRun: healthyRun("duplicate", 10), lastSuccessAt: T + 250, detail: "Runs arrive on time." },
      [failing.name]: {
        lastRun: failedRun,
        status: "failing",
        detail: `Run ${failing.name}@${T} failed after 3 attempts: probe target down`,
      },
    };
    expect(await response.json()).toEqual({ jobs: JOBS.map((job) => ({ ...untouched(job), ...seeded[job.name] })) });
  });
});

describe("GET /jobs/:name/runs", () => {
  it("returns the ledger newest first, at most limit", async () => {
    const response = await fetchWorker(`/jobs/${healthy.name}/runs?limit=1`);
    expect(await response.json()).toEqual({ job: healthy.name, runs: [healthyRun("duplicate", 10)] });
    const all = await fetchWorker(`/jobs/${healthy.name}/runs`);
    expect(await all.json()).toEqual({ job: healthy.name, runs: [healthyRun("duplicate", 10), healthyRun("ok", 40)] });
  });

  it("answers 404 unknown_job and 400 bad_limit", async () => {
    const unknown = await fetchWorker("/jobs/nope/runs");
    expect([unknown.status, await unknown.json()]).toEqual([
      404,
      { error: { code: "unknown_job", message: 'No job "nope" exists.' } },
    ]);
    const bad = await fetchWorker(`/jobs/${healthy.name}/runs?limit=201`);
    expect([bad.status, ((await bad.json()) as { error: { code: string } }).error.code]).toEqual([400, "bad_limit"]);
  });
});

describe("GET /metrics", () => {
  it("exposes every declared topic, and every job, in Prometheus text format", async () => {
    const response = await fetchWorker("/metrics");
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const updated = async (topic: string) => ((await env.TOPIC.getByName(topic).snapshot()).updatedAt ?? 0) / 1000;
    // One line per declared topic (or job), in registry order: what beforeAll left, 0 for the rest.
    const topicLines = (metric: string, values: Record<string, number> = {}) =>
      TOPICS.map(({ topic }) => `${metric}{topic="${topic}"} ${values[topic] ?? 0}`);
    const jobLines = (metric: string, values: Record<string, number> = {}) =>
      JOBS.map(({ name }) => `${metric}{job="${name}"} ${values[name] ?? 0}`);
    const runs: Record<string, number> = {
      [`${healthy.name} ok`]: 1,
      [`${healthy.name} duplicate`]: 1,
      [`${failing.name} failed`]: 1,
    };
    expect(await response.text()).toBe(
      [
        "# HELP edgebeat_topic_subscribers Open subscribers of the topic: WebSockets, streams and waiting long-polls.",
        "# TYPE edgebeat_topic_subscribers gauge",
        ...topicLines("edgebeat_topic_subscribers"),
        "# HELP edgebeat_topic_messages_published_total Metrics published to the topic.",
        "# TYPE edgebeat_topic_messages_published_total counter",
        ...topicLines("edgebeat_topic_messages_published_total", { [healthy.topic]: 1, [posted]: 1 }),
        "# HELP edgebeat_topic_duplicates_suppressed_total Publishes dropped because their runId or id was seen before.",
        "# TYPE edgebeat_topic_duplicates_suppressed_total counter",
        ...topicLines("edgebeat_topic_duplicates_suppressed_total", { [healthy.topic]: 1 }),
        "# HELP edgebeat_topic_last_update_timestamp_seconds When the topic last published (0 if never).",
        "# TYPE edgebeat_topic_last_update_timestamp_seconds gauge",
        ...topicLines("edgebeat_topic_last_update_timestamp_seconds", {
          [healthy.topic]: await updated(healthy.topic),
          [posted]: await updated(posted),
        }),
        "# HELP edgebeat_job_runs_total Job runs by outcome.",
        "# TYPE edgebeat_job_runs_total counter",
        ...JOBS.flatMap(({ name }) =>
          ["ok", "failed", "duplicate", "skipped", "rested"].map(
            (status) => `edgebeat_job_runs_total{job="${name}",status="${status}"} ${runs[`${name} ${status}`] ?? 0}`,
          ),
        ),
        "# HELP edgebeat_job_run_duration_seconds Time from the start of a run to its publish or final failure.",
        "# TYPE edgebeat_job_run_duration_seconds summary",
        ...jobLines("edgebeat_job_run_duration_seconds_sum", { [healthy.name]: 0.04, [failing.name]: 1.5 }),
        ...jobLines("edgebeat_job_run_duration_seconds_count", { [healthy.name]: 1, [failing.name]: 1 }),
        "# HELP edgebeat_job_cron_lag_seconds How late the last run started after its scheduled time.",
        "# TYPE edgebeat_job_cron_lag_seconds gauge",
        ...jobLines("edgebeat_job_cron_lag_seconds", { [healthy.name]: 0.25, [failing.name]: 0.25 }),
        "# HELP edgebeat_job_stale 1 if the job's topic is stale (no run by its deadline).",
        "# TYPE edgebeat_job_stale gauge",
        ...jobLines("edgebeat_job_stale"),
        "# HELP edgebeat_job_failing 1 if the job's last run failed.",
        "# TYPE edgebeat_job_failing gauge",
        ...jobLines("edgebeat_job_failing", { [failing.name]: 1 }),
        "",
      ].join("\n"),
    );
  });
});
