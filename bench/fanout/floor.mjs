/**
 * The floor: bench/fixtures/bare-broadcast, a Durable Object that accepts hibernatable sockets and
 * sends one frame to each on a POST (no storage, no validation, no history), at 1,000 and the
 * largest N, beside the ceiling and edgebeat direct at the same N.
 */
import { table } from "../lib/markdown.mjs";
import { ceilingFor, directAt, fmt, label, notMeasured, perSocketUs, vr } from "./format.mjs";

/**
 * @param {import("./options.mjs").Options} options
 * @returns {import("./phase.mjs").PhaseSpec[]}
 */
export function plan({ sizes, largest }) {
  return [...new Set([1000, largest].filter((n) => sizes.includes(n)))].map((n) => ({
    name: `bare-direct-${n}`,
    kind: "direct",
    n,
    role: "floor",
    bare: true,
  }));
}

/** @param {any} r */
export function floorTable(r) {
  const bare = r.phases.filter((/** @type {any} */ p) => p.role === "floor");
  if (bare.length === 0) return notMeasured("needs 1,000 or the largest N in --sizes");
  const rows = bare.flatMap((/** @type {any} */ bare) => {
    const c = ceilingFor(r, bare);
    return [c, bare, directAt(r, bare.n)]
      .filter((p) => p)
      .map((p) => [
        p.n,
        label(p),
        vr(p.fanoutMs.p50, c?.fanoutMs.p50, p.kind === "ceiling"),
        vr(p.fanoutMs.p99, c?.fanoutMs.p99, p.kind === "ceiling"),
        fmt(p.firstMs.p50),
        fmt(p.cpu.runtimeMsPerPublish),
        vr(perSocketUs(p.cpu.runtimeMsPerPublish, p.n), c && perSocketUs(c.cpu.runtimeMsPerPublish, c.n), p.kind === "ceiling"),
        p.memory.runtimeKiBPerConn.afterPublishes,
      ]);
  });
  return table(
    [
      "N",
      "target",
      "fan-out p50 (ms)",
      "fan-out p99 (ms)",
      "first subscriber p50 (ms)",
      "runtime CPU / publish (ms)",
      "CPU / socket (µs)",
      "runtime KiB / socket",
    ],
    rows,
  );
}

/** @param {any} r */
export function section(r) {
  return `## The floor: a bare Durable Object broadcast

${floorTable(r)}`;
}
