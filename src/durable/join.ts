/** The frames a new subscriber gets, computed from storage in one synchronous step (no publish can interleave). */
import { encodeFrame, type TopicState } from "../client/protocol";

export interface JoinRequest {
  topic: string;
  /** `seq` is the join point: the last seq broadcast (a pending batch's frames reach the socket with the batch). */
  state: { seq: number; epoch: string; status: TopicState; detail: string };
  /** The last seq the client saw, or null for a fresh join. */
  since: number | null;
  epoch: string | null;
}

/** hello, the latest metric (or on resume every kept metric after `since`, or a reset), then a non-ok status. */
export function joinFrames(sql: SqlStorage, { topic, state, since, epoch }: JoinRequest): string[] {
  const hello = { type: "hello", topic, seq: state.seq, epoch: state.epoch, serverTime: Date.now() } as const;
  const latest = sql
    .exec<{ frame: string }>("SELECT frame FROM messages WHERE seq <= ? ORDER BY seq DESC LIMIT 1", state.seq)
    .toArray()
    .map((row) => row.frame);
  const status = state.status === "ok" ? [] : [encodeFrame({ type: "status", topic, state: state.status, detail: state.detail })];
  if (since === null) return [encodeFrame(hello), ...latest, ...status];
  const oldest = sql.exec<{ seq: number | null }>("SELECT MIN(seq) AS seq FROM messages").one().seq;
  const recovered =
    epoch === state.epoch && since <= state.seq && (since === state.seq || (oldest !== null && since >= oldest - 1));
  if (!recovered) {
    return [
      encodeFrame({ ...hello, recovered: false }),
      encodeFrame({ type: "reset", topic, seq: state.seq }),
      ...latest,
      ...status,
    ];
  }
  const missed = sql
    .exec<{ frame: string }>("SELECT frame FROM messages WHERE seq > ? AND seq <= ? ORDER BY seq", since, state.seq)
    .toArray();
  return [encodeFrame({ ...hello, recovered: true }), ...missed.map((row) => row.frame), ...status];
}
