/**
 * The multiplexed routes: many topics over one connection, for clients that cannot hold one per
 * topic (a browser allows 6 per origin over HTTP/1.1). `GET /events?topics=` is one Server-Sent
 * Events stream made of each topic's own (src/routes/merge.ts); `GET /history?topics=` one long-poll
 * (src/routes/multi-poll.ts). Same validation, tokens, origins and limits as the per-topic routes.
 */
import { type Context, Hono } from "hono";
import type { TopicInfo } from "../client/protocol";
import { requireAllowedOrigin, requireSubscribeTokenFor } from "./auth";
import type { AppEnv } from "./env";
import { mergeStreams } from "./merge";
import { multiPoll } from "./multi-poll";
import { parseMultiHistoryQuery, parseResumeCursor, parseTopicsQuery } from "./multiplex-query";
import { openUpstreams } from "./upstreams";
import { declaredTopicsNamed } from "./validate";

export const multiplex = new Hono<AppEnv>();

/** The declared topics `?topics=` lists, every private one granted by the one `?token=`. */
async function listedTopics(c: Context<AppEnv>): Promise<TopicInfo[]> {
  const infos = await declaredTopicsNamed(c, parseTopicsQuery(c.req.query()));
  await requireSubscribeTokenFor(
    c,
    infos.filter((info) => info.private).map((info) => info.topic),
  );
  return infos;
}

multiplex.get("/events", async (c) => {
  const topics = (await listedTopics(c)).map((info) => info.topic);
  requireAllowedOrigin(c);
  const start = parseResumeCursor(c.req.header("Last-Event-ID") ?? c.req.query("lastEventId"));
  return mergeStreams(await openUpstreams(c.env, topics, start), start, c.req.raw.signal);
});

multiplex.get("/history", async (c) => {
  const topics = (await listedTopics(c)).map((info) => info.topic);
  const query = parseMultiHistoryQuery(c.req.query());
  return c.json(await multiPoll(c.env, topics, query, c.req.raw.signal));
});
