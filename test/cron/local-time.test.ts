/**
 * Runtime-schedule time arithmetic, inside workerd (the workers project runs every test/cron file):
 * so the zone data asserted here is workerd's own Intl, and the DST expectations are computed
 * independently from ISO strings with explicit offsets.
 */
import { describe, expect, it } from "vitest";
import { assertCron, isTimeZone, nextSlot, nextSlots, parseEvery, slotsBetween, type Timing } from "../../src/cron/local-time";

const at = (iso: string) => Date.parse(iso);
const MINUTE = 60_000;

const cron = (expression: string, timezone = "UTC", bounds: Partial<Pick<Timing, "startAt" | "endAt">> = {}): Timing => ({
  cadence: { cron: expression },
  timezone,
  startAt: null,
  endAt: null,
  ...bounds,
});
const every = (everyMs: number, bounds: Partial<Pick<Timing, "startAt" | "endAt">> = {}): Timing => ({
  cadence: { everyMs },
  timezone: "UTC",
  startAt: null,
  endAt: null,
  ...bounds,
});

/** The zone's UTC offset at an instant, as Intl names it: "GMT+01:00", or "GMT" for zero. */
const offsetName = (timeZone: string, iso: string) =>
  new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" })
    .formatToParts(at(iso))
    .find((part) => part.type === "timeZoneName")?.value;

describe("the runtime", () => {
  it("is workerd, whose Intl knows the zones the schedules use", () => {
    expect(navigator.userAgent).toBe("Cloudflare-Workers");
    for (const zone of ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]) {
      expect(isTimeZone(zone), zone).toBe(true);
    }
  });

  it("has the real 2027 transitions of each zone tested below", () => {
    expect([offsetName("Europe/Berlin", "2027-03-28T00:59:59Z"), offsetName("Europe/Berlin", "2027-03-28T01:00:00Z")]).toEqual([
      "GMT+01:00",
      "GMT+02:00",
    ]);
    expect([offsetName("Europe/Berlin", "2027-10-31T00:59:59Z"), offsetName("Europe/Berlin", "2027-10-31T01:00:00Z")]).toEqual([
      "GMT+02:00",
      "GMT+01:00",
    ]);
    expect([
      offsetName("America/New_York", "2027-03-14T06:59:59Z"),
      offsetName("America/New_York", "2027-03-14T07:00:00Z"),
    ]).toEqual(["GMT-05:00", "GMT-04:00"]);
    expect([
      offsetName("America/New_York", "2027-11-07T05:59:59Z"),
      offsetName("America/New_York", "2027-11-07T06:00:00Z"),
    ]).toEqual(["GMT-04:00", "GMT-05:00"]);
    // Lord Howe shifts by 30 minutes: 02:00 +11 back to 01:30 +10:30, and 02:00 +10:30 on to 02:30 +11.
    expect([
      offsetName("Australia/Lord_Howe", "2027-04-03T14:59:59Z"),
      offsetName("Australia/Lord_Howe", "2027-04-03T15:00:00Z"),
    ]).toEqual(["GMT+11:00", "GMT+10:30"]);
    expect([
      offsetName("Australia/Lord_Howe", "2027-10-02T15:29:59Z"),
      offsetName("Australia/Lord_Howe", "2027-10-02T15:30:00Z"),
    ]).toEqual(["GMT+10:30", "GMT+11:00"]);
    // Santiago springs forward at midnight: 00:00 -04 to 01:00 -03.
    expect([
      offsetName("America/Santiago", "2027-09-05T03:59:59Z"),
      offsetName("America/Santiago", "2027-09-05T04:00:00Z"),
    ]).toEqual(["GMT-04:00", "GMT-03:00"]);
    expect([offsetName("Asia/Kolkata", "2027-01-01T00:00:00Z"), offsetName("Asia/Kolkata", "2027-07-01T00:00:00Z")]).toEqual([
      "GMT+05:30",
      "GMT+05:30",
    ]);
  });
});

describe("isTimeZone", () => {
  it("accepts IANA names and the aliases Intl accepts", () => {
    expect([isTimeZone("Asia/Tokyo"), isTimeZone("US/Eastern"), isTimeZone("Etc/GMT+5")]).toEqual([true, true, true]);
  });

  it("rejects unknown zones, empty names and bare offsets", () => {
    for (const name of ["Mars/Base", "", "+01:00", "-05:00", "Europe/Berlin ", "GMT+1:00", "Europe/../Berlin"]) {
      expect(isTimeZone(name), JSON.stringify(name)).toBe(false);
    }
  });
});

describe("assertCron", () => {
  it("accepts five-field crons, with names, steps and croner's L", () => {
    for (const expression of ["* * * * *", "*/15 2 * * *", "0 9 * * MON-FRI", "30 2 1,15 * *", "0 0 L * *", "0 17 * * 7"]) {
      expect(() => assertCron(expression), expression).not.toThrow();
    }
  });

  it("names the fix for seconds, years, nicknames and out-of-range fields", () => {
    expect(() => assertCron("0 0 * * * *")).toThrow(/must have five fields .*seconds, years and nicknames/);
    expect(() => assertCron("0 0 1 1 * 2027")).toThrow(/must have five fields/);
    expect(() => assertCron("@daily")).toThrow(/must have five fields/);
    expect(() => assertCron("")).toThrow(/must have five fields/);
    expect(() => assertCron("61 * * * *")).toThrow(/is not valid .*minutes 0-59/);
    expect(() => assertCron("0 0 * * 8")).toThrow(/is not valid/);
  });
});

describe("parseEvery", () => {
  it("reads ms, s, m and h", () => {
    expect([parseEvery("30s"), parseEvery("1500ms"), parseEvery("5m"), parseEvery("2h"), parseEvery(" 1s ")]).toEqual([
      30_000, 1_500, 300_000, 7_200_000, 1_000,
    ]);
  });

  it("names the fix below 1 s or when malformed", () => {
    expect(() => parseEvery("999ms")).toThrow(/below the 1 s minimum: use 1s or more/);
    expect(() => parseEvery("0s")).toThrow(/below the 1 s minimum/);
    for (const text of ["10 seconds", "1.5s", "-5s", "5", "", "2d"]) {
      expect(() => parseEvery(text), text).toThrow(/must be a whole number and a unit, like 30s/);
    }
  });
});

describe("cron slots in UTC and in zones without DST", () => {
  it("finds the next slots strictly after a time, in UTC", () => {
    expect(nextSlots(cron("*/5 * * * *"), at("2027-01-01T02:05:00Z"), 3)).toEqual([
      at("2027-01-01T02:10:00Z"),
      at("2027-01-01T02:15:00Z"),
      at("2027-01-01T02:20:00Z"),
    ]);
    expect(nextSlot(cron("0 0 1 * *"), at("2027-12-31T23:59:00Z"))).toBe(at("2028-01-01T00:00:00Z"));
  });

  it("reads weekdays as standard cron does: 0 and 7 are Sunday", () => {
    // 2027-01-04 is a Monday; the next Sunday is 2027-01-10.
    const monday = at("2027-01-04T00:00:00Z");
    expect(nextSlot(cron("0 17 * * 0"), monday)).toBe(at("2027-01-10T17:00:00Z"));
    expect(nextSlot(cron("0 17 * * 7"), monday)).toBe(at("2027-01-10T17:00:00Z"));
    expect(nextSlot(cron("0 17 * * SUN"), monday)).toBe(at("2027-01-10T17:00:00Z"));
    expect(nextSlot(cron("0 17 * * 1"), monday)).toBe(at("2027-01-04T17:00:00Z"));
  });

  it("gives plain daily slots in Asia/Kolkata and Asia/Tokyo", () => {
    expect(nextSlots(cron("0 9 * * *", "Asia/Kolkata"), at("2027-03-27T12:00:00Z"), 3)).toEqual([
      at("2027-03-28T09:00:00+05:30"),
      at("2027-03-29T09:00:00+05:30"),
      at("2027-03-30T09:00:00+05:30"),
    ]);
    expect(nextSlots(cron("30 2 * * *", "Asia/Tokyo"), at("2027-10-30T00:00:00Z"), 2)).toEqual([
      at("2027-10-31T02:30:00+09:00"),
      at("2027-11-01T02:30:00+09:00"),
    ]);
  });

  it("answers null when a cron never fires", () => {
    expect(nextSlot(cron("0 0 30 2 *"), at("2027-01-01T00:00:00Z"))).toBeNull();
    expect(nextSlots(cron("0 0 30 2 *", "Europe/Berlin"), at("2027-01-01T00:00:00Z"), 5)).toEqual([]);
  });

  it("names the fix for an unknown zone", () => {
    expect(() => nextSlot(cron("* * * * *", "Mars/Base"), 0)).toThrow(
      /timezone "Mars\/Base" is not an IANA zone .*"Europe\/Berlin"/,
    );
  });
});

describe("spring forward: a local time that does not exist runs once, at the first instant after the gap", () => {
  it("Europe/Berlin, 2027-03-28 (02:00 CET to 03:00 CEST)", () => {
    const after = at("2027-03-27T12:00:00Z");
    expect(nextSlots(cron("30 2 * * *", "Europe/Berlin"), after, 2)).toEqual([
      at("2027-03-28T03:00:00+02:00"),
      at("2027-03-29T02:30:00+02:00"),
    ]);
    expect(at("2027-03-28T03:00:00+02:00")).toBe(at("2027-03-28T01:00:00Z"));
    expect(nextSlots(cron("*/15 2 * * *", "Europe/Berlin"), after, 3)).toEqual([
      at("2027-03-28T03:00:00+02:00"),
      at("2027-03-29T02:00:00+02:00"),
      at("2027-03-29T02:15:00+02:00"),
    ]);
    // Every minute: 02:00-02:59 and the real 03:00 are one slot.
    expect(nextSlots(cron("* * * * *", "Europe/Berlin"), at("2027-03-28T01:58:00+01:00"), 3)).toEqual([
      at("2027-03-28T01:59:00+01:00"),
      at("2027-03-28T03:00:00+02:00"),
      at("2027-03-28T03:01:00+02:00"),
    ]);
  });

  it("America/New_York, 2027-03-14 (02:00 EST to 03:00 EDT)", () => {
    const after = at("2027-03-13T12:00:00Z");
    expect(nextSlots(cron("30 2 * * *", "America/New_York"), after, 2)).toEqual([
      at("2027-03-14T03:00:00-04:00"),
      at("2027-03-15T02:30:00-04:00"),
    ]);
    expect(nextSlots(cron("*/20 2 * * *", "America/New_York"), after, 2)).toEqual([
      at("2027-03-14T03:00:00-04:00"),
      at("2027-03-15T02:00:00-04:00"),
    ]);
  });

  it("Australia/Lord_Howe, 2027-10-03 (02:00 +10:30 to 02:30 +11:00)", () => {
    const after = at("2027-10-02T00:00:00Z");
    expect(nextSlots(cron("15 2 * * *", "Australia/Lord_Howe"), after, 2)).toEqual([
      at("2027-10-03T02:30:00+11:00"),
      at("2027-10-04T02:15:00+11:00"),
    ]);
    // 02:00, 02:10 and 02:20 fall in the gap and meet the real 02:30: one slot.
    expect(nextSlots(cron("*/10 2 * * *", "Australia/Lord_Howe"), after, 4)).toEqual([
      at("2027-10-03T02:30:00+11:00"),
      at("2027-10-03T02:40:00+11:00"),
      at("2027-10-03T02:50:00+11:00"),
      at("2027-10-04T02:00:00+11:00"),
    ]);
  });

  it("America/Santiago, 2027-09-05 (midnight -04:00 to 01:00 -03:00): midnight runs at 01:00", () => {
    expect(nextSlots(cron("0 0 * * *", "America/Santiago"), at("2027-09-04T12:00:00Z"), 2)).toEqual([
      at("2027-09-05T01:00:00-03:00"),
      at("2027-09-06T00:00:00-03:00"),
    ]);
    expect(nextSlots(cron("30 0,1 * * *", "America/Santiago"), at("2027-09-04T12:00:00Z"), 3)).toEqual([
      at("2027-09-05T01:00:00-03:00"),
      at("2027-09-05T01:30:00-03:00"),
      at("2027-09-06T00:30:00-03:00"),
    ]);
  });
});

describe("fall back: a local time that happens twice runs once, at its first occurrence", () => {
  it("Europe/Berlin, 2027-10-31 (03:00 CEST back to 02:00 CET)", () => {
    const after = at("2027-10-30T12:00:00Z");
    expect(nextSlots(cron("30 2 * * *", "Europe/Berlin"), after, 2)).toEqual([
      at("2027-10-31T02:30:00+02:00"),
      at("2027-11-01T02:30:00+01:00"),
    ]);
    expect(at("2027-10-31T02:30:00+02:00")).toBe(at("2027-10-31T00:30:00Z"));
    expect(nextSlots(cron("*/15 2 * * *", "Europe/Berlin"), after, 5)).toEqual([
      at("2027-10-31T02:00:00+02:00"),
      at("2027-10-31T02:15:00+02:00"),
      at("2027-10-31T02:30:00+02:00"),
      at("2027-10-31T02:45:00+02:00"),
      at("2027-11-01T02:00:00+01:00"),
    ]);
    // From inside the repeated hour, the next slot is the first wall time not yet run.
    expect(nextSlot(cron("*/15 * * * *", "Europe/Berlin"), at("2027-10-31T02:30:00+01:00"))).toBe(
      at("2027-10-31T03:00:00+01:00"),
    );
  });

  it("America/New_York, 2027-11-07 (02:00 EDT back to 01:00 EST)", () => {
    expect(nextSlots(cron("*/15 1 * * *", "America/New_York"), at("2027-11-06T12:00:00Z"), 5)).toEqual([
      at("2027-11-07T01:00:00-04:00"),
      at("2027-11-07T01:15:00-04:00"),
      at("2027-11-07T01:30:00-04:00"),
      at("2027-11-07T01:45:00-04:00"),
      at("2027-11-08T01:00:00-05:00"),
    ]);
  });

  it("Australia/Lord_Howe, 2027-04-04 (02:00 +11:00 back to 01:30 +10:30)", () => {
    const after = at("2027-04-03T00:00:00Z");
    expect(nextSlots(cron("45 1 * * *", "Australia/Lord_Howe"), after, 2)).toEqual([
      at("2027-04-04T01:45:00+11:00"),
      at("2027-04-05T01:45:00+10:30"),
    ]);
    expect(nextSlots(cron("*/15 1 * * *", "Australia/Lord_Howe"), after, 5)).toEqual([
      at("2027-04-04T01:00:00+11:00"),
      at("2027-04-04T01:15:00+11:00"),
      at("2027-04-04T01:30:00+11:00"),
      at("2027-04-04T01:45:00+11:00"),
      at("2027-04-05T01:00:00+10:30"),
    ]);
  });
});

describe("bounds and intervals", () => {
  it("keeps cron slots within startAt and endAt, both inclusive", () => {
    const timing = cron("0 * * * *", "UTC", { startAt: at("2027-01-01T03:00:00Z"), endAt: at("2027-01-01T05:00:00Z") });
    expect(nextSlots(timing, 0, 10)).toEqual([
      at("2027-01-01T03:00:00Z"),
      at("2027-01-01T04:00:00Z"),
      at("2027-01-01T05:00:00Z"),
    ]);
    expect(nextSlot(timing, at("2027-01-01T05:00:00Z"))).toBeNull();
  });

  it("aligns everyMs to the Unix epoch without startAt", () => {
    expect(nextSlots(every(30_000), at("2027-01-01T00:00:10Z"), 3)).toEqual([
      at("2027-01-01T00:00:30Z"),
      at("2027-01-01T00:01:00Z"),
      at("2027-01-01T00:01:30Z"),
    ]);
    expect(nextSlot(every(30_000), at("2027-01-01T00:00:30Z"))).toBe(at("2027-01-01T00:01:00Z"));
  });

  it("aligns everyMs to startAt and stops at endAt, both inclusive", () => {
    const timing = every(10_000, { startAt: at("2027-01-01T00:00:07Z"), endAt: at("2027-01-01T00:00:27Z") });
    expect(nextSlots(timing, 0, 5)).toEqual([at("2027-01-01T00:00:07Z"), at("2027-01-01T00:00:17Z"), at("2027-01-01T00:00:27Z")]);
    expect(nextSlots(timing, at("2027-01-01T00:00:17Z"), 5)).toEqual([at("2027-01-01T00:00:27Z")]);
    expect(nextSlot(timing, at("2027-01-01T00:00:27Z"))).toBeNull();
  });

  it("ignores the timezone for everyMs, across a DST change", () => {
    const timing: Timing = { ...every(3_600_000), timezone: "Europe/Berlin" };
    expect(nextSlots(timing, at("2027-10-31T00:00:00Z"), 3)).toEqual([
      at("2027-10-31T01:00:00Z"),
      at("2027-10-31T02:00:00Z"),
      at("2027-10-31T03:00:00Z"),
    ]);
  });

  it("names the fix for an everyMs below 1 s", () => {
    expect(() => nextSlot(every(999), 0)).toThrow(/1000 or more: parse "30s" with parseEvery/);
  });
});

describe("slotsBetween", () => {
  const monday = at("2027-01-04T00:00:00Z");
  const week = monday + 7 * 86_400_000;

  it("counts a week of every-minute slots, with the first and the newest", () => {
    expect(slotsBetween(cron("* * * * *"), monday, week, 3)).toEqual({
      count: 10_080,
      capped: false,
      first: monday + MINUTE,
      kept: [week - 2 * MINUTE, week - MINUTE, week],
    });
  });

  it("stops counting at countLimit and still keeps the newest", () => {
    expect(slotsBetween(cron("* * * * *"), monday, week, 2, 1_000)).toEqual({
      count: 1_000,
      capped: true,
      first: monday + MINUTE,
      kept: [week - MINUTE, week],
    });
    expect(slotsBetween(cron("* * * * *"), monday, monday + 1_000 * MINUTE, 1, 1_000)).toEqual({
      count: 1_000,
      capped: false,
      first: monday + MINUTE,
      kept: [monday + 1_000 * MINUTE],
    });
    // Sparse slots: the newest is found even when it is days before `to`.
    expect(slotsBetween(cron("0 0 1 * *"), at("2020-01-01T00:00:00Z"), at("2027-03-20T00:00:00Z"), 2, 10)).toEqual({
      count: 10,
      capped: true,
      first: at("2020-02-01T00:00:00Z"),
      kept: [at("2027-02-01T00:00:00Z"), at("2027-03-01T00:00:00Z")],
    });
  });

  it("counts everyMs slots with arithmetic, however long the gap", () => {
    expect(slotsBetween(every(10_000), at("2027-01-01T00:00:00Z"), at("2028-01-01T00:00:00Z"), 2)).toEqual({
      count: 100_000,
      capped: true,
      first: at("2027-01-01T00:00:10Z"),
      kept: [at("2027-12-31T23:59:50Z"), at("2028-01-01T00:00:00Z")],
    });
    expect(slotsBetween(every(10_000), monday, week, 0, Number.POSITIVE_INFINITY)).toEqual({
      count: 60_480,
      capped: false,
      first: monday + 10_000,
      kept: [],
    });
    const bounded = every(10_000, { startAt: monday + 5_000, endAt: monday + 45_000 });
    expect(slotsBetween(bounded, 0, week, 10)).toEqual({
      count: 5,
      capped: false,
      first: monday + 5_000,
      kept: [5, 15, 25, 35, 45].map((s) => monday + s * 1_000),
    });
  });

  it("keeps cron slots within startAt and endAt", () => {
    const bounded = cron("* * * * *", "UTC", { startAt: monday + 5 * MINUTE, endAt: monday + 10 * MINUTE });
    expect(slotsBetween(bounded, monday, week, 2)).toEqual({
      count: 6,
      capped: false,
      first: monday + 5 * MINUTE,
      kept: [monday + 9 * MINUTE, monday + 10 * MINUTE],
    });
  });

  it("names the fix for an unbounded range", () => {
    expect(() => slotsBetween(every(1_000), monday, Number.POSITIVE_INFINITY, 1)).toThrow(/needs finite from and to/);
  });

  it("answers nothing for an empty range", () => {
    expect(slotsBetween(cron("* * * * *"), monday, monday + 59_000, 5)).toEqual({
      count: 0,
      capped: false,
      first: null,
      kept: [],
    });
    expect(slotsBetween(every(60_000), monday, monday, 5)).toEqual({ count: 0, capped: false, first: null, kept: [] });
  });

  it("counts each wall minute once across Berlin's fall back and spring forward", () => {
    // 00:00 CEST to 04:00 CET is 300 real minutes but 240 wall minutes.
    const back = slotsBetween(
      cron("* * * * *", "Europe/Berlin"),
      at("2027-10-31T00:00:00+02:00"),
      at("2027-10-31T04:00:00+01:00"),
      2,
    );
    expect(back).toEqual({
      count: 240,
      capped: false,
      first: at("2027-10-31T00:01:00+02:00"),
      kept: [at("2027-10-31T03:59:00+01:00"), at("2027-10-31T04:00:00+01:00")],
    });
    // Spring forward: the skipped hour's four slots become one, at 03:00 CEST.
    const forward = slotsBetween(
      cron("*/15 2 * * *", "Europe/Berlin"),
      at("2027-03-27T12:00:00Z"),
      at("2027-03-29T12:00:00Z"),
      5,
    );
    expect(forward).toEqual({
      count: 5,
      capped: false,
      first: at("2027-03-28T03:00:00+02:00"),
      kept: [
        at("2027-03-28T03:00:00+02:00"),
        at("2027-03-29T02:00:00+02:00"),
        at("2027-03-29T02:15:00+02:00"),
        at("2027-03-29T02:30:00+02:00"),
        at("2027-03-29T02:45:00+02:00"),
      ],
    });
    // 00:00 CET to 04:00 CEST: 119 minutes before the gap, one slot for it, 60 after.
    expect(
      slotsBetween(cron("* * * * *", "Europe/Berlin"), at("2027-03-28T00:00:00+01:00"), at("2027-03-28T04:00:00+02:00"), 0).count,
    ).toBe(180);
  });
});
