/** The schedules bench's tables: the .md (every phase), the docs block (the headline) and the console summary. */
import { machineTable, table } from "../lib/markdown.mjs";

const n = (/** @type {number | null | undefined} */ x) => (x === null || x === undefined ? "–" : x.toLocaleString("en-US"));
const ms = (/** @type {number | null | undefined} */ x) => (x === null || x === undefined ? "–" : `${n(x)} ms`);
const cadenceText = (/** @type {any} */ c) => ("every" in c ? `every "${c.every}"` : `cron "${c.cron}"`);

/** @param {any} r */
function headlineRows(r) {
  const rows = [
    [
      `schedules created (PUT, ${r.creates.concurrency} in flight)`,
      `${n(r.creates.n)} at ${n(r.creates.perSecond)}/s; p50 ${ms(r.creates.latencyMs.p50)}, p99 ${ms(r.creates.latencyMs.p99)}`,
    ],
    [
      `first page (\`GET /schedules?limit=${r.lists.limit}\`) at ${n(r.creates.n)}`,
      `p50 ${ms(r.lists.firstPageMs.p50)}, p99 ${ms(r.lists.firstPageMs.p99)}`,
    ],
    [
      `full cursor walk (${n(r.lists.pagesPerWalk)} pages)`,
      `${r.lists.walkS.p50} s (p50 of ${r.lists.walkS.count}); per page p50 ${ms(r.lists.pageMs.p50)}, p99 ${ms(r.lists.pageMs.p99)}${r.lists.ok ? "" : `; ${r.lists.walkProblems.join("; ")}`}`,
    ],
  ];
  for (const row of r.changes?.rows ?? []) {
    rows.push([
      `${row.kind}: answer → effect (every "1s")`,
      `p50 ${ms(row.ms.p50)}, max ${ms(row.ms.max)}; on the next slot ≥ 1 s away in ${row.onTime}/${row.rounds}${row.strays > 0 ? `; ${row.strays} runs that should not have happened` : ""}`,
    ]);
  }
  if (r.due !== null) {
    const d = r.due;
    rows.push(
      [
        `slot lag, ${n(d.due)} due together (${cadenceText(d.cadence)}, ${d.slots.length} slots; ${settingText(r.options)})`,
        `p50 ${ms(d.lagMs.p50)}, p99 ${ms(d.lagMs.p99)}, max ${ms(d.lagMs.max)}`,
      ],
      ["slot lag p99 from the second slot on (each topic has published before)", ms(afterFirstSlot(d))],
      ["slots run / expected", `${n(d.delivered)} / ${n(d.expected)}: ${n(d.lost)} lost, ${n(d.duplicated)} duplicated`],
      ["workerd CPU per due slot", ms(d.cpuMsPerSlot)],
      ["goal: slot lag p99 ≤ 1 s, every slot once", goalText(d)],
    );
  }
  if (r.dueLocal) {
    const d = r.dueLocal;
    rows.push([
      `the same load on workerd's local defaults (state on disk, idle objects evicted after 10 s): slot lag`,
      `p50 ${ms(d.lagMs.p50)}, p99 ${ms(d.lagMs.p99)}, max ${ms(d.lagMs.max)}; ${n(d.delivered)} / ${n(d.expected)} run, ${n(d.lost)} lost, ${n(d.duplicated)} duplicated; CPU per slot ${ms(d.cpuMsPerSlot)}`,
    ]);
  }
  rows.push([
    "workerd RSS: started / after the creates / peak in the due phase",
    `${r.rssMiB.idle} / ${r.rssMiB.afterCreates} / ${r.due?.rssMiB.max ?? "–"} MiB`,
  ]);
  return rows;
}

/** The due phase's setting: what uptime probes, where state lives, whether idle objects stay. */
const settingText = (/** @type {any} */ o) =>
  `probing ${o.probe === "self" ? "the Worker's own /health" : "a Node server"}, state ${o.storage === "disk" ? "on disk" : "in memory"}, objects ${o.evict ? "evicted after 10 s idle" : "kept"}`;

/** Slot lag p99 over every slot but the first. @param {any} d */
function afterFirstSlot(d) {
  const later = d.perSlot.slice(1).map((/** @type {any} */ s) => s.lagMs.p99);
  return later.length === 0 ? null : Math.max(...later);
}

/** @param {any} d */
function goalText(d) {
  const once = d.lost === 0 && d.duplicated === 0;
  const met = once && d.lagMs.p99 <= 1_000;
  return `${met ? "met" : "**not met**"} (p99 ${n(d.lagMs.p99)} ms${once ? ", every slot once" : `, ${d.lost} lost, ${d.duplicated} duplicated`})`;
}

/** @param {any} r */
function runLine(r) {
  const o = r.options;
  return `${r.date.slice(0, 10)}, ${r.machine.cores} cores, load ${r.machine.loadAverage1m} at the end, commit ${r.machine.commit}; N = ${n(o.schedules)}, M = ${n(o.due)} (${cadenceText(o.cadence)}), ${o.slots} slots, ${o.changeRounds} change rounds, ${o.schedulerShards ?? "default"} scheduler shards; ${r.durationS} s`;
}

/** @param {any} r */
export function docsBlocks(r) {
  return {
    schedules: `${table([`runtime schedules (\`npm run bench:schedules\`)`, "last run"], headlineRows(r), ["l", "l"])}\n\n<sub>${runLine(r)}</sub>`,
  };
}

/** @param {any} r */
export function renderResults(r) {
  const parts = [
    `# Runtime schedules (\`npm run bench:schedules\`)`,
    runLine(r),
    machineTable(r.machine),
    "## Headline",
    table(["measure", "value"], headlineRows(r), ["l", "l"]),
    "## Creates",
    table(
      ["n", "in flight", "wall", "per s", "p50", "p90", "p99", "max", "statuses"],
      [
        [
          r.creates.n,
          r.creates.concurrency,
          `${r.creates.wallS} s`,
          r.creates.perSecond,
          r.creates.latencyMs.p50,
          r.creates.latencyMs.p90,
          r.creates.latencyMs.p99,
          r.creates.latencyMs.max,
          JSON.stringify(r.creates.statuses),
        ],
      ],
    ),
    "## Lists",
    table(
      ["read", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"],
      [
        [
          "first page",
          r.lists.firstPageMs.count,
          r.lists.firstPageMs.p50,
          r.lists.firstPageMs.p90,
          r.lists.firstPageMs.p99,
          r.lists.firstPageMs.max,
        ],
        [
          "every page of the walks",
          r.lists.pageMs.count,
          r.lists.pageMs.p50,
          r.lists.pageMs.p90,
          r.lists.pageMs.p99,
          r.lists.pageMs.max,
        ],
        ["whole walk (s)", r.lists.walkS.count, r.lists.walkS.p50, r.lists.walkS.p90, r.lists.walkS.p99, r.lists.walkS.max],
      ],
    ),
  ];
  if (r.changes !== null) {
    parts.push(
      "## Changes",
      'Per round one `every: "1s"` schedule. Start kinds (create, PATCH to a new topic, resume): the answer → the first run\'s publish on the (new) topic, and the slot that run was for. Stop kinds (pause, delete, the old topic after the PATCH): the answer → the first slot that did not run, and runs for slots ≥ 1 s after the answer (strays, must be 0).',
      table(
        ["change", "rounds", "on time", "p50 ms", "max ms", "strays", "per round (ms; slot − answer for starts)"],
        r.changes.rows.map((/** @type {any} */ row) => [
          row.kind,
          row.rounds,
          row.onTime,
          row.ms.p50,
          row.ms.max,
          row.strays,
          row.effects.map((/** @type {any} */ e) => ("slotMs" in e ? `${e.ms} (${e.slotMs})` : `${e.ms}`)).join(", "),
        ]),
      ),
    );
  }
  if (r.due !== null) parts.push(...dueSection("## Due load", r.due, r.options));
  if (r.dueLocal)
    parts.push(
      ...dueSection("## Due load on workerd's local defaults", r.dueLocal, { ...r.options, storage: "disk", evict: true }),
    );
  return `${parts.join("\n\n")}\n`;
}

/** @param {any} r */
export function summaryText(r) {
  return `${headlineRows(r)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n")}\n${r.ok ? "ok" : "PROBLEMS (see the JSON)"}`;
}

/**
 * A due phase's tables in the .md.
 * @param {string} heading
 * @param {any} d
 * @param {any} o the options it ran with
 */
function dueSection(heading, d, o) {
  return [
    heading,
    `${n(d.due)} schedules, ${cadenceText(d.cadence)}, ${settingText(o)}, resumed in ${d.resumeS} s; slot lag = the metric's \`ts\` − its \`scheduledTime\`; the probe's time (uptime's fetch) is part of it.`,
    table(
      ["slot", "runs", "lag min ms", "p50", "p90", "p99", "max", "probe p50 ms", "probe p99", "probe max"],
      d.perSlot.map((/** @type {any} */ s) => [
        s.slot,
        s.runs,
        s.lagMs.min,
        s.lagMs.p50,
        s.lagMs.p90,
        s.lagMs.p99,
        s.lagMs.max,
        s.probeMs?.p50,
        s.probeMs?.p99,
        s.probeMs?.max,
      ]),
    ),
    table(
      ["measure", "value"],
      [
        ["runs / expected", `${n(d.delivered)} / ${n(d.expected)}`],
        ["lost / duplicated", `${d.lost} / ${d.duplicated}`],
        ["runIds not <id>@<slot>", d.wrongRunIds.length === 0 ? "none" : d.wrongRunIds.join(", ")],
        ["lag over every run", `p50 ${d.lagMs.p50}, p90 ${d.lagMs.p90}, p99 ${d.lagMs.p99}, max ${d.lagMs.max} ms`],
        [
          "probe (uptime's fetch of /health, part of the lag)",
          d.probeMs === undefined
            ? "–"
            : `p50 ${d.probeMs.p50}, p99 ${d.probeMs.p99}, max ${d.probeMs.max} ms; ${d.probesFailed} failed${d.probeErrors.length > 0 ? ` (${d.probeErrors.join("; ")})` : ""}`,
        ],
        ["workerd CPU per slot", ms(d.cpuMsPerSlot)],
        ["workerd RSS start / max / end", `${d.rssMiB.start} / ${d.rssMiB.max} / ${d.rssMiB.end} MiB`],
      ],
      ["l", "l"],
    ),
  ];
}
