/**
 * The jobs and topics the workerd tests expect, read from the registry (src/cron/jobs) and the test
 * env's vars instead of written out: adding a job changes what the tests expect, not the tests.
 */
import { env } from "cloudflare:workers";
import type { TopicInfo } from "../../src/client/protocol";
import { declaredTopics } from "../../src/config";
import { isStatic, type StaticJob } from "../../src/cron/job";
import { JOBS as REGISTRY } from "../../src/cron/jobs";

/** The jobs with a static schedule (the ones Cron Triggers run), in registry order. */
export const JOBS: readonly StaticJob[] = REGISTRY.filter(isStatic);

/** Every declared topic, in the order `GET /topics` and `/metrics` list them: job topics, then `TOPICS`. */
export const TOPICS: readonly TopicInfo[] = declaredTopics(JOBS, env);

/** The jobs a firing of `cron` runs. A sub-minute job on that cron is only watched: its topic's alarm runs it. */
export function jobsRunBy(cron: string): StaticJob[] {
  return JOBS.filter((job) => job.schedule === cron && job.every === null);
}

/** The jobs that run on their cron (not sub-minute), in registry order. */
export const CRON_JOBS: readonly StaticJob[] = JOBS.filter((job) => job.every === null);

/** A public declared topic no job feeds: one that takes POST publishes. */
export function postedTopic(): string {
  const info = TOPICS.find((candidate) => candidate.job === null && !candidate.private);
  if (!info) throw new Error("The tests need a public topic without a job: list one in TOPICS (and not in PRIVATE_TOPICS)");
  return info.topic;
}
