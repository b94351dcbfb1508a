/**
 * What a publish costs, read from the sweep over N: per socket (fan-out time and CPU over N, and
 * the slope between the two largest N) and along the publish path (Worker, RPC, write, sends).
 */
import { table } from "../lib/markdown.mjs";
import { ceilingFor, fmt, kindLabel, mainOf, perSocketUs, ratioOf, vr } from "./format.mjs";

/** @param {any} r */
function byTarget(r) {
  return ["ceiling", "direct", "proxy"].flatMap((kind) => mainOf(r, kind));
}

/**
 * µs per socket per publish: fan-out time and each process's CPU over N.
 * @param {any} r
 */
export function perSendTable(r) {
  const rows = byTarget(r).map((p) => {
    const c = ceilingFor(r, p);
    const cpuUs = perSocketUs(p.cpu.runtimeMsPerPublish, p.n);
    return [
      kindLabel(p.kind),
      p.n,
      fmt(perSocketUs(p.fanoutMs.p50, p.n)),
      vr(cpuUs, c && perSocketUs(c.cpu.runtimeMsPerPublish, c.n), p.kind === "ceiling"),
      fmt(perSocketUs(p.cpu.proxyMsPerPublish, p.n)),
      fmt(perSocketUs(p.cpu.loadgenMsPerPublish, p.n)),
      p.fanoutMs.p50 > 0 && p.cpu.runtimeMsPerPublish !== null
        ? `${Math.round((p.cpu.runtimeMsPerPublish / p.fanoutMs.p50) * 100)}%`
        : "–",
    ];
  });
  return table(
    ["target", "N", "fan-out p50 / N", "serving process CPU / N", "proxy CPU / N", "load generator CPU / N", "busy"],
    rows,
  );
}

/**
 * The marginal cost of a socket: the slope of fan-out p50 against N between the two largest of `--sizes`.
 * @param {any} r
 */
export function marginalTable(r) {
  const slope = (/** @type {string} */ kind) => {
    const sized = mainOf(r, kind).filter((p) => r.parameters.sizes.includes(p.requested ?? p.n));
    const a = sized.at(-2);
    const b = sized.at(-1);
    return a === undefined || b === undefined
      ? null
      : { kind, from: a.n, to: b.n, us: ((b.fanoutMs.p50 - a.fanoutMs.p50) * 1000) / (b.n - a.n) };
  };
  const ceiling = slope("ceiling");
  const slopes = [ceiling, slope("direct"), slope("proxy")].flatMap((s) => s ?? []);
  if (slopes.length === 0) return "Needs two sizes in --sizes.";
  return table(
    ["target", "from N", "to N", "fan-out p50 slope (µs per socket)", "× the ceiling's"],
    slopes.map((s) => [kindLabel(s.kind), s.from, s.to, fmt(s.us), s.kind === "ceiling" ? "–" : ratioOf(s.us, ceiling?.us)]),
  );
}

/**
 * The publish path at p50 (ms): with nobody subscribed, then the first and the last subscriber.
 * @param {any} r
 */
export function publishPathTable(r) {
  const rows = byTarget(r).map((p) => {
    const edgebeat = p.kind !== "ceiling";
    const writeMs = Math.max(0, p.idleRttMs.p50 - p.idleReadMs.p50);
    return [
      kindLabel(p.kind),
      p.n,
      fmt(p.idleReadMs.p50),
      fmt(p.idleRttMs.p50),
      edgebeat ? fmt(writeMs) : "–",
      fmt(p.firstMs.p50),
      fmt(p.fanoutMs.p50),
      fmt(p.rttMs.p50),
      edgebeat && p.fanoutMs.p50 > 0 ? `${Math.round((writeMs / p.fanoutMs.p50) * 100)}%` : "–",
      edgebeat ? fmt(perSocketUs(Math.max(0, p.firstMs.p50 - p.idleRttMs.p50), p.n)) : "–",
      edgebeat ? fmt(perSocketUs(Math.max(0, p.fanoutMs.p50 - p.firstMs.p50), p.n)) : "–",
    ];
  });
  return table(
    [
      "target",
      "N",
      "read, no subscribers",
      "publish, no subscribers",
      "write ≈ publish − read",
      "first subscriber has it",
      "last subscriber has it (fan-out)",
      "POST round trip",
      "write / fan-out",
      "(first − publish) / N, µs",
      "(fan-out − first) / N, µs",
    ],
    rows,
  );
}

/** @param {any} r */
export function section(r) {
  return `## Per-send cost (µs per socket, per publish)

${perSendTable(r)}

${marginalTable(r)}

## The publish path: Worker, RPC, storage write, then the sends (p50, ms)

${publishPathTable(r)}`;
}
