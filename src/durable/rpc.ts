/** The shapes the Topic object's RPC methods take and return (the Worker sees them through the stub). */
import type { Json, RunRecord, TopicState } from "../client/protocol";
import type { Counter } from "./ledger";

/** How long a job run took; given with every publish or failure that a job (not HTTP) makes. */
export interface RunFacts {
  startedAt: number;
  durationMs: number;
  attempts: number;
}

/** A publish as the Worker hands it over. Exactly one of `runId` (a job run) or `id` (HTTP) dedupes it. */
export interface PublishInput {
  value: Json;
  runId?: string;
  id?: string;
  job?: string;
  scheduledTime?: number;
  nextExpectedAt?: number;
  /** With `nextExpectedAt`: how long after it the topic turns stale if no run arrives. */
  graceMs?: number;
  run?: RunFacts;
}

/** A job run that produced no value; recorded in the ledger and turns the topic `failing`. */
export interface FailedRun {
  runId: string;
  job: string;
  scheduledTime: number;
  nextExpectedAt: number;
  graceMs: number;
  run: RunFacts;
  error: string;
}

export interface PublishResult {
  topic: string;
  seq: number;
  duplicate: boolean;
}

/** What /jobs shows of the job that feeds this topic. */
export interface JobHealth {
  lastRun: RunRecord | null;
  lastSuccessAt: number | null;
  status: TopicState;
  detail: string;
  /** The next sub-minute slot, when this topic runs one. */
  nextTickAt: number | null;
}

/** What /metrics shows of this topic. */
export interface TopicMetrics {
  subscribers: number;
  seq: number;
  status: TopicState;
  updatedAt: number | null;
  counters: Record<Counter, number>;
  lastRun: RunRecord | null;
}
