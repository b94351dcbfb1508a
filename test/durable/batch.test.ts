/**
 * Batching: the "burst…" topics may broadcast twice a second, and "burst-sharded" has 2 shards
 * (BATCH and SHARDS in vitest.config.ts). A publish after a quiet interval goes out at once; the ones within the next
 * 500 ms are stored at once and reach subscribers together in one `batch` frame from the alarm.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BatchFrame, ServerFrame } from "../../src/client/protocol";
import { batchIntervalMs, batchRates } from "../../src/config";
import { packBatches } from "../../src/durable/batch";
import { migrate } from "../../src/durable/schema";
import { openShardSocket, openTopicSocket, type TestSocket } from "../helpers/socket";

const owner = (topic: string) => env.TOPIC.getByName(topic);
/** Long enough for the flush alarm (500 ms after the last broadcast) to have fired. */
const FLUSH_WAIT = { timeoutMs: 3_000 };

const seqs = (frame: ServerFrame) => (frame as BatchFrame).frames.map((metric) => metric.seq);

async function publishAll(topic: string, values: number[]): Promise<void> {
  for (const value of values) await owner(topic).publish({ value, id: `${topic}-${value}` });
}

/** A fresh topic's socket, past its hello. */
async function subscribe(topic: string): Promise<TestSocket> {
  const socket = await openTopicSocket(topic);
  expect(await socket.nextFrame()).toMatchObject({ type: "hello", topic, seq: 0 });
  return socket;
}

describe("BATCH", () => {
  it("reads topic:perSecond pairs and refuses anything else with the fix", () => {
    expect(batchRates({ BATCH: "burst:2, feed:0.5" })).toEqual(
      new Map([
        ["burst", 2],
        ["feed", 0.5],
      ]),
    );
    expect(batchIntervalMs({ BATCH: "burst:2" }, "burst")).toBe(500);
    expect(batchIntervalMs({ BATCH: "burst:2" }, "other")).toBeNull();
    for (const bad of ["burst", "burst:0", "burst:-1", "burst:1001", "burst:fast", "Bad Topic:2"]) {
      expect(() => batchRates({ BATCH: bad })).toThrow(`BATCH entry "${bad}" must be topic:perSecond`);
    }
  });
});

describe("a batching topic", () => {
  it("sends a publish after a quiet interval at once, and the next ones together in one batch frame", async () => {
    const socket = await subscribe("burst");
    await publishAll("burst", [1, 2, 3, 4, 5]);
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 1, value: 1 });
    const batch = await socket.nextFrame(FLUSH_WAIT);
    expect(batch).toMatchObject({ type: "batch", topic: "burst" });
    expect((batch as BatchFrame).frames).toEqual(
      [2, 3, 4, 5].map((n) => ({
        type: "metric",
        topic: "burst",
        seq: n,
        value: n,
        ts: expect.any(Number),
        runId: `post:burst-${n}`,
      })),
    );
    // Every publish was stored at once: the snapshot and the history do not wait for the batch.
    expect((await owner("burst").snapshot()).seq).toBe(5);
    expect((await owner("burst").history(0, 10)).map((frame) => frame.seq)).toEqual([1, 2, 3, 4, 5]);
    // Quiet again for an interval: the next publish goes out alone, and nothing came in between.
    await socket.expectSilence(600);
    await publishAll("burst", [6]);
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 6 });
  });

  it("lets a subscriber join at the last broadcast seq, so it gets a pending value once, with the batch", async () => {
    const first = await subscribe("burst-join");
    await publishAll("burst-join", [1, 2, 3]);
    expect(await first.nextFrame()).toMatchObject({ type: "metric", seq: 1 });
    // 2 and 3 wait for the batch: a newcomer joins at 1, and a resume from 0 replays only 1.
    const late = await openTopicSocket("burst-join");
    expect(await late.nextFrame()).toMatchObject({ type: "hello", seq: 1 });
    expect(await late.nextFrame()).toMatchObject({ type: "metric", seq: 1 });
    const { epoch } = await owner("burst-join").joinForShard(null, null);
    const resumed = await openTopicSocket("burst-join", `?since=0&epoch=${epoch}`);
    expect(await resumed.nextFrame()).toMatchObject({ type: "hello", seq: 1, recovered: true });
    expect(await resumed.nextFrame()).toMatchObject({ type: "metric", seq: 1 });
    for (const socket of [first, late, resumed]) expect(seqs(await socket.nextFrame(FLUSH_WAIT))).toEqual([2, 3]);
  });

  it("keeps a pending batch through an eviction: the alarm sends it from storage", async () => {
    const socket = await subscribe("burst-evict");
    const stub = owner("burst-evict");
    await publishAll("burst-evict", [1, 2, 3]);
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 1 });
    await evictDurableObject(stub, { webSockets: "hibernate" });
    expect(seqs(await socket.nextFrame(FLUSH_WAIT))).toEqual([2, 3]);
  });

  it("lets the first publish past the interval send the waiting ones with it, without waiting for the alarm", async () => {
    const socket = await subscribe("burst-inline");
    const stub = owner("burst-inline");
    await publishAll("burst-inline", [1, 2]);
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 1 });
    // An eviction forgets when the topic last broadcast, so the next publish is past its interval.
    await evictDurableObject(stub, { webSockets: "hibernate" });
    await publishAll("burst-inline", [3]);
    expect(seqs(await socket.nextFrame({ timeoutMs: 300 }))).toEqual([2, 3]);
    // The alarm, when it comes, finds nothing left to send.
    await socket.expectSilence(700);
  });

  it("hands each batch to every shard, whose sockets get the same frame", async () => {
    const sockets = await Promise.all(["burst-sharded/0", "burst-sharded/1"].map((name) => openShardSocket(name)));
    for (const socket of sockets) expect(await socket.nextFrame()).toMatchObject({ type: "hello", seq: 0 });
    await publishAll("burst-sharded", [1, 2, 3]);
    for (const socket of sockets) {
      expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 1 });
      expect(seqs(await socket.nextFrame(FLUSH_WAIT))).toEqual([2, 3]);
    }
  });
});

describe("a shard given a batch", () => {
  it("sends only the part it has not sent yet when a catch-up already covered the rest", async () => {
    // "lab-batch" is not sharded in the configuration, so the test delivers to its shard by hand.
    const lab = owner("lab-batch");
    for (let n = 1; n <= 3; n++) await lab.publish({ value: n, id: `lab-batch-${n}` });
    const { epoch } = await lab.joinForShard(null, null);
    const shard = env.SHARD.getByName("lab-batch/0");
    const socket = await openShardSocket("lab-batch/0");
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", seq: 3 });
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 3 });
    await lab.publish({ value: 4, id: "lab-batch-4" });
    await lab.publish({ value: 5, id: "lab-batch-5" });
    const kept: string[] = await lab.framesForShard(3, 5);
    expect(kept).toHaveLength(2);
    const [four, five] = kept as [string, string];
    await shard.deliverFromOwner(4, four, epoch);
    await shard.deliverFromOwner(5, `{"type":"batch","topic":"lab-batch","frames":[${four},${five}]}`, epoch, 4);
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 4 });
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 5 });
    await socket.expectSilence(200);
  });
});

describe("the schema step that adds `sent`", () => {
  it("marks everything an existing topic published as broadcast, so its subscribers join where they did", async () => {
    const stub = owner("before-batching");
    for (let n = 1; n <= 3; n++) await stub.publish({ value: n, id: `before-batching-${n}` });
    const sent = await runInDurableObject(stub, (_instance, state) => {
      // Back to the schema before the step, as a topic deployed before it has it.
      state.storage.sql.exec("ALTER TABLE topic_state DROP COLUMN sent");
      state.storage.sql.exec("DELETE FROM _schema_migrations WHERE version = 3");
      migrate(state.storage.sql);
      return state.storage.sql.exec<{ seq: number; sent: number }>("SELECT seq, sent FROM topic_state").one();
    });
    expect(sent).toEqual({ seq: 3, sent: 3 });
  });
});

describe("packBatches", () => {
  const frame = (seq: number, pad = "") => `{"type":"metric","topic":"t","seq":${seq},"value":"${pad}"}`;

  it("keeps a lone frame a metric frame and splices several into one batch frame", () => {
    expect(packBatches("t", [frame(4)], 4)).toEqual([{ text: frame(4), first: 4, last: 4 }]);
    const text = `{"type":"batch","topic":"t","frames":[${frame(4)},${frame(5)},${frame(6)}]}`;
    expect(packBatches("t", [frame(4), frame(5), frame(6)], 4)).toEqual([{ text, first: 4, last: 6 }]);
    expect(JSON.parse(text)).toMatchObject({ type: "batch", frames: [{ seq: 4 }, { seq: 5 }, { seq: 6 }] });
    expect(packBatches("t", [], 4)).toEqual([]);
  });

  it("starts a new batch frame before one would pass the size cap, in seq order", () => {
    const frames = [1, 2, 3, 4, 5].map((seq) => frame(seq, "x".repeat(100)));
    const cap = 2 * (frames[0] as string).length + 60; // room for two frames in the batch envelope
    const packed = packBatches("t", frames, 1, cap);
    expect(packed.map(({ first, last }) => [first, last])).toEqual([
      [1, 2],
      [3, 4],
      [5, 5],
    ]);
    expect(packed.every(({ text }) => text.length <= cap)).toBe(true);
    expect(packed[2]?.text).toBe(frames[4]);
    expect(
      packed.flatMap(({ text }) => (text.startsWith('{"type":"batch"') ? JSON.parse(text).frames : [JSON.parse(text)])),
    ).toEqual(frames.map((text) => JSON.parse(text)));
  });

  it("sends a frame bigger than the cap on its own", () => {
    const big = frame(2, "y".repeat(500));
    expect(packBatches("t", [frame(1), big, frame(3)], 1, 300).map(({ first, last }) => [first, last])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });
});
