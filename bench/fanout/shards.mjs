/**
 * Shards: the topic over K objects at the largest N, direct (the owner stores each publish and
 * hands it to every shard in one RPC each), beside one object.
 */
import { table } from "../lib/markdown.mjs";
import { ceilingFor, directAt, fmt, lossCell, notMeasured, vr } from "./format.mjs";

/**
 * @param {import("./options.mjs").Options} options
 * @returns {import("./phase.mjs").PhaseSpec[]}
 */
export function plan({ shards, largest }) {
  return shards.map((k) => ({ name: `direct-${largest}-shards-${k}`, kind: "direct", n: largest, role: "shards", shards: k }));
}

/** @param {any} r */
function sharded(r) {
  return r.phases.filter((/** @type {any} */ p) => p.role === "shards");
}

/** @param {any} r */
export function shardsTable(r) {
  const phases = sharded(r);
  if (phases.length === 0) return notMeasured('`--shards ""`');
  const n = phases[0].n;
  const one = directAt(r, n);
  const c = ceilingFor(r, phases[0]);
  const base = one?.cpu.runtimeMsPerPublish;
  return table(
    [
      "shards",
      "fan-out p50 (ms)",
      "fan-out p99 (ms)",
      "first subscriber p50 (ms)",
      "POST round trip p50 (ms)",
      "runtime CPU / publish (ms)",
      "CPU / publish vs 1 object",
      "runtime KiB / socket",
      "delivered / expected",
    ],
    [...(one === undefined ? [] : [one]), ...phases].map((p) => [
      p.shards,
      vr(p.fanoutMs.p50, c?.fanoutMs.p50, false),
      vr(p.fanoutMs.p99, c?.fanoutMs.p99, false),
      fmt(p.firstMs.p50),
      fmt(p.rttMs.p50),
      fmt(p.cpu.runtimeMsPerPublish),
      base ? `${Math.round((p.cpu.runtimeMsPerPublish / base) * 100)}%` : "–",
      p.memory.runtimeKiBPerConn.afterPublishes,
      lossCell(p),
    ]),
  );
}

/** @param {any} r */
export function section(r) {
  const phases = sharded(r);
  if (phases.length === 0) return `## Shards\n\n${shardsTable(r)}`;
  const counts = phases.map((/** @type {any} */ p) => p.shards).join(" vs ");
  return `## Shards: 1 vs ${counts} at ${phases[0].n} subscribers (ratios: × the ceiling)

${shardsTable(r)}`;
}
