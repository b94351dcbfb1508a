/** The run's record: bench/results/fanout.json, from the options and every phase and probe. */

import { TOPIC } from "./options.mjs";
import { FRAME_BYTES } from "./publishes.mjs";

/**
 * @param {object} run
 * @param {import("./options.mjs").Options} run.options
 * @param {any} run.machine machineFacts(), with the commit measured
 * @param {string | null} run.beforeCommit
 * @param {string | null} run.profileNote
 * @param {number} run.durationS
 * @param {any[]} run.phases
 * @param {any} run.sustained
 * @param {any} run.sustainedBefore
 * @param {any} run.sustainedBatched
 */
export function runRecord({ options: o, machine, beforeCommit, profileNote, durationS, phases, ...probes }) {
  const lost = phases.reduce((sum, p) => sum + p.delivery.lost, 0);
  const duplicated = phases.reduce((sum, p) => sum + p.delivery.duplicated, 0);
  const steps = [probes.sustained, probes.sustainedBefore, probes.sustainedBatched].flatMap((probe) => probe?.steps ?? []);
  const sustainedLost = steps.reduce((sum, x) => sum + x.lost, 0);
  const sustainedDuplicated = steps.reduce((sum, x) => sum + x.duplicated, 0);
  const ok =
    lost + duplicated + sustainedLost + sustainedDuplicated === 0 &&
    phases.every((p) => p.delivery.publishErrors.length === 0 && p.connect.failed === 0);
  return {
    bench: "fanout",
    date: new Date().toISOString(),
    ok,
    durationS,
    machine,
    parameters: {
      sizes: o.sizes,
      publishes: o.publishes,
      warmup: o.warmup,
      spacingMs: o.spacingMs,
      proxyCap: o.proxyCap,
      deflateN: o.deflateN,
      before: o.before === undefined ? null : { ref: o.before, commit: beforeCommit },
      shards: o.shards,
      batchRate: o.batchRate,
      sustainedN: o.sustainedN,
      rates: o.rates,
      stepSeconds: o.stepSeconds,
      batch: o.batch,
      profileN: o.profileN,
      profileNote,
      source: o.ref === undefined ? "the working tree (snapshot)" : `${o.ref} (git archive)`,
      frameBytes: FRAME_BYTES,
      topic: TOPIC,
      client:
        "raw ws sockets (ws package) in one load-generator process; permessage-deflate offered (the ws and browser default) unless noted",
      ceiling:
        "Node ws server (bench/lib/ceiling.mjs) in its own process: one Buffer per publish sent to every client; permessage-deflate off (ws's default) unless noted",
    },
    totals: { lost, duplicated, sustainedLost, sustainedDuplicated },
    phases,
    sustained: probes.sustained,
    sustainedBefore: probes.sustainedBefore,
    sustainedBatched: probes.sustainedBatched,
  };
}
