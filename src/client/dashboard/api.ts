/** The HTTP answers the dashboard reads (README "HTTP API"), and one way to fetch them. */
import type { JobStatus as JobInfo, MetricFrame, TopicInfo } from "../protocol";

export type { JobStatus as JobInfo, TopicInfo } from "../protocol";

/** GETs a same-origin JSON resource; throws with the error envelope's message on a non-2xx answer. */
export async function getJson<T>(path: string, { timeoutMs = 10_000 } = {}): Promise<T> {
  const response = await fetch(path, { headers: { Accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(`${path} answered ${response.status}: ${body?.error?.message ?? response.statusText}`);
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
