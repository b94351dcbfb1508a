import type { JobInfo } from "../config";

/** The Hono environment of every route: the Worker's bindings and the declared jobs. */
export type AppEnv = { Bindings: Env; Variables: { jobs: readonly JobInfo[] } };
