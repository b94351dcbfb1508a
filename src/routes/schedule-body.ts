/**
 * The schedules API's inputs: the `PUT` and `PATCH` bodies (zod for their shape, then the checks
 * that need the registry: the job, its params, cron or every, the timezone, the topic), and the
 * list and preview queries. Every refusal is a 4xx ApiError whose message names the fix.
 */
import { z } from "zod";
import { isTopicName, type Json } from "../client/protocol";
import type { Schedule } from "../client/schedule";
import type { Job } from "../cron/job";
import { timingOf } from "../cron/local-time";
import type { ScheduleSpec } from "../durable/scheduler-rpc";
import { ApiError } from "./errors";
import { checkComputable, checkTiming, LATEST_TIME } from "./schedule-timing";
import { parseJsonBody, parseQuery, wholeQuery } from "./validate";

/** A schedule id: what `PUT /schedules/:id` names, chosen by the caller. */
export const SCHEDULE_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** The largest schedules API body, in bytes. */
export const MAX_SCHEDULE_BYTES = 16 * 1024;
/** The largest params, as JSON. */
const MAX_PARAMS_BYTES = 4 * 1024;
/** The default (and the largest) number of missed slots `missed: "all"` runs. */
export const DEFAULT_MISSED_LIMIT = 100;
const MAX_MISSED_LIMIT = 1_000;

const epochMs = z
  .number({ error: "must be epoch milliseconds (a number)" })
  .int("must be whole epoch milliseconds")
  .min(0, "must be from 0")
  .max(LATEST_TIME, "must be before 2100-01-01");

const fields = z.strictObject(
  {
    job: z
      .string({ error: "must be a job's name" })
      .min(1, "must not be empty")
      .max(64, "must be at most 64 characters")
      .optional(),
    params: z.custom<Json>((value) => value !== undefined).optional(),
    cron: z.string({ error: "must be a 5-field cron" }).max(200, "must be at most 200 characters").nullable().optional(),
    every: z.string({ error: 'must be an interval like "30s"' }).max(32, "must be at most 32 characters").nullable().optional(),
    timezone: z.string({ error: 'must be an IANA time zone like "Europe/Berlin"' }).optional(),
    missed: z.enum(["skip", "latest", "all"], { error: 'must be "skip", "latest" or "all"' }).optional(),
    missedLimit: z
      .number({ error: "must be a number" })
      .int("must be a whole number")
      .min(1, "must be from 1")
      .max(MAX_MISSED_LIMIT, `must be at most ${MAX_MISSED_LIMIT}`)
      .optional(),
    startAt: epochMs.nullable().optional(),
    endAt: epochMs.nullable().optional(),
    enabled: z.boolean({ error: "must be true or false" }).optional(),
    topic: z.string({ error: "must be a topic name" }).optional(),
    private: z.boolean({ error: "must be true or false" }).optional(),
    whileWatched: z.boolean({ error: "must be true or false" }).optional(),
  },
  { error: "must be a JSON object of schedule fields" },
);

type Fields = z.output<typeof fields>;

/** What the checks need besides the body: the registry and the topics code and configuration declare. */
export interface ScheduleContext {
  jobs: readonly Job[];
  declared: ReadonlySet<string>;
}

export function parseScheduleId(id: string): string {
  if (!SCHEDULE_ID.test(id)) {
    throw new ApiError(
      400,
      "bad_id",
      `"${id.slice(0, 80)}" is not a schedule id: use 1-64 of a-z 0-9 . _ - starting with a letter or digit.`,
    );
  }
  return id;
}

/** A `PUT` body: a whole schedule, defaults filled in. */
export function parsePutBody(id: string, text: string, context: ScheduleContext): ScheduleSpec {
  const body = parseJsonBody(fields, text);
  if (body.job === undefined) throw new ApiError(400, "bad_job", 'Field "job" is required: name the job to run.');
  return checkSpec(id, { ...defaults(id, body.job), ...withoutUndefined(body), job: body.job }, body, context);
}

/** A `PATCH` body applied to the schedule it changes; giving `cron` clears `every` and the reverse. */
export function parsePatchBody(id: string, text: string, current: Schedule, context: ScheduleContext): ScheduleSpec {
  const body = parseJsonBody(fields, text);
  const {
    id: _id,
    state: _state,
    revision: _revision,
    createdAt: _c,
    updatedAt: _u,
    nextRunAt: _n,
    nextRuns: _r,
    ...spec
  } = current;
  const cadence = body.cron != null ? { every: null } : body.every != null ? { cron: null } : {};
  return checkSpec(id, { ...spec, ...cadence, ...withoutUndefined(body) }, body, context);
}

function defaults(id: string, job: string): Omit<ScheduleSpec, "job" | "cron" | "every"> & { cron: null; every: null } {
  return {
    params: null,
    cron: null,
    every: null,
    timezone: "UTC",
    missed: "skip",
    missedLimit: DEFAULT_MISSED_LIMIT,
    startAt: null,
    endAt: null,
    enabled: true,
    topic: `${job}.${id}`,
    private: false,
    whileWatched: false,
  };
}

function withoutUndefined(body: Fields): Partial<ScheduleSpec> {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) as Partial<ScheduleSpec>;
}

/** The checks that span fields or need the registry, on a merged spec; `given` says which fields the body named. */
function checkSpec(id: string, spec: ScheduleSpec, given: Fields, { jobs, declared }: ScheduleContext): ScheduleSpec {
  const job = jobs.find((candidate) => candidate.name === spec.job);
  if (job === undefined) {
    const schedulable = jobs.filter((candidate) => candidate.params !== null).map((candidate) => `"${candidate.name}"`);
    throw new ApiError(
      400,
      "unknown_job",
      `No job "${spec.job.slice(0, 64)}": schedule one of ${schedulable.join(", ") || "no job (none takes params)"}.`,
    );
  }
  if (job.params === null) {
    throw new ApiError(
      400,
      "job_not_schedulable",
      `Job "${job.name}" takes no params, so it runs only on its static schedule: give it a params schema to schedule it.`,
    );
  }
  const params = job.params.safeParse(spec.params ?? undefined);
  if (!params.success) {
    const issue = params.error.issues[0];
    const where = issue?.path.length ? ` at "${issue.path.join(".")}"` : "";
    throw new ApiError(400, "bad_params", `Field "params"${where} ${issue?.message ?? "is invalid"} (job "${job.name}").`);
  }
  if (JSON.stringify(spec.params ?? null).length > MAX_PARAMS_BYTES) {
    throw new ApiError(400, "bad_params", `Field "params" must be at most ${MAX_PARAMS_BYTES} bytes of JSON.`);
  }
  if ((spec.cron === null) === (spec.every === null)) {
    throw new ApiError(
      400,
      "bad_schedule",
      'Give exactly one of "cron" (5 fields, e.g. "*/5 * * * *") and "every" (e.g. "30s").',
    );
  }
  checkTiming(spec);
  if (spec.startAt !== null && spec.endAt !== null && spec.endAt <= spec.startAt) {
    throw new ApiError(400, "bad_endAt", 'Field "endAt" must be after "startAt".');
  }
  checkComputable(timingOf(spec), Date.now());
  if (!isTopicName(spec.topic)) {
    const hint = given.topic === undefined ? ` (the default, "<job>.<id>", is too long here: give "topic")` : "";
    throw new ApiError(
      400,
      "bad_topic",
      `"${spec.topic.slice(0, 80)}" is not a topic name${hint}: use 1-64 of a-z 0-9 . _ - starting with a letter or digit.`,
    );
  }
  if (declared.has(spec.topic)) {
    throw new ApiError(
      409,
      "topic_declared",
      `Topic "${spec.topic}" is declared by a job or TOPICS: give schedule ${id} a topic of its own.`,
    );
  }
  return { ...spec, params: (params.data ?? null) as Json | null };
}

/** The topics code and configuration declare: a schedule may not take one. */
export function staticTopicNames(topics: readonly { topic: string }[]): Set<string> {
  return new Set(topics.map((info) => info.topic));
}

const listQuery = z.object({
  job: z.string().max(64, "must be at most 64 characters").optional(),
  cursor: z.string().regex(SCHEDULE_ID, "must be a cursor from an earlier page").optional(),
  limit: wholeQuery.refine((n) => n >= 1 && n <= 200, "must be from 1 to 200").default(50),
});

export function parseListQuery(query: Record<string, string>): z.output<typeof listQuery> {
  return parseQuery(listQuery, query);
}
