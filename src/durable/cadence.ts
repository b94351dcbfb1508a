/**
 * A sub-minute job's cadence on its topic's one alarm: the `tick` wake-up, which slot a late alarm
 * runs and which it skips, and the watchdog (the job's minute cron) that re-arms a broken chain.
 */
import { recordSkipped } from "./ledger";
import type { CadenceReport, TickData } from "./rpc";
import { getWakeup, setWakeup, type Wakeup } from "./wakeups";

/**
 * Leaves a healthy tick alone: armed (with an alarm), at this interval, and not overdue. Otherwise
 * arms it at the next slot boundary; the caller then points the alarm at it.
 */
export function rearmCadence(sql: SqlStorage, tick: TickData, alarm: number | null, now: number): CadenceReport {
  const current = getWakeup(sql, "tick");
  const healthy =
    current !== null && alarm !== null && current.data.everyMs === tick.everyMs && current.at > now - 2 * tick.everyMs;
  if (healthy) return { rearmed: false, nextSlot: current.at };
  const nextSlot = Math.ceil(now / tick.everyMs) * tick.everyMs;
  setWakeup(sql, { kind: "tick", at: nextSlot, data: tick });
  return { rearmed: true, nextSlot };
}

/**
 * The slot a due tick runs, and the next tick armed after it. A late alarm runs the newest due
 * slot and records the ones it passed over as skipped.
 */
export function takeTick(sql: SqlStorage, tick: Extract<Wakeup, { kind: "tick" }>, now: number): { job: string; slot: number } {
  const { job, everyMs } = tick.data;
  const missed = Math.floor((now - tick.at) / everyMs);
  const slot = tick.at + missed * everyMs;
  if (missed > 0) recordSkipped(sql, job, tick.at, missed, now);
  setWakeup(sql, { kind: "tick", at: slot + everyMs, data: tick.data });
  return { job, slot };
}

/** The next sub-minute slot, or null when this topic runs none. */
export function nextTickAt(sql: SqlStorage): number | null {
  return getWakeup(sql, "tick")?.at ?? null;
}
