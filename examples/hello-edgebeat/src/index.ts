/** The Worker: edgebeat running this Worker's jobs, serving their topics and the page in public/. */
import { createEdgebeat } from "edgebeat";
import { jobs } from "./jobs";

const edgebeat = createEdgebeat({ jobs });

export { Topic, TopicShard } from "edgebeat";
export const { JobRunner } = edgebeat;
export default { fetch: edgebeat.fetch, scheduled: edgebeat.scheduled } satisfies ExportedHandler<Env>;
