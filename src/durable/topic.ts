/**
 * One Topic object owns one topic: its seq, epoch, bounded history, dedupe keys, run ledger and
 * freshness (SQLite), its one alarm, and every subscriber socket (hibernatable WebSockets).
 */
import { DurableObject } from "cloudflare:workers";
import {
  encodeFrame,
  type MetricFrame,
  PING,
  PONG,
  type RunRecord,
  type TopicSnapshot,
  type TopicState,
} from "../client/protocol";
import {
  batchIntervalMs,
  clientRatePolicy,
  historyLimit,
  maxStreams,
  maxSubscribers,
  shardNames,
  streamLifetimeMs,
} from "../config";
import type { EdgebeatEnv } from "../env";
import { Audience } from "./audience";
import { BatchClock } from "./batch-decision";
import { rearmCadence, takeTick } from "./cadence";
import { ShardFanout } from "./fanout";
import { changeStatus, failingDetail, ON_TIME, pushDeadline, RESTING, restSlot, staleDetail } from "./freshness";
import { jobRunner } from "./job-runner";
import { joinFrames } from "./join";
import { hasRested, listRuns, recordJobRun, recordSkippedRuns } from "./ledger";
import { objectName } from "./names";
import { storePublish, takeUnsent } from "./publish";
import type {
  CadenceReport,
  ExpectedRun,
  FailedRun,
  HistoryPage,
  JobHealth,
  PublishInput,
  PublishResult,
  RestingSlot,
  ShardJoin,
  TickData,
  TopicMetrics,
  TopicRpc,
} from "./rpc";
import type { SkippedRuns } from "./scheduler-rpc";
import { migrate } from "./schema";
import * as store from "./store";
import { isStreamRequest, keepAliveAt, Streams } from "./streams";
import { Subscribers } from "./subscribers";
import { healthOf, historyOf, metricsOf, pageOf, snapshotOf } from "./views";
import { armAlarm, clearWakeup, dueWakeups, rearmAlarm, setWakeup, setWakeupIfAbsent } from "./wakeups";

export class Topic extends DurableObject<EdgebeatEnv> implements TopicRpc {
  readonly #sql: SqlStorage;
  readonly #historyLimit: number;
  readonly #sockets: Subscribers;
  #audience: Audience | undefined;
  readonly #streams: Streams;
  readonly #batching = new BatchClock(() => batchIntervalMs(this.env, this.#topic()));

  constructor(ctx: DurableObjectState, env: EdgebeatEnv) {
    super(ctx, env);
    // Auto-response answers "ping" without waking the object, so idle sockets cost nothing.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    this.#sql = ctx.storage.sql;
    this.#historyLimit = historyLimit(env);
    this.#sockets = new Subscribers(ctx, () => this.#topic(), clientRatePolicy(env), maxSubscribers(env));
    this.#streams = new Streams(maxStreams(env), streamLifetimeMs(env));
    migrate(this.#sql);
  }

  /**
   * Stores a metric as seq + 1 and sends it to every subscriber (now, or with the next batch of a
   * BATCH topic); a `runId` or `id` seen before returns its earlier seq and sends nothing.
   */
  async publish(input: PublishInput): Promise<PublishResult> {
    const topic = this.#topic();
    const now = Date.now();
    const batch = this.#batching.window();
    const request = { topic, input, batch, historyLimit: this.#historyLimit, now };
    const stored = this.ctx.storage.transactionSync(() => storePublish(this.#sql, request));
    // Persist first, then broadcast: the output gate holds these sends until the write is durable.
    if (!stored.duplicate) {
      if (stored.action === "send") {
        this.#batching.sent(now);
        this.#broadcast(stored.text, stored.seq);
      } else if (stored.action === "flush") {
        this.#flush(Date.now());
      }
      if (input.run) this.#setStatus("ok", ON_TIME);
    }
    // Only a job's publish or a new batch moves a wake-up; other publishes leave the alarm alone (hot path).
    if (input.nextExpectedAt !== undefined || (!stored.duplicate && stored.newBatch)) await armAlarm(this.ctx.storage);
    return { topic, seq: stored.seq, duplicate: stored.duplicate };
  }

  async recordFailure(failure: FailedRun): Promise<void> {
    const published = store.seenSeq(this.#sql, store.runKey(failure.runId)) !== null;
    this.ctx.storage.transactionSync(() => {
      recordJobRun(this.#sql, failure, failure.runId, "failed", null, failure.error);
      pushDeadline(this.#sql, failure, Date.now());
    });
    if (!published) this.#setStatus("failing", failingDetail(failure));
    await armAlarm(this.ctx.storage);
  }

  async watchedOrRest(slot: RestingSlot): Promise<boolean> {
    if (hasRested(this.#sql, slot.runId)) return false; // handed over again: it rested already
    if (await this.#reach().isWatched(Date.now())) return true;
    this.ctx.storage.transactionSync(() => restSlot(this.#sql, slot, Date.now()));
    this.#setStatus("ok", RESTING);
    await armAlarm(this.ctx.storage);
    return false;
  }

  /** A runtime schedule resumed (`next`: its next slot) or stopped (null: no deadline); `detail` says which. */
  async scheduleChanged(detail: string, next: ExpectedRun | null): Promise<void> {
    if (next === null) clearWakeup(this.#sql, "stale");
    else pushDeadline(this.#sql, next, Date.now());
    this.#setStatus("ok", detail);
    await armAlarm(this.ctx.storage);
  }

  async recordSkipped(skipped: SkippedRuns): Promise<void> {
    recordSkippedRuns(this.#sql, skipped, Date.now());
  }

  async ensureCadence(tick: TickData): Promise<CadenceReport> {
    const now = Date.now();
    const report = rearmCadence(this.#sql, tick, await this.ctx.storage.getAlarm(), now);
    if (report.rearmed) await armAlarm(this.ctx.storage);
    return report;
  }

  async snapshot(): Promise<TopicSnapshot> {
    return snapshotOf(this.#sql, this.#topic(), await this.#reach().count());
  }

  async counts(): Promise<{ subscribers: number; published: number }> {
    return { subscribers: await this.#reach().count(), published: store.readState(this.#sql).seq };
  }

  async history(since: number, limit: number): Promise<MetricFrame[]> {
    return historyOf(this.#sql, since, limit);
  }

  /** `/history`'s page: kept metrics after `since` with the epoch and status; with `waitMs`, a long-poll. */
  async poll(since: number, limit: number, waitMs = 0): Promise<HistoryPage> {
    const page = pageOf(this.#sql, since, limit);
    if (waitMs > 0) this.#reach().polled(Date.now());
    if (page.messages.length > 0 || waitMs <= 0) return page;
    // Long-poll: hold the call until a metric after `since` is broadcast, or the wait ends.
    await this.#reach().nextMetric(waitMs);
    return pageOf(this.#sql, since, limit);
  }

  async runs(limit: number): Promise<RunRecord[]> {
    return listRuns(this.#sql, limit);
  }

  async jobHealth(): Promise<JobHealth> {
    return healthOf(this.#sql);
  }

  async metrics(): Promise<TopicMetrics> {
    return metricsOf(this.#sql, await this.#reach().count());
  }

  /** @internal For a shard: the join frames of a subscriber it is accepting, and the seq they end at. */
  async joinForShard(since: number | null, epoch: string | null): Promise<ShardJoin> {
    const state = store.readState(this.#sql);
    return { frames: this.#join(since, epoch), seq: state.sent, epoch: state.epoch };
  }

  /** @internal For a shard catching up: kept metric frames with `since < seq <= to`, as stored (serialized), oldest first. */
  async framesForShard(since: number, to: number): Promise<string[]> {
    return store.framesBetween(this.#sql, since, to);
  }

  /**
   * Accepts a subscriber. The route has validated the topic, `since` and `epoch` already; the
   * join frames are sent before anything else can run, so a racing publish is never missed or repeated.
   */
  override async fetch(request: Request): Promise<Response> {
    if (isStreamRequest(request)) return this.#openStream(request);
    const refusal = this.#sockets.refusal(request);
    if (refusal !== null) return refusal;
    const params = new URL(request.url).searchParams;
    return this.#sockets.accept(this.#join(params.has("since") ? Number(params.get("since")) : null, params.get("epoch")));
  }

  /**
   * The one alarm: sends a pending batch, marks the topic stale when its freshness deadline
   * passes, and runs the next slot of a sub-minute job. Alarms are at-least-once; a repeated slot
   * publishes once (runId dedupe), and a repeated flush finds nothing left to send.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const slots: { job: string; slot: number }[] = [];
    for (const wakeup of dueWakeups(this.#sql, now)) {
      if (wakeup.kind === "flush") {
        this.#flush(now);
      } else if (wakeup.kind === "keepalive") {
        if (this.#streams.keepAlive()) setWakeup(this.#sql, keepAliveAt(now));
        else clearWakeup(this.#sql, "keepalive");
      } else if (wakeup.kind === "stale") {
        clearWakeup(this.#sql, "stale");
        this.#setStatus("stale", staleDetail(wakeup.data));
      } else {
        slots.push(takeTick(this.#sql, wakeup, now));
      }
    }
    // Re-arm before running, so a slow or failing run never breaks the chain.
    await rearmAlarm(this.ctx.storage);
    for (const { job, slot } of slots) {
      try {
        await jobRunner(this.ctx).runSlot(job, slot);
      } catch (error) {
        console.error(JSON.stringify({ event: "slot_failed", topic: this.#topic(), job, slot, error: String(error) }));
      }
    }
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.#sockets.onMessage(ws, message);
  }

  override async webSocketClose(_ws: WebSocket, _code: number, _reason: string, _wasClean: boolean): Promise<void> {
    // Nothing to release: a socket's state is its attachment, which goes with it. From compatibility
    // date 2026-04-07 the runtime completes the close handshake itself (web_socket_auto_reply_to_close).
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    this.#sockets.onError(ws, error);
  }

  #topic(): string {
    return objectName(this.ctx, "env.TOPIC.getByName(topic)");
  }

  /** Stores the status, and tells every subscriber when freshness says the change is news. */
  #setStatus(state: TopicState, detail: string): void {
    if (changeStatus(this.#sql, state, detail))
      this.#broadcast(encodeFrame({ type: "status", topic: this.#topic(), state, detail }), null);
  }

  /** A stream; while any is open, the alarm sends the keep-alive (the alarm is the object's one clock). */
  async #openStream(request: Request): Promise<Response> {
    const response = this.#streams.accept(request, this.#topic(), (since, epoch) => this.#join(since, epoch));
    if (this.#streams.count() > 0 && setWakeupIfAbsent(this.#sql, keepAliveAt(Date.now()))) await armAlarm(this.ctx.storage);
    return response;
  }

  /** A new subscriber joins at the last seq broadcast; the frames of a pending batch reach it with the batch. */
  #join(since: number | null, epoch: string | null): string[] {
    const state = store.readState(this.#sql);
    return joinFrames(this.#sql, { topic: this.#topic(), state: { ...state, seq: state.sent }, since, epoch });
  }

  /**
   * Sends every stored metric not yet broadcast, as few `batch` frames as packBatches allows (a
   * lone one stays a `metric` frame). Frames already pruned are skipped; a client sees the gap and resumes.
   */
  #flush(now: number): void {
    const unsent = takeUnsent(this.#sql, this.#topic());
    if (unsent.length === 0) return;
    this.#batching.sent(now);
    for (const { text, first, last } of unsent) this.#broadcast(text, last, first);
  }

  /** Sends a frame to every socket, stream and shard; `seq` is its last metric seq (null for a status). */
  #broadcast(text: string, seq: number | null, first = seq): void {
    this.#reach().send(text, seq, first);
  }

  /** Everyone this topic's frames reach; its shards (none unless SHARDS lists it) are read from the configuration once. */
  #reach(): Audience {
    if (this.#audience !== undefined) return this.#audience;
    const topic = this.#topic();
    const fanout = new ShardFanout(this.env.SHARD, shardNames(this.env, topic), topic, (work) => this.ctx.waitUntil(work));
    let epoch: string | undefined;
    this.#audience = new Audience(this.#sockets, this.#streams, fanout, () => {
      epoch ??= store.readState(this.#sql).epoch;
      return epoch;
    });
    return this.#audience;
  }
}
