/** The batching decision alone: a batch window and a clock in, send, defer or flush out. */
import { describe, expect, it } from "vitest";
import { type BatchWindow, decideBroadcast, nextFlushAfter } from "../../src/durable/batch-decision";

const NOW = 1_700_000_000_000;
const batching = (window: Partial<BatchWindow> = {}): BatchWindow => ({ intervalMs: 500, nextFlushAt: 0, pending: 0, ...window });

describe("decideBroadcast", () => {
  it("sends a publish of a topic that does not batch at once", () => {
    expect(decideBroadcast({ intervalMs: null, nextFlushAt: 0, pending: 0 }, NOW)).toEqual({ action: "send" });
  });

  it("sends a publish after a quiet interval at once", () => {
    expect(decideBroadcast(batching({ nextFlushAt: NOW - 1 }), NOW)).toEqual({ action: "send" });
  });

  it("sends the first publish after a restart at once (the window is in memory only)", () => {
    expect(decideBroadcast(batching({ nextFlushAt: 0 }), NOW)).toEqual({ action: "send" });
  });

  it("defers a publish within the interval to the flush at its end, however many wait", () => {
    expect(decideBroadcast(batching({ nextFlushAt: NOW + 1 }), NOW)).toEqual({ action: "defer", flushAt: NOW + 1 });
    expect(decideBroadcast(batching({ nextFlushAt: NOW + 500, pending: 7 }), NOW)).toEqual({
      action: "defer",
      flushAt: NOW + 500,
    });
  });

  it("flushes the waiting publishes with the first one past the interval, before the alarm does", () => {
    expect(decideBroadcast(batching({ nextFlushAt: NOW, pending: 3 }), NOW)).toEqual({ action: "flush" });
  });

  it("flushes what waits when a topic stops batching (its BATCH entry is gone)", () => {
    expect(decideBroadcast({ intervalMs: null, nextFlushAt: NOW + 500, pending: 2 }, NOW)).toEqual({ action: "flush" });
  });
});

describe("nextFlushAfter", () => {
  it("opens a window of one interval after a broadcast of a batching topic", () => {
    expect(nextFlushAfter(500, NOW)).toBe(NOW + 500);
  });

  it("opens no window for a topic that does not batch", () => {
    expect(nextFlushAfter(null, NOW)).toBe(0);
  });
});
