/**
 * This Worker's jobs: one, publishing how many browsers watch its own topic, once a minute. They import
 * from `edgebeat/job`, which needs no Workers runtime, so a plain Node test can load them.
 */
import { defineJob, type Job } from "edgebeat/job";

export type AudienceValue = { subscribers: number; minute: string };

export const audience = defineJob<AudienceValue, Env>({
  name: "audience",
  topic: "audience",
  schedule: "* * * * *",
  timeoutMs: 5_000,
  async compute({ env, scheduledTime }) {
    const { subscribers } = await env.TOPIC.getByName("audience").counts();
    return { subscribers, minute: new Date(scheduledTime).toISOString().slice(11, 16) };
  },
});

export const jobs: readonly Job[] = [audience];
