/**
 * A stand-in for the browser's WebSocket that a test drives by hand: it opens, receives and records
 * what the client sends and how it closes, so the client library runs without a server.
 */
import type { SubscribeOptions } from "../../src/client/subscribe";

type Listener = (event: { data?: unknown; code?: number }) => void;

export class FakeSocket {
  /** Every socket the client has opened, oldest first. */
  static readonly opened: FakeSocket[] = [];

  readonly url: string;
  readonly sent: string[] = [];
  /** How the client closed it (`[code, reason]`), or null while it has not. */
  closedWith: [number | undefined, string | undefined] | null = null;
  readonly #listeners = new Map<string, Listener[]>();

  constructor(url: string) {
    this.url = url;
    FakeSocket.opened.push(this);
  }

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  send(text: string): void {
    this.sent.push(text);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = [code, reason];
  }

  /** The server accepts the upgrade. */
  open(): void {
    this.#emit("open", {});
  }

  /** The server sends `frame` (an object is sent as its JSON, a string as is). */
  receive(frame: object | string): void {
    this.#emit("message", { data: typeof frame === "string" ? frame : JSON.stringify(frame) });
  }

  /** The upgrade fails (refused, or blocked on the way): `error`, then `close` with 1006. */
  fail(): void {
    this.#emit("error", {});
    this.#emit("close", { code: 1006 });
  }

  #emit(type: string, event: { data?: unknown; code?: number }): void {
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }
}

/** Options that keep the client off the network: fake sockets, no fetch, always online, no ping during a test. */
export function fakeEnvironment(): SubscribeOptions {
  return {
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    fetch: () => Promise.reject(new Error("no fetch in client unit tests")),
    network: { isOnline: () => true, onChange: () => () => {} },
    pingIntervalMs: 60_000,
    random: () => 0,
  };
}

/** Resolves with the `index`th socket the client opened (0 is the first), or rejects after `timeoutMs`. */
export async function nthSocket(index: number, { timeoutMs = 1_000 } = {}): Promise<FakeSocket> {
  // Counts waits rather than reading the clock: inside workerd, Date.now() only moves with I/O.
  for (let waited = 0; waited <= timeoutMs; waited += 5) {
    const socket = FakeSocket.opened[index];
    if (socket !== undefined) return socket;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`the client opened ${FakeSocket.opened.length} sockets within ${timeoutMs} ms, not ${index + 1}`);
}
