/**
 * `system`: live subscriber and publish counts of every declared public topic, read from the
 * topic objects. Private topics are left out: `system` itself is public.
 */
import type { SystemValue } from "../../client/protocol";
import { defineJob } from "../../edgebeat";

export const system = defineJob<SystemValue>({
  name: "system",
  topic: "system",
  schedule: "* * * * *",
  timeoutMs: 10_000,
  async compute({ env, topics }) {
    const counts = await Promise.all(
      topics
        .filter((info) => !info.private)
        .map(async ({ topic }) => ({ topic, ...(await env.TOPIC.getByName(topic).counts()) })),
    );
    return { topics: counts };
  },
});
