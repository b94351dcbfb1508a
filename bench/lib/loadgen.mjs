/**
 * The load generator of `bench/fanout.mjs`: raw `ws` subscribers in their own process (started
 * with `fork`), driven over IPC, that note when each metric frame reaches each socket.
 *
 * Times are CLOCK_MONOTONIC ms (`monoMs`), the clock the bench takes its trigger times on, so
 * "trigger → receive" subtracts two readings of one clock across two processes. The `message`
 * handler does as little as it can: read the clock, find the seq, store the time.
 *
 * Commands (`{ cmd, id, ... }`, each answered with `{ id, ... }`):
 * - `open { url, n, batchSize, timeoutMs, deflate }`: opens n more sockets, `batchSize` at a time;
 *   a socket counts as connected when its first frame (`hello`) arrives. `deflate: false` makes
 *   the client not offer permessage-deflate (the `ws` default, like browsers, is to offer it).
 *   The answer counts the sockets on which the server accepted it (`compressed`).
 * - `reset`: forgets every frame received so far; from now on a seq is "complete" when every
 *   socket open at this moment has it, and `{ event: "complete", seq }` is sent when it is.
 * - `report { triggers: [[seq, triggerMs], ...] }`: per publish delivered / duplicated / first and
 *   last receive after its trigger, and the trigger → receive latency of every delivery. A
 *   `batch` frame delivers each of its metrics at the moment it arrives (`batches` counts them).
 * - `close`: closes every socket (terminating those that do not finish within 10 s).
 *
 * It exits when the bench goes away (IPC disconnect) or after `deadlineMs` (argv[2]).
 */
import WebSocket from "ws";
import { monoMs } from "./procs.mjs";
import { summarize } from "./stats.mjs";

const DEADLINE_MS = Number(process.argv[2] ?? 600_000);
setTimeout(() => process.exit(3), DEADLINE_MS);
process.on("disconnect", () => process.exit(0));

/** @type {WebSocket[]} */
let sockets = [];
/** Sockets connected (hello received) and not closed since. */
let open = 0;
/** Sockets that closed or errored after connecting, while nobody asked them to. */
let drops = 0;
let closing = false;
/** Connected sockets on which the server accepted permessage-deflate (`ws.extensions`). */
let compressed = 0;
/** `batch` frames received (each counts its metrics as delivered at its arrival). */
let batches = 0;
/** Frames other than metric, batch and hello (status, error, reset…). */
let otherFrames = 0;

/**
 * Per seq: when each socket first had it (index = socket index), how many sockets have it, and
 * how many deliveries were repeats.
 * @type {Map<number, { times: Float64Array, seen: Uint8Array, unique: number, dups: number }>}
 */
let records = new Map();
let completeAt = Number.POSITIVE_INFINITY;

/**
 * @param {number} index
 * @param {number} seq
 * @param {number} at
 */
function record(index, seq, at) {
  let r = records.get(seq);
  if (r === undefined) {
    r = { times: new Float64Array(sockets.length), seen: new Uint8Array(sockets.length), unique: 0, dups: 0 };
    records.set(seq, r);
  }
  if (index >= r.seen.length || r.seen[index] === 1) {
    if (index < r.seen.length) r.dups++;
    return;
  }
  r.seen[index] = 1;
  r.times[index] = at;
  r.unique++;
  if (r.unique === completeAt) process.send?.({ event: "complete", seq, at });
}

/**
 * Opens one socket; resolves with connect time (ms) when its first frame arrives.
 * @param {string} url
 * @param {boolean} deflate
 * @param {number} timeoutMs
 * @returns {Promise<number>}
 */
function openOne(url, deflate, timeoutMs) {
  const index = sockets.length;
  const started = monoMs();
  const ws = new WebSocket(url, { perMessageDeflate: deflate, handshakeTimeout: timeoutMs });
  sockets.push(ws);
  let connected = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no hello within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on("message", (/** @type {Buffer} */ data) => {
      const at = monoMs();
      const text = data.toString();
      if (text.startsWith('{"type":"metric"')) {
        const k = text.indexOf('"seq":');
        record(index, Number.parseInt(text.slice(k + 6, k + 26), 10), at);
      } else if (text.startsWith('{"type":"batch"')) {
        batches++;
        for (const frame of JSON.parse(text).frames) record(index, frame.seq, at);
      } else if (!connected && text.startsWith('{"type":"hello"')) {
        connected = true;
        open++;
        if (ws.extensions.includes("permessage-deflate")) compressed++;
        clearTimeout(timer);
        resolve(at - started);
      } else {
        otherFrames++;
      }
    });
    ws.on("error", (error) => {
      if (!connected) {
        clearTimeout(timer);
        reject(error);
      }
    });
    ws.on("close", () => {
      if (!connected) {
        clearTimeout(timer);
        reject(new Error("closed before hello"));
        return;
      }
      open--;
      if (!closing) drops++;
    });
  });
}

/**
 * @param {{ url: string, n: number, batchSize: number, timeoutMs: number, deflate: boolean }} options
 */
async function openMany({ url, n, batchSize, timeoutMs, deflate }) {
  const started = monoMs();
  /** @type {number[]} */
  const connectMs = [];
  /** @type {string[]} */
  const errors = [];
  for (let done = 0; done < n; done += batchSize) {
    const batch = Array.from({ length: Math.min(batchSize, n - done) }, () => openOne(url, deflate, timeoutMs));
    for (const result of await Promise.allSettled(batch)) {
      if (result.status === "fulfilled") connectMs.push(result.value);
      else errors.push(String(result.reason?.message ?? result.reason));
    }
  }
  return {
    opened: connectMs.length,
    failed: errors.length,
    firstError: errors[0] ?? null,
    totalMs: Math.round(monoMs() - started),
    connectMs: summarize(connectMs, 1),
    open,
    compressed,
  };
}

/** @param {[number, number][]} triggers */
function report(triggers) {
  const expected = completeAt === Number.POSITIVE_INFINITY ? open : completeAt;
  const latencies = new Float64Array(triggers.length * Math.max(1, expected));
  let count = 0;
  const perPublish = triggers.map(([seq, trigger]) => {
    const r = records.get(seq);
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
    untriggeredSeqs: [...records.keys()].filter((seq) => !triggered.has(seq)).length,
    otherFrames,
    batches,
    open,
    drops,
  };
}

/** @param {number} x */
function round(x) {
  return Number.isFinite(x) ? Math.round(x * 10) / 10 : null;
}

async function closeAll() {
  closing = true;
  const waiting = sockets.filter((ws) => ws.readyState !== WebSocket.CLOSED);
  const closed = Promise.all(waiting.map((ws) => new Promise((resolve) => ws.once("close", resolve))));
  for (const ws of waiting) ws.close();
  const timer = setTimeout(() => {
    for (const ws of sockets) ws.terminate();
  }, 10_000);
  await closed;
  clearTimeout(timer);
  sockets = [];
  records = new Map();
  completeAt = Number.POSITIVE_INFINITY;
  open = 0;
  drops = 0;
  otherFrames = 0;
  batches = 0;
  closing = false;
  return { closed: waiting.length };
}

process.on("message", async (/** @type {any} */ message) => {
  const { cmd, id } = message;
  try {
    /** @type {unknown} */
    let answer;
    if (cmd === "open") answer = await openMany(message);
    else if (cmd === "reset") {
      records = new Map();
      otherFrames = 0;
      batches = 0;
      drops = 0;
      completeAt = open;
      answer = { open };
    } else if (cmd === "report") answer = report(message.triggers);
    else if (cmd === "close") answer = await closeAll();
    else throw new Error(`unknown command ${cmd}`);
    process.send?.({ id, ok: true, answer });
  } catch (error) {
    process.send?.({ id, ok: false, error: String(error instanceof Error ? error.stack : error) });
  }
});
process.send?.({ ready: true });
