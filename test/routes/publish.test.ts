import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { publishHeaders } from "../helpers/auth";
import { JOBS } from "../helpers/registry";
import type { ApiBody } from "../helpers/socket";
import { fetchWorker, openSocket } from "../helpers/socket";

const post = async (topic: string, body: string, headers: Record<string, string> = publishHeaders()) => {
  const response = await fetchWorker(`/topics/${topic}`, { method: "POST", headers, body });
  return { status: response.status, body: (await response.json()) as ApiBody };
};

const seqOf = async (topic: string) => (await env.TOPIC.getByName(topic).snapshot()).seq;

describe("POST /topics/:topic", () => {
  it("publishes a value to subscribers and answers 202 with the seq", async () => {
    const socket = await openSocket("/topics/announcements");
    await socket.nextFrame();
    expect(await post("announcements", JSON.stringify({ value: { text: "deploy at 5" } }))).toEqual({
      status: 202,
      body: { topic: "announcements", seq: 1, duplicate: false },
    });
    expect(await socket.nextFrame()).toEqual({
      type: "metric",
      topic: "announcements",
      seq: 1,
      value: { text: "deploy at 5" },
      ts: expect.any(Number),
      runId: "post:1",
    });
  });

  it("dedupes by id: the same id answers the first seq with duplicate: true", async () => {
    const body = JSON.stringify({ value: 7, id: "order-7" });
    const first = await post("announcements", body);
    expect(first.status).toBe(202);
    expect(await post("announcements", body)).toEqual({
      status: 202,
      body: { topic: "announcements", seq: first.body.seq, duplicate: true },
    });
  });

  it("refuses a missing or wrong token with 401 and changes nothing", async () => {
    const before = await seqOf("announcements");
    expect(await post("announcements", '{"value":1}', { "Content-Type": "application/json" })).toEqual({
      status: 401,
      body: { error: { code: "token_required", message: "Send the publish token as `Authorization: Bearer <token>`." } },
    });
    expect(await post("announcements", '{"value":1}', publishHeaders("forged"))).toEqual({
      status: 401,
      body: { error: { code: "token_invalid", message: "The publish token is not valid." } },
    });
    expect(await post("announcements", '{"value":1}', { Authorization: "Basic abc" })).toMatchObject({ status: 401 });
    expect(await seqOf("announcements")).toBe(before);
  });

  it("refuses malformed JSON, a missing value and unknown fields with 400", async () => {
    const before = await seqOf("announcements");
    expect(await post("announcements", "{value: 1}")).toEqual({
      status: 400,
      body: { error: { code: "bad_json", message: "The body is not valid JSON." } },
    });
    expect(await post("announcements", '{"id":"x"}')).toEqual({
      status: 400,
      body: { error: { code: "bad_value", message: 'Field "value" is required.' } },
    });
    expect(await post("announcements", '{"value":1,"extra":true}')).toEqual({
      status: 400,
      body: { error: { code: "bad_body", message: 'Unknown field(s) "extra": send only "value" and "id".' } },
    });
    expect((await post("announcements", "[1,2]")).body.error.code).toBe("bad_body");
    expect((await post("announcements", '{"value":1,"id":""}')).body.error.code).toBe("bad_id");
    expect(await seqOf("announcements")).toBe(before);
  });

  it("refuses a body over 64 KiB with 413", async () => {
    const big = JSON.stringify({ value: "x".repeat(64 * 1024) });
    expect(await post("announcements", big)).toEqual({
      status: 413,
      body: { error: { code: "payload_too_large", message: "A publish body may be at most 65536 bytes." } },
    });
  });

  it("refuses publishes to a job's topic with 409 and to undeclared topics with 404", async () => {
    for (const job of JOBS) {
      expect(await post(job.topic, '{"value":1}')).toEqual({
        status: 409,
        body: {
          error: {
            code: "job_topic",
            message: `Topic "${job.topic}" is fed by job "${job.name}"; publish to a topic listed in TOPICS.`,
          },
        },
      });
    }
    expect((await post("nowhere", '{"value":1}')).status).toBe(404);
  });
});
