import type { Job, JobInfo } from "../cron/job";
import type { EdgebeatEnv } from "../env";

/** The Hono environment of every route: the bindings edgebeat needs, the jobs with a static schedule, and every job. */
export type AppEnv = { Bindings: EdgebeatEnv; Variables: { jobs: readonly JobInfo[]; registry: readonly Job[] } };
