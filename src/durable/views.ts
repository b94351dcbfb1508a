/**
 * What a topic's read-only RPC methods answer, read from its tables in one place: the snapshot,
 * a history page (with epoch and status, for long-poll clients), job health and /metrics gauges.
 */
import type { MetricFrame, TopicSnapshot } from "../client/protocol";
import { nextTickAt } from "./cadence";
import { lastSuccessAt, listRuns, readCounters } from "./ledger";
import type { HistoryPage, JobHealth, TopicMetrics } from "./rpc";
import * as store from "./store";

export function snapshotOf(sql: SqlStorage, topic: string, subscribers: number): TopicSnapshot {
  const state = store.readState(sql);
  const latest = store.latestFrame(sql);
  const frame = latest === null ? null : (JSON.parse(latest) as MetricFrame);
  return { topic, seq: state.seq, latest: frame, subscribers, updatedAt: state.updated_at, status: state.status };
}

export function historyOf(sql: SqlStorage, since: number, limit: number): MetricFrame[] {
  return store.framesAfter(sql, since, limit).map((frame) => JSON.parse(frame) as MetricFrame);
}

export function pageOf(sql: SqlStorage, since: number, limit: number): HistoryPage {
  const { epoch, status, detail } = store.readState(sql);
  return { epoch, status, detail, messages: historyOf(sql, since, limit) };
}

export function healthOf(sql: SqlStorage): JobHealth {
  const { status, detail } = store.readState(sql);
  const lastRun = listRuns(sql, 1)[0] ?? null;
  return { lastRun, lastSuccessAt: lastSuccessAt(sql), status, detail, nextTickAt: nextTickAt(sql) };
}

export function metricsOf(sql: SqlStorage, subscribers: number): TopicMetrics {
  const state = store.readState(sql);
  const lastRun = listRuns(sql, 1)[0] ?? null;
  return { subscribers, seq: state.seq, status: state.status, updatedAt: state.updated_at, counters: readCounters(sql), lastRun };
}
