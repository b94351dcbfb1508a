/**
 * One Topic object owns one topic: its seq, epoch, bounded history, dedupe keys, run ledger and
 * freshness (SQLite), its one alarm, and every subscriber socket (hibernatable WebSockets).
 */
import { DurableObject } from "cloudflare:workers";
import { encodeFrame, type MetricFrame, type RunRecord, type TopicSnapshot, type TopicState } from "../client/protocol";
import { batchIntervalMs, clientRatePolicy, historyLimit, maxSubscribers, shardNames } from "../config";
import type { EdgebeatEnv } from "../env";
import { packBatches } from "./batch";
import { jobRunner } from "./job-runner";
import { joinFrames } from "./join";
import { addCounter, lastSuccessAt, listRuns, readCounters, recordJobRun, recordSkipped } from "./ledger";
import type { FailedRun, JobHealth, PublishInput, PublishResult, ShardJoin, TopicMetrics, TopicRpc } from "./rpc";
import { clearSchedule, dueSchedules, earliestSchedule, getSchedule, setSchedule, type TickData } from "./schedules";
import { migrate } from "./schema";
import { Subscribers } from "./subscribers";

interface StateRow extends Record<string, SqlStorageValue> {
  epoch: string;
  seq: number;
  /** The last seq broadcast; behind `seq` while a batch is pending. */
  sent: number;
  updated_at: number | null;
  status: TopicState;
  detail: string;
}

/** Dedupe keys of the last this-many publishes are kept; older runIds and ids may publish again. */
export const DEDUPE_LIMIT = 10_000;

export class Topic extends DurableObject<EdgebeatEnv> implements TopicRpc {
  readonly #sql: SqlStorage;
  readonly #historyLimit: number;
  readonly #sockets: Subscribers;
  #shards: string[] | undefined;
  #batchIntervalMs: number | null | undefined;
  /** Metrics wait for a batch until then (in memory only: after a restart the next publish sends at once). */
  #nextFlushAt = 0;

  constructor(ctx: DurableObjectState, env: EdgebeatEnv) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#historyLimit = historyLimit(env);
    this.#sockets = new Subscribers(ctx, () => this.#topic(), clientRatePolicy(env), maxSubscribers(env));
    migrate(this.#sql);
  }

  /**
   * Stores a metric as seq + 1 and sends it to every subscriber; a `runId` or `id` seen before
   * returns the seq it got then and sends nothing. A job's publish also records its run and
   * pushes the freshness deadline out to `nextExpectedAt + graceMs`. A topic listed in BATCH that
   * broadcast less than an interval ago stores it and leaves it to the next flush (`batch` frame).
   */
  async publish(input: PublishInput): Promise<PublishResult> {
    const topic = this.#topic();
    const key = input.runId !== undefined ? `run:${input.runId}` : input.id !== undefined ? `id:${input.id}` : null;
    const record = (status: "ok" | "duplicate", seq: number) => {
      if (input.run && input.runId !== undefined)
        recordJobRun(this.#sql, { ...input, job: input.job ?? topic }, input.runId, status, seq, null);
    };
    const outcome = this.ctx.storage.transactionSync(() => {
      const seen =
        key === null ? undefined : this.#sql.exec<{ seq: number }>("SELECT seq FROM dedupe WHERE key = ?", key).toArray()[0];
      if (seen) {
        addCounter(this.#sql, "duplicates");
        record("duplicate", seen.seq);
        return { seq: seen.seq, text: null, deferred: false, flush: false, newBatch: false };
      }
      const state = this.#state();
      const seq = state.seq + 1;
      const ts = Date.now();
      // A batching topic within its interval leaves it to the flush; past it, a publish sends at
      // once, with whatever earlier publishes still wait (the alarm is the backstop, not the rule).
      const defer = this.#batching() && ts < this.#nextFlushAt;
      const flush = !defer && state.sent < state.seq;
      const newBatch = defer && getSchedule(this.#sql, "flush") === null;
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
      const sent = defer || flush ? state.sent : seq;
      this.#sql.exec("UPDATE topic_state SET seq = ?, sent = ?, updated_at = ? WHERE id = 1", seq, sent, ts);
      if (newBatch) setSchedule(this.#sql, { kind: "flush", at: this.#nextFlushAt, data: {} });
      if (sent === seq) this.#sentAt(ts);
      addCounter(this.#sql, "published");
      if (key !== null) {
        this.#sql.exec("INSERT INTO dedupe (key, seq) VALUES (?, ?)", key, seq);
        this.#sql.exec("DELETE FROM dedupe WHERE rowid <= (SELECT MAX(rowid) FROM dedupe) - ?", DEDUPE_LIMIT);
      }
      record("ok", seq);
      this.#expectNextRun(input);
      return { seq, text, deferred: defer, flush, newBatch };
    });
    // Persist first, then broadcast: the output gate holds these sends until the write is durable.
    if (outcome.flush) this.#flush(Date.now());
    else if (outcome.text !== null && !outcome.deferred) this.#broadcast(outcome.text, outcome.seq);
    if (outcome.text !== null && input.run) this.#setStatus("ok", "Runs arrive on time.");
    // Only a job's publish or a new batch moves a schedule; other publishes leave the alarm alone (hot path).
    if (input.nextExpectedAt !== undefined || outcome.newBatch) await this.#armAlarm();
    return { topic, seq: outcome.seq, duplicate: outcome.text === null };
  }

  /** Records a job run that failed after its retries; the topic turns `failing` unless its slot already published. */
  async recordFailure(failure: FailedRun): Promise<void> {
    const published = this.#sql
      .exec<{ seq: number }>("SELECT seq FROM dedupe WHERE key = ?", `run:${failure.runId}`)
      .toArray()[0];
    this.ctx.storage.transactionSync(() => {
      recordJobRun(this.#sql, failure, failure.runId, "failed", null, failure.error);
      this.#expectNextRun(failure);
    });
    if (!published) {
      const attempts = `${failure.run.attempts} attempt${failure.run.attempts === 1 ? "" : "s"}`;
      this.#setStatus("failing", `Run ${failure.runId} failed after ${attempts}: ${failure.error}`);
    }
    await this.#armAlarm();
  }

  /**
   * The sub-minute cadence's watchdog, called by the job's minute cron: arms the tick if it is
   * missing, has another interval, or is overdue (the alarm chain broke); otherwise changes nothing.
   */
  async ensureCadence(tick: TickData): Promise<{ rearmed: boolean; nextSlot: number }> {
    const now = Date.now();
    const current = getSchedule(this.#sql, "tick");
    const alarm = await this.ctx.storage.getAlarm();
    const healthy =
      current !== null && alarm !== null && current.data.everyMs === tick.everyMs && current.at > now - 2 * tick.everyMs;
    if (healthy) return { rearmed: false, nextSlot: current.at };
    const nextSlot = Math.ceil(now / tick.everyMs) * tick.everyMs;
    setSchedule(this.#sql, { kind: "tick", at: nextSlot, data: tick });
    await this.#armAlarm();
    return { rearmed: true, nextSlot };
  }

  /** The topic as a client would see it now: latest seq and metric, subscribers, status. */
  async snapshot(): Promise<TopicSnapshot> {
    const state = this.#state();
    const latest = this.#latest();
    return {
      topic: this.#topic(),
      seq: state.seq,
      latest: latest === null ? null : (JSON.parse(latest) as MetricFrame),
      subscribers: await this.#subscribers(),
      updatedAt: state.updated_at,
      status: state.status,
    };
  }

  /** Live counts for the `system` job, without the latest value. */
  async counts(): Promise<{ subscribers: number; published: number }> {
    return { subscribers: await this.#subscribers(), published: this.#state().seq };
  }

  /** Kept metric frames with `seq > since`, oldest first, at most `limit` of them. */
  async history(since: number, limit: number): Promise<MetricFrame[]> {
    return this.#sql
      .exec<{ frame: string }>("SELECT frame FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", since, limit)
      .toArray()
      .map((row) => JSON.parse(row.frame) as MetricFrame);
  }

  /** @internal For a shard: the join frames of a subscriber it is accepting, and the seq they end at. */
  async joinForShard(since: number | null, epoch: string | null): Promise<ShardJoin> {
    const state = this.#state();
    return { frames: this.#join(since, epoch), seq: state.sent, epoch: state.epoch };
  }

  /** @internal For a shard catching up: kept metric frames with `since < seq <= to`, as stored (serialized), oldest first. */
  async framesForShard(since: number, to: number): Promise<string[]> {
    return this.#sql
      .exec<{ frame: string }>("SELECT frame FROM messages WHERE seq > ? AND seq <= ? ORDER BY seq", since, to)
      .toArray()
      .map((row) => row.frame);
  }

  /** The run ledger, newest first. */
  async runs(limit: number): Promise<RunRecord[]> {
    return listRuns(this.#sql, limit);
  }

  /** The feeding job's last run, last success, status and next tick. */
  async jobHealth(): Promise<JobHealth> {
    const state = this.#state();
    return {
      lastRun: listRuns(this.#sql, 1)[0] ?? null,
      lastSuccessAt: lastSuccessAt(this.#sql),
      status: state.status,
      detail: state.detail,
      nextTickAt: getSchedule(this.#sql, "tick")?.at ?? null,
    };
  }

  /** Counters and gauges for /metrics. */
  async metrics(): Promise<TopicMetrics> {
    const state = this.#state();
    return {
      subscribers: await this.#subscribers(),
      seq: state.seq,
      status: state.status,
      updatedAt: state.updated_at,
      counters: readCounters(this.#sql),
      lastRun: listRuns(this.#sql, 1)[0] ?? null,
    };
  }

  /**
   * Accepts a subscriber. The route has validated the topic, `since` and `epoch` already; the
   * join frames are sent before anything else can run, so a racing publish is never missed or repeated.
   */
  override async fetch(request: Request): Promise<Response> {
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
    for (const schedule of dueSchedules(this.#sql, now)) {
      if (schedule.kind === "flush") {
        this.#flush(now);
      } else if (schedule.kind === "stale") {
        clearSchedule(this.#sql, "stale");
        const { lastScheduledTime, nextExpectedAt } = schedule.data;
        const since = new Date(lastScheduledTime).toISOString();
        this.#setStatus("stale", `No run since ${since}; the next was due at ${new Date(nextExpectedAt).toISOString()}.`);
      } else {
        const { job, everyMs } = schedule.data;
        // A late alarm runs the newest due slot and records the ones it passed over as skipped.
        const missed = Math.floor((now - schedule.at) / everyMs);
        const slot = schedule.at + missed * everyMs;
        if (missed > 0) recordSkipped(this.#sql, job, schedule.at, missed, now);
        setSchedule(this.#sql, { kind: "tick", at: slot + everyMs, data: schedule.data });
        slots.push({ job, slot });
      }
    }
    // Re-arm before running, so a slow or failing run never breaks the chain.
    await this.#armAlarm();
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
    const name = this.ctx.id.name;
    if (name === undefined) {
      throw new Error("Topic objects are addressed by name: use env.TOPIC.getByName(topic), not an id.");
    }
    return name;
  }

  /** The one state row, created with a fresh epoch the first time this topic's storage is used. */
  #state(): StateRow {
    const row = this.#sql
      .exec<StateRow>("SELECT epoch, seq, sent, updated_at, status, detail FROM topic_state WHERE id = 1")
      .toArray()[0];
    if (row) return row;
    const fresh: StateRow = { epoch: crypto.randomUUID(), seq: 0, sent: 0, updated_at: null, status: "ok", detail: "" };
    this.#sql.exec("INSERT INTO topic_state (id, epoch, seq) VALUES (1, ?, 0)", fresh.epoch);
    return fresh;
  }

  #latest(): string | null {
    return this.#sql.exec<{ frame: string }>("SELECT frame FROM messages ORDER BY seq DESC LIMIT 1").toArray()[0]?.frame ?? null;
  }

  /**
   * Moves the freshness deadline out to `nextExpectedAt + graceMs` (job runs only); never earlier,
   * so a late or repeated run of an older slot cannot make the topic stale too soon.
   */
  #expectNextRun(input: { scheduledTime?: number; nextExpectedAt?: number; graceMs?: number }): void {
    if (input.nextExpectedAt === undefined || input.graceMs === undefined) return;
    const current = getSchedule(this.#sql, "stale");
    if (current !== null && current.at >= input.nextExpectedAt + input.graceMs) return;
    const data = { nextExpectedAt: input.nextExpectedAt, lastScheduledTime: input.scheduledTime ?? Date.now() };
    setSchedule(this.#sql, { kind: "stale", at: input.nextExpectedAt + input.graceMs, data });
  }

  /** Stores the status; tells every subscriber when the state changes, or a problem's detail does. */
  #setStatus(state: TopicState, detail: string): void {
    const current = this.#state();
    if (current.status === state && current.detail === detail) return;
    this.#sql.exec("UPDATE topic_state SET status = ?, detail = ? WHERE id = 1", state, detail);
    if (current.status !== state || state !== "ok")
      this.#broadcast(encodeFrame({ type: "status", topic: this.#topic(), state, detail }), null);
  }

  /** Points the one alarm at the earliest schedule, or clears it. */
  async #armAlarm(): Promise<void> {
    const at = earliestSchedule(this.#sql);
    if (at === null) await this.ctx.storage.deleteAlarm();
    else if ((await this.ctx.storage.getAlarm()) !== at) await this.ctx.storage.setAlarm(at);
  }

  /** A new subscriber joins at the last seq broadcast; the frames of a pending batch reach it with the batch. */
  #join(since: number | null, epoch: string | null): string[] {
    const state = this.#state();
    return joinFrames(this.#sql, { topic: this.#topic(), state: { ...state, seq: state.sent }, since, epoch });
  }

  /** Whether this topic coalesces fast publishes (BATCH); read from the configuration once per instance. */
  #batching(): boolean {
    this.#batchIntervalMs ??= batchIntervalMs(this.env, this.#topic());
    return this.#batchIntervalMs !== null;
  }

  /** A batching topic that broadcast at `now` waits an interval before the next broadcast. */
  #sentAt(now: number): void {
    if (this.#batching()) this.#nextFlushAt = now + (this.#batchIntervalMs ?? 0);
  }

  /**
   * Sends every stored metric not yet broadcast: alone as its `metric` frame, or several as
   * `batch` frames of at most MAX_BATCH_CHARS (packBatches). Frames already pruned from history
   * are skipped; a client sees the gap and resumes.
   */
  #flush(now: number): void {
    clearSchedule(this.#sql, "flush");
    const { seq, sent } = this.#state();
    if (seq <= sent) return;
    const frames = this.#sql
      .exec<{ frame: string }>("SELECT frame FROM messages WHERE seq > ? ORDER BY seq", sent)
      .toArray()
      .map((row) => row.frame);
    this.#sql.exec("UPDATE topic_state SET sent = ? WHERE id = 1", seq);
    this.#sentAt(now);
    for (const { text, first, last } of packBatches(this.#topic(), frames, seq - frames.length + 1)) {
      this.#broadcast(text, last, first);
    }
  }

  /**
   * Sends a frame to this object's sockets, and to every shard of a sharded topic (one RPC each, in
   * parallel). `seq` is the frame's last metric seq (null for a status), `first` a batch's first.
   */
  #broadcast(text: string, seq: number | null, first = seq): void {
    this.#sockets.broadcast(text);
    const shards = this.#shardNames();
    if (shards.length === 0) return;
    const epoch = this.#state().epoch;
    const sends = shards.map((name) => this.env.SHARD.getByName(name).deliverFromOwner(seq, text, epoch, first));
    // A shard that misses a frame fetches it on the next one (it tracks seq); a client that sees a gap resumes.
    this.ctx.waitUntil(
      Promise.allSettled(sends).then((results) => {
        for (const result of results) {
          if (result.status === "rejected")
            console.error(
              JSON.stringify({ event: "shard_unreachable", topic: this.#topic(), seq, error: String(result.reason) }),
            );
        }
      }),
    );
  }

  /** This topic's shard objects (none unless SHARDS lists it); read from the configuration once per instance. */
  #shardNames(): string[] {
    this.#shards ??= shardNames(this.env, this.#topic());
    return this.#shards;
  }

  /** Open sockets here and on every shard. */
  async #subscribers(): Promise<number> {
    const shards = this.#shardNames();
    const counts = await Promise.all(shards.map((name) => this.env.SHARD.getByName(name).countForOwner()));
    return counts.reduce((sum, n) => sum + n, this.#sockets.count());
  }
}
