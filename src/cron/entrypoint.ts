/**
 * The RPC entrypoint a topic's alarm calls (through `ctx.exports`, src/durable/job-runner.ts) to run one slot
 * of a sub-minute job with the same runner as the crons: timeout, retries, ledger, runId dedupe.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { declaredTopics } from "../config";
import { JOBS } from "./jobs";
import { type RunReport, runJob } from "./runner";

export class JobRunner extends WorkerEntrypoint<Env> {
  /** Runs job `name` for the slot at `slot` (epoch ms). Throws if no such sub-minute job exists. */
  async runSlot(name: string, slot: number): Promise<RunReport> {
    const job = JOBS.find((candidate) => candidate.name === name && candidate.every !== null);
    if (!job) throw new Error(`no sub-minute job "${name}": the topic's cadence outlived its job; remove it from src/cron/jobs/`);
    return runJob(job, slot, this.env, declaredTopics(JOBS, this.env));
  }
}
