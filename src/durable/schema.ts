/**
 * The Topic object's SQLite schema (a Scheduler brings its own list), applied in order and recorded in `_schema_migrations`
 * (Durable Objects do not support `PRAGMA user_version`). Append new steps; never edit old ones.
 */
export const TOPIC_MIGRATIONS: readonly string[] = [
  `CREATE TABLE topic_state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     epoch TEXT NOT NULL,
     seq INTEGER NOT NULL,
     updated_at INTEGER,
     status TEXT NOT NULL DEFAULT 'ok',
     detail TEXT NOT NULL DEFAULT ''
   );
   CREATE TABLE messages (seq INTEGER PRIMARY KEY, frame TEXT NOT NULL);
   CREATE TABLE dedupe (key TEXT PRIMARY KEY, seq INTEGER NOT NULL);`,
  `CREATE TABLE runs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     run_id TEXT NOT NULL,
     job TEXT NOT NULL,
     status TEXT NOT NULL,
     scheduled_time INTEGER NOT NULL,
     started_at INTEGER NOT NULL,
     lag_ms INTEGER NOT NULL,
     duration_ms INTEGER NOT NULL,
     attempts INTEGER NOT NULL,
     seq INTEGER,
     error TEXT
   );
   CREATE INDEX runs_by_job ON runs (job, id);
   CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
   CREATE TABLE schedules (kind TEXT PRIMARY KEY, at INTEGER NOT NULL, data TEXT NOT NULL);`,
  // The last seq broadcast to subscribers (the join point); behind seq while a batch is pending.
  `ALTER TABLE topic_state ADD COLUMN sent INTEGER NOT NULL DEFAULT 0;
   UPDATE topic_state SET sent = seq;`,
];

/** Brings the object's database up to the newest schema. Synchronous, so it runs in the constructor. */
export function migrate(sql: SqlStorage, migrations: readonly string[] = TOPIC_MIGRATIONS): void {
  sql.exec("CREATE TABLE IF NOT EXISTS _schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const row = sql.exec<{ version: number | null }>("SELECT MAX(version) AS version FROM _schema_migrations").one();
  for (let version = (row.version ?? 0) + 1; version <= migrations.length; version++) {
    sql.exec(migrations[version - 1] as string);
    sql.exec("INSERT INTO _schema_migrations (version, applied_at) VALUES (?, ?)", version, Date.now());
  }
}
