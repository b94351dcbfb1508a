/**
 * Reads a WebSocket's frames with timeouts, for workerd tests and end-to-end tests alike: nothing
 * waits forever, and a wait fails at once if the socket closes. Call it before the socket can
 * receive anything (before accept(), or right after construction), so no frame slips past.
 */
import { parseFrame, type ServerFrame } from "../../src/client/protocol";

export interface Closed {
  code: number;
  reason: string;
  wasClean: boolean;
}

export interface FrameReader {
  /** Resolves with the next raw text message (for non-JSON replies such as "pong"). */
  nextText(options?: { timeoutMs?: number }): Promise<string>;
  /** Resolves with the next server frame, or rejects after `timeoutMs` or if the socket closes first. */
  nextFrame(options?: { timeoutMs?: number }): Promise<ServerFrame>;
  /** Resolves if no message arrives within `ms`; rejects with the message otherwise. */
  expectSilence(ms?: number): Promise<void>;
  /** Resolves with how the socket closed, or rejects after `timeoutMs`. */
  closed(options?: { timeoutMs?: number }): Promise<Closed>;
}

/** The part of a WebSocket (workerd's or Node's) that the reader needs. */
interface Listenable {
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: Closed) => void): void;
}

export function readFrames(ws: Listenable, label: string, { timeoutMs: defaultTimeout = 2_000 } = {}): FrameReader {
  const queue: string[] = [];
  const waiters: ((text: string) => void)[] = [];
  const closeWaiters: ((closed: Closed) => void)[] = [];
  let closedWith: Closed | null = null;
  ws.addEventListener("message", (event) => {
    const text = typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data as ArrayBuffer);
    const waiter = waiters.shift();
    if (waiter) waiter(text);
    else queue.push(text);
  });
  ws.addEventListener("close", (event) => {
    closedWith = { code: event.code, reason: event.reason, wasClean: event.wasClean };
    for (const waiter of closeWaiters.splice(0)) waiter(closedWith);
  });

  const nextText = ({ timeoutMs = defaultTimeout } = {}) =>
    new Promise<string>((resolve, reject) => {
      const queued = queue.shift();
      if (queued !== undefined) return resolve(queued);
      if (closedWith) return reject(new Error(`${label} is closed (${closedWith.code}); no frame will come`));
      const settle = () => {
        clearTimeout(timer);
        remove(waiters, deliver);
        remove(closeWaiters, onClose);
      };
      const deliver = (text: string) => {
        settle();
        resolve(text);
      };
      const onClose = (closed: Closed) => {
        settle();
        reject(new Error(`${label} closed (${closed.code}) while waiting for a frame`));
      };
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`no frame on ${label} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.push(deliver);
      closeWaiters.push(onClose);
    });

  return {
    nextText,
    nextFrame: async (options) => parseFrame(await nextText(options)),
    expectSilence: async (ms = 200) => {
      const text = await nextText({ timeoutMs: ms }).catch(() => null);
      if (text !== null) throw new Error(`expected no frame on ${label}, got ${text}`);
    },
    closed: ({ timeoutMs = defaultTimeout } = {}) =>
      new Promise<Closed>((resolve, reject) => {
        if (closedWith) return resolve(closedWith);
        const timer = setTimeout(() => reject(new Error(`${label} did not close within ${timeoutMs} ms`)), timeoutMs);
        closeWaiters.push((closed) => {
          clearTimeout(timer);
          resolve(closed);
        });
      }),
  };
}

function remove<T>(items: T[], item: T): void {
  const index = items.indexOf(item);
  if (index >= 0) items.splice(index, 1);
}
