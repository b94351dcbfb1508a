/** The Worker entry: wires the HTTP app, the scheduled handler and the Durable Object classes. */
import { JOBS } from "./cron/jobs";
import { scheduled } from "./cron/scheduled";
import { createApp } from "./routes/app";

export { JobRunner } from "./cron/entrypoint";
export { TopicShard } from "./durable/shard";
export { Topic } from "./durable/topic";

const app = createApp(JOBS);

export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<Env>;
