/**
 * The time inputs of the schedules API: a cron, an every and a timezone that the time arithmetic
 * accepts, dates inside what alarms can reach, slots that can be computed, and the preview query.
 * Every refusal is a 400 ApiError naming the field and the fix.
 */
import { z } from "zod";
import { assertCron, isTimeZone, nextSlot, parseEvery, type Timing, timingOf } from "../cron/local-time";
import { ApiError } from "./errors";
import { parseQuery, wholeQuery } from "./validate";

/** The latest time a schedule may name: 2100-01-01 (Durable Object alarms stop at 2189; schedules stay well inside). */
export const LATEST_TIME = Date.UTC(2100, 0, 1);
/** The longest `every`: a year. */
const MAX_EVERY_MS = 366 * 86_400_000;

/** The cadence and zone of a schedule (or a preview): a zone Intl knows, a valid cron, an every of 1 s to a year. */
export function checkTiming(spec: { cron: string | null; every: string | null; timezone: string }): void {
  if (!isTimeZone(spec.timezone)) {
    throw new ApiError(
      400,
      "bad_timezone",
      `Unknown time zone "${spec.timezone.slice(0, 64)}": use an IANA name such as "Europe/Berlin" or "UTC".`,
    );
  }
  if (spec.cron !== null) attempt("bad_cron", "cron", () => assertCron(spec.cron as string));
  if (spec.every !== null) {
    attempt("bad_every", "every", () => {
      if (parseEvery(spec.every as string) > MAX_EVERY_MS)
        throw new Error(`every "${spec.every}" is over a year: use 8784h at most`);
    });
  }
}

/** The timing's next slot after `now` must be computable; a time out of range is the caller's to fix. */
export function checkComputable(timing: Timing, now: number): void {
  try {
    nextSlot(timing, now);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ApiError(
      400,
      "bad_schedule",
      `This schedule's slots cannot be computed (${why}): check startAt, endAt and the cadence.`,
    );
  }
}

function attempt(code: string, field: string, check: () => unknown): void {
  try {
    check();
  } catch (error) {
    throw new ApiError(400, code, `Field "${field}": ${error instanceof Error ? error.message : String(error)}.`);
  }
}

const previewQuery = z.object({
  cron: z.string().max(200, "must be at most 200 characters").optional(),
  every: z.string().max(32, "must be at most 32 characters").optional(),
  timezone: z.string().max(64, "must be at most 64 characters").default("UTC"),
  after: wholeQuery.refine((n) => n <= LATEST_TIME, "must be before 2100-01-01").optional(),
  startAt: wholeQuery.refine((n) => n <= LATEST_TIME, "must be before 2100-01-01").optional(),
  endAt: wholeQuery.refine((n) => n <= LATEST_TIME, "must be before 2100-01-01").optional(),
  count: wholeQuery.refine((n) => n >= 1 && n <= 100, "must be from 1 to 100").default(5),
});

/** A preview query as the timing it describes, the time to start after, and how many slots. */
export function parsePreviewQuery(query: Record<string, string>, now: number): { timing: Timing; after: number; count: number } {
  const q = parseQuery(previewQuery, query);
  const spec = { cron: q.cron ?? null, every: q.every ?? null, timezone: q.timezone };
  if ((spec.cron === null) === (spec.every === null)) {
    throw new ApiError(400, "bad_schedule", 'Give exactly one of "cron" and "every" as a query parameter.');
  }
  checkTiming(spec);
  const timing = timingOf({ ...spec, startAt: q.startAt ?? null, endAt: q.endAt ?? null });
  const after = q.after ?? now;
  checkComputable(timing, after);
  return { timing, after, count: q.count };
}
