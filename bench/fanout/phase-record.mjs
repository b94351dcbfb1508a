/**
 * What a phase keeps of what it measured: the record in bench/results/fanout.json that every
 * table is rendered from (so a change here is a change to the JSON's shape).
 */
import { summarize } from "../lib/stats.mjs";
import { round1 } from "./format.mjs";
import { kibPerSocket, othersShare } from "./samples.mjs";

/**
 * @typedef {import("./samples.mjs").Serving & { startMs: number | null }} Served
 * @typedef {ReturnType<typeof import("./samples.mjs").memory>} Memory
 * @typedef {ReturnType<typeof import("./samples.mjs").cpu>} Cpu
 */

/**
 * @param {import("./phase.mjs").PhaseSpec} spec
 * @param {object} m what the phase measured
 * @param {Served} m.target
 * @param {any} m.open the load generator's answer to "open"
 * @param {number} m.live subscribers open when the publishes started
 * @param {{ publishMs: any, readMs: any }} m.idle
 * @param {{ before: Memory, connected: Memory, after: Memory }} m.memory
 * @param {{ before: Cpu, after: Cpu, threads: any[], wallMs: number }} m.cpu
 * @param {import("./publishes.mjs").Published[]} m.warm
 * @param {any} m.warmReport the load generator's report on the warm-up publishes
 * @param {import("./publishes.mjs").Published[]} m.publishes
 * @param {any} m.report the load generator's report on the measured publishes
 * @param {any} m.profile
 */
export function phaseRecord(spec, m) {
  const { name, kind, n, requested = n, deflateServer = false, shards = 1 } = spec;
  const { open, live, report, publishes } = m;
  const perPublish = publishes.map((p) => {
    const r = report.perPublish.find((/** @type {any} */ x) => x.seq === p.seq);
    return {
      seq: p.seq,
      rttMs: p.rttMs,
      error: p.error,
      firstMs: r?.firstMs ?? null,
      fanoutMs: r?.lastMs ?? null,
      p50Ms: r?.p50Ms ?? null,
      delivered: r?.delivered ?? 0,
      duplicated: r?.duplicated ?? 0,
    };
  });
  const accepted = publishes.filter((p) => p.seq !== null).length;
  // A POST that got no 202 is reported as a publish error, not as lost deliveries.
  const expected = accepted * live;
  const { before, connected, after } = m.memory;
  /** @param {(sample: Memory) => number | null} get */
  const growth = (get) => ({
    connected: kibPerSocket(get(before), get(connected), live),
    afterPublishes: kibPerSocket(get(before), get(after), live),
  });
  /** @param {(sample: Cpu) => number | null} get */
  const perPublishCpu = (get) => {
    const a = get(m.cpu.before);
    const b = get(m.cpu.after);
    return a === null || b === null ? null : round1((b - a) / publishes.length);
  };
  /** @param {(p: (typeof perPublish)[number]) => number | null} get */
  const overPublishes = (get) =>
    summarize(
      perPublish.flatMap((p) => get(p) ?? []),
      1,
    );
  const warm = m.warm[0] === undefined ? undefined : m.warmReport.perPublish[0];
  return {
    name,
    role: spec.role,
    kind,
    n,
    requested,
    capped: requested !== n,
    deflateServer,
    // What the handshakes negotiated, not what was configured: sockets with permessage-deflate in use.
    compressedSockets: open.compressed,
    build: spec.bare ? "bare" : spec.before ? "before" : "measured",
    shards,
    targetStartMs: m.target.startMs,
    connect: {
      totalMs: open.totalMs,
      opened: open.opened,
      failed: open.failed,
      firstError: open.firstError,
      perSocketMs: open.connectMs,
    },
    idleRttMs: m.idle.publishMs,
    idleReadMs: m.idle.readMs,
    delivery: {
      subscribers: live,
      publishes: publishes.length,
      accepted,
      publishErrors: publishes.flatMap((p) => p.error ?? []),
      expected,
      delivered: report.delivered,
      lost: expected - report.delivered,
      duplicated: report.duplicated,
      incomplete: publishes.filter((p) => p.complete === false).length,
      drops: report.drops,
      otherFrames: report.otherFrames,
    },
    latencyMs: report.latencyMs,
    fanoutMs: overPublishes((p) => p.fanoutMs),
    firstMs: overPublishes((p) => p.firstMs),
    rttMs: overPublishes((p) => p.rttMs),
    warmup:
      warm === undefined || warm === null
        ? null
        : { rttMs: m.warm[0]?.rttMs ?? null, firstMs: warm.firstMs, fanoutMs: warm.lastMs, delivered: warm.delivered },
    memory: {
      before,
      connected,
      after,
      runtimeKiBPerConn: growth((sample) => sample.runtimeMiB),
      proxyKiBPerConn: growth((sample) => sample.proxyMiB),
      loadgenKiBPerConn: growth((sample) => sample.loadgenMiB),
    },
    cpu: {
      wallMs: Math.round(m.cpu.wallMs),
      runtimeMsPerPublish: perPublishCpu((c) => c.runtime),
      proxyMsPerPublish: perPublishCpu((c) => c.proxy),
      loadgenMsPerPublish: perPublishCpu((c) => c.loadgen),
      runtimeThreads: m.cpu.threads,
      othersPctOfCore: othersShare(m.cpu.before, m.cpu.after, m.cpu.wallMs),
    },
    profile: m.profile,
    perPublish,
  };
}
