/**
 * Where the runtime's CPU goes: one more direct phase at `--profile-n` under `perf record`, read
 * by thread, by kind of work and by function, and beside the same N unprofiled (the run's spread).
 */
import { table } from "../lib/markdown.mjs";
import { perfAvailable } from "../lib/profile.mjs";
import { fmt, mainOf, notMeasured, perSocketUs, ratioOf } from "./format.mjs";

/** Kinds of work (lib/profile.mjs's names) that are workerd's machinery around each send. */
const MACHINERY = /WebSocket send path|kj promises|HTTP I\/O|allocator|V8|other workerd|libc/;

/**
 * The profiled phase, or a note saying why there is none.
 * @param {import("./options.mjs").Options} options
 * @returns {{ specs: import("./phase.mjs").PhaseSpec[], note: string | null }}
 */
export function plan({ profileN }) {
  if (profileN === 0) return { specs: [], note: null };
  if (!perfAvailable())
    return { specs: [], note: "perf is not installed or may not sample here (perf_event_paranoid, a container): no profile" };
  return {
    specs: [{ name: `profile-direct-${profileN}`, kind: "direct", n: profileN, role: "profile", profile: true }],
    note: null,
  };
}

/** @param {any} r */
function profiled(r) {
  return r.phases.find((/** @type {any} */ p) => p.profile);
}

/**
 * CPU by thread of the user workerd over the measured publishes: the profiled phase, or else the
 * largest direct one.
 * @param {any} r
 */
export function threadsTable(r) {
  const big = profiled(r) ?? mainOf(r, "direct").at(-1);
  const total = big.cpu.runtimeThreads.reduce((/** @type {number} */ sum, /** @type {any} */ t) => sum + t.ms, 0);
  const rows = big.cpu.runtimeThreads.map((/** @type {any} */ t) => [
    `${t.name} (${t.tid})`,
    t.ms,
    `${Math.round((t.ms / Math.max(1, total)) * 100)}%`,
  ]);
  const phase = table(
    ["phase", "N", "publishes", "wall time (ms)", "CPU / publish (ms)", "CPU / socket (µs)", "perf samples"],
    [
      [
        big.name,
        big.n,
        big.delivery.publishes,
        big.cpu.wallMs,
        big.cpu.runtimeMsPerPublish,
        fmt(perSocketUs(big.cpu.runtimeMsPerPublish, big.n)),
        big.profile?.samples ?? "–",
      ],
    ],
  );
  return `${phase}\n\n${table(["thread", "CPU ms", "share"], rows)}`;
}

/**
 * The profile's kinds of work grouped as machinery, compression and kernel, in µs per socket;
 * and the object's own loop, estimated from the publish path.
 * @param {any} r
 */
export function perSocketTable(r) {
  const p = profiled(r);
  if (p === undefined) return r.parameters.profileNote ?? notMeasured("`--profile-n 0`");
  const share = (/** @type {RegExp} */ re) =>
    p.profile.kinds
      .filter((/** @type {any} */ k) => re.test(k.kind))
      .reduce((/** @type {number} */ s, /** @type {any} */ k) => s + k.pct, 0);
  const perSocket = /** @type {number} */ (perSocketUs(p.cpu.runtimeMsPerPublish, p.n));
  const row = (/** @type {string} */ what, /** @type {number} */ pct) => [
    what,
    `${Math.round(pct)}%`,
    fmt((perSocket * Math.round(pct)) / 100),
  ];
  return table(
    ["part of the runtime's CPU", "share of samples", "µs per socket per publish"],
    [
      row("workerd's machinery around each send (WebSocket, pipe and pump, kj, HTTP, V8, allocator, libc)", share(MACHINERY)),
      row("compression (permessage-deflate)", share(/compression/)),
      row("kernel (loopback TCP, syscalls, scheduling)", share(/kernel/)),
      [
        "the object's own loop: (first subscriber − publish with nobody) / N",
        "–",
        fmt(perSocketUs(p.firstMs.p50 - p.idleRttMs.p50, p.n)),
      ],
      ["all of it", "100%", fmt(perSocket)],
    ],
  );
}

/**
 * The profiled phase beside the same N unprofiled: how much one build moves between phases.
 * @param {any} r
 */
export function spreadTable(r) {
  const p = profiled(r);
  const twin = p && mainOf(r, "direct").find((x) => x.n === p.n);
  if (!twin) return "";
  /** @param {string} what @param {(x: any) => number} get */
  const row = (what, get) => [what, fmt(get(twin)), fmt(get(p)), ratioOf(get(p), get(twin))];
  return table(
    ["measure", `${twin.name}`, `${p.name} (perf at 999 Hz)`, "profiled / unprofiled"],
    [
      row("runtime CPU / publish (ms)", (x) => x.cpu.runtimeMsPerPublish),
      row("fan-out p50 (ms)", (x) => x.fanoutMs.p50),
      row("fan-out p99 (ms)", (x) => x.fanoutMs.p99),
    ],
  );
}

/** @param {any} r */
export function section(r) {
  const p = profiled(r);
  const big = p ?? mainOf(r, "direct").at(-1);
  if (big === undefined) return "";
  const samples = p
    ? `

### By kind of work (\`perf record -F 999\`, every thread)

${table(
  ["kind of work", "share"],
  p.profile.kinds.map((/** @type {any} */ k) => [k.kind, `${k.pct}%`]),
)}

${perSocketTable(r)}

${spreadTable(r)}

### The busiest functions

${table(
  ["share", "where", "function"],
  p.profile.top.map((/** @type {any} */ t) => [`${t.pct}%`, t.dso, `\`${t.sym}\``]),
  ["r", "l", "l"],
)}`
    : `\n\n${perSocketTable(r)}`;
  return `## Where the runtime's CPU goes (${big.n} subscribers, direct)

${threadsTable(r)}${samples}`;
}
