import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { events } from "../../src/cron/jobs/events";
import { nextExpectedAt } from "../../src/cron/runner";
import { publishHeaders } from "../helpers/auth";
import { fireCron } from "../helpers/scheduled";
import { fetchWorker } from "../helpers/socket";

const postEvent = async (body: string, headers = publishHeaders()) => {
  const response = await fetchWorker("/events", { method: "POST", headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe("POST /events", () => {
  it("stores an event in D1 and answers 201 with it", async () => {
    const { status, body } = await postEvent(JSON.stringify({ type: "signup", value: 2.5 }));
    expect(status).toBe(201);
    expect(body).toEqual({ id: expect.any(Number), type: "signup", value: 2.5, at: expect.any(Number) });
    const row = await env.DB.prepare("SELECT type, value, at FROM events WHERE id = ?").bind(body.id).first();
    expect(row).toEqual({ type: "signup", value: 2.5, at: body.at });
  });

  it("takes value as optional", async () => {
    expect((await postEvent('{"type":"page.view"}')).body).toMatchObject({ type: "page.view", value: null });
  });

  it("refuses bad input with the envelope and stores nothing", async () => {
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM events").first<{ n: number }>();
    expect(await postEvent('{"type":"Bad Type"}')).toMatchObject({ status: 400, body: { error: { code: "bad_type" } } });
    expect(await postEvent('{"type":"ok","value":"7"}')).toEqual({
      status: 400,
      body: { error: { code: "bad_value", message: 'Field "value" must be a number.' } },
    });
    expect(await postEvent('{"type":"ok","extra":1}')).toEqual({
      status: 400,
      body: { error: { code: "bad_body", message: 'Unknown field(s) "extra": send only "type" and "value".' } },
    });
    expect(await postEvent("not json")).toMatchObject({ status: 400, body: { error: { code: "bad_json" } } });
    expect(await postEvent('{"type":"ok"}', publishHeaders("forged"))).toMatchObject({ status: 401 });
    expect(await postEvent(JSON.stringify({ type: "x".repeat(5000) }))).toMatchObject({ status: 413 });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM events").first<{ n: number }>()).toEqual(before);
  });
});

describe("the events job", () => {
  it("publishes per-type counts and sums of the minute before its firing, from the real local D1", async () => {
    // An hour ahead, so the events the tests above posted (at now) fall outside the window.
    const T = Math.floor(Date.now() / 60_000) * 60_000 + 3_600_000;
    const rows: [string, number | null, number][] = [
      ["signup", 1, T - 60_000],
      ["signup", 2.5, T - 1],
      ["page.view", null, T - 30_000],
      ["page.view", null, T - 30_000],
      ["signup", 100, T - 60_001], // the minute before: not counted
      ["signup", 100, T], // this minute: not counted
      ["ancient", 1, T - 8 * 24 * 3_600_000], // past retention: deleted by the job
    ];
    await env.DB.batch(
      rows.map(([type, value, at]) =>
        env.DB.prepare("INSERT INTO events (type, value, at) VALUES (?, ?, ?)").bind(type, value, at),
      ),
    );
    await fireCron(events.schedule, T);
    const [frame] = await env.TOPIC.getByName(events.topic).history(0, 1);
    expect(frame).toEqual({
      type: "metric",
      topic: events.topic,
      seq: 1,
      ts: expect.any(Number),
      runId: `${events.name}@${T}`,
      job: events.name,
      scheduledTime: T,
      nextExpectedAt: nextExpectedAt(events, T),
      value: {
        windowStart: T - 60_000,
        windowEnd: T,
        types: [
          { type: "page.view", count: 2, sum: 0 },
          { type: "signup", count: 2, sum: 3.5 },
        ],
      },
    });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM events WHERE type = 'ancient'").first()).toEqual({ n: 0 });
  });
});
