import type { JobInfo } from "../cron/job";
import type { EdgebeatEnv } from "../env";

/** The Hono environment of every route: the bindings edgebeat needs and the declared jobs. */
export type AppEnv = { Bindings: EdgebeatEnv; Variables: { jobs: readonly JobInfo[] } };
