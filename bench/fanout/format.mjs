/**
 * How the fan-out tables write numbers and name phases, and how they find the phases a row is
 * compared with (the ceiling at the same N, edgebeat direct at the same N).
 */

/** @param {number | null} x */
export const round1 = (x) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 10) / 10);

/**
 * Three significant figures at most, "–" for nothing.
 * @param {number | null | undefined} x
 */
export function fmt(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  if (Math.abs(x) >= 100) return String(Math.round(x));
  if (Math.abs(x) >= 10) return x.toFixed(1).replace(/\.0$/, "");
  return String(Math.round(x * 100) / 100);
}

/**
 * A difference with its sign: "+217", "−3.5".
 * @param {number | null | undefined} x
 */
export function signed(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return `${x < 0 ? "−" : "+"}${fmt(Math.abs(x))}`;
}

/** @param {number} x */
export function ratio(x) {
  return `${x >= 10 ? Math.round(x) : x.toFixed(1)}×`;
}

/**
 * "a / b" as a ratio, "–" when either is missing.
 * @param {number | null | undefined} a
 * @param {number | null | undefined} b
 */
export function ratioOf(a, b) {
  return a === null || a === undefined || b === null || b === undefined || b <= 0 ? "–" : ratio(a / b);
}

/**
 * "value (×ratio)" for edgebeat, the bare value for the ceiling.
 * @param {number | null | undefined} value
 * @param {number | null | undefined} base
 * @param {boolean} isCeiling
 * @param {string} [unit]
 */
export function vr(value, base, isCeiling, unit = "") {
  if (value === null || value === undefined) return "–";
  const shown = `${fmt(value)}${unit}`;
  if (isCeiling || base === null || base === undefined || base <= 0) return shown;
  return `${shown} (${ratio(value / base)})`;
}

/**
 * Milliseconds over N sockets, in µs per socket.
 * @param {number | null | undefined} ms
 * @param {number} n
 */
export function perSocketUs(ms, n) {
  return ms === null || ms === undefined ? null : (ms * 1000) / n;
}

/** @param {string} kind */
export function kindLabel(kind) {
  return kind === "ceiling" ? "ceiling (ws)" : kind === "direct" ? "edgebeat direct" : "edgebeat via proxy";
}

/**
 * A phase's target, with what sets it apart: --before's build, shards, the ceiling with deflate.
 * @param {any} p
 */
export function label(p) {
  if (p.build === "bare") return "bare DO broadcast, direct";
  if (p.build === "before") return `${kindLabel(p.kind)}, before`;
  if (p.shards > 1) return `${kindLabel(p.kind)}, ${p.shards} shards`;
  if (p.kind === "ceiling" && p.deflateServer) return "ceiling (ws), with deflate";
  return kindLabel(p.kind);
}

/**
 * Whether a phase's sockets compressed, as their handshakes negotiated it.
 * @param {any} p
 */
export function deflateWord(p) {
  const n = p.compressedSockets ?? 0;
  return n === 0 ? "plain" : n === p.delivery.subscribers ? "compressed" : `${n} of ${p.delivery.subscribers} compressed`;
}

/** @param {any} p */
export function lossCell(p) {
  const d = p.delivery;
  const bad = d.lost + d.duplicated > 0;
  const text = `${d.delivered} / ${d.expected}${bad ? ` (lost ${d.lost}, dup ${d.duplicated})` : ""}`;
  return bad ? `**${text}**` : text;
}

/** @param {any} p */
export function subscribersCell(p) {
  return p.capped ? `${p.n} (capped from ${p.requested})` : String(p.n);
}

/** @param {any} probe a sustained probe */
export function heldText(probe) {
  return probe.highestRateHeld === null ? "none of those tried" : `${probe.highestRateHeld}/s`;
}

/**
 * The phases of the sweep over N (and the plain phases of the memory comparison at its own N).
 * @param {any} r
 * @returns {any[]}
 */
export function mainPhases(r) {
  return r.phases.filter((/** @type {any} */ p) => p.role === "main" || (p.role === "deflate" && !p.deflateServer));
}

/**
 * The main phases of one target, smallest N first.
 * @param {any} r
 * @param {string} kind
 * @returns {any[]}
 */
export function mainOf(r, kind) {
  return mainPhases(r)
    .filter((/** @type {any} */ p) => p.kind === kind)
    .sort((/** @type {any} */ a, /** @type {any} */ b) => a.n - b.n);
}

/**
 * The plain ceiling phase at a phase's N: what its ratios are taken against.
 * @param {any} r
 * @param {any} p
 */
export function ceilingFor(r, p) {
  return r.phases.find((/** @type {any} */ c) => c.kind === "ceiling" && !c.deflateServer && c.n === p.n) ?? null;
}

/**
 * Edgebeat direct, this build, unsharded, at N.
 * @param {any} r
 * @param {number} n
 */
export function directAt(r, n) {
  return mainPhases(r).find((/** @type {any} */ p) => p.kind === "direct" && p.n === n);
}

/**
 * What a section says when its phases did not run.
 * @param {string} why
 */
export function notMeasured(why) {
  return `Not measured (${why}).`;
}
