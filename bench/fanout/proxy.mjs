/**
 * wrangler dev's public port against the runtime's own: each proxy phase of the sweep over N
 * beside edgebeat direct at the same N (or at the N the proxy cap lowered).
 */
import { table } from "../lib/markdown.mjs";
import { fmt, mainOf, notMeasured, perSocketUs, ratio } from "./format.mjs";

/** @param {any} r */
export function proxyTable(r) {
  const direct = mainOf(r, "direct");
  const rows = mainOf(r, "proxy").map((p) => {
    const d = direct.find((x) => x.n === p.n) ?? direct.find((x) => x.n === p.requested);
    /** @param {(x: any) => number} get @param {string} [unit] */
    const pair = (get, unit = "") => `${fmt(get(p))} / ${d ? fmt(get(d)) : "–"}${unit}`;
    const sameN = d !== undefined && d.n === p.n;
    return [
      `${p.n} / ${d?.n ?? "–"}`,
      `${pair((x) => x.fanoutMs.p50, " ms")}${sameN ? ` (${ratio(p.fanoutMs.p50 / d.fanoutMs.p50)})` : ""}`,
      pair((x) => /** @type {number} */ (perSocketUs(x.fanoutMs.p50, x.n))),
      pair((x) => x.latencyMs.p99, " ms"),
      pair((x) => x.rttMs.p50, " ms"),
      `${p.cpu.proxyMsPerPublish ?? "–"} ms`,
      `${p.memory.proxyKiBPerConn.afterPublishes ?? "–"} KiB`,
    ];
  });
  return table(
    [
      "N (proxy / direct)",
      "fan-out p50 proxy / direct",
      "fan-out p50 / N proxy / direct (µs)",
      "latency p99 proxy / direct",
      "POST round trip p50 proxy / direct",
      "proxy workerd CPU / publish",
      "proxy workerd RSS / socket",
    ],
    rows,
  );
}

/** @param {any} r */
export function section(r) {
  const body = mainOf(r, "proxy").length === 0 ? notMeasured("`--proxy-cap 0`") : proxyTable(r);
  return `## The proxy's overhead (wrangler dev's public port vs the runtime's own port)

${body}`;
}
