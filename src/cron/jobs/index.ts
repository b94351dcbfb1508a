/** The job registry: every job edgebeat runs. `wrangler.toml [triggers] crons` lists exactly their schedules. */
import type { Job } from "../../edgebeat";
import { events } from "./events";
import { feed } from "./feed";
import { pulse } from "./pulse";
import { system } from "./system";
import { uptime } from "./uptime";

export const JOBS: readonly Job[] = [system, uptime, pulse, events, feed];
