/**
 * A topic's own tables in its SQLite, and every statement on them: `topic_state` (its one row:
 * epoch, seq, the last seq broadcast, status), `messages` (the bounded history, as serialized
 * frames) and `dedupe` (the runIds and publish ids it has published, bounded).
 */
import type { TopicState } from "../client/protocol";

export interface StateRow extends Record<string, SqlStorageValue> {
  epoch: string;
  seq: number;
  /** The last seq broadcast; behind `seq` while a batch is pending. */
  sent: number;
  updated_at: number | null;
  status: TopicState;
  detail: string;
}

/** Dedupe keys of the last this-many publishes are kept; older runIds and ids may publish again. */
export const DEDUPE_LIMIT = 10_000;

/** The one state row, created with a fresh epoch the first time this topic's storage is used. */
export function readState(sql: SqlStorage): StateRow {
  const row = sql
    .exec<StateRow>("SELECT epoch, seq, sent, updated_at, status, detail FROM topic_state WHERE id = 1")
    .toArray()[0];
  if (row) return row;
  const fresh: StateRow = { epoch: crypto.randomUUID(), seq: 0, sent: 0, updated_at: null, status: "ok", detail: "" };
  sql.exec("INSERT INTO topic_state (id, epoch, seq) VALUES (1, ?, 0)", fresh.epoch);
  return fresh;
}

/** Records a new latest seq, published at `updatedAt`, and the last seq broadcast. */
export function writeSeq(sql: SqlStorage, seq: number, sent: number, updatedAt: number): void {
  sql.exec("UPDATE topic_state SET seq = ?, sent = ?, updated_at = ? WHERE id = 1", seq, sent, updatedAt);
}

export function writeSent(sql: SqlStorage, sent: number): void {
  sql.exec("UPDATE topic_state SET sent = ? WHERE id = 1", sent);
}

export function writeStatus(sql: SqlStorage, status: TopicState, detail: string): void {
  sql.exec("UPDATE topic_state SET status = ?, detail = ? WHERE id = 1", status, detail);
}

/** The dedupe key of a publish: job runs and HTTP ids live in separate namespaces, so they never collide. */
export function dedupeKey(input: { runId?: string; id?: string }): string | null {
  if (input.runId !== undefined) return runKey(input.runId);
  return input.id !== undefined ? `id:${input.id}` : null;
}

/** The dedupe key of a job run's publish. */
export function runKey(runId: string): string {
  return `run:${runId}`;
}

/** The seq a key was published as, or null when it is new (or so old it was forgotten). */
export function seenSeq(sql: SqlStorage, key: string): number | null {
  return sql.exec<{ seq: number }>("SELECT seq FROM dedupe WHERE key = ?", key).toArray()[0]?.seq ?? null;
}

/** Remembers the seq a key was published as; only the newest DEDUPE_LIMIT keys are kept. */
export function rememberKey(sql: SqlStorage, key: string, seq: number): void {
  sql.exec("INSERT INTO dedupe (key, seq) VALUES (?, ?)", key, seq);
  sql.exec("DELETE FROM dedupe WHERE rowid <= (SELECT MAX(rowid) FROM dedupe) - ?", DEDUPE_LIMIT);
}

/** Appends a frame to the history, which keeps only the newest `limit` seqs. */
export function appendFrame(sql: SqlStorage, seq: number, text: string, limit: number): void {
  sql.exec("INSERT INTO messages (seq, frame) VALUES (?, ?)", seq, text);
  sql.exec("DELETE FROM messages WHERE seq <= ?", seq - limit);
}

/** The newest kept frame (at or before `upTo` when given), or null. */
export function latestFrame(sql: SqlStorage, upTo?: number): string | null {
  const rows =
    upTo === undefined
      ? sql.exec<{ frame: string }>("SELECT frame FROM messages ORDER BY seq DESC LIMIT 1")
      : sql.exec<{ frame: string }>("SELECT frame FROM messages WHERE seq <= ? ORDER BY seq DESC LIMIT 1", upTo);
  return rows.toArray()[0]?.frame ?? null;
}

/** The oldest kept seq, or null when the history is empty. */
export function oldestSeq(sql: SqlStorage): number | null {
  return sql.exec<{ seq: number | null }>("SELECT MIN(seq) AS seq FROM messages").one().seq;
}

/** Kept frames with `seq > since`, oldest first (at most `limit` when given). */
export function framesAfter(sql: SqlStorage, since: number, limit?: number): string[] {
  const rows =
    limit === undefined
      ? sql.exec<{ frame: string }>("SELECT frame FROM messages WHERE seq > ? ORDER BY seq", since)
      : sql.exec<{ frame: string }>("SELECT frame FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", since, limit);
  return rows.toArray().map((row) => row.frame);
}

/** Kept frames with `since < seq <= to`, oldest first. */
export function framesBetween(sql: SqlStorage, since: number, to: number): string[] {
  return sql
    .exec<{ frame: string }>("SELECT frame FROM messages WHERE seq > ? AND seq <= ? ORDER BY seq", since, to)
    .toArray()
    .map((row) => row.frame);
}
