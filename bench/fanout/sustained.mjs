/**
 * The sustained-rate probe: one server, `--sustained-n` direct subscribers, publishes on schedule
 * (open loop: whether or not the previous one is done) at each rate for `--step-s` seconds, until
 * a rate does not hold.
 */
import { monoMs } from "../lib/procs.mjs";
import { sleep } from "../lib/sockets.mjs";
import { summarize } from "../lib/stats.mjs";
import { round1 } from "./format.mjs";
import { COMPLETE_TIMEOUT_MS, HOLD_FANOUT_P99_MS, MAX_IN_FLIGHT, OPEN_TIMEOUT_MS, TOPIC } from "./options.mjs";
import { idlePublishes, publish } from "./publishes.mjs";
import { cpu, othersShare } from "./samples.mjs";

export const HOLD_RULE = `fan-out p99 < ${HOLD_FANOUT_P99_MS} ms, nothing lost or duplicated, every POST accepted, and the bench kept ≥ 95% of the rate`;

/**
 * Runs the probe. Without BATCH, a first rate that does not hold is followed by half and a quarter
 * of it; with `batchRate`, only `rates` (the ones a topic without BATCH could not hold) are tried.
 * @param {import("./phase.mjs").Bench} bench
 * @param {{ before?: boolean, batchRate?: number, rates?: number[] }} [probe]
 */
export async function runSustained(bench, { before = false, batchRate = 0, rates = bench.options.rates } = {}) {
  const { options, targets, done, log } = bench;
  const label = before ? "sustained (before)" : batchRate > 0 ? `sustained (batch ${batchRate}/s)` : "sustained";
  log(`${label}: ${options.sustainedN} subscribers, direct; rates ${rates.join(", ")}/s, ${options.stepSeconds} s each`);
  const target = await targets.startEdgebeat("direct", { before, batchRate });
  const loadgen = await targets.startLoadgen();
  try {
    await idlePublishes(done, target, "sustained");
    const topicUrl = `${target.base}/topics/${TOPIC}`;
    const open = await loadgen.request("open", {
      url: topicUrl.replace("http", "ws"),
      n: options.sustainedN,
      batchSize: options.batch,
      timeoutMs: OPEN_TIMEOUT_MS,
      deflate: true,
    });
    if (open.failed > 0) log(`${label}: ${open.failed} sockets failed to open: ${open.firstError}`);
    await sleep(1_000);
    // One broadcast first, so the first step does not pay for the sockets' first send.
    done.clear();
    await loadgen.request("reset");
    await publish(done, topicUrl, "sustained-warm", 0, true);
    let n = 0;
    const step = async (/** @type {number} */ rate) => {
      const result = await runStep(bench, { target, loadgen, topicUrl, rate, firstN: n });
      n += result.publishes;
      log(
        `${label} ${rate}/s: fan-out p50 ${result.fanoutMs.p50} ms, p99 ${result.fanoutMs.p99}; delivered ${result.delivered}/${result.expected}, ` +
          `dup ${result.duplicated}, errors ${result.publishErrors}; runtime CPU ${result.runtimeCpuShare}% of a core; ${result.holds ? "holds" : "does not hold"}`,
      );
      await sleep(1_000);
      return result;
    };
    const steps = [];
    for (const rate of rates) {
      const result = await step(rate);
      steps.push(result);
      if (!result.holds) break;
    }
    const first = options.rates[0];
    if (batchRate === 0 && first !== undefined && steps.length === 1 && steps[0]?.holds === false) {
      for (const rate of [first / 2, first / 4]) {
        const result = await step(rate);
        steps.push(result);
        if (result.holds) break;
      }
    }
    const held = steps.filter((s) => s.holds).map((s) => s.rate);
    return {
      build: before ? "before" : "measured",
      batchRate,
      subscribers: open.opened,
      compressedSockets: open.compressed,
      stepSeconds: options.stepSeconds,
      holdRule: HOLD_RULE,
      highestRateHeld: held.length === 0 ? null : Math.max(...held),
      steps,
    };
  } finally {
    await loadgen.stop();
    await target.stop();
  }
}

/**
 * One rate for `--step-s` seconds, then until every accepted publish is everywhere (or timed out).
 * @param {import("./phase.mjs").Bench} bench
 * @param {{ target: import("./targets.mjs").Target, loadgen: any, topicUrl: string, rate: number, firstN: number }} step
 */
async function runStep({ options, done }, { target, loadgen, topicUrl, rate, firstN }) {
  done.clear();
  const { open: live } = await loadgen.request("reset");
  const count = Math.max(1, Math.round(rate * options.stepSeconds));
  const cpu0 = cpu(target, loadgen.pid);
  /** @type {Set<Promise<void>>} */
  const inFlight = new Set();
  /** @type {(import("./publishes.mjs").Published & { lateMs: number })[]} */
  const results = [];
  const start = monoMs() + 20;
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - monoMs();
    if (wait > 0) await sleep(wait);
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    const lateMs = Math.max(0, monoMs() - due);
    const p = publish(done, topicUrl, `sustained-${rate}-${i}`, firstN + i + 1, false).then((r) => {
      results.push({ ...r, lateMs: /** @type {number} */ (round1(lateMs)) });
      inFlight.delete(p);
    });
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  const seqs = results.flatMap((r) => r.seq ?? []);
  const drainStart = monoMs();
  await Promise.all(seqs.map((seq) => done.when(seq, COMPLETE_TIMEOUT_MS)));
  const drainMs = monoMs() - drainStart;
  const cpu1 = cpu(target, loadgen.pid);
  const report = await loadgen.request("report", {
    triggers: results.filter((r) => r.seq !== null).map((r) => [r.seq, r.trigger]),
  });
  const expected = results.filter((r) => r.seq !== null).length * live;
  const errors = results.flatMap((r) => r.error ?? []);
  const fanoutMs = summarize(
    report.perPublish.flatMap((/** @type {any} */ p) => p.lastMs ?? []),
    1,
  );
  const lost = expected - report.delivered;
  // Publishes per second as sent (trigger of the first to trigger of the last).
  const triggers = results.map((r) => r.trigger);
  const spanS = (Math.max(...triggers) - Math.min(...triggers)) / 1000;
  const achievedRate = count < 2 || spanS <= 0 ? rate : round1((count - 1) / spanS);
  const holds =
    errors.length === 0 &&
    lost === 0 &&
    report.duplicated === 0 &&
    report.drops === 0 &&
    (fanoutMs.p99 ?? Number.POSITIVE_INFINITY) < HOLD_FANOUT_P99_MS &&
    (achievedRate ?? 0) >= 0.95 * rate;
  const wallS = (monoMs() - start) / 1000;
  /** @param {number | null} a @param {number | null} b */
  const share = (a, b) => round1(((b ?? 0) - (a ?? 0)) / 10 / wallS);
  return {
    rate,
    publishes: count,
    subscribers: live,
    achievedRate,
    untriggeredSeqs: report.untriggeredSeqs,
    holds,
    fanoutMs,
    latencyMs: report.latencyMs,
    rttMs: summarize(
      results.flatMap((r) => r.rttMs ?? []),
      1,
    ),
    lateMs: summarize(
      results.map((r) => r.lateMs),
      1,
    ),
    drainMs: Math.round(drainMs),
    expected,
    delivered: report.delivered,
    lost,
    duplicated: report.duplicated,
    drops: report.drops,
    publishErrors: errors.length,
    errorKinds: [...new Set(errors)],
    runtimeCpuMsPerPublish: round1(((cpu1.runtime ?? 0) - (cpu0.runtime ?? 0)) / count),
    runtimeCpuShare: share(cpu0.runtime, cpu1.runtime),
    batchFramesPerSubscriber: live === 0 ? 0 : round1(report.batches / live),
    loadgenCpuShare: share(cpu0.loadgen, cpu1.loadgen),
    othersPctOfCore: othersShare(cpu0, cpu1, wallS * 1000),
  };
}
