import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { MetricFrame, TopicSnapshot } from "../../src/client/protocol";
import { listVar } from "../../src/config";
import { JOBS } from "../helpers/registry";
import { fetchWorker, openSocket } from "../helpers/socket";

const json = async <T = Record<string, unknown>>(path: string, init?: RequestInit) => {
  const response = await fetchWorker(path, init);
  return { status: response.status, type: response.headers.get("content-type"), body: (await response.json()) as T };
};

const errorCode = async (path: string, init?: RequestInit) =>
  (await json<{ error: { code: string } }>(path, init)).body.error.code;

describe("GET /health", () => {
  it("answers ok", async () => {
    expect(await json("/health")).toEqual({ status: 200, type: "application/json", body: { ok: true } });
  });
});

describe("GET /topics", () => {
  it("lists every job's topic in registry order, then the TOPICS var's, each private if PRIVATE_TOPICS names it", async () => {
    const isPrivate = (topic: string) => listVar(env.PRIVATE_TOPICS).includes(topic);
    expect((await json("/topics")).body).toEqual({
      topics: [
        ...JOBS.map((job) => ({ topic: job.topic, job: job.name, schedule: job.schedule, private: isPrivate(job.topic) })),
        ...listVar(env.TOPICS).map((topic) => ({ topic, job: null, schedule: null, private: isPrivate(topic) })),
      ],
    });
  });
});

describe("GET /topics/:topic", () => {
  it("answers a snapshot without an upgrade", async () => {
    await env.TOPIC.getByName("announcements").publish({ value: "hi", id: "snap-1" });
    const { status, body } = await json<TopicSnapshot>("/topics/announcements");
    expect(status).toBe(200);
    expect(body).toEqual({
      topic: "announcements",
      seq: 1,
      latest: { type: "metric", topic: "announcements", seq: 1, value: "hi", ts: expect.any(Number), runId: "post:snap-1" },
      subscribers: 0,
      updatedAt: body.latest?.ts,
      status: "ok",
    });
  });

  it("upgrades to a socket that starts with hello", async () => {
    const socket = await openSocket("/topics/uptime");
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", topic: "uptime" });
  });

  it("declines permessage-deflate, so a broadcast writes the same bytes to every socket", async () => {
    const offer = { Upgrade: "websocket", "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" };
    const response = await fetchWorker("/topics/uptime", { headers: offer });
    expect(response.status).toBe(101);
    expect(response.headers.get("Sec-WebSocket-Extensions")).toBeNull();
    response.webSocket?.accept();
    response.webSocket?.close(1000, "done");
  });

  it("refuses a bad topic name with 400 bad_topic", async () => {
    expect(await json("/topics/Bad!Name")).toEqual({
      status: 400,
      type: "application/json",
      body: {
        error: {
          code: "bad_topic",
          message: '"Bad!Name" is not a topic name: use 1-64 of a-z 0-9 . _ - starting with a letter or digit.',
        },
      },
    });
    expect(await errorCode(`/topics/${"a".repeat(65)}`)).toBe("bad_topic");
  });

  it("refuses an undeclared topic with 404 unknown_topic, for snapshots and upgrades alike", async () => {
    const expected = { error: { code: "unknown_topic", message: 'No topic "guessed" is declared.' } };
    expect(await json("/topics/guessed")).toEqual({ status: 404, type: "application/json", body: expected });
    expect(await json("/topics/guessed", { headers: { Upgrade: "websocket" } })).toMatchObject({ status: 404, body: expected });
  });

  it("refuses a malformed since or epoch with 400 before touching the object", async () => {
    const up = { headers: { Upgrade: "websocket" } };
    expect(await json("/topics/system?since=-1", up)).toMatchObject({
      status: 400,
      body: { error: { code: "bad_since", message: 'Query parameter "since" must be a whole number from 0.' } },
    });
    expect(await errorCode("/topics/system?since=1.5", up)).toBe("bad_since");
    expect(await errorCode("/topics/system?since=1&epoch=", up)).toBe("bad_epoch");
    expect(await errorCode(`/topics/system?since=1&epoch=${"e".repeat(65)}`, up)).toBe("bad_epoch");
  });
});

describe("GET /topics/:topic/history", () => {
  it("returns kept metrics after since, oldest first, at most limit", async () => {
    const stub = env.TOPIC.getByName("uptime");
    for (let i = 1; i <= 4; i++) await stub.publish({ value: i, runId: `hist@${i}` });
    const { status, body } = await json<{ topic: string; messages: MetricFrame[] }>("/topics/uptime/history?since=1&limit=2");
    expect(status).toBe(200);
    expect(body.topic).toBe("uptime");
    expect(body.messages.map((m) => [m.seq, m.value])).toEqual([
      [2, 2],
      [3, 3],
    ]);
    expect((await json<{ messages: MetricFrame[] }>("/topics/uptime/history")).body.messages).toHaveLength(4);
  });

  it("refuses a limit out of range with 400 bad_limit", async () => {
    for (const limit of ["0", "1001", "ten"]) {
      expect(await errorCode(`/topics/uptime/history?limit=${limit}`)).toBe("bad_limit");
    }
  });
});

describe("errors", () => {
  it("answers unknown routes with the JSON envelope", async () => {
    expect(await json("/nope")).toEqual({
      status: 404,
      type: "application/json",
      body: { error: { code: "not_found", message: "No route for GET /nope." } },
    });
  });
});
