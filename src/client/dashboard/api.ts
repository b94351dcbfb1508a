/** The HTTP answers the dashboard reads (README "HTTP API"), and one way to fetch them. */
import type { JobStatus as JobInfo, MetricFrame, TopicInfo } from "../protocol";
import type { Schedule } from "../schedule";

export type { JobStatus as JobInfo, TopicInfo } from "../protocol";
export type { Schedule } from "../schedule";

/** A non-2xx answer: its status and the error envelope's code, so a caller can tell a refused token from an outage. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  /** The envelope's message alone (the server's words, naming the fix). */
  readonly reason: string;

  constructor(path: string, status: number, code: string | undefined, reason: string) {
    super(`${path} answered ${status}: ${reason}`);
    this.status = status;
    this.code = code;
    this.reason = reason;
  }
}

/**
 * GETs a same-origin JSON resource; throws an HttpError with the error envelope's message on a
 * non-2xx answer. A `token` goes in the Authorization header only: never in the URL, never in the error.
 */
export async function getJson<T>(path: string, { timeoutMs = 10_000, token = "" } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token !== "") headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { headers, signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new HttpError(path, response.status, body?.error?.code, body?.error?.message ?? response.statusText);
  }
  return (await response.json()) as T;
}

export async function getTopics(): Promise<TopicInfo[]> {
  return (await getJson<{ topics: TopicInfo[] }>("/topics")).topics;
}

export async function getJobs(): Promise<JobInfo[]> {
  return (await getJson<{ jobs: JobInfo[] }>("/jobs")).jobs;
}

/** Up to `limit` kept metrics of `topic` with seq > `since`, oldest first. */
export async function getHistory(topic: string, since: number, limit: number): Promise<MetricFrame[]> {
  const path = `/topics/${encodeURIComponent(topic)}/history?since=${since}&limit=${limit}`;
  return (await getJson<{ messages: MetricFrame[] }>(path)).messages;
}

/** `GET /schedules` pages the schedules by id; the dashboard reads at most this many. */
export const MAX_SCHEDULES = 500;
const SCHEDULES_PAGE = 200;

/** The first MAX_SCHEDULES runtime schedules in id order, and whether there are more (bearer ADMIN_TOKEN). */
export async function getSchedules(token: string): Promise<{ schedules: Schedule[]; more: boolean }> {
  const schedules: Schedule[] = [];
  let cursor: string | null = null;
  do {
    const limit = Math.min(SCHEDULES_PAGE, MAX_SCHEDULES - schedules.length);
    const query: string = `limit=${limit}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
    const page: { schedules: Schedule[]; cursor: string | null } = await getJson(`/schedules?${query}`, { token });
    schedules.push(...page.schedules);
    cursor = page.cursor;
  } while (cursor !== null && schedules.length < MAX_SCHEDULES);
  return { schedules, more: cursor !== null };
}
