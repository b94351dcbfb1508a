/** The schedules API's answer (`PUT`/`GET /schedules/:id`), a JSON shape clients read; protocol.ts re-exports it. */
import type { Json } from "./protocol";

/** What a runtime schedule does with slots it missed (downtime, a late alarm): see docs/schedules.md. */
export type MissedPolicy = "skip" | "latest" | "all";

/** `active` runs; `paused` is disabled (`enabled: false`); `ended` has no slot left before `endAt`. */
export type ScheduleState = "active" | "paused" | "ended";

/** A runtime schedule as `PUT`/`GET /schedules/:id` answer it. Times are epoch ms. */
export interface Schedule {
  id: string;
  job: string;
  params: Json | null;
  /** Exactly one of `cron` (5 fields, read in `timezone`) and `every` ("30s", aligned to startAt or the epoch). */
  cron: string | null;
  every: string | null;
  timezone: string;
  missed: MissedPolicy;
  /** With `missed: "all"`, the most missed slots one catch-up runs (the newest ones). */
  missedLimit: number;
  startAt: number | null;
  endAt: number | null;
  enabled: boolean;
  topic: string;
  private: boolean;
  /** Runs a slot only while its topic has a subscriber; other slots are `rested` in the ledger. */
  whileWatched: boolean;
  state: ScheduleState;
  /** Counts every change; `PATCH` compares it, so two changes never overwrite each other unseen. */
  revision: number;
  createdAt: number;
  updatedAt: number;
  nextRunAt: number | null;
  /** The next 5 slots (none while paused). */
  nextRuns: number[];
}
