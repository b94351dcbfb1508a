/**
 * One Topic object owns one topic: its seq, epoch, bounded history and dedupe keys (SQLite), and
 * every browser socket subscribed to it (hibernatable WebSockets). Nothing lives only in memory.
 */
import { DurableObject } from "cloudflare:workers";
import {
  CLOSE_INTERNAL,
  CLOSE_POLICY,
  CLOSE_TOO_BIG,
  encodeFrame,
  type Json,
  type MetricFrame,
  PING,
  PONG,
  type ServerFrame,
  type TopicSnapshot,
  type TopicState,
} from "../client/protocol";
import { clientRatePolicy, historyLimit, maxSubscribers } from "../config";
import { type Bucket, fullBucket, type RatePolicy, takeToken } from "./rate-limit";
import { migrate } from "./schema";

/** What each socket carries through hibernation (kept far below the 2 KiB of older runtimes). */
interface Attachment {
  joinedAt: number;
  bucket: Bucket;
}

interface StateRow extends Record<string, SqlStorageValue> {
  epoch: string;
  seq: number;
  updated_at: number | null;
  status: TopicState;
  detail: string;
}

/** A publish as the Worker hands it over. Exactly one of `runId` (a cron run) or `id` (HTTP) dedupes it. */
export interface PublishInput {
  value: Json;
  runId?: string;
  id?: string;
  job?: string;
  scheduledTime?: number;
  nextExpectedAt?: number;
}

export interface PublishResult {
  topic: string;
  seq: number;
  duplicate: boolean;
}

/** Dedupe keys of the last this-many publishes are kept; older runIds and ids may publish again. */
export const DEDUPE_LIMIT = 10_000;
/** Client frames larger than this close the socket with 1009. */
export const MAX_CLIENT_FRAME_BYTES = 1024;

export class Topic extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #historyLimit: number;
  readonly #ratePolicy: RatePolicy;
  readonly #maxSubscribers: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#historyLimit = historyLimit(env);
    this.#ratePolicy = clientRatePolicy(env);
    this.#maxSubscribers = maxSubscribers(env);
    // Auto-response answers "ping" without waking the object, so idle sockets cost nothing.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    migrate(this.#sql);
  }

  /**
   * Stores a metric as seq + 1 and sends it to every subscriber; a `runId` or `id` seen before
   * returns the seq it got then and sends nothing.
   */
  async publish(input: PublishInput): Promise<PublishResult> {
    const topic = this.#topic();
    const key = input.runId !== undefined ? `run:${input.runId}` : input.id !== undefined ? `id:${input.id}` : null;
    const outcome = this.ctx.storage.transactionSync(() => {
      if (key !== null) {
        const seen = this.#sql.exec<{ seq: number }>("SELECT seq FROM dedupe WHERE key = ?", key).toArray()[0];
        if (seen) return { seq: seen.seq, text: null };
      }
      const seq = this.#state().seq + 1;
      const ts = Date.now();
      const frame = {
        type: "metric",
        topic,
        seq,
        value: input.value,
        ts,
        runId: input.runId ?? `post:${input.id ?? seq}`,
        ...(input.job !== undefined && { job: input.job }),
        ...(input.scheduledTime !== undefined && { scheduledTime: input.scheduledTime }),
        ...(input.nextExpectedAt !== undefined && { nextExpectedAt: input.nextExpectedAt }),
      } satisfies MetricFrame;
      const text = encodeFrame(frame);
      this.#sql.exec("INSERT INTO messages (seq, frame) VALUES (?, ?)", seq, text);
      this.#sql.exec("DELETE FROM messages WHERE seq <= ?", seq - this.#historyLimit);
      this.#sql.exec("UPDATE topic_state SET seq = ?, updated_at = ? WHERE id = 1", seq, ts);
      if (key !== null) {
        this.#sql.exec("INSERT INTO dedupe (key, seq) VALUES (?, ?)", key, seq);
        this.#sql.exec("DELETE FROM dedupe WHERE rowid <= (SELECT MAX(rowid) FROM dedupe) - ?", DEDUPE_LIMIT);
      }
      return { seq, text };
    });
    // Persist first, then broadcast: the output gate holds these sends until the write is durable.
    if (outcome.text !== null) this.#broadcast(outcome.text);
    return { topic, seq: outcome.seq, duplicate: outcome.text === null };
  }

  /** The topic as a client would see it now: latest seq and metric, subscribers, status. */
  async snapshot(): Promise<TopicSnapshot> {
    const state = this.#state();
    const latest = this.#sql.exec<{ frame: string }>("SELECT frame FROM messages ORDER BY seq DESC LIMIT 1").toArray()[0];
    return {
      topic: this.#topic(),
      seq: state.seq,
      latest: latest ? (JSON.parse(latest.frame) as MetricFrame) : null,
      subscribers: this.#subscribers(),
      updatedAt: state.updated_at,
      status: state.status,
    };
  }

  /** Live counts for the `system` job, without the latest value. */
  async counts(): Promise<{ subscribers: number; published: number }> {
    return { subscribers: this.#subscribers(), published: this.#state().seq };
  }

  /** Kept metric frames with `seq > since`, oldest first, at most `limit` of them. */
  async history(since: number, limit: number): Promise<MetricFrame[]> {
    return this.#sql
      .exec<{ frame: string }>("SELECT frame FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", since, limit)
      .toArray()
      .map((row) => JSON.parse(row.frame) as MetricFrame);
  }

  /**
   * Accepts a subscriber. The route has validated the topic, `since` and `epoch` already; the
   * join frames are sent before anything else can run, so a racing publish is never missed or repeated.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ error: { code: "upgrade_required", message: "Expected a WebSocket upgrade." } }, { status: 426 });
    }
    if (this.ctx.getWebSockets().length >= this.#maxSubscribers) {
      const error = {
        code: "topic_full",
        message: `Topic "${this.#topic()}" has ${this.#maxSubscribers} subscribers, its maximum.`,
      };
      return Response.json({ error }, { status: 503, headers: { "Retry-After": "30" } });
    }
    const params = new URL(request.url).searchParams;
    const since = params.has("since") ? Number(params.get("since")) : null;
    const { 0: client, 1: server } = new WebSocketPair();
    // Hibernation API: the runtime owns the socket, so the object may sleep while it stays open.
    this.ctx.acceptWebSocket(server);
    const now = Date.now();
    server.serializeAttachment({ joinedAt: now, bucket: fullBucket(this.#ratePolicy, now) } satisfies Attachment);
    for (const text of this.#joinFrames(since, params.get("epoch"))) server.send(text);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const bytes = typeof message === "string" ? new TextEncoder().encode(message).byteLength : message.byteLength;
    if (bytes > MAX_CLIENT_FRAME_BYTES) {
      ws.close(CLOSE_TOO_BIG, `frame of ${bytes} bytes exceeds ${MAX_CLIENT_FRAME_BYTES}`);
      return;
    }
    const attachment = this.#attachment(ws);
    const { allowed, bucket } = takeToken(attachment.bucket, this.#ratePolicy, Date.now());
    if (!allowed) {
      ws.close(CLOSE_POLICY, `more than ${this.#ratePolicy.perSecond} frames per second`);
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

  override async webSocketClose(_ws: WebSocket, _code: number, _reason: string, _wasClean: boolean): Promise<void> {
    // Nothing to release: a socket's state is its attachment, which goes with it. From compatibility
    // date 2026-04-07 the runtime completes the close handshake itself (web_socket_auto_reply_to_close).
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    console.warn(JSON.stringify({ event: "websocket_error", topic: this.#topic(), error: String(error) }));
    this.#close(ws, CLOSE_INTERNAL, "socket error");
  }

  #topic(): string {
    const name = this.ctx.id.name;
    if (name === undefined) {
      throw new Error("Topic objects are addressed by name: use env.TOPIC.getByName(topic), not an id.");
    }
    return name;
  }

  /** The one state row, created with a fresh epoch the first time this topic's storage is used. */
  #state(): StateRow {
    const row = this.#sql
      .exec<StateRow>("SELECT epoch, seq, updated_at, status, detail FROM topic_state WHERE id = 1")
      .toArray()[0];
    if (row) return row;
    const fresh: StateRow = { epoch: crypto.randomUUID(), seq: 0, updated_at: null, status: "ok", detail: "" };
    this.#sql.exec("INSERT INTO topic_state (id, epoch, seq) VALUES (1, ?, 0)", fresh.epoch);
    return fresh;
  }

  /** hello, then the latest metric, or on resume every kept metric after `since` (or a reset). */
  #joinFrames(since: number | null, epoch: string | null): string[] {
    const topic = this.#topic();
    const state = this.#state();
    const hello = { type: "hello", topic, seq: state.seq, epoch: state.epoch, serverTime: Date.now() } satisfies ServerFrame;
    const latest = () =>
      this.#sql
        .exec<{ frame: string }>("SELECT frame FROM messages ORDER BY seq DESC LIMIT 1")
        .toArray()
        .map((row) => row.frame);
    if (since === null) return [encodeFrame(hello), ...latest()];
    const oldest = this.#sql.exec<{ seq: number | null }>("SELECT MIN(seq) AS seq FROM messages").one().seq;
    const recovered =
      epoch === state.epoch && since <= state.seq && (since === state.seq || (oldest !== null && since >= oldest - 1));
    if (!recovered) {
      const reset = { type: "reset", topic, seq: state.seq } satisfies ServerFrame;
      return [encodeFrame({ ...hello, recovered: false }), encodeFrame(reset), ...latest()];
    }
    const missed = this.#sql.exec<{ frame: string }>("SELECT frame FROM messages WHERE seq > ? ORDER BY seq", since).toArray();
    return [encodeFrame({ ...hello, recovered: true }), ...missed.map((row) => row.frame)];
  }

  /** Sends one serialized frame to every socket; a socket that fails is closed and skipped. */
  #broadcast(text: string): void {
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(text);
      } catch {
        this.#close(ws, CLOSE_INTERNAL, "send failed");
      }
    }
  }

  #subscribers(): number {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).length;
  }

  #attachment(ws: WebSocket): Attachment {
    return ws.deserializeAttachment() as Attachment;
  }

  #close(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code, reason);
    } catch {
      // Already closed: nothing left to do for this socket.
    }
  }
}
