/**
 * One phase: a fresh target and load generator, N subscribers, W warm-up publishes and then K
 * measured ones, one at a time. Every phase of the plan (the sweep over N, the memory comparison,
 * the build before, the floor, shards, the profile) runs through here.
 */
import path from "node:path";
import { monoMs, threadCpuDelta, threadCpuMs } from "../lib/procs.mjs";
import { startProfile, summarizeProfile } from "../lib/profile.mjs";
import { sleep } from "../lib/sockets.mjs";
import { OPEN_TIMEOUT_MS, TOPIC } from "./options.mjs";
import { phaseRecord } from "./phase-record.mjs";
import { idlePublishes, publish } from "./publishes.mjs";
import { cpu, memory } from "./samples.mjs";

/**
 * @typedef {object} PhaseSpec
 * @property {string} name
 * @property {"ceiling" | "direct" | "proxy"} kind
 * @property {number} n subscribers
 * @property {number} [requested] the N asked for, when the proxy cap lowered it
 * @property {string} role which part of the plan it belongs to (main, deflate, before, floor, shards, profile)
 * @property {boolean} [deflateServer] the ceiling with permessage-deflate
 * @property {boolean} [profile] under `perf record`
 * @property {boolean} [before] --before's build
 * @property {number} [shards]
 * @property {boolean} [bare] the bare Durable Object broadcast
 */

/**
 * @typedef {object} Bench what every phase and probe runs with
 * @property {import("./options.mjs").Options} options
 * @property {import("./targets.mjs").Targets} targets
 * @property {import("./publishes.mjs").Completions} done
 * @property {string} profileDir
 * @property {(message: string) => void} log
 */

/**
 * @param {Bench} bench
 * @param {PhaseSpec} spec
 */
export async function runPhase(bench, spec) {
  const { name, kind, n, deflateServer = false, profile = false, shards = 1, bare = false } = spec;
  const { options, targets, done, log } = bench;
  log(`${name}: starting (${kind}, ${n} subscribers)`);
  const target =
    kind === "ceiling"
      ? await targets.startCeiling(deflateServer)
      : await targets.startEdgebeat(kind, { before: spec.before, shards, bare });
  const loadgen = await targets.startLoadgen();
  try {
    const idle = await idlePublishes(done, target, name);
    const before = memory(target, loadgen.pid);
    const topicUrl = `${target.base}/topics/${TOPIC}`;
    const open = await loadgen.request("open", {
      url: topicUrl.replace("http", "ws"),
      n,
      batchSize: options.batch,
      timeoutMs: OPEN_TIMEOUT_MS,
      deflate: true,
    });
    const failure = open.firstError ? `: ${open.firstError}` : "";
    log(`${name}: ${open.opened}/${n} open in ${open.totalMs} ms (${open.failed} failed${failure})`);
    await sleep(1_000);
    const connected = memory(target, loadgen.pid);
    done.clear();
    const { open: live } = await loadgen.request("reset");

    /** @type {import("./publishes.mjs").Published[]} */
    const warm = [];
    for (let w = 1; w <= options.warmup; w++) {
      warm.push(await publish(done, topicUrl, `${name}-warm-${w}`, w, true));
      await sleep(options.spacingMs);
    }
    const cpu0 = cpu(target, loadgen.pid);
    const threads0 = threadCpuMs(target.runtimePid);
    const perfFile = path.join(bench.profileDir, `${name}.data`);
    const profiler = profile ? startProfile(target.runtimePid, perfFile) : null;
    if (profiler !== null) await sleep(300);
    const phaseStart = monoMs();
    /** @type {import("./publishes.mjs").Published[]} */
    const publishes = [];
    for (let k = 1; k <= options.publishes; k++) {
      const result = await publish(done, topicUrl, `${name}-${k}`, options.warmup + k, true);
      publishes.push(result);
      // At least spacingMs from trigger to trigger, and a breath after the fan-out completed.
      await sleep(Math.max(result.trigger + options.spacingMs, monoMs() + 100) - monoMs());
    }
    const wallMs = monoMs() - phaseStart;
    const cpu1 = cpu(target, loadgen.pid);
    const threads = threadCpuDelta(threads0, threadCpuMs(target.runtimePid)).slice(0, 6);
    await profiler?.stop();
    const after = memory(target, loadgen.pid);
    const triggers = (/** @type {typeof publishes} */ list) =>
      list.filter((p) => p.seq !== null).map((p) => [/** @type {number} */ (p.seq), p.trigger]);
    const warmReport = await loadgen.request("report", { triggers: triggers(warm) });
    const report = await loadgen.request("report", { triggers: triggers(publishes) });

    const result = phaseRecord(spec, {
      target,
      open,
      live,
      idle,
      memory: { before, connected, after },
      cpu: { before: cpu0, after: cpu1, threads, wallMs },
      warm,
      warmReport,
      publishes,
      report,
      profile: profiler === null ? null : summarizeProfile(perfFile),
    });
    log(
      `${name}: fan-out p50 ${result.fanoutMs.p50} ms, p99 ${result.fanoutMs.p99}; latency p50 ${result.latencyMs.p50}, p99 ${result.latencyMs.p99}; ` +
        `delivered ${report.delivered}/${result.delivery.expected}, dup ${report.duplicated}; RSS/conn ${result.memory.runtimeKiBPerConn.afterPublishes} KiB; CPU/publish ${result.cpu.runtimeMsPerPublish} ms`,
    );
    return result;
  } finally {
    await loadgen.stop();
    await target.stop();
  }
}
