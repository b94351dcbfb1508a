/** The schedules API as tests call it: the admin token, JSON in and out, and a Scheduler shard's storage. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Schedule } from "../../src/client/schedule";
import { schedulerShardFor } from "../../src/config";
import type { ApiBody } from "./socket";
import { fetchWorker } from "./socket";

export const adminHeaders = (token = env.ADMIN_TOKEN): Record<string, string> => ({
  Authorization: `Bearer ${token}`,
  "Content-Type": "application/json",
});

/** Calls the schedules API; `body` is sent as JSON unless it is already a string. */
export async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = adminHeaders(),
): Promise<{ status: number; body: ApiBody & Schedule }> {
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  const response = await fetchWorker(path, init);
  const text = await response.text();
  return { status: response.status, body: (text === "" ? null : JSON.parse(text)) as ApiBody & Schedule };
}

/** The Scheduler shard that owns schedule `id`. */
export const shardOf = (id: string) => env.SCHEDULER.getByName(schedulerShardFor(env, id));

/** Moves schedule `id`'s next slot to `at`, as if its alarm had not run since (downtime). */
export async function moveNextAt(id: string, at: number): Promise<void> {
  await runInDurableObject(shardOf(id), (_instance, state) => {
    state.storage.sql.exec("UPDATE runtime_schedules SET next_at = ? WHERE id = ?", at, id);
  });
}

/** A URL the uptime job's probe finds refused at once (nothing listens on port 9). */
export const REFUSED_URL = "http://127.0.0.1:9/";
