/**
 * Property tests: hostile input never causes a 5xx, never crashes a topic object, and never
 * changes a topic's seq or history unless it was an accepted publish.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { publishHeaders } from "../helpers/auth";
import { TOPICS } from "../helpers/registry";
import { fetchWorker, openSocket } from "../helpers/socket";

const RUNS = 1000;

/** Runs a property RUNS times, prints how many cases ran, and fails with fast-check's report. */
async function check<T>(name: string, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>): Promise<void> {
  const details = await fc.check(fc.asyncProperty(arbitrary, predicate), { numRuns: RUNS });
  console.log(`property "${name}": ${details.numRuns} cases, ${details.failed ? "FAILED" : "held"}`);
  if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `property "${name}" failed`);
  expect(details.numRuns).toBe(RUNS);
}

const state = async (topic: string) => {
  const stub = env.TOPIC.getByName(topic);
  return { seq: (await stub.snapshot()).seq, history: JSON.stringify(await stub.history(0, 1000)) };
};

/** Declared names (the registry's and the vars'), near misses of them, and any string at all. */
const declared = TOPICS.map((info) => info.topic);
const anyName = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,70}$/),
  fc.constantFrom(...declared, ...declared.flatMap((name) => [name.toUpperCase(), ` ${name}`, `${name}\n`])),
  fc.constantFrom("..", "a/b", "%00"),
);

describe("hostile input", () => {
  it("never answers 5xx for any topic name, on any route", { timeout: 120_000 }, async () => {
    const before = await state("system");
    await check(
      "topic names",
      fc.tuple(anyName, fc.constantFrom("snapshot", "history", "upgrade", "publish")),
      async ([name, route]) => {
        const path = `/topics/${encodeURIComponent(name)}${route === "history" ? "/history" : ""}`;
        const init: RequestInit =
          route === "upgrade"
            ? { headers: { Upgrade: "websocket" } }
            : route === "publish"
              ? { method: "POST", headers: publishHeaders(), body: '{"value":1}' }
              : {};
        const response = await fetchWorker(path, init);
        expect(response.status).toBeLessThan(500);
        response.webSocket?.accept();
        response.webSocket?.close(1000, "done");
      },
    );
    expect(await state("system")).toEqual(before);
  });

  it("never answers 5xx to random publish bodies and headers, and only 202 changes the topic", { timeout: 120_000 }, async () => {
    const body = fc.oneof(
      fc.json(),
      fc.string({ maxLength: 200 }),
      fc
        .record({ value: fc.jsonValue(), id: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }) })
        .map((b) => JSON.stringify(b)),
      fc.record({ value: fc.jsonValue(), extra: fc.jsonValue() }).map((b) => JSON.stringify(b)),
      fc.nat({ max: 70_000 }).map((n) => JSON.stringify({ value: "x".repeat(n) })),
    );
    const authorization = fc.oneof(
      fc.constant(`Bearer ${env.PUBLISH_TOKEN}`),
      fc.string({ maxLength: 100 }).map((s) => `Bearer ${s}`),
      fc.string({ maxLength: 100 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
      fc.constant(undefined),
    );
    const contentType = fc.constantFrom("application/json", "text/plain", "multipart/form-data; boundary=x", undefined);
    await check("publish bodies", fc.tuple(body, authorization, contentType), async ([text, auth, type]) => {
      const before = await state("announcements");
      const headers: Record<string, string> = {};
      if (auth !== undefined) headers.Authorization = auth;
      if (type !== undefined) headers["Content-Type"] = type;
      const response = await fetchWorker("/topics/announcements", { method: "POST", headers, body: text });
      expect(response.status).toBeLessThan(500);
      const after = await state("announcements");
      if (response.status !== 202) {
        expect(after).toEqual(before);
        expect(((await response.json()) as { error: { code: string } }).error.code).toMatch(/^[a-z_]+$/);
      } else {
        const { seq, duplicate } = (await response.json()) as { seq: number; duplicate: boolean };
        expect(after.seq).toBe(duplicate ? before.seq : before.seq + 1);
        if (!duplicate) expect(seq).toBe(before.seq + 1);
      }
    });
  });

  it("answers random client frames with error frames or a 1008/1009 close, and the topic never changes", {
    timeout: 120_000,
  }, async () => {
    await env.TOPIC.getByName("uptime").publish({ value: "baseline", runId: "baseline@1" });
    const before = await state("uptime");
    const frame = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.json(),
      fc.uint8Array({ maxLength: 300 }),
      fc.nat({ max: 4000 }).map((n) => "y".repeat(n)),
      fc.constantFrom("ping", "PING", "ping\n", "", '{"type":"metric","seq":999}'),
    );
    await check("client frames", fc.array(frame, { minLength: 1, maxLength: 4 }), async (frames) => {
      const socket = await openSocket("/topics/uptime");
      expect(await socket.nextFrame()).toMatchObject({ type: "hello" });
      expect(await socket.nextFrame()).toMatchObject({ type: "metric" });
      for (const sent of frames) {
        socket.ws.send(sent);
        const size = typeof sent === "string" ? new TextEncoder().encode(sent).byteLength : sent.byteLength;
        if (size > 1024) {
          expect((await socket.closed()).code).toBe(1009);
          return;
        }
        const reply = await socket.nextText();
        if (sent === "ping") expect(reply).toBe("pong");
        else expect(JSON.parse(reply)).toMatchObject({ type: "error", code: "unsupported_frame" });
      }
      socket.ws.close(1000, "done");
    });
    expect(await state("uptime")).toEqual(before);
    expect((await env.TOPIC.getByName("uptime").snapshot()).latest).toMatchObject({ value: "baseline" });
  });
});
