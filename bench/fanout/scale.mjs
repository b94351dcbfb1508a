/**
 * The sweep over N: for each of `--sizes`, the ceiling, edgebeat direct and edgebeat through
 * wrangler's proxy (capped, with a ceiling at the cap to compare it with). Its tables: every
 * target at every N against the ceiling, the run's totals, and connecting.
 */
import { table } from "../lib/markdown.mjs";
import { ceilingFor, deflateWord, fmt, kindLabel, lossCell, mainOf, mainPhases, subscribersCell, vr } from "./format.mjs";

/**
 * @param {import("./options.mjs").Options} options
 * @returns {import("./phase.mjs").PhaseSpec[]}
 */
export function plan({ sizes, proxyCap }) {
  /** @type {import("./phase.mjs").PhaseSpec[]} */
  const specs = [];
  for (const n of sizes) {
    const proxyN = Math.min(n, proxyCap);
    specs.push({ name: `ceiling-${n}`, kind: "ceiling", n, role: "main" });
    specs.push({ name: `direct-${n}`, kind: "direct", n, role: "main" });
    if (proxyN > 0) {
      if (proxyN !== n && !sizes.includes(proxyN))
        specs.push({ name: `ceiling-${proxyN}`, kind: "ceiling", n: proxyN, role: "main" });
      specs.push({ name: `proxy-${n}`, kind: "proxy", n: proxyN, requested: n, role: "main" });
    }
  }
  return specs;
}

/**
 * Every target at every N, edgebeat's figures with their ratio to the ceiling at the same N.
 * @param {any} r
 */
export function scaleTable(r) {
  const rows = mainPhases(r).map((/** @type {any} */ p) => {
    const c = ceilingFor(r, p);
    const isC = p.kind === "ceiling";
    return [
      subscribersCell(p),
      kindLabel(p.kind),
      deflateWord(p),
      vr(p.connect.totalMs / 1000, c && c.connect.totalMs / 1000, isC, " s"),
      lossCell(p),
      vr(p.latencyMs.p50, c?.latencyMs.p50, isC),
      vr(p.latencyMs.p99, c?.latencyMs.p99, isC),
      vr(p.fanoutMs.p50, c?.fanoutMs.p50, isC),
      vr(p.fanoutMs.p99, c?.fanoutMs.p99, isC),
      vr(p.memory.runtimeKiBPerConn.afterPublishes, c?.memory.runtimeKiBPerConn.afterPublishes, isC),
      vr(p.cpu.runtimeMsPerPublish, c?.cpu.runtimeMsPerPublish, isC),
    ];
  });
  return table(
    [
      "N",
      "target",
      "frames",
      "connect all",
      "delivered / expected",
      "latency p50 (ms)",
      "latency p99 (ms)",
      "fan-out p50 (ms)",
      "fan-out p99 (ms)",
      "RSS / socket (KiB)",
      "CPU / publish (ms)",
    ],
    rows,
  );
}

/**
 * Loss over the whole run, and how busy the rest of the machine was while it measured.
 * @param {any} r
 */
export function totalsTable(r) {
  const probes = [r.sustained, r.sustainedBefore, r.sustainedBatched].flatMap((probe) => probe?.steps ?? []);
  const shares = [...r.phases.map((/** @type {any} */ p) => p.cpu.othersPctOfCore), ...probes.map((x) => x.othersPctOfCore)];
  const measured = shares.filter((x) => typeof x === "number");
  const rows = [
    [
      "lost, duplicated: every phase (these, the memory comparison, before, floor, shards, profile)",
      `${r.totals.lost}, ${r.totals.duplicated}`,
    ],
    [
      "lost, duplicated: the sustained probes",
      r.sustained === null ? "not run" : `${r.totals.sustainedLost}, ${r.totals.sustainedDuplicated}`,
    ],
    ["other processes on the machine, most while measuring (% of a core)", measured.length === 0 ? "–" : Math.max(...measured)],
  ];
  if (r.phases.some((/** @type {any} */ p) => p.capped))
    rows.push(["sockets through wrangler's proxy, at most (compared with a ceiling at that N)", r.parameters.proxyCap]);
  return table(["run", "value"], rows, ["l", "r"]);
}

/**
 * Connecting N subscribers in batches, at 1,000 and up.
 * @param {any} r
 */
export function connectTable(r) {
  const phases = ["ceiling", "direct", "proxy"].flatMap((kind) => mainOf(r, kind)).filter((p) => p.n >= 1000);
  return table(
    ["target", "N", "connect all (s)", "sockets / s", "per socket p50 / p99 (ms)"],
    phases.map((p) => [
      kindLabel(p.kind),
      p.n,
      fmt(p.connect.totalMs / 1000),
      Math.round(p.n / (p.connect.totalMs / 1000)),
      `${p.connect.perSocketMs.p50} / ${p.connect.perSocketMs.p99}`,
    ]),
  );
}

/** @param {any} r */
export function section(r) {
  return `## Fan-out at N subscribers

${scaleTable(r)}

${totalsTable(r)}

### Connecting (batches of ${r.parameters.batch}, each socket done at its \`hello\`)

${connectTable(r)}`;
}
