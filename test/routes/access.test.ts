import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { subscribeToken } from "../helpers/auth";
import type { ApiBody } from "../helpers/socket";
import { fetchWorker, openSocket } from "../helpers/socket";

const get = async (path: string, headers: Record<string, string> = {}) => {
  const response = await fetchWorker(path, { headers });
  return { status: response.status, body: (await response.json()) as ApiBody };
};
const upgrade = { Upgrade: "websocket" };

describe("private topics", () => {
  it("admit a subscriber whose token names the topic", async () => {
    await env.TOPIC.getByName("ops").publish({ value: "secret", id: "p1" });
    const token = await subscribeToken({ topic: "ops" });
    const socket = await openSocket(`/topics/ops?token=${token}`);
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", topic: "ops", seq: 1 });
    expect(await socket.nextFrame()).toMatchObject({ type: "metric", value: "secret" });
    expect((await get(`/topics/ops?token=${token}`)).body).toMatchObject({ topic: "ops", seq: 1 });
    expect((await get(`/topics/ops/history?token=${token}`)).body.messages).toHaveLength(1);
  });

  it("accept a token that lists the topic in topics", async () => {
    const token = await subscribeToken({ topics: ["announcements", "ops"] });
    expect((await get(`/topics/ops?token=${token}`)).status).toBe(200);
  });

  it("refuse a missing, forged, expired or exp-less token with 401", async () => {
    const cases: [string, string][] = [
      ["", "token_required"],
      [`?token=${await subscribeToken({ topic: "ops" }, { secret: "not-the-secret" })}`, "token_invalid"],
      [`?token=${await subscribeToken({ topic: "ops" }, { exp: -60 })}`, "token_expired"],
      [`?token=${await subscribeToken({ topic: "ops" }, { exp: null })}`, "token_invalid"],
      ["?token=garbage", "token_invalid"],
    ];
    for (const [query, code] of cases) {
      for (const path of [`/topics/ops${query}`, `/topics/ops/history${query}`]) {
        const { status, body } = await get(path);
        expect([path, status, body.error.code]).toEqual([path, 401, code]);
      }
      expect((await get(`/topics/ops${query}`, upgrade)).status).toBe(401);
    }
  });

  it("refuse a valid token for another topic with 403", async () => {
    const token = await subscribeToken({ topic: "announcements" });
    expect(await get(`/topics/ops?token=${token}`, upgrade)).toEqual({
      status: 403,
      body: { error: { code: "token_wrong_topic", message: 'The subscribe token does not grant topic "ops".' } },
    });
  });

  it("refuse a token signed with another algorithm", async () => {
    const header = btoa(JSON.stringify({ alg: "none" })).replace(/=+$/, "");
    const payload = btoa(JSON.stringify({ topic: "ops", exp: Math.floor(Date.now() / 1000) + 60 })).replace(/=+$/, "");
    expect((await get(`/topics/ops?token=${header}.${payload}.`)).body.error.code).toBe("token_invalid");
  });
});

describe("origins", () => {
  it("refuse an upgrade from an Origin not in ALLOWED_ORIGINS with 403", async () => {
    expect(await get("/topics/system", { ...upgrade, Origin: "https://evil.example" })).toEqual({
      status: 403,
      body: {
        error: { code: "origin_not_allowed", message: "Origin https://evil.example may not subscribe; see ALLOWED_ORIGINS." },
      },
    });
  });

  it("admit a listed Origin and clients that send none", async () => {
    const listed = await openSocket("/topics/system", { Origin: "https://dash.example" });
    expect(await listed.nextFrame()).toMatchObject({ type: "hello" });
    const none = await openSocket("/topics/system");
    expect(await none.nextFrame()).toMatchObject({ type: "hello" });
  });
});

describe("subscriber cap", () => {
  it("answers 503 with Retry-After once a topic has MAX_SUBSCRIBERS sockets", async () => {
    const max = Number(env.MAX_SUBSCRIBERS);
    const sockets = await Promise.all(Array.from({ length: max }, () => openSocket("/topics/uptime")));
    const response = await fetchWorker("/topics/uptime", { headers: upgrade });
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("30");
    expect(await response.json()).toEqual({
      error: { code: "topic_full", message: `Topic "uptime" has ${max} subscribers, its maximum.` },
    });
    for (const socket of sockets) socket.ws.close(1000, "done");
  });
});
