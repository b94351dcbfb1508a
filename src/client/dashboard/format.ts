/** Text for times, durations and values on the dashboard: pure, so every card words things alike. */
import type { Json } from "../protocol";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
// 24-hour clocks: "14:05:09" is short enough for a chart's axis, where "02:05:09 PM" collides.
const clockFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});
const minuteFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** A span of time, coarser as it grows: "42 s", "3 min 5 s", "2 h 10 min", "3 d". */
export function formatSpan(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < MINUTE) return `${Math.floor(abs / SECOND)} s`;
  if (abs < HOUR) {
    const seconds = Math.floor((abs % MINUTE) / SECOND);
    return seconds === 0 ? `${Math.floor(abs / MINUTE)} min` : `${Math.floor(abs / MINUTE)} min ${seconds} s`;
  }
  if (abs < DAY) return `${Math.floor(abs / HOUR)} h ${Math.floor((abs % HOUR) / MINUTE)} min`;
  return `${Math.floor(abs / DAY)} d`;
}

/** How long ago `ts` was: "just now", "3 s ago", "2 min ago". */
export function formatAge(ts: number, now: number): string {
  const ago = now - ts;
  if (ago < SECOND) return "just now";
  return `${formatSpan(ago)} ago`;
}

/** How long past its due time a run may take to arrive (delivery, a busy alarm) before a countdown says so. */
export const DUE_GRACE_MS = 5_000;

/**
 * Until a next run at `ts`: "in 42 s", then "due now" for DUE_GRACE_MS, then "due 12 s ago". Only
 * a prediction that nothing newer replaced reaches the last: each run pushes the next one.
 */
export function formatNextRun(ts: number, now: number): string {
  const left = ts - now;
  if (left >= SECOND) return `in ${formatSpan(left)}`;
  if (left > -DUE_GRACE_MS) return "due now";
  return `due ${formatSpan(left)} ago`;
}

/** Whether a next run at `ts` is past its grace: what `formatNextRun` words as "due … ago". */
export function isPastDue(ts: number, now: number): boolean {
  return ts - now <= -DUE_GRACE_MS;
}

/** A run's duration or a latency: "4 ms", "1.5 s". */
export function formatDuration(ms: number): string {
  return ms < SECOND ? `${Math.round(ms)} ms` : `${numberFormat.format(ms / SECOND)} s`;
}

/** Wall-clock time of day, for timestamps that are recent. */
export function formatClock(ts: number): string {
  return clockFormat.format(ts);
}

/** A chart's time-axis label, as fine as the distance between ticks (`stepMs`) needs. */
export function formatTick(ts: number, stepMs: number): string {
  if (stepMs >= DAY) return dayFormat.format(ts);
  if (stepMs >= MINUTE) return minuteFormat.format(ts);
  if (stepMs >= SECOND) return clockFormat.format(ts);
  const ms = Math.round(ts) % MINUTE;
  return `:${String(Math.floor(ms / SECOND)).padStart(2, "0")}.${String(ms % SECOND).padStart(3, "0")}`;
}

/** A moment in local time: "14:05:09" today, "Nov 17, 14:05:09" on another day. */
export function formatLocal(ts: number, now = Date.now()): string {
  const sameDay = new Date(ts).toDateString() === new Date(now).toDateString();
  return sameDay ? clockFormat.format(ts) : `${dayFormat.format(ts)}, ${clockFormat.format(ts)}`;
}

const ISO_INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b/g;

/** `text` (a server's detail or error) with every ISO-8601 UTC instant in it rewritten as local time. */
export function localizeTimes(text: string, now = Date.now()): string {
  return text.replace(ISO_INSTANT, (iso) => {
    const ts = Date.parse(iso);
    return Number.isNaN(ts) ? iso : formatLocal(ts, now);
  });
}

/** Full date and time, for tooltips. */
export function formatDateTime(ts: number): string {
  return dateTimeFormat.format(ts);
}

export function formatNumber(value: number): string {
  return numberFormat.format(value);
}

/** `value` as JSON, cut to `max` characters with an ellipsis. */
export function formatJson(value: Json, { pretty = false, max = 600 } = {}): string {
  const text = JSON.stringify(value, null, pretty ? 2 : undefined) ?? "null";
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const zonedFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * `ts` as a clock in `timeZone` (IANA; undefined: the viewer's own), with the zone's short name:
 * "Fri, Dec 4, 09:00 EST". `seconds` for a schedule whose slots are seconds apart.
 */
export function formatInZone(ts: number, timeZone: string | undefined, { seconds = false } = {}): string {
  const key = `${timeZone ?? ""}|${seconds}`;
  let format = zonedFormats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(undefined, {
      weekday: "short",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      ...(seconds ? { second: "2-digit" } : {}),
      hourCycle: "h23",
      timeZoneName: "short",
      ...(timeZone === undefined ? {} : { timeZone }),
    });
    zonedFormats.set(key, format);
  }
  return format.format(ts);
}
