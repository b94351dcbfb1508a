/**
 * Time arithmetic for runtime schedules: a 5-field cron read in an IANA zone, or a fixed interval.
 * Crons read weekdays as standard cron does (Trigger.dev, QStash): 0 and 7 are Sunday, unlike the
 * Cron Trigger reading in next-run.ts; croner's L, W, # and names work, nicknames and seconds do not.
 * DST rule: croner matches wall-clock times only (at offset 0) and this module maps each to an
 * instant. A wall time that happens twice (fall back) runs at its first occurrence only; one in a
 * spring-forward gap runs at the gap's end, once however many gap times match. Croner's own zones do
 * that only for single-value crons (a step or list skips the gap and repeats the hour). So
 * `* * * * *` pauses for the repeated hour: use `everyMs` for a steady beat across DST. Offsets come
 * from Intl, cached per hour, assuming at most one offset change per hour and per two days.
 */
import { Cron, CronPattern } from "croner";

/** How often a schedule fires: a 5-field cron read in `timezone`, or a fixed interval in ms (>= 1000) aligned to `anchor` (startAt, or the Unix epoch). */
export type Cadence = { cron: string } | { everyMs: number };
export interface Timing {
  cadence: Cadence;
  /** IANA zone name; only a cron reads it. */
  timezone: string;
  /** Epoch ms; no slot before it (and for everyMs, slots are anchor + k*everyMs, anchor = startAt ?? 0). */
  startAt: number | null;
  /** Epoch ms; no slot after it. */
  endAt: number | null;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;
const UNITS = { ms: 1, s: 1_000, m: 60_000, h: HOUR } as const;
const N = "numeric";
const WALL_CLOCK = { hourCycle: "h23", year: N, month: N, day: N, hour: N, minute: N, second: N } as const;

/** A zone's formatter and its offsets per hour: at the hour's start and end, and the second it changes. */
type Zone = { format: Intl.DateTimeFormat; hours: Map<number, { start: number; end: number; change: number }> };
/** A parsed cron: croner finds the next matching day; `times` are that day's matching times (ms). */
type Compiled = { days: Cron; times: number[] };
const zones = new Map<string, Zone>();
const crons = new Map<string, Compiled>();

/** True when workerd/Node Intl knows the zone (e.g. "Europe/Berlin", "UTC", or an alias Intl accepts such as "US/Eastern"); false for "Mars/Base", "", "+01:00". */
export function isTimeZone(name: string): boolean {
  // Intl also takes offsets ("+01:00"), which have no DST rules: only IANA-shaped names pass.
  if (name.length > 64 || !/^[A-Za-z][\w+\-/]*$/.test(name)) return false;
  if (zones.has(name)) return true;
  try {
    if (zones.size > 1_000) zones.clear();
    zones.set(name, { format: new Intl.DateTimeFormat("en-US", { timeZone: name, ...WALL_CLOCK }), hours: new Map() });
    return true;
  } catch {
    return false;
  }
}

/** Throws an Error whose message names the problem and the fix, if `cron` is not a valid 5-field cron (no seconds field, no year field, no nicknames). */
export function assertCron(cron: string): void {
  compile(cron);
}

/** Parses "30s", "1500ms", "5m", "2h" into ms; throws naming the fix if below 1 s or malformed. */
export function parseEvery(text: string): number {
  // job.ts's parseInterval has no "h" and speaks of an "interval", so this is its own parser.
  const match = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`every "${text}" must be a whole number and a unit, like 30s, 1500ms, 5m or 2h`);
  const ms = Number(match[1]) * UNITS[match[2] as keyof typeof UNITS];
  if (ms < 1_000) throw new Error(`every "${text}" is below the 1 s minimum: use 1s or more`);
  if (!Number.isSafeInteger(ms)) throw new Error(`every "${text}" is too long: use at most a few years`);
  return ms;
}

/** Up to `count` slots strictly after `after`, ascending, within [startAt, endAt]. */
export function nextSlots(timing: Timing, after: number, count: number): number[] {
  const slots: number[] = [];
  if (count > 0) eachSlot(timing, after, Number.POSITIVE_INFINITY, (slot) => slots.push(slot) < count);
  return slots;
}

/** The next slot strictly after `after`, or null when none (endAt passed / cron never fires). */
export function nextSlot(timing: Timing, after: number): number | null {
  return nextSlots(timing, after, 1)[0] ?? null;
}

/**
 * The slots in (from, to] (missed-run handling after downtime): how many there are (count, counting stops at `countLimit`, default 100_000, then `capped: true`),
 * the first of them (or null), and the newest `keep` of them ascending.
 */
export function slotsBetween(
  timing: Timing,
  from: number,
  to: number,
  keep: number,
  countLimit = 100_000,
): { count: number; capped: boolean; first: number | null; kept: number[] } {
  if (!Number.isFinite(from) || !Number.isFinite(to))
    throw new Error(`slotsBetween needs finite from and to, not ${from} and ${to}`);
  const { cadence } = timing;
  if ("everyMs" in cadence) {
    // Slots are anchor + k*everyMs: count them with arithmetic, however long the gap.
    const [lo, hi] = everyRange(timing, cadence.everyMs, from, to);
    const total = Math.max(0, hi - lo + 1);
    const slot = (k: number) => (timing.startAt ?? 0) + k * cadence.everyMs;
    const kept: number[] = [];
    for (let k = Math.max(lo, hi - keep + 1); k <= hi; k++) kept.push(slot(k));
    return { count: Math.min(total, countLimit), capped: total > countLimit, first: total > 0 ? slot(lo) : null, kept };
  }
  const counted = collect(timing, from, to, keep, countLimit + 1);
  const capped = counted.count > countLimit;
  // Counting stopped early, so the newest slots are found by looking back from `to`, 4x further each time.
  let kept = capped ? [] : counted.kept;
  for (let span = HOUR, lo = to; capped && lo > from && kept.length < keep; span *= 4) {
    lo = Math.max(from, to - span);
    kept = collect(timing, lo, to, keep, Number.POSITIVE_INFINITY).kept;
  }
  return { count: Math.min(counted.count, countLimit), capped, first: counted.first, kept };
}

/** Walks the cron slots in (from, to], `limit` of them at most: their count, the first and the newest `keep`. */
function collect(timing: Timing, from: number, to: number, keep: number, limit: number) {
  let [count, first, kept] = [0, null as number | null, [] as number[]];
  eachSlot(timing, from, to, (slot) => {
    [count, first] = [count + 1, first ?? slot];
    if (keep > 0 && kept.push(slot) > 2 * keep) kept = kept.slice(-keep);
    return count < limit;
  });
  return { count, first, kept: keep > 0 ? kept.slice(-keep) : [] };
}

/** The range [lo, hi] of k with anchor + k*everyMs in (after, to] and within [startAt, endAt]. */
function everyRange({ startAt, endAt }: Timing, everyMs: number, after: number, to: number): [number, number] {
  if (!Number.isSafeInteger(everyMs) || everyMs < 1_000)
    throw new Error(`everyMs ${everyMs} must be a whole number of ms, 1000 or more: parse "30s" with parseEvery`);
  const lo = Math.floor((after - (startAt ?? 0)) / everyMs) + 1;
  return [startAt === null ? lo : Math.max(lo, 0), Math.floor((Math.min(to, endAt ?? to) - (startAt ?? 0)) / everyMs)];
}

/** Calls `visit` with each slot in (after, to], ascending, within [startAt, endAt], until it answers false. */
function eachSlot(timing: Timing, after: number, to: number, visit: (slot: number) => boolean): void {
  const { cadence, startAt } = timing;
  const end = Math.min(to, timing.endAt ?? to);
  if ("everyMs" in cadence) {
    const [lo, hi] = everyRange(timing, cadence.everyMs, after, end);
    for (let k = lo; k <= hi; k++) if (!visit((startAt ?? 0) + k * cadence.everyMs)) return;
    return;
  }
  const { days, times } = compile(cadence.cron);
  if (!isTimeZone(timing.timezone))
    throw new Error(
      `timezone "${timing.timezone}" is not an IANA zone this runtime knows: use a name like "Europe/Berlin" or "UTC"`,
    );
  const tz = zones.get(timing.timezone) as Zone;
  let last = startAt === null ? after : Math.max(after, startAt - 1);
  // Wall times up to `last`'s own map to instants up to `last`, so the walk starts there.
  for (let cursor = last + offsetAt(tz, last); ; ) {
    const match = days.nextRun(new Date(cursor))?.getTime();
    if (match === undefined) return;
    const day = match - (((match % DAY) + DAY) % DAY);
    for (const time of times) {
      const slot = day + time < match ? last : instantOf(tz, day + time);
      if (slot > end) return;
      // Wall times in one gap all map to its end: `slot > last` makes them one slot.
      if (slot > last && slot >= (startAt ?? slot)) {
        last = slot;
        if (!visit(slot)) return;
      }
    }
    cursor = day + DAY - 1_000;
  }
}

/** The instant of wall time `wall` (ms at offset 0): its first occurrence, or the end of the gap it falls in. */
function instantOf(tz: Zone, wall: number): number {
  const before = offsetAt(tz, wall - DAY);
  const after = offsetAt(tz, wall + DAY);
  if (before === after) return wall - before;
  const [early, late] = [wall - Math.max(before, after), wall - Math.min(before, after)];
  if (offsetAt(tz, early) === wall - early) return early;
  if (offsetAt(tz, late) === wall - late) return late;
  return firstChange(early, late, (at) => offsetAt(tz, at));
}

/** The zone's UTC offset (ms) at instant `at`, from Intl through a per-hour cache. */
function offsetAt(tz: Zone, at: number): number {
  const hour = Math.floor(at / HOUR);
  let entry = tz.hours.get(hour);
  if (entry === undefined) {
    const [start, end] = [rawOffset(tz, hour * HOUR), rawOffset(tz, (hour + 1) * HOUR)];
    const change =
      start === end ? Number.POSITIVE_INFINITY : firstChange(hour * HOUR, (hour + 1) * HOUR, (at) => rawOffset(tz, at));
    entry = { start, end, change };
    if (tz.hours.size > 20_000) tz.hours.clear();
    tz.hours.set(hour, entry);
  }
  return at < entry.change ? entry.start : entry.end;
}

/** The first whole second in (lo, hi] whose offset differs from lo's, by bisection. */
function firstChange(lo: number, hi: number, offset: (at: number) => number): number {
  const initial = offset(lo);
  while (hi - lo > 1_000) {
    const mid = lo + Math.floor((hi - lo) / 2_000) * 1_000;
    if (offset(mid) === initial) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The zone's UTC offset (ms) at instant `at`, straight from Intl. */
function rawOffset(tz: Zone, at: number): number {
  const second = at - (((at % 1_000) + 1_000) % 1_000);
  const part: Record<string, number> = {};
  for (const { type, value } of tz.format.formatToParts(second)) part[type] = Number(value);
  return Date.UTC(part.year ?? 0, (part.month ?? 1) - 1, part.day, part.hour, part.minute, part.second) - second;
}

function compile(cron: string): Compiled {
  const known = crons.get(cron);
  if (known !== undefined) return known;
  if (cron.trim().split(/\s+/).length !== 5) {
    throw new Error(
      `cron "${cron}" must have five fields (minute hour day-of-month month day-of-week), e.g. "0 9 * * 1-5"; seconds, years and nicknames such as @daily are not accepted`,
    );
  }
  let pattern: CronPattern;
  try {
    pattern = new CronPattern(cron, undefined, { mode: "5-part" });
  } catch (error) {
    throw new Error(
      `cron "${cron}" is not valid (${(error as Error).message}): fix that field (minutes 0-59, hours 0-23, weekday 0-7, 0 and 7 for Sunday)`,
    );
  }
  // With five fields, whether a day matches never depends on the time of day: one list of times serves every day.
  const times: number[] = [];
  for (let h = 0; h < 24; h++)
    for (let m = 0; m < 60; m++) if (pattern.hour[h] && pattern.minute[m]) times.push(h * HOUR + m * 60_000);
  const compiled = { days: new Cron(cron, { utcOffset: 0, mode: "5-part" }), times };
  if (crons.size > 1_000) crons.clear();
  crons.set(cron, compiled);
  return compiled;
}

/** The timing of a schedule's fields: its `cron` (read in `timezone`) or its `every`, within `startAt`..`endAt`. */
export function timingOf(spec: {
  cron: string | null;
  every: string | null;
  timezone: string;
  startAt: number | null;
  endAt: number | null;
}): Timing {
  const cadence = spec.cron !== null ? { cron: spec.cron } : { everyMs: parseEvery(spec.every ?? "") };
  return { cadence, timezone: spec.timezone, startAt: spec.startAt, endAt: spec.endAt };
}
