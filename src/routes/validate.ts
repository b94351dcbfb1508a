/** One validator per input: topic names and the query strings of the topic routes. */

import type { Context } from "hono";
import { z } from "zod";
import type { TopicInfo } from "../client/protocol";
import { isTopicName, type Json } from "../client/protocol";
import { declaredTopics, schedulerShardFor, schedulerShardNames } from "../config";
import type { TopicClaim } from "../durable/scheduler-rpc";
import type { EdgebeatEnv } from "../env";
import type { AppEnv } from "./env";
import { ApiError } from "./errors";

/** The largest page `GET /topics/:topic/history` returns. */
export const MAX_HISTORY_LIMIT = 1000;
const DEFAULT_HISTORY_LIMIT = 100;

/** A query parameter that must be a whole number from 0 (up to 15 digits), as a number. */
export const wholeQuery = z
  .string()
  .regex(/^\d{1,15}$/, "must be a whole number from 0")
  .transform(Number);

const subscribeQuery = z.object({
  since: wholeQuery.optional(),
  epoch: z.string().min(1, "must not be empty").max(64, "must be at most 64 characters").optional(),
});

/** The longest a long-poll (`GET /topics/:topic/history?wait=`) holds, in seconds. */
export const MAX_WAIT_SECONDS = 30;

export const historyQuery = z.object({
  wait: wholeQuery.refine((n) => n <= MAX_WAIT_SECONDS, `must be from 0 to ${MAX_WAIT_SECONDS} seconds`).default(0),
  since: wholeQuery.default(0),
  limit: wholeQuery
    .refine((n) => n >= 1 && n <= MAX_HISTORY_LIMIT, `must be from 1 to ${MAX_HISTORY_LIMIT}`)
    .default(DEFAULT_HISTORY_LIMIT),
});

/** The largest publish body, in bytes. */
export const MAX_PUBLISH_BYTES = 64 * 1024;

const publishBody = z.strictObject(
  {
    // The body came from JSON.parse, so any value present is JSON already.
    value: z.custom<Json>((value) => value !== undefined, { error: "is required" }),
    id: z.string().min(1, "must not be empty").max(128, "must be at most 128 characters").optional(),
  },
  { error: "must be a JSON object with `value` and an optional `id`, and nothing else" },
);

const runsQuery = z.object({
  limit: wholeQuery.refine((n) => n >= 1 && n <= 200, "must be from 1 to 200").default(50),
});

export function parseRunsQuery(query: Record<string, string>): z.output<typeof runsQuery> {
  return parseQuery(runsQuery, query);
}

/** Parses a query string against `schema`; the first bad parameter is `400 bad_<name>`. */
export function parseQuery<T extends z.ZodType>(schema: T, query: Record<string, string>): z.output<T> {
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = String(issue?.path[0] ?? "query");
  throw new ApiError(400, `bad_${field}`, `Query parameter "${field}" ${issue?.message ?? "is invalid"}.`);
}

/** A publish body: JSON `{value, id?}`; malformed JSON is `bad_json`, a bad shape `bad_value`, `bad_id` or `bad_body`. */
export function parsePublishBody(text: string): z.output<typeof publishBody> {
  return parseJsonBody(publishBody, text);
}

/**
 * Parses a JSON body against a zod object `schema`: malformed JSON is `400 bad_json`, a bad field
 * `400 bad_<field>`, an unknown field or anything else `400 bad_body`, each with a sentence naming the fix.
 */
export function parseJsonBody<T extends z.ZodObject>(schema: T, text: string): z.output<T> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(400, "bad_json", "The body is not valid JSON.");
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path[0];
  if (issue?.code === "unrecognized_keys") {
    const unknown = issue.keys.map((key) => `"${key}"`).join(", ");
    const known = Object.keys(schema.shape)
      .map((key) => `"${key}"`)
      .join(" and ");
    throw new ApiError(400, "bad_body", `Unknown field(s) ${unknown}: send only ${known}.`);
  }
  if (typeof field === "string") throw new ApiError(400, `bad_${field}`, `Field "${field}" ${issue?.message}.`);
  throw new ApiError(400, "bad_body", `The body ${issue?.message ?? "is invalid"}.`);
}

export function parseSubscribeQuery(query: Record<string, string>): z.output<typeof subscribeQuery> {
  return parseQuery(subscribeQuery, query);
}

export function parseHistoryQuery(query: Record<string, string>): z.output<typeof historyQuery> {
  return parseQuery(historyQuery, query);
}

/** The declared topic named by `:topic` (by code, configuration or a runtime schedule): a bad name is 400, an undeclared one 404. */
export async function declaredTopic(c: Context<AppEnv>): Promise<TopicInfo> {
  const name = c.req.param("topic") ?? "";
  if (!isTopicName(name)) {
    throw new ApiError(
      400,
      "bad_topic",
      `"${name.slice(0, 80)}" is not a topic name: use 1-64 of a-z 0-9 . _ - starting with a letter or digit.`,
    );
  }
  return (await declaredTopicsNamed(c, [name]))[0] as TopicInfo;
}

/** The declared topics of `names` (valid topic names), in their order; the first undeclared one is 404 `unknown_topic`. */
export async function declaredTopicsNamed(c: Context<AppEnv>, names: readonly string[]): Promise<TopicInfo[]> {
  const declared = new Map(declaredTopics(c.get("jobs"), c.env).map((info) => [info.topic, info]));
  const found = await Promise.all(names.map(async (name) => declared.get(name) ?? (await scheduleTopic(c.env, name))));
  const missing = names.findIndex((_, index) => !found[index]);
  if (missing >= 0) throw new ApiError(404, "unknown_topic", `No topic "${names[missing]}" is declared.`);
  return found as TopicInfo[];
}

/** The runtime schedule's topic named `topic`, asked of the Scheduler shard its claim hashes to; null without a SCHEDULER binding. */
async function scheduleTopic(env: EdgebeatEnv, topic: string): Promise<TopicClaim | null> {
  return (await env.SCHEDULER?.getByName(schedulerShardFor(env, topic)).topicInfo(topic)) ?? null;
}

/** Every runtime schedule's topic, by name; none without a SCHEDULER binding. */
export async function scheduleTopics(env: EdgebeatEnv): Promise<TopicClaim[]> {
  const namespace = env.SCHEDULER;
  if (namespace === undefined) return [];
  const lists = await Promise.all(schedulerShardNames(env).map((name) => namespace.getByName(name).listTopics()));
  return lists.flat().sort((a, b) => (a.topic < b.topic ? -1 : 1));
}
