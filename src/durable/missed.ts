/**
 * Which due slots of a runtime schedule run, by its missed-run policy, when its alarm finds them
 * (on time, late, or after downtime). Pure: a schedule's timing, the first slot not yet handled and
 * a clock in; the slots to run (oldest first) and the ones passed over out. Run slots are always the
 * newest due ones, so the passed-over ones are the oldest, recorded as one `skipped` ledger row.
 * - `skip`: only the newest due slot, and only if it is at most ON_TIME_MS old; after downtime the
 *   schedule waits for its next future slot.
 * - `latest`: the newest due slot, however late.
 * - `all`: every due slot, oldest first, at most `missedLimit` of them (the newest ones).
 */
import type { MissedPolicy } from "../client/schedule";
import { nextSlot, slotsBetween, type Timing } from "../cron/local-time";

/** How late an alarm may run a slot and still call it on time (`skip` runs it; older ones are missed). */
export const ON_TIME_MS = 60_000;

export interface DueSlots {
  /** Slots to run now, oldest first. */
  run: number[];
  /** Slots passed over: the first of them and how many (`atLeast` when counting stopped early). */
  skipped: { first: number; count: number; atLeast: boolean } | null;
  /** The next slot after `now`, or null when the schedule has none left. */
  next: number | null;
}

/** The due slots in [`from`, `now`] and what the policy does with them. */
export function dueSlots(timing: Timing, policy: MissedPolicy, missedLimit: number, from: number, now: number): DueSlots {
  const keep = policy === "all" ? missedLimit : 1;
  const due = from > now ? { count: 0, capped: false, first: null, kept: [] } : slotsBetween(timing, from - 1, now, keep);
  const newest = due.kept.slice(-1);
  const run = policy === "all" ? due.kept : policy === "latest" ? newest : newest.filter((slot) => now - slot <= ON_TIME_MS);
  const passed = due.count - run.length;
  const skipped = passed > 0 && due.first !== null ? { first: due.first, count: passed, atLeast: due.capped } : null;
  return { run, skipped, next: nextSlot(timing, now) };
}
