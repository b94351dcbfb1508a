/**
 * `npm start`: `wrangler dev` plus a local stand-in for the platform's Cron Trigger scheduler.
 * Local tooling only, never deployed. In production Cloudflare fires the crons in wrangler.toml
 * `[triggers]`; `wrangler dev` never fires them, so this script does, at their due times (UTC),
 * through `/cdn-cgi/local/scheduled` with `time` = the due time (the handler's `scheduledTime`).
 */
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Cron } from "croner";
import { parse } from "smol-toml";
import { checkJobCrons } from "./lib/cron-check.mjs";
import { dropBlock } from "./lib/log-filter.mjs";
import { isPortFree } from "./lib/ports.mjs";
import { DEV_VARS, ensureDevVars } from "./lib/secrets.mjs";
import { fireCron, startDevServer } from "./lib/wrangler-dev.mjs";

const DEFAULT_PORT = 8787;
/** The start of wrangler's warning that local dev does not fire crons, which this driver does. */
const SCHEDULED_NOTICE = "Scheduled Workers are not automatically triggered";
/** setTimeout's longest delay; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const USAGE = `Usage: npm start -- [--port N] [--every SECONDS] [--persist-to DIR]

Runs wrangler dev and fires the crons of wrangler.toml [triggers] at their due times (UTC),
as Cloudflare does in production. Ctrl-C stops everything.

  --port N          port on 127.0.0.1 (default ${DEFAULT_PORT}); PROBE_URLS and FEED_URL point at
                    this server's own /health
  --every SECONDS   fire every cron every SECONDS seconds instead (demos); each firing gets
                    its own second as scheduledTime, so none is deduplicated
  --persist-to DIR  keep local state in DIR instead of .wrangler/state
  -h, --help        show this help`;

/**
 * The first time after `after` (epoch ms) that `cron` fires, read as Cron Triggers read it:
 * UTC, and day-of-week 1 = Sunday. `null` if it never fires again.
 * @param {string} cron
 * @param {number} after
 * @returns {number | null}
 */
export function nextDueTime(cron, after) {
  const next = new Cron(cron, { timezone: "UTC", alternativeWeekdays: true }).nextRun(new Date(after));
  return next === null ? null : next.getTime();
}

/**
 * The next firing after `after` (epoch ms): the earliest due time of any cron, and every cron due
 * then. With `everyMs`, every cron is due at each multiple of `everyMs`. `null` if none is ever due.
 * @param {readonly string[]} crons
 * @param {number} after
 * @param {{ everyMs?: number }} [options]
 * @returns {{ time: number, crons: string[] } | null}
 */
export function nextFiring(crons, after, { everyMs } = {}) {
  if (crons.length === 0) return null;
  if (everyMs !== undefined) return { time: (Math.floor(after / everyMs) + 1) * everyMs, crons: [...crons] };
  /** @type {{ time: number, crons: string[] } | null} */
  let firing = null;
  for (const cron of crons) {
    const time = nextDueTime(cron, after);
    if (time === null) continue;
    if (firing === null || time < firing.time) firing = { time, crons: [cron] };
    else if (time === firing.time) firing.crons.push(cron);
  }
  return firing;
}

/** @returns {{ port: number, everyMs: number | undefined, persistTo: string | undefined } | null} */
function readOptions() {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      every: { type: "string" },
      "persist-to": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return null;
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`--port must be a port number, got "${values.port}"`);
  const every = values.every === undefined ? undefined : Number(values.every);
  if (every !== undefined && (!Number.isInteger(every) || every < 1)) {
    throw new Error(`--every must be a whole number of seconds from 1, got "${values.every}"`);
  }
  return { port, everyMs: every === undefined ? undefined : every * 1000, persistTo: values["persist-to"] };
}

/** The `[triggers] crons` of wrangler.toml, each checked to parse. */
function readCrons() {
  const config = parse(readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8"));
  const triggers = /** @type {{ crons?: unknown } | undefined} */ (config.triggers);
  const crons = triggers?.crons ?? [];
  if (!Array.isArray(crons) || !crons.every((cron) => typeof cron === "string")) {
    throw new Error("wrangler.toml [triggers] crons must be a list of strings");
  }
  for (const cron of crons) nextDueTime(cron, Date.now()); // Throws on a bad expression.
  return crons;
}

/**
 * @param {string} url
 * @param {string} cron
 * @param {number} time
 */
async function fireAndReport(url, cron, time) {
  let outcome;
  try {
    const { status, body } = await fireCron(url, cron, time);
    outcome = `${status} ${body.replace(/\s+/g, " ").trim().slice(0, 200)}`;
  } catch (error) {
    outcome = `error: ${error instanceof Error ? error.message : String(error)}`;
  }
  console.log(`[cron] ${cron} @ ${new Date(time).toISOString()} → ${outcome}`);
}

async function main() {
  const options = readOptions();
  if (options === null) {
    console.log(USAGE);
    return;
  }
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12)) {
    throw new Error(
      `wrangler needs Node 22.12 or later, this is ${process.version}: use \`npm start\`, which runs the project's Node`,
    );
  }
  const crons = readCrons();
  // Checked first: with the port taken, wrangler would fail only after the readiness probe had
  // reached the other server and this one had said "ready".
  if (!(await isPortFree(options.port))) {
    throw new Error(
      `port ${options.port} on 127.0.0.1 is in use (another npm start?): stop what listens there, or pick another port with --port N`,
    );
  }

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {import("./lib/wrangler-dev.mjs").DevServer | undefined} */
  let server;
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    clearTimeout(timer);
    // Before the server is ready there is nothing to await: exiting closes the pipe that the
    // group's watchdog reads, and the watchdog kills the group just the same.
    await server?.stop();
    console.log("[dev] stopped");
    process.exit(0);
  };
  // Ctrl-C signals npm and this process both, and npm passes its signal on: a second one waits
  // for the first shutdown instead of killing this process halfway through it.
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);

  // wrangler's "Scheduled Workers are not automatically triggered…" is untrue here: this driver fires them.
  const writers = {
    stdout: dropBlock(SCHEDULED_NOTICE, (text) => process.stdout.write(text)),
    stderr: dropBlock(SCHEDULED_NOTICE, (text) => process.stderr.write(text)),
  };
  // wrangler dev reads the secrets from .dev.vars; a fresh clone gets generated ones.
  ensureDevVars();
  console.log(`[dev] secrets from ${DEV_VARS} (npm run secrets -- --rotate replaces them)`);
  server = await startDevServer({
    port: options.port,
    ...(options.persistTo !== undefined && { persistTo: options.persistTo }),
    // wrangler.toml ships PROBE_URLS and FEED_URL empty (a deploy must not probe localhost);
    // locally the uptime and feed jobs read this server's own /health.
    vars: ownHealthVars(options.port),
    log: (text, stream) => writers[stream](text),
  });
  const { url, pid } = server;
  server.exited.then((code) => {
    if (stopping) return;
    console.error(`[dev] wrangler dev exited (code ${code}); stopping.`);
    clearTimeout(timer);
    process.exit(1);
  });
  const when = options.everyMs === undefined ? "at their due times (UTC)" : `every ${options.everyMs / 1000} s`;
  console.log(`[dev] wrangler dev (pid ${pid}, its own process group) ready on ${url}`);
  console.log(`[dev] firing ${crons.map((cron) => `"${cron}"`).join(", ") || "no crons"} ${when}; Ctrl-C stops`);
  // A job whose schedule is no Cron Trigger would never run, here or deployed: say so now.
  try {
    for (const line of await checkJobCrons(url, crons)) console.warn(line);
  } catch (error) {
    console.warn(`[dev] could not check the jobs' schedules: ${error instanceof Error ? error.message : String(error)}`);
  }

  /** @param {number} after */
  const scheduleAfter = (after) => {
    const firing = nextFiring(crons, after, { everyMs: options.everyMs });
    if (firing === null) return;
    const wait = () => {
      const delay = firing.time - Date.now();
      if (delay > 0) {
        timer = setTimeout(wait, Math.min(delay, MAX_TIMER_MS));
        return;
      }
      for (const cron of firing.crons) void fireAndReport(url, cron, firing.time);
      // After a long pause (a sleeping laptop), skip the missed firings as the platform does.
      scheduleAfter(Math.max(firing.time, Date.now()));
    };
    wait();
  };
  scheduleAfter(Date.now());
}

/**
 * PROBE_URLS and FEED_URL pointed at this server's own /health.
 * @param {number} port
 */
function ownHealthVars(port) {
  const own = `http://127.0.0.1:${port}/health`;
  return { PROBE_URLS: own, FEED_URL: own };
}

const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main().catch((error) => {
    console.error(`[dev] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
