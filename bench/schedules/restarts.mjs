/**
 * `--restarts K`: the fault run. R schedules (`--restart-schedules`, every `--every`, missed:
 * "all") on a real `wrangler dev` (bench/lib/server.mjs) for `--restart-minutes`, with K kill -9
 * restarts of its whole process group spread evenly over the run, each started again on the same
 * port and state directory, the way reconnect-storm does. The bench fires the `* * * * *`
 * heartbeat every minute, as the platform (and `npm start`) would; wrangler dev fires no cron
 * itself. At the end the schedules are paused, and every topic's history is read: each slot from
 * the first one ≥ 1 s after the last create to the last one ≥ 1 s before the first pause must
 * appear exactly once. Runs a restart held up (slot before the server was back, publish after the
 * kill) come late, caught up after the restart: their lag is reported apart.
 */
import { fireCron } from "../../scripts/lib/wrangler-dev.mjs";
import { rssMiB } from "../lib/rss.mjs";
import { startServer, workerdProcesses } from "../lib/server.mjs";
import { sleep } from "../lib/sockets.mjs";
import { summarize } from "../lib/stats.mjs";
import { call, callOk, history, pool, topicOf } from "./api.mjs";

const RECHECK_MS = 10_000;

/**
 * @param {{ project: any, stateDir: string, logFile: string, options: any, log: (message: string) => void, onServer: (server: any) => void }} bench
 */
export async function runRestarts({ project, stateDir, logFile, options, log, onServer }) {
  const port = await project.devServer.freePort();
  let server = await startServer(project.devServer, { port, stateDir, logFile });
  onServer(server);
  const base = server.url;
  const userPid = () => workerdProcesses(server.pid, port).find((p) => p.role === "user")?.pid ?? null;
  const ids = Array.from({ length: options.restartSchedules }, (_, i) => `restart-${String(i).padStart(5, "0")}`);
  const body = { job: "uptime", params: { url: `${base}/health` }, ...options.cadence, missed: "all" };
  const createAnswers = await pool(
    ids.length,
    options.concurrency,
    async (i) => (await callOk(base, "PUT", `/schedules/${ids[i]}`, body)).answeredAt,
  );
  const firstAfter = Math.max(...createAnswers) + 1_000;
  log(`${ids.length} schedules created; running ${options.restartMinutes} min with ${options.restarts} kill -9 restarts`);

  let heartbeats = 0;
  let heartbeatErrors = 0;
  let stopHeartbeat = false;
  const heartbeat = (async () => {
    while (!stopHeartbeat) {
      const due = Math.ceil((Date.now() + 1) / 60_000) * 60_000;
      while (!stopHeartbeat && Date.now() < due) await sleep(Math.min(1_000, due - Date.now()));
      if (stopHeartbeat) break;
      const outcome = await fireCron(server.url, "* * * * *", due).catch(() => ({ status: 0 }));
      if (outcome.status === 200) heartbeats++;
      else heartbeatErrors++;
    }
  })();

  const runMs = options.restartMinutes * 60_000;
  const startedAt = Date.now();
  /** @type {{ killedAt: number, servingAt: number }[]} */
  const downs = [];
  const rss = [];
  for (let k = 1; k <= options.restarts; k++) {
    const at = startedAt + (runMs * k) / (options.restarts + 1);
    while (Date.now() < at) {
      rss.push(rssMiB(userPid() ?? 0));
      await sleep(Math.min(5_000, at - Date.now()));
    }
    const killedAt = Date.now();
    await server.stop();
    server = await startServer(project.devServer, { port, stateDir, logFile });
    onServer(server);
    downs.push({ killedAt, servingAt: Date.now() });
    log(`restart ${k}: down ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
  }
  while (Date.now() < startedAt + runMs) {
    rss.push(rssMiB(userPid() ?? 0));
    await sleep(Math.min(5_000, startedAt + runMs - Date.now()));
  }
  const pausedFrom = Date.now();
  await pool(ids.length, options.concurrency, (i) => callOk(base, "POST", `/schedules/${ids[i]}/pause`));
  stopHeartbeat = true;
  await heartbeat;
  const lastBefore = pausedFrom - 1_000;
  const query = new URLSearchParams({ ...options.cadence, after: String(firstAfter - 1), count: "100" });
  /** @type {number[]} */
  const slots = [];
  for (let after = firstAfter - 1; ; ) {
    query.set("after", String(after));
    const runs = (await callOk(base, "GET", `/schedules/preview?${query}`)).json.runs.filter(
      (/** @type {number} */ s) => s <= lastBefore,
    );
    slots.push(...runs);
    if (runs.length < 100) break;
    after = runs.at(-1);
  }
  log(`reading ${ids.length} histories for ${slots.length} slots each`);

  /** @type {Map<string, any[]>} */
  const kept = new Map();
  const read = (/** @type {string[]} */ which) =>
    pool(which.length, 16, async (k) => {
      const id = /** @type {string} */ (which[k]);
      kept.set(id, (await history(base, topicOf(id))) ?? []);
    });
  const countsOf = (/** @type {string} */ id) =>
    slots.map((slot) => (kept.get(id) ?? []).filter((m) => m.scheduledTime === slot).length);
  await read(ids);
  for (let recheck = 0; recheck < 2; recheck++) {
    const missing = ids.filter((id) => countsOf(id).includes(0));
    if (missing.length === 0) break;
    await sleep(RECHECK_MS);
    await read(missing);
  }
  // A run a restart held up: its slot came before the server was back, its publish after the kill.
  const caughtUp = (/** @type {any} */ m) => downs.some((d) => m.scheduledTime <= d.servingAt && m.ts >= d.killedAt);
  const isDown = (/** @type {number} */ slot) => downs.some((d) => slot >= d.killedAt && slot <= d.servingAt);
  let lost = 0;
  let duplicated = 0;
  const lagUp = [];
  const lagDown = [];
  for (const id of ids) {
    for (const count of countsOf(id)) {
      if (count === 0) lost++;
      if (count > 1) duplicated += count - 1;
    }
    for (const metric of kept.get(id) ?? []) {
      if (!slots.includes(metric.scheduledTime)) continue;
      (caughtUp(metric) ? lagDown : lagUp).push(metric.ts - metric.scheduledTime);
    }
  }
  const lostBySlot = slots
    .map((slot) => ({
      slot: new Date(slot).toISOString(),
      down: isDown(slot),
      lost: ids.filter((id) => !(kept.get(id) ?? []).some((m) => m.scheduledTime === slot)).length,
    }))
    .filter((s) => s.lost > 0);
  const sampleLost = ids.filter((id) => countsOf(id).includes(0)).slice(0, 3);
  const ledgers = await Promise.all(
    sampleLost.map(async (id) => ({ id, runs: (await call(base, "GET", `/schedules/${id}/runs?limit=20`)).json })),
  );
  const rssKnown = rss.filter((x) => x !== null);
  return {
    schedules: ids.length,
    cadence: options.cadence,
    minutes: options.restartMinutes,
    restarts: downs.map((d) => ({
      killedAt: new Date(d.killedAt).toISOString(),
      downS: Number(((d.servingAt - d.killedAt) / 1000).toFixed(1)),
    })),
    heartbeats,
    heartbeatErrors,
    slots: slots.length,
    expected: ids.length * slots.length,
    delivered: lagUp.length + lagDown.length,
    lost,
    duplicated,
    lostBySlot,
    lostLedgers: ledgers,
    lagMs: summarize(lagUp, 0),
    lagDownMs: summarize(lagDown, 0),
    rssMiB: { start: rssKnown[0] ?? null, max: rssKnown.length > 0 ? Math.max(...rssKnown) : null, end: rssKnown.at(-1) ?? null },
    ok: lost === 0 && duplicated === 0,
  };
}
