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
import { Receipts } from "../lib/receipts.mjs";
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
const receipts = new Receipts(
  () => streams.length,
  (seq, at) => process.send?.({ event: "complete", seq, at }),
);

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
        receipts.record(index, Number.parseInt(data.slice(k + 6, k + 26), 10), at);
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

/** The same report as bench/lib/loadgen.mjs's. @param {[number, number][]} triggers */
function report(triggers) {
  return { ...receipts.report(triggers, open), otherFrames, batches: 0, open, drops };
}

function closeAll() {
  closing = true;
  for (const abort of streams) abort.abort();
  const closed = streams.length;
  streams = [];
  receipts.reset();
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
      receipts.reset(open);
      otherFrames = 0;
      drops = 0;
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
