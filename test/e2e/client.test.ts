/** The client library in Node 22 against a real `wrangler dev` that gets killed, restarted and wiped. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ports.mjs";
import { sleep, waitFor } from "../../scripts/lib/wait.mjs";
import { type DevServer, startDevServer } from "../../scripts/lib/wrangler-dev.mjs";
import type { MetricFrame, ResetFrame } from "../../src/client/protocol";
import { type ConnectionState, type Subscription, subscribe } from "../../src/client/subscribe";
import { E2E_SECRETS, makeStateDir, removeStateDir } from "./server";

let port: number;
let stateDir: string;
let server: DevServer | undefined;
const subscriptions: Subscription[] = [];

async function start(): Promise<DevServer> {
  server = await startDevServer({ port, persistTo: stateDir, secrets: E2E_SECRETS });
  return server;
}

async function kill(): Promise<void> {
  await server?.stop();
  server = undefined;
}

beforeAll(async () => {
  port = await freePort();
  stateDir = await makeStateDir();
  await start();
});

afterAll(async () => {
  for (const subscription of subscriptions) subscription.close();
  await kill();
  await removeStateDir(stateDir);
});

const base = () => `http://127.0.0.1:${port}`;

async function publish(value: number): Promise<number> {
  const response = await fetch(`${base()}/topics/announcements`, {
    method: "POST",
    headers: { Authorization: `Bearer ${E2E_SECRETS.PUBLISH_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ value }),
    signal: AbortSignal.timeout(5_000),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { seq: number }).seq;
}

/** A network that the test takes down and brings back, as a browser's online/offline events would. */
function testNetwork() {
  let online = true;
  const listeners = new Set<() => void>();
  return {
    isOnline: () => online,
    onChange(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(up: boolean) {
      online = up;
      if (up) for (const listener of [...listeners]) listener();
    },
  };
}

/** A subscription that records everything it is told, with a bounded wait for a condition. */
function watch(path: string, token?: string, network?: ReturnType<typeof testNetwork>) {
  const seen = { values: [] as number[], seqs: [] as number[], states: [] as string[], resets: [] as ResetFrame[] };
  const subscription = subscribe(
    `${base()}${path}`,
    {
      onMetric: (frame: MetricFrame) => {
        seen.seqs.push(frame.seq);
        seen.values.push(frame.value as number);
      },
      onReset: (frame) => seen.resets.push(frame),
      onState: (state: ConnectionState, detail?: string) =>
        seen.states.push(detail === undefined ? state : `${state}: ${detail}`),
    },
    {
      backoff: { baseMs: 100, maxMs: 1_000 },
      pingIntervalMs: 5_000,
      ...(token === undefined ? {} : { token }),
      ...(network === undefined ? {} : { network }),
    },
  );
  subscriptions.push(subscription);
  const until = (what: string, done: () => boolean, timeoutMs = 20_000) =>
    waitFor(() => `${what}; saw ${JSON.stringify(seen)}`, done, timeoutMs, 25);
  return { subscription, seen, until };
}

describe("the client against a real server", () => {
  it("resumes after kill -9 and restart with every value exactly once, in order", async () => {
    const { subscription, seen, until } = watch("/topics/announcements");
    await until("live", () => subscription.state === "live");
    for (let n = 1; n <= 5; n++) await publish(n);
    await until("seq 5", () => seen.seqs.length === 5);

    await kill();
    await until("reconnecting", () => subscription.state === "reconnecting");
    await start();
    // Published before the client is back: it must get them as the replay of its resume.
    for (let n = 6; n <= 8; n++) await publish(n);
    await until("live again", () => subscription.state === "live" && seen.seqs.length >= 8);
    for (let n = 9; n <= 10; n++) await publish(n);
    await until("seq 10", () => seen.seqs.length >= 10);

    expect(seen.seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen.values).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen.resets).toEqual([]);
    expect(seen.states[0]).toBe("connecting");
    expect(seen.states).toContain("live");
    expect(seen.states.some((state) => state.startsWith("reconnecting"))).toBe(true);
  });

  it("drops local state on a reset when the topic's storage was wiped, then carries on", async () => {
    const { subscription, seen, until } = watch("/topics/announcements");
    await until("the latest value on join", () => seen.seqs.length === 1);
    const epoch = subscription.epoch;
    expect(seen.seqs).toEqual([10]);

    await kill();
    await removeStateDir(stateDir);
    await start();
    await until("the reset", () => seen.resets.length === 1);
    expect(seen.resets).toEqual([{ type: "reset", topic: "announcements", seq: 0 }]);
    expect(subscription.epoch).not.toBe(epoch);
    expect(subscription.seq).toBeNull();
    await publish(100);
    await until("the first value of the new epoch", () => seen.seqs.length === 2);
    expect(seen.seqs).toEqual([10, 1]);
    expect(seen.values).toEqual([10, 100]);
  });

  it("stops for good on a refused subscription instead of retrying", async () => {
    const refused = watch("/topics/ops");
    await refused.until("closed", () => refused.subscription.state === "closed");
    expect(refused.seen.states).toEqual([
      "connecting",
      'closed: 401 token_required: Topic "ops" is private: pass a subscribe token as ?token=.',
    ]);
    const unknown = watch("/topics/nowhere");
    await unknown.until("closed", () => unknown.subscription.state === "closed");
    expect(unknown.seen.states.at(-1)).toBe('closed: 404 unknown_topic: No topic "nowhere" is declared.');
  });

  it("waits while offline and resumes as soon as the network is back", async () => {
    const network = testNetwork();
    const { subscription, seen, until } = watch("/topics/announcements", undefined, network);
    await until("the latest value on join", () => seen.seqs.length === 1);
    network.set(false);
    await kill();
    await start();
    await publish(101);
    // The server is back, but the client believes it is offline: it must not be connecting.
    await sleep(1_500);
    expect(subscription.state).toBe("reconnecting");
    expect(seen.seqs).toEqual([1]);
    network.set(true);
    await until("the value published while offline", () => seen.seqs.length === 2);
    expect(seen.seqs).toEqual([1, 2]);
    expect(subscription.state).toBe("live");
  });
});
