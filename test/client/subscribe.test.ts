/** The client library against fake sockets: how it handles `batch` frames next to lone `metric` frames. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BatchFrame, HelloFrame, MetricFrame } from "../../src/client/protocol";
import { type Subscription, subscribe } from "../../src/client/subscribe";
import { FakeSocket, fakeEnvironment, nthSocket } from "./fake-socket";

const TOPIC = "announcements";
const URL_HTTP = `http://edgebeat.test/topics/${TOPIC}`;
const EPOCH = "epoch-1";

const hello = (seq: number, recovered?: boolean) =>
  ({
    type: "hello",
    topic: TOPIC,
    seq,
    epoch: EPOCH,
    ...(recovered === undefined ? {} : { recovered }),
    serverTime: 1_796_004_060_000,
  }) satisfies HelloFrame;

const metric = (seq: number) =>
  ({
    type: "metric",
    topic: TOPIC,
    seq,
    value: seq * 10,
    ts: 1_796_004_060_000 + seq,
    runId: `post@${seq}`,
  }) satisfies MetricFrame;

const batch = (...seqs: number[]) => ({ type: "batch", topic: TOPIC, frames: seqs.map(metric) }) satisfies BatchFrame;

const subscriptions: Subscription[] = [];

/** Subscribes with fake sockets and records every metric and state change the client reports. */
function start() {
  const seen = { metrics: [] as MetricFrame[], states: [] as string[] };
  const subscription = subscribe(
    URL_HTTP,
    {
      onMetric: (frame) => seen.metrics.push(frame),
      onState: (state, detail) => seen.states.push(detail === undefined ? state : `${state}: ${detail}`),
    },
    fakeEnvironment(),
  );
  subscriptions.push(subscription);
  return { subscription, seen };
}

/** The first socket, opened and greeted at `seq` with that seq's metric as the latest value. */
async function joinAt(seq: number): Promise<FakeSocket> {
  const ws = await nthSocket(0);
  ws.open();
  ws.receive(hello(seq));
  ws.receive(metric(seq));
  return ws;
}

beforeEach(() => {
  FakeSocket.opened.length = 0;
});

afterEach(() => {
  for (const subscription of subscriptions.splice(0)) subscription.close();
});

describe("subscribe: batch frames", () => {
  it("delivers every metric of a batch once, in order, as if each had arrived alone", async () => {
    const { subscription, seen } = start();
    const ws = await joinAt(6);
    ws.receive(batch(7, 8, 9));

    expect(seen.metrics).toEqual([metric(6), metric(7), metric(8), metric(9)]);
    expect(subscription.seq).toBe(9);
    expect(seen.states).toEqual(["connecting", "live"]);
    expect(ws.closedWith).toBeNull();
    expect(FakeSocket.opened).toHaveLength(1);
  });

  it("resumes from the last seq when a lone metric leaves a gap", async () => {
    const { seen } = start();
    const ws = await joinAt(6);
    ws.receive(metric(8));

    expect(seen.metrics).toEqual([metric(6)]);
    expect(ws.closedWith).toEqual([4000, "gap after seq 6"]);
    expect(seen.states).toEqual(["connecting", "live", "reconnecting: gap after seq 6"]);
    expect((await nthSocket(1)).url).toBe(`ws://edgebeat.test/topics/${TOPIC}?since=6&epoch=${EPOCH}`);
  });

  it("resumes from the last seq when a batch starts after a gap, delivering none of it, then takes the replay", async () => {
    const { subscription, seen } = start();
    const ws = await joinAt(6);
    ws.receive(batch(8, 9));

    expect(seen.metrics).toEqual([metric(6)]);
    expect(ws.closedWith).toEqual([4000, "gap after seq 6"]);
    // One resume, not one per frame of the batch.
    expect(seen.states).toEqual(["connecting", "live", "reconnecting: gap after seq 6"]);
    const resumed = await nthSocket(1);
    expect(resumed.url).toBe(`ws://edgebeat.test/topics/${TOPIC}?since=6&epoch=${EPOCH}`);
    await expect(nthSocket(2, { timeoutMs: 50 })).rejects.toThrow("the client opened 2 sockets within 50 ms, not 3");

    resumed.open();
    resumed.receive(hello(9, true));
    resumed.receive(batch(7, 8, 9));
    expect(seen.metrics).toEqual([metric(6), metric(7), metric(8), metric(9)]);
    expect(subscription.seq).toBe(9);
    expect(seen.states).toEqual(["connecting", "live", "reconnecting: gap after seq 6", "live"]);
  });

  it("delivers a batch up to a gap inside it, then resumes from the last seq delivered", async () => {
    const { subscription, seen } = start();
    const ws = await joinAt(6);
    ws.receive(batch(7, 9, 10));

    expect(seen.metrics).toEqual([metric(6), metric(7)]);
    expect(subscription.seq).toBe(7);
    expect(ws.closedWith).toEqual([4000, "gap after seq 7"]);
    expect(seen.states).toEqual(["connecting", "live", "reconnecting: gap after seq 7"]);
    expect((await nthSocket(1)).url).toBe(`ws://edgebeat.test/topics/${TOPIC}?since=7&epoch=${EPOCH}`);
    await expect(nthSocket(2, { timeoutMs: 50 })).rejects.toThrow("the client opened 2 sockets within 50 ms, not 3");
  });

  it("delivers only the new metrics of a batch that repeats seqs already seen", async () => {
    const { subscription, seen } = start();
    const ws = await joinAt(7);
    ws.receive(batch(5, 6, 7, 8, 9));
    ws.receive(batch(8, 9));

    expect(seen.metrics).toEqual([metric(7), metric(8), metric(9)]);
    expect(subscription.seq).toBe(9);
    expect(seen.states).toEqual(["connecting", "live"]);
    expect(ws.closedWith).toBeNull();
    expect(FakeSocket.opened).toHaveLength(1);
  });

  it("ignores a malformed batch whole, as it ignores any frame it cannot parse, and keeps the socket", async () => {
    const { subscription, seen } = start();
    const ws = await joinAt(6);
    const status = { type: "status", topic: TOPIC, state: "ok", detail: "" };
    const unparsable = [
      "not json",
      { type: "future", topic: TOPIC },
      { type: "batch", topic: TOPIC, frames: metric(7) },
      { type: "batch", frames: [metric(7)] },
      { type: "batch", topic: TOPIC, frames: [metric(7), status] },
      { type: "batch", topic: TOPIC, frames: [metric(7), { ...metric(8), topic: "other" }] },
      { type: "batch", topic: TOPIC, frames: [metric(7), { ...metric(8), seq: "8" }] },
      { type: "batch", topic: TOPIC, frames: [metric(7), null] },
    ];
    for (const frame of unparsable) ws.receive(frame);

    expect(seen.metrics).toEqual([metric(6)]);
    expect(subscription.seq).toBe(6);
    expect(seen.states).toEqual(["connecting", "live"]);
    expect(ws.closedWith).toBeNull();

    ws.receive(batch(7, 8));
    expect(seen.metrics).toEqual([metric(6), metric(7), metric(8)]);
    expect(FakeSocket.opened).toHaveLength(1);
  });
});
