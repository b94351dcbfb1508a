/**
 * What one publish writes, in the order the topic's transaction runs it: dedupe, seq and history,
 * the batching decision (and a flush wake-up), the ledger and the freshness deadline. Broadcasting
 * is the object's, after the write.
 */
import type { MetricFrame } from "../client/protocol";
import { encodeFrame } from "../client/protocol";
import { type Packed, packBatches } from "./batch";
import { type BatchDecision, type BatchWindow, decideBroadcast } from "./batch-decision";
import { pushDeadline } from "./freshness";
import { addCounter, recordPublishedRun } from "./ledger";
import type { PublishInput } from "./rpc";
import { appendFrame, dedupeKey, framesAfter, readState, rememberKey, seenSeq, writeSent, writeSeq } from "./store";
import { clearWakeup, setWakeupIfAbsent } from "./wakeups";

export interface PublishRequest {
  topic: string;
  input: PublishInput;
  /** The topic's batch window; the stored state supplies how many metrics wait. */
  batch: Omit<BatchWindow, "pending">;
  historyLimit: number;
  now: number;
}

export type StoredPublish =
  /** The `runId` or `id` published before, as `seq`; nothing was stored. */
  | { duplicate: true; seq: number }
  /** Stored as `seq`; `text` is its frame, `action` when to broadcast it, `newBatch` whether a flush wake-up was set. */
  | { duplicate: false; seq: number; text: string; action: BatchDecision["action"]; newBatch: boolean };

/** Stores a publish (call it inside a transaction); a key seen before only counts as a duplicate. */
export function storePublish(sql: SqlStorage, { topic, input, batch, historyLimit, now }: PublishRequest): StoredPublish {
  const key = dedupeKey(input);
  const seen = key === null ? null : seenSeq(sql, key);
  if (seen !== null) {
    addCounter(sql, "duplicates");
    recordPublishedRun(sql, input, topic, "duplicate", seen);
    return { duplicate: true, seq: seen };
  }
  const state = readState(sql);
  const decision = decideBroadcast({ ...batch, pending: state.seq - state.sent }, now);
  const seq = state.seq + 1;
  const text = encodeFrame(metricFrame(topic, seq, input, now));
  appendFrame(sql, seq, text, historyLimit);
  writeSeq(sql, seq, decision.action === "send" ? seq : state.sent, now);
  const newBatch = decision.action === "defer" && setWakeupIfAbsent(sql, { kind: "flush", at: decision.flushAt, data: {} });
  addCounter(sql, "published");
  if (key !== null) rememberKey(sql, key, seq);
  recordPublishedRun(sql, input, topic, "ok", seq);
  pushDeadline(sql, input, now);
  return { duplicate: false, seq, text, action: decision.action, newBatch };
}

/**
 * Takes every stored metric not yet broadcast (clearing the flush wake-up), packed as few `batch`
 * frames as packBatches allows; none when nothing waits. Frames already pruned are skipped.
 */
export function takeUnsent(sql: SqlStorage, topic: string): Packed[] {
  clearWakeup(sql, "flush");
  const { seq, sent } = readState(sql);
  if (seq <= sent) return [];
  const frames = framesAfter(sql, sent);
  writeSent(sql, seq);
  return packBatches(topic, frames, seq - frames.length + 1);
}

/** The frame a publish is stored and sent as. */
function metricFrame(topic: string, seq: number, input: PublishInput, ts: number): MetricFrame {
  return {
    type: "metric",
    topic,
    seq,
    value: input.value,
    ts,
    runId: input.runId ?? `post:${input.id ?? seq}`,
    ...(input.job !== undefined && { job: input.job }),
    ...(input.scheduledTime !== undefined && { scheduledTime: input.scheduledTime }),
    ...(input.nextExpectedAt !== undefined && { nextExpectedAt: input.nextExpectedAt }),
  } satisfies MetricFrame;
}
