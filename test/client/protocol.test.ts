import { describe, expect, it } from "vitest";
import { combinedCursor, MAX_TOPICS_PER_CONNECTION, parseCursor } from "../../src/client/positions";
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

describe("the combined cursor", () => {
  it("writes each topic's position as topic=<epoch>:<seq>, and reads it back", () => {
    const positions = new Map([
      ["uptime.acme-home", { epoch: "f9f6fd4f-f76b-4314-83b5-3872ec6582e3", since: 12 }],
      ["a_b", { epoch: "E_1", since: 0 }],
    ]);
    const text = combinedCursor(positions);
    expect(text).toBe("uptime.acme-home=f9f6fd4f-f76b-4314-83b5-3872ec6582e3:12,a_b=E_1:0");
    expect(parseCursor(text)).toEqual(positions);
    expect(parseCursor("")).toEqual(new Map());
  });

  it("reads nothing that is not one entry per topic, each a topic name, = and an event id, at most 50", () => {
    const entries = (count: number) => Array.from({ length: count }, (_, i) => `t${i}=e:1`).join(",");
    expect(parseCursor(entries(MAX_TOPICS_PER_CONNECTION))?.size).toBe(MAX_TOPICS_PER_CONNECTION);
    for (const text of [
      "a",
      "a=",
      "a=e",
      "a=e:",
      "a=e:x",
      "A=e:1",
      "a=e:1,",
      ",a=e:1",
      "a=e:1,a=e:2",
      "a=b=e:1",
      "a=e:1:2",
      entries(51),
    ]) {
      expect([text, parseCursor(text)]).toEqual([text, null]);
    }
  });
});
