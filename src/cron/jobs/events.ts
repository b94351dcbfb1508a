/** `events`: per-type counts and sums of the events posted in the minute before the firing (D1). */
import type { EventsValue } from "../../client/protocol";
import { defineJob } from "../job";

/** Events older than this are deleted by the job, so the table stays bounded. */
export const EVENT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export const events = defineJob<EventsValue>({
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
    ]);
    const types = (counted?.results ?? []) as EventsValue["types"];
    return { windowStart, windowEnd: scheduledTime, types };
  },
});
