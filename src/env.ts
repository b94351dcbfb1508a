/**
 * The bindings and vars edgebeat needs from the Worker that hosts it. The library is typed against
 * this, never against a Worker's generated `Env`, so any Worker whose env has these can use it.
 * The bindings are typed by the objects' RPC interfaces (src/durable/rpc.ts), not their classes,
 * which are typed against this file: importing the classes here would be a circle.
 */

import type { TopicRpc, TopicShardRpc } from "./durable/rpc";
import type { SchedulerRpc } from "./durable/scheduler-rpc";

/** Bindings edgebeat reads; declare them in wrangler.toml as docs/add-to-your-worker.md shows. */
export interface EdgebeatBindings {
  /** The Topic Durable Object class (SQLite-backed): one object per topic. */
  TOPIC: DurableObjectNamespace<TopicRpc>;
  /** The TopicShard Durable Object class: shares of a hot topic's subscribers (SHARDS). */
  SHARD: DurableObjectNamespace<TopicShardRpc>;
  /** The Scheduler Durable Object class (SQLite-backed): runtime schedules. Unbound, `/schedules` answers 503. */
  SCHEDULER?: DurableObjectNamespace<SchedulerRpc>;
}

/** Vars (wrangler.toml `[vars]`) and secrets edgebeat reads; every one may be left unset. */
export interface EdgebeatVars {
  /** Bearer token for `POST /topics/:topic`; unset, publishing over HTTP is refused. */
  PUBLISH_TOKEN?: string;
  /** HS256 key for subscribe tokens of private topics. */
  SUBSCRIBE_SECRET?: string;
  /** Bearer token for the schedules API (`/schedules`); unset, it is closed. */
  ADMIN_TOKEN?: string;
  /** How many Scheduler shards runtime schedules spread over (default 8); fixed once schedules exist. */
  SCHEDULER_SHARDS?: string;
  /** Runtime schedule runs per JobRunner call (default 8): × each run's subrequests, within the plan's limit. */
  SCHEDULE_BATCH?: string;
  TOPICS?: string;
  PRIVATE_TOPICS?: string;
  ALLOWED_ORIGINS?: string;
  HISTORY_LIMIT?: string;
  MAX_SUBSCRIBERS?: string;
  CLIENT_RATE_BURST?: string;
  CLIENT_RATE_PER_SECOND?: string;
  SHARDS?: string;
  /** Most Server-Sent Events streams one topic holds open (default 1000). */
  MAX_STREAMS?: string;
  /** Seconds a stream stays open before the client reconnects and resumes (default 300). */
  STREAM_LIFETIME_SECONDS?: string;
  BATCH?: string;
}

/** What edgebeat needs of a Worker's env. A Worker's own `Env` extends it with anything else. */
export interface EdgebeatEnv extends EdgebeatBindings, EdgebeatVars {}
