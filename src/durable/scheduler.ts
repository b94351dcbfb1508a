/**
 * One Scheduler shard owns the runtime schedules whose id hashes to it, and their timing: one row
 * per schedule, every due slot multiplexed onto the shard's one alarm. A due slot is first written
 * down as a pending run (with the schedule's next slot, in one transaction), then handed to the
 * JobRunner (through `ctx.exports`), which runs it like any job and publishes with runId
 * `<id>@<slot>`. A restart between the two hands it over again; the topic publishes it once.
 * The shard also keeps the claims of the topics that hash to it, so two schedules never share one.
 */
import { DurableObject } from "cloudflare:workers";
import type { Schedule } from "../client/schedule";
import { scheduleBatch, schedulerShardFor } from "../config";
import { nextSlot, timingOf } from "../cron/local-time";
import type { EdgebeatEnv } from "../env";
import { HandOver } from "./hand-over";
import { jobRunner } from "./job-runner";
import { objectName } from "./names";
import type { ExpectedRun } from "./rpc";
import * as store from "./schedule-store";
import type {
  HeartbeatReport,
  PutOptions,
  PutOutcome,
  SchedulePage,
  SchedulerRpc,
  ScheduleSpec,
  TopicClaim,
} from "./scheduler-rpc";
import { migrate } from "./schema";
import { takeDueSlots } from "./take";

/** A run the JobRunner could not take (the call itself failed) is tried again this much later. */
const RETRY_MS = 5_000;
/** An alarm stops waiting for its hand-over this long before the next alarm is due. */
const ALARM_MARGIN_MS = 100;
/** An alarm this far past its time has been lost (the heartbeat re-arms it). */
const OVERDUE_MS = 30_000;

export class Scheduler extends DurableObject<EdgebeatEnv> implements SchedulerRpc {
  readonly #sql: SqlStorage;
  /** Changes to one schedule run one at a time (a put awaits another shard's topic claim). */
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #handOver: HandOver;

  constructor(ctx: DurableObjectState, env: EdgebeatEnv) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    migrate(this.#sql, store.SCHEDULER_MIGRATIONS);
    this.#handOver = new HandOver(
      this.#sql,
      () => jobRunner(ctx),
      (topic) => env.TOPIC.getByName(topic),
      scheduleBatch(env),
    );
  }

  async put(id: string, spec: ScheduleSpec, { expectRevision, graceMs }: PutOptions): Promise<PutOutcome> {
    return this.#serially(id, async () => {
      const current = store.getSchedule(this.#sql, id);
      if (expectRevision !== undefined && (current?.revision ?? 0) !== expectRevision) {
        return { ok: false, conflict: "revision", revision: current?.revision ?? 0 };
      }
      const claim = {
        topic: spec.topic,
        job: spec.job,
        schedule: store.scheduleText(spec),
        private: spec.private,
        scheduleId: id,
      };
      // The next slot first: a timing that cannot be computed throws before anything is claimed.
      const now = Date.now();
      const nextAt = spec.enabled ? nextSlot(timingOf(spec), now) : null;
      const held = await this.#claimsOf(spec.topic).claimTopic(claim);
      if (!held.ok) return { ok: false, conflict: "topic", owner: held.owner };
      // A resumed schedule is expected at its topic again (told it was paused) before its next slot
      // can be taken. A create is not told: thousands at once would wake as many objects.
      if (nextAt !== null && current !== null && !current.spec.enabled) {
        const next = { scheduledTime: now, nextExpectedAt: nextAt, graceMs };
        await this.#tell(spec.topic, `Schedule ${id} is active: its next run is due at ${new Date(nextAt).toISOString()}.`, next);
      }
      const row = this.ctx.storage.transactionSync(() => {
        // A paused schedule runs nothing, not even slots already taken.
        if (!spec.enabled) store.dropPendingRuns(this.#sql, id);
        return store.saveSchedule(this.#sql, id, spec, nextAt, now);
      });
      await this.#arm();
      // A schedule paused from the start has no deadline to stop: its topic is not woken.
      if (!spec.enabled && current !== null && current.spec.enabled) {
        await this.#tell(spec.topic, `Schedule ${id} is paused: nothing runs until it resumes.`, null);
      }
      if (current !== null && current.spec.topic !== spec.topic)
        await this.#claimsOf(current.spec.topic).releaseTopic(current.spec.topic, id);
      return { ok: true, schedule: store.scheduleView(row), created: current === null };
    });
  }

  async get(id: string): Promise<Schedule | null> {
    const row = store.getSchedule(this.#sql, id);
    return row === null ? null : store.scheduleView(row);
  }

  async list({ job, after, limit }: { job: string | null; after: string | null; limit: number }): Promise<SchedulePage> {
    const rows = store.listSchedules(this.#sql, job, after, limit + 1);
    return { schedules: rows.slice(0, limit).map(store.scheduleView), more: rows.length > limit };
  }

  async countByJob(): Promise<Record<string, number>> {
    return store.countByJob(this.#sql);
  }

  async remove(id: string): Promise<boolean> {
    return this.#serially(id, async () => {
      const current = store.getSchedule(this.#sql, id);
      if (current === null) return false;
      // Let go of the topic first: if that fails nothing changed, and the caller can try again.
      await this.#claimsOf(current.spec.topic).releaseTopic(current.spec.topic, id);
      store.deleteSchedule(this.#sql, id);
      await this.#arm();
      await this.#tell(current.spec.topic, `Schedule ${id} was deleted: nothing runs here any more.`, null);
      return true;
    });
  }

  async heartbeat(): Promise<HeartbeatReport> {
    const now = Date.now();
    const want = this.#wantedAlarm(now);
    const alarm = await this.ctx.storage.getAlarm();
    const broken = want !== null && (alarm === null || alarm < now - OVERDUE_MS || alarm > want);
    if (broken) await this.#arm();
    return {
      shard: this.#name(),
      schedules: store.countSchedules(this.#sql),
      rearmed: broken,
      alarm: await this.ctx.storage.getAlarm(),
    };
  }

  async topicInfo(topic: string): Promise<TopicClaim | null> {
    return store.getClaim(this.#sql, topic);
  }

  async listTopics(): Promise<TopicClaim[]> {
    return store.listClaims(this.#sql);
  }

  /** @internal */
  async claimTopic(claim: TopicClaim): Promise<{ ok: true } | { ok: false; owner: string }> {
    const owner = store.putClaim(this.#sql, claim);
    return owner === null ? { ok: true } : { ok: false, owner };
  }

  /** @internal */
  async releaseTopic(topic: string, scheduleId: string): Promise<void> {
    store.dropClaim(this.#sql, topic, scheduleId);
  }

  /**
   * Takes every due slot (by each schedule's missed-run policy) and moves each schedule on to its
   * next slot, in one transaction; re-arms; then hands the taken runs and skips over.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      for (const row of store.dueSchedules(this.#sql, now)) takeDueSlots(this.#sql, row, now);
    });
    await this.#arm();
    // The hand-over may outlast the time to the next alarm (many due runs): the alarm then returns
    // and the hand-over goes on, so the next slot is taken on time instead of being passed over.
    const handing = this.#handOver.run().then(() => this.#arm());
    this.ctx.waitUntil(handing);
    const next = await this.ctx.storage.getAlarm();
    const budget = next === null ? Number.POSITIVE_INFINITY : next - Date.now() - ALARM_MARGIN_MS;
    if (budget === Number.POSITIVE_INFINITY) await handing;
    else if (budget > 0) await Promise.race([handing, new Promise((resolve) => setTimeout(resolve, budget))]);
  }

  /** Tells a topic which run to expect (null: none, so it never turns stale); a topic that cannot be told is only logged. */
  async #tell(topic: string, detail: string, next: ExpectedRun | null): Promise<void> {
    try {
      await this.env.TOPIC.getByName(topic).scheduleChanged(detail, next);
    } catch (error) {
      console.error(JSON.stringify({ event: "topic_not_told", topic, detail, error: String(error) }));
    }
  }

  /** When the alarm should next fire: the earliest next slot, or soon while runs wait to be handed over. */
  #wantedAlarm(now: number): number | null {
    const next = store.earliestNextAt(this.#sql);
    const retry = store.hasPending(this.#sql) ? now + RETRY_MS : null;
    if (next === null) return retry;
    return retry === null ? next : Math.min(next, retry);
  }

  async #arm(): Promise<void> {
    const at = this.#wantedAlarm(Date.now());
    if (at === null) await this.ctx.storage.deleteAlarm();
    else if ((await this.ctx.storage.getAlarm()) !== at) await this.ctx.storage.setAlarm(at);
  }

  /** The shard holding `topic`'s claim: this one (called directly), or another through its stub. */
  #claimsOf(topic: string): Pick<SchedulerRpc, "claimTopic" | "releaseTopic"> {
    const shard = schedulerShardFor(this.env, topic);
    if (shard === this.#name()) return this;
    const namespace = this.env.SCHEDULER;
    if (namespace === undefined) throw new Error("The SCHEDULER binding is missing: bind the Scheduler class as SCHEDULER.");
    return namespace.getByName(shard);
  }

  #name(): string {
    return objectName(this.ctx, 'env.SCHEDULER.getByName("scheduler/<n>")');
  }

  /** Runs `work` after every earlier change to schedule `id` on this object has finished. */
  #serially<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(id) ?? Promise.resolve();
    const result = previous.then(work, work);
    const settled = result.catch(() => {});
    this.#queues.set(id, settled);
    void settled.then(() => {
      if (this.#queues.get(id) === settled) this.#queues.delete(id);
    });
    return result;
  }
}
