/** Bounded storage: after 10,000+ publishes and runs, every table stays within its bound and the topic keeps working. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LEDGER_LIMIT } from "../../src/durable/ledger";
import { DEDUPE_LIMIT } from "../../src/durable/store";
import type { Topic } from "../../src/durable/topic";
import { openTopicSocket } from "../helpers/socket";

const TOTAL = DEDUPE_LIMIT + 50;

describe("bounded storage", () => {
  it(`keeps history, ledger and dedupe keys within their bounds after ${TOTAL} publishes and runs`, {
    timeout: 120_000,
  }, async () => {
    const stub = env.TOPIC.getByName("bounded");
    const counts = await runInDurableObject(stub, async (instance: Topic, state) => {
      const start = Date.now();
      for (let n = 1; n <= TOTAL; n++) {
        const scheduledTime = start + n * 1_000;
        const run = { startedAt: scheduledTime, durationMs: 1, attempts: 1 };
        await instance.publish({
          value: n,
          runId: `job@${scheduledTime}`,
          job: "job",
          scheduledTime,
          nextExpectedAt: scheduledTime + 1_000,
          graceMs: 60_000,
          run,
        });
      }
      const count = (table: string) => state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
      return { messages: count("messages"), runs: count("runs"), dedupe: count("dedupe"), schedules: count("schedules") };
    });
    console.log(`bounded storage after ${TOTAL} publishes: ${JSON.stringify(counts)}`);
    expect(counts).toEqual({ messages: Number(env.HISTORY_LIMIT), runs: LEDGER_LIMIT, dedupe: DEDUPE_LIMIT, schedules: 1 });
    expect((await stub.snapshot()).seq).toBe(TOTAL);
  });

  it("keeps working after its history was pruned: an old resume gets a reset, then the latest and live values", async () => {
    const stub = env.TOPIC.getByName("bounded");
    const { epoch } = (await (await openTopicSocket("bounded")).nextFrame()) as { epoch: string };
    const socket = await openTopicSocket("bounded", `?since=5&epoch=${epoch}`);
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", seq: TOTAL, recovered: false });
    expect(await socket.nextFrame()).toEqual({ type: "reset", topic: "bounded", seq: TOTAL });
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: TOTAL, value: TOTAL });
    await stub.publish({ value: "after", id: "after-prune" });
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", seq: TOTAL + 1, value: "after" });
    const kept = await stub.history(0, 1_000);
    expect(kept[0]?.seq).toBe(TOTAL + 1 - Number(env.HISTORY_LIMIT) + 1);
  });
});
