/**
 * A topic's freshness: the deadline by which its job's next run must arrive (the `stale` wake-up),
 * and its status (`ok`, `failing`, `stale`), with the rule for when subscribers hear of a change.
 */
import type { TopicState } from "../client/protocol";
import { recordRested } from "./ledger";
import type { FailedRun, RestingSlot } from "./rpc";
import { readState, writeStatus } from "./store";
import { getWakeup, type StaleData, setWakeup } from "./wakeups";

/** The detail of a topic whose runs arrive on time. */
export const ON_TIME = "Runs arrive on time.";

/** What a job's publish or failure says about the next run: when it is due and how late it may be. */
export interface NextRun {
  scheduledTime?: number;
  nextExpectedAt?: number;
  graceMs?: number;
}

/**
 * Moves the freshness deadline out to `nextExpectedAt + graceMs` (job runs only); never earlier,
 * so a late or repeated run of an older slot cannot make the topic stale too soon.
 */
export function pushDeadline(sql: SqlStorage, next: NextRun, now: number): void {
  if (next.nextExpectedAt === undefined || next.graceMs === undefined) return;
  const at = next.nextExpectedAt + next.graceMs;
  const current = getWakeup(sql, "stale");
  if (current !== null && current.at >= at) return;
  setWakeup(sql, {
    kind: "stale",
    at,
    data: { nextExpectedAt: next.nextExpectedAt, lastScheduledTime: next.scheduledTime ?? now },
  });
}

/** The detail of a topic whose job rests while nobody watches. */
export const RESTING = "Resting: nobody is watching; the next slot after a subscriber joins runs.";

/** Records a slot rested through and moves the deadline past the next one, as a run would. */
export function restSlot(sql: SqlStorage, slot: RestingSlot, now: number): void {
  recordRested(sql, slot, now);
  pushDeadline(sql, slot, now);
}

/** The detail of a topic whose deadline passed with no run. */
export function staleDetail({ lastScheduledTime, nextExpectedAt }: StaleData): string {
  return `No run since ${new Date(lastScheduledTime).toISOString()}; the next was due at ${new Date(nextExpectedAt).toISOString()}.`;
}

/** The detail of a topic whose run failed after its retries. */
export function failingDetail(failure: FailedRun): string {
  const attempts = `${failure.run.attempts} attempt${failure.run.attempts === 1 ? "" : "s"}`;
  return `Run ${failure.runId} failed after ${attempts}: ${failure.error}`;
}

/**
 * Stores the status; true when subscribers should be told: the state changed, or a problem's
 * detail did (a recovery is news once, a problem each time it reads differently).
 */
export function changeStatus(sql: SqlStorage, state: TopicState, detail: string): boolean {
  const current = readState(sql);
  if (current.status === state && current.detail === detail) return false;
  writeStatus(sql, state, detail);
  return current.status !== state || state !== "ok";
}
