/** The sustained probes' tables: one row per probe, and every rate a probe tried. */
import { table } from "../lib/markdown.mjs";
import { fmt, heldText, notMeasured } from "./format.mjs";

/** @param {any} r */
function probes(r) {
  return [
    { name: "this build", probe: r.sustained },
    { name: "the build before", probe: r.sustainedBefore },
    { name: "this build, with BATCH", probe: r.sustainedBatched },
  ].filter((x) => x.probe);
}

/**
 * One publish at a time to the probe's N on the same build (from the phases), to read its rates
 * against: one thread saturates near 1,000 / CPU per publish.
 * @param {any} r
 * @param {any} probe
 */
function alone(r, probe) {
  const build = probe.build === "before" ? "before" : "measured";
  return r.phases.find(
    (/** @type {any} */ p) =>
      p.kind === "direct" && p.n === probe.subscribers && p.build === build && p.shards === 1 && p.role !== "profile",
  );
}

/**
 * Each probe: what it ran and the highest rate that held.
 * @param {any} r
 */
export function probesTable(r) {
  if (r.sustained === null) return notMeasured("`--sustained-n 0`");
  const rows = probes(r).map(({ name, probe }) => {
    const one = alone(r, probe);
    const cpu = one?.cpu.runtimeMsPerPublish;
    return [
      name,
      probe.batchRate > 0 ? `${probe.batchRate}/s` : "–",
      probe.subscribers,
      `${probe.compressedSockets ?? "–"} of ${probe.subscribers}`,
      probe.steps.map((/** @type {any} */ x) => x.rate).join(", "),
      `**${heldText(probe)}**`,
      probe.highestRateHeld === null ? "–" : probe.highestRateHeld * probe.subscribers,
      fmt(cpu),
      cpu ? Math.floor(1000 / cpu) : "–",
    ];
  });
  return table(
    [
      "probe",
      "BATCH",
      "subscribers",
      "compressed",
      "rates tried (/s)",
      "highest rate held",
      "deliveries / s there",
      "one publish at a time: runtime CPU (ms)",
      "one thread saturates near (/s)",
    ],
    rows,
  );
}

/**
 * Every rate a probe tried; with `batches`, also the `batch` frames each subscriber got.
 * @param {any} s a sustained probe
 * @param {{ batches?: boolean }} [options]
 */
export function stepsTable(s, { batches = false } = {}) {
  return table(
    [
      "rate (/s)",
      "achieved",
      "publishes",
      "delivered / expected",
      "lost",
      "dup",
      "POST errors",
      "fan-out p50",
      "fan-out p99",
      "latency p99",
      "POST round trip p99",
      "runtime CPU (% of a core)",
      "other processes (% of a core)",
      ...(batches ? ["batch frames / subscriber"] : []),
      "holds",
    ],
    s.steps.map((/** @type {any} */ x) => [
      x.rate,
      x.achievedRate,
      x.publishes,
      `${x.delivered} / ${x.expected}`,
      x.lost,
      x.duplicated,
      x.publishErrors,
      `${fmt(x.fanoutMs.p50)} ms`,
      `${fmt(x.fanoutMs.p99)} ms`,
      `${fmt(x.latencyMs.p99)} ms`,
      `${fmt(x.rttMs.p99)} ms`,
      x.runtimeCpuShare,
      x.othersPctOfCore ?? "–",
      ...(batches ? [x.batchFramesPerSubscriber] : []),
      x.holds ? "yes" : "**no**",
    ]),
  );
}

/** @param {any} r */
export function section(r) {
  if (r.sustained === null) return `## Sustained rate\n\n${probesTable(r)}`;
  return `## Sustained rate

${probesTable(r)}

### This build

${stepsTable(r.sustained)}`;
}
