/**
 * Process groups for local servers. A command runs in a group of its own, so one kill reaches
 * everything it starts (wrangler's node, esbuild, both workerd processes), and under a watchdog
 * that leads the group (group-watchdog.mjs), so the group dies with the process that started it,
 * even when that process is SIGKILLed and has no chance to clean up.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { waitFor } from "./wait.mjs";

const WATCHDOG = fileURLToPath(new URL("./group-watchdog.mjs", import.meta.url));
const STOP_TIMEOUT_MS = 10_000;

/**
 * @typedef {object} Group
 * @property {number} pid The watchdog's pid, which is also the process group id.
 * @property {Promise<number | null>} exited Resolves with the command's exit code (128 + the signal's number when a signal ended it) once the group's leader exits.
 * @property {() => string} output The tail of the command's output, stdout and stderr interleaved.
 * @property {() => Promise<void>} stop SIGKILLs the group; resolves once none of it is left.
 */

/**
 * Starts `command args` in a new process group led by the watchdog, with stdout and stderr piped
 * to `log` as they arrive.
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, log?: (text: string, stream: "stdout" | "stderr") => void, tailChars?: number }} [options]
 * @returns {Group}
 */
export function startGroup(command, args, { cwd, env, log, tailChars = 8_000 } = {}) {
  const child = spawn(process.execPath, [WATCHDOG, command, ...args], {
    cwd,
    env,
    detached: true,
    // The watchdog's stdin is a pipe that only this process holds: the kernel closes it when this
    // process dies, however it dies, and the watchdog then kills the group.
    stdio: ["pipe", "pipe", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${process.execPath} ${WATCHDOG} ${command}`);
  child.stdin.on("error", () => {}); // EPIPE once the group is gone; nothing is ever written.

  let tail = "";
  for (const stream of /** @type {const} */ (["stdout", "stderr"])) {
    child[stream].setEncoding("utf8");
    child[stream].on("data", (/** @type {string} */ text) => {
      tail = (tail + text).slice(-tailChars);
      log?.(text, stream);
    });
  }
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  return { pid, exited, output: () => tail, stop: () => stopGroup(pid) };
}

/**
 * SIGKILLs process group `pgid` and resolves once none of it is left.
 * @param {number} pgid
 */
export async function stopGroup(pgid) {
  killGroup(pgid);
  await waitFor(`process group ${pgid} to end after SIGKILL`, () => !isGroupAlive(pgid), STOP_TIMEOUT_MS, 25);
}

/** @param {number} pgid */
export function killGroup(pgid) {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code !== "ESRCH") throw error;
  }
}

/**
 * Whether any live (non-zombie) process is left in process group `pgid`.
 * @param {number} pgid
 */
export function isGroupAlive(pgid) {
  return groupMembers(pgid).length > 0;
}

/**
 * The live processes of group `pgid`, with their command lines. Zombies are left out: they hold
 * no ports, and only wait for a parent (possibly init) to reap them.
 * @param {number} pgid
 * @returns {{ pid: number, argv: string[] }[]}
 */
export function groupMembers(pgid) {
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return groupMembersFromPs(pgid); // No procfs: not Linux.
  }
  /** @type {{ pid: number, argv: string[] }[]} */
  const members = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (procStat(pid)?.pgrp !== pgid || !isAlive(pid)) continue;
    try {
      members.push({ pid, argv: readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").slice(0, -1) });
    } catch {
      // Gone since.
    }
  }
  return members;
}

/**
 * Whether process `pid` is running: it exists and is not a zombie.
 * @param {number} pid
 */
export function isAlive(pid) {
  if (existsSync("/proc/self")) {
    const stat = procStat(pid);
    return stat !== null && stat.state !== "Z" && stat.state !== "X";
  }
  try {
    process.kill(pid, 0); // No procfs (not Linux): signal 0 checks that it exists, zombie or not.
    return true;
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code === "EPERM";
  }
}

/**
 * The state and process group of `pid` from /proc, or null when it is gone (or not Linux).
 * @param {number} pid
 */
function procStat(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // Fields after "(comm)": state ppid pgrp ...; comm may itself contain spaces and parentheses.
  const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state, pgrp: Number(pgrp) };
}

/**
 * `groupMembers` from `ps`, whose `args` loses the argument boundaries (split on spaces here).
 * @param {number} pgid
 */
function groupMembersFromPs(pgid) {
  const out = execFileSync("ps", ["-A", "-o", "pid=,pgid=,stat=,args="], { encoding: "utf8" });
  return out.split("\n").flatMap((line) => {
    const [pid, pgrp, state, ...argv] = line.trim().split(/\s+/);
    return Number(pgrp) === pgid && !state?.startsWith("Z") ? [{ pid: Number(pid), argv }] : [];
  });
}
