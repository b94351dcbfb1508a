/**
 * The edgebeat browser (and Node 22) client: subscribes to one topic and never loses a value.
 * It reconnects with capped exponential backoff and full jitter, resumes with `since` + `epoch`
 * so nothing is missed or repeated, reconnects on a seq gap, unpacks `batch` frames into single
 * metrics, drops local state on `reset`, stops on 401/403/404, and waits while the browser is
 * offline. It tries a WebSocket first; when FALLBACK_AFTER opens in a row fail while the topic's
 * URL answers over plain HTTP (a network that blocks WebSockets), it moves to Server-Sent Events,
 * then to long-poll (src/client/transports.ts), with the same delivery and the same callbacks.
 * Subscriptions on those two share one multiplexed connection per origin and token (src/client/shared.ts).
 */
import { type BackoffPolicy, fullJitterDelay } from "./backoff";
import { type BatchFrame, type MetricFrame, parseFrame, type ResetFrame, type ServerFrame, type StatusFrame } from "./protocol";
import { browserNetwork, type Network, probeTopic } from "./reachability";
import { openShared } from "./shared";
import { type Connection, openTransport, type TransportName } from "./transports";

export type { TransportName } from "./transports";

export type ConnectionState = "connecting" | "live" | "reconnecting" | "closed";

export interface SubscribeHandlers {
  /** Each metric exactly once, in seq order (replays after a resume and the metrics of a `batch` included). */
  onMetric?(frame: MetricFrame): void;
  /** The feeding job's health: `ok`, `failing` or `stale`. */
  onStatus?(frame: StatusFrame): void;
  /** The server no longer has what this client missed: drop local state; the latest metric follows. */
  onReset?(frame: ResetFrame): void;
  /** Connection state changes; `detail` says why for `reconnecting` and `closed`; `transport` is the one in use. */
  onState?(state: ConnectionState, detail: string | undefined, transport: TransportName): void;
}

/** The parts of the environment the client uses; tests and Node pass their own. */
export interface SubscribeOptions {
  /** A subscribe token for a private topic (sent as `?token=`). */
  token?: string;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** How often to send `ping`; a socket that answers nothing between two pings is dropped and resumed. */
  pingIntervalMs?: number;
  /** The transports to try, in order (default websocket, sse, longpoll); give one to use only it. */
  transports?: readonly TransportName[];
  /** Failed opens in a row, with the topic reachable over HTTP, before the next transport (default 3). */
  fallbackAfter?: number;
  WebSocket?: typeof WebSocket;
  fetch?: typeof fetch;
  /** Whether the network is up, and a way to hear when it changes; browsers use `navigator.onLine`. */
  network?: Network;
}

export interface Subscription {
  readonly state: ConnectionState;
  /** The last seq delivered to `onMetric`, or null before the first (or after a reset). */
  readonly seq: number | null;
  readonly epoch: string | null;
  /** The transport in use now. */
  readonly transport: TransportName;
  /** Stops for good: closes the socket and cancels any pending reconnect. */
  close(): void;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };
const DEFAULT_PING_MS = 25_000;
/** Failed opens in a row (with the topic reachable over HTTP) before the client tries the next transport. */
export const FALLBACK_AFTER = 3;
const TRANSPORTS: readonly TransportName[] = ["websocket", "sse", "longpoll"];
/** The global fetch, looked up at each call; one function, so subscriptions that use it share connections. */
const globalFetch: typeof fetch = (input, init) => globalThis.fetch(input, init);

/** Subscribes to the topic at `url` (`http(s)://host/topics/name` or `ws(s)://…`). */
export function subscribe(url: string, handlers: SubscribeHandlers, options: SubscribeOptions = {}): Subscription {
  const Socket = options.WebSocket ?? globalThis.WebSocket;
  const doFetch = options.fetch ?? globalFetch;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const random = options.random ?? Math.random;
  const pingMs = options.pingIntervalMs ?? DEFAULT_PING_MS;
  const network = options.network ?? browserNetwork();

  const order = options.transports?.length ? options.transports : TRANSPORTS;
  const fallbackAfter = options.fallbackAfter ?? FALLBACK_AFTER;
  const transportOptions = {
    url: url.replace(/^ws/, "http"),
    ...(options.token !== undefined && { token: options.token }),
    WebSocket: Socket,
    fetch: doFetch,
    pingIntervalMs: pingMs,
    backoff,
    random,
  };

  let state: ConnectionState = "connecting";
  let seq: number | null = null;
  let epoch: string | null = null;
  let transport = 0;
  let failedOpens = 0;
  let connection: Connection | null = null;
  let retries = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopNetworkWatch: (() => void) | null = null;
  const transportName = (): TransportName => order[transport] as TransportName;

  const setState = (next: ConnectionState, detail?: string) => {
    if (state === next && detail === undefined) return;
    state = next;
    handlers.onState?.(next, detail, transportName());
  };

  /** Ends the current connection on our side and resumes from the last seq. */
  const drop = (reason: string) => {
    const current = connection;
    connection = null;
    current?.close(reason);
    scheduleReconnect(reason, true);
  };

  /** Reconnects after backoff, at once, or at `retryAt` (a shared connection's, so its subscriptions come back together). */
  const scheduleReconnect = (reason: string, immediately = false, retryAt?: number) => {
    if (timer !== undefined) clearTimeout(timer);
    if (state === "closed") return;
    setState("reconnecting", reason);
    if (!network.isOnline()) {
      // No point in retrying offline: wait for the browser's `online` event.
      stopNetworkWatch ??= network.onChange(() => {
        stopNetworkWatch?.();
        stopNetworkWatch = null;
        connect();
      });
      return;
    }
    retries++;
    const delay = retryAt === undefined ? fullJitterDelay(retries, backoff, random) : Math.max(0, retryAt - Date.now());
    timer = setTimeout(connect, immediately ? 0 : delay);
  };

  /** One frame that is not a batch: a batch reaches here as its metric frames, one at a time. */
  const onFrame = (frame: Exclude<ServerFrame, BatchFrame>) => {
    switch (frame.type) {
      case "hello":
        epoch = frame.epoch;
        retries = 0;
        failedOpens = 0;
        setState("live");
        return;
      case "metric":
        if (seq !== null && frame.seq <= seq) return; // already delivered
        if (seq !== null && frame.seq > seq + 1) {
          drop(`gap after seq ${seq}`);
          return;
        }
        seq = frame.seq;
        handlers.onMetric?.(frame);
        return;
      case "status":
        handlers.onStatus?.(frame);
        return;
      case "reset":
        seq = null;
        handlers.onReset?.(frame);
        return;
      default:
        return;
    }
  };

  /** After a failed open: stop on a refusal, move to the next transport when this one is what fails, else retry. */
  const afterFailedOpen = async (retryAt?: number) => {
    const refusal = await probeTopic(doFetch, transportOptions.url, options.token);
    if (state === "closed") return;
    if (refusal !== "reachable" && refusal !== "unreachable") return stop(refusal);
    if (refusal === "reachable" && ++failedOpens >= fallbackAfter && transport < order.length - 1) {
      transport++;
      failedOpens = 0;
      retries = 0;
      return scheduleReconnect(`${order[transport - 1]} failed ${fallbackAfter} times; trying ${transportName()}`, true);
    }
    scheduleReconnect("could not connect", false, retryAt);
  };

  function connect(): void {
    if (state === "closed") return;
    if (state !== "reconnecting") setState("connecting");
    let opened = false;
    let mine: Connection | null = null;
    const isCurrent = () => mine !== null && connection === mine;
    const open = transportName() === "websocket" ? openTransport : openShared;
    mine = open(transportName(), transportOptions, () => ({ since: seq, epoch }), {
      open: () => {
        opened = true;
      },
      text: (text) => {
        if (!isCurrent()) return;
        let frame: ServerFrame;
        try {
          frame = parseFrame(text);
        } catch {
          return; // a frame type from a newer server, or a malformed one: ignore it rather than break
        }
        // A batch is consecutive metric frames in one message: each takes the path it would take alone,
        // and once one of them drops this connection (a gap), the rest are ignored as later messages would be.
        for (const single of frame.type === "batch" ? frame.frames : [frame]) {
          if (!isCurrent()) return;
          onFrame(single);
        }
      },
      end: (reason, retryAt) => {
        if (!isCurrent()) return; // already handled, or replaced by a newer connection
        connection = null;
        if (state === "closed") return;
        if (opened) scheduleReconnect(reason, false, retryAt);
        else void afterFailedOpen(retryAt);
      },
    });
    connection = mine;
  }

  function stop(detail?: string): void {
    if (state === "closed") return;
    if (timer !== undefined) clearTimeout(timer);
    stopNetworkWatch?.();
    stopNetworkWatch = null;
    const current = connection;
    connection = null;
    setState("closed", detail);
    current?.close("closed by the client");
  }

  handlers.onState?.("connecting", undefined, transportName());
  connect();

  return {
    get state() {
      return state;
    },
    get seq() {
      return seq;
    },
    get epoch() {
      return epoch;
    },
    get transport() {
      return transportName();
    },
    close: () => stop("closed by the client"),
  };
}
