/**
 * A Scheduler shard's tables and every statement on them: `runtime_schedules` (one row per
 * schedule: its spec, revision and next slot), `pending_runs` and `pending_skips` (slots the alarm
 * has taken but not yet handed over: a restart finds them and hands them over again; the topic's
 * runId dedupe makes that harmless) and `topic_claims` (the schedule-owned topics hashing here).
 */
import type { Schedule, ScheduleState } from "../client/schedule";
import { nextSlots, timingOf } from "../cron/local-time";
import type { ScheduledRun, ScheduleSpec, SkippedRuns, TopicClaim } from "./scheduler-rpc";

export const SCHEDULER_MIGRATIONS: readonly string[] = [
  `CREATE TABLE runtime_schedules (
     id TEXT PRIMARY KEY,
     spec TEXT NOT NULL,
     revision INTEGER NOT NULL,
     next_at INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX runtime_schedules_by_next ON runtime_schedules (next_at);
   CREATE TABLE pending_runs (run_id TEXT PRIMARY KEY, schedule_id TEXT NOT NULL, run TEXT NOT NULL, tries INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE pending_skips (run_id TEXT PRIMARY KEY, topic TEXT NOT NULL, skipped TEXT NOT NULL);
   CREATE TABLE topic_claims (topic TEXT PRIMARY KEY, schedule_id TEXT NOT NULL, info TEXT NOT NULL);`,
];

export interface ScheduleRow {
  id: string;
  spec: ScheduleSpec;
  revision: number;
  nextAt: number | null;
  createdAt: number;
  updatedAt: number;
}

type RawRow = { id: string; spec: string; revision: number; next_at: number | null; created_at: number; updated_at: number };

const COLUMNS = "id, spec, revision, next_at, created_at, updated_at";

function parseRow(row: RawRow): ScheduleRow {
  return {
    id: row.id,
    spec: JSON.parse(row.spec) as ScheduleSpec,
    revision: row.revision,
    nextAt: row.next_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function getSchedule(sql: SqlStorage, id: string): ScheduleRow | null {
  const row = sql.exec<RawRow>(`SELECT ${COLUMNS} FROM runtime_schedules WHERE id = ?`, id).toArray()[0];
  return row ? parseRow(row) : null;
}

/** Writes `spec` as schedule `id`'s next revision, due first at `nextAt`; its pending runs stay (they are slots already taken). */
export function saveSchedule(sql: SqlStorage, id: string, spec: ScheduleSpec, nextAt: number | null, now: number): ScheduleRow {
  sql.exec(
    `INSERT INTO runtime_schedules (id, spec, revision, next_at, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, revision = revision + 1, next_at = excluded.next_at, updated_at = excluded.updated_at`,
    id,
    JSON.stringify(spec),
    nextAt,
    now,
    now,
  );
  return getSchedule(sql, id) as ScheduleRow;
}

export function deleteSchedule(sql: SqlStorage, id: string): void {
  sql.exec("DELETE FROM runtime_schedules WHERE id = ?", id);
  dropPendingRuns(sql, id);
}

/** Forgets the slots of schedule `id` taken but not yet handed over. */
export function dropPendingRuns(sql: SqlStorage, id: string): void {
  sql.exec("DELETE FROM pending_runs WHERE schedule_id = ?", id);
}

export function setNextAt(sql: SqlStorage, id: string, nextAt: number | null): void {
  sql.exec("UPDATE runtime_schedules SET next_at = ? WHERE id = ?", nextAt, id);
}

/** Schedules with `id > after`, in id order, at most `limit`, of `job` when given. */
export function listSchedules(sql: SqlStorage, job: string | null, after: string | null, limit: number): ScheduleRow[] {
  const rows = sql
    .exec<RawRow>(
      `SELECT ${COLUMNS} FROM runtime_schedules WHERE id > ? AND (? IS NULL OR json_extract(spec, '$.job') = ?) ORDER BY id LIMIT ?`,
      after ?? "",
      job,
      job,
      limit,
    )
    .toArray();
  return rows.map(parseRow);
}

export function countByJob(sql: SqlStorage): Record<string, number> {
  const rows = sql
    .exec<{ job: string; n: number }>(
      "SELECT json_extract(spec, '$.job') AS job, COUNT(*) AS n FROM runtime_schedules GROUP BY job",
    )
    .toArray();
  return Object.fromEntries(rows.map((row) => [row.job, row.n]));
}

export function countSchedules(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM runtime_schedules").one().n;
}

/** Enabled schedules whose next slot is at or before `now`. */
export function dueSchedules(sql: SqlStorage, now: number): ScheduleRow[] {
  return sql
    .exec<RawRow>(`SELECT ${COLUMNS} FROM runtime_schedules WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at`, now)
    .toArray()
    .map(parseRow);
}

/** The earliest next slot of any schedule, or null. */
export function earliestNextAt(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM runtime_schedules").one().at;
}

export function addPendingRun(sql: SqlStorage, run: ScheduledRun): void {
  sql.exec(
    "INSERT OR IGNORE INTO pending_runs (run_id, schedule_id, run) VALUES (?, ?, ?)",
    run.runId,
    run.scheduleId,
    JSON.stringify(run),
  );
}

export function pendingRuns(sql: SqlStorage): { run: ScheduledRun; tries: number }[] {
  return sql
    .exec<{ run: string; tries: number }>("SELECT run, tries FROM pending_runs ORDER BY rowid")
    .toArray()
    .map((row) => ({ run: JSON.parse(row.run) as ScheduledRun, tries: row.tries }));
}

/** Which of `runIds` are still pending (a pause or delete drops a schedule's pending runs). */
export function stillPending(sql: SqlStorage, runIds: readonly string[]): Set<string> {
  const rows = sql.exec<{ run_id: string }>(
    "SELECT run_id FROM pending_runs WHERE run_id IN (SELECT value FROM json_each(?))",
    JSON.stringify(runIds),
  );
  return new Set(rows.toArray().map((row) => row.run_id));
}

/** Deletes the pending runs `runIds` (handed over, or given up), in one statement. */
export function finishPendingRuns(sql: SqlStorage, runIds: readonly string[]): void {
  sql.exec("DELETE FROM pending_runs WHERE run_id IN (SELECT value FROM json_each(?))", JSON.stringify(runIds));
}

/** Counts one more failed hand-over of the pending runs `runIds`. */
export function retryPendingRuns(sql: SqlStorage, runIds: readonly string[]): void {
  sql.exec("UPDATE pending_runs SET tries = tries + 1 WHERE run_id IN (SELECT value FROM json_each(?))", JSON.stringify(runIds));
}

export function addPendingSkip(sql: SqlStorage, topic: string, skipped: SkippedRuns): void {
  sql.exec(
    "INSERT OR IGNORE INTO pending_skips (run_id, topic, skipped) VALUES (?, ?, ?)",
    skipped.runId,
    topic,
    JSON.stringify(skipped),
  );
}

export function pendingSkips(sql: SqlStorage): { topic: string; skipped: SkippedRuns }[] {
  return sql
    .exec<{ topic: string; skipped: string }>("SELECT topic, skipped FROM pending_skips ORDER BY rowid")
    .toArray()
    .map((row) => ({ topic: row.topic, skipped: JSON.parse(row.skipped) as SkippedRuns }));
}

export function finishPendingSkip(sql: SqlStorage, runId: string): void {
  sql.exec("DELETE FROM pending_skips WHERE run_id = ?", runId);
}

export function hasPending(sql: SqlStorage): boolean {
  return (
    sql.exec<{ n: number }>("SELECT (SELECT COUNT(*) FROM pending_runs) + (SELECT COUNT(*) FROM pending_skips) AS n").one().n > 0
  );
}

export function getClaim(sql: SqlStorage, topic: string): TopicClaim | null {
  const row = sql.exec<{ info: string }>("SELECT info FROM topic_claims WHERE topic = ?", topic).toArray()[0];
  return row ? (JSON.parse(row.info) as TopicClaim) : null;
}

/** Claims (or updates the claim of) `claim.topic` for its schedule; a topic another schedule holds returns that schedule's id. */
export function putClaim(sql: SqlStorage, claim: TopicClaim): string | null {
  const current = getClaim(sql, claim.topic);
  if (current !== null && current.scheduleId !== claim.scheduleId) return current.scheduleId;
  sql.exec(
    "INSERT INTO topic_claims (topic, schedule_id, info) VALUES (?, ?, ?) ON CONFLICT (topic) DO UPDATE SET info = excluded.info",
    claim.topic,
    claim.scheduleId,
    JSON.stringify(claim),
  );
  return null;
}

export function dropClaim(sql: SqlStorage, topic: string, scheduleId: string): void {
  sql.exec("DELETE FROM topic_claims WHERE topic = ? AND schedule_id = ?", topic, scheduleId);
}

export function listClaims(sql: SqlStorage): TopicClaim[] {
  return sql
    .exec<{ info: string }>("SELECT info FROM topic_claims ORDER BY topic")
    .toArray()
    .map((row) => JSON.parse(row.info) as TopicClaim);
}

/** How long `every` and `cron` read in the API: the text `GET /topics` shows as the topic's schedule. */
export function scheduleText(spec: ScheduleSpec): string {
  return spec.cron !== null ? `${spec.cron} (${spec.timezone})` : `every ${spec.every}`;
}

/** A row as the API answers it, with its state and next slots. */
export function scheduleView(row: ScheduleRow): Schedule {
  const { spec } = row;
  const state: ScheduleState = !spec.enabled ? "paused" : row.nextAt === null ? "ended" : "active";
  const nextRuns = state === "active" ? nextSlots(timingOf(spec), (row.nextAt ?? 0) - 1, 5) : [];
  return {
    id: row.id,
    ...spec,
    whileWatched: spec.whileWatched ?? false,
    state,
    revision: row.revision,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    nextRunAt: state === "active" ? row.nextAt : null,
    nextRuns,
  };
}
