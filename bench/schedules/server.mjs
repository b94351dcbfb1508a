/**
 * The Worker in workerd on a direct socket (bench/lib/runtime.mjs), forked like bench/lib/child.mjs
 * does but with its output in a log file: every scheduled run logs a line, thousands a slot, which
 * would bury the bench's own output.
 */
import { fork } from "node:child_process";
import { openSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stopGroup } from "../../scripts/lib/process-group.mjs";

const RUNTIME = fileURLToPath(new URL("../lib/runtime.mjs", import.meta.url));
const READY_TIMEOUT_MS = 120_000;

/**
 * Starts it in its own process group; resolves with its URL, the workerd's pid and `stop()`
 * (SIGKILLs the group, workerd too).
 * @param {{ root: string, stateDir: string, vars: Record<string, string>, logFile: string, keepObjects?: boolean }} options
 * @returns {Promise<{ url: string, workerdPid: number, stop: () => Promise<void> }>}
 */
export async function startRuntime({ root, stateDir, vars, logFile, keepObjects = false }) {
  const out = openSync(logFile, "a");
  const child = fork(RUNTIME, [root, stateDir, JSON.stringify(vars), JSON.stringify({ keepObjects })], {
    stdio: ["ignore", out, out, "ipc"],
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not fork bench/lib/runtime.mjs");
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    await stopGroup(pid);
    await exited;
  };
  try {
    const hello = await new Promise((resolve, reject) => {
      child.on("message", (/** @type {any} */ message) => message?.ready && resolve(message));
      child.once("exit", (code, signal) =>
        reject(new Error(`runtime.mjs exited (${code ?? signal}) before it was ready: see ${logFile}`)),
      );
      setTimeout(
        () => reject(new Error(`runtime.mjs did not start in ${READY_TIMEOUT_MS} ms: see ${logFile}`)),
        READY_TIMEOUT_MS,
      ).unref();
    });
    return { url: hello.url, workerdPid: hello.workerdPid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
