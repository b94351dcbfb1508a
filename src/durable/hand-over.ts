/**
 * Handing a Scheduler shard's taken slots over: each pending skip to its topic's ledger, the
 * pending runs to the JobRunner (through `ctx.exports`) in batches, one RPC per batch, a few
 * batches at a time. A batch's rows are deleted together once it is handed over; a batch whose call
 * itself fails is tried again by a later alarm, MAX_TRIES times in all (its topics dedupe the runs
 * that did publish).
 */
import type { SlotRunner } from "./job-runner";
import type { TopicRpc } from "./rpc";
import * as store from "./schedule-store";

/** Batches of one shard in flight at once. */
const BATCHES_IN_FLIGHT = 4;
const MAX_TRIES = 5;

type Pending = ReturnType<typeof store.pendingRuns>[number];

export class HandOver {
  /** Pending runs read from the table and not yet handed over, oldest taken first (in memory: a restart reads them again). */
  #queue: Pending[] = [];
  /** The runIds queued or in flight, so a later alarm's read adds only new ones. */
  readonly #known = new Set<string>();
  /** Schedules with a batch in flight: their later slots wait, so one schedule's runs never overtake each other. */
  readonly #busy = new Set<string>();
  #workers = 0;
  #idle: PromiseWithResolvers<void> | null = null;

  /**
   * @param batchSize runs per JobRunner call: each run makes its job's subrequests plus one or two
   *   to its topic in that one invocation, so batch × that must fit the plan's subrequest limit.
   */
  constructor(
    private readonly sql: SqlStorage,
    private readonly runner: () => SlotRunner,
    private readonly topic: (name: string) => Pick<TopicRpc, "recordSkipped">,
    private readonly batchSize: number,
  ) {}

  /** Hands every pending skip and run over; resolves once nothing is queued or in flight. */
  async run(): Promise<void> {
    await Promise.all(
      store.pendingSkips(this.sql).map(async ({ topic, skipped }) => {
        try {
          await this.topic(topic).recordSkipped(skipped);
          store.finishPendingSkip(this.sql, skipped.runId);
        } catch (error) {
          console.error(JSON.stringify({ event: "skip_unrecorded", topic, runId: skipped.runId, error: String(error) }));
        }
      }),
    );
    for (const pending of store.pendingRuns(this.sql)) {
      if (this.#known.has(pending.run.runId)) continue;
      this.#known.add(pending.run.runId);
      this.#queue.push(pending);
    }
    if (this.#queue.length === 0 && this.#workers === 0) return;
    this.#idle ??= Promise.withResolvers<void>();
    const idle = this.#idle.promise;
    const runner = this.runner();
    for (let started = this.#workers; started < BATCHES_IN_FLIGHT; started++) void this.#work(runner);
    return idle;
  }

  async #work(runner: SlotRunner): Promise<void> {
    this.#workers++;
    try {
      for (let batch = this.#nextBatch(); batch.length > 0; batch = this.#nextBatch()) await this.#hand(runner, batch);
    } finally {
      this.#workers--;
      if (this.#workers === 0) {
        this.#idle?.resolve();
        this.#idle = null;
      }
    }
  }

  /** Up to batchSize queued runs of schedules with nothing in flight, each schedule's oldest slots first. */
  #nextBatch(): Pending[] {
    const batch: Pending[] = [];
    const taken = new Set<string>();
    const waiting: Pending[] = [];
    let read = 0;
    for (; read < this.#queue.length && batch.length < this.batchSize; read++) {
      const pending = this.#queue[read] as Pending;
      const { scheduleId } = pending.run;
      if (this.#busy.has(scheduleId) && !taken.has(scheduleId)) {
        waiting.push(pending);
        continue;
      }
      taken.add(scheduleId);
      this.#busy.add(scheduleId);
      batch.push(pending);
    }
    this.#queue = [...waiting, ...this.#queue.slice(read)];
    if (batch.length === 0) return batch;
    // A pause or a delete since the read dropped some: those run nothing.
    const live = store.stillPending(
      this.sql,
      batch.map(({ run }) => run.runId),
    );
    for (const { run } of batch) if (!live.has(run.runId)) this.#known.delete(run.runId);
    const handing = batch.filter(({ run }) => live.has(run.runId));
    // A schedule none of whose runs is handed is not in flight (its later runs may go at once).
    const handed = new Set(handing.map(({ run }) => run.scheduleId));
    for (const scheduleId of taken) if (!handed.has(scheduleId)) this.#busy.delete(scheduleId);
    return handing.length > 0 ? handing : this.#nextBatch();
  }

  async #hand(runner: SlotRunner, batch: Pending[]): Promise<void> {
    const ids = batch.map(({ run }) => run.runId);
    try {
      await runner.runScheduled(batch.map(({ run }) => run));
      store.finishPendingRuns(this.sql, ids);
    } catch (error) {
      const givingUp = batch.filter(({ tries }) => tries + 1 >= MAX_TRIES).map(({ run }) => run.runId);
      store.finishPendingRuns(this.sql, givingUp);
      store.retryPendingRuns(
        this.sql,
        ids.filter((id) => !givingUp.includes(id)),
      );
      console.error(JSON.stringify({ event: "schedule_runs_unhanded", runIds: ids, givingUp, error: String(error) }));
    } finally {
      for (const { run } of batch) {
        this.#busy.delete(run.scheduleId);
        this.#known.delete(run.runId);
      }
    }
  }
}
