/**
 * Property tests for the schedules API: hostile ids, params, crons, timezones, dates, intervals,
 * bodies and preview queries never cause a 5xx, every 4xx is the error envelope, and a rejected
 * PUT or PATCH changes nothing: not the schedule, not the list of schedules, not the topics.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { TOPICS } from "../helpers/registry";
import { adminHeaders, api, REFUSED_URL } from "../helpers/schedules";
import { fetchWorker } from "../helpers/socket";

const RUNS = 80;

/** Runs a property RUNS times, prints how many cases ran, and fails with fast-check's report. */
async function check<T>(name: string, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>): Promise<void> {
  const details = await fc.check(fc.asyncProperty(arbitrary, predicate), { numRuns: RUNS });
  console.log(`property "${name}": ${details.numRuns} cases, ${details.failed ? "FAILED" : "held"}`);
  if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `property "${name}" failed`);
  expect(details.numRuns).toBe(RUNS);
}

/** Paused schedules the properties aim at (paused, so no alarm changes them while a property runs). */
const BASELINE = ["base-cron", "base-every"] as const;
const baselineSpec = (id: string) => ({
  job: "uptime",
  params: { url: REFUSED_URL },
  ...(id === "base-cron" ? { cron: "0 9 * * 1-5", timezone: "Europe/Berlin" } : { every: "30s", missed: "all" }),
  enabled: false,
});

/** What a request could change: the schedule itself, every schedule, every topic. */
async function state(id: string) {
  const [one, all, topics] = await Promise.all([
    fetchWorker(`/schedules/${encodeURIComponent(id)}`, { headers: adminHeaders() }),
    fetchWorker("/schedules?limit=200", { headers: adminHeaders() }),
    fetchWorker("/topics"),
  ]);
  return { one: { status: one.status, body: await one.text() }, all: await all.text(), topics: await topics.text() };
}

/** A 4xx answer's body is exactly `{"error": {"code", "message"}}`. */
function expectEnvelope(status: number, text: string): void {
  expect(status).toBeGreaterThanOrEqual(400);
  expect(status).toBeLessThan(500);
  const body = JSON.parse(text) as { error: { code: unknown; message: unknown } };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "message"]);
  expect(body.error.code).toMatch(/^[a-z][a-zA-Z_]*$/);
  expect(typeof body.error.message).toBe("string");
  expect((body.error.message as string).length).toBeGreaterThan(5);
}

/** Puts schedule `id` back the way the properties expect it: a paused baseline, or absent. */
async function restore(id: string): Promise<void> {
  if ((BASELINE as readonly string[]).includes(id))
    expect((await api("PUT", `/schedules/${id}`, baselineSpec(id))).status).toBe(200);
  else expect((await api("DELETE", `/schedules/${encodeURIComponent(id)}`)).status).toBe(204);
}

/**
 * Sends one PUT or PATCH and checks the answer: below 500; a 4xx is the envelope and changed nothing;
 * a 2xx is the schedule (201 for a new one), then put back. True when it was accepted.
 */
async function send(method: string, id: string, body: string, headers: Record<string, string>): Promise<boolean> {
  const before = await state(id);
  const response = await fetchWorker(`/schedules/${encodeURIComponent(id)}`, { method, headers, body });
  const text = await response.text();
  const what = `${method} /schedules/${id} ${body.slice(0, 300)}: ${response.status} ${text.slice(0, 300)}`;
  expect(response.status, what).toBeLessThan(500);
  if (response.status >= 400) {
    expectEnvelope(response.status, text);
    expect(await state(id), what).toEqual(before);
    return false;
  }
  expect(response.status, what).toBe(method === "PUT" && before.one.status === 404 ? 201 : 200);
  expect(JSON.parse(text), what).toMatchObject({ id });
  await restore(id);
  return true;
}

/** Times past what the platform takes (setAlarm stops at 2189, croner and Date at 8.64e15 ms). */
const FAR_FUTURE = [Date.UTC(2190, 0, 1), Date.UTC(9999, 11, 31), 8.64e15 - 1, 8.64e15];

const huge = (n: number) => fc.constant("x".repeat(n));
const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.nat(), { maxLength: 3 }), fc.object());

const ids = fc.oneof(
  { arbitrary: fc.constantFrom(...BASELINE), weight: 3 },
  { arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,63}$/).filter((id) => !BASELINE.some((b) => b === id)), weight: 3 },
  fc.string({ maxLength: 80 }),
  fc.constantFrom("Base-Cron", "base-cron ", ".lead", "-lead", "x".repeat(65), "a".repeat(64), "a%2Fb", ".."),
  fc.constantFrom("%00", "ümlaut", "a b", "a\nb", "a?b", "a#b"),
);

const crons = fc.oneof(
  fc.constantFrom("* * * * *", "*/5 * * * *", "0 9 * * 1-5", "30 2 * * *", "0 0 L * *", "0 0 * * 7", "0 0 1 1 *"),
  fc.constantFrom("0 0 31 2 *", "0 0 30 2 *", "*/0 * * * *", "61 * * * *", "* 24 * * *", "0 0 0 * *", "0 0 * 13 *", "0 0 * * 8"),
  fc.constantFrom("@daily", "@reboot", "* * * * * *", "* * * *", "", " ", "* * * * *\n", "0-59/1000000 * * * *", "1-0 * * * *"),
  fc.constantFrom("0 0 * * 5#6", "0 0 LW * *", "0 0 15W * *", "0 0 ? * *", "0 0 * * MON-FRI", "0 0 * JAN-DEC *"),
  fc.constantFrom("99999999999 * * * *", "0 0 29 2 1", "0 0 L 2 *"),
  fc
    .array(fc.constantFrom("*", "*/7", "0", "1-3", "L", "5#2", ",", "-", "/", "?", "W", "0,30"), { minLength: 1, maxLength: 6 })
    .map((parts) => parts.join(" ")),
  fc.string({ maxLength: 40 }),
  huge(201),
  huge(5_000),
  wrongType,
);

const everys = fc.oneof(
  fc.constantFrom("1s", "30s", "1500ms", "5m", "2h", "1000ms"),
  fc.constantFrom("0s", "999ms", "-1s", "1e3s", "1.5s", "5S", " 5s ", "5 s", "s", "5", "", "1d", "0x10s", "१s"),
  fc.constantFrom("9007199254740993ms", "99999999999999h", "999999999999999999999999999h", "00000000000000000000000000001s"),
  fc.nat({ max: 10_000_000 }).map((n) => `${n}s`),
  fc.string({ maxLength: 40 }),
  huge(33),
  wrongType,
);

const zones = fc.oneof(
  fc.constantFrom("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Etc/GMT+5", "US/Eastern"),
  fc.constantFrom("Mars/Base", "", "+01:00", "UTC+1", "utc", "europe/berlin", "Europe/Berlin\n", "Europe//Berlin"),
  fc.constantFrom("/Europe", "GMT0", "Z"),
  fc.constantFrom("America/Argentina/ComodRivadavia", "Etc/GMT-14", "Etc/GMT+13", "EST5EDT", "Antarctica/Troll", "x".repeat(65)),
  fc.string({ maxLength: 70 }),
  huge(1_000),
  wrongType,
);

/** Epoch ms up to 2100; later ones are FAR_FUTURE's (the test that needs a fix in src/ first). */
const epochs = fc.oneof(
  fc.constantFrom(0, 1, Date.now(), Date.now() + 86_400_000, Date.now() - 86_400_000, Date.UTC(2100, 0, 1)),
  fc.constantFrom(-1, 1.5, 8.64e15 + 1, 1e300, Number.MAX_SAFE_INTEGER + 2, -0, 1e21),
  fc.constantFrom("2027-01-01", "1700000000000", "", "now"),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true, max: Date.UTC(2100, 0, 1) }), // every double past 2^52 is whole
  wrongType,
);

const params = fc.oneof(
  fc.constant({ url: REFUSED_URL }),
  fc
    .constantFrom("ftp://127.0.0.1:9/", "javascript:alert(1)", "http://", "", `${REFUSED_URL}${"p".repeat(2_040)}`)
    .map((url) => ({ url })),
  fc.constantFrom(`${REFUSED_URL}${"p".repeat(5_000)}`, [REFUSED_URL], { url: REFUSED_URL }).map((url) => ({ url })),
  fc.constantFrom({}, [], null, REFUSED_URL, { url: REFUSED_URL, extra: 1 }, { url: REFUSED_URL, constructor: {} }),
  fc.record({ url: fc.string({ maxLength: 50 }) }),
  fc.jsonValue({ maxDepth: 3 }),
);

const topics = fc.oneof(
  fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  fc.constantFrom(...TOPICS.map((info) => info.topic), "uptime.base-cron", "uptime.base-every"),
  fc.constantFrom("Bad Topic", "", "x".repeat(65), "a/b"),
  fc.string({ maxLength: 70 }),
  wrongType,
);

const field = <T>(valid: fc.Arbitrary<T>) => fc.option(valid, { nil: undefined, freq: 2 });

/** A schedule body: each field left out, valid, or hostile; plus fields it does not have. */
const scheduleFields = fc.record(
  {
    job: field(fc.oneof(fc.constantFrom("uptime", "uptime", "system", "feed", "nope", "", "UPTIME"), huge(65), wrongType)),
    params: field(params),
    cron: field(crons),
    every: field(everys),
    timezone: field(zones),
    missed: field(fc.oneof(fc.constantFrom("skip", "latest", "all", "ALL", "none", ""), wrongType)),
    missedLimit: field(
      fc.oneof(fc.constantFrom(1, 100, 1_000, 0, 1_001, 1.5, -1, 1e308), wrongType, fc.string({ maxLength: 5 })),
    ),
    startAt: field(epochs),
    endAt: field(epochs),
    enabled: field(fc.oneof(fc.boolean(), fc.constantFrom("true", 1, 0), wrongType)),
    topic: field(topics),
    private: field(fc.oneof(fc.boolean(), fc.constantFrom("false", 0), wrongType)),
    id: field(fc.string({ maxLength: 10 })),
    state: field(fc.constantFrom("active", "paused")),
    revision: field(fc.integer()),
  },
  { requiredKeys: [] },
);

/** A valid body with up to two of its fields replaced or added (so some are accepted). */
const nearValid = scheduleFields
  .chain((fields) => fc.shuffledSubarray(Object.entries(fields), { maxLength: 2 }))
  .map((entries) => ({ job: "uptime", params: { url: REFUSED_URL }, every: "30s", ...Object.fromEntries(entries) }));

/** A body as sent: a JSON object of schedule fields (near a valid one, or not), or any JSON, or not JSON, or too big. */
const bodies = fc.oneof(
  { weight: 4, arbitrary: nearValid.map((fields) => JSON.stringify(fields)) },
  { weight: 3, arbitrary: scheduleFields.map((fields) => JSON.stringify(fields)) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
  { weight: 1, arbitrary: fc.constantFrom("", "null", "[]", "1", '"x"', "{", '{"job":"uptime","job":"nope"}') },
  { weight: 1, arbitrary: fc.constantFrom('{"__proto__":{"job":"uptime"}}', `${" ".repeat(16_384)}{}`, "x".repeat(17_000)) },
);

const methods = fc.constantFrom("PUT", "PATCH");
/** The admin token mostly; sometimes none, a wrong one, or the publish token. */
const authorizations = fc.oneof(
  { weight: 8, arbitrary: fc.constant(adminHeaders()) },
  { weight: 1, arbitrary: fc.constantFrom({ "Content-Type": "json" }, adminHeaders("wrong"), adminHeaders(env.PUBLISH_TOKEN)) },
);

beforeAll(async () => {
  for (const id of BASELINE) expect((await api("PUT", `/schedules/${id}`, baselineSpec(id))).status).toBe(201);
});

describe("hostile input to the schedules API", () => {
  it("never answers 5xx to PUT or PATCH; a 4xx is the envelope and changes nothing", { timeout: 60_000 }, async () => {
    let accepted = 0;
    await check("schedule bodies", fc.tuple(methods, ids, bodies, authorizations), async ([method, id, body, headers]) => {
      if (await send(method, id, body, headers)) accepted++;
    });
    // The generators reach the accepted path too, so the property is not only about refusals.
    console.log(`schedule bodies: ${accepted} of ${RUNS} accepted`);
    expect(accepted).toBeGreaterThan(0);
  });

  it("refuses a body of a valid shape with a wrong type in any one field, and changes nothing", { timeout: 60_000 }, async () => {
    const names = "job params cron every timezone missed missedLimit startAt endAt enabled topic private".split(" ");
    const target = fc.constantFrom(...BASELINE, "never-made");
    const cases = fc.tuple(methods, target, fc.constantFrom(...names), fc.oneof(wrongType, fc.string()));
    await check("one wrong field", cases, async ([method, id, name, value]) => {
      const body = { job: "uptime", params: { url: REFUSED_URL }, every: "30s", enabled: false, [name]: value };
      await send(method, id, JSON.stringify(body), adminHeaders());
    });
  });

  // Skipped until src/ is fixed, then make it `it`: PUT {"job":"uptime","params":…,"every":"30s","startAt":
  // 253402300799999} answers 500 (setAlarm takes no date after 2189) yet saves the schedule and claims its
  // topic; a cron with startAt 8639999999999999 in Pacific/Kiritimati answers 500 (croner); and
  // preview?cron=0+0+*+*+*&after=8640000000000000 answers 500, preview?every=1s&after=9999999999999999 runs past 8.64e15.
  it("takes or refuses times past 2189 with no 5xx; a refusal changes nothing; preview runs are valid dates", {
    timeout: 60_000,
  }, async () => {
    const far = fc.constantFrom(...FAR_FUTURE);
    const timing = fc.oneof(
      fc.record({ every: fc.constantFrom("1s", "30s", "2h") }),
      fc.record({ cron: fc.constantFrom("0 0 * * *", "* * * * *"), timezone: fc.constantFrom("UTC", "Pacific/Kiritimati") }),
    );
    const bigEvery = fc.constantFrom("9007199254740s", "1000000000h", "2000000h").map((every) => ({ every }));
    const body = fc.oneof(
      fc.tuple(timing, far).map(([t, startAt]) => ({ ...t, startAt })),
      bigEvery,
      fc.tuple(bigEvery, far).map(([t, endAt]) => ({ ...t, endAt })),
    );
    await check("far future", fc.tuple(methods, fc.constantFrom(...BASELINE, "far"), body), async ([method, id, fields]) => {
      await send(method, id, JSON.stringify({ job: "uptime", params: { url: REFUSED_URL }, ...fields }), adminHeaders());
    });
    const query = fc.tuple(fc.constantFrom("cron=0+0+*+*+*", "every=1s"), fc.constantFrom("after", "startAt"), far);
    await check("far preview", query, async ([cadence, name, at]) => {
      const response = await fetchWorker(`/schedules/preview?${cadence}&${name}=${at}`);
      const text = await response.text();
      expect(response.status, `${cadence}&${name}=${at}: ${text}`).toBeLessThan(500);
      if (response.status >= 400) return expectEnvelope(response.status, text);
      for (const run of (JSON.parse(text) as { runs: number[] }).runs) expect(run).toBeLessThanOrEqual(8.64e15);
    });
  });

  it("never answers 5xx to GET /schedules/preview; 200 is ascending runs, a 4xx the envelope", { timeout: 60_000 }, async () => {
    const whole = fc.oneof(
      fc.constantFrom("0", "1", String(Date.now()), String(Date.UTC(2100, 0, 1)), "99999999999999999"),
      fc.constantFrom("-1", "1.5", "1e3", "", " 1", "0x10", "NaN", "Infinity"),
      fc.nat().map(String),
      fc.string({ maxLength: 20 }),
    );
    const counts = fc.oneof(fc.constantFrom("1", "5", "100", "0", "101", "-1", "1.0", ""), fc.nat({ max: 200 }).map(String));
    const text = (arbitrary: fc.Arbitrary<unknown>) => arbitrary.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
    const [cron, every, timezone, extra] = [text(crons), text(everys), text(zones), fc.string({ maxLength: 10 })];
    const fields = { cron, every, timezone, after: whole, startAt: whole, endAt: whole, count: counts, extra };
    const query = fc.record(fields, { requiredKeys: [] });
    const raw = fc.oneof(
      query.map((q) => new URLSearchParams(q as Record<string, string>).toString()),
      fc.string({ maxLength: 100 }).map((s) => encodeURI(s).replaceAll("#", "%23")),
      fc.constantFrom("cron=*&cron=* * * * *", "cron=%ZZ", "every=1s&every=2s", "cron=*%20*%20*%20*%20*&timezone=%00", "&&&=&="),
    );
    await check("preview queries", raw, async (search) => {
      const response = await fetchWorker(`/schedules/preview?${search}`);
      const body = await response.text();
      expect(response.status, `?${search}: ${body}`).toBeLessThan(500);
      if (response.status >= 400) return expectEnvelope(response.status, body);
      expect(response.status).toBe(200);
      const { runs } = JSON.parse(body) as { runs: number[] };
      expect(runs.length).toBeLessThanOrEqual(Number(new URLSearchParams(search).get("count") ?? 5));
      expect(runs.every(Number.isSafeInteger) && new Set(runs).size === runs.length).toBe(true);
      expect(runs).toEqual([...runs].sort((a, b) => a - b));
    });
  });
});
