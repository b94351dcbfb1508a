import { describe, expect, it } from "vitest";
import { assertSchedule, nextRunAfter } from "../../src/cron/next-run";

const at = (iso: string) => Date.parse(iso);

describe("cron arithmetic", () => {
  it("finds the next firing after a time, in UTC", () => {
    expect(nextRunAfter("* * * * *", at("2026-11-30T02:03:00Z"))).toBe(at("2026-11-30T02:04:00Z"));
    expect(nextRunAfter("*/5 * * * *", at("2026-11-30T02:03:10Z"))).toBe(at("2026-11-30T02:05:00Z"));
    expect(nextRunAfter("*/5 * * * *", at("2026-11-30T02:05:00Z"))).toBe(at("2026-11-30T02:10:00Z"));
    expect(nextRunAfter("0 0 1 * *", at("2026-12-31T23:59:00Z"))).toBe(at("2027-01-01T00:00:00Z"));
  });

  it("reads weekdays as Cron Triggers do: 1 is Sunday", () => {
    // 2026-11-30 is a Monday; the next Sunday 17:00 UTC is 2026-12-06.
    expect(nextRunAfter("0 17 * * 1", at("2026-11-30T00:00:00Z"))).toBe(at("2026-12-06T17:00:00Z"));
    expect(nextRunAfter("0 17 * * SUN", at("2026-11-30T00:00:00Z"))).toBe(at("2026-12-06T17:00:00Z"));
  });

  it("refuses expressions that are not five-field crons", () => {
    expect(() => assertSchedule("0 * * * * *")).toThrow(/five fields/);
    expect(() => assertSchedule("every minute")).toThrow();
    expect(() => assertSchedule("61 * * * *")).toThrow();
  });
});
