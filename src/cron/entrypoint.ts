/**
 * The RPC entrypoint the objects' alarms call (through `ctx.exports`, src/durable/job-runner.ts) to
 * run one slot with the same runner as the crons (timeout, retries, ledger, runId dedupe): a
 * topic's for a sub-minute job, a Scheduler's for a runtime schedule.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { declaredTopics } from "../config";
import type { ScheduledRun } from "../durable/scheduler-rpc";
import type { EdgebeatEnv } from "../env";
import { isStatic, type Job } from "./job";
import { type RunReport, runJob, runPlan } from "./runner";
import { planScheduledRun } from "./scheduled-run";

/** The entrypoint of one set of jobs; `createJobRunner` makes the concrete class. */
export abstract class JobRunnerEntrypoint extends WorkerEntrypoint<EdgebeatEnv> {
  protected abstract readonly jobs: readonly Job[];

  /** Runs job `name` for the slot at `slot` (epoch ms). Throws if no such sub-minute job exists. */
  async runSlot(name: string, slot: number): Promise<RunReport> {
    const job = this.jobs.filter(isStatic).find((candidate) => candidate.name === name && candidate.every !== null);
    if (!job) throw new Error(`no sub-minute job "${name}": the topic's cadence outlived its job; add it back to the jobs`);
    return runJob(job, slot, this.env, this.#topics());
  }

  /**
   * Runs a batch of runtime schedule slots (one call per batch: a Scheduler shard's hand-over is
   * one RPC for many runs, not one each). A schedule's runs go one after another in the order given
   * (its oldest slot first), different schedules' side by side. A job that no longer exists, or
   * params it no longer takes, fail that run only.
   */
  async runScheduled(runs: readonly ScheduledRun[]): Promise<RunReport[]> {
    const topics = this.#topics();
    const bySchedule = Map.groupBy(runs, (run) => run.scheduleId);
    const reports = await Promise.all(
      [...bySchedule.values()].map(async (own) => {
        const done: RunReport[] = [];
        for (const run of own) done.push(await runPlan(planScheduledRun(this.jobs, run), this.env, topics));
        return done;
      }),
    );
    return reports.flat();
  }

  /** Every declared topic, as a job's context lists them. */
  #topics() {
    return declaredTopics(this.jobs.filter(isStatic), this.env);
  }
}

/** A JobRunner class constructor, as the runtime instantiates it. */
export type JobRunnerClass = new (ctx: ExecutionContext, env: EdgebeatEnv) => JobRunnerEntrypoint;

/** The JobRunner class for `jobs`; the Worker exports it as `JobRunner` for ctx.exports to find. */
export function createJobRunner(jobs: readonly Job[]): JobRunnerClass {
  return class JobRunner extends JobRunnerEntrypoint {
    protected readonly jobs = jobs;
  };
}
