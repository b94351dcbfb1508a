/** Who may publish (a bearer token), who may read a private topic (a signed HS256 JWT), and from which origins. */

import type { Context } from "hono";
import { errors as joseErrors, jwtVerify } from "jose";
import { listVar } from "../config";
import type { EdgebeatEnv } from "../env";
import type { AppEnv } from "./env";
import { ApiError } from "./errors";

const encoder = new TextEncoder();

/** Compares secrets in constant time: both sides are hashed first, so lengths leak nothing either. */
async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([given, expected].map((text) => crypto.subtle.digest("SHA-256", encoder.encode(text))));
  return crypto.subtle.timingSafeEqual(a as ArrayBuffer, b as ArrayBuffer);
}

/** The parts of a request context the publish check reads (any Hono context has them). */
export interface PublishRequest {
  env: Pick<EdgebeatEnv, "PUBLISH_TOKEN">;
  req: { header(name: string): string | undefined };
}

/** Requires `Authorization: Bearer $PUBLISH_TOKEN`; anything else is 401 (503 while the secret is unset). */
export async function requirePublishToken(c: PublishRequest): Promise<void> {
  await requireBearer(c, c.env.PUBLISH_TOKEN, "publish", "Publishing is disabled: the PUBLISH_TOKEN secret is not set.");
}

/** Requires `Authorization: Bearer $ADMIN_TOKEN` for the schedules API; anything else is 401 (503 while the secret is unset). */
export async function requireAdminToken(c: { env: Pick<EdgebeatEnv, "ADMIN_TOKEN">; req: PublishRequest["req"] }): Promise<void> {
  await requireBearer(c, c.env.ADMIN_TOKEN, "admin", "The schedules API is closed: the ADMIN_TOKEN secret is not set.");
}

async function requireBearer(
  c: { req: PublishRequest["req"] },
  expected: string | undefined,
  kind: "publish" | "admin",
  unset: string,
): Promise<void> {
  if (!expected) throw new ApiError(503, "not_configured", unset);
  const header = c.req.header("Authorization") ?? "";
  const match = /^Bearer (\S+)$/.exec(header);
  if (!match) {
    throw new ApiError(401, "token_required", `Send the ${kind} token as \`Authorization: Bearer <token>\`.`, {
      "WWW-Authenticate": 'Bearer realm="edgebeat"',
    });
  }
  if (!(await secretsEqual(match[1] as string, expected))) {
    throw new ApiError(401, "token_invalid", `The ${kind} token is not valid.`, {
      "WWW-Authenticate": 'Bearer error="invalid_token"',
    });
  }
}

/**
 * Requires a subscribe token (`?token=`) for a private topic: an HS256 JWT signed with
 * SUBSCRIBE_SECRET, with `exp` and a `topic` (or `topics`) claim naming this topic.
 */
export async function requireSubscribeToken(c: Context<AppEnv>, topic: string): Promise<void> {
  await requireSubscribeTokenFor(c, [topic]);
}

/** Requires one subscribe token (`?token=`) that grants every topic of `topics` (private ones; none: nothing to check). */
export async function requireSubscribeTokenFor(c: Context<AppEnv>, topics: readonly string[]): Promise<void> {
  const [first] = topics;
  if (first === undefined) return;
  const secret = c.env.SUBSCRIBE_SECRET;
  if (!secret) {
    throw new ApiError(503, "not_configured", "Private topics are closed: the SUBSCRIBE_SECRET secret is not set.");
  }
  const token = c.req.query("token");
  if (!token) throw new ApiError(401, "token_required", `Topic "${first}" is private: pass a subscribe token as ?token=.`);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, encoder.encode(secret), { algorithms: ["HS256"], requiredClaims: ["exp"] }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new ApiError(401, "token_expired", "The subscribe token has expired.");
    throw new ApiError(401, "token_invalid", "The subscribe token is not valid: it must be an HS256 JWT with exp.");
  }
  const grants = [payload.topic, ...(Array.isArray(payload.topics) ? payload.topics : [])];
  for (const topic of topics) {
    if (!grants.some((grant) => typeof grant === "string" && grantsTopic(grant, topic)))
      throw new ApiError(403, "token_wrong_topic", `The subscribe token does not grant topic "${topic}".`);
  }
}

/** Whether a token's `topic`/`topics` entry grants `topic`: the same name, or a prefix ending in `*` (`uptime.acme-*`). */
function grantsTopic(grant: string, topic: string): boolean {
  return grant.endsWith("*") ? topic.startsWith(grant.slice(0, -1)) : grant === topic;
}

/** A subscriber (socket or stream) from an Origin that ALLOWED_ORIGINS does not list is refused with 403. */
export function requireAllowedOrigin(c: Context<AppEnv>): void {
  const origin = c.req.header("Origin");
  const allowed = listVar(c.env.ALLOWED_ORIGINS);
  if (origin !== undefined && allowed.length > 0 && !allowed.includes(origin)) {
    throw new ApiError(403, "origin_not_allowed", `Origin ${origin} may not subscribe; see ALLOWED_ORIGINS.`);
  }
}
