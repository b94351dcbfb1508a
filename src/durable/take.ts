/**
 * A due schedule's slots written down (inside the alarm's one transaction): the ones its missed-run
 * policy runs as pending runs, the ones it passed over as one pending skip, and its next slot.
 */
import { nextSlot, timingOf } from "../cron/local-time";
import { dueSlots } from "./missed";
import * as store from "./schedule-store";

export function takeDueSlots(sql: SqlStorage, row: store.ScheduleRow, now: number): void {
  const { id, spec } = row;
  const timing = timingOf(spec);
  const due = dueSlots(timing, spec.missed, spec.missedLimit, row.nextAt ?? now, now);
  for (const slot of due.run) {
    const nextExpectedAt = nextSlot(timing, slot) ?? spec.endAt ?? slot;
    store.addPendingRun(sql, {
      scheduleId: id,
      job: spec.job,
      params: spec.params,
      topic: spec.topic,
      slot,
      runId: `${id}@${slot}`,
      nextExpectedAt,
      whileWatched: spec.whileWatched ?? false,
    });
  }
  if (due.skipped !== null) {
    const { first, count, atLeast } = due.skipped;
    const slots = `${atLeast ? "at least " : ""}${count} slot${count === 1 ? "" : "s"}`;
    store.addPendingSkip(sql, spec.topic, {
      runId: `${id}@${first}`,
      job: spec.job,
      firstSlot: first,
      count,
      reason: `Schedule ${id} (missed: "${spec.missed}") passed over ${slots} from ${new Date(first).toISOString()}, ${now - first} ms late.`,
    });
  }
  store.setNextAt(sql, id, due.next);
}
