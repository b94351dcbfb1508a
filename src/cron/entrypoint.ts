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

  /** Runs one slot of a runtime schedule; a job that no longer exists, or params it no longer takes, fail the run. */
  async runScheduled(run: ScheduledRun): Promise<RunReport> {
    return runPlan(planScheduledRun(this.jobs, run), this.env, this.#topics());
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
