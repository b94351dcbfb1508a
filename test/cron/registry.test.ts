import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { isTopicName } from "../../src/client/protocol";
import { JOBS } from "../../src/cron/jobs";
import { assertSchedule } from "../../src/cron/schedule";
import wranglerToml from "../../wrangler.toml?raw";

const crons = (parse(wranglerToml) as { triggers: { crons: string[] } }).triggers.crons;

describe("job registry", () => {
  it("uses exactly the schedules wrangler.toml lists as crons, both ways", () => {
    expect(new Set(JOBS.map((job) => job.schedule))).toEqual(new Set(crons));
  });

  it("lists each cron in wrangler.toml once", () => {
    expect(crons).toHaveLength(new Set(crons).size);
  });

  it("has unique job names and topics, all valid topic names", () => {
    expect(new Set(JOBS.map((job) => job.name)).size).toBe(JOBS.length);
    expect(new Set(JOBS.map((job) => job.topic)).size).toBe(JOBS.length);
    for (const job of JOBS) expect(isTopicName(job.topic), job.topic).toBe(true);
  });

  it("has schedules that croner accepts as five-field Cron Triggers", () => {
    for (const job of JOBS) expect(() => assertSchedule(job.schedule)).not.toThrow();
  });

  it("gives every job a positive timeout below the scheduled handler's limits", () => {
    for (const job of JOBS) expect(job.timeoutMs).toBeGreaterThan(0);
    for (const job of JOBS) expect(job.timeoutMs).toBeLessThanOrEqual(60_000);
  });
});
