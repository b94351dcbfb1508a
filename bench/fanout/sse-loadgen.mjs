/**
 * The SSE phase's load generator: Server-Sent Events subscribers of `GET /topics/:topic/events`,
 * read with Node's fetch streams in their own process, speaking bench/lib/loadgen.mjs's commands
 * (`open`, `reset`, `report`, `close`) and events (`complete`) so that bench/fanout/phase.mjs runs
 * the SSE phase exactly as it runs a WebSocket one.
 *
 * `open`'s url is the topic's ws:// URL (what phase.mjs passes); each stream reads
 * http://…/topics/<topic>/events. A stream counts as connected when its `hello` event arrives; a
 * metric is received when the chunk holding its `data:` line arrives (CLOCK_MONOTONIC, `monoMs`).
 */
import { monoMs } from "../lib/procs.mjs";
import { summarize } from "../lib/stats.mjs";

const DEADLINE_MS = Number(process.argv[2] ?? 600_000);
setTimeout(() => process.exit(3), DEADLINE_MS);
process.on("disconnect", () => process.exit(0));

/** @type {AbortController[]} */
let streams = [];
let open = 0;
let drops = 0;
let closing = false;
let otherFrames = 0;
/** @type {Map<number, { times: Float64Array, seen: Uint8Array, unique: number, dups: number }>} */
let records = new Map();
let completeAt = Number.POSITIVE_INFINITY;

/** @param {number} index @param {number} seq @param {number} at */
function record(index, seq, at) {
  let r = records.get(seq);
  if (r === undefined) {
    r = { times: new Float64Array(streams.length), seen: new Uint8Array(streams.length), unique: 0, dups: 0 };
    records.set(seq, r);
  }
  if (index >= r.seen.length) return;
  if (r.seen[index] === 1) {
    r.dups++;
    return;
  }
  r.seen[index] = 1;
  r.times[index] = at;
  r.unique++;
  if (r.unique === completeAt) process.send?.({ event: "complete", seq, at });
}

/**
 * Opens one stream; resolves with its connect time (ms) at its `hello`, then keeps reading.
 * @param {string} url
 * @param {number} timeoutMs
 * @returns {Promise<number>}
 */
function openOne(url, timeoutMs) {
  const index = streams.length;
  const abort = new AbortController();
  streams.push(abort);
  const started = monoMs();
  return new Promise((resolve, reject) => {
    let connected = false;
    const timer = setTimeout(() => {
      abort.abort();
      reject(new Error(`no hello within ${timeoutMs} ms`));
    }, timeoutMs);
    /** @param {string} data one event's data */
    const onData = (data, /** @type {number} */ at) => {
      if (data.startsWith('{"type":"metric"')) {
        const k = data.indexOf('"seq":');
        record(index, Number.parseInt(data.slice(k + 6, k + 26), 10), at);
      } else if (!connected && data.startsWith('{"type":"hello"')) {
        connected = true;
        open++;
        clearTimeout(timer);
        resolve(at - started);
      } else otherFrames++;
    };
    (async () => {
      const response = await fetch(url, { headers: { Accept: "text/event-stream" }, signal: abort.signal });
      if (response.status !== 200 || response.body === null) throw new Error(`${response.status} ${await response.text()}`);
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const chunk of response.body) {
        const at = monoMs();
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
          for (const line of buffer.slice(0, end).split("\n")) if (line.startsWith("data: ")) onData(line.slice(6), at);
          buffer = buffer.slice(end + 2);
        }
      }
      throw new Error("stream ended");
    })().catch((error) => {
      clearTimeout(timer);
      if (!connected) reject(error);
      else {
        open--;
        if (!closing) drops++;
      }
    });
  });
}

/** @param {{ url: string, n: number, batchSize: number, timeoutMs: number }} options */
async function openMany({ url, n, batchSize, timeoutMs }) {
  const eventsUrl = `${url.replace(/^ws/, "http")}/events`;
  const started = monoMs();
  /** @type {number[]} */
  const connectMs = [];
  /** @type {string[]} */
  const errors = [];
  for (let done = 0; done < n; done += batchSize) {
    const batch = Array.from({ length: Math.min(batchSize, n - done) }, () => openOne(eventsUrl, timeoutMs));
    for (const result of await Promise.allSettled(batch)) {
      if (result.status === "fulfilled") connectMs.push(result.value);
      else errors.push(String(result.reason?.message ?? result.reason));
    }
  }
  const totalMs = Math.round(monoMs() - started);
  return {
    opened: connectMs.length,
    failed: errors.length,
    firstError: errors[0] ?? null,
    totalMs,
    connectMs: summarize(connectMs, 1),
    open,
    compressed: 0,
  };
}

/** @param {number} x */
const round = (x) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);

/** The same report as bench/lib/loadgen.mjs's. @param {[number, number][]} triggers */
function report(triggers) {
  /** @type {number[]} */
  const latencies = [];
  const perPublish = triggers.map(([seq, trigger]) => {
    const r = records.get(seq);
    if (r === undefined) return { seq, delivered: 0, duplicated: 0, firstMs: null, lastMs: null, p50Ms: null };
    const own = [];
    for (let i = 0; i < r.seen.length; i++) if (r.seen[i] === 1) own.push(/** @type {number} */ (r.times[i]) - trigger);
    own.sort((a, b) => a - b);
    latencies.push(...own);
    const p50 = own[Math.max(0, Math.ceil(own.length / 2) - 1)] ?? Number.NaN;
    return {
      seq,
      delivered: r.unique,
      duplicated: r.dups,
      firstMs: round(own[0] ?? Number.NaN),
      lastMs: round(own.at(-1) ?? Number.NaN),
      p50Ms: round(p50),
    };
  });
  const triggered = new Set(triggers.map(([seq]) => seq));
  return {
    expectedPerPublish: completeAt === Number.POSITIVE_INFINITY ? open : completeAt,
    perPublish,
    latencyMs: summarize(latencies, 1),
    delivered: perPublish.reduce((sum, p) => sum + p.delivered, 0),
    duplicated: perPublish.reduce((sum, p) => sum + p.duplicated, 0),
    untriggeredSeqs: [...records.keys()].filter((seq) => !triggered.has(seq)).length,
    otherFrames,
    batches: 0,
    open,
    drops,
  };
}

function closeAll() {
  closing = true;
  for (const abort of streams) abort.abort();
  const closed = streams.length;
  streams = [];
  records = new Map();
  completeAt = Number.POSITIVE_INFINITY;
  open = 0;
  drops = 0;
  otherFrames = 0;
  closing = false;
  return { closed };
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
      drops = 0;
      completeAt = open;
      answer = { open };
    } else if (cmd === "report") answer = report(message.triggers);
    else if (cmd === "close") answer = closeAll();
    else throw new Error(`unknown command ${cmd}`);
    process.send?.({ id, ok: true, answer });
  } catch (error) {
    process.send?.({ id, ok: false, error: String(error instanceof Error ? error.stack : error) });
  }
});
process.send?.({ ready: true });
