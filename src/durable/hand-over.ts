/**
 * Handing a Scheduler shard's taken slots over: each pending skip to its topic's ledger, each
 * pending run to the JobRunner (through `ctx.exports`). A row is deleted once handed over; a run
 * whose call itself fails is tried again by a later alarm, MAX_TRIES times in all.
 */
import type { SlotRunner } from "./job-runner";
import type { TopicRpc } from "./rpc";
import * as store from "./schedule-store";
import type { ScheduledRun } from "./scheduler-rpc";

/** Schedules handed over side by side, per shard. */
const CONCURRENCY = 32;
const MAX_TRIES = 5;

export class HandOver {
  /** Pending runs being handed over now (in memory: after a restart every pending run is handed over again). */
  readonly #inFlight = new Set<string>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly runner: () => SlotRunner,
    private readonly topic: (name: string) => Pick<TopicRpc, "recordSkipped">,
  ) {}

  /** Hands every pending skip and run over; runs an earlier call is still handing over are its own. */
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
    const runner = this.runner();
    // One schedule's runs go one after another, oldest slot first (a catch-up publishes in slot
    // order); different schedules run side by side, CONCURRENCY at a time.
    const bySchedule = new Map<string, { run: ScheduledRun; tries: number }[]>();
    for (const pending of store.pendingRuns(this.sql).filter(({ run }) => !this.#inFlight.has(run.runId))) {
      bySchedule.set(pending.run.scheduleId, [...(bySchedule.get(pending.run.scheduleId) ?? []), pending]);
    }
    const queue = [...bySchedule.values()].map((runs) => runs.sort((a, b) => a.run.slot - b.run.slot));
    const worker = async () => {
      for (let runs = queue.shift(); runs !== undefined; runs = queue.shift()) {
        for (const { run, tries } of runs) await this.#one(runner, run, tries);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  }

  async #one(runner: SlotRunner, run: ScheduledRun, tries: number): Promise<void> {
    this.#inFlight.add(run.runId);
    try {
      await runner.runScheduled(run);
      store.finishPendingRun(this.sql, run.runId);
    } catch (error) {
      const givingUp = tries + 1 >= MAX_TRIES;
      if (givingUp) store.finishPendingRun(this.sql, run.runId);
      else store.retryPendingRun(this.sql, run.runId);
      const failure = { event: "schedule_run_unhanded", runId: run.runId, tries: tries + 1, givingUp, error: String(error) };
      console.error(JSON.stringify(failure));
    } finally {
      this.#inFlight.delete(run.runId);
    }
  }
}
