/**
 * A Scheduler shard's hand-over on its own: pending runs go to the JobRunner in batches (one call
 * each), a schedule's slots in order and never in two batches at once; a failed call keeps its
 * rows for a later try (and gives up after the last), and a pause before a run's turn runs nothing.
 * The runner here records the calls (the real one runs in scheduler.test.ts); the storage is a real
 * Scheduler object's SQLite.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HandOver } from "../../src/durable/hand-over";
import type { SlotRunner } from "../../src/durable/job-runner";
import { addPendingRun, dropPendingRuns, pendingRuns } from "../../src/durable/schedule-store";
import type { ScheduledRun } from "../../src/durable/scheduler-rpc";

const run = (scheduleId: string, slot: number): ScheduledRun => ({
  scheduleId,
  job: "uptime",
  params: { url: "http://127.0.0.1:9/" },
  topic: `uptime.${scheduleId}`,
  slot,
  runId: `${scheduleId}@${slot}`,
  nextExpectedAt: slot + 1_000,
});

/** A runner that records each batch, fails the calls `fail` says to, and checks no schedule is in two calls at once. */
function recordingRunner(fail: (call: number) => boolean = () => false) {
  const batches: string[][] = [];
  const active = new Set<string>();
  const overlaps: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  const runner: SlotRunner = {
    async runSlot() {
      throw new Error("not a sub-minute slot");
    },
    async runScheduled(runs) {
      const call = batches.push(runs.map((r) => r.runId)) - 1;
      const schedules = new Set(runs.map((r) => r.scheduleId));
      for (const id of schedules) {
        if (active.has(id)) overlaps.push(id);
        active.add(id);
      }
      await gate;
      await new Promise((resolve) => setTimeout(resolve, 5));
      for (const id of schedules) active.delete(id);
      if (fail(call)) throw new Error(`call ${call} failed`);
      return [];
    },
  };
  const hold = () => {
    let release = () => {};
    gate = new Promise((resolve) => (release = resolve));
    return release;
  };
  return { runner, batches, overlaps, hold };
}

const noTopic = () => ({
  async recordSkipped() {},
});

/** Runs `body` with a fresh Scheduler object's SQLite. */
function withSql(name: string, body: (sql: SqlStorage) => Promise<void>): Promise<void> {
  return runInDurableObject(env.SCHEDULER.getByName(`hand-over-test/${name}`), (_instance, state) => body(state.storage.sql));
}

describe("a Scheduler shard's hand-over", () => {
  it("hands runs over in batches, each schedule's slots oldest first and in one batch at a time", async () => {
    await withSql("batches", async (sql) => {
      for (const slot of [1_000, 2_000, 3_000]) addPendingRun(sql, run("a", slot));
      for (const id of ["b", "c", "d", "e"]) addPendingRun(sql, run(id, 1_000));
      const { runner, batches, overlaps } = recordingRunner();
      await new HandOver(sql, () => runner, noTopic, 2).run();
      expect(pendingRuns(sql)).toEqual([]);
      expect(batches.flat().sort()).toEqual(["a@1000", "a@2000", "a@3000", "b@1000", "c@1000", "d@1000", "e@1000"]);
      expect(batches.every((batch) => batch.length >= 1 && batch.length <= 2)).toBe(true);
      expect(batches.flat().filter((id) => id.startsWith("a@"))).toEqual(["a@1000", "a@2000", "a@3000"]);
      expect(overlaps).toEqual([]);
    });
  });

  it("keeps a failed call's runs pending with one more try, and hands them over on the next pass", async () => {
    await withSql("retry", async (sql) => {
      for (const id of ["a", "b", "c"]) addPendingRun(sql, run(id, 1_000));
      const { runner, batches } = recordingRunner((call) => call === 0);
      const handOver = new HandOver(sql, () => runner, noTopic, 2);
      await handOver.run();
      const [failed, ok] = batches;
      expect(failed).toHaveLength(2);
      expect(ok).toHaveLength(1);
      expect(pendingRuns(sql).map(({ run, tries }) => [run.runId, tries])).toEqual((failed ?? []).map((id) => [id, 1]));
      await handOver.run();
      expect(pendingRuns(sql)).toEqual([]);
      expect(batches.slice(2)).toEqual([failed]);
    });
  });

  it("gives a run up after its fifth failed call", async () => {
    await withSql("give-up", async (sql) => {
      addPendingRun(sql, run("a", 1_000));
      const { runner, batches } = recordingRunner(() => true);
      const handOver = new HandOver(sql, () => runner, noTopic, 2);
      for (let pass = 1; pass <= 4; pass++) {
        await handOver.run();
        expect(pendingRuns(sql).map(({ tries }) => tries)).toEqual([pass]);
      }
      await handOver.run();
      expect(pendingRuns(sql)).toEqual([]);
      expect(batches).toHaveLength(5);
    });
  });

  it("hands a resumed schedule's new slot over after its paused one was dropped from a batch that went", async () => {
    await withSql("resume", async (sql) => {
      // Batch size 2, 4 in flight: a..h fill four held calls; p and q wait and share the next batch.
      for (const id of ["a", "b", "c", "d", "e", "f", "g", "h", "p", "q"]) addPendingRun(sql, run(id, 1_000));
      const { runner, batches, hold } = recordingRunner();
      const release = hold();
      const handOver = new HandOver(sql, () => runner, noTopic, 2);
      const first = handOver.run();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(batches).toHaveLength(4);
      dropPendingRuns(sql, "p"); // paused…
      addPendingRun(sql, run("p", 2_000)); // …and resumed: its next slot is taken
      const second = handOver.run();
      release();
      await Promise.all([first, second]);
      expect(batches.slice(4)).toEqual([["q@1000"], ["p@2000"]]);
      expect(pendingRuns(sql)).toEqual([]);
    });
  });

  it("runs nothing of a schedule paused while its runs waited for their turn, and takes runs a later alarm adds", async () => {
    await withSql("pause", async (sql) => {
      // Batch size 1 and 4 in flight: the fifth schedule waits its turn behind the held calls.
      for (const id of ["a", "b", "c", "d", "paused"]) addPendingRun(sql, run(id, 1_000));
      const { runner, batches, hold } = recordingRunner();
      const release = hold();
      const handOver = new HandOver(sql, () => runner, noTopic, 1);
      const first = handOver.run();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(batches).toEqual([["a@1000"], ["b@1000"], ["c@1000"], ["d@1000"]]);
      dropPendingRuns(sql, "paused");
      addPendingRun(sql, run("later", 2_000));
      const second = handOver.run();
      release();
      await Promise.all([first, second]);
      expect(batches.flat()).toEqual(["a@1000", "b@1000", "c@1000", "d@1000", "later@2000"]);
      expect(pendingRuns(sql)).toEqual([]);
    });
  });
});
