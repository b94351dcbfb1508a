/**
 * One shard of a hot topic holds a share of its subscribers. The topic's owner object keeps seq,
 * history, dedupe and the ledger, and hands every frame to each shard; the shard sends it to its
 * sockets in seq order, fetching from the owner any frame that has not reached it yet. Join and
 * resume frames come from the owner, so any shard serves the same seqs and epoch.
 */
import { DurableObject } from "cloudflare:workers";
import { PING, PONG } from "../client/protocol";
import { clientRatePolicy, maxSubscribers, shardNames } from "../config";
import type { EdgebeatEnv } from "../env";
import type { TopicShardRpc } from "./rpc";
import { Subscribers } from "./subscribers";

export class TopicShard extends DurableObject<EdgebeatEnv> implements TopicShardRpc {
  readonly #sql: SqlStorage;
  readonly #sockets: Subscribers;
  /** Deliveries and joins run one at a time, so a joining socket never sees a frame twice or out of order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: EdgebeatEnv) {
    super(ctx, env);
    // Auto-response answers "ping" without waking the object, so idle sockets cost nothing.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    this.#sql = ctx.storage.sql;
    this.#sql.exec(
      "CREATE TABLE IF NOT EXISTS shard_state (id INTEGER PRIMARY KEY CHECK (id = 1), epoch TEXT NOT NULL, seq INTEGER NOT NULL)",
    );
    const shards = Math.max(1, shardNames(env, this.#topic()).length);
    this.#sockets = new Subscribers(ctx, () => this.#topic(), clientRatePolicy(env), Math.ceil(maxSubscribers(env) / shards));
  }

  /**
   * @internal Sends a frame from the owner to this shard's sockets. `seq` is null for frames outside the seq
   * order (status), else the frame's last metric seq; `first` is a batch's first (the seq of a lone
   * metric). `epoch` is the owner's, so a shard notices when the topic's storage was reset.
   */
  async deliverFromOwner(seq: number | null, text: string, epoch: string, first = seq): Promise<void> {
    await this.#serially(async () => {
      if (seq === null || first === null) {
        this.#sockets.broadcast(text);
        return;
      }
      const sent = this.#sent(epoch);
      if (sent !== null && seq <= sent) return; // already sent: a late or repeated delivery
      // Part of a batch already went out in a catch-up: send the rest one by one instead.
      if (sent !== null && first <= sent) return this.#catchUp(sent, seq, epoch);
      if (sent !== null && first > sent + 1) await this.#catchUp(sent, first - 1, epoch);
      this.#sockets.broadcast(text);
      this.#setSent(seq, epoch);
    });
  }

  /** @internal Open sockets on this shard, for the owner's counts. */
  async countForOwner(): Promise<number> {
    return this.#sockets.count();
  }

  /** Accepts a subscriber with the owner's join frames, after bringing this shard's other sockets up to them. */
  override async fetch(request: Request): Promise<Response> {
    const refusal = this.#sockets.refusal(request);
    if (refusal !== null) return refusal;
    const params = new URL(request.url).searchParams;
    const since = params.has("since") ? Number(params.get("since")) : null;
    return this.#serially(async () => {
      const { frames, seq, epoch } = await this.#owner().joinForShard(since, params.get("epoch"));
      const sent = this.#sent(epoch);
      // The owner's seq is never behind what it delivered, so only the sockets already here can be
      // behind the newcomer's join point: bring them up to it before it joins.
      if (sent !== null && seq > sent) await this.#catchUp(sent, seq, epoch);
      this.#setSent(Math.max(seq, sent ?? 0), epoch);
      return this.#sockets.accept(frames);
    });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.#sockets.onMessage(ws, message);
  }

  override async webSocketClose(_ws: WebSocket, _code: number, _reason: string, _wasClean: boolean): Promise<void> {
    // Nothing to release: a socket's state is its attachment, which goes with it.
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    this.#sockets.onError(ws, error);
  }

  /** The topic this shard serves: its name is `topic/index`. */
  #topic(): string {
    const name = this.ctx.id.name;
    if (name === undefined || !name.includes("/")) {
      throw new Error('TopicShard objects are addressed by name: env.SHARD.getByName("<topic>/<index>").');
    }
    return name.slice(0, name.lastIndexOf("/"));
  }

  #owner() {
    return this.env.TOPIC.getByName(this.#topic());
  }

  /**
   * Sends the owner's kept frames after `from` up to `to` to every socket here, in order. Frames
   * the owner no longer keeps are skipped; the clients see the gap and resume from the owner.
   */
  async #catchUp(from: number, to: number, epoch: string): Promise<void> {
    for (const text of await this.#owner().framesForShard(from, to)) this.#sockets.broadcast(text);
    this.#setSent(to, epoch);
  }

  /** The last seq this shard sent in `epoch`, or null (nothing yet, or the topic's storage was reset). */
  #sent(epoch: string): number | null {
    const row = this.#sql.exec<{ epoch: string; seq: number }>("SELECT epoch, seq FROM shard_state WHERE id = 1").toArray()[0];
    return row !== undefined && row.epoch === epoch ? row.seq : null;
  }

  #setSent(seq: number, epoch: string): void {
    this.#sql.exec(
      "INSERT INTO shard_state (id, epoch, seq) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, seq = excluded.seq",
      epoch,
      seq,
    );
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
