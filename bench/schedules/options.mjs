/** `npm run bench:schedules`'s command line, its defaults and its limits. */
import { benchArgs } from "../lib/run.mjs";

const USAGE = `npm run bench:schedules -- [options]

Runtime schedules against the Worker in workerd (Miniflare, direct socket): the create rate, list
latency at N, how soon a create/PATCH/pause/resume/delete takes effect, and M schedules due in one
slot (slot lag, every slot exactly once, memory).

  --schedules N        schedules created (default 10000)
  --due M              of them, due in the same slot (default 1000)
  --every D            the due schedules' interval (default 10s)
  --cron C             instead of --every, a cron for the due ones (e.g. "* * * * *": 1 slot a minute)
  --slots K            slots measured (default 3)
  --settle-s S         seconds after the last slot before the histories are read (default 10)
  --probe bench|self   what uptime probes: a Node server in the bench process (default: a site
                       outside the Worker, as in production), or the Worker's own /health (the
                       probed side then shares workerd's one thread too)
  --storage memory|disk  where workerd keeps the objects' SQLite (default memory: /dev/shm, as a
                       production write does not block the object's thread on an fsync; disk:
                       the system temp directory)
  --evict              let workerd evict idle objects after 10 s, as it does locally (default: kept,
                       as production keeps them at least 70 s)
  --local-due L        after the due phase, the same load (L schedules, default M; 0: none) on a
                       fresh runtime with workerd's local defaults (state on disk, evicted after 10 s)
  --concurrency C      requests in flight while creating and resuming (default 32)
  --page-size P        GET /schedules?limit= (default 200)
  --first-pages F      first-page reads timed (default 20)
  --walks W            full cursor walks timed (default 3)
  --change-rounds R    create/PATCH/pause/resume/delete rounds (default 3, about 17 s each)
  --scheduler-shards S SCHEDULER_SHARDS (default: wrangler.toml's)
  --restarts K         instead of the above, the fault run: K kill -9 restarts of wrangler dev
                       (writes bench/results/schedules-restarts.*)
  --restart-minutes T  its length (default 10)
  --restart-schedules R  its schedules, all every --every (or --cron), missed: "all" (default 1000)
  --ref REF            measure a commit (git archive) instead of the working tree
  --deadline-s S       hard deadline (default 900; with --restarts, --restart-minutes + 10 min)
  --render-only        rewrite the .md and docs tables from bench/results/schedules.json`;

/** @param {() => void} renderOnly */
export function parseOptions(renderOnly) {
  const values = benchArgs(
    USAGE,
    {
      schedules: { type: "string", default: "10000" },
      due: { type: "string", default: "1000" },
      every: { type: "string", default: "10s" },
      cron: { type: "string" },
      slots: { type: "string", default: "3" },
      "settle-s": { type: "string", default: "10" },
      probe: { type: "string", default: "bench" },
      storage: { type: "string", default: "memory" },
      evict: { type: "boolean", default: false },
      "local-due": { type: "string" },
      concurrency: { type: "string", default: "32" },
      "page-size": { type: "string", default: "200" },
      "first-pages": { type: "string", default: "20" },
      walks: { type: "string", default: "3" },
      "change-rounds": { type: "string", default: "3" },
      "scheduler-shards": { type: "string" },
      restarts: { type: "string", default: "0" },
      "restart-minutes": { type: "string", default: "10" },
      "restart-schedules": { type: "string", default: "1000" },
      ref: { type: "string" },
      "deadline-s": { type: "string" },
    },
    renderOnly,
  );
  const int = (/** @type {string} */ name, /** @type {number} */ min) => {
    const n = Number(values[/** @type {keyof typeof values} */ (name)]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
    return n;
  };
  const oneOf = (/** @type {string} */ name, /** @type {string[]} */ allowed) => {
    const value = String(values[/** @type {keyof typeof values} */ (name)]);
    if (!allowed.includes(value)) throw new Error(`--${name} must be one of ${allowed.join(", ")}`);
    return value;
  };
  const options = {
    schedules: int("schedules", 1),
    due: int("due", 0),
    cadence: values.cron === undefined ? { every: String(values.every) } : { cron: String(values.cron) },
    slots: int("slots", 1),
    settleS: int("settle-s", 0),
    probe: oneOf("probe", ["bench", "self"]),
    storage: oneOf("storage", ["memory", "disk"]),
    evict: values.evict === true,
    localDue: values["local-due"] === undefined ? int("due", 0) : int("local-due", 0),
    concurrency: int("concurrency", 1),
    pageSize: int("page-size", 1),
    firstPages: int("first-pages", 0),
    walks: int("walks", 0),
    changeRounds: int("change-rounds", 0),
    schedulerShards: values["scheduler-shards"] === undefined ? null : int("scheduler-shards", 1),
    restarts: int("restarts", 0),
    restartMinutes: int("restart-minutes", 1),
    restartSchedules: int("restart-schedules", 1),
    ref: values.ref === undefined ? undefined : String(values.ref),
    deadlineMs: 0,
  };
  options.deadlineMs =
    values["deadline-s"] !== undefined
      ? int("deadline-s", 10) * 1000
      : options.restarts > 0
        ? (options.restartMinutes + 10) * 60_000
        : 900_000;
  if (options.due > options.schedules) throw new Error("--due must be at most --schedules");
  if (options.localDue > options.schedules) throw new Error("--local-due must be at most --schedules");
  return options;
}
