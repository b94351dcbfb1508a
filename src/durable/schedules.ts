/**
 * Everything a topic object wants to be woken for, in one SQLite table behind its one alarm:
 * `stale` (the freshness deadline), `tick` (the next slot of a sub-minute job) and `flush` (the
 * next batch of a topic that publishes faster than its BATCH rate).
 */

export interface StaleData {
  /** When the run after the last one was due. */
  nextExpectedAt: number;
  /** The last run's slot. */
  lastScheduledTime: number;
}

export interface TickData {
  job: string;
  everyMs: number;
  graceMs: number;
}

export type Schedule =
  | { kind: "stale"; at: number; data: StaleData }
  | { kind: "tick"; at: number; data: TickData }
  | { kind: "flush"; at: number; data: Record<string, never> };

export function setSchedule(sql: SqlStorage, schedule: Schedule): void {
  sql.exec(
    "INSERT INTO schedules (kind, at, data) VALUES (?, ?, ?) ON CONFLICT (kind) DO UPDATE SET at = excluded.at, data = excluded.data",
    schedule.kind,
    schedule.at,
    JSON.stringify(schedule.data),
  );
}

export function clearSchedule(sql: SqlStorage, kind: Schedule["kind"]): void {
  sql.exec("DELETE FROM schedules WHERE kind = ?", kind);
}

function parse(row: { kind: string; at: number; data: string }): Schedule {
  return { kind: row.kind, at: row.at, data: JSON.parse(row.data) } as Schedule;
}

export function getSchedule<K extends Schedule["kind"]>(sql: SqlStorage, kind: K): Extract<Schedule, { kind: K }> | null {
  const row = sql
    .exec<{ kind: string; at: number; data: string }>("SELECT kind, at, data FROM schedules WHERE kind = ?", kind)
    .toArray()[0];
  return row ? (parse(row) as Extract<Schedule, { kind: K }>) : null;
}

/** Schedules whose time has come, earliest first. */
export function dueSchedules(sql: SqlStorage, now: number): Schedule[] {
  return sql
    .exec<{ kind: string; at: number; data: string }>("SELECT kind, at, data FROM schedules WHERE at <= ? ORDER BY at", now)
    .toArray()
    .map(parse);
}

/** The time the alarm should be set for, or null when nothing is scheduled. */
export function earliestSchedule(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM schedules").one().at;
}
