/**
 * CORS for the read endpoints, so a page on another origin can read snapshots, history, /topics and
 * /jobs (and so the client can tell a final refusal, such as a 401 or 404, from an outage there).
 * The same allow-list as WebSocket upgrades: with ALLOWED_ORIGINS empty any origin may read.
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { listVar } from "../config";
import type { AppEnv } from "./env";

export function readCors(): MiddlewareHandler<AppEnv> {
  return cors({
    origin: (origin, c) => {
      const allowed = listVar((c.env as AppEnv["Bindings"]).ALLOWED_ORIGINS);
      if (allowed.length === 0) return "*";
      return allowed.includes(origin) ? origin : null;
    },
    allowMethods: ["GET", "HEAD"],
    exposeHeaders: ["Retry-After"],
    maxAge: 600,
  });
}
