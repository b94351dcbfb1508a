/** The Hono app: one sub-app per resource, one error envelope. */
import { Hono } from "hono";
import type { JobInfo } from "../cron/job";
import { readCors } from "./cors";
import type { AppEnv } from "./env";
import { notFound, onError } from "./errors";
import { jobs as jobRoutes } from "./jobs";
import { metrics } from "./metrics";
import { topics } from "./topics";

export function createApp(jobs: readonly JobInfo[]): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set("jobs", jobs);
    await next();
  });
  // Reads are open to the origins ALLOWED_ORIGINS admits; publishing stays server-to-server.
  for (const path of ["/health", "/topics", "/topics/*", "/jobs", "/jobs/*"]) app.use(path, readCors());
  app.get("/health", (c) => c.json({ ok: true }));
  app.route("/topics", topics);
  app.route("/jobs", jobRoutes);
  app.route("/metrics", metrics);
  app.notFound(notFound);
  app.onError(onError);
  return app;
}
