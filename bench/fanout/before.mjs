/**
 * The hot path before and after its change: `--before`'s build (the last one that let workerd
 * accept permessage-deflate) against this one, direct, at `--deflate-n` and the largest N, and in
 * the sustained probe.
 */
import { table } from "../lib/markdown.mjs";
import { ceilingFor, deflateWord, directAt, fmt, heldText, notMeasured, ratioOf, vr } from "./format.mjs";
import { stepsTable } from "./sustained-report.mjs";

/**
 * @param {import("./options.mjs").Options} options
 * @returns {import("./phase.mjs").PhaseSpec[]}
 */
export function plan({ before, deflateN, largest }) {
  if (before === undefined) return [];
  return [...new Set([deflateN, largest].filter((x) => x > 0))].map((n) => ({
    name: `before-direct-${n}`,
    kind: "direct",
    n,
    role: "before",
    before: true,
  }));
}

/**
 * Each "before" phase with this build's direct phase at the same N.
 * @param {any} r
 * @returns {{ a: any, b: any }[]}
 */
function pairs(r) {
  return r.phases
    .filter((/** @type {any} */ p) => p.role === "before")
    .map((/** @type {any} */ b) => ({ b, a: directAt(r, b.n) }))
    .filter((/** @type {{ a: any }} */ x) => x.a !== undefined);
}

/**
 * Both builds at each N (ratios: × the ceiling at that N).
 * @param {any} r
 */
export function buildsTable(r) {
  const { before } = r.parameters;
  const rows = pairs(r).flatMap(({ a, b }) =>
    [b, a].map((p) => {
      const c = ceilingFor(r, p);
      return [
        p.n,
        p.build === "before" ? `before (${before.commit})` : `after (${r.machine.commit})`,
        deflateWord(p),
        vr(p.fanoutMs.p50, c?.fanoutMs.p50, false),
        vr(p.fanoutMs.p99, c?.fanoutMs.p99, false),
        vr(p.latencyMs.p99, c?.latencyMs.p99, false),
        fmt(p.cpu.runtimeMsPerPublish),
        p.memory.runtimeKiBPerConn.afterPublishes,
        fmt(p.cpu.loadgenMsPerPublish),
        `${p.connect.totalMs / 1000} s`,
      ];
    }),
  );
  return table(
    [
      "N",
      "build",
      "frames",
      "fan-out p50 (ms)",
      "fan-out p99 (ms)",
      "latency p99 (ms)",
      "runtime CPU / publish (ms)",
      "runtime KiB / socket",
      "load generator CPU / publish (ms)",
      "connect all",
    ],
    rows,
  );
}

/**
 * What the change bought: each measure before and after, and how many times better it got
 * (before / after where lower is better, after / before for the rate that held).
 * @param {any} r
 */
export function changeTable(r) {
  if (r.parameters.before === null || pairs(r).length === 0) return notMeasured('`--before ""`');
  /** @type {unknown[][]} */
  const rows = [];
  for (const { a, b } of pairs(r)) {
    /** @param {string} what @param {(p: any) => number} get */
    const row = (what, get) => rows.push([`${what}, ${a.n} direct`, fmt(get(b)), fmt(get(a)), ratioOf(get(b), get(a))]);
    row("fan-out p99 (ms)", (p) => p.fanoutMs.p99);
    row("runtime CPU / publish (ms)", (p) => p.cpu.runtimeMsPerPublish);
    row("runtime KiB / socket", (p) => p.memory.runtimeKiBPerConn.afterPublishes);
  }
  const sb = r.sustainedBefore;
  const sa = r.sustained;
  if (sb && sa) {
    rows.push([
      `sustained, ${sa.subscribers} direct: highest rate held`,
      heldText(sb),
      heldText(sa),
      ratioOf(sa.highestRateHeld, sb.highestRateHeld),
    ]);
    // The steadier comparison at one rate both probes ran: "highest rate held" moves in whole steps.
    const step = sa.steps.find((/** @type {any} */ x) =>
      sb.steps.some((/** @type {any} */ y) => y.rate === x.rate && y.publishErrors === 0),
    );
    const twin = step && sb.steps.find((/** @type {any} */ y) => y.rate === step.rate);
    if (step && twin) {
      rows.push([
        `sustained at ${step.rate}/s: runtime CPU (% of a core)`,
        twin.runtimeCpuShare,
        step.runtimeCpuShare,
        ratioOf(twin.runtimeCpuShare, step.runtimeCpuShare),
      ]);
      rows.push([
        `sustained at ${step.rate}/s: fan-out p99 (ms)`,
        fmt(twin.fanoutMs.p99),
        fmt(step.fanoutMs.p99),
        ratioOf(twin.fanoutMs.p99, step.fanoutMs.p99),
      ]);
    }
  }
  return table(["measure", `before (${r.parameters.before.commit})`, `after (${r.machine.commit})`, "better by"], rows);
}

/** @param {any} r */
export function section(r) {
  const title = "## The hot path, before and after";
  if (r.parameters.before === null || pairs(r).length === 0) return `${title}\n\n${changeTable(r)}`;
  const probe = r.sustainedBefore ? `\n\n### The sustained probe on the build before\n\n${stepsTable(r.sustainedBefore)}` : "";
  return `${title}

${buildsTable(r)}

${changeTable(r)}${probe}`;
}
