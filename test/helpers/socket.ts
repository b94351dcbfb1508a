/** One socket helper for workerd tests: open a topic socket, read frames with a timeout, never hang. */
import { env, exports } from "cloudflare:workers";
import { parseFrame, type ServerFrame } from "../../src/client/protocol";

export interface TestSocket {
  ws: WebSocket;
  /** Resolves with the next server frame, or rejects after `timeoutMs`. */
  nextFrame(options?: { timeoutMs?: number }): Promise<ServerFrame>;
  /** Resolves with the next raw text message (for non-JSON replies such as "pong"). */
  nextText(options?: { timeoutMs?: number }): Promise<string>;
  /** Resolves if no message arrives within `ms`; rejects with the message otherwise. */
  expectSilence(ms?: number): Promise<void>;
  /** Resolves with the close event, or rejects after `timeoutMs`. */
  closed(options?: { timeoutMs?: number }): Promise<CloseEvent>;
}

/** A JSON answer as the tests read it: an error envelope, or any fields of a success body. */
export type ApiBody = { error: { code: string; message: string }; seq: number; messages: unknown[] } & Record<string, unknown>;

export async function fetchWorker(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`http://edgebeat.test${path}`, init));
}

/** Subscribes through the Worker's routes, as a browser would. */
export async function openSocket(path: string, headers: Record<string, string> = {}): Promise<TestSocket> {
  return attach(path, await fetchWorker(path, { headers: { Upgrade: "websocket", ...headers } }));
}

/** Subscribes straight at a topic object (any name), for tests that need a topic of their own. */
export async function openTopicSocket(topic: string, query = ""): Promise<TestSocket> {
  const path = `/topics/${topic}${query}`;
  const request = new Request(`http://edgebeat.test${path}`, { headers: { Upgrade: "websocket" } });
  return attach(path, await env.TOPIC.getByName(topic).fetch(request));
}

/** Subscribes straight at a shard object (`topic/index`), as the Worker routes a subscriber of a sharded topic. */
export async function openShardSocket(name: string, query = ""): Promise<TestSocket> {
  const request = new Request(`http://edgebeat.test/topics/${name}${query}`, { headers: { Upgrade: "websocket" } });
  return attach(`shard ${name}`, await env.SHARD.getByName(name).fetch(request));
}

async function attach(path: string, response: Response): Promise<TestSocket> {
  const ws = response.webSocket;
  if (response.status !== 101 || ws === null) {
    throw new Error(`expected 101 from ${path}, got ${response.status}: ${await response.text()}`);
  }
  const queue: string[] = [];
  const waiters: ((text: string) => void)[] = [];
  let closeEvent: CloseEvent | null = null;
  const closeWaiters: ((event: CloseEvent) => void)[] = [];
  // Listen before accept(): the object's first frames are sent during the upgrade.
  ws.addEventListener("message", (event) => {
    const text = typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data as ArrayBuffer);
    const waiter = waiters.shift();
    if (waiter) waiter(text);
    else queue.push(text);
  });
  ws.addEventListener("close", (event) => {
    closeEvent = event;
    for (const waiter of closeWaiters.splice(0)) waiter(event);
  });
  ws.accept();

  const nextText = ({ timeoutMs = 2_000 } = {}) =>
    new Promise<string>((resolve, reject) => {
      const queued = queue.shift();
      if (queued !== undefined) return resolve(queued);
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(deliver), 1);
        reject(new Error(`no frame on ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      const deliver = (text: string) => {
        clearTimeout(timer);
        resolve(text);
      };
      waiters.push(deliver);
    });

  return {
    ws,
    nextText,
    nextFrame: async (options) => parseFrame(await nextText(options)),
    expectSilence: async (ms = 200) => {
      const text = await nextText({ timeoutMs: ms }).catch(() => null);
      if (text !== null) throw new Error(`expected no frame on ${path}, got ${text}`);
    },
    closed: ({ timeoutMs = 2_000 } = {}) =>
      new Promise<CloseEvent>((resolve, reject) => {
        if (closeEvent) return resolve(closeEvent);
        const timer = setTimeout(() => reject(new Error(`socket on ${path} did not close within ${timeoutMs} ms`)), timeoutMs);
        closeWaiters.push((event) => {
          clearTimeout(timer);
          resolve(event);
        });
      }),
  };
}
