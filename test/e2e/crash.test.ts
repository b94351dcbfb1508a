/**
 * Crash and restart: 55 subscribers on the project's client while publishes (POST) and cron
 * firings stream in; the whole dev server is killed with SIGKILL mid-stream and restarted on the
 * same state, three times. Every subscriber must end with every seq exactly once, in order.
 * announcements is sharded over 3 objects here, so the shards' ordering and catch-up are tested too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ports.mjs";
import { sleep, waitFor } from "../../scripts/lib/wait.mjs";
import { type DevServer, fireCron, startDevServer } from "../../scripts/lib/wrangler-dev.mjs";
import { type Subscription, subscribe } from "../../src/client/subscribe";
import { E2E_SECRETS, makeStateDir, removeStateDir } from "./server";

const ROUNDS = 3;
const SHARDED = { SHARDS: "announcements:3" };
const SUBSCRIBERS = { announcements: 50, system: 5 };

let port: number;
let stateDir: string;
let server: DevServer | undefined;
const subscriptions: Subscription[] = [];

beforeAll(async () => {
  port = await freePort();
  stateDir = await makeStateDir();
  server = await startDevServer({ port, persistTo: stateDir, secrets: E2E_SECRETS, vars: SHARDED });
});

afterAll(async () => {
  for (const subscription of subscriptions) subscription.close();
  await server?.stop();
  await removeStateDir(stateDir);
});

const base = () => `http://127.0.0.1:${port}`;

/** POSTs value n with idempotency key n until the server takes it: a POST lost in a crash is simply sent again. */
async function publishUntilAccepted(n: number): Promise<void> {
  for (;;) {
    try {
      const response = await fetch(`${base()}/topics/announcements`, {
        method: "POST",
        headers: { Authorization: `Bearer ${E2E_SECRETS.PUBLISH_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ value: n, id: `crash-${n}` }),
        signal: AbortSignal.timeout(2_000),
      });
      if (response.status === 202) return;
    } catch {
      // The server is down: try again shortly.
    }
    await sleep(100);
  }
}

function watcher(topic: string) {
  const seqs: number[] = [];
  const subscription = subscribe(
    `${base()}/topics/${topic}`,
    { onMetric: (frame) => seqs.push(frame.seq) },
    { backoff: { baseMs: 100, maxMs: 1_500 } },
  );
  subscriptions.push(subscription);
  return { topic, seqs, subscription };
}

const until = (what: string, done: () => boolean, timeoutMs = 30_000) => waitFor(what, done, timeoutMs, 25);

describe("crash and restart mid-stream", () => {
  it(`delivers every seq exactly once to ${SUBSCRIBERS.announcements + SUBSCRIBERS.system} subscribers across ${ROUNDS} kill -9s`, {
    timeout: 180_000,
  }, async () => {
    const watchers = [
      ...Array.from({ length: SUBSCRIBERS.announcements }, () => watcher("announcements")),
      ...Array.from({ length: SUBSCRIBERS.system }, () => watcher("system")),
    ];
    await until("every subscriber live", () => watchers.every((w) => w.subscription.state === "live"));

    let published = 0;
    let minute = Math.floor(Date.now() / 60_000) * 60_000;
    let firings = 0;
    let streaming = true;
    // The stream: a publish every 40 ms and a cron firing every 400 ms, through crashes and restarts.
    const publisher = (async () => {
      while (streaming) {
        await publishUntilAccepted(++published);
        await sleep(40);
      }
    })();
    const cron = (async () => {
      while (streaming) {
        minute += 60_000;
        for (;;) {
          const fired = await fireCron(base(), "* * * * *", minute).catch(() => null);
          if (fired !== null) break;
          await sleep(100);
        }
        firings++;
        await sleep(400);
      }
    })();

    for (let round = 1; round <= ROUNDS; round++) {
      await sleep(1_500);
      await server?.stop(); // SIGKILL to the whole process group, mid-stream
      server = undefined;
      await sleep(300);
      server = await startDevServer({ port, persistTo: stateDir, secrets: E2E_SECRETS, vars: SHARDED });
      await until(`round ${round}: every subscriber live again`, () => watchers.every((w) => w.subscription.state === "live"));
    }
    await sleep(1_000);
    streaming = false;
    await Promise.all([publisher, cron]);

    const final = async (topic: string) => ((await (await fetch(`${base()}/topics/${topic}`)).json()) as { seq: number }).seq;
    const expected = { announcements: await final("announcements"), system: await final("system") };
    expect(expected.announcements).toBe(published);
    await until("every subscriber caught up", () =>
      watchers.every((w) => w.seqs.length >= expected[w.topic as keyof typeof expected]),
    );

    let lost = 0;
    let duplicated = 0;
    for (const w of watchers) {
      const target = expected[w.topic as keyof typeof expected];
      lost += target - new Set(w.seqs).size;
      duplicated += w.seqs.length - new Set(w.seqs).size;
      expect(w.seqs).toEqual(Array.from({ length: target }, (_, i) => i + 1));
    }
    console.log(
      `crash test: ${ROUNDS} kill -9s, ${watchers.length} subscribers, ${published} publishes + ${firings} cron firings ` +
        `(system seq ${expected.system}); ${lost} lost, ${duplicated} duplicated`,
    );
  });
});
