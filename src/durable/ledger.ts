/** A topic's run ledger and counters in its SQLite: bounded rows per job, monotonic counters for /metrics. */
import type { RunRecord, RunStatus } from "../client/protocol";
import type { Counter, PublishInput, RunFacts } from "./rpc";
import type { SkippedRuns } from "./scheduler-rpc";

/** Rows kept per job; older runs are deleted as new ones arrive. */
export const LEDGER_LIMIT = 200;

interface RunRow extends Record<string, SqlStorageValue> {
  run_id: string;
  job: string;
  status: RunStatus;
  scheduled_time: number;
  started_at: number;
  lag_ms: number;
  duration_ms: number;
  attempts: number;
  seq: number | null;
  error: string | null;
}

export function addCounter(sql: SqlStorage, name: Counter, by = 1): void {
  sql.exec(
    "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
    name,
    by,
  );
}

export function readCounters(sql: SqlStorage): Record<Counter, number> {
  const counters: Record<string, number> = {};
  for (const row of sql.exec<{ name: string; value: number }>("SELECT name, value FROM counters")) counters[row.name] = row.value;
  const read = (name: Counter) => counters[name] ?? 0;
  return {
    published: read("published"),
    duplicates: read("duplicates"),
    runs_ok: read("runs_ok"),
    runs_failed: read("runs_failed"),
    runs_duplicate: read("runs_duplicate"),
    runs_skipped: read("runs_skipped"),
    runs_rested: read("runs_rested"),
    run_duration_ms_sum: read("run_duration_ms_sum"),
  };
}

/** Appends a run, counts it, and keeps only the newest LEDGER_LIMIT rows of its job. */
export function recordRun(sql: SqlStorage, run: RunRecord): void {
  sql.exec(
    `INSERT INTO runs (run_id, job, status, scheduled_time, started_at, lag_ms, duration_ms, attempts, seq, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    run.runId,
    run.job,
    run.status,
    run.scheduledTime,
    run.startedAt,
    run.lagMs,
    run.durationMs,
    run.attempts,
    run.seq,
    run.error,
  );
  sql.exec(
    "DELETE FROM runs WHERE job = ? AND id <= (SELECT id FROM runs WHERE job = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
    run.job,
    run.job,
    LEDGER_LIMIT,
  );
  addCounter(sql, `runs_${run.status}`);
  if (run.status === "ok" || run.status === "failed") addCounter(sql, "run_duration_ms_sum", run.durationMs);
}

/** The newest runs first. */
export function listRuns(sql: SqlStorage, limit: number): RunRecord[] {
  return sql
    .exec<RunRow>(
      `SELECT run_id, job, status, scheduled_time, started_at, lag_ms, duration_ms, attempts, seq, error
       FROM runs ORDER BY id DESC LIMIT ?`,
      limit,
    )
    .toArray()
    .map((row) => ({
      runId: row.run_id,
      job: row.job,
      status: row.status,
      scheduledTime: row.scheduled_time,
      startedAt: row.started_at,
      lagMs: row.lag_ms,
      durationMs: row.duration_ms,
      attempts: row.attempts,
      seq: row.seq,
      error: row.error,
    }));
}

/** When the newest successful run started, or null. */
export function lastSuccessAt(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>("SELECT MAX(started_at) AS at FROM runs WHERE status = 'ok'").one().at;
}

/** Records a job's run as reported with a publish or a failure. */
export function recordJobRun(
  sql: SqlStorage,
  input: { job: string; scheduledTime?: number; run?: RunFacts },
  runId: string,
  status: "ok" | "duplicate" | "failed",
  seq: number | null,
  error: string | null,
): void {
  const run = input.run as RunFacts;
  const scheduledTime = input.scheduledTime ?? run.startedAt;
  recordRun(sql, { runId, job: input.job, status, scheduledTime, ...run, lagMs: run.startedAt - scheduledTime, seq, error });
}

/** Records the run behind a job's publish; a publish without `run` (HTTP) is no run and records nothing. */
export function recordPublishedRun(
  sql: SqlStorage,
  input: PublishInput,
  topic: string,
  status: "ok" | "duplicate",
  seq: number,
): void {
  if (input.run === undefined || input.runId === undefined) return;
  recordJobRun(sql, { ...input, job: input.job ?? topic }, input.runId, status, seq, null);
}

/** Records the slots a runtime schedule passed over, once per runId (a Scheduler may hand a skip over twice). */
export function recordSkippedRuns(sql: SqlStorage, skipped: SkippedRuns, now: number): void {
  if (sql.exec("SELECT 1 FROM runs WHERE run_id = ? AND status = 'skipped'", skipped.runId).toArray().length > 0) return;
  recordRun(sql, {
    runId: skipped.runId,
    job: skipped.job,
    status: "skipped",
    scheduledTime: skipped.firstSlot,
    startedAt: now,
    lagMs: now - skipped.firstSlot,
    durationMs: 0,
    attempts: 0,
    seq: null,
    error: skipped.reason,
  });
}

/** Whether slot `runId` was recorded as rested (the newest slot of a rest row). */
export function hasRested(sql: SqlStorage, runId: string): boolean {
  return sql.exec("SELECT 1 FROM runs WHERE run_id = ? AND status = 'rested'", runId).toArray().length > 0;
}

/**
 * Records a slot that a job running only while watched rested through: when the job's newest row
 * is a rest already, it counts one slot more (`attempts`) and takes this slot's runId; else a new
 * `rested` row starts. A repeated firing of the same slot counts once.
 */
export function recordRested(sql: SqlStorage, run: { runId: string; job: string; scheduledTime: number }, now: number): void {
  if (sql.exec("SELECT 1 FROM runs WHERE run_id = ?", run.runId).toArray().length > 0) return;
  const last = sql
    .exec<{ id: number; status: string; scheduled_time: number }>(
      "SELECT id, status, scheduled_time FROM runs WHERE job = ? ORDER BY id DESC LIMIT 1",
      run.job,
    )
    .toArray()[0];
  if (last?.status === "rested") {
    sql.exec("UPDATE runs SET attempts = attempts + 1, run_id = ? WHERE id = ?", run.runId, last.id);
    addCounter(sql, "runs_rested");
    return;
  }
  recordRun(sql, {
    runId: run.runId,
    job: run.job,
    status: "rested",
    scheduledTime: run.scheduledTime,
    startedAt: now,
    lagMs: now - run.scheduledTime,
    durationMs: 0,
    attempts: 1,
    seq: null,
    error: restedText(run.scheduledTime),
  });
}

function restedText(from: number): string {
  return `Rested from ${new Date(from).toISOString()}: nobody was watching (attempts counts the slots).`;
}

/** Records the slots a late alarm passed over, as one `skipped` row named after the first of them. */
export function recordSkipped(sql: SqlStorage, job: string, firstSlot: number, missed: number, now: number): void {
  recordRun(sql, {
    runId: `${job}@${firstSlot}`,
    job,
    status: "skipped",
    scheduledTime: firstSlot,
    startedAt: now,
    lagMs: now - firstSlot,
    durationMs: 0,
    attempts: 0,
    seq: null,
    error: `The alarm ran ${now - firstSlot} ms late; ${missed} slot${missed === 1 ? "" : "s"} skipped.`,
  });
}
