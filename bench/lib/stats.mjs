/** Percentiles and summaries of samples. */

/**
 * The nearest-rank percentile `p` (0–100) of `sorted` (ascending), or null when empty.
 * @param {ArrayLike<number>} sorted
 * @param {number} p
 */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

/**
 * count, min, p50, p90, p99, max and mean of `values`, rounded to `digits` decimals.
 * @param {Iterable<number>} values
 * @param {number} [digits]
 */
export function summarize(values, digits = 0) {
  const sorted = Float64Array.from(values).sort();
  const round = (/** @type {number | null} */ x) => (x === null ? null : Number(x.toFixed(digits)));
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    count: sorted.length,
    min: round(sorted.length === 0 ? null : (sorted[0] ?? null)),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.length === 0 ? null : (sorted[sorted.length - 1] ?? null)),
    mean: round(sorted.length === 0 ? null : sum / sorted.length),
  };
}
