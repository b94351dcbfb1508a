/**
 * The edgebeat wire protocol: topic names, frames, and the values the built-in jobs publish.
 * The Topic Durable Object, the routes, the cron jobs, the browser client and the tests all
 * import this one module, so a frame has exactly one definition.
 */

/** A topic name: lowercase letters, digits, `.`, `_`, `-`; 1–64 characters, starting alphanumeric. */
export const TOPIC_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function isTopicName(name: string): boolean {
  return TOPIC_NAME.test(name);
}

/** Any JSON value: what a metric may carry. (Interfaces keep the recursion lazy for RPC types.) */
export type Json = null | boolean | number | string | JsonArray | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}
export interface JsonArray extends Array<Json> {}

/** Health of the job that feeds a topic. */
export type TopicState = "ok" | "failing" | "stale";

export interface HelloFrame {
  type: "hello";
  topic: string;
  /** The latest seq at the moment of joining (0 before the first publish). */
  seq: number;
  /** Opaque id of this topic's storage; a different epoch means seqs restarted. */
  epoch: string;
  /** Present only on a resume (`?since=`): true when every missed metric follows. */
  recovered?: boolean;
  serverTime: number;
}

export interface MetricFrame {
  type: "metric";
  topic: string;
  seq: number;
  /** Any JSON value; what it holds depends on the topic (see the job values below). */
  value: Json;
  /** When the topic object published it (epoch ms). */
  ts: number;
  runId: string;
  job?: string;
  scheduledTime?: number;
  nextExpectedAt?: number;
}

/** Several metric frames coalesced by a topic that publishes faster than its BATCH rate: consecutive seqs, oldest first, each exactly as it would have been sent alone. */
export interface BatchFrame {
  type: "batch";
  topic: string;
  frames: MetricFrame[];
}

export interface StatusFrame {
  type: "status";
  topic: string;
  state: TopicState;
  detail: string;
}

export interface ResetFrame {
  type: "reset";
  topic: string;
  seq: number;
}

export interface ErrorFrame {
  type: "error";
  code: string;
  message: string;
}

export type ServerFrame = HelloFrame | MetricFrame | BatchFrame | StatusFrame | ResetFrame | ErrorFrame;

/** The one way a frame becomes wire text: serialize once, send the same string to every socket. */
export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

const FRAME_TYPES = new Set<string>(["hello", "metric", "batch", "status", "reset", "error"]);

/** Parses wire text from the server; throws on anything that is not a known frame, or is a batch it cannot unpack. */
export function parseFrame(text: string): ServerFrame {
  const frame: unknown = JSON.parse(text);
  if (
    typeof frame !== "object" ||
    frame === null ||
    !("type" in frame) ||
    typeof frame.type !== "string" ||
    !FRAME_TYPES.has(frame.type) ||
    (frame.type === "batch" && !isBatchOfMetrics(frame))
  ) {
    throw new Error(`not an edgebeat frame: ${text.slice(0, 80)}`);
  }
  return frame as ServerFrame;
}

/** Whether a `batch` holds only metric frames of its own topic, each with an integer seq: what a client unpacks. */
function isBatchOfMetrics(frame: object): boolean {
  if (!("topic" in frame) || typeof frame.topic !== "string" || !("frames" in frame) || !Array.isArray(frame.frames)) {
    return false;
  }
  const { topic } = frame;
  return frame.frames.every(
    (inner: unknown) =>
      typeof inner === "object" &&
      inner !== null &&
      "type" in inner &&
      inner.type === "metric" &&
      "topic" in inner &&
      inner.topic === topic &&
      "seq" in inner &&
      Number.isSafeInteger(inner.seq),
  );
}

/** The text a client sends to keep a connection alive, and the auto-response it gets. */
export const PING = "ping";
export const PONG = "pong";

/** Close codes the server uses. */
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_POLICY = 1008;
export const CLOSE_INTERNAL = 1011;

/** A snapshot: `GET /topics/:topic` without an upgrade. */
export interface TopicSnapshot {
  topic: string;
  seq: number;
  latest: MetricFrame | null;
  subscribers: number;
  updatedAt: number | null;
  status: TopicState;
}

/** One entry of `GET /topics`: a declared topic, fed by a job, listed in `TOPICS`, or a runtime schedule's. */
export interface TopicInfo {
  topic: string;
  job: string | null;
  /** The cron of the job's static schedule; for a runtime schedule's topic, its cron or `every 30s`, with its timezone. */
  schedule: string | null;
  private: boolean;
  /** Present only on a runtime schedule's topic: the schedule's id (`GET /schedules/:id`). */
  scheduleId?: string;
}

/**
 * How one run of a job ended. `skipped`: slots a late alarm or downtime passed over; `rested`: slots
 * a job that runs only while watched did not run because nobody was (one row per rest, `attempts` counting its slots).
 */
export type RunStatus = "ok" | "failed" | "duplicate" | "skipped" | "rested";

/** One row of a job's run ledger (`GET /jobs/:name/runs`). */
export interface RunRecord {
  runId: string;
  job: string;
  status: RunStatus;
  scheduledTime: number;
  startedAt: number;
  /** Cron lag: startedAt − scheduledTime. */
  lagMs: number;
  durationMs: number;
  attempts: number;
  /** The seq the run published (or, for a duplicate, the seq its slot got first). */
  seq: number | null;
  error: string | null;
}

/** One entry of `GET /jobs`. */
export interface JobStatus {
  name: string;
  topic: string;
  schedule: string;
  /** A sub-minute job's interval (ms); null for a cron job. */
  every: number | null;
  lastRun: RunRecord | null;
  lastSuccessAt: number | null;
  /** The cron's next firing, or a sub-minute job's next tick (null until its watchdog armed it). */
  nextRunAt: number | null;
  status: TopicState;
  detail: string;
  /** Runtime schedules of this job (`GET /schedules?job=`); each has its own topic. */
  schedules: number;
}

/** The `system` job's value: live counts of every declared topic. */
export type SystemValue = {
  topics: { topic: string; subscribers: number; published: number }[];
};

/** One probe of the `uptime` job; `status` and `error` are null when they do not apply. */
export type ProbeResult = {
  url: string;
  ok: boolean;
  status: number | null;
  latencyMs: number;
  error: string | null;
};

/** The `uptime` job's value. (Values are `type`s, not `interface`s, so they are assignable to `Json`.) */
export type UptimeValue = {
  probes: ProbeResult[];
};

/** The `pulse` job's value: how late its topic's alarm ran the slot. */
export type PulseValue = {
  lagMs: number;
};

/** The `events` job's value: events posted in [windowStart, windowEnd), counted and summed per type. */
export type EventsValue = {
  windowStart: number;
  windowEnd: number;
  types: { type: string; count: number; sum: number }[];
};
