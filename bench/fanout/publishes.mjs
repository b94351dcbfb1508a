/**
 * Publishing as the fan-out bench does it: the trigger is read just before the POST leaves, and
 * the load generator reports when the last subscriber has each seq.
 */
import { monoMs } from "../lib/procs.mjs";
import { BENCH_SECRETS } from "../lib/server.mjs";
import { summarize } from "../lib/stats.mjs";
import { round1 } from "./format.mjs";
import { COMPLETE_TIMEOUT_MS, IDLE_PUBLISHES, TOPIC } from "./options.mjs";

/** The value every publish carries: the uptime job's shape (a realistic metric), numbered. */
const valueFor = (/** @type {number} */ n) => ({
  n,
  probes: [{ url: "http://localhost:8787/health", ok: true, status: 200, latencyMs: 4, error: null }],
});

/** The size of one `metric` frame as subscribers get it. */
export const FRAME_BYTES = Buffer.byteLength(
  JSON.stringify({
    type: "metric",
    topic: TOPIC,
    seq: 1000,
    value: valueFor(1000),
    ts: Date.now(),
    runId: "post:direct-1000-20",
  }),
);

/**
 * Completions the load generator reports (`onEvent` goes to it), and a way to wait for one.
 */
export function completions() {
  /** seq → when the last subscriber had it. @type {Map<number, number>} */
  const completed = new Map();
  /** @type {Map<number, () => void>} */
  const waiters = new Map();
  return {
    /** @param {any} message */
    onEvent(message) {
      if (message.event !== "complete") return;
      completed.set(message.seq, message.at);
      waiters.get(message.seq)?.();
    },
    clear: () => completed.clear(),
    /**
     * Resolves true once every subscriber has `seq`, false after `timeoutMs`.
     * @param {number} seq
     * @param {number} timeoutMs
     * @returns {Promise<boolean>}
     */
    when(seq, timeoutMs) {
      if (completed.has(seq)) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(seq);
          resolve(false);
        }, timeoutMs);
        waiters.set(seq, () => {
          clearTimeout(timer);
          waiters.delete(seq);
          resolve(true);
        });
      });
    },
  };
}

/** @typedef {ReturnType<typeof completions>} Completions */
/** @typedef {Awaited<ReturnType<typeof publish>>} Published */

/**
 * One publish; with `wait`, resolves once every subscriber has it (or COMPLETE_TIMEOUT_MS passed).
 * @param {Completions} done
 * @param {string} topicUrl
 * @param {string} id
 * @param {number} n
 * @param {boolean} wait
 */
export async function publish(done, topicUrl, id, n, wait) {
  const body = JSON.stringify({ value: valueFor(n), id });
  const headers = { Authorization: `Bearer ${BENCH_SECRETS.PUBLISH_TOKEN}`, "Content-Type": "application/json" };
  const trigger = monoMs();
  /** @type {number | null} */
  let seq = null;
  /** @type {string | null} */
  let error = null;
  try {
    const response = await fetch(topicUrl, { method: "POST", headers, body, signal: AbortSignal.timeout(COMPLETE_TIMEOUT_MS) });
    const text = await response.text();
    if (response.status === 202) seq = JSON.parse(text).seq;
    else error = `${response.status} ${text.slice(0, 120)}`;
  } catch (e) {
    const cause = /** @type {{ cause?: { code?: string } }} */ (e).cause?.code;
    error = cause ?? (e instanceof Error ? e.name : String(e));
  }
  const rttMs = monoMs() - trigger;
  let complete = null;
  if (wait && seq !== null) complete = await done.when(seq, Math.max(100, COMPLETE_TIMEOUT_MS - rttMs));
  return { id, n, seq, trigger, rttMs: round1(rttMs), error, complete };
}

/**
 * IDLE_PUBLISHES publishes and as many reads with nobody subscribed: the publish path alone.
 * @param {Completions} done
 * @param {{ kind: string, base: string }} target
 * @param {string} label
 */
export async function idlePublishes(done, target, label) {
  const topicUrl = `${target.base}/topics/${TOPIC}`;
  const results = [];
  for (let i = 1; i <= IDLE_PUBLISHES; i++) results.push(await publish(done, topicUrl, `${label}-idle-${i}`, i, false));
  const errors = results.filter((r) => r.error !== null);
  if (errors.length > 0) throw new Error(`${label}: idle publishes failed: ${errors[0]?.error}`);
  // The first one opens the HTTP connection and wakes the object: not counted.
  const publishMs = summarize(
    results.slice(1).map((r) => /** @type {number} */ (r.rttMs)),
    1,
  );
  // Reads on the same path: edgebeat's snapshot (the Worker, an RPC, SQL reads, no write); the ceiling's /stats.
  const readUrl = target.kind === "ceiling" ? `${target.base}/stats` : topicUrl;
  /** @type {number[]} */
  const reads = [];
  for (let i = 0; i <= IDLE_PUBLISHES; i++) {
    const t = monoMs();
    const response = await fetch(readUrl, { signal: AbortSignal.timeout(COMPLETE_TIMEOUT_MS) });
    await response.text();
    if (i > 0) reads.push(monoMs() - t);
  }
  return { publishMs, readMs: summarize(reads, 1) };
}
