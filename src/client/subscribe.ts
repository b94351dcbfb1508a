/**
 * The edgebeat browser (and Node 22) client: subscribes to one topic and never loses a value.
 * It reconnects with capped exponential backoff and full jitter, resumes with `since` + `epoch`
 * so nothing is missed or repeated, reconnects on a seq gap, unpacks `batch` frames into single
 * metrics, drops local state on `reset`, keeps the socket alive with `ping` (answered by the
 * server's auto-response), stops on 401/403/404, and waits while the browser is offline.
 */
import { type BackoffPolicy, fullJitterDelay } from "./backoff";
import {
  type BatchFrame,
  type MetricFrame,
  PING,
  PONG,
  parseFrame,
  type ResetFrame,
  type ServerFrame,
  type StatusFrame,
} from "./protocol";

export type ConnectionState = "connecting" | "live" | "reconnecting" | "closed";

export interface SubscribeHandlers {
  /** Each metric exactly once, in seq order (replays after a resume and the metrics of a `batch` included). */
  onMetric?(frame: MetricFrame): void;
  /** The feeding job's health: `ok`, `failing` or `stale`. */
  onStatus?(frame: StatusFrame): void;
  /** The server no longer has what this client missed: drop local state; the latest metric follows. */
  onReset?(frame: ResetFrame): void;
  /** Connection state changes; `detail` says why for `reconnecting` and `closed`. */
  onState?(state: ConnectionState, detail?: string): void;
}

/** The parts of the environment the client uses; tests and Node pass their own. */
export interface SubscribeOptions {
  /** A subscribe token for a private topic (sent as `?token=`). */
  token?: string;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** How often to send `ping`; a socket that answers nothing between two pings is dropped and resumed. */
  pingIntervalMs?: number;
  WebSocket?: typeof WebSocket;
  fetch?: typeof fetch;
  /** Whether the network is up, and a way to hear when it changes; browsers use `navigator.onLine`. */
  network?: { isOnline(): boolean; onChange(listener: () => void): () => void };
}

export interface Subscription {
  readonly state: ConnectionState;
  /** The last seq delivered to `onMetric`, or null before the first (or after a reset). */
  readonly seq: number | null;
  readonly epoch: string | null;
  /** Stops for good: closes the socket and cancels any pending reconnect. */
  close(): void;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };
const DEFAULT_PING_MS = 25_000;
/** Upgrade answers that retrying cannot fix. */
const FATAL_STATUSES = new Set([400, 401, 403, 404]);

function browserNetwork(): NonNullable<SubscribeOptions["network"]> {
  const target = globalThis as {
    navigator?: { onLine?: boolean };
    addEventListener?: (type: string, listener: () => void) => void;
  } & {
    removeEventListener?: (type: string, listener: () => void) => void;
  };
  return {
    isOnline: () => target.navigator?.onLine !== false,
    onChange(listener) {
      target.addEventListener?.("online", listener);
      return () => target.removeEventListener?.("online", listener);
    },
  };
}

/** Subscribes to the topic at `url` (`http(s)://host/topics/name` or `ws(s)://…`). */
export function subscribe(url: string, handlers: SubscribeHandlers, options: SubscribeOptions = {}): Subscription {
  const Socket = options.WebSocket ?? globalThis.WebSocket;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const random = options.random ?? Math.random;
  const pingMs = options.pingIntervalMs ?? DEFAULT_PING_MS;
  const network = options.network ?? browserNetwork();

  let state: ConnectionState = "connecting";
  let seq: number | null = null;
  let epoch: string | null = null;
  let socket: WebSocket | null = null;
  let retries = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setTimeout> | undefined;
  let lastHeard = 0;
  let lastPingAt = 0;
  let stopNetworkWatch: (() => void) | null = null;

  const setState = (next: ConnectionState, detail?: string) => {
    if (state === next && detail === undefined) return;
    state = next;
    handlers.onState?.(next, detail);
  };

  const socketUrl = (): string => {
    const target = new URL(url);
    target.protocol = target.protocol.replace(/^http/, "ws");
    if (options.token !== undefined) target.searchParams.set("token", options.token);
    if (seq !== null && epoch !== null) {
      target.searchParams.set("since", String(seq));
      target.searchParams.set("epoch", epoch);
    }
    return target.toString();
  };

  const stopTimers = () => {
    if (timer !== undefined) clearTimeout(timer);
    if (pingTimer !== undefined) clearTimeout(pingTimer);
  };

  const keepAlive = () => {
    pingTimer = setTimeout(() => {
      if (socket === null) return;
      // Dead only if nothing came back since the last ping: robust to background tabs, whose
      // timers the browser may delay to once a minute.
      if (lastPingAt > lastHeard) {
        drop("no answer to ping");
        return;
      }
      lastPingAt = Date.now();
      socket.send(PING);
      keepAlive();
    }, pingMs);
  };

  /** Closes the current socket on our side and resumes from the last seq. */
  const drop = (reason: string) => {
    const current = socket;
    socket = null;
    current?.close(4000, reason);
    scheduleReconnect(reason, true);
  };

  const scheduleReconnect = (reason: string, immediately = false) => {
    stopTimers();
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
    timer = setTimeout(connect, immediately ? 0 : fullJitterDelay(retries, backoff, random));
  };

  /** One frame that is not a batch: a batch reaches here as its metric frames, one at a time. */
  const onFrame = (frame: Exclude<ServerFrame, BatchFrame>) => {
    switch (frame.type) {
      case "hello":
        epoch = frame.epoch;
        retries = 0;
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
      case "error":
        return;
      default:
        return;
    }
  };

  /** A socket that closed before it opened: find out whether retrying can ever help. */
  const checkRefusal = async (): Promise<string | null> => {
    try {
      const probe = new URL(url);
      probe.protocol = probe.protocol.replace(/^ws/, "http");
      if (options.token !== undefined) probe.searchParams.set("token", options.token);
      const response = await doFetch(probe.toString());
      if (!FATAL_STATUSES.has(response.status)) return null;
      const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
      return `${response.status} ${body?.error?.code ?? ""}: ${body?.error?.message ?? "refused"}`;
    } catch {
      return null; // unreachable: a network problem, so retry
    }
  };

  function connect(): void {
    if (state === "closed") return;
    if (state !== "reconnecting") setState("connecting");
    const ws = new Socket(socketUrl());
    socket = ws;
    let opened = false;
    ws.addEventListener("open", () => {
      opened = true;
      lastHeard = Date.now();
      keepAlive();
    });
    ws.addEventListener("message", (event) => {
      if (socket !== ws) return;
      lastHeard = Date.now();
      if (typeof event.data !== "string" || event.data === PONG) return;
      let frame: ServerFrame;
      try {
        frame = parseFrame(event.data);
      } catch {
        return; // a frame type from a newer server, or a malformed one: ignore it rather than break
      }
      // A batch is consecutive metric frames in one message: each takes the path it would take alone,
      // and once one of them drops this socket (a gap), the rest are ignored as later messages would be.
      for (const single of frame.type === "batch" ? frame.frames : [frame]) {
        if (socket !== ws) return;
        onFrame(single);
      }
    });
    const ended = (reason: string) => {
      if (socket !== ws) return; // already handled, or replaced by a newer socket
      socket = null;
      if (state === "closed") return;
      if (opened) {
        scheduleReconnect(reason);
        return;
      }
      void checkRefusal().then((refusal) => {
        if (refusal === null) scheduleReconnect("could not connect");
        else stop(refusal);
      });
    };
    ws.addEventListener("close", (event) => ended(`closed with ${event.code}`));
    // Some clients (Node's) report a refused upgrade with `error` alone, and no `close`.
    ws.addEventListener("error", () => ended("socket error"));
  }

  function stop(detail?: string): void {
    if (state === "closed") return;
    stopTimers();
    stopNetworkWatch?.();
    stopNetworkWatch = null;
    const current = socket;
    socket = null;
    setState("closed", detail);
    current?.close(1000, "closed by the client");
  }

  handlers.onState?.("connecting");
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
    close: () => stop("closed by the client"),
  };
}
