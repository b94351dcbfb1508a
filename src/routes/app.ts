/** The Hono app: one sub-app per resource, one error envelope. */
import { Hono } from "hono";
import { isStatic, type Job } from "../cron/job";
import { readCors } from "./cors";
import type { AppEnv } from "./env";
import { notFound, onError } from "./errors";
import { jobs as jobRoutes } from "./jobs";
import { metrics } from "./metrics";
import { multiplex } from "./multiplex";
import { schedules } from "./schedules";
import { topics } from "./topics";

export function createApp(registry: readonly Job[]): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const jobs = registry.filter(isStatic);
  app.use(async (c, next) => {
    c.set("jobs", jobs);
    c.set("registry", registry);
    await next();
  });
  // Reads are open to the origins ALLOWED_ORIGINS admits; publishing stays server-to-server.
  const cors = readCors();
  for (const path of ["/health", "/topics", "/topics/*", "/jobs", "/jobs/*", "/history"]) app.use(path, cors);
  // GET /events is the multiplexed stream; a POST there is the app's own route (this repo's events job), left alone.
  app.use("/events", (c, next) => (c.req.method === "POST" ? next() : cors(c, next)));
  app.get("/health", (c) => c.json({ ok: true }));
  app.route("/topics", topics);
  app.route("/", multiplex);
  app.route("/jobs", jobRoutes);
  app.route("/metrics", metrics);
  app.route("/schedules", schedules);
  app.notFound(notFound);
  app.onError(onError);
  return app;
}
