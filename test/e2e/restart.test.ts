/** A topic's state outlives its server: kill the whole `wrangler dev` group, start a new one on the same storage. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isGroupAlive } from "../../scripts/lib/process-group.mjs";
import { type DevServer, fireCron } from "../../scripts/lib/wrangler-dev.mjs";
import { type HelloFrame, type MetricFrame, parseFrame } from "../../src/client/protocol";
import { getJson, makeStateDir, printServerOutputOnFailure, removeStateDir, startServer } from "./server";
import { openSocket } from "./socket";

/** The slot the platform would fire now (a slot long past would turn the topic stale mid-test). */
const NOW = Date.now();
const MINUTE = NOW - (NOW % 60_000);

let stateDir: string;
const servers: DevServer[] = [];

printServerOutputOnFailure();

beforeAll(async () => {
  stateDir = await makeStateDir();
});

afterAll(async () => {
  for (const server of servers) await server.stop();
  await removeStateDir(stateDir);
});

async function start(): Promise<DevServer> {
  const server = await startServer(stateDir);
  servers.push(server);
  return server;
}

describe("restarting wrangler dev on the same storage", () => {
  it("keeps seq, epoch, latest metric and run dedupe; connected clients see the socket drop", async () => {
    const first = await start();
    const client = await openSocket(first.url, "/topics/system");
    const hello = (await client.nextFrame()) as HelloFrame;
    expect(hello).toMatchObject({ type: "hello", topic: "system", seq: 0 });
    expect(await fireCron(first.url, "* * * * *", MINUTE)).toEqual({ status: 200, body: "ok" });
    const metric = parseFrame(await client.nextText()) as MetricFrame;
    expect(metric).toMatchObject({ type: "metric", topic: "system", seq: 1, runId: `system@${MINUTE}` });

    await first.stop();
    expect(isGroupAlive(first.pid)).toBe(false);
    // The runtime died without a close handshake: the client sees an abnormal closure.
    expect(await client.closed()).toEqual({ code: 1006, reason: "", wasClean: false });
    await expect(fetch(`${first.url}/health`)).rejects.toThrow();

    const second = await start();
    const rejoined = await openSocket(second.url, "/topics/system");
    expect(await rejoined.nextFrame()).toEqual({
      type: "hello",
      topic: "system",
      seq: 1,
      epoch: hello.epoch,
      serverTime: expect.any(Number),
    });
    expect(await rejoined.nextFrame()).toEqual(metric);
    // The dedupe key survived too: the same firing publishes nothing new.
    expect(await fireCron(second.url, "* * * * *", MINUTE)).toEqual({ status: 200, body: "ok" });
    await rejoined.expectSilence(500);
    expect(await getJson(second, "/topics/system")).toEqual({
      status: 200,
      body: { topic: "system", seq: 1, latest: metric, subscribers: 1, updatedAt: metric.ts, status: "ok" },
    });
    rejoined.ws.close();
  });
});
