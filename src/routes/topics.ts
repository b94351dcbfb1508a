/** `/topics`: the declared topics, one topic's live socket or snapshot, and its history. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { parseEventId } from "../client/positions";
import { declaredTopics, shardNames } from "../config";
import type { EdgebeatEnv } from "../env";
import { requireAllowedOrigin, requirePublishToken, requireSubscribeToken } from "./auth";
import type { AppEnv } from "./env";
import { ApiError } from "./errors";
import {
  declaredTopic,
  MAX_PUBLISH_BYTES,
  parseHistoryQuery,
  parsePublishBody,
  parseSubscribeQuery,
  scheduleTopics,
} from "./validate";

export const topics = new Hono<AppEnv>();

topics.get("/", async (c) => c.json({ topics: [...declaredTopics(c.get("jobs"), c.env), ...(await scheduleTopics(c.env))] }));

topics.get("/:topic", async (c) => {
  const info = await declaredTopic(c);
  if (info.private) await requireSubscribeToken(c, info.topic);
  const stub = c.env.TOPIC.getByName(info.topic);
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") return c.json(await stub.snapshot());
  parseSubscribeQuery(c.req.query());
  requireAllowedOrigin(c);
  // The object answers the upgrade itself; forward the request untouched.
  return subscriberObject(c.env, info.topic).fetch(c.req.raw);
});

topics.get("/:topic/events", async (c) => {
  const info = await declaredTopic(c);
  if (info.private) await requireSubscribeToken(c, info.topic);
  parseSubscribeQuery(c.req.query());
  requireAllowedOrigin(c);
  const lastEventId = c.req.header("Last-Event-ID") ?? c.req.query("lastEventId");
  if (lastEventId !== undefined && lastEventId !== "" && parseEventId(lastEventId) === null) {
    throw new ApiError(400, "bad_last_event_id", "Last-Event-ID must be an id this stream sent: <epoch>:<seq>.");
  }
  // Streams live on the topic's owner (shards hold WebSockets only); it answers with the stream itself.
  return c.env.TOPIC.getByName(info.topic).fetch(c.req.raw);
});

topics.get("/:topic/history", async (c) => {
  const info = await declaredTopic(c);
  if (info.private) await requireSubscribeToken(c, info.topic);
  const { since, limit, wait } = parseHistoryQuery(c.req.query());
  const page = await c.env.TOPIC.getByName(info.topic).poll(since, limit, wait * 1_000);
  return c.json({ topic: info.topic, ...page });
});

topics.post(
  "/:topic",
  bodyLimit({
    maxSize: MAX_PUBLISH_BYTES,
    onError: () => {
      throw new ApiError(413, "payload_too_large", `A publish body may be at most ${MAX_PUBLISH_BYTES} bytes.`);
    },
  }),
  async (c) => {
    const info = await declaredTopic(c);
    await requirePublishToken(c);
    if (info.job !== null) {
      throw new ApiError(
        409,
        "job_topic",
        `Topic "${info.topic}" is fed by job "${info.job}"; publish to a topic listed in TOPICS.`,
      );
    }
    const { value, id } = parsePublishBody(await c.req.text());
    const result = await c.env.TOPIC.getByName(info.topic).publish(id === undefined ? { value } : { value, id });
    return c.json(result, 202);
  },
);

/** The object a new subscriber joins: the topic's owner, or, for a sharded topic, one of its shards at random. */
function subscriberObject(env: EdgebeatEnv, topic: string): { fetch(request: Request): Promise<Response> } {
  const shards = shardNames(env, topic);
  const shard = shards[Math.floor(Math.random() * shards.length)];
  return shard === undefined ? env.TOPIC.getByName(topic) : env.SHARD.getByName(shard);
}
