/**
 * Starts a real `wrangler dev` for local tooling and end-to-end tests: in its own process group,
 * on a known port, resolved once `GET /health` answers 200. `stop()` kills the whole group, because
 * killing npm or wrangler's node alone leaves both workerd processes serving. The D1 migrations
 * are applied to the same local state first, since `wrangler dev` does not apply them itself.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WRANGLER = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const MIGRATE_TIMEOUT_MS = 60_000;
const LOG_TAIL_CHARS = 8_000;

/**
 * wrangler's environment: ours, without the `Request.cf` fetch (it needs the internet), and with
 * this process's Node first on PATH, so that wrangler.toml `[build] command = "node …"` runs on the
 * project's Node 22 even when this script was started without npm (whose PATH already has it).
 */
function wranglerEnv() {
  const PATH = [path.dirname(process.execPath), process.env.PATH].filter(Boolean).join(path.delimiter);
  return { ...process.env, PATH, CLOUDFLARE_CF_FETCH_ENABLED: "false" };
}

/**
 * Writes `secrets` to a fresh env file for `--env-file`, which wrangler dev reads instead of
 * .dev.vars, so a server's secrets never depend on the developer's own .dev.vars.
 * @param {Record<string, string>} secrets
 * @returns {string} the directory holding the file, for `stop()` to remove
 */
function writeSecrets(secrets) {
  const dir = mkdtempSync(path.join(tmpdir(), "edgebeat-secrets-"));
  writeFileSync(
    path.join(dir, "secrets.env"),
    Object.entries(secrets)
      .map(([name, value]) => `${name}=${value}\n`)
      .join(""),
    {
      mode: 0o600,
    },
  );
  return dir;
}

/**
 * @typedef {object} DevServerOptions
 * @property {number} [port] Port to listen on (127.0.0.1); a free one when omitted.
 * @property {string} [persistTo] `--persist-to` directory; the repo's `.wrangler/state` when omitted.
 * @property {Record<string, string>} [vars] Passed as `--var NAME:VALUE`, overriding wrangler.toml `[vars]`.
 * @property {Record<string, string>} [secrets] Secrets such as PUBLISH_TOKEN, given to wrangler in an env file instead of .dev.vars.
 * @property {string[]} [extraArgs] More `wrangler dev` arguments.
 * @property {(text: string, stream: "stdout" | "stderr") => void} [log] Receives wrangler's output as it arrives.
 */

/**
 * @typedef {object} DevServer
 * @property {string} url Base URL without a trailing slash, e.g. `http://127.0.0.1:8787`.
 * @property {number} port
 * @property {number} pid The launcher's pid, which is also the process group id.
 * @property {Promise<number | null>} exited Resolves with the launcher's exit code when it exits, for any reason.
 * @property {() => Promise<void>} stop SIGKILLs the process group; resolves once none of it is left.
 */

/**
 * Applies the D1 migrations, then starts `wrangler dev` and resolves once it serves `/health`; on
 * a timeout or an early exit it kills the group and rejects with the tail of wrangler's output.
 * @param {DevServerOptions} [options]
 * @returns {Promise<DevServer>}
 */
export async function startDevServer({ port, persistTo, vars = {}, secrets, extraArgs = [], log } = {}) {
  const listenPort = port ?? (await freePort());
  const url = `http://127.0.0.1:${listenPort}`;
  // wrangler runs in the repo root; a relative directory means one relative to the caller's cwd.
  const persistArgs = persistTo === undefined ? [] : ["--persist-to", path.resolve(persistTo)];
  await applyD1Migrations(persistArgs, log);
  const args = [WRANGLER, "dev", "--port", String(listenPort), "--ip", "127.0.0.1", ...persistArgs];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const secretsDir = secrets === undefined ? null : writeSecrets(secrets);
  if (secretsDir !== null) args.push("--env-file", path.join(secretsDir, "secrets.env"));
  args.push(...extraArgs);

  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    // Its own process group, so one kill reaches wrangler, esbuild and both workerd processes.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: wranglerEnv(),
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${process.execPath} ${WRANGLER}`);

  let tail = "";
  for (const stream of /** @type {const} */ (["stdout", "stderr"])) {
    child[stream].setEncoding("utf8");
    child[stream].on("data", (/** @type {string} */ text) => {
      tail = (tail + text).slice(-LOG_TAIL_CHARS);
      log?.(text, stream);
    });
  }
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  let hasExited = false;
  exited.then(() => {
    hasExited = true;
  });

  track(pid);
  const stop = async () => {
    untrack(pid);
    killGroup(pid);
    if (secretsDir !== null) rmSync(secretsDir, { recursive: true, force: true });
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isGroupAlive(pid)) {
      if (Date.now() > deadline) throw new Error(`process group ${pid} still alive ${STOP_TIMEOUT_MS} ms after SIGKILL`);
      await sleep(25);
    }
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (hasExited) {
      await stop();
      throw new Error(`wrangler dev exited before ${url}/health answered 200:\n${tail}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer 200 on ${url}/health within ${READY_TIMEOUT_MS} ms:\n${tail}`);
    }
    if (await answers200(`${url}/health`)) return { url, port: listenPort, pid, exited, stop };
    await sleep(200);
  }
}

/**
 * Applies the migrations of every `[[d1_databases]]` in wrangler.toml to the local state (a no-op
 * when they are applied already).
 * @param {string[]} persistArgs
 * @param {DevServerOptions["log"]} log
 */
async function applyD1Migrations(persistArgs, log) {
  const config = parse(readFileSync(path.join(ROOT, "wrangler.toml"), "utf8"));
  const databases = /** @type {{ binding?: unknown, migrations_dir?: unknown }[]} */ (
    Array.isArray(config.d1_databases) ? config.d1_databases : []
  );
  for (const { binding, migrations_dir: dir = "migrations" } of databases) {
    if (typeof binding !== "string" || typeof dir !== "string" || !existsSync(path.join(ROOT, dir))) continue;
    const child = spawn(process.execPath, [WRANGLER, "d1", "migrations", "apply", binding, "--local", ...persistArgs], {
      cwd: ROOT,
      // Its own group too, tracked like the server, so an exit during migrations leaves no workerd behind.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: wranglerEnv(),
    });
    const pid = child.pid;
    if (pid !== undefined) track(pid);
    let output = "";
    for (const stream of /** @type {const} */ (["stdout", "stderr"])) {
      child[stream].setEncoding("utf8");
      child[stream].on("data", (/** @type {string} */ text) => {
        output += text;
        log?.(text, stream);
      });
    }
    const timer = setTimeout(() => pid !== undefined && killGroup(pid), MIGRATE_TIMEOUT_MS);
    const code = await new Promise((resolve) => child.once("exit", resolve));
    clearTimeout(timer);
    if (pid !== undefined) {
      untrack(pid);
      killGroup(pid); // anything it left running (its workerd) goes with it
    }
    if (code !== 0) {
      throw new Error(`wrangler d1 migrations apply ${binding} --local failed (exit ${code}):\n${output.slice(-LOG_TAIL_CHARS)}`);
    }
  }
}

/**
 * Fires a Cron Trigger on a dev server the way the platform would: `time` becomes
 * `controller.scheduledTime` (epoch ms).
 * @param {string} url The server's base URL.
 * @param {string} cron
 * @param {number} scheduledTime
 * @returns {Promise<{ status: number, body: string }>}
 */
export async function fireCron(url, cron, scheduledTime) {
  const endpoint = `${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}&time=${scheduledTime}`;
  const response = await fetch(endpoint, { signal: AbortSignal.timeout(30_000) });
  return { status: response.status, body: await response.text() };
}

/**
 * A port that was free a moment ago on 127.0.0.1 (the OS picked it for a listener we then closed).
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}

/**
 * Whether any live (non-zombie) process is left in process group `pgid`. Zombies hold no ports;
 * they only wait for a parent (possibly init) to reap them, so they do not count.
 * @param {number} pgid
 * @returns {boolean}
 */
export function isGroupAlive(pgid) {
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    // No procfs (not Linux): signal 0 checks the group, zombies included.
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (error) {
      return /** @type {NodeJS.ErrnoException} */ (error).code === "EPERM";
    }
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // Gone between readdir and read.
    }
    // Fields after "(comm)": state ppid pgrp ...; comm may itself contain spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") return true;
  }
  return false;
}

/**
 * Groups started here and not stopped yet. The group is detached, so it outlives this process
 * unless killed: on exit (a crash, process.exit) or on a terminating signal (Ctrl-C on a test
 * run) every tracked group is killed first.
 * @type {Set<number>}
 */
const live = new Set();
/** @type {NodeJS.Signals[]} */
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"];

/** @param {number} pgid */
function track(pgid) {
  if (live.size === 0) {
    process.on("exit", killLive);
    // Prepended, so a caller's own handler (dev.mjs) still counts as a listener below.
    for (const signal of SIGNALS) process.prependListener(signal, onSignal);
  }
  live.add(pgid);
}

/** @param {number} pgid */
function untrack(pgid) {
  if (!live.delete(pgid) || live.size > 0) return;
  process.off("exit", killLive);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

function killLive() {
  for (const pgid of live) killGroup(pgid);
}

/** @param {NodeJS.Signals} signal */
function onSignal(signal) {
  killLive();
  if (process.listenerCount(signal) > 1) return; // The caller handles it.
  // Alone, this listener would swallow the signal: restore its default action and re-send it.
  for (const other of SIGNALS) process.off(other, onSignal);
  process.kill(process.pid, signal);
}

/** @param {number} pgid */
function killGroup(pgid) {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code !== "ESRCH") throw error;
  }
}

/** @param {string} url */
async function answers200(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false; // Not listening yet.
  }
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
