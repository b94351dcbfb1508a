/** Hostile clients against a real `wrangler dev`: every refusal has its documented code, and no topic changes. */
import { request } from "node:http";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { readSse, type SseReader } from "../helpers/sse";
import { E2E_SECRETS, getJson, setUpServer } from "./server";

// Streams end after 8 s here (300 by default), so that a dropped one is seen to be forgotten.
const STREAM_LIFETIME_SECONDS = 8;
const dev = setUpServer(() => ({ STREAM_LIFETIME_SECONDS: String(STREAM_LIFETIME_SECONDS) }));
const subscribe = (path: string) => dev.subscribe(path);

/** Sends a real WebSocket upgrade request and returns the HTTP answer when it is not 101. */
function refusedUpgrade(path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${dev.server.url}${path}`, {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
      timeout: 5_000,
    });
    req.on("upgrade", (_res, socket) => {
      socket.destroy();
      reject(new Error(`${path} upgraded, but a refusal was expected`));
    });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on("timeout", () => req.destroy(new Error(`${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

async function post(path: string, body: string, authorization?: string) {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (authorization !== undefined) headers.Authorization = authorization;
  const response = await fetch(`${dev.server.url}${path}`, { method: "POST", headers, body, signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as unknown };
}

async function token(claims: Record<string, unknown>, { exp = 300, secret = E2E_SECRETS.SUBSCRIBE_SECRET } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(Math.floor(Date.now() / 1000) + exp)
    .sign(new TextEncoder().encode(secret));
}

const seqOf = async (topic: string, query = "") =>
  ((await getJson(dev.server, `/topics/${topic}${query}`)).body as { seq: number }).seq;

describe("publishing from outside", () => {
  it("refuses missing and forged tokens with 401 and publishes nothing", async () => {
    expect(await post("/topics/announcements", '{"value":1}')).toEqual({
      status: 401,
      body: { error: { code: "token_required", message: "Send the publish token as `Authorization: Bearer <token>`." } },
    });
    expect(await post("/topics/announcements", '{"value":1}', "Bearer forged")).toEqual({
      status: 401,
      body: { error: { code: "token_invalid", message: "The publish token is not valid." } },
    });
    expect(await seqOf("announcements")).toBe(0);
  });

  it("publishes with the token, once per id", async () => {
    const auth = `Bearer ${E2E_SECRETS.PUBLISH_TOKEN}`;
    const watcher = await subscribe("/topics/announcements");
    await watcher.nextFrame();
    expect(await post("/topics/announcements", '{"value":"hi","id":"one"}', auth)).toEqual({
      status: 202,
      body: { topic: "announcements", seq: 1, duplicate: false },
    });
    expect(await post("/topics/announcements", '{"value":"again","id":"one"}', auth)).toEqual({
      status: 202,
      body: { topic: "announcements", seq: 1, duplicate: true },
    });
    expect(await watcher.nextFrame()).toMatchObject({ type: "metric", seq: 1, value: "hi", runId: "post:one" });
    await watcher.expectSilence(300);
  });
});

describe("subscribing to a private topic from outside", () => {
  it("refuses missing, forged and expired tokens with 401, and another topic's token with 403", async () => {
    expect(await refusedUpgrade("/topics/ops")).toEqual({
      status: 401,
      body: { error: { code: "token_required", message: 'Topic "ops" is private: pass a subscribe token as ?token=.' } },
    });
    const forged = await token({ topic: "ops" }, { secret: "not-the-secret-not-the-secret-!!" });
    expect(await refusedUpgrade(`/topics/ops?token=${forged}`)).toMatchObject({
      status: 401,
      body: { error: { code: "token_invalid" } },
    });
    const expired = await token({ topic: "ops" }, { exp: -10 });
    expect(await refusedUpgrade(`/topics/ops?token=${expired}`)).toMatchObject({
      status: 401,
      body: { error: { code: "token_expired" } },
    });
    const other = await token({ topic: "announcements" });
    expect(await refusedUpgrade(`/topics/ops?token=${other}`)).toMatchObject({
      status: 403,
      body: { error: { code: "token_wrong_topic" } },
    });
  });

  it("admits a valid token", async () => {
    const socket = await subscribe(`/topics/ops?token=${await token({ topics: ["ops"] })}`);
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", topic: "ops", seq: 0 });
  });
});

describe("misbehaving subscribers", () => {
  it("answer garbage frames with error frames and keep the socket open", async () => {
    const socket = await subscribe("/topics/announcements");
    await socket.nextFrame();
    await socket.nextFrame();
    for (const garbage of ["hello?", '{"type":"metric","seq":99}', "", "PING"]) {
      socket.ws.send(garbage);
      expect(await socket.nextFrame()).toEqual({
        type: "error",
        code: "unsupported_frame",
        message: 'Subscribers only send "ping"; this topic accepts no other frames.',
      });
    }
    socket.ws.send("ping");
    expect(await socket.nextText()).toBe("pong");
  });

  it("close an oversized client with 1009", async () => {
    const socket = await subscribe("/topics/announcements");
    await socket.nextFrame();
    socket.ws.send("x".repeat(4096));
    expect((await socket.closed()).code).toBe(1009);
  });

  it("close a flooding client with 1008", async () => {
    const socket = await subscribe("/topics/announcements");
    await socket.nextFrame();
    for (let i = 0; i < 40; i++) socket.ws.send(`flood ${i}`);
    expect((await socket.closed()).code).toBe(1008);
  });

  it("changed no topic's seq", async () => {
    expect(await seqOf("announcements")).toBe(1);
    expect(await seqOf("ops", `?token=${await token({ topic: "ops" })}`)).toBe(0);
  });
});

describe("hostile stream and long-poll clients", () => {
  const auth = `Bearer ${E2E_SECRETS.PUBLISH_TOKEN}`;
  const subscribers = async () =>
    ((await getJson(dev.server, "/topics/announcements")).body as { subscribers: number }).subscribers;

  /** Opens `/topics/announcements/events` over real HTTP; `abort` drops the connection without a goodbye. */
  async function openStream(headers: Record<string, string> = {}): Promise<{ events: SseReader; abort: () => void }> {
    const controller = new AbortController();
    const response = await fetch(`${dev.server.url}/topics/announcements/events`, { headers, signal: controller.signal });
    expect(response.status).toBe(200);
    return { events: readSse(response), abort: () => controller.abort() };
  }

  it("refuse broken Last-Event-IDs with 400 bad_last_event_id, and join afresh with a reset on another epoch's", async () => {
    for (const id of ["not-an-id", "e:-1", "e:1.5", "e:1e3", ":1", "e:", `e:${"9".repeat(16)}`, `${"e".repeat(65)}:1`, "ä:1"]) {
      const response = await fetch(`${dev.server.url}/topics/announcements/events`, {
        headers: { "Last-Event-ID": id },
        signal: AbortSignal.timeout(5_000),
      });
      expect({ id, status: response.status, body: await response.json() }).toEqual({
        id,
        status: 400,
        body: { error: { code: "bad_last_event_id", message: "Last-Event-ID must be an id this stream sent: <epoch>:<seq>." } },
      });
    }
    const { events, abort } = await openStream({ "Last-Event-ID": "another-epoch:999999999999999" });
    const hello = await events.next();
    expect(hello.frame).toMatchObject({ type: "hello", topic: "announcements", seq: 1, recovered: false });
    expect((await events.next()).frame).toEqual({ type: "reset", topic: "announcements", seq: 1 });
    abort();
    expect(await seqOf("announcements")).toBe(1);
  });

  // Under wrangler dev a client's disconnect does not reach the topic object (the dev proxy keeps the
  // upstream open; inside workerd the cancel does arrive: test/routes/streams.test.ts), so this shows
  // the bound that holds everywhere: a dropped stream is forgotten by the end of its lifetime.
  it("count 50 concurrent streams while open, and forget them once dropped, by the end of their lifetime", {
    timeout: 60_000,
  }, async () => {
    const before = await subscribers();
    const streams = await Promise.all(Array.from({ length: 50 }, () => openStream()));
    await Promise.all(streams.map(({ events }) => events.next()));
    expect(await subscribers()).toBe(before + 50);
    for (const { abort } of streams) abort();
    // Streams earlier tests dropped may end meanwhile too: the count falls to before, or below it.
    const deadline = Date.now() + (STREAM_LIFETIME_SECONDS + 10) * 1_000;
    while ((await subscribers()) > before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await subscribers()).toBeLessThanOrEqual(before);
  });

  it("stay healthy after a wait=30 long-poll is cancelled mid-wait, and still deliver the next publish to a stream", async () => {
    const { seq } = (await post("/topics/announcements", '{"value":"before the poll"}', auth)).body as { seq: number };
    const controller = new AbortController();
    const started = Date.now();
    const held = fetch(`${dev.server.url}/topics/announcements/history?since=${seq}&wait=30`, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 500));
    controller.abort();
    await expect(held).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await getJson(dev.server, "/health")).status).toBe(200);
    const { events, abort } = await openStream();
    expect((await events.next()).frame).toMatchObject({ type: "hello", seq });
    expect((await events.next()).frame).toMatchObject({ type: "metric", seq, value: "before the poll" });
    expect(await post("/topics/announcements", '{"value":"after the poll"}', auth)).toMatchObject({ status: 202 });
    expect(await events.next()).toMatchObject({
      id: expect.stringMatching(new RegExp(`:${seq + 1}$`)),
      frame: { type: "metric", seq: seq + 1, value: "after the poll" },
    });
    abort();
  });
});
