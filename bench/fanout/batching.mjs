/**
 * The sustained probe once more on a topic with `BATCH`, at the rates the topic without it could
 * not hold: where batching is meant to help.
 */
import { fmt, notMeasured } from "./format.mjs";
import { stepsTable } from "./sustained-report.mjs";

/**
 * The rates to try with BATCH: those of `--rates` from the first the probe without it failed.
 * @param {import("./options.mjs").Options} options
 * @param {any} unbatched the probe without BATCH, or null
 */
export function batchedRates({ rates, batchRate, sustainedN }, unbatched) {
  const firstFailed = unbatched?.steps.find((/** @type {any} */ x) => !x.holds)?.rate;
  if (sustainedN === 0 || batchRate === 0 || firstFailed === undefined) return [];
  return rates.filter((rate) => rate >= firstFailed);
}

/** @param {any} r */
export function section(r) {
  const b = r.sustainedBatched;
  if (!b || !r.sustained)
    return `## Batching\n\n${notMeasured("`--batch-rate 0` or `--sustained-n 0`, or every rate held without BATCH")}`;
  return `## Batching: \`BATCH = "${r.parameters.topic}:${b.batchRate}"\`, a broadcast at most every ${fmt(1000 / b.batchRate)} ms

${stepsTable(b, { batches: true })}`;
}
