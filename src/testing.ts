/**
 * Test helpers for a Worker built on edgebeat (`import … from "edgebeat/testing"`): keep its Cron
 * Triggers equal to its jobs' schedules, the guarantee a job needs to run at all.
 */
import { parse } from "smol-toml";
import { isStatic, type Job } from "./cron/job";

/** What the heartbeat needs: the runtime schedules' watchdog, named like a job in a mismatch. */
const HEARTBEAT = { job: "(runtime schedules' heartbeat)", schedule: "* * * * *" };

/** What differs between the jobs' schedules and a Worker's `[triggers] crons`. */
export interface CronMismatch {
  /** Jobs whose schedule no Cron Trigger fires: they would never run. */
  unscheduled: { job: string; schedule: string }[];
  /** Cron Triggers no job uses: each one wakes the Worker for nothing (and counts against the account's cap). */
  unused: string[];
  /** Crons listed more than once. */
  repeated: string[];
}

/** The parts of a wrangler config these helpers read. */
export interface WranglerConfig {
  triggers?: { crons?: readonly string[] };
  durable_objects?: { bindings?: readonly { name: string; class_name?: string }[] };
}

function parseConfig(config: string | WranglerConfig): WranglerConfig {
  return typeof config === "string" ? (parse(config) as WranglerConfig) : config;
}

/** The crons of a wrangler.toml text, or of an already parsed wrangler config (wrangler.json). */
export function configCrons(config: string | WranglerConfig): string[] {
  const crons: unknown = parseConfig(config).triggers?.crons ?? [];
  if (!Array.isArray(crons) || crons.some((cron) => typeof cron !== "string")) {
    throw new Error("[triggers] crons must be a list of cron strings");
  }
  return crons as string[];
}

/** Whether the config binds the Scheduler as SCHEDULER, so runtime schedules need the heartbeat cron. */
export function bindsScheduler(config: string | WranglerConfig): boolean {
  return (parseConfig(config).durable_objects?.bindings ?? []).some((binding) => binding.name === "SCHEDULER");
}

/**
 * Compares the jobs' schedules with the Worker's crons, both ways. With `heartbeat` (the Worker binds
 * SCHEDULER), `* * * * *` is needed too: it re-arms the runtime schedules' shards.
 */
export function cronMismatch(registry: readonly Job[], crons: readonly string[], { heartbeat = false } = {}): CronMismatch {
  const jobs = registry.filter(isStatic);
  const listed = new Set(crons);
  const needed = [...jobs.map((job) => ({ job: job.name, schedule: job.schedule })), ...(heartbeat ? [HEARTBEAT] : [])];
  const used = new Set(needed.map((need) => need.schedule));
  return {
    unscheduled: needed.filter((need) => !listed.has(need.schedule)),
    unused: [...listed].filter((cron) => !used.has(cron)),
    repeated: [...listed].filter((cron) => crons.indexOf(cron) !== crons.lastIndexOf(cron)),
  };
}

/**
 * Throws, naming each fix, unless `[triggers] crons` lists exactly the jobs' schedules (and the
 * heartbeat's `* * * * *` when the config binds SCHEDULER), each once.
 * `config` is the wrangler.toml text (e.g. `import toml from "../wrangler.toml?raw"`) or a parsed config.
 */
export function assertCronsMatchJobs(jobs: readonly Job[], config: string | WranglerConfig): void {
  const { unscheduled, unused, repeated } = cronMismatch(jobs, configCrons(config), { heartbeat: bindsScheduler(config) });
  const problems = [
    ...unscheduled.map(
      ({ job, schedule }) => `job "${job}" runs on "${schedule}", which no Cron Trigger fires: add it to [triggers] crons`,
    ),
    ...unused.map((cron) => `cron "${cron}" runs no job: remove it from [triggers] crons`),
    ...repeated.map((cron) => `cron "${cron}" is listed more than once: list it once`),
  ];
  if (problems.length > 0) throw new Error(`The Worker's crons do not match its jobs:\n- ${problems.join("\n- ")}`);
}
