/**
 * When a new metric is broadcast: at once, deferred to the next flush of a batching topic (BATCH),
 * or together with the metrics still waiting. The decision is pure: the batch's state and a clock
 * in, a decision out; BatchClock is the part of that state a topic keeps in memory.
 */

export interface BatchWindow {
  /** The topic's batch interval, or null when it does not batch. */
  intervalMs: number | null;
  /** Broadcasts wait until then: the last broadcast plus the interval (0 after a restart, in memory only). */
  nextFlushAt: number;
  /** Stored metrics not broadcast yet. */
  pending: number;
}

export type BatchDecision =
  /** Broadcast the new metric alone, now. */
  | { action: "send" }
  /** Only store it: the flush at `flushAt` sends it with the others that wait. */
  | { action: "defer"; flushAt: number }
  /** Broadcast the waiting metrics and the new one now, packed into batch frames. */
  | { action: "flush" };

/** Send, defer or flush a metric published at `now`. */
export function decideBroadcast(window: BatchWindow, now: number): BatchDecision {
  // Within its interval a batching topic leaves the metric to the flush; past it, a publish sends
  // at once, with whatever earlier publishes still wait (the alarm is the backstop, not the rule).
  if (window.intervalMs !== null && now < window.nextFlushAt) return { action: "defer", flushAt: window.nextFlushAt };
  return window.pending > 0 ? { action: "flush" } : { action: "send" };
}

/** When broadcasts may go out again after one at `now`: an interval later, or at once for a topic that does not batch. */
export function nextFlushAfter(intervalMs: number | null, now: number): number {
  return intervalMs === null ? 0 : now + intervalMs;
}

/**
 * A topic's batch interval (read once, on first use) and when broadcasts may go out again (in
 * memory only: after a restart the next publish sends at once).
 */
export class BatchClock {
  #intervalMs: number | null | undefined;
  #nextFlushAt = 0;

  constructor(private readonly readInterval: () => number | null) {}

  /** The window a publish decides in (the stored state supplies how many metrics wait). */
  window(): Omit<BatchWindow, "pending"> {
    this.#intervalMs ??= this.readInterval();
    return { intervalMs: this.#intervalMs, nextFlushAt: this.#nextFlushAt };
  }

  /** Broadcasts went out at `now`: the next may go out an interval later. */
  sent(now: number): void {
    this.#nextFlushAt = nextFlushAfter(this.window().intervalMs, now);
  }
}
