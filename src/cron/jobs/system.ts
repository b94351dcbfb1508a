/** `system`: live subscriber and publish counts of every declared topic, read from the topic objects. */
import type { SystemValue } from "../../client/protocol";
import { defineJob } from "../job";

export const system = defineJob<SystemValue>({
  name: "system",
  topic: "system",
  schedule: "* * * * *",
  timeoutMs: 10_000,
  async compute({ env, topics }) {
    const counts = await Promise.all(
      topics.map(async ({ topic }) => ({ topic, ...(await env.TOPIC.getByName(topic).counts()) })),
    );
    return { topics: counts };
  },
});
