/**
 * `/schedules`: runtime schedules (bearer ADMIN_TOKEN), each owned by the Scheduler shard its id
 * hashes to; `GET /schedules/preview` (no auth) shows what a cron and timezone would run.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Schedule } from "../client/schedule";
import { declaredTopics, schedulerShardFor, schedulerShardNames } from "../config";
import { nextSlots } from "../cron/local-time";
import { runPlan } from "../cron/runner";
import { planScheduledRun, scheduleGraceMs } from "../cron/scheduled-run";
import type { PutOptions, PutOutcome, SchedulerRpc, ScheduleSpec } from "../durable/scheduler-rpc";
import type { EdgebeatEnv } from "../env";
import { requireAdminToken } from "./auth";
import type { AppEnv } from "./env";
import { ApiError } from "./errors";
import {
  MAX_SCHEDULE_BYTES,
  parseListQuery,
  parsePatchBody,
  parsePutBody,
  parseScheduleId,
  type ScheduleContext,
  staticTopicNames,
} from "./schedule-body";
import { parsePreviewQuery } from "./schedule-timing";
import { parseRunsQuery } from "./validate";

export const schedules = new Hono<AppEnv>();

schedules.get("/preview", (c) => {
  const { timing, after, count } = parsePreviewQuery(c.req.query(), Date.now());
  return c.json({ runs: nextSlots(timing, after, count) });
});

schedules.use("*", async (c, next) => {
  await requireAdminToken(c);
  await next();
});

schedules.use(
  "*",
  bodyLimit({
    maxSize: MAX_SCHEDULE_BYTES,
    onError: () => {
      throw new ApiError(413, "payload_too_large", `A schedules body may be at most ${MAX_SCHEDULE_BYTES} bytes.`);
    },
  }),
);

schedules.get("/", async (c) => {
  const { job, cursor, limit } = parseListQuery(c.req.query());
  const query = { job: job ?? null, after: cursor ?? null, limit };
  const pages = await Promise.all(schedulerShardNames(c.env).map((name) => scheduler(c.env).getByName(name).list(query)));
  const all = pages.flatMap((page) => page.schedules).sort((a, b) => (a.id < b.id ? -1 : 1));
  const page = all.slice(0, limit);
  const more = all.length > limit || pages.some((shardPage) => shardPage.more);
  return c.json({ schedules: page, cursor: more ? (page.at(-1)?.id ?? null) : null });
});

schedules.put("/:id", async (c) => {
  const id = parseScheduleId(c.req.param("id"));
  const spec = parsePutBody(id, await c.req.text(), scheduleContext(c));
  const expected = ifMatch(c);
  const outcome = await shardOf(c.env, id).put(id, spec, putOptions(c, spec, expected ?? undefined));
  const { schedule, created } = saved(id, spec, outcome, expected !== null);
  return c.json(schedule, created ? 201 : 200);
});

schedules.get("/:id", async (c) => c.json(await current(c)));

schedules.patch("/:id", async (c) => {
  const text = await c.req.text();
  return c.json(await change(c, (schedule) => parsePatchBody(schedule.id, text, schedule, scheduleContext(c))));
});

schedules.post("/:id/pause", async (c) => c.json(await change(c, (schedule) => ({ ...specOf(schedule), enabled: false }))));

schedules.post("/:id/resume", async (c) => c.json(await change(c, (schedule) => ({ ...specOf(schedule), enabled: true }))));

schedules.post("/:id/run", async (c) => {
  const schedule = await current(c);
  const now = Date.now();
  const run = {
    scheduleId: schedule.id,
    job: schedule.job,
    params: schedule.params,
    topic: schedule.topic,
    slot: now,
    runId: `${schedule.id}@run-${now}`,
    nextExpectedAt: schedule.nextRunAt ?? now,
  };
  const topics = declaredTopics(c.get("jobs"), c.env);
  return c.json(await runPlan(planScheduledRun(c.get("registry"), run), c.env, topics));
});

schedules.get("/:id/runs", async (c) => {
  const schedule = await current(c);
  const { limit } = parseRunsQuery(c.req.query());
  return c.json({ schedule: schedule.id, runs: await c.env.TOPIC.getByName(schedule.topic).runs(limit) });
});

schedules.delete("/:id", async (c) => {
  const id = parseScheduleId(c.req.param("id"));
  if (!(await shardOf(c.env, id).remove(id))) throw unknown(id);
  return c.body(null, 204);
});

function scheduler(env: EdgebeatEnv): DurableObjectNamespace<SchedulerRpc> {
  if (env.SCHEDULER === undefined) {
    throw new ApiError(
      503,
      "not_configured",
      "Runtime schedules are off: bind the Scheduler class as SCHEDULER (docs/schedules.md).",
    );
  }
  return env.SCHEDULER;
}

function shardOf(env: EdgebeatEnv, id: string): DurableObjectStub<SchedulerRpc> {
  return scheduler(env).getByName(schedulerShardFor(env, id));
}

function putOptions(c: Context<AppEnv>, spec: ScheduleSpec, expectRevision: number | undefined): PutOptions {
  return { expectRevision, graceMs: scheduleGraceMs(c.get("registry"), spec.job) };
}

function scheduleContext(c: Context<AppEnv>): ScheduleContext {
  return { jobs: c.get("registry"), declared: staticTopicNames(declaredTopics(c.get("jobs"), c.env)) };
}

function unknown(id: string): ApiError {
  return new ApiError(404, "unknown_schedule", `No schedule "${id}": create it with PUT /schedules/${id}.`);
}

async function current(c: Context<AppEnv>): Promise<Schedule> {
  const id = parseScheduleId(c.req.param("id") ?? "");
  const schedule = await shardOf(c.env, id).get(id);
  if (schedule === null) throw unknown(id);
  return schedule;
}

function specOf({
  id: _i,
  state: _s,
  revision: _r,
  createdAt: _c,
  updatedAt: _u,
  nextRunAt: _n,
  nextRuns: _x,
  ...spec
}: Schedule): ScheduleSpec {
  return spec;
}

/** Reads, changes and saves a schedule at the revision it read; a change in between is read again (3 tries). */
async function change(c: Context<AppEnv>, edit: (schedule: Schedule) => ScheduleSpec): Promise<Schedule> {
  const expected = ifMatch(c);
  for (let attempt = 1; ; attempt++) {
    const schedule = await current(c);
    if (expected !== null && schedule.revision !== expected) throw precondition(schedule.id, schedule.revision);
    const spec = edit(schedule);
    const outcome = await shardOf(c.env, schedule.id).put(schedule.id, spec, putOptions(c, spec, schedule.revision));
    // Without If-Match a change made in between is read again; with it, the caller decides.
    if (!outcome.ok && outcome.conflict === "revision" && attempt < 3 && expected === null) continue;
    return saved(schedule.id, spec, outcome, expected !== null).schedule;
  }
}

/** `If-Match: <revision>` (quotes allowed): change the schedule only if it is still at that revision (0: does not exist yet). */
function ifMatch(c: Context<AppEnv>): number | null {
  const header = c.req.header("If-Match");
  if (header === undefined) return null;
  const match = /^"?(\d{1,15})"?$/.exec(header.trim());
  if (!match)
    throw new ApiError(
      400,
      "bad_if_match",
      "If-Match must be a schedule's revision, e.g. If-Match: 3 (0 for one that does not exist yet).",
    );
  return Number(match[1]);
}

function precondition(id: string, revision: number): ApiError {
  return new ApiError(
    412,
    "revision_mismatch",
    `Schedule ${id} is at revision ${revision}: read it again, then send the change with If-Match: ${revision}.`,
  );
}

function saved(id: string, spec: ScheduleSpec, outcome: PutOutcome, matched = false): { schedule: Schedule; created: boolean } {
  if (outcome.ok) return outcome;
  if (outcome.conflict === "topic") {
    throw new ApiError(
      409,
      "topic_taken",
      `Topic "${spec.topic}" belongs to schedule "${outcome.owner}": give schedule ${id} another topic.`,
    );
  }
  if (matched) throw precondition(id, outcome.revision);
  throw new ApiError(409, "schedule_changed", `Schedule ${id} kept changing while this request changed it: send it again.`);
}
