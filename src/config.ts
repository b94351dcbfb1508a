import { isTopicName, type TopicInfo } from "./client/protocol";
import type { JobInfo } from "./cron/job";
import type { EdgebeatEnv } from "./env";

/**
 * Reads the Worker's configuration vars (wrangler.toml `[vars]`). Pure functions of the env, shared
 * by the routes, the cron jobs and the Topic object; a bad value throws an Error naming the fix.
 */

/** Splits a comma-separated var into trimmed, non-empty items. */
export function listVar(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** Reads a var that must be a positive integer, or `fallback` when it is unset or empty. */
export function positiveIntVar(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === "") return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new Error(`${name} must be a positive integer, got "${value}": fix it in wrangler.toml [vars]`);
  }
  return parsed;
}

/** Reads a var that must be a number above zero, or `fallback` when it is unset or empty. */
export function positiveNumberVar(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === "") return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new Error(`${name} must be a number above zero, got "${value}": fix it in wrangler.toml [vars]`);
  }
  return parsed;
}

/** The token bucket every subscriber socket gets for its own frames. */
export function clientRatePolicy(env: Pick<EdgebeatEnv, "CLIENT_RATE_BURST" | "CLIENT_RATE_PER_SECOND">): {
  burst: number;
  perSecond: number;
} {
  return {
    burst: positiveIntVar("CLIENT_RATE_BURST", env.CLIENT_RATE_BURST, 20),
    perSecond: positiveNumberVar("CLIENT_RATE_PER_SECOND", env.CLIENT_RATE_PER_SECOND, 2),
  };
}

/** The most subscribers one topic admits. */
export function maxSubscribers(env: Pick<EdgebeatEnv, "MAX_SUBSCRIBERS">): number {
  return positiveIntVar("MAX_SUBSCRIBERS", env.MAX_SUBSCRIBERS, 10_000);
}

/** How many metric frames each topic keeps for replay. */
export function historyLimit(env: Pick<EdgebeatEnv, "HISTORY_LIMIT">): number {
  return positiveIntVar("HISTORY_LIMIT", env.HISTORY_LIMIT, 500);
}

/** Every declared topic, in job order then `TOPICS` order; nothing else exists. */
export function declaredTopics(jobs: readonly JobInfo[], env: Pick<EdgebeatEnv, "TOPICS" | "PRIVATE_TOPICS">): TopicInfo[] {
  const privateTopics = new Set(listVar(env.PRIVATE_TOPICS));
  const topics = new Map<string, TopicInfo>();
  for (const job of jobs) {
    topics.set(job.topic, { topic: job.topic, job: job.name, schedule: job.schedule, private: privateTopics.has(job.topic) });
  }
  for (const topic of listVar(env.TOPICS)) {
    if (!isTopicName(topic)) {
      throw new Error(
        `TOPICS lists "${topic}", which is not a topic name (^[a-z0-9][a-z0-9._-]{0,63}$): fix wrangler.toml [vars]`,
      );
    }
    if (!topics.has(topic)) topics.set(topic, { topic, job: null, schedule: null, private: privateTopics.has(topic) });
  }
  return [...topics.values()];
}

/**
 * Reads a var of `topic:number` entries (SHARDS, BATCH); an entry with a bad topic name, or a number
 * `valid` refuses, throws an Error naming the var, the entry and the `expected` form.
 */
function topicNumbers(
  name: string,
  value: string | undefined,
  valid: (n: number) => boolean,
  expected: string,
): Map<string, number> {
  const entries = new Map<string, number>();
  for (const item of listVar(value)) {
    const [topic = "", text = ""] = item.split(":").map((part) => part.trim());
    const n = Number(text);
    if (!isTopicName(topic) || !valid(n))
      throw new Error(`${name} entry "${item}" must be ${expected}: fix wrangler.toml [vars]`);
    entries.set(topic, n);
  }
  return entries;
}

/** How many shards each hot topic spreads its subscribers over: `SHARDS = "topic:4,other:2"`. */
export function shardCounts(env: Pick<EdgebeatEnv, "SHARDS">): Map<string, number> {
  const valid = (n: number) => Number.isSafeInteger(n) && n >= 1 && n <= 64;
  return topicNumbers("SHARDS", env.SHARDS, valid, "topic:count with a count from 1 to 64");
}

/**
 * How often a topic may broadcast metrics, per second: `BATCH = "topic:20,other:5"`. Publishes that
 * arrive faster are stored at once and coalesced into one `batch` frame per interval.
 */
export function batchRates(env: Pick<EdgebeatEnv, "BATCH">): Map<string, number> {
  const valid = (n: number) => Number.isFinite(n) && n > 0 && n <= 1000;
  return topicNumbers("BATCH", env.BATCH, valid, "topic:perSecond with a rate above 0, at most 1000");
}

/** The shortest time between two metric broadcasts of `topic` in ms, or null when it does not batch. */
export function batchIntervalMs(env: Pick<EdgebeatEnv, "BATCH">, topic: string): number | null {
  const rate = batchRates(env).get(topic);
  return rate === undefined ? null : 1000 / rate;
}

/** The names of a topic's shard objects (`topic/0` …), or none when it is not sharded. */
export function shardNames(env: Pick<EdgebeatEnv, "SHARDS">, topic: string): string[] {
  const count = shardCounts(env).get(topic) ?? 1;
  return count <= 1 ? [] : Array.from({ length: count }, (_, i) => `${topic}/${i}`);
}

/** How many Scheduler shards runtime schedules spread over. */
export function schedulerShardCount(env: Pick<EdgebeatEnv, "SCHEDULER_SHARDS">): number {
  const count = positiveIntVar("SCHEDULER_SHARDS", env.SCHEDULER_SHARDS, 8);
  if (count > 256) throw new Error(`SCHEDULER_SHARDS must be at most 256, got ${count}: fix it in wrangler.toml [vars]`);
  return count;
}

/** The names of every Scheduler shard (`scheduler/0` …). */
export function schedulerShardNames(env: Pick<EdgebeatEnv, "SCHEDULER_SHARDS">): string[] {
  return Array.from({ length: schedulerShardCount(env) }, (_, i) => `scheduler/${i}`);
}

/** The Scheduler shard that owns `key` (a schedule id, or a topic's claim): FNV-1a of the key, modulo the count. */
export function schedulerShardFor(env: Pick<EdgebeatEnv, "SCHEDULER_SHARDS">, key: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return `scheduler/${hash % schedulerShardCount(env)}`;
}

/** Runtime schedule runs per JobRunner call of a Scheduler shard's hand-over (SCHEDULE_BATCH, 1 to 500). */
export function scheduleBatch(env: Pick<EdgebeatEnv, "SCHEDULE_BATCH">): number {
  const size = positiveIntVar("SCHEDULE_BATCH", env.SCHEDULE_BATCH, 8);
  if (size > 500) throw new Error(`SCHEDULE_BATCH must be at most 500, got ${size}: fix it in wrangler.toml [vars]`);
  return size;
}

/** The most Server-Sent Events streams one topic holds open (MAX_STREAMS). */
export function maxStreams(env: Pick<EdgebeatEnv, "MAX_STREAMS">): number {
  return positiveIntVar("MAX_STREAMS", env.MAX_STREAMS, 1_000);
}

/** How long one stream stays open before the client reconnects and resumes (STREAM_LIFETIME_SECONDS). */
export function streamLifetimeMs(env: Pick<EdgebeatEnv, "STREAM_LIFETIME_SECONDS">): number {
  return positiveIntVar("STREAM_LIFETIME_SECONDS", env.STREAM_LIFETIME_SECONDS, 300) * 1_000;
}
