/**
 * Phase 3, how soon a change takes effect. Per round, one `every: "1s"` schedule: create it (the
 * first metric on its topic), PATCH it to another topic (the first metric there; none on the old
 * one from the first slot ≥ 1 s after the answer), pause it (no run from that slot on), resume it
 * (the first metric again) and delete it (no run from that slot on). Times are from the moment the
 * API answered to the effect: for create, PATCH and resume the first run's publish (`ts`); for
 * pause and delete the first slot that did not run. A change is "on time" when it holds for the
 * first slot at least 1 s after the answer. Metrics are read from a WebSocket on each topic,
 * opened with `?since=0` so none published before it opened is missed.
 */
import WebSocket from "ws";
import { sleep } from "../lib/sockets.mjs";
import { summarize } from "../lib/stats.mjs";
import { callOk } from "./api.mjs";

const EVERY_MS = 1_000;
/** How long a change may take before the round calls it not taken. */
const EFFECT_TIMEOUT_MS = 5_000;
/** How long a round watches after a pause or delete for runs that should not happen. */
const QUIET_MS = 3_000;
/** The gap between two changes of a round, so each one's effect is seen alone; plus up to 1 s at random, so answers land anywhere in a slot. */
const GAP_MS = 2_500;
const gap = () => sleep(GAP_MS + Math.random() * EVERY_MS);

/** The first slot at least 1 s after `t`: the one the goal says a change must reach. */
const dueSlot = (/** @type {number} */ t) => Math.ceil((t + 1_000) / EVERY_MS) * EVERY_MS;

/**
 * A WebSocket on `topic` that keeps every metric frame it gets (with its arrival time).
 * @param {string} base
 * @param {string} topic
 */
async function watch(base, topic) {
  /** @type {any[]} */
  const metrics = [];
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}/topics/${topic}?since=0`);
  ws.on("message", (data) => {
    const frame = JSON.parse(String(data));
    const frames = frame.type === "batch" ? frame.frames : frame.type === "metric" ? [frame] : [];
    for (const metric of frames) metrics.push({ ...metric, receivedAt: Date.now() });
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
    setTimeout(() => reject(new Error(`WebSocket to ${topic} did not open in 5 s`)), 5_000).unref();
  });
  return {
    metrics,
    /** The first metric with `ts` after `t`, waiting up to EFFECT_TIMEOUT_MS. */
    async firstAfter(/** @type {number} */ t) {
      const until = Date.now() + EFFECT_TIMEOUT_MS;
      for (;;) {
        const found = metrics.find((m) => m.ts >= t);
        if (found !== undefined || Date.now() > until) return found ?? null;
        await sleep(20);
      }
    },
    close: () => ws.terminate(),
  };
}

/**
 * Effect of a start (create, PATCH to a topic, resume) answered at `t`: its first metric after `t`.
 * @param {any} first
 * @param {number} t
 */
function started(first, t) {
  if (first === null) return { ms: null, slotMs: null, onTime: false };
  return { ms: first.ts - t, slotMs: first.scheduledTime - t, onTime: first.scheduledTime <= dueSlot(t) };
}

/**
 * Effect of a stop (pause, delete, or the old topic after a PATCH) answered at `t`: the first slot
 * after the last one that ran, and the runs of slots from dueSlot(t) on (which should be none).
 * @param {any[]} metrics
 * @param {number} t
 */
function stopped(metrics, t) {
  const slots = metrics.map((m) => m.scheduledTime);
  const last = slots.length === 0 ? t : Math.max(...slots);
  const strays = slots.filter((slot) => slot >= dueSlot(t)).length;
  const afterAnswer = metrics.filter((m) => m.ts > t).length;
  return { ms: last + EVERY_MS - t, strays, publishedAfterAnswer: afterAnswer, onTime: strays === 0 };
}

/**
 * @param {{ base: string, options: any, healthUrl: string, log: (message: string) => void }} bench
 */
export async function runChanges({ base, options, healthUrl, log }) {
  /** @type {Record<string, any[]>} */
  const kinds = { create: [], patch: [], "patch (old topic)": [], pause: [], resume: [], delete: [] };
  for (let round = 0; round < options.changeRounds; round++) {
    const id = `change-${round}`;
    const [a, b] = [`bench.change-${round}-a`, `bench.change-${round}-b`];
    const body = { job: "uptime", params: { url: healthUrl }, every: "1s", topic: a };
    const created = await callOk(base, "PUT", `/schedules/${id}`, body, [201]);
    const onA = await watch(base, a);
    kinds.create?.push(started(await onA.firstAfter(created.answeredAt), created.answeredAt));
    await gap();

    const patched = await callOk(base, "PATCH", `/schedules/${id}`, { topic: b }, [200]);
    const onB = await watch(base, b);
    kinds.patch?.push(started(await onB.firstAfter(patched.answeredAt), patched.answeredAt));
    await gap();
    kinds["patch (old topic)"]?.push(stopped(onA.metrics, patched.answeredAt));
    onA.close();

    const paused = await callOk(base, "POST", `/schedules/${id}/pause`, undefined, [200]);
    await sleep(QUIET_MS);
    kinds.pause?.push(stopped(onB.metrics, paused.answeredAt));

    const resumed = await callOk(base, "POST", `/schedules/${id}/resume`, undefined, [200]);
    kinds.resume?.push(started(await onB.firstAfter(resumed.answeredAt), resumed.answeredAt));
    await gap();

    const deleted = await callOk(base, "DELETE", `/schedules/${id}`, undefined, [204]);
    await sleep(QUIET_MS);
    kinds.delete?.push(stopped(onB.metrics, deleted.answeredAt));
    onB.close();
    log(`change round ${round + 1}/${options.changeRounds} done`);
  }
  const rows = Object.entries(kinds).map(([kind, effects]) => ({
    kind,
    rounds: effects.length,
    onTime: effects.filter((e) => e.onTime).length,
    ms: summarize(
      effects.map((e) => e.ms).filter((ms) => ms !== null),
      0,
    ),
    strays: effects.reduce((sum, e) => sum + (e.strays ?? 0), 0),
    effects,
  }));
  return { everyMs: EVERY_MS, rows, ok: rows.every((row) => row.onTime === row.rounds) };
}
