/** The fault run's tables (`--restarts K`): the .md, the docs block and the console summary. */
import { machineTable, table } from "../lib/markdown.mjs";

export const RESTARTS = "schedules-restarts";

const n = (/** @type {number | null | undefined} */ x) => (x === null || x === undefined ? "–" : x.toLocaleString("en-US"));
const cadenceText = (/** @type {any} */ c) => ("every" in c ? `every "${c.every}"` : `cron "${c.cron}"`);

/** @param {any} r */
function rows(r) {
  const x = r.restarts;
  return [
    [
      "run",
      `${n(x.schedules)} schedules (${cadenceText(x.cadence)}, missed: "all") for ${x.minutes} min on wrangler dev, ${x.restarts.length} kill -9 restarts of its process group`,
    ],
    ["server down per restart (kill → `/health` answers)", x.restarts.map((/** @type {any} */ d) => `${d.downS} s`).join(", ")],
    [
      "slots run / expected",
      `${n(x.delivered)} / ${n(x.expected)} (${n(x.slots)} slots each): ${n(x.lost)} lost, ${n(x.duplicated)} duplicated`,
    ],
    ["slot lag, runs no restart held up", `p50 ${n(x.lagMs.p50)} ms, p99 ${n(x.lagMs.p99)} ms, max ${n(x.lagMs.max)} ms`],
    [
      "slot lag, runs a restart held up (caught up after it)",
      `${n(x.lagDownMs.count)} runs: p50 ${n(x.lagDownMs.p50)} ms, max ${n(x.lagDownMs.max)} ms`,
    ],
    ["heartbeats fired (`* * * * *`) / failed", `${x.heartbeats} / ${x.heartbeatErrors}`],
    ["user workerd RSS start / max / end", `${x.rssMiB.start} / ${x.rssMiB.max} / ${x.rssMiB.end} MiB`],
  ];
}

/** @param {any} r */
function runLine(r) {
  return `${r.date.slice(0, 10)}, ${r.machine.cores} cores, load ${r.machine.loadAverage1m} at the end, commit ${r.machine.commit}; ${r.durationS} s`;
}

/** @param {any} r */
export function restartsBlocks(r) {
  return {
    [RESTARTS]: `${table(["schedules across kill -9 restarts (`--restarts`)", "last run"], rows(r), ["l", "l"])}\n\n<sub>${runLine(r)}</sub>`,
  };
}

/** @param {any} r */
export function renderRestarts(r) {
  const x = r.restarts;
  const parts = [
    "# Runtime schedules across kill -9 restarts (`npm run bench:schedules -- --restarts K`)",
    runLine(r),
    machineTable(r.machine),
    table(["measure", "value"], rows(r), ["l", "l"]),
  ];
  if (x.lostBySlot.length > 0) {
    parts.push(
      "## Slots with lost runs",
      table(
        ["slot", "while down", "lost"],
        x.lostBySlot.map((/** @type {any} */ s) => [s.slot, s.down ? "yes" : "no", s.lost]),
      ),
    );
  }
  return `${parts.join("\n\n")}\n`;
}

/** @param {any} r */
export function restartsSummary(r) {
  return `${rows(r)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n")}\n${r.ok ? "ok" : "PROBLEMS (see the JSON)"}`;
}
