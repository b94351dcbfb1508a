/**
 * The check `npm start` makes once its server is up: every job's schedule must be one of
 * wrangler.toml `[triggers] crons`, or the platform never runs it. The rule is the library's
 * (`cronMismatch` in src/testing.ts, which test/cron/registry.test.ts applies in CI): a job runs on
 * the Cron Trigger equal to its `schedule`; a sub-minute job's schedule is its watchdog cron.
 */

/** @typedef {{ name: string, schedule: string, every: number | null }} JobSchedule */

/**
 * The jobs whose schedule no cron in `crons` fires.
 * @param {readonly JobSchedule[]} jobs
 * @param {readonly string[]} crons
 * @returns {JobSchedule[]}
 */
export function unscheduledJobs(jobs, crons) {
  const listed = new Set(crons);
  return jobs.filter((job) => !listed.has(job.schedule));
}

/**
 * One warning line per unscheduled job, then the `crons = […]` line that fixes them all; none if
 * every job is scheduled.
 * @param {readonly JobSchedule[]} jobs
 * @param {readonly string[]} crons
 * @returns {string[]}
 */
export function cronWarnings(jobs, crons) {
  const missing = unscheduledJobs(jobs, crons);
  if (missing.length === 0) return [];
  const lines = missing.map(({ name, schedule, every }) => {
    const what = every === null ? `runs on "${schedule}"` : `(every ${every / 1000} s) needs its watchdog cron "${schedule}"`;
    return `[dev] warning: job "${name}" ${what}, which no Cron Trigger in wrangler.toml fires: it never runs.`;
  });
  const fixed = [...crons, ...new Set(missing.map((job) => job.schedule))];
  lines.push(
    `[dev] add it to wrangler.toml [triggers] (then restart npm start): crons = ${JSON.stringify(fixed).replaceAll('","', '", "')}`,
  );
  return lines;
}

/**
 * GETs `url`/jobs and returns the warnings for its jobs against `crons`.
 * @param {string} url The server's base URL.
 * @param {readonly string[]} crons
 * @returns {Promise<string[]>}
 */
export async function checkJobCrons(url, crons) {
  const response = await fetch(`${url}/jobs`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET ${url}/jobs answered ${response.status}`);
  const { jobs } = /** @type {{ jobs: JobSchedule[] }} */ (await response.json());
  return cronWarnings(jobs, crons);
}
