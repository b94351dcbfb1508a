/**
 * The schedules API as the bench calls it: one timed request (bearer ADMIN_TOKEN), a pool that
 * keeps `concurrency` requests in flight, the bodies of the schedules it creates, and a topic's
 * history.
 */
import { BENCH_SECRETS } from "../lib/server.mjs";

const AUTH = { Authorization: `Bearer ${BENCH_SECRETS.ADMIN_TOKEN}`, "Content-Type": "application/json" };

/** A cron that fires on 1 January only: the idle schedules, which never run during a bench. */
export const IDLE_CRON = "0 0 1 1 *";

/**
 * One request to the Worker; resolves with status, parsed JSON body (or null), the time the answer
 * arrived (epoch ms, comparable with a metric's `ts`) and the round trip.
 * @param {string} base
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<{ status: number, json: any, text: string, answeredAt: number, ms: number }>}
 */
export async function call(base, method, path, body) {
  const started = performance.now();
  const response = await fetch(`${base}${path}`, {
    method,
    headers: AUTH,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const answeredAt = Date.now();
  const ms = performance.now() - started;
  let json = null;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    // Not JSON: kept as text.
  }
  return { status: response.status, json, text, answeredAt, ms };
}

/** Like `call`, but throws when the status is not `expect` (or one of them). */
export async function callOk(
  /** @type {string} */ base,
  /** @type {string} */ method,
  /** @type {string} */ path,
  /** @type {unknown} */ body,
  expect = [200, 201, 204],
) {
  const answer = await call(base, method, path, body);
  if (!expect.includes(answer.status))
    throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  return answer;
}

/**
 * Runs `work(i)` for i = 0..n-1 with at most `concurrency` in flight.
 * @template T
 * @param {number} n
 * @param {number} concurrency
 * @param {(i: number) => Promise<T>} work
 * @returns {Promise<T[]>}
 */
export async function pool(n, concurrency, work) {
  /** @type {T[]} */
  const results = new Array(n);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) results[i] = await work(i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return results;
}

/** The id of the bench's i-th schedule; the first `due` of them are the ones that run. */
export const scheduleId = (/** @type {number} */ i) => `bench-${String(i).padStart(5, "0")}`;

/** Its topic (the default, `<job>.<id>`). */
export const topicOf = (/** @type {string} */ id) => `uptime.${id}`;

/**
 * The body of the bench's i-th schedule: uptime probing the server's own /health. The due ones
 * run `every` (or `cron`) and are created paused, so they run only in the due phase; the others
 * fire once a year.
 * @param {{ i: number, due: number, cadence: { every: string } | { cron: string }, healthUrl: string }} options
 */
export function scheduleBody({ i, due, cadence, healthUrl }) {
  const params = { url: healthUrl };
  if (i >= due) return { job: "uptime", params, cron: IDLE_CRON };
  return { job: "uptime", params, ...cadence, enabled: false };
}

/**
 * A topic's kept metrics (oldest first), or null when the topic answers 404 (no schedule owns it).
 * @param {string} base
 * @param {string} topic
 * @returns {Promise<any[] | null>}
 */
export async function history(base, topic) {
  const answer = await call(base, "GET", `/topics/${topic}/history?since=0&limit=1000`);
  if (answer.status === 404) return null;
  if (answer.status !== 200)
    throw new Error(`GET /topics/${topic}/history answered ${answer.status}: ${answer.text.slice(0, 200)}`);
  return answer.json.messages;
}
