/**
 * The subscriber sockets of one object (a topic's owner, or one of its shards), through the
 * Hibernation API: accepting, the per-socket limits, and sending one serialized frame to all.
 * Everything a socket needs after hibernation lives in its attachment. Its owner sets the `ping`
 * auto-response in its constructor.
 */
import { CLOSE_INTERNAL, CLOSE_POLICY, CLOSE_TOO_BIG, encodeFrame, PING, type ServerFrame } from "../client/protocol";
import { type Bucket, fullBucket, type RatePolicy, takeToken } from "./rate-limit";

/** What each socket carries through hibernation (kept far below the 2 KiB of older runtimes). */
interface Attachment {
  joinedAt: number;
  bucket: Bucket;
}

/** Client frames larger than this close the socket with 1009. */
export const MAX_CLIENT_FRAME_BYTES = 1024;

export class Subscribers {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly topic: () => string,
    private readonly policy: RatePolicy,
    private readonly max: number,
  ) {}

  /** Open sockets (a socket the server closed may linger in getWebSockets() until the client acknowledges). */
  count(): number {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).length;
  }

  /** A refusal for a request that is not an upgrade, or for one over the cap; null when it may join. */
  refusal(request: Request): Response | null {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ error: { code: "upgrade_required", message: "Expected a WebSocket upgrade." } }, { status: 426 });
    }
    if (this.count() < this.max) return null;
    const error = { code: "topic_full", message: `Topic "${this.topic()}" has ${this.max} subscribers, its maximum.` };
    console.warn(JSON.stringify({ event: "rejected", status: 503, code: error.code, topic: this.topic() }));
    return Response.json({ error }, { status: 503, headers: { "Retry-After": "30" } });
  }

  /** Accepts a new subscriber, sends it `frames` before anything else can, and returns the 101 answer. */
  accept(frames: readonly string[]): Response {
    const { 0: client, 1: server } = new WebSocketPair();
    // Hibernation API: the runtime owns the socket, so the object may sleep while it stays open.
    this.ctx.acceptWebSocket(server);
    const now = Date.now();
    server.serializeAttachment({ joinedAt: now, bucket: fullBucket(this.policy, now) } satisfies Attachment);
    for (const text of frames) server.send(text);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends one serialized frame to every socket; a socket that fails is closed and never stops the others. */
  broadcast(text: string): void {
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(text);
      } catch {
        this.#close(ws, CLOSE_INTERNAL, "send failed");
      }
    }
  }

  /** A client frame: too big closes with 1009, too many with 1008, anything else gets an error frame. */
  onMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const bytes = typeof message === "string" ? new TextEncoder().encode(message).byteLength : message.byteLength;
    if (bytes > MAX_CLIENT_FRAME_BYTES) {
      this.#reject(ws, CLOSE_TOO_BIG, "frame_too_big", `frame of ${bytes} bytes exceeds ${MAX_CLIENT_FRAME_BYTES}`);
      return;
    }
    const attachment = ws.deserializeAttachment() as Attachment;
    const { allowed, bucket } = takeToken(attachment.bucket, this.policy, Date.now());
    if (!allowed) {
      this.#reject(ws, CLOSE_POLICY, "rate_limited", `more than ${this.policy.perSecond} frames per second`);
      return;
    }
    // The bucket lives in the attachment, so the limit holds across hibernation.
    ws.serializeAttachment({ ...attachment, bucket } satisfies Attachment);
    const error = {
      type: "error",
      code: "unsupported_frame",
      message: `Subscribers only send "${PING}"; this topic accepts no other frames.`,
    } satisfies ServerFrame;
    ws.send(encodeFrame(error));
  }

  onError(ws: WebSocket, error: unknown): void {
    console.warn(JSON.stringify({ event: "websocket_error", topic: this.topic(), error: String(error) }));
    this.#close(ws, CLOSE_INTERNAL, "socket error");
  }

  /** Closes a misbehaving subscriber, with one log line per rejection. */
  #reject(ws: WebSocket, code: number, reason: string, detail: string): void {
    console.warn(JSON.stringify({ event: "rejected", close: code, code: reason, topic: this.topic(), detail }));
    this.#close(ws, code, detail);
  }

  #close(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code, reason);
    } catch {
      // Already closed: nothing left to do for this socket.
    }
  }
}
