/** `/topics`: the declared topics, one topic's live socket or snapshot, and its history. */
import { Hono } from "hono";
import { declaredTopics, listVar } from "../config";
import type { AppEnv } from "./env";
import { ApiError } from "./errors";
import { declaredTopic, parseHistoryQuery, parseSubscribeQuery } from "./validate";

export const topics = new Hono<AppEnv>();

topics.get("/", (c) => c.json({ topics: declaredTopics(c.get("jobs"), c.env) }));

topics.get("/:topic", async (c) => {
  const info = declaredTopic(c);
  refuseUntilTokensExist(info.private, info.topic);
  const stub = c.env.TOPIC.getByName(info.topic);
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") return c.json(await stub.snapshot());
  parseSubscribeQuery(c.req.query());
  const origin = c.req.header("Origin");
  const allowed = listVar(c.env.ALLOWED_ORIGINS);
  if (origin !== undefined && allowed.length > 0 && !allowed.includes(origin)) {
    throw new ApiError(403, "origin_not_allowed", `Origin ${origin} may not subscribe; see ALLOWED_ORIGINS.`);
  }
  // The object answers the upgrade itself; forward the request untouched.
  return stub.fetch(c.req.raw);
});

topics.get("/:topic/history", async (c) => {
  const info = declaredTopic(c);
  refuseUntilTokensExist(info.private, info.topic);
  const { since, limit } = parseHistoryQuery(c.req.query());
  return c.json({ topic: info.topic, messages: await c.env.TOPIC.getByName(info.topic).history(since, limit) });
});

/** Private topics admit only signed-token holders; until token checks exist, they admit nobody. */
function refuseUntilTokensExist(isPrivate: boolean, topic: string): void {
  if (isPrivate) throw new ApiError(401, "token_required", `Topic "${topic}" is private and needs a subscribe token.`);
}
