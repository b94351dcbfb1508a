/** The frames a new subscriber gets, computed from storage in one synchronous step (no publish can interleave). */
import { encodeFrame, type TopicState } from "../client/protocol";
import { framesBetween, latestFrame, oldestSeq } from "./store";

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
  const frame = latestFrame(sql, state.seq);
  const latest = frame === null ? [] : [frame];
  const status = state.status === "ok" ? [] : [encodeFrame({ type: "status", topic, state: state.status, detail: state.detail })];
  if (since === null) return [encodeFrame(hello), ...latest, ...status];
  const oldest = oldestSeq(sql);
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
  return [encodeFrame({ ...hello, recovered: true }), ...framesBetween(sql, since, state.seq), ...status];
}
