/**
 * Phase 1, the create rate: `PUT /schedules/:id` for N schedules with `concurrency` in flight;
 * creates/s over the whole phase and each PUT's round trip.
 */
import { summarize } from "../lib/stats.mjs";
import { call, pool, scheduleBody, scheduleId } from "./api.mjs";

/**
 * @param {{ base: string, options: any, healthUrl: string, log: (message: string) => void }} bench
 */
export async function runCreates({ base, options, healthUrl, log }) {
  const { schedules: n, due, concurrency } = options;
  /** @type {Record<string, number>} */
  const statuses = {};
  /** @type {string[]} */
  const errors = [];
  let done = 0;
  const started = performance.now();
  const latencies = await pool(n, concurrency, async (i) => {
    const id = scheduleId(i);
    const body = scheduleBody({ i, due, cadence: options.cadence, healthUrl });
    const answer = await call(base, "PUT", `/schedules/${id}`, body).catch((error) => ({
      status: 0,
      text: String(error),
      ms: Number.NaN,
    }));
    statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    if (answer.status !== 201 && errors.length < 5) errors.push(`${id}: ${answer.status} ${answer.text.slice(0, 200)}`);
    if (++done % 2_000 === 0) log(`created ${done}/${n}`);
    return answer.ms;
  });
  const wallS = (performance.now() - started) / 1000;
  return {
    n,
    concurrency,
    wallS: Number(wallS.toFixed(2)),
    perSecond: Math.round(n / wallS),
    latencyMs: summarize(latencies.filter(Number.isFinite), 1),
    statuses,
    errors,
    ok: statuses[201] === n,
  };
}
