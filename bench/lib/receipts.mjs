/**
 * The fan-out load generators' receipt book (bench/lib/loadgen.mjs for WebSockets,
 * bench/fanout/sse-loadgen.mjs for streams): per seq, when each subscriber first had it, how many
 * have it and how many deliveries were repeats; and the per-publish report both answer `report`
 * with. Times are CLOCK_MONOTONIC ms (`monoMs`), the clock the bench takes its triggers on.
 */
import { summarize } from "./stats.mjs";

/** @param {number} x */
function round(x) {
  return Number.isFinite(x) ? Math.round(x * 10) / 10 : null;
}

export class Receipts {
  /** @type {Map<number, { times: Float64Array, seen: Uint8Array, unique: number, dups: number }>} */
  #records = new Map();
  /** A seq is complete when this many subscribers have it (set by `arm`). */
  #completeAt = Number.POSITIVE_INFINITY;

  /**
   * @param {() => number} subscribers how many subscribers there are now (the arrays' length for a new seq)
   * @param {(seq: number, at: number) => void} onComplete called once a seq reaches the armed count
   */
  constructor(subscribers, onComplete) {
    this.subscribers = subscribers;
    this.onComplete = onComplete;
  }

  /** Notes that subscriber `index` had `seq` at `at`; a repeat only counts as one. */
  record(/** @type {number} */ index, /** @type {number} */ seq, /** @type {number} */ at) {
    let r = this.#records.get(seq);
    if (r === undefined) {
      const n = this.subscribers();
      r = { times: new Float64Array(n), seen: new Uint8Array(n), unique: 0, dups: 0 };
      this.#records.set(seq, r);
    }
    if (index >= r.seen.length) return;
    if (r.seen[index] === 1) {
      r.dups++;
      return;
    }
    r.seen[index] = 1;
    r.times[index] = at;
    r.unique++;
    if (r.unique === this.#completeAt) this.onComplete(seq, at);
  }

  /** Forgets every receipt; from now on a seq is complete at `completeAt` subscribers (Infinity: never). */
  reset(completeAt = Number.POSITIVE_INFINITY) {
    this.#records = new Map();
    this.#completeAt = completeAt;
  }

  /**
   * Per publish delivered / duplicated / first, last and median receive after its trigger, and the
   * trigger → receive latency over every delivery.
   * @param {[number, number][]} triggers [seq, trigger ms]
   * @param {number} open subscribers open now (the expected count when none was armed)
   */
  report(triggers, open) {
    const expected = this.#completeAt === Number.POSITIVE_INFINITY ? open : this.#completeAt;
    const latencies = new Float64Array(triggers.length * Math.max(1, expected));
    let count = 0;
    const perPublish = triggers.map(([seq, trigger]) => {
      const r = this.#records.get(seq);
      if (r === undefined) return { seq, delivered: 0, duplicated: 0, firstMs: null, lastMs: null, p50Ms: null };
      let first = Number.POSITIVE_INFINITY;
      let last = Number.NEGATIVE_INFINITY;
      const own = new Float64Array(r.unique);
      let k = 0;
      for (let i = 0; i < r.seen.length; i++) {
        if (r.seen[i] !== 1) continue;
        const t = /** @type {number} */ (r.times[i]);
        if (t < first) first = t;
        if (t > last) last = t;
        own[k++] = t - trigger;
        if (count < latencies.length) latencies[count++] = t - trigger;
      }
      own.sort();
      return {
        seq,
        delivered: r.unique,
        duplicated: r.dups,
        firstMs: round(first - trigger),
        lastMs: round(last - trigger),
        p50Ms: round(own[Math.max(0, Math.ceil(own.length / 2) - 1)] ?? Number.NaN),
      };
    });
    const triggered = new Set(triggers.map(([seq]) => seq));
    return {
      expectedPerPublish: expected,
      perPublish,
      latencyMs: summarize(latencies.subarray(0, count), 1),
      delivered: perPublish.reduce((sum, p) => sum + p.delivered, 0),
      duplicated: perPublish.reduce((sum, p) => sum + p.duplicated, 0),
      /** metric frames of seqs nobody published in this window (the join replay of the latest, for one) */
      untriggeredSeqs: [...this.#records.keys()].filter((seq) => !triggered.has(seq)).length,
    };
  }
}
