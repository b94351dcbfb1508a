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
import { Receipts } from "./receipts.mjs";
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

const receipts = new Receipts(
  () => sockets.length,
  (seq, at) => process.send?.({ event: "complete", seq, at }),
);

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
        receipts.record(index, Number.parseInt(text.slice(k + 6, k + 26), 10), at);
      } else if (text.startsWith('{"type":"batch"')) {
        batches++;
        for (const frame of JSON.parse(text).frames) receipts.record(index, frame.seq, at);
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
  return { ...receipts.report(triggers, open), otherFrames, batches, open, drops };
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
  receipts.reset();
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
      receipts.reset(open);
      otherFrames = 0;
      batches = 0;
      drops = 0;
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
