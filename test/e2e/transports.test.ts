/**
 * The client's fallbacks in Node 22 against a real `wrangler dev`: with WebSockets blocked it moves
 * to Server-Sent Events, or it is told to long-poll; either way every seq arrives once, in order,
 * across a restart of the dev server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ports.mjs";
import { waitFor } from "../../scripts/lib/wait.mjs";
import { type DevServer, startDevServer } from "../../scripts/lib/wrangler-dev.mjs";
import { type SubscribeOptions, type Subscription, subscribe } from "../../src/client/subscribe";
import { E2E_SECRETS, makeStateDir, removeStateDir } from "./server";

let port: number;
let stateDir: string;
let server: DevServer | undefined;
const subscriptions: Subscription[] = [];

/** A WebSocket that never opens, as on a network whose proxy kills upgrades. */
class BlockedWebSocket extends EventTarget {
  constructor(readonly url: string) {
    super();
    setTimeout(() => {
      this.dispatchEvent(new Event("error"));
      this.dispatchEvent(Object.assign(new Event("close"), { code: 1006 }));
    }, 10);
  }
  send(): void {}
  close(): void {}
}

const start = async () => {
  server = await startDevServer({ port, persistTo: stateDir, secrets: E2E_SECRETS });
};

beforeAll(async () => {
  port = await freePort();
  stateDir = await makeStateDir();
  await start();
});

afterAll(async () => {
  for (const subscription of subscriptions) subscription.close();
  await server?.stop();
  await removeStateDir(stateDir);
});

async function publish(value: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/topics/announcements`, {
    method: "POST",
    headers: { Authorization: `Bearer ${E2E_SECRETS.PUBLISH_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ value }),
    signal: AbortSignal.timeout(5_000),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { seq: number }).seq;
}

function watch(options: SubscribeOptions) {
  const seen = { seqs: [] as number[], transports: new Set<string>() };
  const subscription = subscribe(
    `http://127.0.0.1:${port}/topics/announcements`,
    {
      onMetric: (frame) => seen.seqs.push(frame.seq),
      onState: (state, _detail, transport) => {
        if (state === "live") seen.transports.add(transport);
      },
    },
    { backoff: { baseMs: 200, maxMs: 1_000 }, ...options },
  );
  subscriptions.push(subscription);
  return { subscription, seen };
}

describe("the client's fallbacks against wrangler dev", () => {
  it("delivers every seq once over SSE (WebSockets blocked) and over long-poll, through a restart", {
    timeout: 120_000,
  }, async () => {
    const first = await publish(0);
    const streamed = watch({ WebSocket: BlockedWebSocket as unknown as typeof WebSocket });
    const polled = watch({ transports: ["longpoll"] });
    await waitFor(
      () => "both live",
      async () => streamed.subscription.state === "live" && polled.subscription.state === "live",
      30_000,
    );
    expect(streamed.subscription.transport).toBe("sse");
    expect(polled.subscription.transport).toBe("longpoll");
    const expected = [first];
    for (const value of [1, 2]) expected.push(await publish(value));

    await server?.stop();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await start();
    for (const value of [3, 4, 5]) expected.push(await publish(value));

    for (const { seen } of [streamed, polled]) {
      await waitFor(
        () => `seqs ${expected.join(",")}, got ${seen.seqs.join(",")}`,
        async () => seen.seqs.length >= expected.length,
        45_000,
      );
    }
    expect(streamed.seen.seqs).toEqual(expected);
    expect(polled.seen.seqs).toEqual(expected);
    // The restart never sent the blocked client back to WebSockets, nor the outage further down.
    expect([...streamed.seen.transports]).toEqual(["sse"]);
    expect([...polled.seen.transports]).toEqual(["longpoll"]);
  });
});
