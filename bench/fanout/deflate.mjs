/**
 * Memory and CPU per socket with and without permessage-deflate, at `--deflate-n`: the ceiling
 * plain and with deflate, edgebeat this build (declines it) and the build before (accepted it).
 */
import { table } from "../lib/markdown.mjs";
import { fmt, label, notMeasured, perSocketUs, signed } from "./format.mjs";

/**
 * @param {import("./options.mjs").Options} options
 * @returns {import("./phase.mjs").PhaseSpec[]}
 */
export function plan({ deflateN, sizes }) {
  if (deflateN === 0) return [];
  /** @type {import("./phase.mjs").PhaseSpec[]} */
  const specs = [];
  if (!sizes.includes(deflateN)) {
    specs.push({ name: `ceiling-${deflateN}`, kind: "ceiling", n: deflateN, role: "deflate" });
    specs.push({ name: `direct-${deflateN}`, kind: "direct", n: deflateN, role: "deflate" });
  }
  specs.push({ name: `ceiling-${deflateN}-deflate`, kind: "ceiling", n: deflateN, deflateServer: true, role: "deflate" });
  return specs;
}

/**
 * The phases at `--deflate-n` of the ceiling and of edgebeat direct (this build and the one before).
 * @param {any} r
 */
function phasesAt(r) {
  return r.phases.filter(
    (/** @type {any} */ p) =>
      ["main", "deflate", "before"].includes(p.role) &&
      p.n === r.parameters.deflateN &&
      (p.kind === "direct" || p.kind === "ceiling"),
  );
}

/** @param {any} r */
export function memoryTable(r) {
  return table(
    [
      "target",
      "sockets compressed (negotiated)",
      "server KiB / socket connected",
      "after publishes",
      "client KiB / socket after publishes",
      "fan-out p50",
      "server CPU / publish",
      "client CPU / publish",
    ],
    phasesAt(r).map((/** @type {any} */ p) => [
      label(p),
      `${p.compressedSockets ?? "–"} of ${p.delivery.subscribers}`,
      p.memory.runtimeKiBPerConn.connected,
      p.memory.runtimeKiBPerConn.afterPublishes,
      p.memory.loadgenKiBPerConn.afterPublishes,
      `${fmt(p.fanoutMs.p50)} ms`,
      `${p.cpu.runtimeMsPerPublish} ms`,
      `${p.cpu.loadgenMsPerPublish} ms`,
    ]),
  );
}

/**
 * What deflate costs each server: with it against without, per socket.
 * @param {any} r
 */
export function costTable(r) {
  const phases = phasesAt(r);
  const pairs = [
    {
      server: "edgebeat direct (before with, this build without)",
      on: phases.find((/** @type {any} */ p) => p.kind === "direct" && p.compressedSockets > 0),
      off: phases.find((/** @type {any} */ p) => p.kind === "direct" && p.compressedSockets === 0),
    },
    {
      server: "ceiling (ws)",
      on: phases.find((/** @type {any} */ p) => p.kind === "ceiling" && p.deflateServer),
      off: phases.find((/** @type {any} */ p) => p.kind === "ceiling" && !p.deflateServer),
    },
  ].filter((x) => x.on !== undefined && x.off !== undefined);
  if (pairs.length === 0) return notMeasured("needs --deflate-n and --before, or the ceiling with deflate");
  /** @param {{ on: any, off: any }} pair @param {(p: any) => number | null} get */
  const cell = ({ on, off }, get) => {
    const a = get(on);
    const b = get(off);
    return `${fmt(a)} / ${fmt(b)} (${a === null || b === null ? "–" : signed(a - b)})`;
  };
  const us = (/** @type {number | null} */ ms, /** @type {any} */ p) => perSocketUs(ms, p.n);
  return table(
    [
      "server",
      "N",
      "server KiB / socket, with / without (difference)",
      "server CPU µs / socket / publish, with / without",
      "client CPU µs / frame, with / without",
      "fan-out p50 ms, with / without",
    ],
    pairs.map((x) => [
      x.server,
      x.on.n,
      cell(x, (p) => p.memory.runtimeKiBPerConn.afterPublishes),
      cell(x, (p) => us(p.cpu.runtimeMsPerPublish, p)),
      cell(x, (p) => us(p.cpu.loadgenMsPerPublish, p)),
      cell(x, (p) => p.fanoutMs.p50),
    ]),
  );
}

/** @param {any} r */
export function section(r) {
  const title = `## Memory per socket, with and without permessage-deflate (${r.parameters.deflateN} subscribers)`;
  if (phasesAt(r).length === 0) return `${title}\n\n${notMeasured("`--deflate-n 0`")}`;
  return `${title}

${memoryTable(r)}

${costTable(r)}`;
}
