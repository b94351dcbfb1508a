/** `POST /events`: stores one event in D1 for the `events` job to count. Same bearer token as publishes. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requirePublishToken } from "./auth";
import type { AppEnv } from "./env";
import { ApiError } from "./errors";
import { parseEventBody } from "./validate";

/** The largest event body, in bytes. */
export const MAX_EVENT_BYTES = 4 * 1024;

export const events = new Hono<AppEnv>();

events.post(
  "/",
  bodyLimit({
    maxSize: MAX_EVENT_BYTES,
    onError: () => {
      throw new ApiError(413, "payload_too_large", `An event body may be at most ${MAX_EVENT_BYTES} bytes.`);
    },
  }),
  async (c) => {
    await requirePublishToken(c);
    const { type, value } = parseEventBody(await c.req.text());
    const at = Date.now();
    const row = await c.env.DB.prepare("INSERT INTO events (type, value, at) VALUES (?, ?, ?) RETURNING id")
      .bind(type, value, at)
      .first<{ id: number }>();
    return c.json({ id: row?.id ?? null, type, value, at }, 201);
  },
);
