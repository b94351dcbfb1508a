/**
 * `events`: `POST /events` stores one event in D1, and the job publishes per-type counts and sums
 * of the events posted in the minute before each firing. This module owns the `events` table's SQL.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type { EventsValue } from "../../client/protocol";
import { ApiError, defineJob, PermanentError, parseJsonBody, requirePublishToken } from "../../edgebeat";

/** Events older than this are deleted by the job, so the table stays bounded. */
export const EVENT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** The largest event body, in bytes. */
export const MAX_EVENT_BYTES = 4 * 1024;

export const events = defineJob<EventsValue, Env>({
  name: "events",
  topic: "events",
  schedule: "* * * * *",
  timeoutMs: 10_000,
  async compute({ env, scheduledTime }) {
    // The window is the minute before the slot, by scheduledTime, so a retried run counts the same events.
    const windowStart = scheduledTime - 60_000;
    const [counted] = await env.DB.batch([
      env.DB.prepare(
        "SELECT type, COUNT(*) AS count, COALESCE(SUM(value), 0) AS sum FROM events WHERE at >= ? AND at < ? GROUP BY type ORDER BY type",
      ).bind(windowStart, scheduledTime),
      env.DB.prepare("DELETE FROM events WHERE at < ?").bind(scheduledTime - EVENT_RETENTION_MS),
    ]).catch(explainMissingTable);
    const types = (counted?.results ?? []) as EventsValue["types"];
    return { windowStart, windowEnd: scheduledTime, types };
  },
});

/** D1 without the migrations applied (plain `wrangler dev` skips them): say how to apply them. */
function explainMissingTable(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  if (/no such table: events/.test(message)) {
    throw new PermanentError(
      "D1 has no events table: apply the migrations with `npx wrangler d1 migrations apply DB --local` (npm start does it for you; `--remote` for production)",
    );
  }
  throw error;
}

const eventBody = z.strictObject(
  {
    type: z
      .string({ error: "is required" })
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "must be 1-64 of a-z 0-9 . _ - starting with a letter or digit"),
    value: z.number({ error: "must be a number" }).finite("must be finite").nullable().default(null),
  },
  { error: "must be a JSON object with `type` and an optional numeric `value`, and nothing else" },
);

/** `POST /events` with `{type, value?}`: same bearer token as publishes; answers `201 {id, type, value, at}`. */
export const eventRoutes = new Hono<{ Bindings: Env }>().post(
  "/",
  bodyLimit({
    maxSize: MAX_EVENT_BYTES,
    onError: () => {
      throw new ApiError(413, "payload_too_large", `An event body may be at most ${MAX_EVENT_BYTES} bytes.`);
    },
  }),
  async (c) => {
    await requirePublishToken(c);
    const { type, value } = parseJsonBody(eventBody, await c.req.text());
    const at = Date.now();
    const row = await c.env.DB.prepare("INSERT INTO events (type, value, at) VALUES (?, ?, ?) RETURNING id")
      .bind(type, value, at)
      .first<{ id: number }>();
    return c.json({ id: row?.id ?? null, type, value, at }, 201);
  },
);
