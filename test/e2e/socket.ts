/** One socket helper for end-to-end tests: subscribe over a real TCP WebSocket, read frames with a timeout, never hang. */
import { parseFrame, type ServerFrame } from "../../src/client/protocol";

export interface Closed {
  code: number;
  reason: string;
  wasClean: boolean;
}

export interface E2eSocket {
  ws: WebSocket;
  /** Resolves with the next server frame; rejects after `timeoutMs` or if the socket closes first. */
  nextFrame(options?: { timeoutMs?: number }): Promise<ServerFrame>;
  /** Resolves with the next raw text message. */
  nextText(options?: { timeoutMs?: number }): Promise<string>;
  /** Resolves if no message arrives within `ms`; rejects with the message otherwise. */
  expectSilence(ms?: number): Promise<void>;
  /** Resolves with how the socket closed, or rejects after `timeoutMs`. */
  closed(options?: { timeoutMs?: number }): Promise<Closed>;
}

/** Opens `ws://…{path}` on the server at `baseUrl` (http://…) and resolves once it is open. */
export async function openSocket(baseUrl: string, path: string, { timeoutMs = 5_000 } = {}): Promise<E2eSocket> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}${path}`);
  ws.binaryType = "arraybuffer";
  const queue: string[] = [];
  const waiters: ((text: string) => void)[] = [];
  let closedWith: Closed | null = null;
  const closeWaiters: ((closed: Closed) => void)[] = [];
  // Listen from the start: the server sends its join frames right after the upgrade.
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

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`${path} did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.addEventListener("open", () => {
      clearTimeout(timer);
      resolve();
    });
    ws.addEventListener("close", (event) => {
      clearTimeout(timer);
      reject(new Error(`${path} closed with ${event.code} before it opened`));
    });
  });

  const closed = ({ timeoutMs = 5_000 } = {}) =>
    new Promise<Closed>((resolve, reject) => {
      if (closedWith) return resolve(closedWith);
      const timer = setTimeout(() => reject(new Error(`${path} did not close within ${timeoutMs} ms`)), timeoutMs);
      closeWaiters.push((value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });

  const nextText = ({ timeoutMs = 5_000 } = {}) =>
    new Promise<string>((resolve, reject) => {
      const queued = queue.shift();
      if (queued !== undefined) return resolve(queued);
      if (closedWith) return reject(new Error(`${path} is closed (${closedWith.code}); no frame will come`));
      const settle = () => {
        clearTimeout(timer);
        remove(waiters, deliver);
        remove(closeWaiters, onClose);
      };
      const deliver = (text: string) => {
        settle();
        resolve(text);
      };
      const onClose = (value: Closed) => {
        settle();
        reject(new Error(`${path} closed (${value.code}) while waiting for a frame`));
      };
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`no frame on ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.push(deliver);
      closeWaiters.push(onClose);
    });

  return {
    ws,
    nextText,
    nextFrame: async (options) => parseFrame(await nextText(options)),
    expectSilence: async (ms = 500) => {
      const text = await nextText({ timeoutMs: ms }).catch(() => null);
      if (text !== null) throw new Error(`expected no frame on ${path}, got ${text}`);
    },
    closed,
  };
}

function remove<T>(items: T[], item: T): void {
  const index = items.indexOf(item);
  if (index >= 0) items.splice(index, 1);
}
