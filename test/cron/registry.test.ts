import { describe, expect, it } from "vitest";
import { isTopicName } from "../../src/client/protocol";
import { isStatic, parseInterval, worstCaseRunMs } from "../../src/cron/job";
import { JOBS as REGISTRY } from "../../src/cron/jobs";
import { assertSchedule } from "../../src/cron/next-run";
import { assertCronsMatchJobs } from "../../src/testing";
import wranglerToml from "../../wrangler.toml?raw";

const JOBS = REGISTRY.filter(isStatic);

describe("job registry", () => {
  it("uses exactly the schedules wrangler.toml lists as crons, both ways, each once", () => {
    expect(() => assertCronsMatchJobs(REGISTRY, wranglerToml)).not.toThrow();
  });

  it("has unique job names and topics, all valid topic names", () => {
    expect(new Set(JOBS.map((job) => job.name)).size).toBe(JOBS.length);
    expect(new Set(JOBS.map((job) => job.topic)).size).toBe(JOBS.length);
    for (const job of JOBS) expect(isTopicName(job.topic), job.topic).toBe(true);
  });

  it("has schedules that croner accepts as five-field Cron Triggers", () => {
    for (const job of JOBS) expect(() => assertSchedule(job.schedule)).not.toThrow();
  });

  it("bounds every job's worst case: 2 minutes for a cron job, one interval for a sub-minute job", () => {
    for (const job of JOBS) {
      expect(job.timeoutMs, job.name).toBeGreaterThan(0);
      expect(worstCaseRunMs(job), job.name).toBeLessThanOrEqual(job.every ?? 120_000);
    }
  });

  it("gives sub-minute jobs an interval of at least 1 s and a minute cron as watchdog", () => {
    for (const job of JOBS.filter((candidate) => candidate.every !== null)) {
      expect(job.every, job.name).toBeGreaterThanOrEqual(1_000);
      expect(job.schedule, job.name).toBe("* * * * *");
    }
  });
});

describe("intervals", () => {
  it("parses ms, s and m, and refuses anything under 1 s", () => {
    expect([parseInterval("10s"), parseInterval("1500ms"), parseInterval("2m")]).toEqual([10_000, 1_500, 120_000]);
    expect(() => parseInterval("999ms")).toThrow(/below the 1 s minimum/);
    expect(() => parseInterval("10 seconds")).toThrow(/must look like/);
  });
});
