/**
 * The wake-up table: everything a topic object wants its one alarm for, one row per kind in the
 * `schedules` table (named so by migration 2): `stale` (the freshness deadline), `tick` (the next
 * slot of a sub-minute job), `flush` (the next batch of a topic that publishes faster than BATCH) and
 * `keepalive` (the comment every open Server-Sent Events stream gets every KEEPALIVE_MS).
 */
import type { TickData } from "./rpc";

export interface StaleData {
  /** When the run after the last one was due. */
  nextExpectedAt: number;
  /** The last run's slot. */
  lastScheduledTime: number;
}

export type Wakeup =
  | { kind: "stale"; at: number; data: StaleData }
  | { kind: "tick"; at: number; data: TickData }
  | { kind: "flush"; at: number; data: Record<string, never> }
  | { kind: "keepalive"; at: number; data: Record<string, never> };

type Row = { kind: string; at: number; data: string };

export function setWakeup(sql: SqlStorage, wakeup: Wakeup): void {
  sql.exec(
    "INSERT INTO schedules (kind, at, data) VALUES (?, ?, ?) ON CONFLICT (kind) DO UPDATE SET at = excluded.at, data = excluded.data",
    wakeup.kind,
    wakeup.at,
    JSON.stringify(wakeup.data),
  );
}

export function clearWakeup(sql: SqlStorage, kind: Wakeup["kind"]): void {
  sql.exec("DELETE FROM schedules WHERE kind = ?", kind);
}

function parse(row: Row): Wakeup {
  return { kind: row.kind, at: row.at, data: JSON.parse(row.data) } as Wakeup;
}

export function getWakeup<K extends Wakeup["kind"]>(sql: SqlStorage, kind: K): Extract<Wakeup, { kind: K }> | null {
  const row = sql.exec<Row>("SELECT kind, at, data FROM schedules WHERE kind = ?", kind).toArray()[0];
  return row ? (parse(row) as Extract<Wakeup, { kind: K }>) : null;
}

/** Sets a wake-up unless one of its kind is set already; true when it set it (the alarm may have to move). */
export function setWakeupIfAbsent(sql: SqlStorage, wakeup: Wakeup): boolean {
  if (getWakeup(sql, wakeup.kind) !== null) return false;
  setWakeup(sql, wakeup);
  return true;
}

/** Wake-ups whose time has come, earliest first. */
export function dueWakeups(sql: SqlStorage, now: number): Wakeup[] {
  return sql.exec<Row>("SELECT kind, at, data FROM schedules WHERE at <= ? ORDER BY at", now).toArray().map(parse);
}

/**
 * Makes sure the object's one alarm fires no later than its earliest wake-up, or clears it when
 * there is none. An alarm already set earlier stays: it fires, finds nothing due and moves itself
 * on (`alarm()` re-arms), so a freshness deadline that moves later with every publish costs no
 * alarm write per publish — one every (grace / period + 1) publishes instead.
 */
export async function armAlarm(storage: DurableObjectStorage): Promise<void> {
  const at = earliestWakeup(storage.sql);
  if (at === null) {
    await storage.deleteAlarm();
    return;
  }
  const current = await storage.getAlarm();
  if (current === null || current > at) await storage.setAlarm(at);
}

/** After the alarm fired: points it exactly at the earliest wake-up (an early alarm moves on). */
export async function rearmAlarm(storage: DurableObjectStorage): Promise<void> {
  const at = earliestWakeup(storage.sql);
  if (at === null) await storage.deleteAlarm();
  else await storage.setAlarm(at);
}

function earliestWakeup(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM schedules").one().at;
}
