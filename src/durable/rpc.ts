/**
 * The RPC surfaces of the Topic and TopicShard objects, and the shapes they take and return. The
 * bindings are typed with these interfaces (src/env.ts), so a stub from `env.TOPIC.getByName()`
 * has its methods' types without anything importing the classes. Imports nothing from src/durable.
 */
import type { Json, MetricFrame, RunRecord, RunStatus, TopicSnapshot, TopicState } from "../client/protocol";
import type { SkippedRuns } from "./scheduler-rpc";

/** How long a job run took; given with every publish or failure that a job (not HTTP) makes. */
export interface RunFacts {
  startedAt: number;
  durationMs: number;
  attempts: number;
}

/** A publish as the Worker hands it over. Exactly one of `runId` (a job run) or `id` (HTTP) dedupes it. */
export interface PublishInput {
  value: Json;
  runId?: string;
  id?: string;
  job?: string;
  scheduledTime?: number;
  nextExpectedAt?: number;
  /** With `nextExpectedAt`: how long after it the topic turns stale if no run arrives. */
  graceMs?: number;
  run?: RunFacts;
}

/** A page of kept metrics, with the epoch they belong to and the topic's status (long-poll clients read both). */
export interface HistoryPage {
  epoch: string;
  status: TopicState;
  detail: string;
  messages: MetricFrame[];
}

/** A slot of a job that runs only while watched, as its topic needs it to rest through it. */
export interface RestingSlot {
  runId: string;
  job: string;
  scheduledTime: number;
  nextExpectedAt: number;
  graceMs: number;
}

/** A resumed runtime schedule's next slot, as its topic expects it: `scheduledTime` is when it resumed. */
export interface ExpectedRun {
  scheduledTime: number;
  nextExpectedAt: number;
  graceMs: number;
}

/** A job run that produced no value; recorded in the ledger and turns the topic `failing`. */
export interface FailedRun {
  runId: string;
  job: string;
  scheduledTime: number;
  nextExpectedAt: number;
  graceMs: number;
  run: RunFacts;
  error: string;
}

export interface PublishResult {
  topic: string;
  seq: number;
  duplicate: boolean;
}

/** A sub-minute job's cadence: its topic's alarm runs a slot of `job` every `everyMs`. */
export interface TickData {
  job: string;
  everyMs: number;
  graceMs: number;
}

/** What the cadence watchdog did: re-armed the tick or found it healthy, and the slot it runs next. */
export interface CadenceReport {
  rearmed: boolean;
  nextSlot: number;
}

/** What /jobs shows of the job that feeds this topic. */
export interface JobHealth {
  lastRun: RunRecord | null;
  lastSuccessAt: number | null;
  status: TopicState;
  detail: string;
  /** The next sub-minute slot, when this topic runs one. */
  nextTickAt: number | null;
}

/** The ledger's monotonic counters (src/durable/ledger.ts keeps them). */
export type Counter = "published" | "duplicates" | `runs_${RunStatus}` | "run_duration_ms_sum";

/** What /metrics shows of this topic. */
export interface TopicMetrics {
  subscribers: number;
  seq: number;
  status: TopicState;
  updatedAt: number | null;
  counters: Record<Counter, number>;
  lastRun: RunRecord | null;
}

/** The join frames a shard sends a subscriber it accepts, and the seq and epoch they end at. */
export interface ShardJoin {
  frames: string[];
  seq: number;
  epoch: string;
}

/** What the Worker (routes, cron, jobs) calls on a topic's owner object. */
export interface TopicRpc extends Rpc.DurableObjectBranded, TopicInternalRpc {
  /** Stores a metric as seq + 1 and sends it to every subscriber; a `runId` or `id` seen before returns its earlier seq and sends nothing. */
  publish(input: PublishInput): Promise<PublishResult>;
  /** Records a job run that failed after its retries; the topic turns `failing` unless its slot already published. */
  recordFailure(failure: FailedRun): Promise<void>;
  /**
   * For a job that runs only while watched: true when the topic has a subscriber (socket or stream),
   * so the slot runs; else records the slot as rested, moves the deadline on (an unwatched topic is
   * not stale) and answers false.
   */
  watchedOrRest(slot: RestingSlot): Promise<boolean>;
  /**
   * A runtime schedule resumed: the topic expects its next slot (a freshness deadline at
   * `next.nextExpectedAt + next.graceMs`, never earlier than one it has). Or it stopped (`next`
   * null: paused or deleted), so nothing is meant to run and the topic has no deadline. `detail` says which.
   */
  scheduleChanged(detail: string, next: ExpectedRun | null): Promise<void>;
  /** Records slots a runtime schedule passed over as one `skipped` ledger row (once per runId). */
  recordSkipped(skipped: SkippedRuns): Promise<void>;
  /** The sub-minute cadence's watchdog: arms the tick if it is missing, changed or overdue, else changes nothing. */
  ensureCadence(tick: TickData): Promise<CadenceReport>;
  /** The topic as a client would see it now: latest seq and metric, subscribers, status. */
  snapshot(): Promise<TopicSnapshot>;
  /** Live counts for the `system` job, without the latest value. */
  counts(): Promise<{ subscribers: number; published: number }>;
  /** Kept metric frames with `seq > since`, oldest first, at most `limit` of them. */
  history(since: number, limit: number): Promise<MetricFrame[]>;
  /** History with the epoch and status; with `waitMs`, when none is kept yet, waits up to that long for one (long-poll). */
  poll(since: number, limit: number, waitMs?: number): Promise<HistoryPage>;
  /** The run ledger, newest first. */
  runs(limit: number): Promise<RunRecord[]>;
  /** The feeding job's last run, last success, status and next tick. */
  jobHealth(): Promise<JobHealth>;
  /** Counters and gauges for /metrics. */
  metrics(): Promise<TopicMetrics>;
}

/**
 * @internal The Topic methods only its shards call (named `…ForShard`). They are RPC methods
 * because shards are other objects, but they are not part of edgebeat's API.
 */
export interface TopicInternalRpc {
  /** @internal The join frames of a subscriber a shard is accepting, and the seq they end at. */
  joinForShard(since: number | null, epoch: string | null): Promise<ShardJoin>;
  /** @internal Kept metric frames with `since < seq <= to`, as stored (serialized), oldest first. */
  framesForShard(since: number, to: number): Promise<string[]>;
}

/**
 * @internal The TopicShard object's methods: only its topic's owner calls them (named `…FromOwner`,
 * `…ForOwner`). Subscribers reach a shard through `fetch` (the upgrade), never through these.
 */
export interface TopicShardRpc extends Rpc.DurableObjectBranded {
  /** @internal Sends a frame from the owner to the shard's sockets, in seq order, fetching any frame it missed. */
  deliverFromOwner(seq: number | null, text: string, epoch: string, first?: number | null): Promise<void>;
  /** @internal Open sockets on the shard. */
  countForOwner(): Promise<number>;
}
