/** The one error envelope: `{"error": {"code", "message"}}` with the right status, built in one place. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** A client mistake with a stable snake_case `code` and a human sentence. */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, { message });
  }
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

const CODES_BY_STATUS: Partial<Record<number, string>> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  413: "payload_too_large",
};

/** Hono's `onError`: envelopes every error; no stack trace ever leaves the Worker. */
export function onError(error: Error, c: Context): Response {
  if (error instanceof ApiError) {
    // One line per rejection, at info level: a client's mistake is routine, not a warning about the
    // Worker. The path has no query string, so tokens never reach the logs.
    console.log(
      JSON.stringify({ event: "rejected", status: error.status, code: error.code, method: c.req.method, path: c.req.path }),
    );
    return c.json(errorBody(error.code, error.message), error.status, error.headers);
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    return c.json(errorBody(CODES_BY_STATUS[status] ?? "http_error", error.message || "The request was refused."), status);
  }
  console.error(JSON.stringify({ event: "unhandled_error", path: c.req.path, error: `${error.name}: ${error.message}` }));
  return c.json(errorBody("internal_error", "Something went wrong on our side; the request changed nothing we know of."), 500);
}

export function notFound(c: Context): Response {
  return c.json(errorBody("not_found", `No route for ${c.req.method} ${c.req.path}.`), 404);
}
