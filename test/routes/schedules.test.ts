/** The schedules API: create, read, list, change, pause, resume, run and delete, and every refusal. */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { nextSlots } from "../../src/cron/local-time";
import { subscribeToken } from "../helpers/auth";
import { TOPICS } from "../helpers/registry";
import { adminHeaders, api, moveNextAt, REFUSED_URL, shardOf } from "../helpers/schedules";
import { fetchWorker, openSocket } from "../helpers/socket";

const uptime = (extra: Record<string, unknown> = {}) => ({
  job: "uptime",
  params: { url: REFUSED_URL },
  cron: "*/5 * * * *",
  ...extra,
});

describe("PUT /schedules/:id", () => {
  it("creates a schedule with defaults, then replaces it idempotently", async () => {
    const before = Date.now();
    const created = await api("PUT", "/schedules/acme", uptime({ timezone: "Europe/Berlin" }));
    expect(created.status).toBe(201);
    const timing = { cadence: { cron: "*/5 * * * *" }, timezone: "Europe/Berlin", startAt: null, endAt: null };
    expect(created.body).toEqual({
      id: "acme",
      job: "uptime",
      params: { url: REFUSED_URL },
      cron: "*/5 * * * *",
      every: null,
      timezone: "Europe/Berlin",
      missed: "skip",
      missedLimit: 100,
      startAt: null,
      endAt: null,
      enabled: true,
      topic: "uptime.acme",
      private: false,
      whileWatched: false,
      state: "active",
      revision: 1,
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
      nextRunAt: nextSlots(timing, before, 1)[0],
      nextRuns: nextSlots(timing, before, 5),
    });
    const again = await api("PUT", "/schedules/acme", uptime({ timezone: "Europe/Berlin" }));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: "acme", revision: 2, createdAt: created.body.createdAt });
    expect((await api("GET", "/schedules/acme")).body).toEqual(again.body);
  });

  it("declares the schedule's topic: listed, served and subscribable, while the schedule exists", async () => {
    await api("PUT", "/schedules/listed", uptime());
    const { topics } = (await (await fetchWorker("/topics")).json()) as { topics: { topic: string }[] };
    expect(topics).toContainEqual({
      topic: "uptime.listed",
      job: "uptime",
      schedule: "*/5 * * * * (UTC)",
      private: false,
      scheduleId: "listed",
    });
    expect(topics.slice(0, TOPICS.length)).toEqual(TOPICS);
    expect((await fetchWorker("/topics/uptime.listed")).status).toBe(200);
    // Counted by its job in /jobs, and as a topic (with its schedule's id) in /metrics.
    const { jobs } = (await (await fetchWorker("/jobs")).json()) as { jobs: { name: string; schedules: number }[] };
    const counted = (await api("GET", "/schedules?job=uptime&limit=200")).body as unknown as { schedules: unknown[] };
    expect(jobs.find((job) => job.name === "uptime")?.schedules).toBe(counted.schedules.length);
    const metrics = await (await fetchWorker("/metrics")).text();
    expect(metrics).toContain('edgebeat_topic_subscribers{topic="uptime.listed"} 0');
    expect(metrics).toContain('edgebeat_job_runs_total{job="uptime",schedule="listed",status="ok"} 0');
    const socket = await openSocket("/topics/uptime.listed");
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", topic: "uptime.listed", seq: 0 });
    expect((await api("DELETE", "/schedules/listed")).status).toBe(204);
    expect((await fetchWorker("/topics/uptime.listed")).status).toBe(404);
    expect((await api("GET", "/schedules/listed")).body.error.code).toBe("unknown_schedule");
  });

  it("refuses every bad body with a 4xx naming the fix, and changes nothing", async () => {
    const declared = TOPICS[0]?.topic as string;
    const cases: [unknown, number, string][] = [
      ["{", 400, "bad_json"],
      [{ cron: "* * * * *" }, 400, "bad_job"],
      [uptime({ job: "nope" }), 400, "unknown_job"],
      [uptime({ params: { url: "ftp://x" } }), 400, "bad_params"],
      [uptime({ params: { url: REFUSED_URL, extra: 1 } }), 400, "bad_params"],
      [uptime({ every: "30s" }), 400, "bad_schedule"],
      [uptime({ cron: null }), 400, "bad_schedule"],
      [uptime({ cron: "61 * * * *" }), 400, "bad_cron"],
      [uptime({ cron: "@daily" }), 400, "bad_cron"],
      [uptime({ cron: null, every: "500ms" }), 400, "bad_every"],
      [uptime({ timezone: "Mars/Base" }), 400, "bad_timezone"],
      [uptime({ missed: "sometimes" }), 400, "bad_missed"],
      [uptime({ missedLimit: 0 }), 400, "bad_missedLimit"],
      [uptime({ startAt: 2000, endAt: 1000 }), 400, "bad_endAt"],
      [uptime({ startAt: -1 }), 400, "bad_startAt"],
      [uptime({ startAt: 253_402_300_799_999 }), 400, "bad_startAt"], // past 2100: alarms stop at 2189
      [uptime({ cron: null, every: "1000000000h" }), 400, "bad_every"],
      [uptime({ cron: null, every: "367d" }), 400, "bad_every"],
      [uptime({ topic: "Bad Topic" }), 400, "bad_topic"],
      [uptime({ topic: declared }), 409, "topic_declared"],
      [uptime({ colour: "blue" }), 400, "bad_body"],
    ];
    for (const [body, status, code] of cases) {
      const answer = await api("PUT", "/schedules/refused", body);
      expect({ status: answer.status, code: answer.body.error?.code }, JSON.stringify(body)).toEqual({ status, code });
      expect(answer.body.error.message.length).toBeGreaterThan(10);
    }
    expect((await api("GET", "/schedules/refused")).status).toBe(404);
    expect((await api("PUT", "/schedules/Bad_Id", uptime())).body.error.code).toBe("bad_id");
    const other = await api("PUT", "/schedules/holder", uptime({ topic: "shared.topic" }));
    expect(other.status).toBe(201);
    const taken = await api("PUT", "/schedules/taker", uptime({ topic: "shared.topic" }));
    expect({ status: taken.status, code: taken.body.error.code }).toEqual({ status: 409, code: "topic_taken" });
    expect((await api("GET", "/schedules/taker")).status).toBe(404);
  });

  it("needs the admin token", async () => {
    const missing = await api("PUT", "/schedules/x", uptime(), { "Content-Type": "application/json" });
    expect({ status: missing.status, code: missing.body.error.code }).toEqual({ status: 401, code: "token_required" });
    const wrong = await api("GET", "/schedules", undefined, adminHeaders("wrong"));
    expect({ status: wrong.status, code: wrong.body.error.code }).toEqual({ status: 401, code: "token_invalid" });
    expect(env.ADMIN_TOKEN).not.toBe(env.PUBLISH_TOKEN);
    const publishToken = await api("GET", "/schedules", undefined, adminHeaders(env.PUBLISH_TOKEN));
    expect(publishToken.status).toBe(401);
  });
});

describe("GET /schedules", () => {
  it("pages through every shard in id order, filtered by job", async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `page-${i}`);
    for (const id of ids) expect((await api("PUT", `/schedules/${id}`, uptime())).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = "page-";
    while (cursor !== null) {
      const page = await api("GET", `/schedules?job=uptime&limit=3&cursor=${cursor}`);
      expect(page.status).toBe(200);
      const body = page.body as unknown as { schedules: { id: string }[]; cursor: string | null };
      expect(body.schedules.length).toBeLessThanOrEqual(3);
      seen.push(...body.schedules.map((schedule) => schedule.id));
      cursor = body.cursor;
    }
    expect(seen.filter((id) => id.startsWith("page-"))).toEqual(ids);
    const none = await api("GET", "/schedules?job=system");
    expect(none.body).toEqual({ schedules: [], cursor: null });
    expect((await api("GET", "/schedules?limit=0")).body.error.code).toBe("bad_limit");
  });
});

describe("PATCH, pause, resume, run", () => {
  it("changes only the fields given; cron replaces every", async () => {
    await api("PUT", "/schedules/patched", uptime({ cron: null, every: "30s" }));
    const patched = await api("PATCH", "/schedules/patched", { cron: "0 9 * * 1-5", timezone: "America/New_York" });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ cron: "0 9 * * 1-5", every: null, timezone: "America/New_York", revision: 2 });
    expect(patched.body.params).toEqual({ url: REFUSED_URL });
    const bad = await api("PATCH", "/schedules/patched", { timezone: "Nowhere/Land" });
    expect(bad.body.error.code).toBe("bad_timezone");
    expect((await api("GET", "/schedules/patched")).body.revision).toBe(2);
    expect((await api("PATCH", "/schedules/absent", { enabled: false })).status).toBe(404);
  });

  it("with If-Match changes only the revision the caller read (0: create only), else 412", async () => {
    const headers = (revision: string) => ({ ...adminHeaders(), "If-Match": revision });
    expect((await api("PUT", "/schedules/guarded", uptime(), headers("0"))).status).toBe(201);
    const again = await api("PUT", "/schedules/guarded", uptime(), headers("0"));
    expect({ status: again.status, code: again.body.error.code }).toEqual({ status: 412, code: "revision_mismatch" });
    expect(again.body.error.message).toBe(
      "Schedule guarded is at revision 1: read it again, then send the change with If-Match: 1.",
    );
    expect((await api("PATCH", "/schedules/guarded", { missed: "latest" }, headers('"1"'))).body.revision).toBe(2);
    expect((await api("PATCH", "/schedules/guarded", { missed: "all" }, headers("1"))).status).toBe(412);
    expect((await api("POST", "/schedules/guarded/pause", undefined, headers("1"))).status).toBe(412);
    expect((await api("PATCH", "/schedules/guarded", { missed: "all" }, headers("one"))).body.error.code).toBe("bad_if_match");
    expect((await api("GET", "/schedules/guarded")).body).toMatchObject({ revision: 2, missed: "latest", enabled: true });
  });

  it("a paused schedule runs nothing, even when its slot is due; resume runs the next slot", async () => {
    await api("PUT", "/schedules/paused", uptime({ cron: "* * * * *" }));
    const paused = await api("POST", "/schedules/paused/pause");
    expect(paused.body).toMatchObject({ enabled: false, state: "paused", nextRunAt: null, nextRuns: [] });
    await moveNextAt("paused", Date.now() - 1_000);
    // A paused schedule's next slot stays null, whatever was stored: the alarm finds nothing due for it.
    await moveNextAt("paused", null as unknown as number);
    await runDurableObjectAlarm(shardOf("paused"));
    expect(await env.TOPIC.getByName("uptime.paused").runs(10)).toEqual([]);
    const resumed = await api("POST", "/schedules/paused/resume");
    expect(resumed.body).toMatchObject({ enabled: true, state: "active" });
    expect(resumed.body.nextRunAt).toBeGreaterThan(Date.now() - 1_000);
  });

  it("runs once now with its own runId, and leaves the schedule as it was", async () => {
    const saved = await api("PUT", "/schedules/manual", uptime());
    const run = await api("POST", "/schedules/manual/run");
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ job: "uptime", topic: "uptime.manual", status: "ok", seq: 1, attempts: 1 });
    expect(String(run.body.runId)).toMatch(/^manual@run-\d+$/);
    const [frame] = await env.TOPIC.getByName("uptime.manual").history(0, 1);
    expect(frame?.value).toEqual({
      probes: [{ url: REFUSED_URL, ok: false, status: null, latencyMs: expect.any(Number), error: expect.any(String) }],
    });
    expect((await api("GET", "/schedules/manual")).body).toEqual(saved.body);
  });
});

describe("private schedule topics", () => {
  it("need a subscribe token, and a topics entry ending in * grants a prefix", async () => {
    await api("PUT", "/schedules/acme-web", uptime({ private: true }));
    expect((await fetchWorker("/topics/uptime.acme-web")).status).toBe(401);
    const prefix = await subscribeToken({ topics: ["uptime.acme-*"] });
    expect((await fetchWorker(`/topics/uptime.acme-web?token=${prefix}`)).status).toBe(200);
    const other = await subscribeToken({ topics: ["uptime.other-*"] });
    expect((await fetchWorker(`/topics/uptime.acme-web?token=${other}`)).status).toBe(403);
  });
});

describe("GET /schedules/preview", () => {
  it("shows the slots a cron in a timezone runs, without a token", async () => {
    const after = Date.parse("2027-03-27T12:00:00Z");
    const response = await fetchWorker(`/schedules/preview?cron=30+2+*+*+*&timezone=Europe/Berlin&after=${after}&count=3`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      runs: [
        Date.parse("2027-03-28T03:00:00+02:00"), // 02:30 does not exist that night: the first instant after the gap
        Date.parse("2027-03-29T02:30:00+02:00"),
        Date.parse("2027-03-30T02:30:00+02:00"),
      ],
    });
    const far = await fetchWorker("/schedules/preview?cron=0+0+*+*+*&after=8640000000000000");
    expect(far.status).toBe(400);
    expect(((await far.json()) as { error: { code: string } }).error.code).toBe("bad_after");
    const bad = await fetchWorker("/schedules/preview?cron=nope");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("bad_cron");
  });
});
