import { describe, expect, it } from "vitest";
import { type BatchFrame, encodeFrame, parseFrame } from "../../src/client/protocol";

const batch = {
  type: "batch",
  topic: "announcements",
  frames: [
    { type: "metric", topic: "announcements", seq: 7, value: 70, ts: 1_796_004_060_007, runId: "post@7" },
    { type: "metric", topic: "announcements", seq: 8, value: { n: 80 }, ts: 1_796_004_060_008, runId: "post@8" },
  ],
} satisfies BatchFrame;

describe("parseFrame: batch", () => {
  it("reads back a batch exactly as it was encoded", () => {
    expect(parseFrame(encodeFrame(batch))).toEqual(batch);
  });

  it("reads an empty batch as a batch of nothing", () => {
    expect(parseFrame('{"type":"batch","topic":"announcements","frames":[]}')).toEqual({
      type: "batch",
      topic: "announcements",
      frames: [],
    });
  });

  it("rejects a batch it cannot unpack into metrics of its own topic, naming the frame", () => {
    const [first, second] = batch.frames;
    const malformed = [
      { ...batch, frames: first },
      { type: "batch", frames: [first] },
      { ...batch, frames: [first, { type: "reset", topic: "announcements", seq: 8 }] },
      { ...batch, frames: [first, { ...second, topic: "other" }] },
      { ...batch, frames: [first, { ...second, seq: 8.5 }] },
      { ...batch, frames: [first, "metric"] },
    ];
    for (const frame of malformed) {
      const text = JSON.stringify(frame);
      expect(() => parseFrame(text)).toThrow(`not an edgebeat frame: ${text.slice(0, 80)}`);
    }
  });
});
