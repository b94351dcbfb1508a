/** One socket helper for workerd tests: open a topic socket, read frames with a timeout, never hang. */
import { env, exports } from "cloudflare:workers";
import { type FrameReader, readFrames } from "./frames";

export interface TestSocket extends FrameReader {
  ws: WebSocket;
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
  // Read before accept(): the object's first frames are sent during the upgrade.
  const reader = readFrames(ws, path);
  ws.accept();
  return { ws, ...reader };
}
