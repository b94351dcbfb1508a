/**
 * How a topic's alarm reaches the Worker's JobRunner entrypoint to run a sub-minute slot: through
 * `ctx.exports`, the runtime's loopback bindings to the Worker's own exports, so there is no
 * self-referencing service binding whose `service` must repeat the Worker's name.
 */

import type { ScheduledRun } from "./scheduler-rpc";

/** What a topic's alarm (a sub-minute slot) and a Scheduler's (a runtime schedule's slot) call on the JobRunner entrypoint. */
export interface SlotRunner {
  runSlot(job: string, slot: number): Promise<unknown>;
  /** Runs a batch of runtime schedule slots: each schedule's in the order given, different schedules side by side. */
  runScheduled(runs: readonly ScheduledRun[]): Promise<unknown>;
}

/** The Worker's `JobRunner` export, as a loopback service stub; throws naming the fix when it is missing. */
export function jobRunner(ctx: DurableObjectState): SlotRunner {
  const exports = (ctx as { exports?: Record<string, unknown> }).exports;
  const runner = exports?.JobRunner;
  if (runner === undefined || runner === null) {
    throw new Error(
      "No JobRunner in ctx.exports: export it from the Worker's main module as JobRunner (export const { JobRunner } = edgebeat) and use compatibility_date 2025-11-17 or later (ctx.exports is on by default from then), or the enable_ctx_exports flag.",
    );
  }
  return runner as SlotRunner;
}
