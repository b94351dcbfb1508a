/**
 * The run in a few rows: docs/performance.md's `bench:fanout` table, and what the bench prints
 * when it is done.
 */
import { table } from "../lib/markdown.mjs";
import { ceilingFor, fmt, heldText, label, mainPhases, ratio } from "./format.mjs";
import { HOLD_FANOUT_P99_MS } from "./options.mjs";

/** @param {any} r */
export function summaryText(r) {
  const lines = [
    `fan-out: ${r.parameters.sizes.join(", ")} subscribers × ${r.parameters.publishes} publishes, ${r.machine.cores} cores, node ${r.machine.node}`,
  ];
  for (const p of [
    ...mainPhases(r),
    ...r.phases.filter((/** @type {any} */ x) => x.role === "before" || x.role === "shards" || x.role === "floor"),
  ]) {
    const c = ceilingFor(r, p);
    const x = (/** @type {number} */ v, /** @type {number | undefined} */ b) =>
      p.kind === "ceiling" || !b ? "" : ` (${ratio(v / b)})`;
    lines.push(
      `${String(p.n).padStart(5)} ${label(p).padEnd(26)} fan-out p50 ${p.fanoutMs.p50} ms${x(p.fanoutMs.p50, c?.fanoutMs.p50)}, p99 ${p.fanoutMs.p99}${x(p.fanoutMs.p99, c?.fanoutMs.p99)}; ` +
        `latency p99 ${p.latencyMs.p99}${x(p.latencyMs.p99, c?.latencyMs.p99)}; RSS/socket ${p.memory.runtimeKiBPerConn.afterPublishes} KiB; CPU/publish ${p.cpu.runtimeMsPerPublish} ms; ` +
        `delivered ${p.delivery.delivered}/${p.delivery.expected}`,
    );
  }
  if (r.sustained !== null)
    lines.push(`sustained (${r.sustained.subscribers} direct): highest rate held ${r.sustained.highestRateHeld ?? "none"}/s`);
  if (r.sustainedBatched)
    lines.push(
      `sustained, batch ${r.sustainedBatched.batchRate}/s (${r.sustainedBatched.subscribers} direct): highest rate held ${r.sustainedBatched.highestRateHeld ?? "none"}/s`,
    );
  if (r.sustainedBefore)
    lines.push(
      `sustained, before (${r.sustainedBefore.subscribers} direct): highest rate held ${r.sustainedBefore.highestRateHeld ?? "none"}/s`,
    );
  lines.push(
    r.ok
      ? "OK: nothing lost or duplicated"
      : `PROBLEM: lost ${r.totals.lost}, duplicated ${r.totals.duplicated} (see the phases in the JSON)`,
  );
  return lines.join("\n");
}

/**
 * The headline rows docs/performance.md shows between its bench:fanout markers.
 * @param {any} r
 */
export function headlineTable(r) {
  const main = mainPhases(r);
  const sizes = [...new Set(main.filter((/** @type {any} */ p) => p.kind === "direct").map((/** @type {any} */ p) => p.n))].sort(
    (a, b) => a - b,
  );
  const cell = (/** @type {string} */ kind, /** @type {(p: any) => number} */ get) =>
    sizes
      .map((n) => {
        const p = main.find((/** @type {any} */ x) => x.kind === kind && (x.requested ?? x.n) === n);
        if (p === undefined) return "–";
        const c = ceilingFor(r, p);
        const base = c === null ? null : get(c);
        return `${fmt(get(p))} ms${base ? ` (${ratio(get(p) / base)})` : ""}`;
      })
      .join(" / ");
  const largest = Math.max(...sizes);
  const after = main.find((/** @type {any} */ p) => p.kind === "direct" && p.n === largest);
  const before = r.phases.find((/** @type {any} */ p) => p.role === "before" && p.n === largest);
  const sharded = r.phases.filter((/** @type {any} */ p) => p.role === "shards");
  const proxyCapped = main.some((/** @type {any} */ p) => p.capped);
  const rows = [
    ["subscribers", `${sizes.join(" / ")}${proxyCapped ? ` (via the proxy at most ${r.parameters.proxyCap})` : ""}`],
    ["fan-out p50, direct (× ceiling)", cell("direct", (p) => p.fanoutMs.p50)],
    ["fan-out p99, direct (× ceiling)", cell("direct", (p) => p.fanoutMs.p99)],
    ["fan-out p50, via wrangler's proxy (× ceiling)", cell("proxy", (p) => p.fanoutMs.p50)],
    ["trigger → receive p99, direct (× ceiling)", cell("direct", (p) => p.latencyMs.p99)],
    [
      "lost, duplicated",
      `${r.totals.lost}, ${r.totals.duplicated}${r.sustained === null ? "" : ` (sustained probe: ${r.totals.sustainedLost}, ${r.totals.sustainedDuplicated})`}`,
    ],
  ];
  if (r.sustained !== null) {
    rows.push([
      `sustained, ${r.sustained.subscribers} direct: highest rate with fan-out p99 < ${HOLD_FANOUT_P99_MS} ms and no loss`,
      r.sustained.highestRateHeld === null ? "none tried held" : `${r.sustained.highestRateHeld} publishes/s`,
    ]);
  }
  const afterCeiling = after === undefined ? null : ceilingFor(r, after);
  if (after && afterCeiling) {
    const x = after.fanoutMs.p99 / afterCeiling.fanoutMs.p99;
    rows.push([
      `goal: fan-out p99 at ${largest} direct at most 1.5× the ceiling`,
      `${ratio(x)} (${fmt(after.fanoutMs.p99)} vs ${fmt(afterCeiling.fanoutMs.p99)} ms): ${x <= 1.5 ? "met" : "**not met**"}`,
    ]);
    rows.push([
      `runtime memory per socket, ${largest} direct`,
      `${after.memory.runtimeKiBPerConn.afterPublishes} KiB (the ceiling: ${afterCeiling.memory.runtimeKiBPerConn.afterPublishes} KiB)`,
    ]);
  }
  if (r.sustained !== null) {
    const held = r.sustained.highestRateHeld ?? 0;
    rows.push([
      `goal: at least 20 publishes/s to ${r.sustained.subscribers} with fan-out p99 < ${HOLD_FANOUT_P99_MS} ms, no loss`,
      `${heldText(r.sustained)} held: ${held >= 20 ? "met" : "**not met**"}`,
    ]);
  }
  if (before && after) {
    const c = ceilingFor(r, after);
    const x = (/** @type {number} */ v) => (c ? ` (${ratio(v / c.fanoutMs.p99)})` : "");
    rows.push([
      `hot path before → after (declining permessage-deflate), ${largest} direct`,
      `fan-out p99 ${fmt(before.fanoutMs.p99)}${x(before.fanoutMs.p99)} → ${fmt(after.fanoutMs.p99)} ms${x(after.fanoutMs.p99)}; ` +
        `runtime ${before.memory.runtimeKiBPerConn.afterPublishes} → ${after.memory.runtimeKiBPerConn.afterPublishes} KiB per socket` +
        (r.sustainedBefore && r.sustained ? `; sustained ${heldText(r.sustainedBefore)} → ${heldText(r.sustained)}` : ""),
    ]);
  }
  if (r.sustainedBatched && r.sustained) {
    rows.push([
      `sustained, ${r.sustained.subscribers} direct, with BATCH ${r.sustainedBatched.batchRate}/s (from the first rate failed without it)`,
      `${heldText(r.sustainedBatched)} (without: ${heldText(r.sustained)})`,
    ]);
  }
  const floor = r.phases.find((/** @type {any} */ p) => p.role === "floor" && p.n === largest);
  if (floor && after && afterCeiling) {
    rows.push([
      `fan-out p99 at ${largest} direct, a bare Durable Object broadcast (the floor) / edgebeat`,
      `${fmt(floor.fanoutMs.p99)} ms (${ratio(floor.fanoutMs.p99 / afterCeiling.fanoutMs.p99)}) / ${fmt(after.fanoutMs.p99)} ms (${ratio(after.fanoutMs.p99 / afterCeiling.fanoutMs.p99)})`,
    ]);
  }
  if (sharded.length > 0 && after) {
    rows.push([
      `fan-out p99 at ${largest} direct, 1 / ${sharded.map((/** @type {any} */ p) => p.shards).join(" / ")} shards (one local process)`,
      [after, ...sharded].map((/** @type {any} */ p) => `${fmt(p.fanoutMs.p99)} ms`).join(" / "),
    ]);
  }
  rows.push(["machine, date", `${r.machine.cores} cores, ${r.date.slice(0, 10)}, commit ${r.machine.commit}`]);
  return table(["fan-out (`npm run bench`)", "last run"], rows, ["l", "l"]);
}
