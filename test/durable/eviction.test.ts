/** Hibernation and eviction under load: nothing lost, attachments intact, joins racing publishes see no gap. */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { MetricFrame } from "../../src/client/protocol";
import { openTopicSocket, type TestSocket } from "../helpers/socket";

const stubFor = (topic: string) => env.TOPIC.getByName(topic);

async function drain(socket: TestSocket, count: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) seqs.push(((await socket.nextFrame()) as MetricFrame).seq);
  return seqs;
}

describe("eviction cycles", () => {
  it("delivers every frame to every socket through 30 publish → evict → publish cycles", { timeout: 60_000 }, async () => {
    const sockets = await Promise.all(Array.from({ length: 20 }, () => openTopicSocket("evict-cycles")));
    for (const socket of sockets) await socket.nextFrame();
    const attachmentsBefore = await runInDurableObject(stubFor("evict-cycles"), (_instance, state) =>
      state.getWebSockets().map((ws) => ws.deserializeAttachment() as { joinedAt: number }),
    );
    let seq = 0;
    for (let cycle = 0; cycle < 30; cycle++) {
      await stubFor("evict-cycles").publish({ value: ++seq, runId: `c@${seq}` });
      await evictDurableObject(stubFor("evict-cycles"), { webSockets: "hibernate" });
      await stubFor("evict-cycles").publish({ value: ++seq, runId: `c@${seq}` });
    }
    const expected = Array.from({ length: seq }, (_, i) => i + 1);
    for (const socket of sockets) expect(await drain(socket, seq)).toEqual(expected);
    const attachmentsAfter = await runInDurableObject(stubFor("evict-cycles"), (_instance, state) =>
      state.getWebSockets().map((ws) => ws.deserializeAttachment() as { joinedAt: number; bucket: { tokens: number } }),
    );
    expect(attachmentsAfter.map((a) => a.joinedAt).sort()).toEqual(attachmentsBefore.map((a) => a.joinedAt).sort());
    expect(attachmentsAfter.every((a) => a.bucket.tokens === 20)).toBe(true);
    expect((await stubFor("evict-cycles").snapshot()).subscribers).toBe(20);
  });

  it("gives sockets that join while publishes race them a contiguous run of seqs, no gap, no repeat", {
    timeout: 60_000,
  }, async () => {
    const topic = "evict-race";
    const joiners: Promise<TestSocket>[] = [];
    const publishes: Promise<unknown>[] = [];
    for (let n = 1; n <= 40; n++) {
      publishes.push(stubFor(topic).publish({ value: n, runId: `r@${n}` }));
      if (n % 4 === 0) joiners.push(openTopicSocket(topic));
      if (n % 10 === 0) publishes.push(evictDurableObject(stubFor(topic), { webSockets: "hibernate" }));
    }
    await Promise.all(publishes);
    for (const socket of await Promise.all(joiners)) {
      const hello = (await socket.nextFrame()) as { seq: number };
      const seqs: number[] = [];
      for (let seq = hello.seq; seq <= 40; seq++) {
        if (seq === 0) continue;
        seqs.push(((await socket.nextFrame()) as MetricFrame).seq);
      }
      // The latest metric on join (if any), then every later one: a contiguous run ending at 40.
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 40 - seqs.length + 1 + i));
      expect(seqs[0]).toBe(Math.max(hello.seq, 1));
      await socket.expectSilence(50);
    }
  });
});
