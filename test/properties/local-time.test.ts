/**
 * Property tests for runtime-schedule time arithmetic, over zones with unusual rules (30- and
 * 45-minute offsets and shifts, midnight transitions), small random crons and times in 2027.
 */
import { Cron } from "croner";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextSlot, nextSlots, slotsBetween, type Timing } from "../../src/cron/local-time";

const RUNS = 300;
const COUNT = 30;

/** Runs a property RUNS times and fails with fast-check's report. */
function check<T>(name: string, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => void): void {
  const details = fc.check(fc.property(arbitrary, predicate), { numRuns: RUNS });
  console.log(`property "${name}": ${details.numRuns} cases, ${details.failed ? "FAILED" : "held"}`);
  if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `property "${name}" failed`);
  expect(details.numRuns).toBe(RUNS);
}

const ZONES = [
  "UTC",
  "Europe/Berlin",
  "Europe/London",
  "America/New_York",
  "America/St_Johns",
  "America/Santiago",
  "America/Havana",
  "Australia/Lord_Howe",
  "Australia/Sydney",
  "Pacific/Chatham",
  "Asia/Kolkata",
  "Asia/Tokyo",
];
const zone = fc.constantFrom(...ZONES);
/** Days with a 2027 transition in one of ZONES (Havana and Santiago change at midnight). */
const TRANSITIONS = [
  "2027-03-14",
  "2027-03-28",
  "2027-04-04",
  "2027-09-05",
  "2027-09-26",
  "2027-10-03",
  "2027-10-31",
  "2027-11-07",
];
const year2027 = fc.integer({ min: Date.parse("2027-01-01T00:00:00Z"), max: Date.parse("2028-01-01T00:00:00Z") });
const nearTransition = fc
  .tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -2 * 86_400_000, max: 86_400_000 }))
  .map(([day, offset]) => Date.parse(`${day}T00:00:00Z`) + offset);
const in2027 = fc.oneof(year2027, nearTransition);
const dayFields = fc.tuple(
  fc.constantFrom("*", "1", "15", "L", "1-7"),
  fc.constantFrom("*", "3", "4", "10,11", "*/2"),
  fc.constantFrom("*", "0", "1-5", "SUN", "6,0"),
);
const anyCron = fc
  .tuple(
    fc.constantFrom("*", "*/15", "0", "30", "0,30", "5-10", "*/7", "45"),
    fc.constantFrom("*", "0", "1", "2", "3", "*/2", "1-3", "0,12", "23"),
    dayFields,
  )
  .map(([minute, hour, days]) => [minute, hour, ...days].join(" "));
/** One minute and one hour: croner's fixed-time jobs, whose DST rule is the one this module keeps. */
const fixedCron = fc
  .tuple(fc.integer({ min: 0, max: 59 }), fc.constantFrom(0, 1, 2, 3, 12, 23), dayFields)
  .map(([minute, hour, days]) => [minute, hour, ...days].join(" "));

const timing = (cron: string, timezone: string): Timing => ({ cadence: { cron }, timezone, startAt: null, endAt: null });

describe("nextSlots properties", () => {
  it("is strictly increasing, after `after`, and agrees with nextSlot and slotsBetween", () => {
    check("cron slots are ordered and consistent", fc.tuple(zone, anyCron, in2027), ([timezone, cron, after]) => {
      const schedule = timing(cron, timezone);
      const slots = nextSlots(schedule, after, COUNT);
      expect(slots.length).toBeGreaterThan(0);
      let previous = after;
      for (const slot of slots) {
        expect(slot).toBeGreaterThan(previous);
        expect(nextSlot(schedule, previous)).toBe(slot);
        previous = slot;
      }
      expect(slotsBetween(schedule, after, previous, COUNT)).toEqual({
        count: slots.length,
        capped: false,
        first: slots[0],
        kept: slots,
      });
    });
  });

  it("runs a fixed-time cron exactly when croner's own timezone handling does", () => {
    check("fixed-time slots match croner", fc.tuple(zone, fixedCron, in2027), ([timezone, cron, after]) => {
      const croner = new Cron(cron, { timezone, mode: "5-part" }).nextRuns(10, new Date(after));
      expect(nextSlots(timing(cron, timezone), after, 10)).toEqual(croner.map((date) => date.getTime()));
    });
  });

  it("spaces everyMs slots exactly, aligned to startAt", () => {
    const bounds = fc.tuple(
      in2027,
      fc.integer({ min: 1_000, max: 3 * 86_400_000 }),
      fc.integer({ min: -86_400_000, max: 86_400_000 }),
    );
    check("everyMs slots are aligned", bounds, ([startAt, everyMs, offset]) => {
      const schedule: Timing = { cadence: { everyMs }, timezone: "Europe/Berlin", startAt, endAt: null };
      const slots = nextSlots(schedule, startAt + offset, 5);
      expect(slots[0]).toBeGreaterThanOrEqual(startAt);
      expect(slots[0]).toBeGreaterThan(startAt + offset);
      expect(((slots[0] ?? 0) - startAt) % everyMs).toBe(0);
      expect(slots.slice(1).map((slot, i) => slot - (slots[i] ?? 0))).toEqual([everyMs, everyMs, everyMs, everyMs]);
    });
  });
});
