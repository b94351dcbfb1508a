/** Hot-topic shards: announcements is sharded over 3 objects in the tests (vitest.config.ts). */
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { MetricFrame } from "../../src/client/protocol";
import { shardNames } from "../../src/config";
import { openShardSocket, openSocket, type TestSocket } from "../helpers/socket";

const owner = (topic: string) => env.TOPIC.getByName(topic);

async function seqsOf(socket: TestSocket, count: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) seqs.push(((await socket.nextFrame()) as MetricFrame).seq);
  return seqs;
}

describe("a sharded topic", () => {
  it("spreads subscribers over its shards and counts them all in the snapshot", async () => {
    expect(shardNames(env, "announcements")).toEqual(["announcements/0", "announcements/1", "announcements/2"]);
    const sockets = await Promise.all(Array.from({ length: 12 }, () => openSocket("/topics/announcements")));
    for (const socket of sockets) await socket.nextFrame();
    const perShard = await Promise.all(shardNames(env, "announcements").map((name) => env.SHARD.getByName(name).countForOwner()));
    expect(perShard.reduce((a, b) => a + b, 0)).toBe(12);
    expect(perShard.filter((n) => n > 0).length).toBeGreaterThan(1);
    expect((await owner("announcements").snapshot()).subscribers).toBe(12);
    for (const socket of sockets) socket.ws.close(1000, "done");
  });

  it("delivers every publish to every socket on every shard, in order", async () => {
    const sockets = await Promise.all(Array.from({ length: 9 }, () => openSocket("/topics/announcements")));
    const hellos = await Promise.all(sockets.map((socket) => socket.nextFrame()));
    const start = (hellos[0] as { seq: number }).seq;
    if (start > 0) for (const socket of sockets) await socket.nextFrame(); // the latest value on join
    for (let n = 1; n <= 20; n++) await owner("announcements").publish({ value: n, id: `sharded-${start + n}` });
    const expected = Array.from({ length: 20 }, (_, i) => start + i + 1);
    for (const socket of sockets) expect(await seqsOf(socket, 20)).toEqual(expected);
  });

  it("resumes through any shard with the owner's replay", async () => {
    const first = await openSocket("/topics/announcements");
    const hello = (await first.nextFrame()) as { seq: number; epoch: string };
    await owner("announcements").publish({ value: "a", id: "resume-a" });
    await owner("announcements").publish({ value: "b", id: "resume-b" });
    for (const name of shardNames(env, "announcements")) {
      const socket = await openShardSocket(name, `?since=${hello.seq}&epoch=${hello.epoch}`);
      expect(await socket.nextFrame()).toMatchObject({ type: "hello", seq: hello.seq + 2, epoch: hello.epoch, recovered: true });
      expect(await seqsOf(socket, 2)).toEqual([hello.seq + 1, hello.seq + 2]);
    }
  });
});

describe("a shard", () => {
  // "lab" is not sharded in the configuration, so its owner delivers nothing by itself: the test does.
  const epoch = async () => (await owner("lab").joinForShard(null, null)).epoch;
  const frame = async (seq: number) => (await owner("lab").framesForShard(seq - 1, seq))[0] as string;

  it("fetches from the owner the frames that did not reach it, and ignores late ones", async () => {
    for (let n = 1; n <= 3; n++) await owner("lab").publish({ value: n, id: `lab-${n}` });
    const socket = await openShardSocket("lab/0");
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", seq: 3 });
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: 3 });
    for (let n = 4; n <= 6; n++) await owner("lab").publish({ value: n, id: `lab-${n}` });
    await env.SHARD.getByName("lab/0").deliverFromOwner(6, await frame(6), await epoch());
    expect(await seqsOf(socket, 3)).toEqual([4, 5, 6]);
    await env.SHARD.getByName("lab/0").deliverFromOwner(5, await frame(5), await epoch());
    await socket.expectSilence();
  });

  it("keeps its place through hibernation, and passes status frames straight on", async () => {
    const socket = await openShardSocket("lab/1");
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", seq: 6 });
    await socket.nextFrame();
    await evictDurableObject(env.SHARD.getByName("lab/1"), { webSockets: "hibernate" });
    await owner("lab").publish({ value: 7, id: "lab-7" });
    await env.SHARD.getByName("lab/1").deliverFromOwner(7, await frame(7), await epoch());
    expect(await seqsOf(socket, 1)).toEqual([7]);
    const status = JSON.stringify({ type: "status", topic: "lab", state: "stale", detail: "late" });
    await env.SHARD.getByName("lab/1").deliverFromOwner(null, status, await epoch());
    expect(await socket.nextFrame()).toEqual({ type: "status", topic: "lab", state: "stale", detail: "late" });
  });
});
