/**
 * Phase 4, due load: the M due schedules (created paused) are resumed, then the next `slots` slots
 * that start at least 1 s after the last resume answered are measured. Each of the M topics'
 * history is read once the last slot is `settleS` old: per topic and slot the number of metrics
 * (0 is a lost slot, 2 or more a duplicated one), and per metric the slot lag, `ts` (when the topic
 * published it) − `scheduledTime` (the slot). The workerd process's RSS and CPU are sampled every
 * second meanwhile. A slot still missing is looked for again twice, 10 s apart, before it counts
 * as lost (so a late slot is late, not lost), and its schedule's ledger is kept for the diagnosis.
 */

import { cpuMs } from "../lib/procs.mjs";
import { rssMiB } from "../lib/rss.mjs";
import { sleep } from "../lib/sockets.mjs";
import { summarize } from "../lib/stats.mjs";
import { call, callOk, history, pool, scheduleId, topicOf } from "./api.mjs";

const RECHECKS = 2;
const RECHECK_MS = 10_000;

/**
 * @param {{ base: string, options: any, workerdPid: number, log: (message: string) => void }} bench
 */
export async function runDue({ base, options, workerdPid, log }) {
  const { due: m, slots: slotCount, concurrency } = options;
  const ids = Array.from({ length: m }, (_, i) => scheduleId(i));
  /** @type {{ t: number, rssMiB: number | null, cpuMs: number | null }[]} */
  const samples = [];
  const phaseStart = Date.now();
  const sample = () => samples.push({ t: Date.now() - phaseStart, rssMiB: rssMiB(workerdPid), cpuMs: cpuMs(workerdPid) });
  sample();
  const sampler = setInterval(sample, 1_000);
  try {
    const resumeStarted = performance.now();
    const resumes = await pool(
      m,
      concurrency,
      async (i) => (await callOk(base, "POST", `/schedules/${ids[i]}/resume`)).answeredAt,
    );
    const resumeS = (performance.now() - resumeStarted) / 1000;
    const lastResume = Math.max(...resumes);
    log(`resumed ${m} schedules in ${resumeS.toFixed(1)} s`);

    const query = new URLSearchParams({ ...options.cadence, after: String(lastResume + 999), count: String(slotCount) });
    const slots = (await callOk(base, "GET", `/schedules/preview?${query}`)).json.runs;
    const lastSlot = Math.max(...slots);
    log(`measuring slots ${slots.map((/** @type {number} */ s) => new Date(s).toISOString().slice(11, 19)).join(", ")}`);
    const cpuAtFirstSlot = { t: 0, ms: 0 };
    await sleep(Math.max(0, slots[0] - Date.now()));
    cpuAtFirstSlot.t = performance.now();
    cpuAtFirstSlot.ms = cpuMs(workerdPid) ?? 0;
    await sleep(Math.max(0, lastSlot + options.settleS * 1000 - Date.now()));
    const cpuMsPerSlot = ((cpuMs(workerdPid) ?? 0) - cpuAtFirstSlot.ms) / slotCount;

    /** @type {Map<string, any[]>} */
    const kept = new Map();
    const read = async (/** @type {string[]} */ which) => {
      await pool(which.length, 16, async (k) => {
        const id = /** @type {string} */ (which[k]);
        kept.set(id, (await history(base, topicOf(id))) ?? []);
      });
    };
    const countsOf = (/** @type {string} */ id) =>
      slots.map((/** @type {number} */ slot) => (kept.get(id) ?? []).filter((metric) => metric.scheduledTime === slot).length);
    await read(ids);
    for (let recheck = 1; recheck <= RECHECKS; recheck++) {
      const missing = ids.filter((id) => countsOf(id).includes(0));
      if (missing.length === 0) break;
      log(
        `${missing.length} topics miss a slot ${Math.round((Date.now() - lastSlot) / 1000)} s after the last one: reading them again in ${RECHECK_MS / 1000} s`,
      );
      await sleep(RECHECK_MS);
      await read(missing);
    }

    let lost = 0;
    let duplicated = 0;
    const lags = [];
    /** @type {string[]} */
    const wrongRunIds = [];
    const probeMs = [];
    let probesFailed = 0;
    /** @type {string[]} */
    const probeErrors = [];
    const perSlot = slots.map((/** @type {number} */ slot) => ({
      slot,
      runs: 0,
      lags: /** @type {number[]} */ ([]),
      probeMs: /** @type {number[]} */ ([]),
    }));
    for (const id of ids) {
      countsOf(id).forEach((count) => {
        if (count === 0) lost++;
        if (count > 1) duplicated += count - 1;
      });
      for (const metric of kept.get(id) ?? []) {
        const k = slots.indexOf(metric.scheduledTime);
        if (k === -1) continue;
        const lag = metric.ts - metric.scheduledTime;
        lags.push(lag);
        perSlot[k]?.lags.push(lag);
        // The probe's own time (the fetch of /health) is part of the lag: kept apart, to tell waiting from probing.
        const probe = metric.value?.probes?.[0];
        if (probe !== undefined) {
          probeMs.push(probe.latencyMs);
          perSlot[k]?.probeMs.push(probe.latencyMs);
          if (!probe.ok) probesFailed++;
          if (!probe.ok && probeErrors.length < 3) probeErrors.push(`${id}: ${probe.error ?? probe.status}`);
        }
        if (perSlot[k]) perSlot[k].runs++;
        if (metric.runId !== `${id}@${metric.scheduledTime}` && wrongRunIds.length < 5)
          wrongRunIds.push(`${id}: ${metric.runId}`);
      }
    }
    const lostIds = ids.filter((id) => countsOf(id).includes(0)).slice(0, 5);
    const ledgers = await Promise.all(
      lostIds.map(async (id) => ({ id, runs: (await call(base, "GET", `/schedules/${id}/runs?limit=10`)).json })),
    );
    const rss = samples.map((s) => s.rssMiB).filter((x) => x !== null);
    return {
      due: m,
      cadence: options.cadence,
      resumeS: Number(resumeS.toFixed(2)),
      slots,
      expected: m * slotCount,
      delivered: lags.length,
      lost,
      duplicated,
      wrongRunIds,
      lagMs: summarize(lags, 0),
      probeMs: summarize(probeMs, 0),
      probesFailed,
      probeErrors,
      perSlot: perSlot.map((/** @type {any} */ s) => ({
        slot: new Date(s.slot).toISOString(),
        runs: s.runs,
        lagMs: summarize(s.lags, 0),
        probeMs: summarize(s.probeMs, 0),
      })),
      cpuMsPerSlot: Math.round(cpuMsPerSlot),
      rssMiB: { start: rss[0] ?? null, max: rss.length > 0 ? Math.max(...rss) : null, end: rss.at(-1) ?? null },
      samples,
      lostLedgers: ledgers,
      ok: lost === 0 && duplicated === 0 && wrongRunIds.length === 0,
    };
  } finally {
    clearInterval(sampler);
  }
}
