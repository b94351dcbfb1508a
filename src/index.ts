/** The Worker: edgebeat with this app's demo jobs, plus the `POST /events` ingest the events job counts. */

import { JOBS } from "./cron/jobs";
import { eventRoutes } from "./cron/jobs/events";
import { createEdgebeat } from "./edgebeat";

const edgebeat = createEdgebeat({ jobs: JOBS });
edgebeat.app.route("/events", eventRoutes);

// The Durable Object classes are exported as classes (not read off `edgebeat`) so that `wrangler types`
// can name them as types in the generated Env.
export { Scheduler, Topic, TopicShard } from "./edgebeat";
export const { JobRunner } = edgebeat;
export default { fetch: edgebeat.fetch, scheduled: edgebeat.scheduled } satisfies ExportedHandler<Env>;
