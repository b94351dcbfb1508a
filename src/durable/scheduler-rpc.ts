/**
 * The Scheduler object's RPC surface and the shapes it takes and returns. A Scheduler shard owns
 * the runtime schedules whose id hashes to it (their timing, on its one alarm), and the topic
 * claims whose topic hashes to it (so two schedules never share a topic). Imports nothing from src/durable.
 */
import type { Json, TopicInfo } from "../client/protocol";
import type { Schedule } from "../client/schedule";

/**
 * What a schedule is, as the routes validated it: the API's fields but its id and bookkeeping
 * (`whileWatched` optional: schedules saved before it existed lack it, and read as false).
 */
export type ScheduleSpec = Omit<
  Schedule,
  "id" | "state" | "revision" | "createdAt" | "updatedAt" | "nextRunAt" | "nextRuns" | "whileWatched"
> &
  Partial<Pick<Schedule, "whileWatched">>;

/** What a job needs to know to run one slot of a schedule; the Scheduler hands it to the JobRunner. */
export interface ScheduledRun {
  scheduleId: string;
  job: string;
  params: Json | null;
  topic: string;
  slot: number;
  runId: string;
  /** The schedule's slot after this one (its end, when none is left): the topic's freshness deadline. */
  nextExpectedAt: number;
  whileWatched?: boolean;
}

/** Slots a schedule passed over (downtime, a late alarm), recorded at its topic as one `skipped` row. */
export interface SkippedRuns {
  runId: string;
  job: string;
  firstSlot: number;
  count: number;
  reason: string;
}

/** How a put is made: only if the schedule is still at `expectRevision`, when given; `graceMs` is its job's (how late a run may be). */
export interface PutOptions {
  expectRevision?: number;
  graceMs: number;
}

export type PutOutcome =
  | { ok: true; schedule: Schedule; created: boolean }
  /** `topic`: another schedule holds the topic; `revision`: the schedule changed since the caller read it. */
  | { ok: false; conflict: "topic"; owner: string }
  | { ok: false; conflict: "revision"; revision: number };

/** A page of schedules in id order; `more` when ids after the last one exist on this shard. */
export interface SchedulePage {
  schedules: Schedule[];
  more: boolean;
}

/** What the `* * * * *` heartbeat did to one shard: its alarm was healthy, or it re-armed it. */
export interface HeartbeatReport {
  shard: string;
  schedules: number;
  rearmed: boolean;
  alarm: number | null;
}

/** The topic a runtime schedule claims, as `GET /topics` lists it. */
export type TopicClaim = TopicInfo & { scheduleId: string };

export interface SchedulerRpc extends Rpc.DurableObjectBranded {
  /** Creates or replaces schedule `id` (idempotent); with `expectRevision`, only if it is still at that revision. */
  put(id: string, spec: ScheduleSpec, options: PutOptions): Promise<PutOutcome>;
  get(id: string): Promise<Schedule | null>;
  /** Schedules with id after `after`, in id order, of `job` when given. */
  list(query: { job: string | null; after: string | null; limit: number }): Promise<SchedulePage>;
  /** How many schedules each job has on this shard. */
  countByJob(): Promise<Record<string, number>>;
  /** Deletes schedule `id`: nothing of it runs again; its topic is no longer declared. False when there was none. */
  remove(id: string): Promise<boolean>;
  /** The `* * * * *` heartbeat: re-arms this shard's alarm if it is missing or overdue. */
  heartbeat(): Promise<HeartbeatReport>;
  /** The schedule-owned topic named `topic`, if a schedule holds it (asked of the shard `topic` hashes to). */
  topicInfo(topic: string): Promise<TopicClaim | null>;
  /** Every topic this shard's claims hold. */
  listTopics(): Promise<TopicClaim[]>;
  /** @internal Claims `topic` for schedule `claim.scheduleId`, or names the schedule that holds it. */
  claimTopic(claim: TopicClaim): Promise<{ ok: true } | { ok: false; owner: string }>;
  /** @internal Lets go of `topic` if schedule `scheduleId` holds it. */
  releaseTopic(topic: string, scheduleId: string): Promise<void>;
}
