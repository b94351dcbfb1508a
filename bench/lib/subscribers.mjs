import { countingWebSocket } from "./client.mjs";

/**
 * A subscriber driven by the project's client library that records what it was told: every
 * state change with its time, and every delivered seq (to count lost, duplicated and
 * out-of-order values afterwards).
 */

/**
 * @typedef {object} Tracked
 * @property {number} index
 * @property {string} state the library's last reported state
 * @property {{ at: number, state: string, detail?: string }[]} events every onState call (performance.now() ms)
 * @property {number[]} attempts when each connection attempt started (performance.now() ms)
 * @property {number[]} closes when each socket closed, as the `ws` socket saw it (performance.now() ms)
 * @property {number} lastSeq the last seq onMetric delivered (0 before any)
 * @property {number} delivered onMetric calls
 * @property {number} outOfOrder deliveries whose seq was not lastSeq + 1
 * @property {number} resets
 * @property {Int32Array} values `value.n` first delivered with each seq (-1: never delivered)
 * @property {Uint16Array} counts how many times each seq was delivered
 * @property {() => Promise<void>} live resolves the first time the subscriber is live
 * @property {() => void} close
 */

/**
 * @param {Function} subscribe the library's `subscribe`
 * @param {string} url the topic's URL
 * @param {number} index
 * @param {{ onAttempt?: (at: number) => void, onDeliver?: (frame: { seq: number, ts: number }) => void }} [options]
 * @returns {Tracked}
 */
export function trackedSubscriber(subscribe, url, index, { onAttempt, onDeliver } = {}) {
  /** @type {() => void} */
  let resolveLive = () => {};
  const firstLive = new Promise((resolve) => {
    resolveLive = () => resolve(undefined);
  });
  /** @type {Tracked} */
  const tracked = {
    index,
    state: "connecting",
    events: [],
    attempts: [],
    closes: [],
    lastSeq: 0,
    delivered: 0,
    outOfOrder: 0,
    resets: 0,
    values: new Int32Array(64).fill(-1),
    counts: new Uint16Array(64),
    live: () => /** @type {Promise<void>} */ (firstLive),
    close: () => {},
  };
  const subscription = subscribe(
    url,
    {
      onMetric: (/** @type {{ seq: number, ts: number, value: { n?: number } }} */ frame) => {
        const { seq } = frame;
        tracked.delivered++;
        if (seq !== tracked.lastSeq + 1) tracked.outOfOrder++;
        tracked.lastSeq = seq;
        if (seq >= tracked.values.length) {
          const size = Math.max(seq + 1, tracked.values.length * 2);
          const values = new Int32Array(size).fill(-1);
          values.set(tracked.values);
          const counts = new Uint16Array(size);
          counts.set(tracked.counts);
          tracked.values = values;
          tracked.counts = counts;
        }
        if (tracked.counts[seq] === 0) tracked.values[seq] = frame.value?.n ?? -3;
        tracked.counts[seq] = (tracked.counts[seq] ?? 0) + 1;
        onDeliver?.(frame);
      },
      onReset: () => {
        tracked.resets++;
        tracked.lastSeq = 0;
      },
      onState: (/** @type {string} */ state, /** @type {string | undefined} */ detail) => {
        tracked.state = state;
        tracked.events.push(detail === undefined ? { at: performance.now(), state } : { at: performance.now(), state, detail });
        if (state === "live") resolveLive();
      },
    },
    {
      // The `ws` package's WebSocket (half the memory of Node's), noting each connection attempt.
      WebSocket: countingWebSocket(
        (at) => {
          tracked.attempts.push(at);
          onAttempt?.(at);
        },
        (at) => tracked.closes.push(at),
      ),
    },
  );
  tracked.close = () => subscription.close();
  return tracked;
}

/**
 * Checks what `tracked` delivered against the values published: `expected` maps seq → the `n`
 * published with it (seqs 1..expected.length-1; index 0 unused).
 * @param {Tracked} tracked
 * @param {number[]} expected
 */
export function integrity(tracked, expected) {
  let delivered = 0;
  let lost = 0;
  let wrongValue = 0;
  /** @type {number[]} */
  const lostSeqs = [];
  for (let seq = 1; seq < expected.length; seq++) {
    const count = seq < tracked.counts.length ? (tracked.counts[seq] ?? 0) : 0;
    if (count === 0) {
      lost++;
      if (lostSeqs.length < 20) lostSeqs.push(seq);
      continue;
    }
    delivered++;
    if (tracked.values[seq] !== expected[seq]) wrongValue++;
  }
  let inRange = 0;
  for (let seq = 1; seq < Math.min(expected.length, tracked.counts.length); seq++) inRange += tracked.counts[seq] ?? 0;
  return {
    expected: expected.length - 1,
    delivered,
    lost,
    lostSeqs,
    /** deliveries of a seq already delivered */
    duplicated: inRange - delivered,
    wrongValue,
    outOfOrder: tracked.outOfOrder,
    /** deliveries of seqs never published */
    extra: tracked.delivered - inRange,
    resets: tracked.resets,
  };
}
